"""What the issue asks of the swarm's clients, measured by the server's ground truth:
polling delay of the presets, give-ups, Retry-After honoured or not."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from pollsim.loadtest_measures import strategy_of as users_strategy
from tests.loadtests.measured import round_trip
from tests.mock_server.server import QA

pytestmark = [pytest.mark.live, pytest.mark.slow]

POLLSIM = (sys.executable, "-m", "pollsim")

RANDOM_JOBS = """
[[templates]]
name = "random"

[[templates.steps]]
id = "work"
duration = { dist = "uniform", low = "5s", high = "25s" }
"""


def loadtest(tmp_path: Path, scenario_extra: str, *args: str) -> tuple[dict, list[dict]]:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(QA.read_text().split("[[templates]]")[0] + scenario_extra)
    out = tmp_path / "out"
    r = subprocess.run(
        [*POLLSIM, "loadtest", str(scenario), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    truth = json.loads((out / "truth.json").read_text())
    return truth, truth["jobs"]


def strategy_of(out_jobs: Path) -> dict:
    """Each client's strategy, from the jobs the swarm finished."""
    with out_jobs.open() as f:
        return {r["user"]: r["strategy"] for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("presets")
    truth, rows = loadtest(
        tmp, RANDOM_JOBS, "--strategy", "ordo-js", "--strategy", "generic-js",
        "--users", "30", "--duration", "25s", "--speed", "20",
    )  # fmt: skip
    stats = tmp / "out" / "locust_stats.csv"
    return truth, rows, strategy_of(tmp / "out" / "jobs.csv"), stats


@pytest.mark.parametrize(("preset", "interval"), [("ordo-js", 3.0), ("generic-js", 2.0)])
def test_a_presets_mean_polling_delay_is_half_its_interval(presets, preset, interval):
    _, rows, strategies, stats = presets
    delays = [
        r["polling_delay_s"]
        for r in rows
        if strategies.get(r["client"]) == preset and r["polling_delay_s"] is not None
    ]
    assert len(delays) >= 150
    mean = sum(delays) / len(delays)
    # the next poll waits the interval from the last answer: a round trip (the run's
    # mean, simulated seconds) lengthens each gap, and half of it the mean delay
    trip = round_trip(stats, "/ordo/jobs/[id]", 20, "Average Response Time")
    low, high = 0.9 * interval / 2, 1.1 * interval / 2 + trip
    assert low <= mean <= high, (preset, mean, len(delays), trip)


def test_generic_js_gives_up_after_60_s_on_a_longer_job(tmp_path):
    loadtest(
        tmp_path, RANDOM_JOBS, "--strategy", "generic-js", "--users", "3",
        "--duration", "5s", "--speed", "20", "--job-duration", "5m",
    )  # fmt: skip
    out = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert out["generic-js"]["gave_up"] == out["generic-js"]["jobs"] >= 3
    with (tmp_path / "out" / "jobs.csv").open() as f:
        given_up = {r["job_id"] for r in csv.DictReader(f)}
    assert len(given_up) >= 3
    truth = json.loads((tmp_path / "out" / "truth.json").read_text())
    # at once, then every 2 s from the last answer, giving up on the first wake past
    # 60 s: 31 polls at 0..60, fewer as round trips add up (the client counts them, as a
    # real one does); its last poll is sent within 2 s and a round trip of 60 s, and the
    # server's first and last requests may be a round trip further apart than the
    # client's: bounds from the longest round trip the run measured (simulated s)
    trip = round_trip(tmp_path / "out" / "locust_stats.csv", "/ordo/jobs/[id]", 20) + 0.01
    for job in (j for j in truth["jobs"] if j["job_id"] in given_up):
        assert 60 - 2 - 2 * trip <= job["watched_s"] <= 60 + trip, (job, trip)
        assert math.floor(60 / (2 + trip)) + 1 <= job["polls"] <= 31, (job, trip)


def test_honouring_retry_after_makes_no_violations_and_fixed_polling_does(tmp_path):
    limited = RANDOM_JOBS + '\n[faults]\nrate_limit = { rate = "2/s", burst = 1 }\n'
    truth, rows = loadtest(
        tmp_path, limited, "--strategy", "retry_after(fixed(3))", "--strategy", "fixed(3)",
        "--users", "6", "--duration", "10s", "--speed", "20",
    )  # fmt: skip
    # every user's strategy, those whose job was still being watched at the end too (a
    # loaded machine finishes fewer jobs in the run's 10 s: not only the finishers count)
    strategies = users_strategy(tmp_path / "out")
    violations: dict[str, int] = {}
    for r in rows:
        s = strategies.get(r["client"])
        if s:
            violations[s] = violations.get(s, 0) + r["retry_after_violations"]
    assert violations["retry_after(fixed(3))"] == 0
    assert violations["fixed(3)"] > 10
    assert truth["totals"]["injected_faults"]["rate_limit"] > 10


def test_the_rate_limit_asked_for_is_no_failure_in_a_dialect_of_its_own_error_shape(tmp_path):
    """google's errors keep the server's kind as an ErrorInfo reason in capitals: the
    swarm reads it there, so that the 429s the scenario's rate limit sends are told
    from failures (the run passes, none counted failed) and named in Locust's table."""
    limited = RANDOM_JOBS + '\n[faults]\nrate_limit = { rate = "2/s", burst = 1 }\n'
    truth, _ = loadtest(
        tmp_path, limited, "--dialect", "google-lro", "--strategy", "fixed(3)",
        "--users", "6", "--duration", "8s", "--speed", "20",
    )  # fmt: skip
    assert truth["totals"]["injected_faults"]["rate_limit"] > 10
    out = tmp_path / "out"
    failures = json.loads((out / "summary.json").read_text())["failures"]
    assert failures["polls"]["failed"] == 0 == failures["submissions"]["failed"]
    with (out / "locust_failures.csv").open() as f:
        errors = {r["Error"] for r in csv.DictReader(f)}
    assert errors == {"CatchResponseError('HTTP 429 rate_limited')"}
