"""The collection endpoints of each dialect: a page of the jobs a tenant sees
(``Kind.LIST``), each as the dialect lists it (``Dialect.listed``, ``Dialect.page``);
and the caps on the jobs the server holds, in all and per tenant, that a submission
(``mock_server.submission``) meets first."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from mock_server.access import ADMIN
from mock_server.jobs import JobRecord
from mock_server.responses import Request, Response, error, ok
from sim.dialects import Dialect
from sim.dialects.base import BadPage

if TYPE_CHECKING:
    from mock_server.core import Core


def _full(core: Core, tenant: str) -> Response | None:
    """The 429 of a submission past the jobs the server holds, in all or for its
    tenant (jobs live as long as the server: a flood must not take its memory)."""
    cap = core.config.max_jobs
    if len(core.model.records) >= cap:
        message = (
            f"the server holds its most jobs (max_jobs = {cap}); "
            "POST /_admin/reset or a restart clears them"
        )
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
    model = core.model
    records = model.records  # ids run on from the run's first (after a reset: not 1)
    first = model.first_id
    last = min(offset + limit, len(records))
    return [records[first + i] for i in range(offset, last)], len(records)
