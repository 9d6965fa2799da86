"""The server without a transport: a parsed request in, a response out, from the model's
state. The HTTP front (``mock_server.app``) only moves bytes and waits; another front
could replace it without touching this.

>>> from sim import default_scenario
>>> from mock_server.clock import ScaledClock
>>> core = Core(LiveModel(default_scenario(), ScaledClock(60)), Config(tokens={"t1": "qa"}))
>>> r = core.handle(Request("POST", "/generic/../status", {}, {}, b"{}"))
>>> r.status, json.loads(r.body)["error"]
(404, 'not_found')
>>> r = core.handle(Request("POST", "/status", {}, {}, b'{"outcome": "succeed"}'))
>>> r.status, json.loads(r.body)["status"], r.headers["Location"]
(202, 'pending', '/status/1')
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from mock_server.access import ADMIN, ANONYMOUS, Access, bearer
from mock_server.bodies import json_object
from mock_server.faults import NONE, Decision, Faults, retry_after_header
from mock_server.jobs import JobRecord
from mock_server.metrics import CONTENT_TYPE as METRICS_TYPE
from mock_server.metrics import Metrics
from mock_server.model import LiveModel
from mock_server.render import render
from mock_server.responses import Delay, Hold, Request, Response, error, ok
from mock_server.truth import Truth
from sim.dialects import DIALECTS, Action
from sim.mock_spec import FaultSpec

__all__ = ["Config", "Core", "Delay", "Hold", "Request", "Response", "error", "json_object", "ok"]

#: where each dialect lives, and the actions its paths name
BASES = {
    "ordo": "ordo/jobs",
    "fiddler": "fiddler/tasks",
    "workflow": "workflow/jobs",
    "generic": "status",
}
ACTION_WORDS = {
    "ordo": {"cancel": Action.CANCEL},
    "fiddler": {"revoke": Action.CANCEL},
    "workflow": {"pause": Action.PAUSE, "resume": Action.RESUME, "cancel": Action.CANCEL},
    "generic": {"cancel": Action.CANCEL},
}
LIST_KEY = {"ordo": "jobs", "fiddler": "tasks", "workflow": "jobs", "generic": "jobs"}
SUBMIT_FIELDS = {"template", "outcome", "durations", "duration"}


@dataclass
class Config:
    """What a server run allows and does, beyond the scenario's model."""

    tokens: Mapping[str, str] = field(default_factory=dict)  #: bearer token -> tenant
    admin_token: str = ""
    anonymous_generic: bool = True  #: the generic dialect answers requests without a token
    etag: bool = True  #: ETag on status answers, 304 on a matching If-None-Match
    retry_after_hint: float | None = None  #: a Retry-After (s) on 200 answers too
    max_wait: float = 60.0  #: the longest long-poll, wall seconds
    max_body: int = 64 * 1024  #: bytes; a larger request body is answered 413
    page_max: int = 500  #: the most jobs a list returns at once
    max_jobs: int = 100_000  #: jobs held in all; past it a submission is answered 429
    max_jobs_per_tenant: int = 50_000  #: jobs held per tenant; past it, 429
    max_scripted_retries: int = 1000  #: the most transient failures a submission scripts
    max_scripted_retries_total: int = 100_000  #: ... and all the jobs held; past it, 429


