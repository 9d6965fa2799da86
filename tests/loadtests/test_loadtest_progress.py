"""``pollsim loadtest`` as a user at a terminal sees it: one real run (a real server, a
real Locust process, a pseudo-terminal for its output) read for its progress line, the
names Locust gives each strategy, the run's parameters and an assertion that fails; one
run with the web UI, whose address it prints and whose main page has the Polling tab."""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
import urllib.request
from datetime import datetime

import pytest

from loadtests.progress import LIVE_EVERY
from tests.mock_server.server import QA

pytestmark = pytest.mark.live

POLLSIM = (sys.executable, "-m", "pollsim")
STRATEGIES = ("fixed(3)", "full_jitter(fixed(6))")


def in_a_terminal(cmd: list[str], timeout: float) -> tuple[int, str]:
    """Run ``cmd`` with a pseudo-terminal for its stdin, stdout and stderr, as at a
    shell; its exit status and everything it wrote there."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "250"}  # no line cut to the width
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every holder of the terminal's other end has gone
                break
            if not data:
                break
            chunks.append(data)
        else:
            proc.kill()
            pytest.fail(f"still running after {timeout} s")
        code = proc.wait(30)
    finally:
        os.close(master)
    return code, b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Two strategies, four users, six wall seconds at speed 20, with one assertion
    that holds and one that cannot (every job is polled 4 times)."""
    out = tmp_path_factory.mktemp("progress") / "lt"
    cmd = [*POLLSIM, "loadtest", str(QA), "--out", str(out), "--users", "4",
           "--duration", "6s", "--speed", "20", "--template", "chain", "--job-duration", "5s",
           "--strategy", STRATEGIES[0], "--strategy", STRATEGIES[1],
           "--assert", "retry_after_violations == 0", "--assert", "max(polls) < 2",
           "--client", "*", "--junit", str(out.parent / "gate.xml")]  # fmt: skip
    code, text = in_a_terminal(cmd, timeout=180)
    summary = json.loads((out / "summary.json").read_text())
    return code, text, summary, out


def test_a_terminal_sees_the_progress_redrawn_every_second(run):
    _, text, summary, _ = run
    draws = [part for part in re.split(r"[\r\n]", text) if part.startswith("loadtest: ")]
    *live, final = draws
    # a redraw a second while the swarm ran, none more: at least one every few seconds
    ran = summary["wall_s"]
    assert ran / 3 <= len(live) <= ran / LIVE_EVERY + 2, (len(live), ran)
    assert all(d.endswith("\x1b[K") for d in live)  # each drawn over the one before
    live = [d.removesuffix("\x1b[K") for d in live]
    assert live[0].endswith("starting Locust") or "users " in live[0]
    # the figures as the swarm had them: users, requests, jobs
    busy = [d for d in live if "users 4/4" in d]
    assert busy and re.search(r"  [1-9][0-9.]* requests/s", busy[-1]), busy[-3:]
    assert final.startswith("loadtest: done after ") and "users 4 at most" in final, final
    with (run[3] / "jobs.csv").open() as f:
        rows = list(csv.DictReader(f))
    ended = [r for r in rows if r["seen_state"] and r["gave_up"] != "True"]
    ended = [r for r in ended if r["errored"] != "True"]
    assert f", {len(ended)} seen ended" in final and len(ended) >= 4, final
    watched = int(re.search(r"jobs watched (\d+)", final).group(1))
    assert watched >= len(rows)  # those finished, and those the end cut off
    assert "errors 0" in final


def test_an_assertion_that_fails_gives_exit_1_and_says_what_was_measured(run):
    code, text, _, out = run
    assert code == 1, text[-3000:]
    assert "pollsim: " not in text  # the run itself went as asked
    for strategy in STRATEGIES:  # --client '*': each strategy on its own
        assert re.search(rf"PASS retry_after_violations == 0: .*{re.escape(strategy)}", text)
        assert re.search(rf"FAIL max\(polls\) < 2: measured [3-9].*{re.escape(strategy)}", text)
    junit = (out.parent / "gate.xml").read_text()
    assert junit.count("<failure") == 2, junit


