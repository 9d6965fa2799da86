"""The fast path: for open-loop strategies against a server that is never the bottleneck,
every client's polls follow from its start and its waits alone, so all clients are
evaluated at once from the job timelines as arrays, without SimPy.

When every client waits the same at the same attempt (no jitter), one schedule of poll
offsets serves all clients and each job's polls follow from binary searches: the same
poll counts as the SimPy pollers, and the same times up to float rounding. Jittered
waits are drawn by the strategy objects, as arrays, a block of attempts at a time; a
compiled loop (``sim._kernels``) walks each client through them with the SimPy poller's
arithmetic, from the same kind of generator in another order.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import chain

import numpy as np
import pandas as pd

from sim import _kernels as kernels
from sim import limits
from sim.pollers import PollRecord, SpanError, StuckPoller, spend
from sim.states import JOB_TERMINAL, JobState
from sim.strategies import PollState, Strategy
from sim.timelines import Timeline

STATES = [s.value for s in JobState]
CODE = {s: i for i, s in enumerate(STATES)}
TERMINAL_BITS = sum(1 << CODE[s.value] for s in JOB_TERMINAL)


class TimelineMatrix:
    """The visible timelines of many jobs, padded into arrays: ``times`` (inf past the
    end) and state ``codes`` (-1 past the end), one row per job; per job, whether it
    ``ended``, when that first showed (``t_vis``), and whether it ``succeeded``."""

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
        self.t_vis = np.fromiter((t.t_visible for t in timelines), dtype=float, count=n)
        self.succeeded = np.fromiter(
            (t.final == "succeeded" for t in timelines), dtype=bool, count=n
        )


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
    budget: list[int] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Poll the jobs in ``rows`` of ``matrix`` per ``strategy``: their PollRecords as a
    DataFrame, and the requests arriving at the server in each second. ``budget`` holds
    the polls the run has left (``sim.pollers.poll_budget``)."""
    if not strategy.open_loop:
        raise ValueError(f"strategy {label} needs the server's answers: no fast path")
    n = len(rows)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    start = np.array(starts, dtype=float)
    out = {
        "polls": np.zeros(n, dtype=np.int64),
        "wasted": np.zeros(n, dtype=np.int64),
        "seen": np.zeros(n, dtype=np.int64),
        "t_seen": np.full(n, np.nan),
        "seen_code": np.full(n, -1, dtype=np.int64),
        "gave_up": np.zeros(n, dtype=bool),
        "end": np.full(n, np.nan),
    }
    if strategy.wait.deterministic:
        with Threads(n) as threads:
            args = (matrix, rows, start, strategy, rtt, stop_at, out, threads, budget)
            counts = _same_schedule(*args)
    else:
        with Threads(n) as threads:
            args = (matrix, rows, start, strategy, rtt, stop_at, rng, out, threads, budget)
            counts = _jittered(*args)
    missed = kernels.missed(
        rows, start, out["end"], out["seen"], matrix.times, matrix.codes, TERMINAL_BITS
    )
    return _records(matrix, rows, job_ids, label, start, out, missed), counts


#: the most waits drawn ahead at once (clients x attempts), and per client
BLOCK_CELLS = 2_000_000
BLOCK_ATTEMPTS = 256


#: clients per share of a jittered cohort: each share draws from a generator of its own
#: (spawned from the cohort's), so results do not depend on how many threads there are
SHARE = 16384


def _jittered(
    matrix, rows, start, strategy, rtt, stop_at, rng, out, threads, budget=None
) -> np.ndarray:
    """Waits that differ between clients, drawn and walked a share of the clients at a
    time, shares in parallel threads (numpy's draws and the compiled loop both release
    the GIL)."""
    n = len(rows)
    shares = [(lo, min(lo + SHARE, n)) for lo in range(0, n, SHARE)] or [(0, 0)]
    gens = rng.spawn(len(shares))
    mine = threading.local()  # each thread counts into one array, whatever its shares
    held: list[list[np.ndarray]] = []

    def one(k: int) -> None:
        lo, hi = shares[k]
        if not hasattr(mine, "counts"):
            mine.counts = [np.zeros(seconds_needed(stop_at) + 2, dtype=np.int64)]
            held.append(mine.counts)
        args = (matrix, rows, start, strategy, rtt, stop_at, gens[k], out, lo, hi, mine.counts)
        _jittered_share(*args, budget)

    threads.map(one, range(len(shares)))
    parts = [h[0] for h in held]
    counts = np.zeros(max(len(c) for c in parts), dtype=np.int64)
    for c in parts:
        counts[: len(c)] += c
    return counts