class Core:
    """Routes requests to the model, renders the answers, records the ground truth."""

    def __init__(
        self,
        model: LiveModel,
        config: Config,
        faults: Faults | None = None,
        truth: Truth | None = None,
    ) -> None:
        self.model = model
        self.config = config
        self.faults = faults or Faults(FaultSpec(), np.random.default_rng(0))
        self.truth = truth or Truth()
        self.metrics = Metrics(self)
        self.access = Access(config.tokens, config.admin_token)

    # --- entry -------------------------------------------------------------------------

    def handle(
        self, req: Request, held: bool = False, decision: Decision | None = None
    ) -> Response | Hold | Delay:
        """The answer to ``req``; or a Hold (a long-poll) or a Delay (injected latency, a
        stalled outage), after which the front asks again, with ``held`` (answer now)
        and the ``decision`` already drawn for the request."""
        if not held and decision is None and req.method == "GET" and not req.query:
            fast = self._plain_status(req)
            if fast is not None:
                return fast
        if len(req.body) > self.config.max_body:
            return error(413, "too_large", f"request body over {self.config.max_body} bytes")
        parts = [p for p in req.path.split("/") if p]
        if ".." in parts or "." in parts:
            return error(404, "not_found", f"no such path: {req.path}")
        if parts in _PLAIN_GETS and req.method != "GET":
            return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET")
        if parts == ["healthz"]:
            clock = self.model.clock
            doc = {"status": "ok", "speed": clock.speed, "epoch": clock.iso(0.0)}
            return ok(200, {**doc, "now": self.model.advance()})
        if parts == ["metrics"]:
            return Response(200, self.metrics.render(), {"Content-Type": METRICS_TYPE})
        if parts == ["openapi.json"]:
            from mock_server.openapi import answer

            return answer(self)
        if parts[:1] == ["_admin"]:
            return self._admin(req, parts[1:])
        route = _route(parts)
        if route is None:
            return error(404, "not_found", f"no such path: {req.path}")
        dialect, rest = route
        resp = self._dialect(req, dialect, rest, held, decision)
        if isinstance(resp, Response):
            self.truth.count(dialect, resp.status)
        return resp

    @staticmethod
    def dialect_of(path: str) -> str:
        """The dialect a path's first segment names ("other" for the rest), for metrics."""
        hit = _FIRST.get(path.split("/", 2)[1] if path.count("/") else path)
        return hit[0] if hit else "other"

    def _dialect(self, req, dialect, rest, held, decision):
        tenant = self._tenant(req, dialect)
        if isinstance(tenant, Response):
            return tenant
        is_status = len(rest) == 1 and req.method == "GET"
        if decision is None and self.faults.spec.rate_limit is not None:
            limited = self.faults.limited(self._client(req), self.model.clock.wall())
            if limited is not None:
                return self._rate_limited(req, rest[0] if is_status else None, tenant, limited)
        if not rest:
            from mock_server.collection import listing, submit

            if req.method == "POST":
                return submit(self, req, dialect, tenant)
            if req.method == "GET":
                return listing(self, req, dialect, tenant)
            return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET, POST")
        rec = self._job(rest[0], tenant)
        if rec is None:
            return error(404, "not_found", f"no job {rest[0]}")
        if len(rest) == 1:
            if req.method != "GET":
                return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET")
            return self._status(req, dialect, rec, held, decision)
        if len(rest) == 2 and rest[1] in ACTION_WORDS[dialect]:
            if req.method != "POST":
                return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="POST")
            return self._act(dialect, rec, ACTION_WORDS[dialect][rest[1]])
        return error(404, "not_found", f"no such path: {req.path}")

    # --- access ------------------------------------------------------------------------

    def _tenant(self, req: Request, dialect: str) -> str | Response:
        header = req.headers.get("authorization")
        if header is None:
            if dialect == "generic" and self.config.anonymous_generic:
                return ANONYMOUS
            return error(401, "unauthorized", "missing Authorization: Bearer <token>")
        who = self.access.identity(header)
        if who is None:
            if bearer(header) is None:
                return error(401, "unauthorized", "expected Authorization: Bearer <token>")
            return error(401, "unauthorized", "unknown token")
        return who.tenant

    def _job(self, text: str, tenant: str) -> JobRecord | None:
        """The job if it exists and the tenant may see it (else the same 404 for both)."""
        if not _is_id(text):
            return None
        rec = self.model.records.get(int(text))
        if rec is None:  # the scenario's arrivals may have made it since the model last ran
            self.model.advance()
            rec = self.model.records.get(int(text))
        if rec is None or (tenant != ADMIN and rec.tenant != tenant):
            return None
        return rec

    def _client(self, req: Request) -> str:
        client = req.headers.get("x-client-id")
        if client:
            return client[:200]
        header = req.headers.get("authorization")
        who = self.access.identity(header) if header else None
        return who.name if who is not None else ANONYMOUS

    # --- jobs --------------------------------------------------------------------------

    def _status(self, req, dialect, rec: JobRecord, held: bool, decision: Decision | None):
        wait = query_number(req.query, "wait", 0.0, 0.0, self.config.max_wait)
        if isinstance(wait, Response):
            return wait
        if decision is None:
            decision = self.faults.draw()
            if decision.delay:
                return Delay(decision.delay, decision)
        now = self.model.advance()
        rec.catch_up(now)
        client = self._client(req)
        faulty = self._outage(now, client, rec, decision) or self._fault(now, client, rec, decision)
        if faulty is not None:
            return faulty
        if wait and not held and not rec.ended:
            return Hold(rec.id, dialect, self.document(rec, dialect)[1], wait, decision)
        return self._show(req, dialect, rec, now, client, decision)

    def _plain_status(self, req: Request) -> Response | None:
        """The common request, a job's status with nothing unusual about it or about the
        server (no query; no faults, outages, rate limit or Retry-After hint in force),
        answered without the general routing: what ``_status`` would answer. None hands
        the request to the general path (which also answers every refusal)."""
        if not self.faults.inert or self.config.retry_after_hint is not None:
            return None
        base, _, text = req.path.rpartition("/")
        dialect = _STATUS_BASES.get(base)
        if dialect is None or not _is_id(text) or req.body:
            return None
        tenant = self._tenant(req, dialect)
        if isinstance(tenant, Response):
            return None
        rec = self.model.records.get(int(text))
        if rec is None or (tenant != ADMIN and rec.tenant != tenant):
            return None
        now = self.model.advance()
        rec.catch_up(now)
        resp = self._show(req, dialect, rec, now, self._client(req), NONE)
        self.truth.count(dialect, resp.status)
        return resp

    def _show(self, req, dialect, rec: JobRecord, now: float, client: str, decision: Decision):
        """A job's status document, or 304 where the client has it (If-None-Match), with
        the request recorded in the ground truth."""
        body, etag = self.document(rec, dialect)
        headers = {"Cache-Control": "no-cache"}
        if self.config.etag:
            headers["ETag"] = etag
        hint = self.config.retry_after_hint
        sim_hint = None
        if hint is not None:
            headers["Retry-After"], sim_hint = self._retry_after(hint)
        dribble = decision.kind == "dribble"
        shown = rec.state._value_  # .value, without the enum descriptor's cost
        matches = req.headers.get("if-none-match")
        if matches and self.config.etag and _matches(matches, etag):
            self.truth.status_request(now, client, rec.id, shown, 304, sim_hint, decision.kind)
            return Response(304, b"", headers)
        self.truth.status_request(now, client, rec.id, shown, 200, sim_hint, decision.kind)
        return Response(
            200,
            body,
            {"Content-Type": "application/json", **headers},
            transport="dribble" if dribble else None,
            rate=self.faults.spec.dribble_rate if dribble else 0.0,
        )

    def _outage(self, now, client, rec, decision) -> Response | Delay | None:
        outage = self.faults.outage(now)
        if outage is None:
            return None
        speed = self.model.clock.speed
        if outage.mode == "stall":  # held until it recovers, then answered
            return Delay((outage.start + outage.duration - now) / speed + 0.001, decision)
        if outage.mode == "no_answer":
            self.truth.status_request(now, client, rec.id, None, 0, None, "outage_no_answer")
            return Response(0, transport="hang")
        header, asked = self._retry_after(self.model.scenario.server.retry_after / speed)
        self.truth.status_request(now, client, rec.id, None, 503, asked, "outage_503")
        return error(503, "unavailable", "the status API is down", **{"Retry-After": header})

    def _fault(self, now, client, rec, decision) -> Response | None:
        kind = decision.kind
        if kind is None or kind == "dribble":
            return None
        if kind in ("reset", "empty"):
            self.truth.status_request(now, client, rec.id, None, 0, None, kind)
            return Response(0, transport=kind)
        if kind == "malformed":
            self.truth.status_request(now, client, rec.id, None, 200, None, kind)
            body = b'{"job": {"id": "' + str(rec.id).encode() + b'", "status": '
            return Response(200, body, {"Content-Type": "application/json"})
        code = int(kind)
        self.truth.status_request(now, client, rec.id, None, code, None, kind)
        return error(code, "injected", f"an injected {code} (a fault the scenario asked for)")

    def _rate_limited(self, req, job: str | None, tenant: str, wait: float) -> Response:
        rec = self._job(job, tenant) if job is not None else None
        header, asked = self._retry_after(wait)
        if rec is not None:
            now = self.model.advance()
            self.truth.status_request(
                now, self._client(req), rec.id, None, 429, asked, "rate_limit"
            )
        return error(
            429, "rate_limited", "too many requests from this client", **{"Retry-After": header}
        )

    def _retry_after(self, wall: float) -> tuple[str, float]:
        """The Retry-After header for a wait of ``wall`` seconds, and what it asks of the
        client in simulated seconds: the header's whole seconds, as the client read them,
        not the unrounded wait (the ground truth judges the client against what it got)."""
        header = retry_after_header(wall)
        return header, int(header) * self.model.clock.speed

    def changed(self, hold: Hold) -> float:
        """For a held long-poll: 0 once the job's document differs from the one it was
        held on (or the job ended), else wall seconds until it next may change."""
        now = self.model.advance()
        rec = self.model.records[hold.job_id]
        rec.catch_up(now)
        if rec.ended or self.document(rec, hold.dialect)[1] != hold.etag:
            return 0.0
        due = self.model.next_change(rec.id)
        if math.isinf(due):
            return hold.wait
        return max(self.model.clock.wall_after(due - now), 0.001)

    def document(self, rec: JobRecord, dialect: str) -> tuple[bytes, str]:
        """The serialized status and its ETag, made once per visible version."""
        cached = rec.cache.get(dialect)
        if cached is not None and cached[0] == rec.version:
            return cached[1], cached[2]
        doc = render(rec, dialect, self.model.clock)
        body = json.dumps(doc, separators=(",", ":")).encode()
        etag = f'"{dialect[0]}{rec.id}.{rec.version}"'
        if cached is not None and cached[1] == body:
            etag = cached[2]  # nothing this dialect shows has changed
        rec.cache[dialect] = (rec.version, body, etag)
        return body, etag

    def _act(self, dialect: str, rec: JobRecord, action: Action) -> Response:
        refused = self.model.act(rec.id, action, DIALECTS[dialect])
        if refused is not None:
            return error(409, "conflict", refused)
        body, etag = self.document(rec, dialect)
        return Response(200, body, {"Content-Type": "application/json", "ETag": etag})

    # --- admin -------------------------------------------------------------------------

    def _admin(self, req: Request, rest: list[str]) -> Response:
        from mock_server.admin import admin

        return admin(self, req, rest)

    def report(self) -> dict:
        from mock_server.admin import report

        return report(self)


