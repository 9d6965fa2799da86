"""The request log can be read while the server runs (``pollsim fit --request-log``): it
is flushed every second, not only when the server stops or a report is asked for (a new
user found it empty after a client had finished)."""

import json
import time

import pytest

from tests.mock_server.server import call, start

pytestmark = pytest.mark.live


def test_a_clients_requests_reach_the_log_while_the_server_runs(tmp_path):
    log = tmp_path / "requests.jsonl"
    server = start(10, "--request-log", str(log))
    try:
        job = call(server, "POST", "/ordo/jobs", {"durations": {"*": "1h"}}).json["job"]["id"]
        for _ in range(3):
            assert (
                call(server, "GET", f"/ordo/jobs/{job}", headers={"X-Client-Id": "qa"}).status
                == 200
            )
        lines: list[str] = []
        for _ in range(200):  # the flush is due within a second; give a slow machine 20
            lines = [x for x in log.read_text().splitlines() if x]
            if len(lines) >= 3:
                break
            time.sleep(0.1)
    finally:
        server.stop()
    mine = [json.loads(x) for x in lines if '"qa"' in x]
    assert len(mine) == 3, lines
