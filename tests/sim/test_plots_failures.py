"""The polling plots show failures: ``load.png`` shades the server's outage windows, in
simulated time, with a legend entry per kind; ``latency_cdf.png`` keeps a strategy whose
clients never saw a job end in its legend, saying so and why. Read from the matplotlib
figures themselves (patches, lines, legend texts), not from pixels."""

from __future__ import annotations

import pytest

from sim import loads, simulate
from sim.plots import figure_problems, latency_cdf, load_over_time
from sim.polling_plots import OUTAGE_LABELS
from sim.strategies import parse_strategy
from tests.sim.summary_scenarios import FAULTS, small_herd

UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}


def outage_spans(fig) -> list[tuple[float, float]]:
    """The shaded windows of the load plot, in simulated seconds (read off the x axis's
    unit in its label)."""
    (ax,) = fig.axes
    unit = ax.get_xlabel().split("(")[-1].rstrip(")")
    spans = []
    for patch in ax.patches:
        box = patch.get_bbox()  # data coordinates along x
        spans.append((box.x0 * UNITS[unit], box.x1 * UNITS[unit]))
    return [x for span in sorted(spans) for x in span]  # flat, for pytest.approx


def legend_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


@pytest.fixture(scope="module")
def faults():
    return simulate(loads(FAULTS)).polling


def test_the_load_plot_shades_each_outage_with_a_legend_entry_per_kind(faults):
    fig = load_over_time(faults)
    windows = [(o.start, o.start + o.duration) for o in faults.server.outages]
    assert outage_spans(fig) == pytest.approx([x for w in sorted(windows) for x in w])
    texts = legend_texts(fig)
    for mode in ("503", "no_answer", "stall"):
        assert texts.count(OUTAGE_LABELS[mode]) == 1
    assert {"fixed(2)", "full_jitter(fixed(4))"} <= set(texts)
    # each kind in a colour of its own
    assert len({tuple(patch.get_facecolor()) for patch in fig.axes[0].patches}) == 3
    assert figure_problems(fig) == []


def test_the_herds_stall_is_shaded_where_the_scenario_puts_it():
    p = simulate(loads(small_herd())).polling
    fig = load_over_time(p)
    assert outage_spans(fig) == pytest.approx([120.0, 180.0])  # start "2m", for "60s"
    assert OUTAGE_LABELS["stall"] in legend_texts(fig)


def test_an_outage_past_the_runs_end_is_cut_there_and_none_is_drawn_without_outages():
    endless = """
    horizon = "1m"
    drain = "2m"
    [[templates]]
    name = "long"
    [[templates.steps]]
    id = "work"
    duration = "2h"
    [clients]
    strategy = "fixed(5)"
    [[server.outages]]
    start = "1m"
    duration = "1h"
    """
    p = simulate(loads(endless.replace("\n    ", "\n"))).polling
    assert p.end < 3600  # the clients stopped watching at the run's end, long before
    assert outage_spans(load_over_time(p)) == pytest.approx([60.0, p.end])
    plain = simulate(loads('horizon = "5m"\n[clients]\nstrategy = "fixed(5)"\n')).polling
    fig = load_over_time(plain)
    assert len(fig.axes[0].patches) == 0 and legend_texts(fig) == ["fixed(5)"]


GIVES_UP = "poll(fixed(5), stop=after_polls(2))"
MIX = """
horizon = "10m"
[[templates]]
name = "long"
[[templates.steps]]
id = "work"
duration = "10m"
[clients]
strategies = [{ strategy = "fixed(5)", weight = 1 }, { strategy = "STRATEGY", weight = 1 }]
"""


def test_a_strategy_that_saw_no_end_stays_in_the_cdfs_legend_saying_why():
    jobs = simulate(loads(MIX.replace("STRATEGY", GIVES_UP))).polling.jobs_frame()
    label = parse_strategy(GIVES_UP).label
    mine = jobs[jobs["strategy"] == label]
    assert len(mine) > 0 and mine["gave_up"].all()
    fig = latency_cdf(jobs)
    entry = f"{label}: no job seen ended ({len(mine):,} gave up)"
    assert legend_texts(fig) == ["fixed(5)", entry]
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert len(lines[entry].get_xdata()) == 0  # in the legend, with no curve
    assert len(lines["fixed(5)"].get_xdata()) > 0
    assert figure_problems(fig) == []


def test_when_no_client_saw_an_end_the_plot_says_so_beside_the_legend():
    only = MIX.replace('{ strategy = "fixed(5)", weight = 1 }, ', "")
    jobs = simulate(loads(only.replace("STRATEGY", GIVES_UP))).polling.jobs_frame()
    fig = latency_cdf(jobs)
    (entry,) = legend_texts(fig)
    assert entry.endswith(f"no job seen ended ({len(jobs):,} gave up)")
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert notes == ["no client saw a job end"]


def test_jobs_still_watched_at_the_end_are_named_as_such():
    unended = MIX.replace('duration = "10m"', 'duration = "2h"').replace("STRATEGY", "fixed(30)")
    unended = unended.replace('horizon = "10m"', 'horizon = "10m"\ndrain = "5m"')
    jobs = simulate(loads(unended)).polling.jobs_frame()
    texts = legend_texts(latency_cdf(jobs))
    n = jobs["strategy"].value_counts()
    assert texts == [
        f"fixed(5): no job seen ended ({n['fixed(5)']:,} still watching at the end)",
        f"fixed(30): no job seen ended ({n['fixed(30)']:,} still watching at the end)",
    ]
