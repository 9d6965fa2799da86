"""Listing after a reset: job ids go on from the old run's (``LiveModel.restarted``), and
each dialect's list route and /_admin/jobs page over the new run's jobs alone."""

from __future__ import annotations

import json

import pytest

from mock_server.admin_reset import reset
from mock_server.core import Response
from sim.dialects import DIALECTS, Kind
from tests.mock_server.helpers import ADMIN, Harness
from tests.mock_server.test_near_miss import submit

LISTING = [d for d in DIALECTS.values() if any(r.kind is Kind.LIST for r in d.routes)]


@pytest.mark.parametrize("dialect", LISTING, ids=lambda d: d.name)
def test_each_list_route_after_a_reset_lists_exactly_the_new_jobs(dialect):
    h = Harness()
    for _ in range(3):
        submit(h, dialect)
    reset(h.core)
    new = [submit(h, dialect) for _ in range(2)]
    for token in (ADMIN, "tok-a"):
        path = dialect.path(Kind.LIST, project="alpha")
        r = h.call("GET", path, token=token)
        assert isinstance(r, Response) and r.status == 200, (token, r.body)
        body = json.loads(r.body)
        for shown in new:
            assert shown in json.dumps(body), (token, shown, body)
    assert sorted(h.core.model.records) == [4, 5]


def test_admin_jobs_after_a_reset_lists_exactly_the_new_jobs():
    h = Harness()
    dialect = next(iter(DIALECTS.values()))
    for _ in range(3):
        submit(h, dialect)
    reset(h.core)
    for _ in range(2):
        submit(h, dialect)
    r = h.call("GET", "/_admin/jobs", token=ADMIN)
    assert r.status == 200
    doc = json.loads(r.body)
    assert [j["job_id"] for j in doc["jobs"]] == ["4", "5"] and doc["total"] == 2
