"""Simulated polling clients: one per job, from its submission (after an optional client
delay) until it sees a terminal state or gives up, against the status server model.

Each poller is a SimPy process; the timelines it reads were recorded by the lifecycle
run before, since no job depends on who polls it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import simpy

from sim import limits
from sim.distributions import Constant, Distribution
from sim.limits import LimitError
from sim.states import JOB_TERMINAL
from sim.status_server import NO_ANSWER, Response, StatusServer
from sim.strategies import PollState, Strategy, Wait
from sim.timelines import Timeline

_TERMINAL = {s.value for s in JOB_TERMINAL}
_OK = (200, 304)


class StuckPoller(LimitError):
    """A client that would poll one job more than ``limits.MAX_POLLS`` times: a loop
    that takes no simulated time, or waits far shorter than any real client's. The one
    guard of every way clients are simulated; ``label`` names the strategy (the only
    argument, so that SimPy's re-raise and a sweep's worker process rebuild it)."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label

    def __str__(self) -> str:
        return (
            f"strategy {self.label} would poll one job more than {limits.MAX_POLLS:,} times "
            "(a wait of 0 with no round trip polls in a loop that takes no time): give it "
            "a longer wait or a stop, or the clients a round trip (clients.rtt > 0)"
        )


class SpanError(LimitError):
    """Polls that would reach past ``limits.MAX_SPAN`` of simulated time, for which no
    per-second load is kept; ``what`` says whose."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what

    def __str__(self) -> str:
        return (
            f"{self.what} past {limits.MAX_SPAN / 86400:g} days of simulated time, the "
            "longest a run with clients may cover: shorten the steps, the drain or the waits"
        )


class TooManyPolls(LimitError):
    """A run whose clients would make more polls in all than ``limits.MAX_SLOW_POLLS``
    simulated one at a time (SimPy or the direct loop; ``fast`` False) or
    ``limits.MAX_FAST_POLLS`` on the fast path (``fast`` True): minutes become hours."""

    def __init__(self, fast: bool = False) -> None:
        super().__init__(fast)
        self.fast = fast

    def __str__(self) -> str:
        if self.fast:
            how = f"{limits.MAX_FAST_POLLS:,} polls"
        else:
            how = (
                f"{limits.MAX_SLOW_POLLS:,} polls simulated one by one (strategies that "
                "read the server's answers, or a server that gives feedback)"
            )
        return (
            f"the clients would make more than {how}: fewer jobs, a shorter horizon or longer waits"
        )


def poll_budget(fast: bool = False) -> list[int]:
    """The polls left to a run's one-by-one clients (or its fast path's), shared by them
    (a list, so that the hot loop pays one subtraction per poll)."""
    return [limits.MAX_FAST_POLLS if fast else limits.MAX_SLOW_POLLS]


def spend(budget: list[int] | None, polls: int, fast: bool) -> None:
    """Take ``polls`` from ``budget``; TooManyPolls once it is overdrawn."""
    if budget is not None:
        budget[0] -= polls
        if budget[0] < 0:
            raise TooManyPolls(fast)


@dataclass(frozen=True)
class ClientSpec:
    """The polling clients: a mix of strategies (each job's client drawn by weight), when
    they start after the job's submission, their network round trip and request timeout."""

    strategies: tuple[tuple[Strategy, float], ...]
    start_delay: Distribution = field(default_factory=lambda: Constant(0.0))
    #: seconds a request takes to reach the server and its answer to come back, in all
    rtt: float = 0.02
    request_timeout: float = 30.0  #: how long a client waits for an answer

    def __post_init__(self) -> None:
        if not self.strategies:
            raise ValueError("clients need at least one strategy")
        if any(not (w >= 0 and math.isfinite(w)) for _, w in self.strategies):
            raise ValueError("strategy weights must be >= 0")
        if sum(w for _, w in self.strategies) <= 0:
            raise ValueError("strategy weights add up to 0; expected some > 0")
        if not (self.rtt >= 0 and self.request_timeout > 0):
            raise ValueError("rtt must be >= 0 and request_timeout > 0")

    @property
    def labels(self) -> list[str]:
        return [s.label for s, _ in self.strategies]


class PollRecord(NamedTuple):
    """What one client did for one job."""

    job_id: int
    strategy: str
    watch_start: float
    t_seen: float  #: when it received the first response showing the end (nan if never)
    seen_state: str | None  #: the terminal state it saw
    polls: int
    wasted_polls: int  #: polls answering a state it had already seen
    gave_up: bool
    false_give_up: bool  #: it gave up on a job that later succeeded
    #: it stopped on an error answer (after its request-level retries), apart from give-ups
    errored: bool
    missed_states: str  #: states shown while it watched that it never saw, ";"-joined
    retry_after_violations: int
    errors: int  #: answers other than 200 (and no answers)


SLEEP, ASK = "sleep", "ask"


def watch(
    tl: Timeline,
    strategy: Strategy,
    label: str,
    half: float,
    start: float,
    stop_at: float,
    rng: np.random.Generator,
    budget: list[int] | None = None,
) -> Generator[tuple, object, PollRecord]:
    """One client's logic for one job, free of any clock. It yields ``(SLEEP, seconds)``,
    and is sent the time after the sleep, and ``(ASK, last status it was told)``, and is
    sent ``(answer, time)``; it returns its PollRecord. A SimPy process or a plain loop
    drives it (``poller``, ``direct``); ``budget`` holds the polls the run has left.

    A poll is one or more requests: a failed one is retried per ``strategy.retries``
    before the answer stands; every request counts in ``polls`` (the load), while the
    strategy's stop counts polls. An error that stands ends the watch as ``errored``
    where ``strategy.on_error`` says so. StuckPoller past ``limits.MAX_POLLS`` requests,
    TooManyPolls past the budget."""
    now = start
    last: str | None = None
    state = PollState()
    seen: set[str] = set()
    attempts = polls = wasted = violations = errors = 0
    not_before = -math.inf
    t_seen, seen_state, gave_up, errored = math.nan, None, False, False
    retrying = strategy.retries
    while True:
        delay = strategy.next_delay(state, rng)
        if delay is None:
            gave_up = True
            break
        if delay > 0:
            now = yield SLEEP, delay
        if now >= stop_at and not tl.ended:
            break  # the job never ends: stop watching at the end of the run
        if strategy.gives_up_on_waking(attempts, now - start):
            gave_up = True
            break
        first_request, tries, prev = now, 0, None
        while True:  # the requests of one poll
            if now < not_before:
                violations += 1
            if polls >= limits.MAX_POLLS:
                raise StuckPoller(label)
            if budget is not None:
                budget[0] -= 1
                if budget[0] < 0:
                    raise TooManyPolls()
            polls += 1
            if half:
                now = yield SLEEP, half
            resp, now = yield ASK, last
            if half and resp.http is not None:
                now = yield SLEEP, half
            if resp.retry_after is not None:
                not_before = now + resp.retry_after
            if resp.http in _OK:
                break
            errors += 1
            if retrying is None:
                break
            answer = PollState(attempts, 0.0, None, resp.http, resp.retry_after, None, prev)
            again = retrying.delay(tries, answer, round(now - first_request, 9), rng)
            if again is None:
                break
            tries, prev = tries + 1, again
            if again > 0:
                now = yield SLEEP, again
            if now >= stop_at and not tl.ended:
                break
        if resp.http not in _OK and now >= stop_at and not tl.ended:
            break
        attempts += 1
        if resp.http in _OK:
            if resp.status in seen:
                wasted += 1
            seen.add(resp.status)
            last = resp.status
            if resp.status in _TERMINAL:
                t_seen, seen_state = now, resp.status
                break
        elif strategy.stops_on(resp.http):
            errored = True
            break
        state = PollState(
            attempts,
            round(now - start, 9),  # so that 30 waits of 2 s make 60 s, not 59.99...
            resp.status if resp.http in _OK else None,
            resp.http,
            resp.retry_after,
            resp.progress,
            delay,
        )
    end = t_seen if seen_state else now
    return PollRecord(
        tl.job_id,
        label,
        start,
        t_seen,
        seen_state,
        polls,
        wasted,
        gave_up,
        gave_up and tl.final == "succeeded",
        errored,
        _missed(tl, start, end, seen),
        violations,
        errors,
    )


class Replay(NamedTuple):
    """One client's watch against a scripted server: when each request reached it, what
    the client counted, and when it stopped (saw the end, gave up or errored)."""

    times: list[float]
    record: PollRecord
    end: float


def replay(
    strategy: Strategy | Wait,
    answer: Callable[[float], Response],
    rng: np.random.Generator | None = None,
    rtt: float = 0.0,
    horizon: float = math.inf,
) -> Replay:
    """Watch one job per ``strategy`` from time 0, the server answering a request that
    reaches it at ``t`` with ``answer(t)``: how the preset behaves on a schedule of
    answers, to compare with a library's own poller on the same schedule (the
    conformance tests). ``horizon``: stop watching a job that never ends then."""
    tl = Timeline(0, "replay", 0.0, math.inf, math.inf, "unknown")
    if not isinstance(strategy, Strategy):  # a bare wait, such as fixed(5)
        strategy = Strategy(strategy)
    rng = rng if rng is not None else np.random.default_rng(0)
    core = watch(tl, strategy, strategy.label, rtt / 2, 0.0, horizon, rng)
    times: list[float] = []
    now = 0.0
    try:
        command, arg = next(core)
        while True:
            if command is SLEEP:
                now += arg
                command, arg = core.send(now)
            else:
                times.append(now)
                command, arg = core.send((answer(now), now))
    except StopIteration as done:
        record = done.value
    return Replay(times, record, now)


def poller(
    env: simpy.Environment,
    tl: Timeline,
    strategy: Strategy,
    label: str,
    server: StatusServer,
    clients: ClientSpec,
    start: float,
    stop_at: float,
    rng: np.random.Generator,
    out: list[PollRecord],
    budget: list[int] | None = None,
) -> Generator[simpy.Event, object, None]:
    """Drive ``watch`` in SimPy against the server model; append its PollRecord to ``out``."""
    if start > env.now:
        yield env.timeout(start - env.now)
    direct_answers = not (server.spec.needs_feedback or strategy.long_poll)
    core = watch(tl, strategy, label, clients.rtt / 2, env.now, stop_at, rng, budget)
    try:
        command, arg = next(core)
        while True:
            if command is SLEEP:
                yield env.timeout(arg)
                command, arg = core.send(env.now)
            else:
                if direct_answers:
                    resp = server.answer_now(tl)
                else:
                    resp = yield from _ask(
                        env, server, tl, clients.request_timeout, strategy.long_poll, arg
                    )
                command, arg = core.send((resp, env.now))
    except StopIteration as done:
        out.append(done.value)


def direct(
    tl: Timeline,
    strategy: Strategy,
    label: str,
    clients: ClientSpec,
    start: float,
    stop_at: float,
    rng: np.random.Generator,
    log: list,
    budget: list[int] | None = None,
) -> PollRecord:
    """Drive ``watch`` in a plain loop, for a server that gives no feedback: the clients
    cannot affect each other, so each one's polls follow from its job's timeline alone.
    Long-polls are held until the state shown changes, as the server model does."""
    core = watch(tl, strategy, label, clients.rtt / 2, start, stop_at, rng, budget)
    wait, timeout = strategy.long_poll, clients.request_timeout
    now = start
    try:
        command, arg = next(core)
        while True:
            if command is SLEEP:
                now += arg
                command, arg = core.send(now)
                continue
            arrived = now
            hold = tl.long_poll_hold(now, wait, arg)
            if hold > timeout:
                log.append((arrived, tl.job_id, 200, now + hold))
                now += timeout
                command, arg = core.send((NO_ANSWER, now))
                continue
            if hold > 0:
                now += hold
            k = tl.index_at(now)
            log.append((arrived, tl.job_id, 200, now))
            resp = Response(200, tl.states[k], tl.progress[k], None)
            command, arg = core.send((resp, now))
    except StopIteration as done:
        return done.value


def _ask(
    env: simpy.Environment,
    server: StatusServer,
    tl: Timeline,
    timeout: float,
    long_poll: float | None = None,
    known: str | None = None,
) -> Generator[simpy.Event, object, Response]:
    """A request that may take time: the answer, or no answer after the client's timeout."""
    if not (server.may_delay or long_poll):
        resp = yield from server.handle(tl)
        if resp.http is None:
            yield env.timeout(timeout)
        return resp
    if server.workers is None and not server.timed and not long_poll:
        # only a stall can delay the answer, and when it ends is known: no race needed
        outage = server.spec.outage_at(env.now)
        if outage is not None and outage.start + outage.duration - env.now > timeout:
            # the server answers when it recovers, but this client has gone by then
            server.log.append((env.now, tl.job_id, 200, outage.start + outage.duration))
            yield env.timeout(timeout)
            return NO_ANSWER
        resp = yield from server.handle(tl)
        return resp
    answer = env.process(server.handle(tl, long_poll, known))
    limit = env.timeout(timeout)
    yield answer | limit
    if answer.triggered and answer.value.http is not None:
        return answer.value
    if not limit.triggered:
        yield limit
    return NO_ANSWER


def _missed(tl: Timeline, start: float, end: float, seen: set[str]) -> str:
    """Non-terminal states the API showed while the client watched that it never saw."""
    first = tl.index_at(start)
    shown = {s for t, s in zip(tl.times[first:], tl.states[first:], strict=True) if t <= end}
    return ";".join(sorted(shown - seen - _TERMINAL))
