"""``start_server`` outside pytest's fixtures: a server started from a thread that then
ends keeps serving (its guard is the starting process, not the thread), and a server
whose starting process is killed outright ends itself."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from pollsim.live_server import start_server
from tests.plugin.helpers import alive

pytestmark = pytest.mark.live


def test_a_server_started_from_a_thread_that_ended_still_answers(tmp_path):
    started = []
    worker = threading.Thread(target=lambda: started.append(start_server(workdir=tmp_path)))
    worker.start()
    worker.join()
    assert not worker.is_alive() and len(started) == 1
    (server,) = started
    try:
        time.sleep(1.0)  # Linux's PDEATHSIG, if it were set, fires as the thread ends
        assert server.running, server.output()
        assert server.client.health()["speed"] > 0
    finally:
        assert server.stop() == 0, server.output()


STARTER = """
import os, sys
from pollsim.live_server import start_server
server = start_server(workdir=sys.argv[1])
print(server.pid, flush=True)
os._exit(0)  # killed outright: no stop(), no cleanup
"""


def test_a_server_whose_starting_process_is_gone_ends_itself(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", STARTER, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 60  # a bound on a hang, not a measured timing
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):  # ours, by its pid: do not leave it behind
        subprocess.run(["kill", str(pid)], check=False)
        pytest.fail(f"the server (pid {pid}) outlived the process that started it")
    assert "listening on" in (tmp_path / "stdout.txt").read_text()
