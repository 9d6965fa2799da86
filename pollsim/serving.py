"""``pollsim serve``: the mock status API (its ground truth: ``pollsim.reporting``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pollsim.failing import fail as _fail

EPILOG_SERVE = """\
examples:
  pollsim serve
      the default scenario's templates on http://127.0.0.1:8080, a wall second a
      simulated minute; prints the token to use and the admin token
  pollsim serve scenarios/publishing_retry.toml --speed 600 --port 9000
      the 10/20/40/80/160-minute retry schedule plays out in about half a minute
  pollsim serve --token qa=s3cret --admin-token adm1n --background
      fixed tokens, and the scenario's arrivals submit jobs too (a busy system)
  POLLSIM_ADMIN_TOKEN=adm1n pollsim serve --token-file tokens.txt --max-jobs 20000
      tokens kept out of ps (tokens.txt: a line 'qa=s3cret' per tenant), and at most
      20,000 jobs held (past it, a submission gets 429)
  pollsim serve scenarios/mock_qa.toml --admin-token adm1n --truth-out truth.json
      on Ctrl-C or SIGTERM, the ground truth goes to truth.json and a summary of the
      run to stderr; between two test cases, reset the server:
        curl -s -X POST -H 'Authorization: Bearer adm1n' localhost:8080/_admin/reset

then, for instance (a wall second is a simulated minute):
  curl -s localhost:8080/status -d '{"outcome": "succeed", "job_duration": "30s"}'
      a job that ends 30 simulated seconds after it starts (half a wall second): its
      steps share the 30 s in proportion to their usual lengths ("duration": "30s"
      would give each step 30 s, a 60 s job on the default two-step template)
  curl -s localhost:8080/status/1
      its status, pending then completed (the generic dialect needs no token)
  curl -s -H 'Authorization: Bearer s3cret' localhost:8080/ordo/jobs -d '{}'
  curl -s -H 'Authorization: Bearer s3cret' 'localhost:8080/ordo/jobs/2?wait=20'
      with --token qa=s3cret: a job of tenant qa, its status held until it changes
      (at most 20 s)
