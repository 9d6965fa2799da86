"""The ground truth's rows: what one client did about one job, read from a snapshot; and
whether a client that never saw the job's end gave up on it, errored (stopped after an
error answer), or was still on it when the run ended (unfinished). Its pace is its
longest gap between two requests for the job (for a job asked about once: between any
two of its requests); its allowance is ``WATCHING`` times its pace (a backoff that
doubles asks next at twice its last gap).

- It moved on when it went on asking about other jobs for longer than its allowance
  after its last request for this one: it gave up on this job, whether or not the job
  ended before the run did (it abandoned it, and counts it as given up itself).
- Without ``until`` (the run may not be over), a client that did not move on is
  unfinished: it may still come back to the job.
- With ``until`` (when the clients were stopped, simulated seconds), the run ended at
  ``until`` or at the latest request of any client, whichever came first (``until`` is
  read from a clock after the clients stopped, late by a wall second or so: scaled, a
  minute or more). A client that did not move on is unfinished if it last asked within
  its allowance, or within ``slack``, of the end (the server gives a wall second at its
  speed: a swarm's users are not all stopped at the same instant); else it stopped
  asking well before the end while others asked on, and gave up.

With ``final`` (the clients have stopped of their own accord: a test's client returned),
a client that did not see a job end stopped without it: it gave up (or errored), never
unfinished, however recently it asked.

A client polling several jobs at once moves on from none of them, so none of them is
counted given up just because its latest request was for another.

A client that stopped (by the rules above) right after an error answer for the job (a
4xx other than 304, a 5xx, no answer, or any fault or outage answer the scenario
injected) *errored* rather than gave up: it stopped on the error, as the SDK pollers do
once their request-level retries are spent, where a give-up is its own deadline or count.
The server sees answers, not reasons: a client whose deadline happened to fall right
after an error answer is counted errored too. Each row is exactly one of: seen the end,
gave up, errored, unfinished.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from operator import itemgetter

from mock_server.truth import Pair, Snapshot

WATCHING = 2.0  #: a client is still watching within this many of its longest gaps
_CHUNK = 2000  #: rows between checks for a stop
_SORTED = 8192  #: items sorted per call of sorted(), which holds the GIL throughout


class Abandoned(Exception):
    """The report was no longer wanted (the request went away, the server is stopping)."""


def report_rows(
    snap: Snapshot,
    jobs: Callable[[int], dict],
    now: float,
    end: tuple[float | None, float, bool],
    stop,
) -> Iterator[dict]:
    """The report's rows, one per client and job, sorted by both; ``end`` is ``until``,
    ``slack`` and ``final`` (see the module)."""
    until, slack, final = end
    if until is not None:
        until = min(until, snap.latest)  # the end of the run: see the module
    horizon = now if until is None else until
    known: dict[int, dict] = {}
    pairs = _sorted(list(snap.pairs.items()), itemgetter(0))
    for i, ((client, job_id), p) in enumerate(pairs):
        if stop is not None and i % _CHUNK == 0 and stop.is_set():
            raise Abandoned
        job = known.get(job_id)
        if job is None:
            job = known[job_id] = jobs(job_id)
        t_end, t_vis = job["t_end"], job["t_visible"]
        seen = p.t_seen == p.t_seen  # not NaN
        gave_up = errored = unfinished = False
        if not seen:
            stopped = final or _gave_up(p, snap.clients[client], horizon, until, slack)
            errored = stopped and p.last_error
            gave_up = stopped and not errored
            unfinished = not stopped
        yield {
            "client": client,
            "job_id": str(job_id),
            "template": job["template"],
            "tenant": job["tenant"],
            "state": job["state"],
            "submit": job["submit"],
            "t_end": t_end,
            "t_visible": t_vis,
            "shown": job["shown"],  #: [t, state], each from when the API showed it
            "t_seen": p.t_seen if seen else None,
            "detection_latency_s": p.t_seen - t_end if seen and t_end is not None else None,
            "polling_delay_s": p.t_seen - t_vis if seen and t_vis is not None else None,
            "polls": p.polls,
            "t_first": p.first,  #: its first request
            "watched_s": p.last - p.first,  #: first request to last
            "wasted_polls": p.wasted,
            "requests_after_seen": p.after_seen,
            "retry_after_violations": p.retry_after_violations,
            "errors": p.errors,
            "injected_errors": p.injected,
            "gave_up": gave_up,
            "errored": errored,  #: stopped after an error answer: not a give-up
            "unfinished": unfinished,
        }


def _sorted(items: list, key: Callable) -> Iterator:
    """``sorted(items, key=key)``, a piece at a time and merged in Python, so that the
    event loop's thread gets the GIL in between."""
    pieces = [sorted(items[i : i + _SORTED], key=key) for i in range(0, len(items), _SORTED)]
    return heapq.merge(*pieces, key=key) if len(pieces) > 1 else iter(pieces[0] if pieces else [])


def _gave_up(p: Pair, last, horizon: float, until: float | None, slack: float) -> bool:
    """Did the client give up on the job (else it was still on it)? See the module."""
    allowance = WATCHING * (p.gap if p.polls > 1 else last.gap)
    if last.t - p.last > allowance:
        return True  # it went on asking about other jobs
    if until is None:
        return False
    return horizon - p.last > max(allowance, slack)
