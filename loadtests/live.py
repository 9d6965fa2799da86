"""A live client of the mock server: the client logic of the simulated pollers
(``sim.pollers.watch``, the very same generator), driven by real sleeps and real HTTP.
No Locust here: a Locust user (and anything else) hands in its own ``http`` and
``sleep``.

Every dialect is read from its object (``sim.dialects``): where to submit and poll, how
to find the new job in a submission's answer (a body, or azure's Operation-Location
header), how to read a status document back to a canonical state. Nothing here knows
one dialect from another.

Times inside the client logic are simulated seconds: a strategy's 3 s is 3 / speed wall
seconds against a server at ``speed``, and a Retry-After of 1 wall second is ``speed``
simulated ones, so that a live run and the model can be put side by side.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from sim.dialects import ORDO, Dialect, Kind
from sim.pollers import ASK, PollRecord, watch
from sim.status_server import Response as Answer
from sim.strategies import Strategy
from sim.timelines import Timeline

#: (status, headers by lower-case names: "etag", "retry-after", and those a dialect
#: names its new jobs by, such as "operation-location"; body)
Http = Callable[[str, str, bytes | None, dict], tuple[int | None, dict, bytes]]

#: a job id a path may carry as it is: what a dialect shows (digits, UUIDs, ...)
_SHOWN_ID = re.compile(r"[A-Za-z0-9._~-]{1,128}")
#: Timeline ids of jobs whose server id this side cannot tell (none clashes with one)
_UNKNOWN_IDS = itertools.count(-1, -1)


def needs_project(dialect: Dialect) -> bool:
    """Whether the dialect's paths name a project (google's: the tenant's name)."""
    return any("{project}" in route.path for route in dialect.routes)


def request_names(dialect: Dialect, project: str = "") -> tuple[str, str]:
    """What submissions and polls are counted under (Locust's request names): the
    submit path, and the status path with ``[id]`` for any job's id."""
    return dialect.path(Kind.SUBMIT, project=project), dialect.path(Kind.STATUS, "[id]", project)


class Rejected(RuntimeError):
    """A submission the server did not take (or no answer to it)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  #: wall seconds the server asked for, if any


def backoff(rejections: int, retry_after: float | None, rng: np.random.Generator) -> float:
    """Wall seconds to wait after the ``rejections``-th submission in a row was turned
    down: a second, doubling to 30, jittered so that users do not come back together;
    at least the Retry-After the server sent."""
    wait = min(30.0, 2.0 ** min(rejections - 1, 5)) * rng.uniform(0.5, 1.0)
    return max(wait, min(retry_after or 0.0, 300.0))


@dataclass
class Outcome:
    """One job as a live client lived it."""

    record: PollRecord  #: what the client logic counted (times in simulated seconds)
    job_id: str  #: the server's id, as its ground truth names the job (else as shown)
    finished_at: str | None  #: the end the server reported (scaled clock, ISO 8601)
    latency: float | None  #: detection latency, simulated seconds, from finished_at
    shown_id: str = ""  #: the id the dialect showed and the client polled


class ScaledNow:
    """The server's scaled clock, as a client sees it from its own wall clock: what
    ``GET /healthz`` says of the server's speed and epoch."""

    def __init__(self, speed: float, epoch: str, wall: Callable[[], float] = time.time) -> None:
        self.speed = speed
        self.epoch = datetime.fromisoformat(epoch).timestamp()
        self.wall = wall

    def now(self) -> float:
        """Simulated seconds since the server started."""
        return (self.wall() - self.epoch) * self.speed

    def of(self, iso: str) -> float:
        """Simulated seconds since the server started, of a timestamp it reported."""
        return datetime.fromisoformat(iso).timestamp() - self.epoch


