"""The design's metrics per strategy, from a polling phase: load, detection latency,
polls per job, wasted polls, give-ups, errored watches, missed states, Retry-After
violations; and the answers the status API gave, as its server gave them and as its
clients got them.

Three ways a client stops without seeing the end, counted apart: it *gave up* (its stop
said so: a deadline, a number of polls), of which *false give-ups* on jobs that went on to
succeed, or it *errored* (an error answer stood after its request-level retries and its
strategy stops on errors, ``on_error='stop'``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.polling import Polling
from sim.summary import stats


def load_stats(per_second: np.ndarray) -> dict[str, float]:
    """Requests per second over 1 s bins: mean, p99 of the bins, max."""
    if per_second.size == 0:
        return {"mean": 0.0, "p99": 0.0, "max": 0.0}
    return {
        "mean": float(per_second.mean()),
        "p99": float(np.percentile(per_second, 99)),
        "max": float(per_second.max()),
    }


def polling_summary(p: Polling) -> dict:
    """``{"strategies": {label: metrics}, "server": {...}}``, JSON-ready."""
    jobs = p.jobs_frame()
    load = p.load_frame()
    out: dict[str, dict] = {}
    for label, sub in jobs.groupby("strategy", sort=False):
        mine = p.load_frame(str(label))["requests"].to_numpy()
        out[str(label)] = {
            "jobs": len(sub),
            "method": p.methods.get(str(label), "simpy"),
            "requests_per_second": load_stats(mine),
            "detection_latency_s": stats(sub["detection_latency"]),
            "polling_delay_s": stats(sub["polling_delay"]),
            "polls_per_job": _mean_p95(sub["polls"]),
            "wasted_polls_per_job": float(sub["wasted_polls"].mean()),
            "gave_up": int(sub["gave_up"].sum()),
            "false_give_ups": int(sub["false_give_up"].sum()),
            "errored": errored(sub),
            "missed_states": _missed(sub["missed_states"]),
            "retry_after_violations": int(sub["retry_after_violations"].sum()),
            "errors": int(sub["errors"].sum()),
        }
    server = {
        "requests": int(load["requests"].sum()),
        "requests_per_second": load_stats(load["requests"].to_numpy()),
        "by_http_status": {
            c: int(load[c].sum()) for c in load.columns if c.startswith("http_") or c == "no_answer"
        },
        "answers": answers(p),
    }
    if "queue" in load:
        server["queue_max"] = int(load["queue"].max())
        server["utilisation_mean"] = float(load["utilisation"].mean())
    return {"strategies": out, "server": server}


#: what a client got instead of an answer: none within its request timeout
TIMEOUT = "timeout"


def answers(p: Polling) -> dict[str, int]:
    """The requests by what their clients got: ``http_<status>`` for an answer, ``timeout``
    for none within the client's request timeout. That is the server's count by status
    (``by_http_status``) seen from the other end: a request the server dropped
    (``no_answer``) timed out, and so did one it held (a stall, a queue, a long-poll) and
    answered after its client had stopped waiting. The server model logs what it did;
    each client counts its error answers (``PollRecord.errors``: every answer other than
    200 or 304, no answer included), so a strategy's timeouts are its error answers less
    the errors its server sent (a 429 or a 503 reaches the client at once). The counts
    add up to the requests."""
    counts = p.counts.groupby(["strategy", "http_status"])["requests"].sum()
    errors = p.per_job.groupby("strategy")["errors"].sum()
    out: dict[str, int] = {}
    for label in counts.index.get_level_values("strategy").unique():
        mine = counts[label]
        sent = int(sum(n for code, n in mine.items() if code and code not in _OK))
        timeouts = int(errors.get(label, 0)) - sent
        late = timeouts - int(mine.get(0, 0))  # answered, after the client had gone
        for code, n in mine.items():
            if code:
                key = f"http_{code}"
                out[key] = out.get(key, 0) + int(n) - (late if code == 200 else 0)
        out[TIMEOUT] = out.get(TIMEOUT, 0) + timeouts
    return {k: v for k, v in sorted(out.items(), key=_order) if v}


def _order(item: tuple[str, int]) -> tuple[bool, str]:
    return item[0] == TIMEOUT, item[0]  # the HTTP statuses first, in order


_OK = (200, 304)


def errored(jobs: pd.DataFrame) -> int:
    """Jobs whose client stopped on an error answer (0 for a frame without the column, as
    written before clients could stop on errors)."""
    if "errored" not in jobs:
        return 0
    return int(jobs["errored"].eq(True).sum())  # a job nobody watched (NaN) did not


def _mean_p95(x: pd.Series) -> dict[str, float]:
    return {"mean": float(x.mean()), "p95": float(np.percentile(x, 95))}


def _missed(col: pd.Series) -> dict[str, int]:
    """Jobs whose client missed each state."""
    counts: dict[str, int] = {}
    for cell in col.dropna():
        for state in filter(None, str(cell).split(";")):
            counts[state] = counts.get(state, 0) + 1
    return dict(sorted(counts.items()))
