"""``pollsim loadtest`` says what happened, however the run ends: a server that writes
much does not freeze it, rejected submissions fail it in one line instead of a tight
loop, a child killed mid-run stops the other and leaves a partial summary, jobs cut off
by the end are unfinished (not given up), and the tokens stay out of ``ps``."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.loadtests.measured import mentioning
from tests.mock_server.server import QA

pytestmark = pytest.mark.live

POLLSIM = (sys.executable, "-m", "pollsim")


def loadtest(out: Path, *args: str, scenario: Path = QA, timeout: float = 120):
    """A short run, as a user types it; the finished process."""
    return subprocess.run(
        [*POLLSIM, "loadtest", str(scenario), "--out", str(out), "--speed", "20", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def said(err: str) -> list[str]:
    """pollsim's own lines of its stderr, apart from the progress lines (``loadtest:``,
    which end with one that says where the swarm ended)."""
    lines = err.strip().splitlines()
    progress = [line for line in lines if line.startswith("loadtest: ")]
    assert progress and progress[-1].startswith("loadtest: done after "), err[-3000:]
    return [line for line in lines if not line.startswith("loadtest: ")]


def started(out: Path, cmd: list[str]) -> tuple[subprocess.Popen, dict[str, int]]:
    """A long run in the background, once its server and Locust are up: the command
    and the children's pids (from the pid files in the run folder)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(600):  # bounded: 60 s
        if (out / "locust.pid").exists() and (out / "locust_stats_history.csv").exists():
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    pids = {p.stem: int(p.read_text()) for p in out.glob("*.pid")}
    return proc, pids


def test_a_server_that_writes_much_to_its_output_does_not_freeze_the_run(tmp_path):
    # every status request logged to the server's stderr: far more than a pipe holds
    noisy = tmp_path / "noisy.toml"
    noisy.write_text(QA.read_text() + '\n[serve]\nrequest_log = "/dev/stderr"\n')
    out = tmp_path / "out"
    r = loadtest(
        out, "--strategy", "fixed(0.5)", "--users", "8", "--duration", "4",
        "--template", "chain", "--job-duration", "2", scenario=noisy,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    log = (out / "server.log").read_text()
    truth = json.loads((out / "truth.json").read_text())
    polls = sum(job["polls"] for job in truth["jobs"])
    assert len(log) > 1.5 * 65_536  # a pipe nobody read froze the server at 64 KiB
    assert log.count('"client"') >= polls > 500  # the server wrote every poll, and went on
    assert "Shutting down" in (out / "locust.log").read_text()  # Locust's output too
    assert "Bearer" not in r.stdout + r.stderr


def test_rejected_submissions_fail_the_run_in_one_line_without_a_tight_loop(tmp_path):
    out = tmp_path / "out"
    began = time.monotonic()
    r = loadtest(out, "--template", "nope", "--users", "4", "--duration", "4")
    took = time.monotonic() - began
    assert r.returncode == 1, r.stderr[-3000:]
    (line,) = said(r.stderr)
    assert "submissions failed (100.0%" in line and "--max-failures 5.0%" in line, line
    assert "HTTP 4" in line or "HTTPError" in line or "40" in line, line
    summary = json.loads((out / "summary.json").read_text())
    sub = summary["failures"]["submissions"]
    assert sub["failed"] == sub["requests"] > 0
    # each user waits at least half a second after a rejection: at most two a second
    # per user over the time the command took (the old loop made about a thousand)
    assert sub["requests"] <= 4 * (2 * took + 1), (sub, took)
    assert summary["problem"] == line.removeprefix("pollsim: ").split("; results in")[0]
    assert not summary["partial"]


def test_a_run_with_few_failures_under_the_limit_passes_and_over_it_fails(tmp_path):
    from loadtests.failures import verdict

    counts = {"submissions": {"requests": 100, "failed": 5, "error": "HTTP 500"}}
    counts["polls"] = {"requests": 1000, "failed": 0, "error": None}
    assert verdict(counts, 0.05) is None
    line = verdict(counts, 0.04)
    assert line.startswith("5 of 100 submissions failed (5.0%") and line.endswith(": HTTP 500")


@pytest.mark.parametrize(
    ("victim", "sig"),
    [("server", signal.SIGKILL), ("locust", signal.SIGKILL), ("locust", signal.SIGTERM)],
)
def test_a_child_killed_mid_run_stops_the_run_with_one_line_and_a_partial_summary(
    tmp_path, victim, sig
):
    """Locust ends on a SIGTERM as it does on its own (exit status 0, its files written):
    ending before its run time is what says it was stopped."""
    out = tmp_path / "out"
    cmd = [*POLLSIM, "loadtest", str(QA), "--out", str(out), "--speed", "20", "--users", "4",
           "--strategy", "fixed(3)", "--template", "chain", "--job-duration", "5",
           "--duration", "10m"]  # fmt: skip
    proc, pids = started(out, cmd)
    time.sleep(1.5)  # some jobs watched to their end
    os.kill(pids[victim], sig)
    killed = time.monotonic()
    _, err = proc.communicate(timeout=120)  # far less than the 10 minutes asked for
    detected = time.monotonic() - killed
    assert proc.returncode == 1, err[-3000:]
    (line,) = said(err)
    who = {"server": "the mock server", "locust": "Locust"}[victim]
    how = f"{who} was killed by SIGKILL" if sig == signal.SIGKILL else f"{who} ended "
    assert how in line and "partial results in" in line, line
    assert "wrote report.html" not in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] and summary["problem"] in line
    assert "Partial" in (out / "report.html").read_text()
    if victim == "server":  # the clients' own figures up to then
        assert summary["fixed(3)"]["jobs"] >= 1 and summary["server"]["requests"] is None
    else:  # the server's ground truth up to then
        assert summary["server"]["requests"] > 0
        assert (out / "truth.json").exists()
    assert mentioning(str(out)) == []  # the other child stopped too
    assert not list(out.glob("*.pid"))
    print(f"{victim} killed: the command ended {detected:.2f} s later")