"""


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        help="a scenario TOML file (default: the embedded default scenario)",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    p.add_argument(
        "--speed",
        type=float,
        help="simulated seconds per wall second (default: the scenario's [serve] speed, 60)",
    )
    p.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="[TENANT=]TOKEN",
        help="a bearer token, and the tenant whose jobs it sees (repeatable; shows in ps: "
        "prefer --token-file or POLLSIM_TOKENS; default: $POLLSIM_TOKENS, comma-separated, "
        "else the scenario's [serve.tokens], else one random token for tenant 'default')",
    )
    p.add_argument(
        "--token-file",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="tokens, one [TENANT=]TOKEN a line ('#' comments); repeatable, with --token",
    )
    admin = p.add_mutually_exclusive_group()
    admin.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="the admin token (shows in ps; default: $POLLSIM_ADMIN_TOKEN, else the "
        "scenario's, else a random one, printed)",
    )
    admin.add_argument(
        "--admin-token-file", type=Path, metavar="FILE", help="the admin token: the file's one line"
    )
    p.add_argument(
        "--background",
        action="store_true",
        help="the scenario's arrival process submits jobs too",
    )
    p.add_argument(
        "--start-in",
        type=float,
        metavar="SECONDS",
        help="wall seconds before the scaled clock starts, simulated time standing at 0 "
        "until then: time for clients to get ready before the first background job",
    )
    p.add_argument(
        "--request-log",
        metavar="FILE",
        help="append every status request to FILE as a JSON line (time, client, job, "
        "state shown, HTTP status)",
    )
    p.add_argument(
        "--truth-out",
        metavar="FILE",
        help="when the server stops (Ctrl-C, SIGTERM), write the ground truth to FILE: "
        "the JSON of GET /_admin/report, the run's end as its 'until' (written whole or "
        "not at all; the summary printed on stop says where); e.g. --truth-out truth.json",
    )
    p.add_argument(
        "--no-anonymous",
        action="store_true",
        help="the generic dialect also asks for a token",
    )
    p.add_argument(
        "--keepalive-timeout",
        type=float,
        metavar="SECONDS",
        help="close a connection idle this long between requests (default: the scenario's "
        "[serve] keepalive_timeout, 15)",
    )
    p.add_argument(
        "--long-polls-max",
        type=int,
        metavar="N",
        help="long-polls (?wait=) held at once in all, below max_concurrency; beyond: 429 "
        "(default: [serve] long_polls_max, else half of max_concurrency)",
    )
    p.add_argument(
        "--long-polls-per-client",
        type=int,
        metavar="N",
        help="long-polls one client (X-Client-Id, else its credentials) holds at once; "
        "beyond: 429 (default: [serve] long_polls_per_client, 50)",
    )

    for flag, what in LIMIT_FLAGS.items():
        p.add_argument(flag, type=int, metavar="N", help=what)


#: the limits' flags -> [serve] keys' help (a flag overrides the key)
LIMIT_FLAGS = {
    "--max-jobs": "jobs held in all; beyond, a submission gets 429 (default: [serve] "
    "max_jobs, 100000)",
    "--max-jobs-per-tenant": "jobs held per tenant; beyond, 429 (default: [serve] "
    "max_jobs_per_tenant, 50000)",
    "--max-scripted-retries": "transient failures one submission may script; beyond, 422 "
    "(default: [serve] max_scripted_retries, 1000)",
    "--max-scripted-retries-total": "transient failures scripted by all the jobs held; "
    "beyond, a submission gets 429 (default: [serve] max_scripted_retries_total, 100000)",
    "--request-journal-max": "requests the in-memory journal (GET /_admin/requests) holds; "
    "beyond, the oldest are dropped and counted (default: [serve] request_journal_max, "
    "100000)",
    "--max-clients": "client ids tracked one by one in the ground truth and the rate limit; "
    "beyond, counted as one overflow entry (default: [serve] max_clients, 100000)",
}


def cmd_serve(args: argparse.Namespace) -> int:
    import dataclasses

    from mock_server.access import token_problem
    from mock_server.running import run
    from pollsim.credentials import CredentialError, admin_token, tenant_tokens
    from sim import ScenarioError, default_scenario, load_scenario
    from sim.mock_spec import MAX_SPEED

    try:
        scenario = load_scenario(args.scenario) if args.scenario else default_scenario()
    except ScenarioError as exc:
        return _fail(str(exc))
    if args.speed is not None and not 0 < args.speed <= MAX_SPEED:
        return _fail(
            f"--speed: found {args.speed:g}, expected a number > 0 and at most {MAX_SPEED:,}"
        )
    if args.start_in is not None and not args.start_in >= 0:
        return _fail(f"--start-in: found {args.start_in}, expected a number of seconds >= 0")
    if not args.host.strip():  # an unset $HOST must not mean every interface
        return _fail("--host: found '', expected an interface such as 127.0.0.1")
    if not 0 <= args.port <= 65535:
        return _fail(f"--port: found {args.port}, expected 0 to 65535")
    try:
        tokens = tenant_tokens(args.token, args.token_file, os.environ)
        admin = admin_token(args.admin_token, args.admin_token_file, os.environ)
    except CredentialError as exc:
        return _fail(str(exc))
    limits = _limit_changes(args)
    if isinstance(limits, str):
        return _fail(limits)
    if args.request_log:
        try:
            Path(args.request_log).open("a").close()
        except OSError as exc:
            return _fail(f"--request-log {args.request_log}: cannot write: {exc.strerror}")
    if args.truth_out is not None:
        from mock_server.truth_out import writable

        problem = writable(args.truth_out)
        if problem:
            return _fail(f"--truth-out {args.truth_out}: {problem}")
    spec = scenario.mock
    front = _front_changes(args, spec.max_concurrency)
    if isinstance(front, str):
        return _fail(front)
    changes = {
        **front,
        **limits,
        "speed": args.speed,
        "tokens": tokens or None,
        "admin_token": admin,
        "background": True if args.background else None,
        "anonymous_generic": False if args.no_anonymous else None,
        "start_in": args.start_in,
        "request_log": args.request_log,
        "truth_out": args.truth_out,
    }
    spec = dataclasses.replace(spec, **{k: v for k, v in changes.items() if v is not None})
    problem = token_problem(spec.tokens, spec.admin_token or "")
    if problem:
        return _fail(problem)
    if spec.truth_out and not args.truth_out:  # the scenario's [serve] truth_out
        from mock_server.truth_out import writable

        problem = writable(spec.truth_out)
        if problem:
            return _fail(f"[serve] truth_out {spec.truth_out}: {problem}")
    try:
        return run(dataclasses.replace(scenario, mock=spec), args.host, args.port)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")


def _limit_changes(args: argparse.Namespace) -> dict | str:
    """The limits' flags as changes to ``[serve]``, or what is wrong with one."""
    from sim.mock_spec import MAX_HELD

    changes = {}
    for flag in LIMIT_FLAGS:
        key = flag.removeprefix("--").replace("-", "_")
        value = getattr(args, key)
        low = 0 if key.startswith("max_scripted_retries") else 1
        if value is not None and not low <= value <= MAX_HELD:
            return f"{flag}: found {value}, expected a whole number from {low} to {MAX_HELD:,}"
        changes[key] = value
    return changes


def _front_changes(args: argparse.Namespace, max_concurrency: int) -> dict | str:
    """The HTTP front's flags as changes to ``[serve]``, or what is wrong with one."""
    from sim.mock_spec import MAX_KEEPALIVE

    keepalive = args.keepalive_timeout
    if keepalive is not None and not 0 < keepalive <= MAX_KEEPALIVE:
        return f"--keepalive-timeout: found {keepalive}, expected 0 < seconds <= {MAX_KEEPALIVE:g}"
    for flag, value in (
        ("--long-polls-max", args.long_polls_max),
        ("--long-polls-per-client", args.long_polls_per_client),
    ):
        if value is not None and value < 1:
            return f"{flag}: found {value}, expected a whole number >= 1"
    if args.long_polls_max is not None and args.long_polls_max >= max_concurrency:
        return (
            f"--long-polls-max: found {args.long_polls_max}, expected fewer than the "
            f"scenario's max_concurrency ({max_concurrency})"
        )
    return {
        "keepalive_timeout": keepalive,
        "long_polls_max": args.long_polls_max,
        "long_polls_per_client": args.long_polls_per_client,
    }
