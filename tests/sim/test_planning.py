"""Capacity planning: load against the arrival rate, a day's peak hour, Erlang C against
the model's status API, and the workers a tighter interval costs."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sim import default_scenario, load_scenario, simulate
from sim.planning import (
    api,
    arrival_sweep,
    hourly,
    interval_cost,
    peak_hour,
    window_of,
    workers_check,
)
from sim.planning_plots import day_plot, erlang_plot, interval_cost_plot, load_curve_plot
from sim.plots import figure_problems

STRATEGY = "fixed(5) + uniform(0, 1)"


@pytest.fixture(scope="module")
def scenario():
    return dataclasses.replace(default_scenario(), workers=None)


def test_load_grows_in_line_then_the_api_saturates(scenario):
    # 4 workers of 40 ms: capacity 100 requests/s; the clients offer about 70 per job/s
    table = arrival_sweep(scenario, [0.25, 0.75, 1.75], STRATEGY, api(4, 0.04), horizon=900)
    per_job = table["load_offered"] / table["arrival_rate"]
    assert per_job.iloc[1] == pytest.approx(per_job.iloc[0], rel=0.1)  # linear
    assert table["load_offered"].iloc[2] > 110  # more than the API can serve...
    assert table["load_served"].iloc[2] <= 100 * 1.05  # ...which serves its capacity
    assert table["utilisation"].iloc[2] > 0.95
    response = table["response_p99"].to_numpy()
    assert response[0] < response[1] < response[2] and response[2] > 5 * response[0]
    assert not figure_problems(load_curve_plot(table, capacity=100))


def test_erlang_c_agrees_with_the_simulated_status_api(scenario):
    check = workers_check(scenario, 0.4, STRATEGY, 0.04, [2, 3], horizon=1500)
    assert (check["utilisation"] < 0.7).all()
    for sim_p99, formula in zip(check["simulated"], check["erlang_c"], strict=True):
        assert sim_p99 == pytest.approx(formula, rel=0.15)
    assert check["simulated"].iloc[0] > check["simulated"].iloc[1]  # more workers: faster
    assert not figure_problems(erlang_plot(check, target=0.25))


def test_hourly_load_and_the_peak_hour():
    seconds = np.arange(3 * 3600)
    load = pd.Series(np.where(seconds // 3600 == 1, 10, 2), index=seconds)
    load.iloc[3600 + 5] = 500  # one busy second in the busy hour
    table = hourly(load)
    assert list(table.index) == [0, 1, 2]
    assert table.loc[0, "mean"] == 2 and table.loc[1, "max"] == 500
    assert table.loc[1, "p99"] == pytest.approx(10)  # one second in 3600 is under 1%
    hour, peak = peak_hour(load)
    assert hour == 1 and peak["mean"] == pytest.approx(10 + 490 / 3600)
    assert not figure_problems(day_plot(load, table, hour))


def test_a_tighter_interval_costs_workers_and_buys_latency():
    day = simulate(load_scenario_fast())
    cost = interval_cost(day, "fixed({interval})", [30, 5, 1], 0.05, 0.3, slot=360)
    assert list(cost["workers"]) == sorted(cost["workers"])  # tighter: more workers
    assert cost["workers"].iloc[-1] > cost["workers"].iloc[0]
    assert list(cost["latency_p95"]) == sorted(cost["latency_p95"], reverse=True)
    # the peak load is in inverse proportion to the interval, near enough
    ratio = cost["peak_mean"].iloc[-1] / cost["peak_mean"].iloc[0]
    assert 20 < ratio < 32
    assert (cost["peak_hour"] == cost["peak_hour"].iloc[0]).all()
    assert not figure_problems(interval_cost_plot(cost))


def load_scenario_fast():
    """The example diurnal day, its hours shortened to 6 minutes (as many jobs an hour)."""
    s = load_scenario("scenarios/diurnal.toml")
    rates = tuple(r * 10 for r in s.arrivals.rates)
    arrivals = dataclasses.replace(s.arrivals, period=24 * 360.0, rates=rates)
    return dataclasses.replace(s, arrivals=arrivals, horizon=24 * 360.0)


def test_the_steady_window_is_checked():
    assert window_of(900, None) == (300, 900)
    with pytest.raises(ValueError, match="warmup must be in"):
        window_of(900, 1000)