def poll_one(
    http: Http,
    sleep: Callable[[float], None],
    clock: ScaledNow,
    strategy: Strategy,
    rng: np.random.Generator,
    dialect: Dialect = ORDO,
    client: str = "live",
    submit: dict | None = None,
    etag: bool = True,
    job_id: str | None = None,
    project: str = "",
    seed: int = 1,
) -> Outcome:
    """Submit a job (or adopt ``job_id``, one already there, as the dialect shows it) and
    watch it per ``strategy`` until it shows an end or the strategy gives up. Sends
    ``X-Client-Id``; with ``etag``, ``If-None-Match`` (a 304 repeats the state last
    seen). ``project`` fills a dialect's ``{project}`` (the tenant's name); ``seed`` is
    the server's scenario's, from which a dialect's shown ids derive."""
    shown = job_id if job_id is not None else _submit(http, dialect, project, submit)
    server_id = dialect.read_id(shown, seed)
    tl_id = server_id if server_id is not None else next(_UNKNOWN_IDS)
    tl = Timeline(tl_id, "live", clock.now(), math.inf, math.inf, "unknown")
    core = watch(tl, strategy, strategy.label, 0.0, clock.now(), math.inf, rng)
    tag, last, finished = None, None, None
    memo: list = [None, None]
    path = dialect.path(Kind.STATUS, shown, project)
    try:
        command, arg = next(core)
        while True:
            if command is not ASK:
                sleep(arg / clock.speed)
                command, arg = core.send(clock.now())
                continue
            headers = {"X-Client-Id": client}
            if etag and tag:
                headers["If-None-Match"] = tag
            code, got, body = http("GET", path, None, headers)
            answer, shown_end = _answer(dialect, code, got, body, last, clock.speed, memo)
            if code == 200 and answer.status is not None:
                tag, last = got.get("etag"), answer.status
                finished = shown_end or finished
            command, arg = core.send((answer, clock.now()))
    except StopIteration as done:
        record = done.value
    latency = None
    if record.seen_state is not None and finished is not None:
        latency = record.t_seen - clock.of(finished)
    named = str(server_id) if server_id is not None else shown
    return Outcome(record, named, finished, latency, shown)


def _submit(http: Http, dialect: Dialect, project: str, submit: dict | None) -> str:
    """Submit a job; the id the dialect shows it by. Any 2xx is a submission taken (201,
    202, 200, as the dialect answers); anything else, or an answer that names no job,
    raises Rejected."""
    path = dialect.path(Kind.SUBMIT, project=project)
    status, got, body = http("POST", path, json.dumps(submit or {}).encode(), {})
    if status is None or not 200 <= status < 300:
        wait = _retry_after(got.get("retry-after"))
        raise Rejected(f"POST {path}: HTTP {status}: {body[:200]!r}", wait)
    shown = _new_id(dialect, status, got, body)
    if shown is None:
        raise Rejected(f"POST {path}: HTTP {status} without a job id: {body[:200]!r}", None)
    return shown


def _new_id(dialect: Dialect, status: int, headers: dict, body: bytes) -> str | None:
    """The id of a job just submitted, as the dialect names it in its answer (body or
    headers); None where it names none a path can carry."""
    try:
        doc = json.loads(body) if body else None
    except (ValueError, RecursionError):
        doc = None
    try:
        found = dialect.new_job(status, headers, doc)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        return None
    return found if isinstance(found, str) and _SHOWN_ID.fullmatch(found) else None


def _answer(dialect, code, headers, body, last, speed, memo) -> tuple[Answer, str | None]:
    """What the client logic is told of an HTTP answer, and the end it showed if any.
    ``memo``: the last document read and what it said; the same bytes again (a server
    that sends the whole document whatever changed) say the same, unparsed."""
    wait = _retry_after(headers.get("retry-after"))
    ra = None if wait is None else wait * speed
    if code == 304:
        return Answer(304, last, None, ra), None
    if code != 200:
        return Answer(code, None, None, ra), None
    if body == memo[0]:
        status, progress, finished = memo[1]
    else:
        try:
            reading = dialect.read(json.loads(body))
            status, progress, finished = reading.state.value, reading.progress, reading.finished
        except (ValueError, LookupError, TypeError, AttributeError, RecursionError):
            return Answer(None, None, None, None), None  # malformed: as no answer
        memo[:] = body, (status, progress, finished)
    return Answer(200, status, progress, ra), finished


def error_kind(body: bytes | None, dialect: Dialect = ORDO) -> str:
    """The server's kind of error (``invalid``, ``rate_limited``, ...) in one of the
    dialect's error bodies (``Dialect.error_kind``), short and printable; empty where
    there is none."""
    try:
        kind = dialect.error_kind(json.loads(body or b""))
    except (ValueError, LookupError, TypeError, RecursionError):  # nested too deep too
        return ""
    return kind[:40] if kind.isprintable() else ""


MAX_RETRY_AFTER = 86400  #: wall seconds; a longer Retry-After is taken as none


def _retry_after(header: str | None) -> float | None:
    """A Retry-After's delay-seconds (wall), None where there is none or it is no number
    of seconds this side of a day (the HTTP-date form is not used by the mock server)."""
    if not header or not _ascii_digits(header) or len(header) > 6:
        return None
    wait = float(header)
    return wait if wait <= MAX_RETRY_AFTER else None


def _ascii_digits(text: str) -> bool:
    """Whether ``text`` is ASCII digits only (``"²".isdigit()`` is true, ``int("²")`` fails)."""
    return text.isascii() and text.isdigit()
