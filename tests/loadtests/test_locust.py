"""A real, small, headless Locust swarm against a real ``pollsim serve``, in processes of
their own (Locust patches the standard library with gevent)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loadtests.measured import round_trip
from tests.mock_server.server import ADMIN, call, start

pytestmark = pytest.mark.live

LOCUSTFILE = Path(__file__).resolve().parents[2] / "loadtests" / "locustfile.py"


@pytest.fixture(scope="module")
def swarm(tmp_path_factory):
    """Eight users polling every 3 simulated seconds for 8 wall seconds at speed 20."""
    out = tmp_path_factory.mktemp("swarm")
    server = start(20)
    try:
        r = subprocess.run(
            [
                sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", server.url,
                "--headless", "-u", "8", "-r", "8", "-t", "8s", "--strategy", "fixed(3)",
                "--token", "tok-a", "--template", "chain", "--job-duration", "5s",
                "--json-file", str(out / "stats"), "--pollsim-csv", str(out / "jobs.csv"),
                "--csv", str(out / "locust"), "--html", str(out / "report.html"),
                "--only-summary",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=out,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr[-3000:]
        report = call(server, "GET", "/_admin/report", token=ADMIN).json
    finally:
        server.stop()
    stats = json.loads((out / "stats.json").read_text())
    with (out / "jobs.csv").open() as f:
        jobs = list(csv.DictReader(f))
    return stats, jobs, report, out


def test_locust_counts_every_request_the_server_saw_but_those_the_end_cut_off(swarm):
    stats, _, report, _ = swarm
    locust = {s["name"]: s["num_requests"] for s in stats}
    server = sum(r["count"] for r in report["totals"]["requests"] if r["dialect"] == "ordo")
    counted = locust["/ordo/jobs · fixed(3)"] + locust["/ordo/jobs/[id] · fixed(3)"]
    # Locust counts a request when its answer comes back: one in flight when the run's
    # end stopped its user reached the server uncounted (at most one a user, 8 here)
    assert counted <= server <= counted + 8 and counted > 100, (counted, server)
    # a row per request and strategy, and no metric rows
    assert set(locust) == {"/healthz", "/ordo/jobs · fixed(3)", "/ordo/jobs/[id] · fixed(3)"}


def test_each_jobs_polls_and_latency_agree_with_the_ground_truth(swarm):
    _, jobs, report, out = swarm
    truth = {(r["client"], r["job_id"]): r for r in report["jobs"]}
    assert len(jobs) >= 40
    # the server takes its time as it answers, the client once it has read and handled
    # the answer: they differ by the way back and the client's own turn to run, each at
    # most the longest round trip the run measured (simulated seconds; a loaded machine
    # made the client's turn 3 ms more than Locust's slowest 18 ms)
    slowest = 2 * round_trip(out / "locust_stats.csv", "/ordo/jobs/[id]", speed=20) + 0.01
    for job in jobs:
        row = truth[job["user"], job["job_id"]]
        assert int(job["polls"]) == row["polls"]
        assert job["seen_state"] == "succeeded"
        late = float(job["latency_s"]) - row["detection_latency_s"]
        assert -0.01 <= late <= slowest, (job, row, slowest)


def test_the_jobs_metrics_are_in_locusts_html_report_and_beside_its_csv(swarm):
    _, jobs, _, out = swarm
    with (out / "locust_polling.csv").open() as f:
        (row,) = list(csv.DictReader(f))
    assert row["Strategy"] == "fixed(3)" and int(row["Jobs"]) == len(jobs)
    polls = sum(int(j["polls"]) for j in jobs) / len(jobs)
    assert float(row["Polls per job"]) == pytest.approx(polls, abs=0.05)
    page = (out / "report.html").read_text()
    section = page[page.index('<section id="pollsim"') :]
    assert "Detection latency p50" in section and f"<td>{len(jobs)}</td>" in section
    assert page.rstrip().endswith("</html>")  # Locust's page, whole, around it


def test_the_locustfiles_options_are_listed_with_locusts_own():
    # Locust prints --help before it loads a locustfile (locust issue 2917): the module
    # lists them itself, the token's environment variable among them
    r = subprocess.run(
        [sys.executable, "-m", "loadtests.locustfile"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr[-2000:]
    for option in ("--strategy", "--dialect", "--token", "POLLSIM_TOKEN", "--pollsim-csv", "-u"):
        assert option in r.stdout, option
    for option in ("--tenant", "POLLSIM_TENANT", "--server-seed", "google-lro"):
        assert option in r.stdout, option


def test_a_dialect_whose_paths_name_a_project_asks_for_the_tenant(tmp_path):
    """Without --tenant no path of google's can be written: the locustfile says so in
    one line and exits 2 before any user starts, rather than each user failing alone
    for the whole run."""
    server = start(20)
    try:
        r = subprocess.run(
            [
                sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", server.url,
                "--headless", "-u", "2", "-r", "2", "-t", "30s", "--dialect", "google-lro",
                "--token", "tok-a", "--csv", str(tmp_path / "locust"), "--only-summary",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={k: v for k, v in os.environ.items() if k != "POLLSIM_TENANT"},
        )  # fmt: skip
        report = call(server, "GET", "/_admin/report", token=ADMIN).json
    finally:
        server.stop()
    assert r.returncode == 2, r.stderr[-2000:]
    assert "--dialect google-lro needs --tenant (or POLLSIM_TENANT)" in r.stderr
    assert "Traceback" not in r.stderr
    assert report["totals"]["polls"] == 0  # no user asked anything
