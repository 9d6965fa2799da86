"""The run's parameters, as summary.json keeps them and report.html shows them at its
top; and what ``--assert`` on a load test measures: the server's ground truth, a group
per strategy."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from loadtests.parameters import LABELS, as_html, parameters
from loadtests.report import write
from loadtests.runner import Plan


def test_the_parameters_say_what_was_run_when_and_by_which_pollsim():
    plan = Plan("scenarios/mock_qa.toml", ["fixed(3)", "ordo-js"], users=7, duration="9s")
    params = parameters(plan, datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    assert params["scenario"] == "scenarios/mock_qa.toml" and params["users"] == 7
    assert params["strategies"] == ["fixed(3)", "ordo-js"] and params["duration"] == "9s"
    assert params["speed"] == 60 and params["seed"] == 1 and params["dialect"] == "ordo"
    assert params["date"] == "2026-12-01T08:30:00+00:00"
    assert params["pollsim_version"] not in ("", None) and set(params) <= set(LABELS)
    json.dumps(params)  # summary.json holds it
    default = parameters(Plan(None, ["fixed(3)"]), datetime.now(UTC))
    assert default["scenario"] == "(the default scenario)"


def test_report_html_shows_the_parameters_above_the_figures_escaped(tmp_path: Path):
    plan = Plan(None, ["fixed(3) | after_polls(2)", "<b>"], users=3)
    summary = {
        "fixed(3) | after_polls(2)": {
            "jobs": 2,
            "polls_per_job": 3.0,
            "gave_up": 0,
            "errored": 0,
            "unfinished": 0,
            "detection_latency_s": {"p50": 1.0, "p95": 2.0},
        },
        "server": {"requests": 9},
        "warnings": [],
        "failures": {},
        "partial": False,
        "problem": None,
        "parameters": parameters(plan, datetime(2026, 12, 1, tzinfo=UTC)),
        "wall_s": 3.2,
    }
    page = write(tmp_path, summary).read_text()
    top, figures = page.split("<table><tr><th>strategy", 1)
    assert "<th>strategies</th><td>fixed(3) | after_polls(2), &lt;b&gt;</td>" in top
    assert "<th>users</th><td>3</td>" in top and "2026-12-01T00:00:00+00:00" in top
    assert "<b>" not in page.split("<body>", 1)[1] and "fixed(3) | after_polls(2)" in figures
    assert as_html({}) == ""


def test_assertions_measure_the_ground_truth_a_group_per_strategy(tmp_path: Path):
    from pollsim.loadtest_measures import measures

    truth = {
        "now": 30.0,
        "until": 30.0,
        "jobs": [
            job("locust-1", polls=4, latency=2.0),
            job("locust-2", polls=2, latency=4.0),
            job("locust-2", polls=5, latency=None, unfinished=True),
            job("someone-else", polls=99, latency=1.0),  # not the swarm's: left out
        ],
        "totals": {},
    }
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    (tmp_path / "jobs_users.csv").write_text("user,strategy\nlocust-1,fixed(3)\nlocust-2,ordo-js\n")
    found = measures(tmp_path)
    assert found.source == "loadtest" and found.noun == "strategy"
    assert sorted(found.groups()) == ["fixed(3)", "ordo-js"]
    assert found.jobs.groupby("group")["polls"].sum().to_dict() == {"fixed(3)": 4, "ordo-js": 7}
    assert not found.has("requests_per_second")  # no journal kept: said, not guessed
    assert "journal" in found.missing["requests_per_second"]
    # the journal: requests per simulated second from the swarm's first request
    records = [req("locust-1", t) for t in (10.2, 10.5, 11.3)] + [req("locust-2", 12.0)]
    records.append(req("someone-else", 11.0))
    (tmp_path / "requests.json").write_text(json.dumps({"requests": records, "dropped": 0}))
    load = measures(tmp_path).load
    mine = load[load["group"] == "fixed(3)"].set_index("second")["requests_per_second"]
    assert mine[0] == 2 and mine[1] == 1 and mine.sum() == 3 and len(mine) == 20  # 10.2 to 30
    assert load[load["group"] == "ordo-js"]["requests_per_second"].sum() == 1
    (tmp_path / "requests.json").write_text(json.dumps({"requests": records, "dropped": 5}))
    found = measures(tmp_path)
    assert (
        not found.has("requests_per_second") and "dropped 5" in found.missing["requests_per_second"]
    )


def job(client: str, polls: int, latency: float | None, unfinished: bool = False) -> dict:
    return {
        "client": client,
        "polls": polls,
        "wasted_polls": 0,
        "retry_after_violations": 0,
        "gave_up": False,
        "errored": False,
        "unfinished": unfinished,
        "detection_latency_s": latency,
    }


def req(client: str, t: float) -> dict:
    return {"t": t, "client": client, "method": "GET", "path": "/ordo/jobs/1", "status": 200}
