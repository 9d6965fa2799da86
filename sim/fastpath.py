"""The vectorised fast path: for open-loop strategies against a server that is never the
bottleneck, every client's polls follow from its start and its waits alone, so whole
cohorts of clients advance one poll at a time as numpy arrays, without SimPy.

It repeats the SimPy poller's arithmetic in the same order (``now + wait``, then the two
halves of the round trip), so deterministic strategies give the same poll counts and
times; jittered ones draw from the same kind of generator, in another order.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd

from sim.pollers import PollRecord
from sim.states import JOB_TERMINAL, JobState
from sim.strategies import Strategy
from sim.timelines import Timeline

STATES = [s.value for s in JobState]
CODE = {s: i for i, s in enumerate(STATES)}
TERMINAL_BITS = sum(1 << CODE[s.value] for s in JOB_TERMINAL)


class TimelineMatrix:
    """The visible timelines of many jobs, padded into arrays: ``times`` (inf past the
    end) and state ``codes`` (-1 past the end), one row per job."""

    def __init__(self, timelines: list[Timeline]) -> None:
        n = len(timelines)
        width = max((len(t.times) for t in timelines), default=1)
        self.times = np.full((n, width), np.inf)
        self.codes = np.full((n, width), -1, dtype=np.int64)
        for r, t in enumerate(timelines):
            self.times[r, : len(t.times)] = t.times
            self.codes[r, : len(t.states)] = [CODE[s] for s in t.states]
        self.ended = np.array([t.ended for t in timelines], dtype=bool)
        self.final = np.array([t.final for t in timelines], dtype=object)

    def index_at(self, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Per row, the index of what the API shows at ``t`` (as ``Timeline.index_at``)."""
        return np.maximum((self.times[rows] <= t[:, None]).sum(axis=1) - 1, 0)


def applies(strategy: Strategy, feedback: bool) -> bool:
    """Whether the fast path can evaluate this strategy against this server."""
    return strategy.open_loop and not feedback


def fast_poll(
    matrix: TimelineMatrix,
    rows: np.ndarray,
    job_ids: np.ndarray,
    starts: np.ndarray,
    strategy: Strategy,
    label: str,
    rtt: float,
    stop_at: float,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Poll the jobs in ``rows`` of ``matrix`` per ``strategy``: their PollRecords as a
    DataFrame, and the arrival times at the server of every request, floored to seconds."""
    if not strategy.open_loop:
        raise ValueError(f"strategy {label} needs the server's answers: no fast path")
    n = len(rows)
    half = rtt / 2
    start = np.asarray(starts, dtype=float)
    now = start.copy()
    prev = np.zeros(n)
    polls = np.zeros(n, dtype=np.int64)
    wasted = np.zeros(n, dtype=np.int64)
    seen = np.zeros(n, dtype=np.int64)
    t_seen = np.full(n, np.nan)
    seen_code = np.full(n, -1, dtype=np.int64)
    gave_up = np.zeros(n, dtype=bool)
    end = np.full(n, np.nan)
    arrivals: list[np.ndarray] = []
    active = np.arange(n)
    wait, stop, first = strategy.wait, strategy.stop, strategy.first
    attempt = 0
    while active.size:
        elapsed = np.round(now[active] - start[active], 9)
        quits = stop.vector(attempt, elapsed)
        if quits.any():
            gone = active[quits]
            gave_up[gone] = True
            end[gone] = now[gone]
            active = active[~quits]
            if not active.size:
                break
        m = active.size
        if attempt == 0 and first is not None:
            w = np.full(m, float(first))
        else:
            w = wait.draw(attempt, prev[active] if attempt else None, rng, m)
        sent = now[active] + w
        stuck = (sent >= stop_at) & ~matrix.ended[rows[active]]
        if stuck.any():  # the job never ends: stop watching at the end of the run
            end[active[stuck]] = sent[stuck]
            active, sent, w = active[~stuck], sent[~stuck], w[~stuck]
        arrive = sent + half if half else sent
        polls[active] += 1
        arrivals.append(np.floor(arrive).astype(np.int64))
        code = matrix.codes[rows[active], matrix.index_at(rows[active], arrive)]
        bit = np.left_shift(1, code)
        wasted[active] += (seen[active] & bit) != 0
        seen[active] |= bit
        back = arrive + half if half else arrive
        done = (bit & TERMINAL_BITS) != 0
        finished = active[done]
        t_seen[finished] = back[done]
        seen_code[finished] = code[done]
        end[finished] = back[done]
        now[active] = back
        prev[active] = w
        active = active[~done]
        attempt += 1
    missed = _missed(matrix, rows, start, end, seen)
    states = np.array([*STATES, None], dtype=object)
    per_job = pd.DataFrame(
        {
            "job_id": job_ids,
            "strategy": label,
            "watch_start": start,
            "t_seen": t_seen,
            "seen_state": states[seen_code],
            "polls": polls,
            "wasted_polls": wasted,
            "gave_up": gave_up,
            "false_give_up": gave_up & (matrix.final[rows] == "succeeded"),
            "missed_states": [_names(int(b)) for b in missed],
            "retry_after_violations": 0,
            "errors": 0,
        },
        columns=list(PollRecord._fields),
    )
    return per_job, np.concatenate(arrivals) if arrivals else np.empty(0, dtype=np.int64)


def _missed(
    matrix: TimelineMatrix, rows: np.ndarray, start: np.ndarray, end: np.ndarray, seen
) -> np.ndarray:
    """Bits of the non-terminal states shown while each client watched but never seen."""
    times, codes = matrix.times[rows], matrix.codes[rows]
    first = matrix.index_at(rows, start)
    cols = np.arange(times.shape[1])
    window = (cols[None, :] >= first[:, None]) & (times <= end[:, None]) & (codes >= 0)
    bits = np.where(window, np.left_shift(1, np.maximum(codes, 0)), 0)
    shown = np.bitwise_or.reduce(bits, axis=1)
    return shown & ~seen & ~TERMINAL_BITS


@lru_cache(maxsize=1024)
def _names(bits: int) -> str:
    return ";".join(sorted(STATES[i] for i in range(len(STATES)) if bits >> i & 1))


def seconds_needed(end: float) -> int:
    return max(1, math.ceil(end))
