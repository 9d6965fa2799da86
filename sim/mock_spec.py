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

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sim import _reader as r
from sim._reader import Reader, ScenarioError
from sim.distributions import Distribution
from sim.durations import parse_rate
from sim.limits import MAX_COUNT
from sim.sections import duration, rate, read_distribution

ERROR_CODES = (500, 502, 503, 504)
MAX_KEEPALIVE = 3600.0  #: seconds, the longest keepalive_timeout
#: tenant names the server keeps for its roles: the admin token, requests without a token,
#: the scenario's own arrivals
RESERVED_TENANTS = ("admin", "anonymous", "background")
#: a tenant's name is a path segment where a dialect's paths name the tenant (a
#: ``{project}``), and shows in documents' links and names: it must stand in a URL as it
#: is. RFC 3986's unreserved characters (but ``~``, which some servers still encode), not
#: starting with ``.`` (``.`` and ``..`` are dot-segments clients and proxies remove), at
#: most 63 (a DNS label's length, as cloud projects' ids keep within)
TENANT_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,62}")
TENANT_RULE = "1 to 63 ASCII letters, digits, '-', '_' or '.', not starting with '.'"


def tenant_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a tenant's name, as a phrase (``a reserved name
    (...)``, ``not a URL path segment: expected ...``); None when nothing is."""
    if name.lower() in RESERVED_TENANTS:
        return f"a reserved name ({', '.join(RESERVED_TENANTS)})"
    if not TENANT_NAME.fullmatch(name):
        return f"not usable as a URL path segment; expected {TENANT_RULE}"
    return None


def shown_tenant(name: str) -> str:
    """``name`` quoted for a message, cut short (a refused name may be very long)."""
    return repr(name) if len(name) <= 40 else f"{name[:40]!r}... ({len(name)} characters)"


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
    keepalive_timeout: float = 15.0  #: an idle connection is closed after it, seconds
    #: long-polls held at once, below max_concurrency (None: half of it); beyond: 429
    long_polls_max: int | None = None
    long_polls_per_client: int = 50  #: long-polls one client holds at once; beyond: 429
    request_log: str | None = None  #: a JSON-lines file of every request
    request_log_max: int = 100_000_000  #: bytes; entries past it are dropped and counted
    #: requests the in-memory journal (GET /_admin/requests) holds; the oldest go first
    request_journal_max: int = 100_000
    truth_out: str | None = None  #: where the ground truth is written when the server stops
    start_in: float = 0.0  #: wall seconds before the scaled clock starts (clients get ready)
    max_jobs: int = 100_000  #: jobs held in all; past it a submission is answered 429
    max_jobs_per_tenant: int = 50_000  #: jobs held per tenant; past it, 429
    max_scripted_retries: int = 1000  #: transient failures one submission may script
    #: transient failures scripted by all the jobs held: each one is played out and kept
    #: (about 0.7 KB), so a flood of jobs scripting many takes memory and the event loop
    max_scripted_retries_total: int = 100_000
    max_clients: int = 100_000  #: client ids tracked (ground truth, rate-limit buckets)
    faults: FaultSpec = field(default_factory=FaultSpec)


def read_serve(t: Reader) -> MockSpec:
    """``[serve]``."""
    tokens = t.table("tokens")
    token_map = {}
    for tenant in list(tokens.data):
        problem = tenant_problem(tenant)
        if problem is not None:
            key = tenant if len(tenant) <= 40 else shown_tenant(tenant)
            raise tokens.error(key, problem)
        token = tokens.get(tenant, r.text)
        if token in token_map:
            other = token_map[token]
            raise tokens.error(tenant, f"the same token as tenant {other!r}; one tenant a token")
        token_map[token] = tenant
    tokens.done()
    hint = t.get("retry_after_hint", duration, None)
    spec = MockSpec(
        speed=t.get("speed", _speed, 60.0),
        background=t.get("background", r.boolean, False),
        etag=t.get("etag", r.boolean, True),
        retry_after_hint=hint,
        long_poll_max=t.get("long_poll_max", duration, 60.0),
        anonymous_generic=t.get("anonymous_generic", r.boolean, True),
        tokens=token_map,
        admin_token=t.get("admin_token", r.text, None),
        request_deadline=t.get("request_deadline", _positive_duration, 10.0),
        max_concurrency=t.get("max_concurrency", r.integer(1), 1000),
        keepalive_timeout=t.get("keepalive_timeout", _keepalive, 15.0),
        long_polls_max=t.get("long_polls_max", r.integer(1), None),
        long_polls_per_client=t.get("long_polls_per_client", r.integer(1), 50),
        request_log=t.get("request_log", r.text, None),
        request_log_max=t.get("request_log_max", r.integer(0), 100_000_000),
        request_journal_max=t.get("request_journal_max", _count, 100_000),
        truth_out=t.get("truth_out", r.text, None),
        start_in=t.get("start_in", duration, 0.0),
        max_jobs=t.get("max_jobs", _count, 100_000),
        max_jobs_per_tenant=t.get("max_jobs_per_tenant", _count, 50_000),
        max_scripted_retries=t.get("max_scripted_retries", _count0, 1000),
        max_scripted_retries_total=t.get("max_scripted_retries_total", _count0, 100_000),
        max_clients=t.get("max_clients", _count, 100_000),
    )
    t.done()
    if spec.long_polls_max is not None and spec.long_polls_max >= spec.max_concurrency:
        raise t.error(
            "long_polls_max",
            f"{spec.long_polls_max} is not below max_concurrency ({spec.max_concurrency}): "
            "long-polls would leave no room for other requests",
        )
    return spec


def read_faults(t: Reader) -> FaultSpec:
    """``[faults]``."""
    errors_t = t.table("errors")
    errors = {}
    for key in list(errors_t.data):
        if key not in map(str, ERROR_CODES):
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
        rate_limit=(limit.get("rate", _limit_rate), limit.get("burst", _burst, 1))
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


#: simulated seconds per wall second at most: past it a wall millisecond is more than
#: a simulated quarter hour, and at 1e308 the clock overflows
MAX_SPEED = 1_000_000
MAX_HELD = 100_000_000  #: the largest cap of jobs or client ids held a key takes


def whole(low: int, high: int) -> Callable[[object], int]:
    """A whole number from ``low`` to ``high``."""

    def parse(raw: object) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
            raise r.Expected(f"a whole number from {low} to {high:,}")
        return raw

    return parse


_count, _count0, _burst = whole(1, MAX_HELD), whole(0, MAX_HELD), whole(1, MAX_COUNT)


def _limit_rate(raw: object) -> float:
    """Requests per second a client may make: above zero (a zero rate never refills)."""
    value = rate(raw)
    if value <= 0:
        raise r.Expected('a rate above 0, e.g. 5 or "300/m"')
    return value


def _speed(raw: object) -> float:
    value = r.number(0.0)(raw)
    if not 0 < value <= MAX_SPEED:
        raise r.Expected(f"a number > 0 and at most {MAX_SPEED:,}")
    return value


def _keepalive(raw: object) -> float:
    value = duration(raw)
    if not 0 < value <= MAX_KEEPALIVE:
        raise r.Expected(f"a duration > 0 and at most {MAX_KEEPALIVE:g} s")
    return value


def _positive_duration(raw: object) -> float:
    value = duration(raw)
    if value <= 0:
        raise r.Expected("a duration > 0")
    return value


def _byte_rate(raw: object) -> float:
    try:
        value = parse_rate(raw)
    except (ValueError, OverflowError):
        raise r.Expected('bytes per second, e.g. 200 or "200/s"') from None
    if value < 1:  # slower holds a connection for days over one answer
        raise r.Expected("bytes per second, at least 1")
    return value
