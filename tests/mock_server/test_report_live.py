"""The ground truth's report from a real ``pollsim serve``: /healthz answers while the
report of many clients is built, ``until`` is checked, and ``pollsim report`` prints
what the run's end cut off, the overflow entry and the server's own errors."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from pollsim.reporting import format_report
from tests.mock_server.server import ADMIN, call, start

CROWD = 20_000  #: distinct clients, of which the last OVER past the cap
OVER = 500
POLLSIM = [sys.executable, "-m", "pollsim"]


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def many_clients(url: str, n: int, jobs: int, batch: int = 200) -> list[int]:
    """``n`` distinct clients (X-Client-Id c0..), one status request each over jobs 1 to
    ``jobs``, pipelined a batch at a time on one connection; their statuses."""
    statuses = []
    with socket.create_connection(address(url)) as sock, sock.makefile("rb") as answers:
        for start_at in range(0, n, batch):
            ids = range(start_at, min(n, start_at + batch))
            sock.sendall(
                b"".join(
                    f"GET /ordo/jobs/{i % jobs + 1} HTTP/1.1\r\nHost: t\r\n"
                    f"Authorization: Bearer tok-a\r\nX-Client-Id: c{i}\r\n\r\n".encode()
                    for i in ids
                )
            )
            for _ in ids:
                statuses.append(int(answers.readline().split()[1]))
                length = 0
                while (line := answers.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                answers.read(length)
    return statuses


def get(conn: http.client.HTTPConnection, path: str, token: str | None = None) -> tuple:
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
    resp = conn.getresponse()
    return resp.status, resp.read()


@pytest.fixture(scope="module")
def crowded():
    """A server that has seen CROWD distinct clients, OVER of them past its cap."""
    server = start(60, "--max-clients", str(CROWD - OVER))
    try:
        for _ in range(20):
            assert call(server, "POST", "/ordo/jobs", {"duration": "1h"}).status == 201
        statuses = many_clients(server.url, CROWD, jobs=20)
        assert statuses.count(200) == CROWD
        yield server
    finally:
        server.stop()


@pytest.mark.live
@pytest.mark.slow
def test_healthz_answers_while_a_report_of_many_clients_is_built(crowded):
    """The report used to be built on the event loop (quadratic: 8,000 clients, 22 s):
    nothing else was answered until it was done."""
    host, port = address(crowded.url)
    reporting = http.client.HTTPConnection(host, port, timeout=240)
    health = http.client.HTTPConnection(host, port, timeout=240)
    for conn in (reporting, health):  # connected and served before the report is asked
        assert get(conn, "/healthz")[0] == 200
    got: dict = {}
    answering = threading.Event()  # the report's answer has begun to arrive

    def fetch() -> None:
        reporting.request("GET", "/_admin/report", headers={"Authorization": f"Bearer {ADMIN}"})
        resp = reporting.getresponse()
        answering.set()
        got["status"], got["body"] = resp.status, resp.read()

    thread = threading.Thread(target=fetch)
    thread.start()
    during = 0
    while thread.is_alive() and during < 10_000:
        assert get(health, "/healthz")[0] == 200
        during += not answering.is_set()  # answered while the report was being built
    thread.join()
    assert got["status"] == 200
    report = json.loads(got["body"])
    assert len(report["clients"]) == CROWD - OVER + 1  # the tracked ones and (overflow)
    assert report["totals"]["polls"] == CROWD
    assert during >= 10  # the old way: one at most, answered before the build began


@pytest.mark.live
@pytest.mark.slow
def test_one_report_is_built_at_a_time(crowded):
    """Each report in progress holds its JSON (80 MiB for 100,000 clients): others asked
    meanwhile are told to come back, not built beside it."""
    answers: list = [None] * 4

    def ask(i: int) -> None:
        answers[i] = call(crowded, "GET", "/_admin/report", token=ADMIN, timeout=240)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(answers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(a.status for a in answers)
    assert statuses[0] == 200 and statuses[-1] == 503, statuses
    for busy in (a for a in answers if a.status == 503):
        assert busy.json["error"] == "busy" and busy.headers["Retry-After"] == "1"
    assert call(crowded, "GET", "/_admin/report?until=abc", token=ADMIN).status == 400
    assert call(crowded, "GET", "/healthz", token=None).status == 200


@pytest.mark.live
def test_until_must_be_simulated_seconds(crowded):
    for bad in ("abc", "-1", "nan", "inf", "1e999", "%00", "1" * 500):
        answer = call(crowded, "GET", f"/_admin/report?until={bad}", token=ADMIN)
        assert answer.status == 400 and answer.json["error"] == "bad_query", bad
    assert call(crowded, "GET", "/healthz", token=None).status == 200


@pytest.mark.live
@pytest.mark.slow
def test_pollsim_report_shows_the_overflow_entry(crowded):
    r = subprocess.run(
        [*POLLSIM, "report", "--server", crowded.url, "--admin-token", ADMIN],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 0, r.stderr
    (line,) = [x for x in r.stdout.splitlines() if x.startswith("(overflow): about")]
    assert f"past the {CROWD - OVER:,} tracked" in line
    assert "unfinished" in r.stdout.splitlines()[2]  # every job still runs: all unfinished


@pytest.mark.live
def test_pollsim_report_until_counts_jobs_cut_off_by_the_end_as_unfinished():
    server = start(60)
    try:
        call(server, "POST", "/ordo/jobs", {"template": "chain"})  # 30 simulated s
        call(server, "POST", "/ordo/jobs", {"duration": "1h"})
        for job in (1, 2):
            call(server, "GET", f"/ordo/jobs/{job}", headers={"X-Client-Id": "watcher"})
        stopped = call(server, "GET", "/healthz", token=None).json["now"]
        base = [*POLLSIM, "report", "--server", server.url, "--admin-token", ADMIN]
        r = subprocess.run([*base, "--until", str(stopped)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert f"clients stopped at t={stopped:.1f}s" in r.stdout.splitlines()[0]
        assert "unfinished: 2 (a client still watching" in r.stdout  # neither had ended
        bad = subprocess.run([*base, "--until", "-5"], capture_output=True, text=True)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--until" in bad.stderr
    finally:
        server.stop()


def report_of(**totals) -> dict:
    row = {"client": "c\x1b[31m", "jobs": 1, "polls": 3, "polls_per_job": 3.0}
    row |= {"wasted_polls": 1, "requests_after_seen": 0, "retry_after_violations": 0}
    row |= {"gave_up": 0, "unfinished": 1, "detection_latency_s": None}
    return {
        "now": 100.0,
        "speed": 60,
        "jobs": [],
        "clients": [row],
        "totals": {**row, "client": "all", "injected_faults": {}, **totals},
    }


def test_the_printed_report_says_what_the_run_cut_off_and_the_servers_own_errors():
    text = format_report(report_of(server_errors=2, unfinished=1))
    lines = text.splitlines()
    assert "unfinished" in lines[2] and lines[3].split()[8] == "1"  # under its title
    assert "unfinished: 1 (a client still watching a job when the run ended" in text
    assert "server errors: 2 answers were the mock server's own 500s" in text
    assert "\x1b" not in text  # a client id reaches no terminal as control characters
    quiet = format_report(report_of(server_errors=0, unfinished=0))
    assert "unfinished" not in quiet and "server errors" not in quiet


@pytest.mark.live
def test_pollsim_report_takes_the_admin_token_out_of_sight(tmp_path):
    """From POLLSIM_ADMIN_TOKEN or --admin-token-file, as pollsim serve does: a token on
    the command line shows in ps."""
    server = start(60)
    try:
        call(server, "GET", "/status/1", token=None)
        base = [*POLLSIM, "report", "--server", server.url]
        env = {**os.environ, "POLLSIM_ADMIN_TOKEN": ADMIN}
        from_env = subprocess.run(base, capture_output=True, text=True, env=env, timeout=60)
        assert from_env.returncode == 0, from_env.stderr
        (tmp_path / "admin").write_text(ADMIN + "\n")
        from_file = subprocess.run(
            [*base, "--admin-token-file", str(tmp_path / "admin")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert from_file.returncode == 0, from_file.stderr
        assert from_file.stdout.splitlines()[1:] == from_env.stdout.splitlines()[1:]
        env.pop("POLLSIM_ADMIN_TOKEN")
        none = subprocess.run(base, capture_output=True, text=True, env=env, timeout=60)
        assert none.returncode == 2 and none.stderr.count("\n") == 1, none.stderr
        assert "no admin token" in none.stderr and "POLLSIM_ADMIN_TOKEN" in none.stderr
    finally:
        server.stop()
