"""The server without a transport: a parsed request in, a response out, from the model's
state. The HTTP front (``mock_server.app``) only moves bytes and waits; another front
could replace it without touching this.

Every path a dialect declares is routed by ``sim.dialects.match`` to one handler per
kind of route (submit, list, status, action, resource, info); the dialect renders what
is answered there, errors included (``mock_server.responses.in_dialect``). The server's
own paths (``/healthz``, ``/metrics``, ``/openapi.json``, ``/_admin``) answer in
pollsim's own shape.

>>> from sim import default_scenario
>>> from mock_server.clock import ScaledClock
>>> core = Core(LiveModel(default_scenario(), ScaledClock(60)), Config(tokens={"t1": "qa"}))
>>> r = core.handle(Request("GET", "/nowhere", {}, {}))
>>> r.status, json.loads(r.body)["error"]
(404, 'not_found')
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
from mock_server.injected import fault, outage, rate_limited
from mock_server.jobs import JobRecord
from mock_server.metrics import CONTENT_TYPE as METRICS_TYPE
from mock_server.metrics import Metrics
from mock_server.model import LiveModel
from mock_server.responses import (
    Delay,
    Hold,
    Request,
    Response,
    base_url,
    error,
    in_dialect,
    ok,
    quoted,
    unauthorized,
)
from mock_server.truth import Truth
from sim.dialects import DIALECTS, Action, Dialect, Kind, Match, Seen, first_segments, match
from sim.mock_spec import FaultSpec

__all__ = [
    "Config",
    "Core",
    "Delay",
    "Hold",
    "Request",
    "Response",
    "error",
    "in_dialect",
    "json_object",
    "ok",
]

#: what a submission's body may name (the same in every dialect)
SUBMIT_FIELDS = {"template", "outcome", "durations", "duration"}


@dataclass
class Config:
    """What a server run allows and does, beyond the scenario's model."""

    tokens: Mapping[str, str] = field(default_factory=dict)  #: bearer token -> tenant
    admin_token: str = ""
    #: dialects that serve requests without a token (``Dialect.anonymous``) do so; the
    #: name is the ``[serve]`` key's, from when one dialect alone did
    anonymous_generic: bool = True
    etag: bool = True  #: ETag on status answers, 304 on a matching If-None-Match
    retry_after_hint: float | None = None  #: a Retry-After (s) on 200 answers too
    max_wait: float = 60.0  #: the longest long-poll, wall seconds
    max_body: int = 64 * 1024  #: bytes; a larger request body is answered 413
    page_max: int = 500  #: the most jobs a list returns at once
    max_jobs: int = 100_000  #: jobs held in all; past it a submission is answered 429
    max_jobs_per_tenant: int = 50_000  #: jobs held per tenant; past it, 429
    max_scripted_retries: int = 1000  #: the most transient failures a submission scripts
    max_scripted_retries_total: int = 100_000  #: ... and all the jobs held; past it, 429
    #: where clients reach the server, for the absolute links some dialects send
    #: (``Seen.base_url``) when a request's ``Host`` is missing or malformed;
    #: ``mock_server.app.serve`` sets it to the URL it prints
    base_url: str = "http://127.0.0.1"


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
        self.seed = model.scenario.seed  #: what dialects derive the ids they show from
        self._tenants = frozenset(config.tokens.values())  #: the tenants tokens prove
        #: the request being handled (``handle`` runs to its end before the next), read
        #: only where a link needs its ``Host``: submissions and linked documents
        self._req: Request | None = None

    # --- entry -------------------------------------------------------------------------

    def handle(
        self, req: Request, held: bool = False, decision: Decision | None = None
    ) -> Response | Hold | Delay:
        """The answer to ``req``; or a Hold (a long-poll) or a Delay (injected latency, a
        stalled outage), after which the front asks again, with ``held`` (answer now)
        and the ``decision`` already drawn for the request."""
        self._req = req
        if not held and decision is None and req.method == "GET" and not req.query:
            fast = self._plain_status(req)
            if fast is not None:
                return fast
        parts = [p for p in req.path.split("/") if p]
        if ".." in parts or "." in parts:
            hit = None
        elif parts in _PLAIN_GETS or parts[:1] == ["_admin"]:
            return self._own(req, parts)
        else:
            hit = match("/".join(parts))
        dialect = hit.dialect if hit is not None else dialect_at(req.path)
        if len(req.body) > self.config.max_body:
            resp = error(413, "too_large", f"request body over {self.config.max_body} bytes")
        elif hit is None:
            resp = error(404, "not_found", f"no such path: {quoted(req.path)}")
        else:
            resp = self._dialect(req, hit, held, decision)
        if dialect is None or not isinstance(resp, Response):
            return resp
        self.truth.count(dialect.name, resp.status)
        return in_dialect(resp, dialect)

    def _own(self, req: Request, parts: list[str]) -> Response:
        """The server's own paths: health, metrics, the OpenAPI document, the admin API."""
        if len(req.body) > self.config.max_body:
            return error(413, "too_large", f"request body over {self.config.max_body} bytes")
        if parts[:1] == ["_admin"]:
            return self._admin(req, parts[1:])
        if req.method != "GET":
            return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET")
        if parts == ["healthz"]:
            clock = self.model.clock
            doc = {"status": "ok", "speed": clock.speed, "epoch": clock.iso(0.0)}
            return ok(200, {**doc, "now": self.model.advance()})
        if parts == ["metrics"]:
            return Response(200, self.metrics.render(), {"Content-Type": METRICS_TYPE})
        from mock_server.openapi import answer

        return answer(self)

    @staticmethod
    def dialect_of(path: str) -> str:
        """The name of the dialect a path's first segment belongs to ("other" for the
        rest), for metrics."""
        dialect = dialect_at(path)
        return dialect.name if dialect is not None else "other"

    def in_dialect_of(self, path: str, resp: Response) -> Response:
        """``resp`` in the shape of the dialect of ``path`` (errors the front makes before
        the core sees the request: no slot, a body refused, a bug of ours)."""
        return in_dialect_at(path, resp)

    def _dialect(self, req: Request, hit: Match, held: bool, decision: Decision | None):
        """A dialect's endpoint: who asks, within the rate limit, with a method the path
        allows, in a project that is theirs; then the handler of the route's kind."""
        dialect = hit.dialect
        tenant = self._tenant(req, dialect)
        if isinstance(tenant, Response):
            return tenant
        route = hit.route(req.method)
        project = hit.params.get("project")
        # a project is a tenant: its own, or for the admin any that exists; None: none
        acting = tenant if project is None else self._project(tenant, project)
        if decision is None and self.faults.spec.rate_limit is not None:
            limited = self.faults.limited(self.client(req), self.model.clock.wall())
            if limited is not None:  # graded against the job only where it may see it
                job = hit.params.get("id")
                is_status = route is not None and route.kind is Kind.STATUS
                rec = None
                if is_status and job is not None and acting is not None:
                    rec = self._job(dialect, job, acting)
                return rate_limited(self, self.client(req), rec, limited)
        if route is None:
            return error(405, "method_not_allowed", f"{req.method} not allowed", Allow=hit.allow)
        if acting is None:
            return error(404, "not_found", f"no such project: {quoted(project or '')}")
        tenant = acting
        kind = route.kind
        if kind is Kind.INFO:
            return ok(200, route.info())
        if kind is Kind.SUBMIT or kind is Kind.LIST:
            from mock_server.collection import listing, submit

            return (submit if kind is Kind.SUBMIT else listing)(self, req, dialect, tenant)
        text = hit.params.get("id", "")
        rec = self._job(dialect, text, tenant)
        if rec is None:
            return error(404, "not_found", f"no job {quoted(text)}")
        if kind is Kind.STATUS:
            return self._status(req, dialect, rec, held, decision)
        if kind is Kind.ACTION:
            return self._act(dialect, rec, route.action)
        rec.catch_up(self.model.advance())  # Kind.RESOURCE
        return ok(200, dialect.resource(rec, self.seen(rec, dialect)))

    # --- access ------------------------------------------------------------------------

    def _tenant(self, req: Request, dialect: Dialect) -> str | Response:
        header = req.headers.get("authorization")
        if header is None:
            if dialect.anonymous and self.config.anonymous_generic:
                return ANONYMOUS
            return unauthorized("missing Authorization: Bearer <token>")
        who = self.access.identity(header)
        if who is None:
            if bearer(header) is None:
                return unauthorized("expected Authorization: Bearer <token>")
            return unauthorized("unknown token", 'error="invalid_token"')
        return who.tenant

    def _project(self, tenant: str, project: str) -> str | None:
        """The tenant a request acts for in ``project``: the token's own tenant, or for
        the admin a tenant that exists (one a token proves, or one the model has jobs
        of, as the scenario's background arrivals); never a reserved name, so that the
        admin cannot plant a job where a request without a token would read it. None
        for any other (the same 404 for every one)."""
        if project in (ADMIN, ANONYMOUS):
            return None
        if tenant == project:
            return project
        if tenant != ADMIN:
            return None
        if project in self._tenants or project in self.model.by_tenant:
            return project
        return None

    def _job(self, dialect: Dialect, text: str, tenant: str) -> JobRecord | None:
        """The job a path's id names if it exists and the tenant may see it (else the
        same 404 for both)."""
        job_id = dialect.read_id(text, self.seed)
        if job_id is None:
            return None
        rec = self.model.records.get(job_id)
        if rec is None:  # the scenario's arrivals may have made it since the model last ran
            self.model.advance()
            rec = self.model.records.get(job_id)
        if rec is None or (tenant != ADMIN and rec.tenant != tenant):
            return None
        return rec

    def client(self, req: Request) -> str:
        """Who a request is in the ground truth: its ``X-Client-Id``, else its token's name."""
        client = req.headers.get("x-client-id")
        if client:
            return client[:200]
        header = req.headers.get("authorization")
        who = self.access.identity(header) if header else None
        return who.name if who is not None else ANONYMOUS

    # --- jobs --------------------------------------------------------------------------

    def seen(self, rec: JobRecord, dialect: Dialect) -> Seen:
        """Where ``rec`` is shown from, for ``dialect``'s renderings (its links built on
        the request's ``Host``: ``base_url``)."""
        return Seen(
            self.model.clock.iso,
            dialect.show_id(rec.id, self.seed),
            rec.template.name,
            self.base_url(),
        )

    def base_url(self) -> str:
        """The base of absolute links for the request being handled: its ``Host``
        where that is well formed (a proxy's or a port forward's address is what the
        client can reach), else the server's own (``Config.base_url``)."""
        req = self._req
        host = req.headers.get("host") if req is not None else None
        return base_url(host, self.config.base_url)

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
        client = self.client(req)
        faulty = outage(self, now, client, rec, decision) or fault(
            self, now, client, rec, dialect, decision
        )
        if faulty is not None:
            return faulty
        if wait and not held and not rec.ended:
            etag = self.document(rec, dialect)[1]
            if self._behind(req, etag):  # it has not seen this version: show it now
                return self._show(req, dialect, rec, now, client, decision)
            return Hold(rec.id, dialect, etag, wait, decision)
        return self._show(req, dialect, rec, now, client, decision)

    def _behind(self, req: Request, etag: str) -> bool:
        """Whether a long-poll's client has said it holds another version than the
        current one (an If-None-Match that does not match): it is answered at once, as
        a held poll would only tell it of the version after this one. Without an
        If-None-Match (or with ``*``) the client asks to hear of the next change, and
        is held; without ETags it could have none to send, and is held too."""
        matches = req.headers.get("if-none-match")
        return bool(matches) and self.config.etag and not _matches(matches, etag)

    def _plain_status(self, req: Request) -> Response | None:
        """The common request, a job's status with nothing unusual about it or about the
        server (no query; no faults, outages, rate limit or Retry-After hint in force),
        answered without the general routing: what ``_status`` would answer. Only for
        dialects whose status path is a literal base and the id (``_STATUS_BASES``).
        None hands the request to the general path (which also answers every refusal)."""
        if not self.faults.inert or self.config.retry_after_hint is not None:
            return None
        base, _, text = req.path.rpartition("/")
        dialect = _STATUS_BASES.get(base)
        if dialect is None or req.body:
            return None
        job_id = dialect.read_id(text, self.seed)
        if job_id is None:
            return None
        tenant = self._tenant(req, dialect)
        if isinstance(tenant, Response):
            return None
        rec = self.model.records.get(job_id)
        if rec is None or (tenant != ADMIN and rec.tenant != tenant):
            return None
        now = self.model.advance()
        rec.catch_up(now)
        resp = self._show(req, dialect, rec, now, self.client(req), NONE)
        self.truth.count(dialect.name, resp.status)
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
            headers["Retry-After"], sim_hint = self.retry_after(hint)
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

    def retry_after(self, wall: float) -> tuple[str, float]:
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

    def document(self, rec: JobRecord, dialect: Dialect) -> tuple[bytes, str]:
        """The serialized status and its ETag, made once per visible version. ETags are
        distinct across dialects (the dialect's place in ``DIALECTS`` leads them)."""
        name = dialect.name
        cached = rec.cache.get(name)
        # a document with absolute links is one per Host as well as per version
        stamp = (rec.version, self.base_url()) if name in _LINKED else rec.version
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        doc = dialect.render(rec, self.seen(rec, dialect))
        body = json.dumps(doc, separators=(",", ":")).encode()
        etag = f'"{_PLACE[name]}.{rec.id}.{rec.version}"'
        if cached is not None and cached[1] == body:
            etag = cached[2]  # nothing this dialect shows has changed
        rec.cache[name] = (stamp, body, etag)
        return body, etag

    def _act(self, dialect: Dialect, rec: JobRecord, action: Action | None) -> Response:
        """An action on a job, under the dialect's rules (409 where they refuse it),
        answered as the dialect answers one (``Dialect.acted``)."""
        if action is None:
            raise ValueError(f"{dialect.name}: an action route without an action")
        refused = self.model.act(rec.id, action, dialect)
        if refused is not None and not dialect.acknowledges(action, rec.state):
            return error(409, "conflict", refused)
        return self.answer_with(rec, dialect, dialect.acted)

    def answer_with(self, rec: JobRecord, dialect: Dialect, compose) -> Response:
        """The answer ``compose(rec, seen, status_doc)`` makes (``Dialect.submitted`` or
        ``acted``): the status document as cached, with its ETag, where that is what it
        answers; else the document it composed."""
        body, etag = self.document(rec, dialect)
        status_doc = json.loads(body)
        answer = compose(rec, self.seen(rec, dialect), status_doc)
        if answer.doc is status_doc:
            headers = {"Content-Type": "application/json", "ETag": etag, **answer.headers}
            return Response(answer.status, body, headers)
        return ok(answer.status, answer.doc, **answer.headers)

    # --- admin -------------------------------------------------------------------------

    def _admin(self, req: Request, rest: list[str]) -> Response:
        from mock_server.admin import admin

        return admin(self, req, rest)

    def report(self) -> dict:
        from mock_server.admin import report

        return report(self)


