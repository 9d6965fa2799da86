"""Locust users that poll the mock server the way a ``sim`` strategy says: each submits a
job, watches it with the simulated pollers' own client logic (``loadtests.live``) until
it shows an end or the strategy gives up, then starts on the next.

    POLLSIM_TOKEN=s3cret locust -f loadtests/locustfile.py --host http://127.0.0.1:8080 \\
        --strategy 'full_jitter(fixed(6))' --headless -u 50 -r 10 -t 2m

Every dialect the server speaks can be asked for (``--dialect``); a dialect whose paths
name a project (the tenant's name) needs ``--tenant`` (or ``POLLSIM_TENANT``).

Locust prints ``--help`` before it loads a locustfile, so its options (``--strategy``,
``--token``, ``--dialect``, ...) are not listed there (locust issue 2917); ``python -m
loadtests.locustfile`` lists them, beside Locust's own.

Every HTTP request is an ordinary Locust request, named by its path (a job's id as
``[id]``) and its user's strategy (``/ordo/jobs/[id] · fixed(5)``), so that Locust's
table, CSV and HTML report keep strategies apart; what a job came to (polls, detection
latency against the ``finished_at`` the server reports) is not, so it cannot inflate
Locust's request counts: it goes to ``--pollsim-csv``. ``--pollsim-progress`` writes how
far the swarm has got, once a second (``loadtests.locust_progress``).
"""

from __future__ import annotations

import gc
import itertools
import os
import sys

import gevent
import numpy as np
from locust import FastHttpUser, constant, events, task

from loadtests.failures import named
from loadtests.live import (
    Rejected,
    ScaledNow,
    backoff,
    error_kind,
    needs_project,
    poll_one,
    request_names,
)
from loadtests.locust_progress import Watching
from loadtests.locust_stats import OUTCOMES, USERS, outcome_row
from sim.dialects import DIALECTS, ORDO, get_dialect
from sim.strategies import parse_strategy

_numbers = itertools.count(1)


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument("--strategy", default="ordo-js", help="the users' polling strategy")
    parser.add_argument("--dialect", choices=list(DIALECTS), default=ORDO.name)
    parser.add_argument("--template", default="", help="the jobs' template (default: first)")
    parser.add_argument("--job-duration", default="", help="every step's duration: seconds or 30s")
    parser.add_argument("--outcome", default="", help="succeed, fail_step:<id>, ...")
    parser.add_argument(
        "--token",
        default="",
        is_secret=True,
        help="the bearer token (default: the environment's POLLSIM_TOKEN, which keeps it "
        "out of ps)",
    )
    parser.add_argument(
        "--tenant",
        default="",
        help="the token's tenant, where the dialect's paths name it as their project "
        "(default: the environment's POLLSIM_TENANT)",
    )
    parser.add_argument("--seed", type=int, default=1, help="the users' generators' seed")
    parser.add_argument(
        "--server-seed",
        type=int,
        default=1,
        help="the seed of the server's scenario: the job ids a dialect shows may derive "
        "from it (default 1, the default scenario's)",
    )
    parser.add_argument(
        "--no-etag", action="store_true", help="never send If-None-Match (every answer whole)"
    )
    parser.add_argument(
        "--pollsim-csv", default="", help="write what each job came to, a row a job, here"
    )
    # --pollsim-progress: loadtests.locust_progress


@events.init.add_listener
def _clock_now(**_) -> None:
    """gevent's loop keeps its time from before this file's imports (seconds of numpy,
    pandas and the model); Locust's --run-time timer, set from it, ended runs that much
    early (a 4 s run lasted 1.3 s)."""
    gevent.get_hub().loop.update_now()


@events.init.add_listener
def _tenant_given(environment, **_) -> None:
    """A dialect whose paths name the tenant's project needs the tenant: said in one
    line before any user starts (each user would fail alone, for the whole run)."""
    opts = environment.parsed_options
    if opts is None:  # a library use of Locust, without this file's options
        return
    dialect = get_dialect(opts.dialect)
    if needs_project(dialect) and not (opts.tenant or os.environ.get("POLLSIM_TENANT")):
        print(
            f"locustfile: --dialect {dialect.name} needs --tenant (or POLLSIM_TENANT): "
            "its paths name the token's tenant as their project",
            file=sys.stderr,
        )
        sys.exit(2)


