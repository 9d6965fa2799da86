"""``pollsim loadtest`` end to end: the server and the swarm start, run, stop, and leave
their outputs and no process behind."""

from __future__ import annotations

import json
import subprocess
import sys
from unittest.mock import ANY

import pytest

from loadtests.summary import META
from tests.loadtests.measured import mentioning, round_trip
from tests.mock_server.server import QA

POLLSIM = (sys.executable, "-m", "pollsim")


@pytest.mark.live
@pytest.mark.slow
def test_a_loadtest_runs_two_strategies_side_by_side_and_writes_its_outputs(tmp_path):
    out = tmp_path / "lt"
    r = subprocess.run(
        [*POLLSIM, "loadtest", str(QA), "--strategy", "fixed(3)", "--strategy", "fixed(7)",
         "--users", "6", "--duration", "6s", "--speed", "20", "--template", "chain",
         "--job-duration", "5s", "--out", "lt"],  # relative, as a user types it
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"fixed(3)", "fixed(7)", "server", "warnings", *META[2:]}
    assert summary["warnings"] == []  # a small swarm saturates nothing
    assert summary["problem"] is None and not summary["partial"]
    assert summary["failures"]["polls"] == {"requests": ANY, "failed": 0, "error": None}
    # jobs end at 10 s: seen at 12 s every 3 s (2 s late), at 14 s every 7 s (4 s late),
    # each poll later by the round trips before it (the run's median, simulated s)
    trip = round_trip(out / "locust_stats.csv", "/ordo/jobs/[id]", 20, "50%")
    for strategy, late, polls in (("fixed(3)", 2, 4), ("fixed(7)", 4, 2)):
        p50 = summary[strategy]["detection_latency_s"]["p50"]
        assert late - 0.5 <= p50 <= late + 0.5 + (polls + 1) * trip, (strategy, p50, trip)
    truth = json.loads((out / "truth.json").read_text())
    assert summary["server"]["requests"] == sum(x["count"] for x in truth["totals"]["requests"])
    page = (out / "report.html").read_text()
    assert "fixed(7)" in page and "latency_cdf.png" in page and "load.png" in page
    for name in ("locust_stats.csv", "locust.html", "jobs.csv", "swarm.py", "latency_cdf.png"):
        assert (out / name).stat().st_size > 0
    assert "fixed(3)" in r.stdout and "fixed(7)" in r.stdout
    read_back(out, trip)