#: the first segment of each dialect's paths -> the dialect
_FIRST = first_segments()
#: each dialect's place in DIALECTS, which leads its ETags
_PLACE = {name: i for i, name in enumerate(DIALECTS)}


def _links(schema: object) -> bool:
    """Whether a JSON Schema admits an absolute link (a string of format ``uri``)."""
    if isinstance(schema, dict):
        return schema.get("format") == "uri" or any(map(_links, schema.values()))
    if isinstance(schema, list):
        return any(map(_links, schema))
    return False


#: the dialects whose status documents may carry absolute links, as their schemas say:
#: their documents depend on the request's Host, and are cached per Host too
_LINKED = frozenset(d.name for d in DIALECTS.values() if _links(d.schema()))


def _status_bases() -> dict[str, Dialect]:
    """The literal base of each dialect whose status path is that base and ``{id}``
    ("/x/jobs/{id}" -> "/x/jobs"), for the shortcut: a path there is that dialect's
    status, as the router would find (checked here against it)."""
    out: dict[str, Dialect] = {}
    for dialect in DIALECTS.values():
        for route in dialect.routes:
            base, _, last = route.path.rpartition("/")
            if route.kind is not Kind.STATUS or last != "{id}" or "{" in base:
                continue
            hit = match(base + "/0")
            if hit is not None and hit.dialect is dialect and hit.route("GET") is route:
                out.setdefault(base, dialect)
    return out


_STATUS_BASES = _status_bases()

#: the server's own documents, read with GET alone
_PLAIN_GETS = (["healthz"], ["metrics"], ["openapi.json"])


def in_dialect_at(path: str, resp: Response) -> Response:
    """``resp`` in the shape of the dialect of ``path``: the dialect of the route it
    names, else of its first segment; as it is where that is no dialect's."""
    hit = match(path)
    return in_dialect(resp, hit.dialect if hit is not None else dialect_at(path))


def dialect_at(path: str) -> Dialect | None:
    """The dialect whose paths begin with ``path``'s first segment, if any."""
    first = path.lstrip("/").partition("/")[0]
    return _FIRST.get(first)


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