@events.test_start.add_listener
def _freeze(**_) -> None:
    """What is loaded by now (Locust, numpy, the model's libraries: about a hundred
    thousand objects) lives as long as the process: out of the cyclic collector's sight,
    so that its full collections, triggered by the garbage every poll makes, do not
    rescan it again and again."""
    gc.freeze()


class StatusClient(FastHttpUser):
    """What every user here shares: the token, the dialect and the tenant, the server's
    scaled clock, and HTTP requests as Locust requests, status polls grouped under one
    name."""

    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        token = opts.token or os.environ.get("POLLSIM_TOKEN", "")
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}
        health = self.client.get("/healthz", name="/healthz").json()
        self.clock = ScaledNow(health["speed"], health["epoch"])
        self.dialect = get_dialect(opts.dialect)
        self.project = opts.tenant or os.environ.get("POLLSIM_TENANT", "")
        if needs_project(self.dialect) and not self.project:
            raise ValueError(f"--dialect {self.dialect.name} needs --tenant (or POLLSIM_TENANT)")
        # submissions one row in Locust's stats, status polls one more
        self.submit_path, self.status_name = request_names(self.dialect, self.project)
        self.names = (self.submit_path, self.status_name)  # a strategy's user adds its own

    def _http(self, method: str, path: str, body: bytes | None, headers: dict):
        submitting = method == "POST" and path == self.submit_path
        name = self.names[0] if submitting else self.names[1]
        headers.update(self.auth)
        # answers of 400 and above are failures (304 is none), each named by its status
        # and the server's kind of error, so that Locust's failures table says why
        with self.client.request(
            method, path, data=body, headers=headers, name=name, catch_response=True
        ) as resp:
            if resp.status_code and resp.status_code >= 400:
                kind = error_kind(resp.content, self.dialect)
                resp.failure(f"HTTP {resp.status_code} {kind}".rstrip())
        # every header by its lower-case name: a dialect may name a new job in one
        got = {k.lower(): v for k, v in resp.headers.items()} if resp.headers else {}
        return resp.status_code or None, got, resp.content or b""


class PollingUser(StatusClient):
    """One polling client: a job at a time, watched per ``strategy_text`` (a subclass's),
    else ``--strategy``. Several subclasses with their own ``weight`` run several
    strategies side by side in one swarm."""

    abstract = True  # the concrete class below, or a subclass per strategy
    strategy_text: str | None = None

    def on_start(self) -> None:
        super().on_start()
        opts = self.environment.parsed_options
        self.number = next(_numbers)
        # distinct across worker processes: a worker's index (0 when alone), then the user's
        worker = getattr(self.environment.runner, "worker_index", 0) or 0
        self.name = f"locust-{self.number}" if not worker else f"locust-{worker}-{self.number}"
        self.strategy = parse_strategy(self.strategy_text or opts.strategy)
        # Locust's rows a strategy: "/ordo/jobs · fixed(5)", "/ordo/jobs/[id] · fixed(5)"
        self.names = tuple(named(n, self.strategy.label) for n in self.names)
        seed = np.random.SeedSequence([opts.seed, worker, self.number])
        self.rng = np.random.default_rng(seed)
        submit: dict = {}
        if opts.template:
            submit["template"] = opts.template
        if opts.job_duration:
            submit["duration"] = opts.job_duration
        if opts.outcome:
            submit["outcome"] = opts.outcome
        self.submit = submit
        self.rejections = 0  # submissions turned down in a row
        USERS.append({"user": self.name, "strategy": self.strategy.label})

    @task
    def one_job(self) -> None:
        opts = self.environment.parsed_options
        Watching.started()  # what pollsim loadtest shows as jobs being watched
        try:
            outcome = poll_one(
                self._http,
                gevent.sleep,
                self.clock,
                self.strategy,
                self.rng,
                dialect=self.dialect,
                client=self.name,
                submit=self.submit,
                etag=not opts.no_etag,
                project=self.project,
                seed=opts.server_seed,
            )
        except Rejected as exc:
            outcome, rejected = None, exc
        finally:
            Watching.stopped()
        if outcome is None:  # Locust counted the failed POST; no tight loop of them
            self.rejections += 1
            gevent.sleep(backoff(self.rejections, rejected.retry_after, self.rng))
            return
        self.rejections = 0
        OUTCOMES.append(outcome_row(self.name, self.strategy, outcome))


class Poller(PollingUser):
    """The swarm's users when the locustfile is run as it is: ``--strategy`` for all."""


if __name__ == "__main__":  # the options Locust's own --help cannot show (see above)
    from locust.argument_parser import get_parser

    get_parser().print_help()
