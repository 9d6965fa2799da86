"""report.html's detection-latency CDF keeps every strategy: one whose clients saw no
job end is a legend entry that says why, not a strategy missing from the figure."""

from __future__ import annotations

import csv

from loadtests.report import latency_chart, latency_plot
from sim.plots import figure_problems

#: jobs.csv's columns (loadtests.locust_stats.JOB_FIELDS, which imports Locust)
JOB_FIELDS = ["user", "strategy", "job_id", "polls", "wasted_polls", "gave_up", "seen_state"]
JOB_FIELDS += ["latency_s", "retry_after_violations", "errors", "late_s", "shown_id", "errored"]


def row(strategy: str, latency: str = "", gave_up: bool = False, errored: bool = False) -> dict:
    return {
        **dict.fromkeys(JOB_FIELDS, ""),
        "user": "locust-1",
        "strategy": strategy,
        "polls": 3,
        "latency_s": latency,
        "gave_up": gave_up,
        "errored": errored,
        "seen_state": "succeeded" if latency else "",
    }


def strategy(unfinished: int) -> dict:
    figures = {"jobs": 0, "polls_per_job": None, "gave_up": 0, "errored": 0}
    return {**figures, "unfinished": unfinished, "detection_latency_s": {}}


def test_a_strategy_that_saw_no_end_is_in_the_legend_with_why(tmp_path):
    rows = [row("fixed(3)", "1.5"), row("fixed(3)", "2.5")]
    rows += [row("after_polls(1)", gave_up=True)] * 3 + [row("after_polls(1)", errored=True)]
    with (tmp_path / "jobs.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=JOB_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    summary = {"fixed(3)": strategy(0), "after_polls(1)": strategy(1), "fixed(600)": strategy(4)}
    summary["server"] = {"requests": 10}
    fig = latency_chart(tmp_path, summary)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == [
        "after_polls(1): no job seen ended (3 gave up, 1 errored, 1 still watching at the end)",
        "fixed(3)",
        "fixed(600): no job seen ended (4 still watching at the end)",
    ]
    assert figure_problems(fig) == []
    assert latency_plot(tmp_path, summary).name == "latency_cdf.png"


def test_when_no_client_saw_an_end_the_figure_says_so(tmp_path):
    fig = latency_chart(tmp_path, {"fixed(600)": strategy(2), "server": {}})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["no client saw a job end"]
    assert latency_chart(tmp_path, {"server": {}}) is None  # no strategy at all: no figure