def read_back(out, trip):
    """The folder read back as DataFrames: the clients' figures match the server's, and
    the model, polling the very jobs the server ran, predicts the polls per job."""
    from loadtests.reading import comparison, predict, read, side_by_side, totals
    from loadtests.reading_plots import latency_plot, locust_plot, polls_plot
    from sim.plots import figure_problems

    lt = read(out)
    both = side_by_side(lt)
    assert list(both.index) == ["fixed(3)", "fixed(7)"]
    assert (both["polls_per_job_clients"] == both["polls_per_job_server"]).all()
    slowest = round_trip(out / "locust_stats.csv", "/ordo/jobs/[id]", 20) + 0.01
    assert (both["latency_p50_clients"] - both["latency_p50_server"]).abs().max() <= slowest
    run = totals(lt).iloc[0]
    assert run["speed"] == 20 and run["requests_server"] >= both["jobs"].sum() * 2
    model = predict(lt)
    assert len(model) == len(lt.watched) == both["jobs"].sum()
    table = comparison(lt, model)
    assert (table["polls_per_job_error"].abs() < 0.15 + 2 * trip / 3).all(), (table, trip)
    # jobs end 10 s after submission: every 3 s sees them 2 s late, every 7 s 4 s late
    assert table.loc["fixed(3)", "latency_p50_model"] == pytest.approx(2, abs=0.6)
    assert table.loc["fixed(7)", "latency_p50_model"] == pytest.approx(4, abs=0.6)
    for fig in (locust_plot(lt), latency_plot(lt, model), polls_plot(table)):
        assert figure_problems(fig) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--strategy", "wobble(3)"], "--strategy"),
        (["--duration", "soon"], "--duration 'soon'"),
        (["--duration", "0"], "--duration '0': expected 1 s to 7 days"),
        (["--duration", "nan"], "--duration 'nan'"),
        (["--job-duration", "1e400"], "--job-duration '1e400'"),
        (["--max-failures", "2"], "--max-failures: found '2'"),
        (["--max-failures", "150%"], "--max-failures: found '150%'"),
        (["--users", "0"], "--users: found 0, expected 1 to 100,000"),
        (["--workers", "1000"], "--workers: found 1000, expected 0 to 64"),
        (["--spawn-rate", "inf"], "--spawn-rate: found inf"),
        (["--seed", "-1"], "--seed: found -1, expected 0 to 9,223,372,036,854,775,807"),
        (["no/such.toml"], "no such scenario file"),
        (["--out", "/proc/nope/x"], "--out /proc/nope/x: cannot write a folder there"),
        (["--speed", "1e308"], "--speed: found 1e+308, expected a number > 0, at most 1,000,000"),
        (["--dialect", "soap"], "choice: 'soap' (choose from "),  # the words: the parser's
    ],
)
def test_bad_loadtest_arguments_get_one_line(args, words, tmp_path):
    r = subprocess.run(
        [*POLLSIM, "loadtest", "--out", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and words in r.stderr and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.live
@pytest.mark.slow
def test_two_locust_workers_give_the_counts_of_one_process_and_leave_nothing(tmp_path):
    for workers in ("0", "2"):
        out = tmp_path / f"w{workers}"
        r = subprocess.run(
            [*POLLSIM, "loadtest", str(QA), "--strategy", "fixed(3)", "--users", "8",
             "--duration", "8s", "--speed", "20", "--template", "chain",
             "--job-duration", "5s", "--workers", workers, "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=180,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr[-3000:]
        assert mentioning(str(out)) == []  # master, workers and server gone
        every_job_counted_once(out, users=8)


@pytest.mark.live
@pytest.mark.slow
@pytest.mark.parametrize("name", ["google-lro", "fiddler-v3"])
def test_a_loadtest_speaks_each_new_dialect_as_its_object_says(tmp_path, name):
    """google's paths under the swarm's tenant as project, fiddler-v3's UUIDs mapped back
    to the server's ids (the scenario's seed): every job the clients saw end is the
    server's, polled as often as it counts. (azure's job, named by its Operation-Location,
    is the live client's in every dialect: tests/loadtests/test_live.py; a swarm adds
    nothing a dialect's own paths change.)"""
    from loadtests.live import request_names
    from loadtests.runner import TENANT
    from sim.dialects import get_dialect

    out = tmp_path / name
    r = subprocess.run(
        [*POLLSIM, "loadtest", str(QA), "--dialect", name, "--strategy", "fixed(3)",
         "--users", "4", "--duration", "6s", "--speed", "20", "--template", "chain",
         "--job-duration", "5s", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    submit, poll = request_names(get_dialect(name), TENANT)
    assert "{" not in submit + poll and "[id]" in poll
    summary = json.loads((out / "summary.json").read_text())
    for kind, named in (("submissions", submit), ("polls", poll)):
        assert summary["failures"][kind]["failed"] == 0
        assert summary["failures"][kind]["requests"] > 0, (kind, named)
    every_job_counted_once(out, users=4)
    # jobs end at 10 s, seen at 12 s (2 s late), each poll later by the round trips before it
    trip = round_trip(out / "locust_stats.csv", poll, 20, "50%")
    p50 = summary["fixed(3)"]["detection_latency_s"]["p50"]
    assert 1.5 <= p50 <= 2.5 + 5 * trip, (p50, trip)
    assert "fixed(3)" in r.stdout and "server:" in r.stdout


def every_job_counted_once(out, users: int) -> None:
    """The clients' rows, merged from every worker, are the jobs the server saw seen to
    their end, less at most one a user whose last answer the end of the run cut off;
    and their polls are the server's."""
    import csv

    with (out / "jobs.csv").open() as f:
        rows = {(r["user"], r["job_id"]): int(r["polls"]) for r in csv.DictReader(f)}
    truth = json.loads((out / "truth.json").read_text())["jobs"]
    seen = {(t["client"], t["job_id"]): t["polls"] for t in truth if t["t_seen"] is not None}
    assert len(rows) >= users  # each user watched a job to its end
    assert set(rows) <= set(seen) and len(seen) - len(rows) <= users
    assert all(seen[k] == polls for k, polls in rows.items())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fixed(3)"]["jobs"] == len(rows)


def test_saturation_is_reported_from_locusts_warning_and_the_servers_cpu(tmp_path):
    from loadtests.runner import saturation

    log = tmp_path / "locust.log"
    log.write_text("[...] WARNING/root: CPU usage above 90%! This may constrain ...\n")
    found = saturation(log, server_busy=0.95)
    assert len(found) == 2 and "load generator" in found[0] and "95%" in found[1]
    log.write_text("all well\n")
    assert saturation(log, server_busy=0.3) == []