#: the first segment of each dialect's path -> the dialect, and its base's segments
_FIRST = {base.split("/")[0]: (d, base.split("/")) for d, base in BASES.items()}
_STATUS_BASES = {f"/{base}": d for d, base in BASES.items()}  #: "/ordo/jobs" -> "ordo"


#: the server's own documents, read with GET alone
_PLAIN_GETS = (["healthz"], ["metrics"], ["openapi.json"])


def _route(parts: list[str]) -> tuple[str, list[str]] | None:
    """The dialect of a path and what follows its base, or None."""
    hit = _FIRST.get(parts[0]) if parts else None
    if hit is None or parts[: len(hit[1])] != hit[1]:
        return None
    return hit[0], parts[len(hit[1]) :]


def _is_id(text: str) -> bool:
    """A job id as the paths write it: ASCII digits only (``str.isdigit`` also takes
    superscripts and other scripts' digits, which ``int`` refuses or reads), at most 18."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def query_number(query, name, default, low, high, whole=False) -> float | Response:
    """A number from the query string within [low, high], or the 400 saying what was expected."""
    raw = query.get(name)
    if raw is None:
        return default
    try:  # ASCII only: int() and float() also read other scripts' digits
        value = (int(raw) if whole else float(raw)) if raw.isascii() else math.nan
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # nan fails too
        kind = "a whole number" if whole else "a number"
        upper = "" if math.isinf(high) else f" and <= {high:g}"
        return error(400, "bad_query", f"{name}={raw!r}: expected {kind} >= {low:g}{upper}")
    return value


def _matches(header: str, etag: str) -> bool:
    """If-None-Match holds for the current document: ``*`` (any, RFC 9110) or its ETag,
    weak or strong, among those listed."""
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags
