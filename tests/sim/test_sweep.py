"""Sweeps over a grid, the Pareto frontier and the recommender."""

import pandas as pd
import pytest

from sim.plots import slo_cost_plot
from sim.recommend import NoCandidate, pareto_front, recommend, slo_ladder
from sim.sweep import METRICS, SweepError, load_data, parse_grid, sweep

DATA, SOURCE = load_data(None)
DATA["horizon"] = 1800
TEMPLATES = ["fixed({t})", "full_jitter(exponential(1, 2, max={t}))"]
GRID = {"t": [2, 10], "seed": [1, 2]}


@pytest.fixture(scope="module")
def local_table():
    return sweep(DATA, SOURCE, TEMPLATES, GRID, workers=2)


def test_a_sweep_has_a_row_per_point_and_strategy_in_grid_order(local_table):
    t = local_table
    assert len(t) == 2 * 2 * 2
    assert t[["t", "seed"]].drop_duplicates().values.tolist() == [[2, 1], [2, 2], [10, 1], [10, 2]]
    assert t["strategy"].tolist()[:2] == ["fixed(2)", "full_jitter(exponential(1, 2, max=2))"]
    fixed = t[t["template"] == "fixed({t})"].set_index(["t", "seed"])
    # polling less often: less load, later detection
    assert (fixed.loc[10]["load_mean"].values < fixed.loc[2]["load_mean"].values).all()
    assert (fixed.loc[10]["latency_p95"].values > fixed.loc[2]["latency_p95"].values).all()


def test_the_same_table_on_a_dask_cluster(local_table):
    import distributed  # a dev dependency: this test runs on every CI

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        table = sweep(DATA, SOURCE, TEMPLATES, GRID, executor=client.get_executor())
    pd.testing.assert_frame_equal(table, local_table)


def test_the_same_table_in_this_process(local_table):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        pd.testing.assert_frame_equal(
            sweep(DATA, SOURCE, TEMPLATES, GRID, executor=pool), local_table
        )


@pytest.mark.parametrize(
    ("templates", "grid", "message"),
    [
        (
            TEMPLATES,
            ["t=1,2", "intervall=3"],
            "grid parameter 'intervall' is neither a placeholder",
        ),
        (TEMPLATES, ["t=1,x"], "at t=x: strategy"),
        (TEMPLATES, ["t=-1"], "seconds must be a number >= 0, found -1"),
        (["fixed({t})"], ["u=1"], "grid parameter 'u'"),
        (["fixed({t})", "fixed({u})"], ["t=1"], "no grid values for u"),
        (["fixed({t})"], ["t=1", "server.workers=0"], "server.workers: found 0"),
        (["fixed({t})"], ["t"], "expected NAME=VALUE,VALUE"),
        ([], ["seed=1", "clients.strategies=x"], 'clients.strategies: found "x"'),
        # a scenario table without a dot was accepted, and then set nothing
        (["fixed({t})"], ["t=1", "templates=1"], "grid parameter 'templates' is neither"),
        (["fixed({t})"], ["t=1e308"], "seconds must be at most 10 years"),
        (["fixed({t})"], ["t=1", "horizon=40d"], 'horizon: found "40d", expected a duration of'),
        (["fixed({t})"], ["t=1", "arrivals.rate=900/s"], "1,620,000 jobs expected"),
        (["fixed({t})"], ["t=" + ",".join(map(str, range(1, 10_002)))], "10,001 runs; at most"),
    ],
)
def test_bad_grids_are_refused_before_anything_runs(templates, grid, message):
    """(The default scenario has clients, so a sweep without templates polls with them.)"""
    with pytest.raises(SweepError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sweep(DATA, SOURCE, templates, parse_grid(grid))


def table(*rows):
    return pd.DataFrame(
        rows, columns=["strategy", "load_mean", "load_max", "latency_p95", "gave_up_share"]
    )


def test_pareto_front_keeps_what_nothing_beats_on_both():
    t = table(("a", 1, 2, 9.0, 0), ("b", 2, 4, 4.0, 0), ("c", 3, 6, 5.0, 0), ("d", 2, 3, 4.0, 0))
    assert pareto_front(t)["strategy"].tolist() == ["a", "b"]


def test_recommend_picks_the_cheapest_that_meets_the_slo_and_says_why_others_lost():
    t = table(
        ("slow", 1, 2, 12.0, 0),
        ("giver", 1.5, 2, 3.0, 0.2),
        ("ok", 3, 9, 5.0, 0),
        ("ok-peaky", 3, 12, 4.0, 0),
        ("pricey", 8, 10, 1.0, 0),
    )
    r = recommend(t, slo_p95=10.0, max_give_up_share=0.05)
    assert r.best["strategy"] == "ok" and r.runner_up["strategy"] == "ok-peaky"
    assert "p95 latency 12s > SLO 10s" in r.why_not["slow"]
    assert "gave up on 20.0% of jobs" in r.why_not["giver"]
    assert "mean load 8.00/s against 3.00/s" in r.why_not["pricey"]
    assert "recommended: ok" in r.describe(10.0)


def test_an_slo_nothing_meets_names_the_best_candidates_latency():
    t = table(("a", 1, 2, 12.0, 0), ("b", 2, 2, 7.5, 0))
    with pytest.raises(NoCandidate, match=r"the fastest candidate, b, has p95 7.5s"):
        recommend(t, slo_p95=5.0)


def test_each_row_holds_its_own_strategys_metrics(local_table):
    from sim.polling_summary import polling_summary
    from sim.simulation import simulate
    from sim.sweep import build

    run = simulate(build(DATA, SOURCE, TEMPLATES, {"t": 10, "seed": 2}))
    direct = polling_summary(run.polling)["strategies"]
    rows = local_table[(local_table["t"] == 10) & (local_table["seed"] == 2)]
    assert len(rows) == 2
    for _, row in rows.iterrows():
        m = direct[row["strategy"]]
        assert row["load_mean"] == m["requests_per_second"]["mean"]
        assert row["latency_p95"] == m["detection_latency_s"]["p95"]
        assert row["jobs"] == m["jobs"]


def test_the_slo_ladder_picks_dearer_strategies_as_the_slo_tightens():
    t = table(("slow", 1, 2, 30.0, 0), ("mid", 2, 4, 8.0, 0), ("fast", 5, 9, 2.0, 0))
    ladder = slo_ladder(t, [60, 10, 3, 1])
    assert ladder["strategy"].tolist()[:3] == ["slow", "mid", "fast"]
    assert pd.isna(ladder["strategy"].iloc[3])  # nothing meets 1 s
    assert ladder["load_mean"].tolist()[:3] == [1, 2, 5]
    fig = slo_cost_plot(ladder)
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.texts] == ["slow", "mid", "fast"]  # where it changes


def test_a_strategy_that_errors_out_is_no_better_candidate_than_one_that_gives_up():
    """``max_give_up_share`` bounds give-ups and errored watches together: a cheap
    strategy whose clients stop on errors loses as one that gives up as often would."""
    t = pd.DataFrame(
        [("cheap-erring", 1, 2, 3.0, 0.0, 0.2), ("giver", 1.5, 2, 3.0, 0.2, 0.0),
         ("half-half", 1.8, 2, 3.0, 0.03, 0.03), ("ok", 3, 9, 5.0, 0.01, 0.01)],
        columns=["strategy", "load_mean", "load_max", "latency_p95", "gave_up_share",
                 "errored_share"],
    )  # fmt: skip
    r = recommend(t, slo_p95=10.0, max_give_up_share=0.05)
    assert r.best["strategy"] == "ok"
    assert "gave up on 0.0% and errored on 20.0% of jobs > 5.0%" in r.why_not["cheap-erring"]
    assert "gave up on 20.0% of jobs > 5.0%" in r.why_not["giver"]
    assert "errored on 3.0%" in r.why_not["half-half"]  # each under the bound, not together
    assert "1.0% gave up, 1.0% errored" in r.describe(10.0)
    with pytest.raises(NoCandidate, match=r"gave up on 0.0% and errored on 20.0%"):
        recommend(t.iloc[:1], slo_p95=10.0)
    assert recommend(t, slo_p95=10.0, max_give_up_share=0.2).best["strategy"] == "cheap-erring"


def test_a_sweep_row_counts_errored_jobs_apart_from_give_ups(monkeypatch):
    """The ``errored_share`` column: the summary's errored jobs over the strategy's jobs,
    beside (not inside) ``gave_up_share``."""
    from sim import sweep as sweeping

    def summary(_polling):
        m = {"jobs": 40, "gave_up": 4, "errored": 10, "false_give_ups": 1}
        m |= {"retry_after_violations": 0, "polls_per_job": {"mean": 3.0}}
        m |= {"detection_latency_s": dict.fromkeys(("mean", "p50", "p95", "p99"), 1.0)}
        m |= {"requests_per_second": dict.fromkeys(("mean", "p99", "max"), 2.0)}
        return {"strategies": {"fixed(10)": m}}

    monkeypatch.setattr("sim.polling_summary.polling_summary", summary)
    (row,) = sweeping.run_point(DATA, SOURCE, ["fixed({t})"], {"t": 10}, "auto")
    assert (row["gave_up_share"], row["errored_share"]) == (0.1, 0.25)
    assert METRICS.index("errored_share") == METRICS.index("gave_up_share") + 1
