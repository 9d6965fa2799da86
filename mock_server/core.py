"""The server without a transport: a parsed request in, a response out, from the model's
state. The HTTP front (``mock_server.app``) only moves bytes and waits; another front
could replace it without touching this.

Every path a dialect declares is routed by ``sim.dialects.match`` to one handler per
kind of route (submit, list, status, action, resource, info); the dialect renders what
is answered there, errors included (``mock_server.responses.in_dialect``). The server's
own paths (``/healthz``, ``/metrics``, ``/openapi.json``, ``/_admin``) answer in
pollsim's own shape.

What is shown of a job there (its documents, their ETags, their links) is made in
``mock_server.showing``; a status request, once routed, is answered in
``mock_server.status``, a submission in ``mock_server.submission``. A 404 names the near
miss (``mock_server.near_miss`` for paths, ``mock_server.near_miss_jobs`` for job ids
and projects), worked out on that path alone.

>>> import json
>>> from sim import default_scenario
>>> from mock_server.clock import ScaledClock
>>> core = Core(LiveModel(default_scenario(), ScaledClock(60)), Config(tokens={"t1": "qa"}))
>>> r = core.handle(Request("GET", "/nowhere", {}, {}))
>>> r.status, json.loads(r.body)["error"]
(404, 'not_found')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from mock_server import status
from mock_server.access import ADMIN, ANONYMOUS, Access, bearer
from mock_server.bodies import json_object
from mock_server.client_id import refused as refused_client
from mock_server.faults import Decision, Faults
from mock_server.injected import rate_limited
from mock_server.jobs import JobRecord
from mock_server.metrics import CONTENT_TYPE as METRICS_TYPE
from mock_server.metrics import Metrics
from mock_server.model import LiveModel
from mock_server.near_miss import no_route
from mock_server.near_miss_jobs import no_job, no_project
from mock_server.responses import (
    Delay,
    Hold,
    Request,
    Response,
    error,
    in_dialect,
    ok,
    unauthorized,
)
from mock_server.showing import Showing
from mock_server.truth import Truth
from mock_server.waking import Waker
from sim.dialects import Action, Dialect, Kind, Match, first_segments, match
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

#: what a submission's body may name (the same in every dialect; read in
#: ``mock_server.submission``)
SUBMIT_FIELDS = {"template", "outcome", "job_duration", "durations", "duration"}


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
        self.waker = Waker()  #: wakes the requests held when the server is reset
        #: what a job shows, and where from (``mock_server.showing``); the core's own
        #: names for it are what its handlers and their modules ask the core for
        self.showing = showing = Showing(model.clock, self.seed, config)
        self.document, self.seen = showing.document, showing.seen
        self.base_url, self.answer_with = showing.base_url, showing.answer_with

    # --- entry -------------------------------------------------------------------------

    def handle(
        self, req: Request, held: bool = False, decision: Decision | None = None
    ) -> Response | Hold | Delay:
        """The answer to ``req``; or a Hold (a long-poll) or a Delay (injected latency, a
        stalled outage), after which the front asks again, with ``held`` (answer now)
        and the ``decision`` already drawn for the request."""
        self.showing.req = req
        bad = refused_client(req.headers)
        if bad is not None:
            return in_dialect_at(req.path, bad)
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
            resp = error(404, "not_found", no_route(req.path, self.seed, req.method))
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
        tenant = self.tenant(req, dialect)
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
            return error(404, "not_found", no_project(self, project or "", tenant))
        who, tenant = tenant, acting
        kind = route.kind
        if kind is Kind.INFO:
            return ok(200, route.info())
        if kind is Kind.SUBMIT:
            from mock_server.submission import submit

            return submit(self, req, dialect, tenant)
        if kind is Kind.LIST:
            from mock_server.collection import listing

            return listing(self, req, dialect, tenant)
        text = hit.params.get("id", "")
        rec = self._job(dialect, text, tenant)
        if rec is None:  # the near miss is looked for on this path alone
            return error(404, "not_found", no_job(self, dialect, route, text, who, tenant))
        if kind is Kind.STATUS:
            return status.answer(self, req, dialect, rec, held, decision)
        if kind is Kind.ACTION:
            return self._act(dialect, rec, route.action)
        rec.catch_up(self.model.advance())  # Kind.RESOURCE
        return ok(200, dialect.resource(rec, self.seen(rec, dialect)))

    # --- access ------------------------------------------------------------------------

    def tenant(self, req: Request, dialect: Dialect) -> str | Response:
        """Who a request to ``dialect`` acts as: its token's tenant, anonymous where the
        dialect allows none, else the 401 saying what was missing or wrong."""
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
        self.model.advance()  # the scenario's arrivals may have made its first job since
        return project if project in self.model.by_tenant else None

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
        if client:  # within its rule (mock_server.client_id): never cut
            return client
        header = req.headers.get("authorization")
        who = self.access.identity(header) if header else None
        return who.name if who is not None else ANONYMOUS

    # --- jobs --------------------------------------------------------------------------

    #: a status request (``mock_server.status``): the shortcut ``handle`` tries first,
    #: a held long-poll's "changed yet?" (asked by the front) and a Retry-After's header
    #: (asked by ``mock_server.injected``), bound as the core's own methods
    _plain_status = status.plain
    changed = status.changed
    retry_after = status.retry_after

    def _act(self, dialect: Dialect, rec: JobRecord, action: Action | None) -> Response:
        """An action on a job, under the dialect's rules (409 where they refuse it),
        answered as the dialect answers one (``Dialect.acted``)."""
        if action is None:
            raise ValueError(f"{dialect.name}: an action route without an action")
        refused = self.model.act(rec.id, action, dialect)
        if refused is not None and not dialect.acknowledges(action, rec.state):
            return error(409, "conflict", refused)
        return self.answer_with(rec, dialect, dialect.acted)

    # --- admin -------------------------------------------------------------------------

    def _admin(self, req: Request, rest: list[str]) -> Response:
        from mock_server.admin import admin

        return admin(self, req, rest)

    def report(self) -> dict:
        from mock_server.admin import report

        return report(self)


#: the first segment of each dialect's paths -> the dialect
_FIRST = first_segments()
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
