"""A live client of the mock server: the client logic of the simulated pollers
(``sim.pollers.watch``, the very same generator), driven by real sleeps and real HTTP.
No Locust here: a Locust user (and anything else) hands in its own ``http`` and
``sleep``.

Times inside the client logic are simulated seconds: a strategy's 3 s is 3 / speed wall
seconds against a server at ``speed``, and a Retry-After of 1 wall second is ``speed``
simulated ones, so that a live run and the model can be put side by side.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import numpy as np

from sim.dialects import DIALECTS
from sim.pollers import ASK, PollRecord, watch
from sim.states import JobState
from sim.status_server import Response as Answer
from sim.strategies import Strategy
from sim.timelines import Timeline

BASES = {"ordo": "/ordo/jobs", "fiddler": "/fiddler/tasks", "workflow": "/workflow/jobs"}
BASES["generic"] = "/status"

#: (status, headers: at least "etag" and "retry-after", by those names; body)
Http = Callable[[str, str, bytes | None, dict], tuple[int | None, dict, bytes]]


@cache
def canonical_words(dialect: str) -> dict[str, str]:
    """Each word of a dialect -> the first canonical job state it stands for (``ordo``'s
    running stands for running and retry_wait: a live client cannot tell them apart)."""
    words: dict[str, str] = {}
    for state in JobState:
        word = DIALECTS[dialect].jobs[state]
        if word is not None:
            words.setdefault(word, state.value)
    return words


def read_status(dialect: str, doc: dict) -> tuple[str, float | None, str | None]:
    """The canonical state, progress in [0, 1] (None where not shown) and ``finished_at``
    of a status document."""
    if dialect == "ordo":
        word, progress = doc["job"]["status"], doc["progress"]["percentage"] / 100
        finished = doc["job"]["finished_at"]
    elif dialect == "fiddler":
        word, progress, finished = doc["status"], doc["progress"] / 100, doc["date_done"]
    elif dialect == "workflow":
        tasks = doc["tasks"]
        done = sum(t["state"] not in ("Pending", "Started") for t in tasks)
        word, progress, finished = doc["state"], done / max(1, len(tasks)), doc["finished"]
    else:
        word, progress, finished = doc["status"], None, None
    return canonical_words(dialect)[word], progress, finished


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
    job_id: str
    finished_at: str | None  #: the end the server reported (scaled clock, ISO 8601)
    latency: float | None  #: detection latency, simulated seconds, from finished_at


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
    dialect: str = "ordo",
    client: str = "live",
    submit: dict | None = None,
    etag: bool = True,
    job_id: str | None = None,
) -> Outcome:
    """Submit a job (or adopt ``job_id``, one already there) and watch it per
    ``strategy`` until it shows an end or the strategy gives up. Sends ``X-Client-Id``;
    with ``etag``, ``If-None-Match`` (a 304 repeats the state last seen)."""
    base = BASES[dialect]
    if job_id is None:
        status, got, body = http("POST", base, json.dumps(submit or {}).encode(), {})
        if status not in (201, 202):
            wait = _retry_after(got.get("retry-after"))
            raise Rejected(f"POST {base}: HTTP {status}: {body[:200]!r}", wait)
        job_id = _new_id(body)
        if job_id is None:
            raise Rejected(f"POST {base}: HTTP {status} without a job id: {body[:200]!r}", None)
    tl = Timeline(int(job_id), "live", clock.now(), math.inf, math.inf, "unknown")
    core = watch(tl, strategy, strategy.label, 0.0, clock.now(), math.inf, rng)
    tag, last, finished = None, None, None
    memo: list = [None, None]
    path = f"{base}/{job_id}"
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
    return Outcome(record, job_id, finished, latency)


def _new_id(body: bytes) -> str | None:
    """The id of a job just submitted, from the server's answer (ASCII digits)."""
    try:
        doc = json.loads(body)
        found = doc.get("id") or doc.get("task_id") or doc["job"]["id"]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
    text = str(found)
    return text if _ascii_digits(text) else None


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
            status, progress, finished = read_status(dialect, json.loads(body))
        except (ValueError, KeyError, TypeError, RecursionError):  # malformed: as no answer
            return Answer(None, None, None, None), None
        memo[:] = body, (status, progress, finished)
    return Answer(200, status, progress, ra), finished


def error_kind(body: bytes | None) -> str:
    """The ``error`` of a JSON error body (the server's kind of error: ``invalid``,
    ``rate_limited``, ...), short and printable; empty where there is none."""
    try:
        kind = json.loads(body or b"").get("error")
    except (ValueError, AttributeError, RecursionError):  # nested too deep too
        return ""
    return kind[:40] if isinstance(kind, str) and kind.isprintable() else ""


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
