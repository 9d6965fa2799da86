"""pollsim serve --truth-out: the ground truth written when a real server process stops,
on SIGINT (Ctrl-C) and on SIGTERM, whole (a temporary file renamed over it), with a
one-screen summary on stderr; a place it cannot write is refused before it starts."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from mock_server.truth_out import summary
from tests.mock_server.server import ADMIN, QA, call, start

pytestmark = pytest.mark.live


def _run_a_client(server) -> str:
    job = call(server, "POST", "/ordo/jobs", {"template": "chain", "outcome": "succeed"})
    job_id = job.json["job"]["id"]
    for _ in range(4):
        call(server, "GET", f"/ordo/jobs/{job_id}", headers={"X-Client-Id": "ci-client"})
    return job_id


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_truth_is_written_on_a_signal_and_the_run_summed_up(tmp_path, sig):
    out = tmp_path / "truth.json"
    out.write_text("an older run's")  # replaced whole
    server = start(600.0, "--truth-out", str(out))
    try:
        job = _run_a_client(server)
        live = call(server, "GET", "/_admin/report", token=ADMIN).json
        server.process.send_signal(sig)
        _, err = server.process.communicate(timeout=60)
    finally:
        if server.process.poll() is None:
            server.stop()
    assert server.process.returncode == 0, err
    truth = json.loads(out.read_text())
    assert [(r["client"], r["job_id"], r["polls"]) for r in truth["jobs"]] == [
        ("ci-client", job, 4)
    ]
    assert truth["totals"]["until"] is not None  # the run's end
    assert truth["jobs"][0]["t_seen"] == live["jobs"][0]["t_seen"]
    assert [p.name for p in tmp_path.iterdir()] == ["truth.json"]  # no temporary left
    lines = err.splitlines()
    assert lines[0].startswith("pollsim serve: stopped after")
    assert "5 requests from 1 client; 1 job made, 1 asked about" in lines[0]
    assert any(line.split()[:3] == ["ci-client", "1", "4"] for line in lines)
    assert f"ground truth written to {out}" in err
    assert len(lines) <= 24 and "Traceback" not in err


def test_without_truth_out_the_summary_is_printed_all_the_same(tmp_path):
    server = start(600.0)
    try:
        _run_a_client(server)
        server.process.send_signal(signal.SIGINT)
        _, err = server.process.communicate(timeout=60)
    finally:
        if server.process.poll() is None:
            server.stop()
    assert server.process.returncode == 0
    assert "pollsim serve: stopped after" in err and "written to" not in err


@pytest.mark.parametrize(
    "where, says",
    [
        ("missing/truth.json", "no folder"),
        (".", "is a folder"),
    ],
)
def test_a_truth_out_that_cannot_be_written_is_refused_before_serving(tmp_path, where, says):
    args = ["serve", str(QA), "--port", "0", "--truth-out", str(tmp_path / where)]
    done = subprocess.run(
        [sys.executable, "-m", "pollsim", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "--truth-out" in done.stderr and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "listening" not in done.stdout


def test_the_summary_fits_a_screen_with_many_clients():
    row = {
        "jobs": 1,
        "polls": 3,
        "gave_up": 0,
        "errored": 1,
        "unfinished": 0,
        "retry_after_violations": 2,
        "detection_latency_s": None,
    }
    clients = [{"client": f"c{i}", **row} for i in range(500)]
    totals = {
        **row,
        "jobs": 500,
        "polls": 1500,
        "errored": 500,
        "retry_after_violations": 1000,
        "requests": [{"dialect": "ordo", "http_status": 0, "count": 1500}],
        "injected_faults": {"reset": 1500},
        "server_errors": 0,
    }
    text = summary({"jobs": [], "clients": clients, "totals": totals, "now": 7200}, 75, 500, None)
    lines = text.splitlines()
    assert len(lines) <= 24 and "490 more clients" in text
    assert "no answer: 1,500; injected: reset 1,500" in lines[1]
    assert "2h 00m simulated since the run began" in lines[0]
    assert "1m 15s of wall time" in lines[0]
    assert lines[-2].lstrip().startswith("(all)")  # the totals, apart from a client named all
    widths = {len(line) for line in lines[2:-1]}
    assert max(widths) <= 120


def test_a_scenarios_serve_truth_out_is_written_and_checked_alike(tmp_path):
    from tests.mock_server.server import with_tables

    out = tmp_path / "from-scenario.json"
    scenario = with_tables(tmp_path, f'[serve]\ntruth_out = "{out}"\n')
    server = start(600.0, scenario=scenario)
    try:
        _run_a_client(server)
        server.process.send_signal(signal.SIGTERM)
        server.process.communicate(timeout=60)
    finally:
        if server.process.poll() is None:
            server.stop()
    assert server.process.returncode == 0
    assert json.loads(out.read_text())["clients"][0]["client"] == "ci-client"
    bad = with_tables(tmp_path, f'[serve]\ntruth_out = "{tmp_path}/no/such/folder.json"\n')
    done = subprocess.run(
        [sys.executable, "-m", "pollsim", "serve", str(bad), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "[serve] truth_out" in done.stderr
