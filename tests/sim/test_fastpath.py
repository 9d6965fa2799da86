"""The vectorised fast path against the SimPy pollers, on the same jobs and seed."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from sim import default_scenario, fastpath, simulate
from sim.pollers import ClientSpec
from sim.polling import poll
from sim.strategies import parse_strategy
from sim.timelines import timelines

RUN = simulate(dataclasses.replace(default_scenario(), horizon=3600.0))
TIMELINES = timelines(RUN)


def both(strategy: str, **clients):
    spec = ClientSpec(((parse_strategy(strategy), 1.0),), **clients)
    fast = poll(TIMELINES, spec, RUN.scenario.server, seed=3, end=RUN.end, method="fast")
    slow = poll(TIMELINES, spec, RUN.scenario.server, seed=3, end=RUN.end, method="simpy")
    assert fast.methods == {spec.labels[0]: "fast"} and slow.methods == {spec.labels[0]: "simpy"}
    return fast, slow


DETERMINISTIC = [
    "fixed(3)",
    "fixed(2) | after_delay(60)",
    "exponential(1, 1.5, max=20) | after_delay(900)",
    "linear(1, 1, max=15) | after_polls(30)",
    "poll(fixed(15), stop=after_polls(40), first=0)",
    # waits that count from a first poll at once, and deadlines checked ahead or on waking
    "poll(exponential(1, 2, max=30), stop=after_delay(300, check='ahead'), first=0)",
    "poll(linear(2, 1), stop=after_delay(200, check='wake'), first=0)",
    "poll(fixed(6), stop=after_delay(120, check='wake'), first=0)",
    "poll(fixed(7), stop=after_delay(100, check='ahead') | after_polls(9), first=0)",
]


@pytest.mark.parametrize("strategy", DETERMINISTIC)
@pytest.mark.parametrize("rtt", [0.0, 0.05])
def test_deterministic_strategies_give_identical_results(strategy, rtt):
    fast, slow = both(strategy, rtt=rtt)
    a, b = fast.jobs_frame(), slow.jobs_frame()
    for column in (
        "polls",
        "wasted_polls",
        "gave_up",
        "false_give_up",
        "seen_state",
        "missed_states",
    ):
        pd.testing.assert_series_equal(a[column], b[column], check_dtype=False)
    assert a["seen_state"].fillna("-").equals(b["seen_state"].fillna("-"))
    # the same poll times, up to the rounding of adding the waits in another order
    for column in ("t_seen", "detection_latency"):
        np.testing.assert_allclose(a[column], b[column], rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(fast.load_frame(), slow.load_frame(), check_dtype=False)


JITTERED = [
    "full_jitter(exponential(1, 1.5, max=20)) | after_delay(900)",
    "fixed(5) + uniform(0, 2)",
    "equal_jitter(fixed(6))",
    "decorrelated_jitter(1, max=30)",
    "poll(full_jitter(exponential(1, 1.5, max=20)), stop=after_delay(300, check='ahead'), first=0)",
    "poll(fixed(4) + uniform(0, 2), stop=after_delay(240, check='wake'), first=0)",
    "poll(for_attempts(4, full_jitter(exponential(2, 2), min=2), then=fixed(30)), first=0)",
]


@pytest.mark.parametrize("strategy", JITTERED)
def test_jittered_strategies_are_statistically_indistinguishable(strategy):
    fast, slow = both(strategy)
    a, b = fast.jobs_frame(), slow.jobs_frame()
    for column in ("detection_latency", "polls", "wasted_polls"):
        x, y = a[column].dropna(), b[column].dropna()
        # no evidence that the distributions (Kolmogorov-Smirnov) or the means (Welch's t)
        # differ, at a level that a correct evaluator fails once in a thousand runs
        assert scipy_stats.ks_2samp(x, y).pvalue > 0.001, column
        assert scipy_stats.ttest_ind(x, y, equal_var=False).pvalue > 0.001, column
        assert x.mean() == pytest.approx(y.mean(), rel=0.1)
    assert a["gave_up"].mean() == pytest.approx(b["gave_up"].mean(), abs=0.02)
    for state in ("queued", "retry_wait"):  # how often clients miss a transient state
        assert a["missed_states"].str.contains(state).mean() == pytest.approx(
            b["missed_states"].str.contains(state).mean(), abs=0.03
        )


def test_the_fast_path_is_taken_where_it_applies_and_refused_where_not():
    mix = ClientSpec(((parse_strategy("fixed(3)"), 1.0), (parse_strategy("fiddler-py"), 1.0)))
    p = poll(TIMELINES, mix, RUN.scenario.server, seed=1, end=RUN.end)
    assert p.methods == {"fixed(3)": "fast", "fiddler-py": "direct"}
    assert set(p.jobs_frame()["strategy"]) == {"fixed(3)", "fiddler-py"}
    with pytest.raises(ValueError, match="no fast path for strategy fiddler-py: it needs"):
        poll(TIMELINES, mix, RUN.scenario.server, seed=3, end=RUN.end, method="fast")
    from sim.status_server import ServerSpec

    busy = ServerSpec(workers=4)
    only_fixed = ClientSpec(((parse_strategy("fixed(3)"), 1.0),))
    with pytest.raises(ValueError, match="the server gives feedback"):
        poll(TIMELINES, only_fixed, busy, seed=3, end=RUN.end, method="fast")
    assert poll(TIMELINES, only_fixed, busy, seed=1, end=RUN.end).methods == {"fixed(3)": "simpy"}


@pytest.mark.parametrize(
    "strategy",
    [
        "fiddler-py",
        "progress(1, 30) | after_delay(900)",
        "poll(fixed(0), long_poll=20)",
        "per_status(fixed(5), queued=fixed(30))",
    ],
)
def test_the_direct_loop_gives_what_simpy_gives_for_closed_loop_strategies(strategy):
    spec = ClientSpec(((parse_strategy(strategy), 1.0),))
    args = (TIMELINES, spec, RUN.scenario.server)
    loop = poll(*args, seed=3, end=RUN.end, method="direct")
    slow = poll(*args, seed=3, end=RUN.end, method="simpy")
    a, b = loop.jobs_frame(), slow.jobs_frame()
    for column in ("polls", "wasted_polls", "gave_up", "missed_states"):
        pd.testing.assert_series_equal(a[column], b[column], check_dtype=False)
    np.testing.assert_allclose(a["t_seen"], b["t_seen"], rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(loop.load_frame(), slow.load_frame(), check_dtype=False)


def test_the_direct_loop_is_refused_where_clients_affect_each_other():
    from sim.status_server import ServerSpec

    spec = ClientSpec(((parse_strategy("fiddler-py"), 1.0),))
    with pytest.raises(ValueError, match="no direct path for strategy fiddler-py"):
        poll(TIMELINES, spec, ServerSpec(workers=2), seed=1, end=RUN.end, method="direct")


@pytest.mark.parametrize("strategy", ["fixed(3) | after_delay(600)", "fixed(5) + uniform(0, 2)"])
def test_threads_sharing_out_the_clients_change_nothing(strategy, monkeypatch):
    import sim.fastpath as fastpath

    spec = ClientSpec(((parse_strategy(strategy), 1.0),))

    def run():
        p = poll(TIMELINES, spec, RUN.scenario.server, seed=3, end=RUN.end, method="fast")
        return p.jobs_frame(), p.load_frame()

    monkeypatch.setattr(fastpath, "SHARE", 100)  # several shares, each its own generator
    monkeypatch.setattr(fastpath, "THREADS", 1)
    one_jobs, one_load = run()
    monkeypatch.setattr(fastpath, "THREADS", 3)
    monkeypatch.setattr(fastpath, "PER_THREAD", 50)
    assert fastpath.Threads(len(TIMELINES)).k == 3
    many_jobs, many_load = run()
    pd.testing.assert_frame_equal(one_jobs, many_jobs)
    pd.testing.assert_frame_equal(one_load, many_load)


@pytest.mark.parametrize(
    "text",
    [
        "celery-get",
        "ordo-js",
        "generic-js",
        "fixed(5) | after_polls(7)",
        "fixed(0.3) | after_delay(100)",
        "(fixed(1) + fixed(0.25)) | (after_delay(50) & after_polls(100))",
    ],
)
@pytest.mark.parametrize("half", [0.0, 0.01, 0.1])
def test_a_constant_waits_schedule_is_the_loops_to_the_last_bit(monkeypatch, text, half):
    """The numpy schedule of a constant wait must give the very floats, and the very
    give-up attempt, of the attempt-by-attempt loop it stands in for."""
    strategy = parse_strategy(text)
    assert strategy.wait.constant is not None
    for horizon in (0.0, 5.0, 1234.5, 20_000.0):
        fast = fastpath._schedule(strategy, half, horizon)
        with monkeypatch.context() as m:
            m.setattr(type(strategy.wait), "constant", None)
            slow = fastpath._schedule(strategy, half, horizon)
        for a, b in zip(fast[:3], slow[:3], strict=True):
            np.testing.assert_array_equal(a, b)
        assert fast[3] == slow[3]
    assert len(slow[0]) > 0