def _jittered_share(
    matrix, rows, start, strategy, rtt, stop_at, rng, out, lo, hi, holder, budget=None
):
    """Clients ``lo:hi``: the strategy draws their waits, a block of attempts at a time
    (each attempt's draws as one array, so ``prev`` is the column before), and the
    compiled loop walks each client through its block: the same arithmetic as the SimPy
    poller, other draws from the same kind of generator. Blocks are sized to what the
    median client still needs, so few draws go unused. Requests are counted into
    ``holder[0]``, the thread's per-second counts (replaced by a longer copy if need
    be). The polls of each block are taken from ``budget``."""
    n, half = len(rows), rtt / 2
    spent = 0
    wait, stop, first, shift = strategy.wait, strategy.stop, strategy.first, strategy.wait_shift
    now, prev, shown = start.copy(), np.zeros(n), np.zeros(n, dtype=np.int64)
    counts = holder[0]
    active = np.arange(lo, hi)
    attempt, width = 0, 4
    buffer = np.empty(min(BLOCK_CELLS, max(hi - lo, 1) * BLOCK_ATTEMPTS))
    while active.size:
        m = active.size
        width = max(1, min(width, BLOCK_CELLS // m))
        waits = buffer[: width * m].reshape(width, m)  # an attempt per row
        p, skip = (prev[active] if attempt else None), 0
        if attempt == 0 and first is not None:
            waits[0], skip = float(first), 1
            p = waits[0]
        if skip < width:
            wait.fill(attempt + skip - shift, p, rng, waits[skip:])
        if attempt > limits.MAX_POLLS:
            raise StuckPoller(strategy.label)
        block = np.arange(attempt, attempt + width)
        thresholds, aheads, wakes = stop.after_poll(block), stop.aheads(block), stop.wakes(block)
        reach = float(now[active].max() + waits.sum(axis=0).max()) + width * rtt
        if reach >= len(counts) - 1 and len(counts) < _most_seconds():
            grown = int(min(reach, _most_seconds())) + 2 - len(counts)
            counts = np.concatenate([counts, np.zeros(grown, np.int64)])
            holder[0] = counts
        done, late = np.zeros(m, dtype=bool), np.zeros(1)
        kernels.walk(
            0, m, counts, done, active, rows, waits, thresholds, aheads, wakes, start, now, shown,
            out["seen"], out["polls"], out["wasted"], out["t_seen"], out["seen_code"],
            out["gave_up"], out["end"], matrix.times, matrix.codes, matrix.ended,
            half, stop_at, TERMINAL_BITS, late,
        )  # fmt: skip
        if late[0]:
            raise SpanError(f"strategy {strategy.label} polls")
        polls = int(out["polls"][lo:hi].sum())
        spend(budget, polls - spent, fast=True)
        spent = polls
        prev[active] = waits[-1]  # (a copy: the buffer is drawn into again)
        active = active[~done]
        attempt += width
        width = _next_width(matrix, rows, active, now, stop_at, waits[-2:], rtt)


def _schedule(strategy: Strategy, half: float, horizon: float):
    """One client's poll times, relative to its start, for a strategy whose waits are the
    same for every client: when each poll is sent and reaches the server, when each answer
    is back, and after how many polls the client gives up (None: it never does), and when
    (None: when the last answer is back; a stop checked on waking gives up then). Enough
    polls to watch for ``horizon`` seconds."""
    if strategy.wait.constant is not None and strategy.stop.checks <= {"poll"}:
        return _constant_schedule(strategy, half, horizon)
    sent, arrive, back = [], [], []
    now, attempt, prev = 0.0, 0, None
    stop = strategy.stop

    def done(gave_up: bool, at: float | None = None):
        k = attempt if gave_up else None
        return np.array(sent), np.array(arrive), np.array(back), k, at

    while True:
        state = PollState(attempt, round(now, 9), prev_delay=prev)
        if stop(state):
            return done(True)
        if now > horizon:
            return done(False)
        w = strategy.next_delay(state, None)
        if w is None:  # a stop checked ahead of the sleep
            return done(True)
        if attempt >= limits.MAX_POLLS:
            raise StuckPoller(strategy.label)
        t = now + w
        if strategy.gives_up_on_waking(attempt, t):
            return done(True, t)
        sent.append(t)
        t = t + half if half else t
        arrive.append(t)
        now = t + half if half else t
        back.append(now)
        prev = w
        attempt += 1


#: attempts of a constant schedule made at once
SCHEDULE_BLOCK = 4096


def _constant_schedule(strategy: Strategy, half: float, horizon: float):
    """``_schedule`` for a wait that is the same at every attempt, a block of attempts at
    a time with numpy: the times are accumulated in the loop's order (wait, half, half:
    ``np.add.accumulate`` adds one after the other), so they are the same floats."""
    wait = strategy.wait.constant
    parts: list[np.ndarray] = []
    now, attempt = 0.0, 0
    while True:
        k = np.arange(attempt, attempt + SCHEDULE_BLOCK)
        waits = np.full(SCHEDULE_BLOCK, wait)
        if attempt == 0 and strategy.first is not None:
            waits[0] = float(strategy.first)
        steps = np.empty(3 * SCHEDULE_BLOCK + 1)
        steps[0] = now
        steps[1::3], steps[2::3], steps[3::3] = waits, half, half
        times = np.add.accumulate(steps)
        before = times[0:-1:3]  # ``now`` before each attempt
        stop = np.flatnonzero(np.round(before, 9) >= strategy.stop.after_poll(k))
        over = np.flatnonzero(before > horizon)
        ends = [int(x[0]) for x in (stop, over) if len(x)]
        cut = min(ends) if ends else SCHEDULE_BLOCK
        parts.append(times[1:].reshape(SCHEDULE_BLOCK, 3)[:cut])
        if attempt + cut > limits.MAX_POLLS:
            raise StuckPoller(strategy.label)
        if ends:
            rows = np.concatenate(parts)
            gave_up = len(stop) and int(stop[0]) == cut
            k = attempt + cut if gave_up else None
            return rows[:, 0], rows[:, 1], rows[:, 2], k, None
        now, attempt = float(times[-1]), attempt + SCHEDULE_BLOCK


def _next_width(matrix, rows, active, now, stop_at, last, rtt) -> int:
    """How many attempts to draw next: enough for the median client still watching to
    see its job end if the waits go on as the ``last`` rows of the block did (growing by
    the ratio of their means, as backoff does), so few draws go unused."""
    if not active.size:
        return 1
    r = rows[active]
    left = np.median(np.where(matrix.ended[r], matrix.t_vis[r], stop_at) - now[active])
    left = max(0.0, float(left))
    means = [float(row.mean()) for row in last]
    pace = means[-1] + rtt
    if pace <= 0:
        return BLOCK_ATTEMPTS
    growth = means[-1] / means[0] if len(means) == 2 and means[0] > 0 else 1.0
    if growth > 1.01:  # pace * (g + g^2 + ... + g^k) >= left
        k = math.log1p(left * (growth - 1) / (pace * growth)) / math.log(growth)
    else:
        k = left / pace
    return int(min(k + 2, BLOCK_ATTEMPTS))


def _same_schedule(
    matrix, rows, start, strategy, rtt, stop_at, out, threads, budget=None
) -> np.ndarray:
    """Every client polls at the same offsets from its start: one schedule, long enough
    for the longest watch, and each client's polls follow from binary searches in it."""
    half = rtt / 2
    t_vis = np.where(matrix.ended[rows], matrix.t_vis[rows], np.inf)
    horizon = float(np.max(np.where(np.isfinite(t_vis), t_vis, stop_at) - start, initial=0))
    sent, arrive, back, give_up, woke = _schedule(strategy, half, horizon + rtt + 1)
    limit = len(arrive) if give_up is None else give_up
    reach = float(start.max(initial=0)) + (float(arrive[limit - 1]) if limit else 0.0)
    if reach >= _most_seconds():
        raise SpanError(f"strategy {strategy.label} polls")
    spend(budget, _schedule_polls(matrix, rows, start, sent, arrive, limit, stop_at), fast=True)
    counts = threads.counts(int(reach) + 2)
    threads.run(
        kernels.on_schedule, len(rows), counts, rows, start, sent, arrive, back, limit,
        give_up is not None, np.nan if woke is None else woke, matrix.times, matrix.codes,
        matrix.ended, matrix.t_vis, stop_at, half, out["polls"], out["wasted"], out["seen"],
        out["t_seen"], out["seen_code"], out["gave_up"], out["end"],
    )  # fmt: skip
    return counts.sum(axis=0)


def _schedule_polls(matrix, rows, start, sent, arrive, limit, stop_at) -> int:
    """The polls ``kernels.on_schedule`` will count, from the same binary searches, before
    it counts them one by one."""
    ended = matrix.ended[rows]
    sees = np.searchsorted(arrive, np.where(ended, matrix.t_vis[rows], 0.0) - start) + 1
    stuck = np.searchsorted(sent, stop_at - start)
    return int(np.minimum(np.where(ended, sees, stuck), limit).sum())


#: threads sharing out the clients of a compiled loop (the loops release the GIL)
THREADS = min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
#: fewer clients than this go through one thread
PER_THREAD = 5_000


class Threads:
    """The threads of one fast path call, sharing out the clients of each compiled loop;
    they live for the call only, so a process forked later (a sweep's worker) inherits
    none."""

    def __init__(self, clients: int) -> None:
        self.k = max(1, min(THREADS, clients // PER_THREAD))
        self.pool = ThreadPoolExecutor(self.k) if self.k > 1 else None

    def __enter__(self) -> Threads:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool:
            self.pool.shutdown()

    def counts(self, seconds: int) -> np.ndarray:
        """Request counts per second, a row per thread."""
        return np.zeros((self.k, seconds), dtype=np.int64)

    def map(self, fn, items) -> list:
        """``[fn(x) for x in items]``, on the threads."""
        if self.pool is None:
            return [fn(x) for x in items]
        return list(self.pool.map(fn, items))

    def run(self, kernel, n: int, counts: np.ndarray, *args) -> None:
        """``kernel(lo, hi, counts[i], *args)`` over the clients ``0:n``, a share per
        thread ``i``."""
        k = max(1, min(self.k, n // PER_THREAD))
        shares = [(i * n // k, (i + 1) * n // k, counts[i]) for i in range(k)]
        if k == 1 or self.pool is None:
            kernel(*shares[0], *args)
            return
        for f in [self.pool.submit(kernel, *share, *args) for share in shares]:
            f.result()


def _records(matrix, rows, job_ids, label, start, out, missed) -> pd.DataFrame:
    """The PollRecords of a cohort, as a DataFrame."""
    gave_up = out["gave_up"]
    return pd.DataFrame(
        {
            "job_id": job_ids,
            "strategy": label,
            "watch_start": start,
            "t_seen": out["t_seen"],
            "seen_state": SEEN_NAMES[out["seen_code"]],
            "polls": out["polls"],
            "wasted_polls": out["wasted"],
            "gave_up": gave_up,
            "false_give_up": gave_up & matrix.succeeded[rows],
            "errored": False,  # no errors where the fast path applies
            "missed_states": SET_NAMES[missed],
            "retry_after_violations": 0,
            "errors": 0,
        },
        columns=list(PollRecord._fields),
    )


#: the name of each state code, and None for -1 (nothing seen)
SEEN_NAMES = np.array([*STATES, None], dtype=object)
#: the names of each set of states (a bit per state), joined by ";"
SET_NAMES = np.array(
    [
        ";".join(sorted(s for i, s in enumerate(STATES) if b >> i & 1))
        for b in range(2 ** len(STATES))
    ],
    dtype=object,
)


def seconds_needed(end: float) -> int:
    return max(1, math.ceil(end))


def _most_seconds() -> int:
    """The seconds a run's per-second counts may hold."""
    return seconds_needed(limits.MAX_SPAN) + 2
