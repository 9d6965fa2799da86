"""A reset wakes every request the server holds (``mock_server.holding``): a long-poll
or an injected delay of the old run answers at once, told its job was made before the
reset, and frees its client's long-poll slot for the next test case."""

from __future__ import annotations

import threading

import pytest

from tests.mock_server.server import ADMIN, call, start, with_tables

pytestmark = pytest.mark.live


def held(server, count: int) -> None:
    """Until /metrics shows ``count`` long-polls held."""
    for _ in range(400):
        text = call(server, "GET", "/metrics", token=None).body.decode()
        if f"pollsim_long_polls_held {count}.0" in text:
            return
        threading.Event().wait(0.05)
    pytest.fail(f"{count} long-polls were never held")


def test_a_reset_wakes_a_held_long_poll_and_frees_its_clients_slot(tmp_path):
    scenario = with_tables(tmp_path, "[serve]\nlong_polls_per_client = 1\n")
    server = start(1.0, scenario=scenario)  # the chain takes 30 s: the poll is held
    headers = {"X-Client-Id": "qa"}
    try:
        job = call(server, "POST", "/ordo/jobs", {"template": "chain"}).json["job"]["id"]
        answers: list = []
        poll = threading.Thread(
            target=lambda: answers.append(
                call(server, "GET", f"/ordo/jobs/{job}?wait=50", headers=headers, timeout=90)
            )
        )
        poll.start()
        held(server, 1)
        assert call(server, "POST", "/_admin/reset", token=ADMIN).status == 200
        # the next test case's long-poll by the same client finds its slot free
        new = call(server, "POST", "/ordo/jobs", {"template": "chain"}).json["job"]["id"]
        again = call(server, "GET", f"/ordo/jobs/{new}?wait=0.2", headers=headers)
        assert again.status == 200, again.body
        poll.join(30)  # woken: it does not wait out its 50 s
        assert not poll.is_alive()
        assert answers[0].status == 404
        assert "made before the server's last reset" in answers[0].json["message"]
    finally:
        server.stop()


def test_a_reset_wakes_a_request_held_by_an_injected_delay(tmp_path):
    faults = '[serve]\nrequest_deadline = "300s"\n[faults]\nlatency = "120s"\n'
    faults += "latency_probability = 1.0\n"
    server = start(1.0, scenario=with_tables(tmp_path, faults))
    try:
        job = call(server, "POST", "/ordo/jobs", {"template": "chain"}).json["job"]["id"]
        answers: list = []
        slow = threading.Thread(
            target=lambda: answers.append(call(server, "GET", f"/ordo/jobs/{job}", timeout=200))
        )
        slow.start()
        threading.Event().wait(1.0)  # the request is in its delay (120 s)
        assert call(server, "POST", "/_admin/reset", token=ADMIN).status == 200
        slow.join(60)  # woken: it does not wait out its 120 s
        assert not slow.is_alive()
        assert answers[0].status == 404
        assert "made before the server's last reset" in answers[0].json["message"]
    finally:
        server.stop()
