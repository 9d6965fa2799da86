"""``pollsim compare``: the model's prediction beside a live run of the same jobs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from loadtests.compare import PEAK_WINDOW, Side, metrics, table

POLLSIM = (sys.executable, "-m", "pollsim")
SCENARIOS = __import__("pathlib").Path(__file__).resolve().parents[2] / "scenarios"


def side(strategy_counts: dict[str, list[int]], jobs: list[tuple]) -> Side:
    frame = pd.DataFrame(jobs, columns=["strategy", "polls", "gave_up", "detection_latency"])
    return Side(frame, {k: np.array(v) for k, v in strategy_counts.items()})


def test_metrics_take_rates_over_the_span_and_the_peak_over_windows():
    counts = [0] * 30
    counts[12:15] = [5, 7, 8]  # 20 requests in the second window of 10 s
    s = side({"a": counts}, [("a", 10, False, 1.0), ("a", 10, True, None)])
    m = metrics(s, "a", span=40.0)
    assert m["mean_rps"] == 20 / 40
    assert m[f"peak_rps_{PEAK_WINDOW}s"] == 20 / PEAK_WINDOW
    assert m["polls_per_job"] == 10 and m["gave_up"] == 1 and m["latency_p50"] == 1.0


def test_the_table_gives_relative_errors_per_strategy_and_in_all():
    predicted = side({"a": [2, 2], "b": [1]}, [("a", 4, False, 2.0), ("b", 1, False, 4.0)])
    measured = side({"a": [3, 2], "b": [1, 1]}, [("a", 5, False, 3.0), ("b", 2, False, 4.0)])
    t = table(predicted, measured, span=2.0).set_index(["strategy", "metric"])
    assert t.loc[("a", "mean_rps"), "rel_error"] == pytest.approx((2.5 - 2) / 2)
    assert t.loc[("b", "polls_per_job"), "rel_error"] == pytest.approx(1.0)
    assert t.loc[("all", "mean_rps"), "measured"] == pytest.approx(7 / 2)  # lengths differ
    assert np.isnan(t.loc[("a", "gave_up"), "rel_error"])  # nothing predicted: no ratio


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--speed", "0"], "--speed: found 0.0, expected a number > 0"),
        (["--start-in", "-1"], "--start-in: found -1.0"),
        (["--max-failures", "-1"], "--max-failures: found '-1', expected a share"),
        (["--max-failures", "five%"], "--max-failures: found 'five%', expected a share"),
        ([str(SCENARIOS / "workflow_pause_cancel.toml")], "[[controls]]"),
        (["no/such.toml"], "no/such.toml"),
        (["--out", "/proc/nope/x"], "--out /proc/nope/x: cannot write a folder there"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(tmp_path, args, words):
    r = subprocess.run(
        [*POLLSIM, "compare", "--out", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_scenario_past_the_run_bounds_is_one_line_before_anything_starts(tmp_path):
    scenario = tmp_path / "big.toml"
    scenario.write_text('horizon = "2h"\n[arrivals]\nrate = "500/s"\n')
    r = subprocess.run(
        [*POLLSIM, "compare", str(scenario), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert "arrivals.rate: 3,600,000 jobs expected" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "out" / "server.log").exists()  # no process was started


@pytest.fixture(scope="module")
def default_compare(tmp_path_factory):
    """The default scenario through the model and live (about two and a half minutes)."""
    out = tmp_path_factory.mktemp("compare")
    r = subprocess.run(
        [*POLLSIM, "compare", "--speed", "60", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return out, r, json.loads((out / "compare.json").read_text())


@pytest.mark.live
@pytest.mark.slow
def test_on_the_default_scenario_the_model_predicts_the_live_load_and_latency(default_compare):
    out, _, result = default_compare
    # a live client's poll comes a round trip after the model's: the run's own 95th
    # percentile of one (simulated seconds) is allowed on top of the model's latency
    # error; and each gap between polls is longer by its mean round trip, which thins
    # the load by up to that share of the shortest gap (generic-js: 2 s) and delays
    # the jobs' uptake as much (a loaded machine: 34 ms a poll at speed 60, -45% load)
    trip = status_round_trip(out, result["speed"], "95%")
    slack = status_round_trip(out, result["speed"], "Average Response Time") / 2.0
    rows = {(r["strategy"], r["metric"]): r for r in result["rows"]}
    strategies = {s for s, _ in rows}
    assert strategies == {"ordo-js", "generic-js", "fiddler-py", "all"}
    for s in strategies:
        load = rows[s, "mean_rps"]
        assert abs(load["rel_error"]) <= 0.10 + slack, (load, slack)
        p50 = rows[s, "latency_p50"]
        if p50["predicted"] is not None:  # generic-js gives up on every job: none seen
            allowed = max(0.10 * p50["predicted"], 0.25) + trip
            assert abs(p50["measured"] - p50["predicted"]) <= allowed, p50
    # the same jobs on both sides: the same give-ups, near enough
    gave_up = rows["generic-js", "gave_up"]
    assert gave_up["predicted"] > 100
    assert abs(gave_up["measured"] - gave_up["predicted"]) <= 0.02 * gave_up["predicted"]
    assert result["late_jobs"] <= (0.01 + slack) * result["jobs"], (result["late_jobs"], slack)
    assert result["unfinished"] == 0 and not result["partial"] and result["problem"] is None


def status_round_trip(out, speed: float, column: str) -> float:
    """A round trip of the swarm's status polls (a column of Locust's stats: ``95%``,
    ``Average Response Time``), in simulated seconds."""
    stats = pd.read_csv(out / "locust_stats.csv")
    polls = stats[stats["Name"].str.endswith("/[id]")]
    return float(polls[column].max()) / 1000 * speed


@pytest.mark.live
@pytest.mark.slow
def test_compare_prints_the_table_and_writes_its_report(default_compare):
    out, r, _ = default_compare
    assert "ordo-js" in r.stdout and "detection latency p50" in r.stdout and "%" in r.stdout
    page = (out / "report.html").read_text()
    assert "compare_load.png" in page and "compare_latency.png" in page and "fiddler-py" in page
    for name in ("compare_load.png", "compare_latency.png", "compare.csv", "schedule.csv"):
        assert (out / name).stat().st_size > 0
    for name in ("server.log", "locust.log"):  # the children's output, none in a pipe
        assert (out / name).stat().st_size > 0
    assert "listening on" in (out / "server.log").read_text()
    assert not r.stderr.count("Traceback")
    # three strategies and all, seven metrics each (errored beside gave_up)
    table = pd.read_csv(out / "compare.csv")
    assert len(table) == 4 * 7 and set(table["metric"]) >= {"gave_up", "errored"}


@pytest.mark.live
@pytest.mark.slow
def test_a_server_killed_mid_compare_ends_it_in_one_line_with_partial_results(tmp_path):
    import os
    import signal
    import time

    scenario = tmp_path / "qa.toml"
    text = (SCENARIOS / "mock_qa.toml").read_text().replace('rate = "60/h"', 'rate = "600/h"')
    scenario.write_text(text + '\n[clients]\nstrategy = "fixed(3)"\n')
    out = tmp_path / "out"
    cmd = [*POLLSIM, "compare", str(scenario), "--speed", "20", "--start-in", "1"]
    proc = subprocess.Popen(
        [*cmd, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    for _ in range(600):  # bounded: a minute for the model and the swarm to start
        if (out / "locust.pid").exists() and (out / "requests.jsonl").stat().st_size:
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    os.kill(int((out / "server.pid").read_text()), signal.SIGKILL)
    _, err = proc.communicate(timeout=120)  # the live run was to take three minutes
    assert proc.returncode == 1, err[-3000:]
    (line,) = err.strip().splitlines()
    assert "the mock server was killed by SIGKILL" in line and "partial results" in line
    result = json.loads((out / "compare.json").read_text())
    assert result["partial"] and result["problem"] in line
    assert "Partial" in (out / "report.html").read_text()
    assert not list(out.glob("*.pid"))


@pytest.mark.live
@pytest.mark.slow
@pytest.mark.parametrize("name", ["fiddler-v3", "google-lro"])
def test_compare_adopts_the_models_jobs_in_a_dialect_of_uuids_or_projects(tmp_path, name):
    """The model's job ``k`` is the server's ``k + 1`` as the dialect shows it: a UUID
    derived from the scenario's seed (mock_qa's is 3, not the default's), or an
    operation under the background tenant's project. Every one is watched to its end
    and polled as the model predicts."""
    text = (SCENARIOS / "mock_qa.toml").read_text()
    changes = [('dialect = "ordo"', f'dialect = "{name}"'), ('horizon = "1h"', 'horizon = "5m"')]
    for old, new in [*changes, ('rate = "60/h"', 'rate = "240/h"')]:
        assert old in text
        text = text.replace(old, new)
    scenario = tmp_path / "qa.toml"
    scenario.write_text(text + '\n[clients]\nstrategy = "fixed(3)"\n')
    out = tmp_path / "out"
    r = subprocess.run(
        [*POLLSIM, "compare", str(scenario), "--speed", "30", "--start-in", "6", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads((out / "compare.json").read_text())
    assert result["jobs"] > 5 and result["unfinished"] == 0 and result["warnings"] == []
    assert result["failures"]["polls"]["failed"] == 0 < result["failures"]["polls"]["requests"]
    rows = {(x["strategy"], x["metric"]): x for x in result["rows"]}
    # each gap between polls is longer by a round trip: fewer polls by up to that share
    # of the 3 s gap (the run's mean round trip, simulated seconds)
    slack = status_round_trip(out, 30, "Average Response Time") / 3
    polls = rows["fixed(3)", "polls_per_job"]
    assert polls["measured"] == pytest.approx(polls["predicted"], rel=0.05 + slack), polls
