"""What a status request meets when the scenario injects trouble: an outage (a 503 with
Retry-After, no answer at all, or a stall until it ends), a fault drawn for the request
(an error status, a reset or empty connection, a body cut short), the rate limit's 429
or the long-polls' caps' 429; each recorded in the ground truth against the job asked
about, so that a client ignoring the Retry-After it was sent is graded for it. Errors are made in
pollsim's shape; the core answers them in the dialect's (``responses.in_dialect``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.faults import Decision
from mock_server.jobs import JobRecord
from mock_server.responses import Delay, Hold, Request, Response, error, in_dialect
from sim.dialects import Dialect

if TYPE_CHECKING:
    from mock_server.core import Core


def outage(
    core: Core, now: float, client: str, rec: JobRecord, decision: Decision
) -> Response | Delay | None:
    """The outage in force at ``now``, as a status request meets it; None if none is."""
    down = core.faults.outage(now)
    if down is None:
        return None
    speed = core.model.clock.speed
    if down.mode == "stall":  # held until it recovers, then answered
        wait = (down.start + down.duration - now) / speed + 0.001
        return Delay(wait, decision, abandoned=(now, client, rec.id))
    if down.mode == "no_answer":
        core.truth.status_request(now, client, rec.id, None, 0, None, "outage_no_answer")
        return Response(0, transport="hang")
    header, asked = core.retry_after(core.model.scenario.server.retry_after / speed)
    core.truth.status_request(now, client, rec.id, None, 503, asked, "outage_503")
    return error(503, "unavailable", "the status API is down", **{"Retry-After": header})


def fault(
    core: Core, now: float, client: str, rec: JobRecord, dialect: Dialect, decision: Decision
) -> Response | None:
    """The fault drawn for a status request (``decision``); None for none, or for a
    dribble, which the front carries out on the status answer itself."""
    kind = decision.kind
    if kind is None or kind == "dribble":
        return None
    if kind in ("reset", "empty"):
        core.truth.status_request(now, client, rec.id, None, 0, None, kind)
        return Response(0, transport=kind)
    if kind == "malformed":  # the dialect's own document, cut off halfway: never JSON
        core.truth.status_request(now, client, rec.id, None, 200, None, kind)
        body = core.document(rec, dialect)[0]
        return Response(200, body[: len(body) // 2], {"Content-Type": "application/json"})
    code = int(kind)
    core.truth.status_request(now, client, rec.id, None, code, None, kind)
    return error(code, "injected", f"an injected {code} (a fault the scenario asked for)")


def abandoned(core: Core, delay: Delay) -> None:
    """A stalled request whose client hung up before the stall ended: recorded as it
    arrived, a request that got no answer (what the client saw), as no_answer outages are."""
    now, client, job_id = delay.abandoned  # type: ignore[misc]
    core.truth.status_request(now, client, job_id, None, 0, None, "outage_stall")


def rate_limited(core: Core, client: str, rec: JobRecord | None, wait: float) -> Response:
    """The 429 of a request over the client's rate, asking it to wait ``wait`` wall
    seconds; recorded against ``rec`` where it was a status request for a job."""
    header, asked = core.retry_after(wait)
    if rec is not None:
        now = core.model.advance()
        core.truth.status_request(now, client, rec.id, None, 429, asked, "rate_limit")
    return error(
        429, "rate_limited", "too many requests from this client", **{"Retry-After": header}
    )


def long_poll_refused(core: Core, req: Request, hold: Hold, refused: Response) -> Response:
    """A long-poll the caps refused (``Admission.hold``'s 429 with Retry-After): a status
    request of its job, recorded as the rate limit's are (an error, and the wait it
    asked), counted for its dialect and answered in the dialect's shape."""
    now = core.model.advance()
    header = refused.headers.get("Retry-After", "")
    asked = int(header) * core.model.clock.speed if header.isdigit() else None
    core.truth.status_request(now, core.client(req), hold.job_id, None, 429, asked)
    core.truth.count(hold.dialect.name, refused.status)
    return in_dialect(refused, hold.dialect)
