"""A submission's ``job_duration`` against a real ``pollsim serve`` (issue 14): the job
ends that long after it starts, as the status document says it (ordo's ``duration_ms``,
on the scaled clock); beside ``duration`` a 422 naming both."""

from __future__ import annotations

import time

import pytest

from tests.mock_server.server import call, start

pytestmark = pytest.mark.live


def test_a_job_takes_its_job_duration_and_a_conflict_is_a_422():
    server = start(20)
    try:
        body = {"template": "fanout", "outcome": "succeed", "job_duration": "40s"}
        shown = call(server, "POST", "/ordo/jobs", body).json["job"]["id"]
        both = call(server, "POST", "/ordo/jobs", {**body, "duration": "5s"})
        assert both.status == 422
        assert "job_duration and duration conflict" in both.json["message"]
        for _ in range(600):  # 40 simulated seconds are two wall seconds at speed 20
            doc = call(server, "GET", f"/ordo/jobs/{shown}?wait=5").json
            if doc["job"]["status"] != "running":
                break
            time.sleep(0.01)
        assert doc["job"]["status"] == "success"
        assert doc["duration_ms"] == 40_000  # its defaults: 20 s
    finally:
        server.stop()
