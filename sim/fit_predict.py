"""Polls per job predicted by the fitted strategy: each job replayed as its client was
answered (``sim.pollers.replay``), beside the polls the client made."""

from __future__ import annotations

import math

import numpy as np

from sim.fit_data import OK, Trace
from sim.limits import LimitError
from sim.strategies import Strategy

#: the most jobs replayed to predict polls per job, and about the most polls in all
REPLAYED = 2000
REPLAYED_POLLS = 100_000


def polls_per_job(trs: list[Trace], strategy: Strategy, seed: int) -> dict:
    """Polls per job as observed, and as the fitted strategy makes them against the same
    jobs, each replayed with its own round trip: each job answers as its client was
    answered, each answer from halfway between the request before and its own (so a job
    ends between the last two requests of a client that saw it end), for up to REPLAYED
    jobs (fewer where they polled more than REPLAYED_POLLS times in all)."""
    ended = [tr for tr in trs if tr.outcome != "censored"]
    picked = ended
    total = sum(tr.polls for tr in picked)
    most = min(REPLAYED, max(20, int(len(picked) * REPLAYED_POLLS / max(total, 1))))
    if len(picked) > most:
        picked = [picked[i] for i in np.linspace(0, len(picked) - 1, most).astype(int)]
    if not picked:
        return {}
    rng = np.random.default_rng(seed)
    observed, predicted = [], []
    # without the client's own times, the usual gap after an error answer stands for
    # the round trip of a job with errors (a client that polls at once into them is
    # slowed by nothing else)
    after = [
        tr.sent[1:][~np.isin(tr.http[:-1], OK)] - tr.received[:-1][~np.isin(tr.http[:-1], OK)]
        for tr in picked
    ]
    gaps = np.concatenate(after) if after else np.zeros(0)
    floor = max(float(np.median(gaps[gaps > 0])), 1e-3) if np.any(gaps > 0) else 1e-3
    for tr in picked:
        answer = _as_answered(tr)
        horizon = float(tr.elapsed(tr.received)[-1]) * 2 + 3600
        rtt = float(np.median(tr.received - tr.sent))  # its own round trip
        if rtt <= 0 and not np.all(np.isin(tr.http, OK)):
            rtt = floor
        try:
            polls = _replayed_polls(strategy, answer, rng, horizon, rtt)
        except LimitError:  # polls at once into errors with no round trip to slow it
            return {}
        predicted.append(polls)
        observed.append(tr.polls)
    o, p = float(np.mean(observed)), float(np.mean(predicted))
    # the figures compared are of the jobs replayed; "observed_all": of every ended watch
    every = float(np.mean([tr.polls for tr in ended]))
    return {
        "jobs": len(picked),
        "of": len(ended),
        "observed": o,
        "predicted": p,
        "error": (p - o) / o,
        "observed_all": every,
    }


def _as_answered(tr: Trace):
    """The job's answers as a function of time since the watch started."""
    from sim.status_server import Response

    at = tr.elapsed((tr.sent + tr.received) / 2)
    change = np.concatenate([[-math.inf], (at[:-1] + at[1:]) / 2])
    answers = [
        Response(
            int(h) or None,
            s if s is not None else ("running" if h in OK else None),
            None,
            None if math.isnan(ra) else float(ra),
        )
        for h, s, ra in zip(tr.http.tolist(), tr.state, tr.retry_after.tolist(), strict=True)
    ]

    def answer(t: float) -> Response:
        return answers[int(np.searchsorted(change, t, side="right")) - 1]

    return answer


def _replayed_polls(strategy: Strategy, answer, rng, horizon: float, rtt: float) -> int:
    """Requests the strategy makes against the scripted answers: the simulator's own
    ``sim.pollers.replay`` where it has one, else the strategy's decisions in a loop."""
    try:
        from sim.pollers import replay
    except ImportError:
        replay = None
    if replay is not None:
        return replay(strategy, answer, rng, rtt=rtt, horizon=horizon).record.polls
    from sim.strategies import PollState

    state, now, polls, prev = PollState(), 0.0, 0, None
    while now < horizon:
        delay = strategy.next_delay(state, rng)
        if delay is None:
            break
        now += delay + rtt / 2
        polls += 1
        resp = answer(now)
        now += rtt / 2
        if resp.status == "succeeded":
            break
        state = PollState(polls, round(now, 9), resp.status, 200, None, None, delay)
        prev = delay
    del prev
    return polls
