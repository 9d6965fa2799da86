"""The collection endpoints of each dialect: a submission (``Kind.SUBMIT``), capped by
the jobs the server holds in all and per tenant, answered as the dialect answers one
(``Dialect.submitted``); and a page of the jobs a tenant sees (``Kind.LIST``), each as
the dialect lists it (``Dialect.listed``, ``Dialect.page``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from mock_server.access import ADMIN
from mock_server.bodies import json_object
from mock_server.core import SUBMIT_FIELDS
from mock_server.jobs import JobRecord
from mock_server.model import RetryBudget, SubmitError, short
from mock_server.responses import Request, Response, error, ok
from sim.dialects import Dialect
from sim.dialects.base import BadPage

if TYPE_CHECKING:
    from mock_server.core import Core


def submit(core: Core, req: Request, dialect: Dialect, tenant: str) -> Response:
    """A job made as the body asks, answered as the dialect answers a submission (by
    default 201, its status and Location), with the status document's ETag when that is
    the answer's body; 429 past the caps, 400/422 for a body the server cannot act on."""
    full = _full(core, tenant)
    if full is not None:
        return full
    fields = json_object(req.body)
    if isinstance(fields, Response):
        return fields
    unknown = sorted(set(fields) - SUBMIT_FIELDS)
    if unknown:
        return error(
            422,
            "invalid",
            f"unknown field {short(unknown[0])}; expected {', '.join(sorted(SUBMIT_FIELDS))}",
        )
    for key in ("template", "outcome"):
        if fields.get(key) is not None and not isinstance(fields[key], str):
            return error(422, "invalid", f"{key}: expected a string")
    durations = fields.get("durations")
    if durations is None:
        durations = {}
    elif not isinstance(durations, dict):  # false, [], "" are not "no durations"
        return error(422, "invalid", "durations: expected an object of step id -> duration")
    duration = fields.get("duration")
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, (str, int, float)):
            return error(422, "invalid", "duration: expected seconds or a duration text")
        durations = {"*": duration, **durations}
    try:
        rec = core.model.submit(
            fields.get("template"),
            tenant,
            fields.get("outcome"),
            durations,
            core.config.max_scripted_retries,
            core.config.max_scripted_retries_total,
        )
    except RetryBudget as exc:  # what the server holds, like max_jobs: 429
        return error(429, "too_many_retries", str(exc))
    except SubmitError as exc:
        return error(422, "invalid", str(exc))
    return core.answer_with(rec, dialect, dialect.submitted)


def _full(core: Core, tenant: str) -> Response | None:
    """The 429 of a submission past the jobs the server holds, in all or for its
    tenant (jobs live as long as the server: a flood must not take its memory)."""
    cap = core.config.max_jobs
    if len(core.model.records) >= cap:
        message = f"the server holds its most jobs (max_jobs = {cap}); restart it to clear"
        return error(429, "too_many_jobs", message)
    cap = core.config.max_jobs_per_tenant
    if len(core.model.by_tenant.get(tenant, ())) >= cap:
        message = f"tenant {tenant} holds its most jobs (max_jobs_per_tenant = {cap})"
        return error(429, "too_many_jobs", message)
    return None


def listing(core: Core, req: Request, dialect: Dialect, tenant: str) -> Response:
    """A page of the tenant's jobs' status documents, where the dialect's query says
    (``Dialect.page_at``: ``limit`` and ``offset`` by default, else the dialect's own,
    such as a page size and token), with its way to the next page (``Dialect.page``)."""
    try:
        limit, offset = dialect.page_at(req.query, core.config.page_max)
    except BadPage as exc:
        return error(400, "bad_query", str(exc))
    now = core.model.advance()
    page, total = _page(core, tenant, offset, limit)
    items = []
    for rec in page:
        rec.catch_up(now)
        doc = json.loads(core.document(rec, dialect)[0])
        items.append(dialect.listed(doc, core.seen(rec, dialect)))
    return ok(200, dialect.page(items, total, limit, offset, core.base_url()))


def _page(core: Core, tenant: str, offset: int, limit: int) -> tuple[list[JobRecord], int]:
    """A page of the jobs a tenant sees (the admin: all), and how many there are, in
    time of the page, not of every job held."""
    if tenant != ADMIN:
        mine = core.model.by_tenant.get(tenant, [])
        return mine[offset : offset + limit], len(mine)
    records = core.model.records  # ids run from 1, in order
    last = min(offset + limit, len(records))
    return [records[i] for i in range(offset + 1, last + 1)], len(records)
