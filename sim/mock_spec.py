"""What a scenario asks of the mock server: ``[serve]`` (how it behaves) and ``[faults]``
(what it gets wrong on purpose). Plain validated values: ``sim`` does no I/O; the
``mock_server`` package acts on them.

Times here are wall seconds, what a client's socket sees (latency, deadlines, rates),
except where a key says otherwise; outage windows live in ``[server]``, on the
scenario's simulated clock.

>>> f = read_faults(Reader({"errors": {"503": 0.1}, "reset": 0.05}, "<doc>", "faults"))
>>> f.errors, f.reset, f.total
({503: 0.1}, 0.05, 0.15000000000000002)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim import _reader as r
from sim._reader import Reader, ScenarioError
from sim.distributions import Distribution
from sim.durations import parse_rate
from sim.sections import duration, rate, read_distribution

ERROR_CODES = (500, 502, 503, 504)


@dataclass(frozen=True)
class FaultSpec:
    """Injected faults, each a probability per status request (``errors`` per HTTP
    status); at most one of them per request, so their sum is at most 1. ``latency``
    delays a share ``latency_probability`` of all answers; ``rate_limit`` (requests per
    second, burst) answers 429 with Retry-After to a client past its token bucket."""

    errors: dict[int, float] = field(default_factory=dict)
    reset: float = 0.0  #: the connection is reset instead of an answer
    empty: float = 0.0  #: the connection closes without a byte of answer
    malformed: float = 0.0  #: 200 with a body that is not JSON
    dribble: float = 0.0  #: the answer's body trickles out
    dribble_rate: float = 200.0  #: bytes per second, when dribbling
    latency: Distribution | None = None
    latency_probability: float = 1.0
    rate_limit: tuple[float, int] | None = None

    @property
    def total(self) -> float:
        """The chance that a status request gets one of the exclusive faults."""
        return sum(self.errors.values()) + self.reset + self.empty + self.malformed + self.dribble


@dataclass(frozen=True)
class MockSpec:
    """How ``pollsim serve`` behaves; the command line overrides the keys it names."""

    speed: float = 60.0  #: simulated seconds per wall second
    background: bool = False  #: the scenario's arrivals submit jobs too
    etag: bool = True  #: ETag on status answers, 304 on a matching If-None-Match
    retry_after_hint: float | None = None  #: Retry-After on 200 answers too, seconds
    long_poll_max: float = 60.0  #: the longest ``?wait=``, seconds
    anonymous_generic: bool = True  #: the generic dialect answers without a token
    tokens: dict[str, str] = field(default_factory=dict)  #: token -> tenant
    admin_token: str | None = None
    request_deadline: float = 10.0  #: to receive a whole request, seconds
    max_concurrency: int = 1000  #: requests in progress; beyond: 503 with Retry-After
    request_log: str | None = None  #: a JSON-lines file of every request
    request_log_max: int = 100_000_000  #: bytes; entries past it are dropped and counted
    start_in: float = 0.0  #: wall seconds before the scaled clock starts (clients get ready)
    faults: FaultSpec = field(default_factory=FaultSpec)


def read_serve(t: Reader) -> MockSpec:
    """``[serve]``."""
    tokens = t.table("tokens")
    token_map = {}
    for tenant in list(tokens.data):
        token_map[tokens.get(tenant, r.text)] = tenant
    tokens.done()
    hint = t.get("retry_after_hint", duration, None)
    spec = MockSpec(
        speed=t.get("speed", _positive, 60.0),
        background=t.get("background", r.boolean, False),
        etag=t.get("etag", r.boolean, True),
        retry_after_hint=hint,
        long_poll_max=t.get("long_poll_max", duration, 60.0),
        anonymous_generic=t.get("anonymous_generic", r.boolean, True),
        tokens=token_map,
        admin_token=t.get("admin_token", r.text, None),
        request_deadline=t.get("request_deadline", _positive_duration, 10.0),
        max_concurrency=t.get("max_concurrency", r.integer(1), 1000),
        request_log=t.get("request_log", r.text, None),
        request_log_max=t.get("request_log_max", r.integer(0), 100_000_000),
        start_in=t.get("start_in", duration, 0.0),
    )
    t.done()
    return spec


def read_faults(t: Reader) -> FaultSpec:
    """``[faults]``."""
    errors_t = t.table("errors")
    errors = {}
    for key in list(errors_t.data):
        if not key.isdigit() or int(key) not in ERROR_CODES:
            codes = ", ".join(map(str, ERROR_CODES))
            raise errors_t.error(key, f"is not a status the server injects; expected {codes}")
        errors[int(key)] = errors_t.get(key, r.probability)
    errors_t.done()
    dribble = t.table("dribble")
    limit = t.table("rate_limit")
    spec = FaultSpec(
        errors=errors,
        reset=t.get("reset", r.probability, 0.0),
        empty=t.get("empty", r.probability, 0.0),
        malformed=t.get("malformed", r.probability, 0.0),
        dribble=dribble.get("probability", r.probability, 0.0),
        dribble_rate=dribble.get("rate", _byte_rate, 200.0),
        latency=read_distribution(t, "latency", None),
        latency_probability=t.get("latency_probability", r.probability, 1.0),
        rate_limit=(limit.get("rate", rate), limit.get("burst", r.integer(1), 1))
        if limit.data
        else None,
    )
    dribble.done()
    limit.done()
    t.done()
    if spec.total > 1:
        raise ScenarioError(
            t.source, t.prefix, f"the faults' probabilities add up to {spec.total:g}; at most 1"
        )
    return spec


def _positive(raw: object) -> float:
    value = r.number(0.0)(raw)
    if value <= 0:
        raise r.Expected("a number > 0")
    return value


def _positive_duration(raw: object) -> float:
    value = duration(raw)
    if value <= 0:
        raise r.Expected("a duration > 0")
    return value


def _byte_rate(raw: object) -> float:
    try:
        value = parse_rate(raw)
    except ValueError:
        raise r.Expected('bytes per second, e.g. 200 or "200/s"') from None
    if value <= 0:
        raise r.Expected("bytes per second > 0")
    return value
