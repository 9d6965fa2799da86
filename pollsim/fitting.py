"""``pollsim fit``: infer a client's polling strategy from its requests (``sim.fit``).

The requests come from a mock server's request log (``pollsim serve --request-log``,
one client picked by ``--client``) or from ``pollsim simulate --out``'s report
(requests.csv, with polls.csv beside it; ``--strategy-label`` picks one of a mix).
Exit status 0 when a strategy fits, 3 when the waits fit no family (their quantiles
are printed instead), 2 on bad input.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
from pathlib import Path

from pollsim.failing import fail

NO_FAMILY = 3  #: the exit status when the client's waits fit no family

EPILOG_FIT = """\
examples:
  pollsim simulate --strategy google-lro --out out/g
  pollsim fit out/g
      the strategy behind the requests of out/g/requests.csv (and polls.csv), e.g.
      poll(full_jitter(exponential(1, 1.5, max=20)), stop=after_delay(900,
      check='ahead'), first=0), and how well it fits
  pollsim simulate --strategy "$(pollsim fit out/g --text)"
      simulate a million of it
  pollsim fit out/cmp --strategy-label ordo-js
      one strategy of a mix
  pollsim serve --token qa=s3cret --request-log requests.jsonl --speed 10
      (run the client against it with the token s3cret; then stop the server, or run
      'pollsim report', before fitting: the log is written in buffered blocks)
  pollsim fit --request-log requests.jsonl --client qa:token#1 --json
      a real client's strategy, from the mock server's log of its requests (simulated
      seconds); the watch start is not in the log, so the first request is taken as it
  pollsim report --server URL --admin-token-file tok --csv truth.csv
  pollsim fit --request-log requests.jsonl --client qa:token#1 --jobs truth.csv
      ... with each job's submission as the watch start: the first poll's delay fitted

A live client's own request time counts in its waits and is scaled by the server's
--speed (20 ms wall is 0.2 simulated s at --speed 10, 1.2 s at 60): fit live clients
from a server at a low --speed, or give a larger --tolerance.

exit status: 0 a strategy fits; 3 the waits fit no family (their quantiles are printed,
with hints: a larger --tolerance, more traffic); 2 bad input.