def test_jobs_cut_off_by_the_end_are_unfinished_not_given_up(tmp_path):
    out = tmp_path / "out"
    r = loadtest(
        out, "--strategy", "fixed(3)", "--users", "3", "--duration", "3",
        "--template", "chain", "--job-duration", "5m",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    mine = summary["fixed(3)"]
    assert mine["jobs"] == 0 and mine["gave_up"] == 0 and mine["unfinished"] == 3
    truth = json.loads((out / "truth.json").read_text())
    assert truth["totals"]["gave_up"] == 0 and truth["totals"]["unfinished"] == 3
    assert 0 < summary["server"]["until_s"] <= truth["now"]  # when the clients stopped
    assert "unfinished" in r.stdout and "unfinished" in (out / "report.html").read_text()


def test_the_swarm_runs_as_long_as_asked(tmp_path):
    # gevent's loop kept its time from before the locustfile's imports, and Locust's
    # --run-time timer ended a 4 s run after about 1.3 s: its own log says how long
    out = tmp_path / "out"
    r = loadtest(out, "--strategy", "fixed(3)", "--users", "1", "--duration", "4",
                 "--template", "chain", "--job-duration", "5")  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    stamps = {}
    for line in (out / "locust.log").read_text().splitlines():
        for what in ("Run time limit set", "--run-time limit reached"):
            if what in line:
                stamps[what] = datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f")
    ran = stamps["--run-time limit reached"] - stamps["Run time limit set"]
    assert ran.total_seconds() >= 4 - 0.05, ran  # a busy machine makes it longer only


def test_the_tokens_are_in_no_command_line(tmp_path):
    out = tmp_path / "out"
    cmd = [*POLLSIM, "loadtest", str(QA), "--out", str(out), "--speed", "20", "--users", "2",
           "--strategy", "fixed(3)", "--template", "chain", "--job-duration", "5",
           "--duration", "3"]  # fmt: skip
    proc, pids = started(out, cmd)
    env = Path(f"/proc/{pids['locust']}/environ").read_bytes().split(b"\0")
    (token,) = [e.split(b"=", 1)[1].decode() for e in env if e.startswith(b"POLLSIM_TOKEN=")]
    commands = mentioning(str(out))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    assert len(commands) >= 2 and len(token) >= 16
    assert not [c for c in commands if token in c or "--token" in c], commands
    with (out / "jobs.csv").open() as f:
        assert len(list(csv.DictReader(f))) >= 1  # and Locust used it


def test_a_sigterm_to_the_load_test_stops_its_children_and_keeps_what_was_measured(tmp_path):
    """Python's default for SIGTERM left the children running; then the run ended with
    'pollsim: interrupted' and wrote nothing of what it had measured."""
    out = tmp_path / "out"
    cmd = [*POLLSIM, "loadtest", str(QA), "--out", str(out), "--speed", "20", "--users", "2",
           "--strategy", "fixed(3)", "--duration", "10m"]  # fmt: skip
    proc, _ = started(out, cmd)
    time.sleep(3)  # some polls to keep
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    (line,) = said(err)
    assert proc.returncode == 1, err[-3000:]
    assert line.startswith("pollsim: interrupted ") and "partial results in" in line, err
    assert mentioning(str(out)) == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] and summary["problem"].startswith("interrupted")
    truth = json.loads((out / "truth.json").read_text())
    assert truth["totals"]["polls"] > 0  # the server's ground truth, as the swarm stopped
