"""A client that hangs up on a request held by a stalled outage (found by an attack, issue
13): the server must not spin on it until the stall ends, and the ground truth records
what the client saw, a request with no answer, so a client that then stops is errored."""

import json
import socket
import time
import urllib.request

import pytest

from tests.mock_server.server import ADMIN, call, start, with_tables

pytestmark = pytest.mark.live

STALL = """
[[server.outages]]
start = "1m"
duration = "2m"
mode = "stall"
"""


def _sim_now(server) -> float:
    return call(server, "GET", "/healthz", token=None).json["now"]


def test_a_client_hanging_up_on_a_stall_frees_the_server_and_is_graded_errored(tmp_path):
    server = start(60, scenario=with_tables(tmp_path, STALL))
    try:
        job = call(server, "POST", "/ordo/jobs", {"durations": {"*": "2h"}}).json["job"]["id"]
        assert (
            call(server, "GET", f"/ordo/jobs/{job}", headers={"X-Client-Id": "quitter"}).status
            == 200
        )
        while _sim_now(server) < 62:  # into the stall (simulated seconds)
            time.sleep(0.05)
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                f"GET /ordo/jobs/{job} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-a\r\n"
                "X-Client-Id: quitter\r\n\r\n".encode()
            )
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):  # held by the stall: no answer
                sock.recv(1)
        # hung up; the server answers others at once, not when the stall ends (180 s)
        after = _sim_now(server)
        assert after < 170, after
        while _sim_now(server) < 62 + 3 * 62:  # long past its next poll: it stopped
            time.sleep(0.05)
        # another client's request: the run went on (the ground truth's latest moment)
        assert (
            call(server, "GET", f"/ordo/jobs/{job}", headers={"X-Client-Id": "other"}).status == 200
        )
        until = _sim_now(server)
        req = urllib.request.Request(
            server.url + f"/_admin/report?until={until:.0f}",
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            report = json.loads(resp.read())
    finally:
        server.stop()
    (row,) = [r for r in report["jobs"] if r["client"] == "quitter"]
    # the stalled request counted as it arrived, unanswered: an injected fault, not ours
    assert row["polls"] == 2 and row["injected_errors"] == 1 and row["t_seen"] is None
    assert row["errored"] and not row["gave_up"] and not row["unfinished"]
