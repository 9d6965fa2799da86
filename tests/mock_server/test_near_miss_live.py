"""Near misses on 404s from a real ``pollsim serve`` (issue 14): as a client sees them over
HTTP, percent-encoded paths decoded first, and after a reset."""

from __future__ import annotations

import pytest

from sim.dialects import DIALECTS, Kind
from tests.mock_server.server import ADMIN, call, start

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server():
    s = start(20)
    yield s
    s.stop()


def message(answer) -> str:
    assert answer.status == 404, (answer.status, answer.body)
    doc = answer.json
    return doc["message"] if isinstance(doc["error"], str) else doc["error"]["message"]


def test_a_tenant_an_anonymous_request_and_the_admin_each_get_their_hint(server):
    made = call(server, "POST", "/ordo/jobs", {"template": "chain", "job_duration": "1h"})
    shown = made.json["job"]["id"]
    theirs = message(call(server, "GET", f"/ordo/jobs/{shown}", token="tok-b"))
    assert "exists, but under another tenant; your token is tenant beta's" in theirs
    assert "alpha" not in theirs
    anonymous = next(d for d in DIALECTS.values() if d.anonymous)
    nobody = message(call(server, "GET", anonymous.path(Kind.STATUS, shown), token=None))
    assert "exists, but under a tenant" in nobody and "alpha" not in nobody
    assert call(server, "GET", f"/ordo/jobs/{shown}", token=ADMIN).status == 200


def test_paths_are_judged_as_decoded_and_the_hint_names_the_route(server):
    assert "did you mean GET /ordo/jobs/7 (ordo)?" in message(call(server, "GET", "/ordo/tasks/7"))
    assert "not resolved" in message(call(server, "GET", "/ordo/%2E%2E/jobs/1"))
    umlaut = message(call(server, "GET", "/ordo/t%C3%A4sks/1"))
    assert "/ordo/t\u00e4sks/1" in umlaut and "GET /ordo/jobs/1" in umlaut
    listed = message(call(server, "GET", "/nowhere/1", token=None))
    for dialect in DIALECTS.values():
        assert f"({dialect.name})" in listed
    assert "/_admin/requests" in message(call(server, "GET", "/__admin/requests", token=ADMIN))


def test_a_job_from_before_a_reset_is_said_to_be(server):
    shown = call(server, "POST", "/ordo/jobs", {"template": "chain"}).json["job"]["id"]
    assert call(server, "POST", "/_admin/reset", token=ADMIN).status == 200
    gone = message(call(server, "GET", f"/ordo/jobs/{shown}"))
    assert gone == f"no job {shown}: it was made before the server's last reset"
    fresh = call(server, "POST", "/ordo/jobs", {"template": "chain"}).json["job"]["id"]
    assert call(server, "GET", f"/ordo/jobs/{fresh}").status == 200
    assert message(call(server, "GET", f"/ordo/jobs/{int(fresh) + 5}")) == (
        f"no job {int(fresh) + 5}"
    )
