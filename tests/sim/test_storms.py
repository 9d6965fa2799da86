"""Retries and outages: what clients make of retrying jobs, and the herd after an outage."""

import dataclasses
from pathlib import Path

import pytest

from sim import Outage, load_scenario, simulate
from sim.planning import poll_each
from sim.plots import figure_problems
from sim.storms import load_by_strategy, retried_jobs, spike_table, watch_outcomes
from sim.storms_plots import herd_plot, outcomes_plot, watch_plot

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture(scope="module")
def retrying():
    run = simulate(load_scenario(SCENARIOS / "publishing_retry.toml"))
    texts = ["fiddler-py", "per_status(fixed(10), retry_wait=fixed(30))", "fixed(600)"]
    return run, poll_each(run, texts)


def test_the_most_retried_jobs_in_submit_order(retrying):
    run, _ = retrying
    jobs = run.jobs_frame().set_index("job_id")
    ids = retried_jobs(run, k=5)
    assert len(ids) == 5
    assert list(jobs.loc[ids, "submit"]) == sorted(jobs.loc[ids, "submit"])
    others = jobs.drop(index=ids)
    assert jobs.loc[ids, "retries"].min() >= others["retries"].max()


def test_what_each_client_made_of_retrying_jobs(retrying):
    run, polled = retrying
    table = watch_outcomes(polled["fiddler-py"])
    row = table.loc["fiddler-py"]
    jobs = polled["fiddler-py"].jobs_frame()
    assert row["jobs"] == len(run.jobs) == len(jobs)
    assert row["false_give_ups"] == jobs["false_give_up"].sum() > 0  # the 1 h deadline
    assert row["false_give_up_share"] == pytest.approx(row["false_give_ups"] / row["jobs"])
    patient = watch_outcomes(polled["per_status(fixed(10), retry_wait=fixed(30))"])
    assert patient["gave_up"].iloc[0] == 0
    slow = watch_outcomes(polled["fixed(600)"]).iloc[0]  # every 10 min: misses states
    assert slow["missed_a_state_share"] > 0 and "running" in slow["states_missed"]
    assert slow["load_mean"] < row["load_mean"]
    both = watch_outcomes(polled["fiddler-py"]).combine_first(patient)
    assert not figure_problems(outcomes_plot(both))
    assert not figure_problems(watch_plot(run, polled["fiddler-py"], retried_jobs(run)))


def test_the_herd_after_a_stall_and_retry_after_during_a_503_outage():
    herd = load_scenario(SCENARIOS / "outage_herd.toml")
    herd = dataclasses.replace(
        herd, bursts=dataclasses.replace(herd.bursts, bursts=((0, 300, None),))
    )
    jobs = simulate(dataclasses.replace(herd, clients=None))
    stall = herd.server.outages[0]
    texts = ["fixed(5)", "full_jitter(fixed(10))"]
    load = load_by_strategy(poll_each(jobs, texts, herd.server, herd.clients))
    spikes = spike_table(load, stall)
    assert spikes.loc["fixed(5)", "peak_after"] == 300  # every client in the same second
    assert (
        spikes.loc["fixed(5)", "peak_over_before"] > 2.5 * spikes.loc[texts[1], "peak_over_before"]
    )
    assert not figure_problems(herd_plot(load, stall, "stall"))
    down = Outage(stall.start, stall.duration, "503")
    server = dataclasses.replace(herd.server, outages=(down,), retry_after=30.0)
    texts = ["fixed(5)", "retry_after(fixed(5))"]
    errors = spike_table(load_by_strategy(poll_each(jobs, texts, server, herd.clients)), down)
    # ignoring Retry-After keeps the pace; honouring it, one poll per client per 30 s
    assert errors.loc["fixed(5)", "during"] == pytest.approx(
        errors.loc["fixed(5)", "before"], rel=0.1
    )
    assert errors.loc["retry_after(fixed(5))", "during"] < 300 / 30 * 1.1


def test_clients_that_stopped_on_an_error_are_counted_and_drawn_apart_from_give_ups(retrying):
    """Until strategies can stop on errors, a polling whose records say so by hand: the
    errored jobs are their own column and share, the give-ups unchanged, and both plots
    show them (a bar of their own, a square where the client stopped)."""
    run, polled = retrying
    before = polled["fiddler-py"]
    per_job = before.per_job.copy()
    kept = set(per_job.loc[~per_job["gave_up"], "job_id"])
    ids = [j for j in retried_jobs(run, k=40) if j in kept][:2]
    stopped = per_job["job_id"].isin(ids)
    per_job.loc[stopped, ["errored", "t_seen", "seen_state"]] = [True, float("nan"), None]
    erring = dataclasses.replace(before, per_job=per_job)
    row, plain = watch_outcomes(erring).iloc[0], watch_outcomes(before).iloc[0]
    assert row["errored"] == stopped.sum() > 0 and plain["errored"] == 0
    assert row["errored_share"] == pytest.approx(row["errored"] / row["jobs"])
    assert row["gave_up"] == plain["gave_up"]  # counted apart, not as give-ups
    fig = outcomes_plot(watch_outcomes(erring))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "stopped on an error answer" in labels and not figure_problems(fig)
    plain_fig = outcomes_plot(watch_outcomes(before))
    assert "stopped on an error answer" not in [
        t.get_text() for t in plain_fig.axes[0].get_legend().get_texts()
    ]
    drawn = watch_plot(run, erring, ids)
    ax = drawn.axes[0]
    squares = [ln for ln in ax.get_lines() if ln.get_marker() == "s" and len(ln.get_xdata())]
    assert len(squares) == stopped.sum() and not figure_problems(drawn)
    assert "errored" in [t.get_text() for t in ax.get_legend().get_texts()]
