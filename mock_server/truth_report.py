"""The ground truth's report, built from a snapshot in time linear in the pairs of client
and job, so that the server can build it in a worker thread while it keeps answering.

What each row says, and whether a client gave up, errored (stopped after an error
answer) or was cut off by the run's end: ``mock_server.truth_rows``. Per client and in
all, ``gave_up``, ``errored`` and ``unfinished`` count those jobs, each apart.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from itertools import groupby
from operator import itemgetter

import numpy as np

from mock_server.truth import OVERFLOW, Snapshot
from mock_server.truth_rows import Abandoned, report_rows
from sim._gc import no_cyclic_gc

_PIECE = 256  #: rows per call of the JSON encoder, which holds the GIL throughout


def build(
    snap: Snapshot,
    jobs: Callable[[int], dict],
    now: float,
    until: float | None = None,
    stop: threading.Event | None = None,
    slack: float = 0.0,
    final: bool = False,
) -> dict:
    """The report as a dict (what ``build_json`` writes, read back)."""
    return json.loads(build_json(snap, jobs, now, until, stop, slack=slack, final=final))


def build_json(
    snap: Snapshot,
    jobs: Callable[[int], dict],
    now: float,
    until: float | None = None,
    stop: threading.Event | None = None,
    extra: dict | None = None,
    slack: float = 0.0,
    final: bool = False,
) -> bytearray:
    """Per client and job, per client, and in all, as compact JSON, and ``extra``'s keys
    after them. ``jobs(job_id)`` gives the job's truth: template, tenant, state, submit,
    t_end, t_visible (None while it runs) and shown. ``until`` is clamped to ``now``;
    ``final``: the clients have stopped (``mock_server.truth_rows``).

    Written a client at a time: no more than a few hundred rows are held at once beside
    the JSON, and each call that holds the GIL (a sort, an encoding) is short, so that a
    thread writing it lets the event loop's thread run. The cyclic collector is off
    meanwhile (the rows hold no cycles: collections over them would stall the loop)."""
    with no_cyclic_gc():
        until = until if until is None else min(until, now)
        return _write(snap, jobs, now, (until, slack, final), stop, extra)


def _write(snap, jobs, now, end, stop, extra) -> bytearray:
    until = end[0]
    ids = snap.overflow.estimate()
    out = bytearray(b'{"jobs":[')
    rows, clients = _Pieces(out, stop), _Pieces(bytearray(), stop)
    tally = _Tally()
    each_row = report_rows(snap, jobs, now, end, stop)
    for client, group in groupby(each_row, key=itemgetter("client")):
        mine = list(group)
        rows.extend(mine)
        entry = {"client": client, **_summary(mine)}
        if client == OVERFLOW:
            entry["ids"] = ids  #: about how many client ids it stands for
        clients.extend([entry])
        tally.add(mine)
    rows.close()
    out += b'],"clients":['
    out += clients.close()
    totals = {
        **tally.summary(),
        "requests": [
            {"dialect": d, "http_status": s, "count": n}
            for (d, s), n in sorted(snap.requests.items())
        ],
        "injected_faults": dict(sorted(snap.injected.items())),
        "server_errors": sum(snap.server_errors.values()),  #: our own 500s (bugs)
        "until": until,
        "final": end[2],  #: the clients had stopped: no row is unfinished
        "last_request": snap.latest if snap.clients else None,  #: of any client
    }
    if OVERFLOW in snap.clients:
        totals["overflow"] = {"client": OVERFLOW, "ids": ids, "max_clients": snap.max_clients}
    if snap.journal is not None:
        totals["journal"] = snap.journal
    out += b'],"totals":' + _dumps(totals).encode()
    for key, value in (extra or {}).items():
        out += b"," + _dumps(key).encode() + b":" + _dumps(value).encode()
    out += b"}"
    return out


class _Pieces:
    """Items appended to a JSON array's body a few hundred at a time, each piece one
    call of the encoder."""

    def __init__(self, out: bytearray, stop) -> None:
        self.out, self.stop = out, stop
        self.pending: list[dict] = []

    def extend(self, items: list[dict]) -> None:
        self.pending += items
        if len(self.pending) >= _PIECE:
            self._flush()

    def close(self) -> bytearray:
        self._flush()
        return self.out

    def _flush(self) -> None:
        pending, self.pending = self.pending, []
        for i in range(0, len(pending), _PIECE):
            if self.stop is not None and self.stop.is_set():
                raise Abandoned
            if self.out[-1:] not in (b"[", b""):
                self.out += b","
            self.out += _dumps(pending[i : i + _PIECE])[1:-1].encode()


class _Tally:
    """The totals over every row, added up a client at a time."""

    def __init__(self) -> None:
        self.sums = dict.fromkeys(_SUMMED, 0)
        self.jobs = 0
        self.latencies: list[float] = []

    def add(self, rows: list[dict]) -> None:
        self.jobs += len(rows)
        for key, field in _SUMMED.items():
            self.sums[key] += sum(r[field] for r in rows)
        self.latencies += [
            r["detection_latency_s"] for r in rows if r["detection_latency_s"] is not None
        ]

    def summary(self) -> dict:
        """What ``_summary`` gives over all the rows at once."""
        polls = self.sums["polls"]
        return {
            "jobs": self.jobs,
            "polls": polls,
            "polls_per_job": polls / self.jobs if self.jobs else None,
            **{k: v for k, v in self.sums.items() if k != "polls"},
            "detection_latency_s": _stats(sorted(self.latencies)),
        }


#: a summary's sums -> the row field summed
_SUMMED = {
    "polls": "polls",
    "wasted_polls": "wasted_polls",
    "requests_after_seen": "requests_after_seen",
    "retry_after_violations": "retry_after_violations",
    "gave_up": "gave_up",
    "errored": "errored",
    "unfinished": "unfinished",
}


def _summary(rows: list[dict]) -> dict:
    if len(rows) == 1:
        return _one(rows[0])
    lat = sorted(r["detection_latency_s"] for r in rows if r["detection_latency_s"] is not None)
    polls = sum(r["polls"] for r in rows)
    return {
        "jobs": len(rows),
        "polls": polls,
        "polls_per_job": polls / len(rows) if rows else None,
        "wasted_polls": sum(r["wasted_polls"] for r in rows),
        "requests_after_seen": sum(r["requests_after_seen"] for r in rows),
        "retry_after_violations": sum(r["retry_after_violations"] for r in rows),
        "gave_up": sum(r["gave_up"] for r in rows),
        "errored": sum(r["errored"] for r in rows),
        "unfinished": sum(r["unfinished"] for r in rows),
        "detection_latency_s": _stats(lat),
    }


def _one(r: dict) -> dict:
    """The summary of one row, as ``_summary`` gives it (most clients poll one job)."""
    lat = r["detection_latency_s"]
    return {
        "jobs": 1,
        "polls": r["polls"],
        "polls_per_job": r["polls"] / 1,
        "wasted_polls": r["wasted_polls"],
        "requests_after_seen": r["requests_after_seen"],
        "retry_after_violations": r["retry_after_violations"],
        "gave_up": int(r["gave_up"]),
        "errored": int(r["errored"]),
        "unfinished": int(r["unfinished"]),
        "detection_latency_s": _stats([lat]) if lat is not None else None,
    }


def _stats(values: list[float]) -> dict | None:
    """Mean, p50, p95, p99 and max, the percentiles as the simulation's summaries take
    them (numpy's), so that a measurement and a prediction are read the same way."""
    if not values:
        return None
    if len(values) == 1:  # what numpy gives, without its cost per client
        v = values[0]
        return {"mean": v, "p50": v, "p95": v, "p99": v, "max": v}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "mean": sum(values) / len(values),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "max": max(values),
    }


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
