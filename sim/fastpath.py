"""The vectorised fast path: for open-loop strategies against a server that is never the
bottleneck, every client's polls follow from its start and its waits alone, so whole
cohorts of clients advance one poll at a time as numpy arrays, without SimPy.

When every client waits the same at the same attempt (no jitter), one schedule of poll
offsets serves all clients and each job's polls follow from a binary search: the same
poll counts as the SimPy pollers, and the same times up to float rounding. Jittered
strategies advance all clients one poll at a time as arrays, repeating the SimPy
poller's arithmetic; they draw from the same kind of generator, in another order.
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import chain

import numpy as np
import pandas as pd

from sim.pollers import PollRecord
from sim.states import JOB_TERMINAL, JobState
from sim.strategies import PollState, Strategy
from sim.timelines import Timeline

STATES = [s.value for s in JobState]
CODE = {s: i for i, s in enumerate(STATES)}
TERMINAL_BITS = sum(1 << CODE[s.value] for s in JOB_TERMINAL)


class TimelineMatrix:
    """The visible timelines of many jobs, padded into arrays: ``times`` (inf past the
    end) and state ``codes`` (-1 past the end), one row per job."""

    def __init__(self, timelines: list[Timeline]) -> None:
        n = len(timelines)
        lengths = np.fromiter((len(t.times) for t in timelines), dtype=np.int64, count=n)
        width = int(lengths.max()) if n else 1
        flat_times = np.fromiter(chain.from_iterable(t.times for t in timelines), dtype=float)
        flat_codes = np.fromiter(
            (CODE[s] for s in chain.from_iterable(t.states for t in timelines)), dtype=np.int64
        )
        row = np.repeat(np.arange(n), lengths)
        col = np.arange(len(row)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        self.times = np.full((n, width), np.inf)
        self.codes = np.full((n, width), -1, dtype=np.int64)
        self.times[row, col] = flat_times
        self.codes[row, col] = flat_codes
        self.ended = np.fromiter((t.ended for t in timelines), dtype=bool, count=n)
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
    if strategy.wait.deterministic:
        return _same_schedule(matrix, rows, job_ids, starts, strategy, label, rtt, stop_at)
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
    # what each client's job shows: a pointer into its timeline that only moves forward,
    # since each client's polls come in order (an inf column ends every row)
    times = np.concatenate([matrix.times[rows], np.full((n, 1), np.inf)], axis=1)
    codes = matrix.codes[rows]
    shown = np.zeros(n, dtype=np.int64)
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
        ix = shown[active]
        while (step := times[active, ix + 1] <= arrive).any():
            ix = ix + step
        shown[active] = ix
        code = codes[active, ix]
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
    per_job = _records(
        matrix, rows, job_ids, label, start, t_seen, seen_code, polls, wasted, gave_up, missed
    )
    seconds = np.concatenate(arrivals) if arrivals else np.empty(0, dtype=np.int64)
    return per_job, np.bincount(seconds)


def _schedule(strategy: Strategy, half: float, horizon: float):
    """One client's poll times, relative to its start, for a strategy whose waits are the
    same for every client: when each poll is sent and reaches the server, when each answer
    is back, and after how many polls the client gives up (None: it never does). Enough
    polls to watch for ``horizon`` seconds."""
    sent, arrive, back = [], [], []
    now, attempt, prev = 0.0, 0, None
    state_of = strategy.wait
    while True:
        if strategy.stop(PollState(attempt, round(now, 9))):
            return np.array(sent), np.array(arrive), np.array(back), attempt
        if now > horizon:
            return np.array(sent), np.array(arrive), np.array(back), None
        if attempt == 0 and strategy.first is not None:
            w = float(strategy.first)
        else:
            w = state_of(PollState(attempt, round(now, 9), prev_delay=prev), None)
        if w <= 0 and half == 0 and attempt > 10_000:
            raise ValueError(f"strategy {strategy.label} polls in a loop that takes no time")
        t = now + w
        sent.append(t)
        t = t + half if half else t
        arrive.append(t)
        now = t + half if half else t
        back.append(now)
        prev = w
        attempt += 1


def _same_schedule(matrix, rows, job_ids, starts, strategy, label, rtt, stop_at):
    """Every client polls at the same offsets from its start: each job's polls follow from
    a search in one schedule, O(jobs) but for the per-second load, O(polls)."""
    half = rtt / 2
    start = np.asarray(starts, dtype=float)
    t_vis = np.where(matrix.ended[rows], _visible_end(matrix, rows), np.inf)
    horizon = float(np.max(np.where(np.isfinite(t_vis), t_vis, stop_at) - start, initial=0))
    sent, arrive, back, give_up = _schedule(strategy, half, horizon + rtt + 1)
    limit = len(arrive) if give_up is None else give_up
    # the first poll that reaches the server once the end is visible
    k = np.searchsorted(arrive, t_vis - start, side="left")
    sees = np.isfinite(t_vis) & (k < limit)
    # a job that never ends is watched until a poll would be sent at the end of the run
    stuck_polls = np.searchsorted(sent, stop_at - start, side="left")
    polls = np.where(
        sees, k + 1, np.where(np.isfinite(t_vis), limit, np.minimum(limit, stuck_polls))
    )
    gave_up = ~sees & (np.isfinite(t_vis) | (stuck_polls >= limit)) & (give_up is not None)
    back_at = np.concatenate([[0.0], back])
    t_seen = np.where(sees, start + back_at[np.minimum(k + 1, len(back))], np.nan)
    stuck = ~sees & ~gave_up
    sent_at = np.concatenate([sent, [np.inf]])
    end = np.where(sees, t_seen, start + back_at[np.minimum(polls, len(back))])
    end = np.where(stuck, start + sent_at[np.minimum(polls, len(sent))], end)
    # which of the states shown did some poll see: a poll reached the server in its span
    times, codes = matrix.times[rows], matrix.codes[rows]
    first_poll = np.searchsorted(arrive, times - start[:, None], side="left")
    first_poll[:, 0] = 0  # before anything shows, the API answers with the first state
    next_first = np.concatenate([first_poll[:, 1:], np.full((len(rows), 1), len(arrive))], axis=1)
    hit = (np.minimum(next_first, polls[:, None]) > first_poll) & (codes >= 0)
    seen = np.bitwise_or.reduce(np.where(hit, np.left_shift(1, np.maximum(codes, 0)), 0), axis=1)
    distinct = np.bitwise_count(seen)
    wasted = polls - distinct
    missed = _missed(matrix, rows, start, end, seen)
    seen_code = np.where(
        sees,
        codes[np.arange(len(rows)), np.maximum((times <= (t_seen - half)[:, None]).sum(1) - 1, 0)],
        -1,
    )
    per_job = _records(
        matrix, rows, job_ids, label, start, t_seen, seen_code, polls, wasted, gave_up, missed
    )
    return per_job, _per_second(start, arrive, polls)


def _records(
    matrix, rows, job_ids, label, start, t_seen, seen_code, polls, wasted, gave_up, missed
) -> pd.DataFrame:
    """The PollRecords of a cohort, as a DataFrame."""
    states = np.array([*STATES, None], dtype=object)
    return pd.DataFrame(
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
            "missed_states": _names_of(missed),
            "retry_after_violations": 0,
            "errors": 0,
        },
        columns=list(PollRecord._fields),
    )


def _per_second(start: np.ndarray, arrive: np.ndarray, polls: np.ndarray) -> np.ndarray:
    """Requests arriving in each second, from jobs that poll at ``start + arrive[:polls]``.
    Jobs with about as many polls go together into one broadcast (at most a quarter of
    it padding), so every poll costs a few array operations and no Python."""
    if not len(polls) or polls.max() == 0:
        return np.zeros(1, dtype=np.int64)
    size = int(np.floor(start.max() + arrive[polls.max() - 1])) + 2
    counts = np.zeros(size, dtype=np.int64)
    order = np.argsort(polls, kind="stable")
    p_sorted = polls[order]
    lo = int(np.searchsorted(p_sorted, 1))
    while lo < len(order):
        top = max(int(p_sorted[lo] * 1.25), int(p_sorted[lo]) + 1)
        hi = int(np.searchsorted(p_sorted, top, side="left"))
        hi = min(max(hi, lo + 1), lo + max(1, 4_000_000 // top))
        rows = order[lo:hi]
        width = int(p_sorted[hi - 1])
        times = start[rows, None] + arrive[None, :width]
        keep = np.arange(width)[None, :] < p_sorted[lo:hi, None]
        sec = np.floor(times[keep]).astype(np.int64)
        low = int(sec.min())
        part = np.bincount(sec - low)
        counts[low : low + len(part)] += part
        lo = hi
    return counts


def _visible_end(matrix: TimelineMatrix, rows: np.ndarray) -> np.ndarray:
    """When each job's terminal state first shows (its last timeline entry)."""
    times = matrix.times[rows]
    last = (np.isfinite(times)).sum(axis=1) - 1
    return times[np.arange(len(rows)), last]


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


def _names_of(bits: np.ndarray) -> np.ndarray:
    """``_names`` of each bit set, computed once per distinct value."""
    values, inverse = np.unique(bits, return_inverse=True)
    return np.array([_names(int(v)) for v in values], dtype=object)[inverse]


@lru_cache(maxsize=1024)
def _names(bits: int) -> str:
    return ";".join(sorted(STATES[i] for i in range(len(STATES)) if bits >> i & 1))


def seconds_needed(end: float) -> int:
    return max(1, math.ceil(end))