The fitter tells apart: the first poll's delay (at once: first=0); fixed, linear and
exponential waits (multiplier, cap) and their jitter (full, equal, decorrelated, a
uniform added); a wait that turns into another after some polls (for_attempts); other
waits per job state; Retry-After honoured or not, between polls and in retries; polling
at once after errors, or stopping on them (on_error='stop') after request-level retries
(retries: how many, which statuses, Retry-After); and the stop: a number of polls, a
deadline checked after each poll or before sleeping (check='ahead'; 'wake' sends the
same requests), or a Smithy maximum wait (max_wait). Without a state column (nor how
each watch ended) no stop is fitted: the endings are unknown.
"""


def add_fit_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "report",
        nargs="?",
        type=Path,
        metavar="REPORT",
        help="a directory written by 'pollsim simulate --out', or a CSV of requests "
        "(job_id, t, http_status; optionally state, retry_after, t_answered, t_sent, "
        "t_received, start, gave_up)",
    )
    p.add_argument(
        "--request-log",
        type=Path,
        metavar="FILE",
        help="a request log written by 'pollsim serve --request-log' (JSON lines)",
    )
    p.add_argument(
        "--client",
        metavar="ID",
        help="with --request-log: the client to fit (its X-Client-Id, or its token's "
        "name such as qa:token#1); needed when the log has several",
    )
    p.add_argument(
        "--jobs",
        type=Path,
        metavar="FILE",
        help="with --request-log: the server's ground truth ('pollsim report --csv FILE' or "
        "--json), for when each job was submitted (the watch start, so the first poll's "
        "delay is fitted) and how each watch ended",
    )
    p.add_argument(
        "--strategy-label",
        metavar="LABEL",
        help="with a report: the strategy to fit, where the run mixed several",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=0.03,
        metavar="SHARE",
        help="how far waits may stray from a schedule and still be it, for timing noise "
        "(default 0.03: 3%%; a live client's request time, scaled by the server's --speed, "
        "may need more)",
    )
    p.add_argument("--seed", type=int, default=0, help="for the replay that predicts polls")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the fit as JSON")
    out.add_argument(
        "--text", action="store_true", help="print only the strategy's text form (for scripts)"
    )


def cmd_fit(args: argparse.Namespace) -> int:
    from sim.fit import FitInputError, fit

    if (args.report is None) == (args.request_log is None):
        return fail("give a report (a directory or CSV) or --request-log FILE, one of them")
    if args.request_log is not None and args.strategy_label is not None:
        return fail(
            "--strategy-label picks a strategy of a report; with --request-log use --client"
        )
    if args.jobs is not None and args.request_log is None:
        return fail("--jobs goes with --request-log (a report has its own polls.csv)")
    if args.report is not None and args.client is not None:
        return fail("--client picks a client of a request log; a report's: --strategy-label")
    if not 0 < args.tolerance < 1:
        return fail(f"--tolerance: expected a share between 0 and 1, found {args.tolerance}")
    try:
        if args.request_log is not None:
            where = str(args.request_log)
            df, who = read_request_log(args.request_log, args.client, args.jobs)
        else:
            where = str(args.report)
            df, who = read_report(args.report, args.strategy_label)
        result = fit(df, tol=args.tolerance, seed=args.seed, where=where)
    except FitInputError as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps({"source": where, "client": who, **result.to_dict()}, indent=2))
    elif args.text:
        if result.text:
            print(result.text)
        else:
            fail(f"{where}: the waits of {who} fit no family ({why_unfitted(result)[-1]})")
            return NO_FAMILY
    else:
        print(format_fit(result, where, who))
    return 0 if result.fitted else NO_FAMILY


def read_request_log(path: Path, client: str | None, jobs: Path | None = None):
    """One client's requests from a server's request log, as ``sim.fit`` reads them;
    with ``jobs`` (the server's ground truth), each watch's start and end."""
    import pandas as pd

    from sim.fit import FitInputError

    rows = []
    try:
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    raise FitInputError(
                        f"{path}, line {n}: not a JSON object (a request log has one per line)"
                    ) from None
                if not isinstance(entry, dict) or not {"t", "client", "job_id"} <= entry.keys():
                    raise FitInputError(
                        f"{path}, line {n}: expected a request with t, client, job_id, "
                        "http_status (pollsim serve --request-log)"
                    )
                _check_entry(entry, f"{path}, line {n}")
                rows.append(entry)
    except FileNotFoundError:
        raise FitInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FitInputError(f"{path}: a directory; --request-log takes a file") from None
    except UnicodeDecodeError:
        raise FitInputError(f"{path}: not text (a request log is JSON lines)") from None
    except OSError as exc:
        raise FitInputError(f"{path}: cannot read: {exc.strerror}") from None
    if not rows:
        raise FitInputError(f"{path}: empty: no request logged")
    df = pd.DataFrame(rows)
    clients = sorted(df["client"].astype(str).unique())
    if client is None:
        if len(clients) > 1:
            raise FitInputError(
                f"{path}: the log has {len(clients)} clients; pick one with --client ("
                + ", ".join(clients[:10])
                + (", ..." if len(clients) > 10 else "")
                + ")"
            )
        client = clients[0]
    elif client not in clients:
        near = difflib.get_close_matches(client, clients, n=1)
        hint = f"did you mean {near[0]}?" if near else "it has " + ", ".join(clients[:10])
        raise FitInputError(f"{path}: no requests of client {client!r}; {hint}")
    df = df[df["client"].astype(str) == client].rename(columns={"shown": "state"})
    df = df.drop(columns=["client"])
    if jobs is not None:
        df = with_truth(df, read_truth(jobs), client, jobs)
    return df, client


def _check_entry(entry: dict, where: str) -> None:
    """One logged request's fields as the server writes them, or FitInputError naming
    the line: a time in seconds (a finite number, not true/false), a job id (a string
    or a whole number), a client (a string)."""
    from sim.fit import FitInputError
    from sim.fit_data import TIME_MOST

    t = entry["t"]
    if isinstance(t, bool) or not isinstance(t, int | float) or not abs(t) <= TIME_MOST:
        raise FitInputError(f"{where}: t: expected a time in seconds, found {t!r:.40}")
    job = entry["job_id"]
    if isinstance(job, bool) or not isinstance(job, int | str):
        raise FitInputError(f"{where}: job_id: expected a string or a number, found {job!r:.40}")
    if not isinstance(entry["client"], str):
        raise FitInputError(f"{where}: client: expected a string, found {entry['client']!r:.40}")
    for key in ("http_status", "retry_after"):
        v = entry.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise FitInputError(f"{where}: {key}: expected a number, found {v!r:.40}")


def read_truth(path: Path):
    """The per-job rows of a server's ground truth: ``pollsim report --csv`` or
    ``--json`` (or ``GET /_admin/report``'s body)."""
    import pandas as pd

    from sim.fit import FitInputError

    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FitInputError(f"{path}: no such file") from None
        except (ValueError, UnicodeDecodeError):
            raise FitInputError(f"{path}: not JSON (expected 'pollsim report --json')") from None
        except OSError as exc:
            raise FitInputError(f"{path}: cannot read: {exc.strerror}") from None
        rows = doc.get("jobs") if isinstance(doc, dict) else None
        if not isinstance(rows, list):
            raise FitInputError(f"{path}: no 'jobs' list (expected 'pollsim report --json')")
        table = pd.DataFrame(rows)
    elif not path.exists():
        raise FitInputError(f"{path}: no such file")
    else:
        table = _csv(path)
    need = {"client", "job_id", "submit"}
    if not need <= set(table.columns):
        raise FitInputError(
            f"{path}: expected the server's per-job rows (client, job_id, submit, ...), "
            "as 'pollsim report --csv' writes them"
        )
    return table


def with_truth(df, truth, client: str, where: Path):
    """The requests with each job's submission as the watch start, and how the watch
    ended (given up, errored, or still watched), from the ground truth."""
    import numpy as np
    import pandas as pd

    from sim.fit import FitInputError
    from sim.fit_data import TIME_MOST

    mine = truth[truth["client"].astype(str) == client].copy()
    if mine.empty:
        raise FitInputError(f"{where}: no jobs of client {client!r}")
    mine["job_id"] = mine["job_id"].astype(str)
    submit = pd.to_numeric(mine["submit"], errors="coerce")
    bad = ~np.isfinite(submit.to_numpy(float)) | (submit.abs() > TIME_MOST).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FitInputError(
            f"{where}: column submit, job {mine['job_id'].iloc[i]}: expected a time in "
            f"seconds, found {mine['submit'].iloc[i]!r:.40}"
        )
    mine["submit"] = submit
    logged = set(df["job_id"].astype(str))
    missing = logged - set(mine["job_id"])
    if missing:
        raise FitInputError(
            f"{where}: has {len(logged) - len(missing):,} of the {len(logged):,} jobs client "
            f"{client!r} polled in the log (not {sorted(missing)[0]}, ...): expected the "
            "report of the same server run"
        )
    first = df.assign(job_id=df["job_id"].astype(str)).groupby("job_id")["t"].min()
    late = mine.set_index("job_id")["submit"].reindex(first.index) > first + 1e-6
    if late.any():
        job = late[late].index[0]
        raise FitInputError(
            f"{where}: job {job} submitted at {mine.set_index('job_id')['submit'][job]:g}, "
            f"after its first request ({first[job]:g}): expected the report of the same "
            "server run"
        )
    cols = {"submit": "start"}
    keep = ["job_id", "submit"] + [c for c in ("gave_up", "errored") if c in mine.columns]
    out = df.assign(job_id=df["job_id"].astype(str)).merge(
        mine[keep].rename(columns=cols), on="job_id", how="left"
    )
    if "gave_up" in out.columns:
        out["gave_up"] = out["gave_up"].fillna(False)
    return out


def read_report(path: Path, label: str | None):
    """One strategy's requests from ``pollsim simulate --out``'s tables."""
    from sim.fit import FitInputError
    from sim.fit_data import from_report

    if path.is_dir():
        requests_csv, polls_csv = path / "requests.csv", path / "polls.csv"
        if not requests_csv.exists():
            raise FitInputError(
                f"{path}: no requests.csv (written by 'pollsim simulate --out' with clients)"
            )
    elif path.exists():
        requests_csv, polls_csv = path, path.parent / "polls.csv"
    else:
        raise FitInputError(f"{path}: no such file or directory")
    requests = _csv(requests_csv)
    polls = _csv(polls_csv) if polls_csv.exists() and polls_csv != requests_csv else None
    if polls is not None and not {"job_id", "watch_start"} <= set(polls.columns):
        polls = None  # another table: not the per-job polls
    try:
        df = from_report(requests, polls, label)
    except FitInputError as exc:
        raise FitInputError(f"{requests_csv}: {exc}") from None
    who = label or (str(df["strategy"].iloc[0]) if "strategy" in df and len(df) else "the client")
    return df, who


def _csv(path: Path):
    import pandas as pd

    from sim.fit import FitInputError

    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise FitInputError(f"{path}: empty: no table") from None
    except (pd.errors.ParserError, UnicodeDecodeError):
        raise FitInputError(f"{path}: not a CSV table") from None
    except OSError as exc:
        raise FitInputError(f"{path}: cannot read: {exc.strerror}") from None


def format_fit(r, where: str, who: str) -> str:
    """The fit as the terminal shows it."""
    o = r.outcomes
    if o.get("unknown"):
        ends = (
            "how each watch ended unknown: no state column, nor gave_up (polls.csv beside "
            "the requests, or --jobs)"
        )
    else:
        ends = (
            f"{o['seen']:,} saw the end, {o['gave_up']:,} gave up, {o['errored']:,} stopped "
            f"on an error, {o['censored']:,} still watched"
        )
    lines = [
        f"pollsim fit: {who} in {where}: {r.jobs:,} jobs, {r.requests:,} requests ({ends})",
        "",
    ]
    if not r.fitted:
        lines += ["no strategy fits: the waits fit no family", ""]
        lines += _notes(r)
        if r.waits:
            q = "  ".join(f"{k} {v:.4g}" for k, v in r.waits.items())
            lines += ["", f"  waits after 2xx answers (s): {q}"]
        lines += ["", *why_unfitted(r)]
        return "\n".join(lines)
    lines += [f"strategy: {r.text}", ""]
    if not r.first_known:
        first = "unknown (the traffic has no watch start): taken as at once, first=0"
    elif r.first is None:
        first = "the wait's own (no first)"
    elif r.first == 0:
        first = "at once (first=0)"
    else:
        first = f"after {r.first:g} s (first={r.first:g})"
    lines.append(f"  first poll     {first}")
    lines.append(f"  waits          {_describe(r.family, r.parameters)}")
    for state, text in r.per_status.items():
        lines.append(f"  {'after ' + state:<14} {text}")
    zero = " (a Retry-After of 0 ignored)" if "ignore_zero=True" in (r.text or "") else ""
    seen = r.retry_after_seen
    if seen:  # where the answers carried one: after 2xx answers and after errors
        lines.append(
            f"  Retry-After    after 2xx answers: {seen['after 2xx']}{zero}; "
            f"after errors: {seen['after errors']}"
        )
    else:
        lines.append(f"  Retry-After    {r.retry_after}{zero}")
    tries = r.strategy.retries if r.strategy is not None else None
    on_error = {"stops": "stops (errored)"}.get(r.on_error, r.on_error)
    if tries is not None:
        on_error += f", after {tries}"
    lines.append(f"  on errors      {on_error}")
    check = {"poll": ", checked after each poll", "ahead": ", checked before each sleep"}
    if o.get("unknown"):
        gave = "how the watches ended is unknown"
    else:
        gave = f"{o['gave_up']:,} give-ups" if o["gave_up"] else "no watch gave up"
    lines.append(f"  stop           {r.stop}{check.get(r.stop_check or '', '')} ({gave})")
    lines += ["", "goodness of fit"]
    if r.ks == 0 and math.isfinite(r.max_error):  # a schedule, or schedules in turn
        lines.append(
            f"  waits          every client waits the same; largest miss {r.max_error:.2%}"
        )
    else:
        from sim.fit_waits import ks_bound

        lines.append(
            f"  waits          KS distance {r.ks:.4f} over {r.n_waits:,} waits "
            f"(taken as a fit up to {ks_bound(r.n_waits):.4f})"
        )
    p = r.polls_per_job
    if p:
        of = p.get("of", p["jobs"])
        over = (
            f"over all {of:,} ended watches"
            if p["jobs"] >= of
            else f"over a sample of {p['jobs']:,} of the {of:,} ended watches (all {of:,}: "
            f"{p['observed_all']:.2f} observed)"
        )
        lines.append(
            f"  polls per job  observed {p['observed']:.2f}, predicted {p['predicted']:.2f} "
            f"({p['error']:+.1%}) {over}"
        )
    notes = _notes(r)
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


#: fewer waits than this may be too few to tell a family apart
FEW_WAITS = 200
FEW_JOBS = 20  #: sim.fit_waits.FEW_JOBS: the fewest jobs a jitter is read from


def why_unfitted(r) -> list[str]:
    """What to try when no family fits: a larger tolerance for a live client's own
    request time, and more traffic where there were few waits."""
    out = [
        f"hint: the waits may stray from a schedule by --tolerance (now {r.tolerance:g}); a "
        "live client's own request time counts in its waits, and grows with the server's "
        "--speed (20 ms wall is 1.2 simulated s at --speed 60): try a larger --tolerance, "
        "or measure the client at a lower --speed"
    ]
    if r.n_waits < FEW_WAITS:
        out.append(
            f"hint: only {r.n_waits:,} waits after 2xx answers were fitted: the sample may be "
            "too small to tell a family apart; fit more jobs or a longer run"
        )
    elif r.jobs < FEW_JOBS:
        out.append(
            f"hint: only {r.jobs:,} jobs: the waits after each poll are compared across "
            f"jobs, and a jitter is read from {FEW_JOBS} at least; fit more jobs"
        )
    return out


def _notes(r) -> list[str]:
    return [f"note: {n}" for n in r.notes]


def _describe(family: str, p: dict) -> str:
    """The wait family in words, its numbers as waits after the first, second ... poll:
    every family ``sim.fit`` returns (``parameters``: a schedule's, a jitter's with
    ``jitter``, or a turn from one wait to another with ``until_poll``)."""
    if family == "none" or not p:
        return "none fitted"
    return _in_words(p)


def _in_words(p: dict) -> str:
    if "until_poll" in p:
        at = p["until_poll"]
        polls = "the first poll" if at == 2 else f"polls 1 to {at - 1}"
        return f"after {polls}: {_in_words(p['wait'])}; from poll {at} on: {_in_words(p['then'])}"
    kind = p.get("jitter")
    if kind is None:
        return _schedule_words(p)
    if kind == "decorrelated":
        return f"decorrelated jitter: from {p['min']:g} s to 3x the last wait{_most(p)}"
    if kind == "added":
        return f"{_schedule_words(p)}, plus uniform up to {p['width']:g} s"
    low = f" from {p['min']:g} s" if p.get("min") else ""
    name = {"full": "full jitter", "equal": "equal jitter"}.get(kind, f"{kind} jitter")
    return f"{name}{low} up to {_schedule_words(p)}"


def _schedule_words(q: dict) -> str:
    first = q["wait_after_first_poll"]
    if q["family"] == "fixed":
        return f"fixed {first:g} s"
    a = f"{first:g} s after the first poll"
    if q["family"] == "linear":
        return f"linear: {a}, +{q['step']:g} s each poll{_most(q)}"
    plus = f", plus {q['plus']:g} s" if q.get("plus") else ""
    return f"exponential: {a}, x{q['multiplier']:g} each poll{_most(q)}{plus}"


def _most(q: dict) -> str:
    cap = q.get("max")
    return f", at most {cap:g} s" if cap is not None and math.isfinite(cap) else ""
