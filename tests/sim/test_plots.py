"""Figures a reader can read: ``figure_problems`` finds what a figure lacks, and the
model's own figures lack nothing."""

from matplotlib.figure import Figure

from sim import default_scenario, simulate
from sim.plots import figure_problems, gantt, latency_cdf, load_over_time, states_over_time


def test_a_bare_figure_lacks_a_title_labels_units_and_a_legend():
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [1, 2])
    ax.set_xlabel("time")
    assert figure_problems(fig) == [
        "a plot has no title",
        "a plot: x axis label 'time' gives no unit in brackets",
        "a plot has no y axis label",
        "a plot has no legend",
    ]
    ax.set_title("Growth")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("jobs (count)")
    right = ax.twinx()  # a twin axis shares the title, x label and legend...
    right.plot([0, 1], [3, 1], label="other")
    right.legend()
    assert figure_problems(fig) == ["plot 'Growth' has no y axis label"]  # ...not its y label
    right.set_ylabel("latency (s)")
    assert figure_problems(fig) == []


def test_the_models_figures_have_all_a_reader_needs():
    run = simulate(default_scenario().with_strategies("fixed(5)", "ordo-js"))
    jobs = run.jobs_frame()
    figures = [
        gantt(run.changes_frame(), jobs),
        states_over_time(run.changes_frame()),
        latency_cdf(run.polling.jobs_frame()),
        load_over_time(run.polling),
    ]
    for fig in figures:
        assert figure_problems(fig) == [], fig.axes[0].get_title()
