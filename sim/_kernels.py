"""The fast path's inner loops, compiled with numba: one pass per client over its polls
and its job's timeline, with no Python per poll. ``sim.fastpath`` prepares the arrays
(the waits drawn by the strategy objects themselves, the stop as a threshold per attempt)
and reads the results; nothing here knows a strategy.

Timelines come as a matrix: row ``rows[j]`` holds client ``j``'s job, ``times`` padded
with inf and ``codes`` (state codes) with -1 past its end. Each loop takes the clients
``lo:hi``, so threads can share them out (the loops release the GIL); results go into
per-client arrays handed in, and every request's arrival second into ``counts``, the
thread's own.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _search(a, x):
    """``np.searchsorted(a, x, side="left")`` on a sorted 1-d array."""
    lo, hi = 0, len(a)
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def walk(
    lo, hi, counts, done, active, rows, waits, thresholds, aheads, wakes, start, now, shown,
    seen, polls,
    wasted, t_seen, seen_code, gave_up, end, times, codes, ended, half, stop_at, terminal_bits,
    late,
):  # fmt: skip
    """Advance the clients ``active`` (indices into the per-client arrays) through a
    block of attempts, ``waits[i, r]`` being client ``active[r]``'s wait at the block's
    attempt ``i``, exactly as the SimPy poller does: give up once the time watched
    reaches the attempt's threshold (or, for a stop checked ahead, once the wait would
    end past ``aheads[i]``), stop watching a job that never ends at the end of the run,
    give up on waking past ``wakes[i]``, else send, read what the API shows on arrival,
    and finish on a terminal state. Clients ``active[lo:hi]`` only, so threads can take
    a share each; ``done`` marks which finished, and ``late[0]`` the latest arrival past
    the end of ``counts`` (the run may not reach so far: the caller refuses it)."""
    width = waits.shape[0]
    seconds = counts.shape[0]
    cols = times.shape[1]
    for r in range(lo, hi):
        j = active[r]
        row = rows[j]
        t, s, ix, bits = now[j], start[j], shown[j], seen[j]
        for i in range(width):
            limit = thresholds[i]
            if limit < np.inf and round(t - s, 9) >= limit:
                gave_up[j] = True
                end[j] = t
                done[r] = True
                break
            w = waits[i, r]
            if aheads[i] < np.inf and round(t - s + w, 9) > aheads[i]:
                gave_up[j] = True
                end[j] = t
                done[r] = True
                break
            sent = t + w
            if sent >= stop_at and not ended[row]:
                end[j] = sent  # the job never ends: stop watching at the end of the run
                done[r] = True
                break
            if wakes[i] < np.inf and round(sent - s, 9) > wakes[i]:
                gave_up[j] = True
                end[j] = sent
                done[r] = True
                break
            arrive = sent + half
            polls[j] += 1
            if arrive >= seconds:  # (never indexed: a compiled loop checks no bounds)
                late[0] = max(late[0], arrive)
            else:
                counts[math.floor(arrive)] += 1
            while ix + 1 < cols and times[row, ix + 1] <= arrive:
                ix += 1
            code = codes[row, ix]
            bit = 1 << code
            if bits & bit:
                wasted[j] += 1
            bits |= bit
            t = arrive + half
            if bit & terminal_bits:
                t_seen[j] = t
                seen_code[j] = code
                end[j] = t
                done[r] = True
                break
        now[j], shown[j], seen[j] = t, ix, bits


@njit(cache=True, nogil=True)
def on_schedule(
    lo, hi, counts, rows, start, sent, arrive, back, limit, can_give_up, woke, times, codes,
    ended, t_vis, stop_at, half, polls, wasted, seen, t_seen, seen_code, gave_up, end,
):  # fmt: skip
    """Every client polls at the same offsets from its start (``sent``, ``arrive``,
    ``back``) and gives up after ``limit`` polls if ``can_give_up`` (on waking at offset
    ``woke`` if that is not nan, which must come before the end of the run for a job
    that never ends; else after its last answer): per client, a binary
    search for the first poll that sees the end, one per timeline entry for the states
    seen, and the arrivals counted per second. Clients ``lo:hi`` only."""
    n_sched = len(arrive)
    cols = times.shape[1]
    for j in range(lo, hi):
        row, s = rows[j], start[j]
        sees = False
        k = n_sched
        if ended[row]:
            k = _search(arrive, t_vis[row] - s)
            sees = k < limit
        stuck_polls = _search(sent, stop_at - s)
        if sees:
            p = k + 1
        elif ended[row]:
            p = limit
        else:
            p = min(limit, stuck_polls)
        gave = (not sees) and can_give_up and (ended[row] or stuck_polls >= limit)
        if gave and not ended[row] and not np.isnan(woke) and s + woke >= stop_at:
            gave = False  # the run ended before the client woke to give up
        polls[j] = p
        gave_up[j] = gave
        if sees:
            t_seen[j] = s + back[k]
            end[j] = t_seen[j]
            # what the API showed when that poll arrived
            ix = 0
            while ix + 1 < cols and times[row, ix + 1] <= t_seen[j] - half:
                ix += 1
            seen_code[j] = codes[row, ix]
        elif gave and not np.isnan(woke):
            end[j] = s + woke
        elif gave:
            end[j] = s + (back[p - 1] if p > 0 else 0.0)
        elif p < len(sent):
            end[j] = s + sent[p]
        else:
            end[j] = np.inf if np.isnan(woke) else s + woke
        # a state shown was seen if a poll reached the server while it showed
        bits = 0
        first = 0  # before anything shows, the API answers with the first state
        for c in range(cols):
            if codes[row, c] < 0:
                break
            nxt = n_sched
            if c + 1 < cols and codes[row, c + 1] >= 0:
                nxt = _search(arrive, times[row, c + 1] - s)
            if min(nxt, p) > first:
                bits |= 1 << codes[row, c]
            first = nxt
        seen[j] = bits
        distinct = 0
        while bits:
            distinct += bits & 1
            bits >>= 1
        wasted[j] = p - distinct
        for q in range(p):
            counts[math.floor(s + arrive[q])] += 1


@njit(cache=True, nogil=True)
def missed(rows, start, end, seen, times, codes, terminal_bits):
    """Per client, the bits of the non-terminal states its job showed while it watched
    (from what showed at its start until it stopped) that none of its polls saw."""
    n, cols = len(rows), times.shape[1]
    out = np.zeros(n, dtype=np.int64)
    for j in range(n):
        row = rows[j]
        first = 0
        while first + 1 < cols and times[row, first + 1] <= start[j]:
            first += 1
        shown = 0
        for c in range(first, cols):
            if codes[row, c] < 0 or times[row, c] > end[j]:
                break
            shown |= 1 << codes[row, c]
        out[j] = shown & ~seen[j] & ~terminal_bits
    return out