def test_locusts_csv_and_html_name_each_strategy(run):
    _, _, _, out = run
    with (out / "locust_stats.csv").open(encoding="utf-8") as f:
        names = {(r["Type"], r["Name"]) for r in csv.DictReader(f)}
    page = (out / "locust.html").read_text(encoding="utf-8")
    for strategy in STRATEGIES:
        for kind, path in (("POST", "/ordo/jobs"), ("GET", "/ordo/jobs/[id]")):
            name = f"{path} · {strategy}"
            assert (kind, name) in names, names
            assert json.dumps(name) in page  # the report's data, as Locust embeds it
    # the user classes are named after their strategies, in the swarm file and the report
    swarm = (out / "swarm.py").read_text()
    for cls in ("Fixed3", "FullJitterFixed6"):
        assert f"class {cls}(PollingUser):" in swarm and cls in page
    assert "Strategy1" not in swarm


def test_report_and_summary_carry_the_runs_parameters(run):
    _, _, summary, out = run
    params = summary["parameters"]
    assert params["strategies"] == list(STRATEGIES) and params["users"] == 4
    assert params["duration"] == "6s" and params["speed"] == 20 and params["seed"] == 1
    assert params["scenario"].endswith("mock_qa.toml") and params["pollsim_version"]
    assert datetime.fromisoformat(params["date"]).utcoffset().total_seconds() == 0  # UTC
    page = (out / "report.html").read_text()
    top = page.split("<table><tr><th>strategy", 1)[0]  # above the figures
    for shown in ("mock_qa.toml", "fixed(3), full_jitter(fixed(6))", "6s", "20.0"):
        assert shown in top, shown
    assert "pollsim version" in top and params["date"] in top


def test_the_web_ui_is_printed_and_its_main_page_has_the_polling_tab(tmp_path):
    out = tmp_path / "lt"
    cmd = [*POLLSIM, "loadtest", str(QA), "--out", str(out), "--users", "2", "--ui",
           "--duration", "4s", "--speed", "20", "--template", "chain", "--job-duration", "5s",
           "--strategy", "fixed(3)"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "web UI" not in line:  # bounded: the run ends by itself
            line = proc.stderr.readline()
            assert line, proc.communicate(timeout=60)
        ui = re.search(r"(http://127\.0\.0\.1:\d+/) \(the Polling tab: (\S+)\)", line)
        assert ui, line
        page = get(ui.group(1))
        assert '"extended_tabs"' in page and '"Polling"' in page and '"pollsim"' in page
        assert ui.group(2) == ui.group(1) + "?tab=pollsim" and '"Polling"' in get(ui.group(2))
        assert '"Polling"' in get(ui.group(1) + "pollsim")  # the old address leads there
        stats = json.loads(get(ui.group(1) + "stats/requests"))
        assert stats["extended_stats"][0]["key"] == "pollsim"
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    assert "loadtest: done after " in err


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read().decode()


def test_a_strategy_given_twice_or_a_bad_assertion_costs_no_run(tmp_path):
    for args, words in (
        (["--strategy", "fixed(3)", "--strategy", "fixed( 3 )"], "the same strategy as"),
        (["--assert", "p95(nope) < 1s"], "nope"),
        (["--assert", "gave_up == 0", "--client", "fixed(4)"], "not a strategy of this run"),
    ):
        out = tmp_path / "never"
        r = subprocess.run(
            [*POLLSIM, "loadtest", str(QA), "--out", str(out), "--strategy", "fixed(5)", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 2 and words in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
        assert not (out / "server.log").exists()  # nothing was started


def test_a_client_given_as_written_is_taken_as_the_strategy_it_reads_as():
    from pollsim.loadtesting import _check_clients

    clients = ["fixed( 3 )", "*", "ordo-js"]
    _check_clients(clients, {"fixed(3)": "fixed(3)", "ordo-js": "ordo-js"})
    assert clients == ["fixed(3)", "*", "ordo-js"]
