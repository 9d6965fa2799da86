"""Simulated pollers against closed forms, a thundering herd, and a real client's habits."""

import itertools
import math

import numpy as np
import pytest

from sim import load_scenario, loads, simulate
from sim.pollers import ClientSpec, StuckPoller
from sim.strategies import parse_strategy
from tests.sim.test_scenario import ROOT


def scenario(duration: str, strategy: str, *, rate=0.05, horizon=20_000, extra="") -> str:
    """Single-step jobs of a fixed duration, no lag, no queueing, clients in phase."""
    return f"""
        seed = 11
        horizon = {horizon}
        [arrivals]
        rate = {rate}
        [workers]
        capacity = "unlimited"
        [reporting]
        lag = 0
        [retry]
        kind = "none"
        [[templates]]
        name = "job"
        [[templates.steps]]
        id = "work"
        duration = {duration}
        [clients]
        strategy = "{strategy}"
        rtt = 0
        {extra}
    """


def polls_of(text: str):
    return simulate(loads(text)).polling


@pytest.mark.parametrize(("D", "T"), [(47, 5), (3.5, 1), (100, 30), (1, 7)])
def test_fixed_interval_in_phase_makes_ceil_d_over_t_polls(D, T):
    jobs = polls_of(scenario(str(D), f"fixed({T})", horizon=2000)).jobs_frame()
    k = math.ceil(D / T)
    assert (jobs["polls"] == k).all()
    assert np.allclose(jobs["detection_latency"], k * T - D)


def test_a_random_phase_gives_half_the_interval_on_average():
    T = 10.0
    text = scenario(
        "47",
        f"fixed({T})",
        rate=0.5,
        extra=f"start_delay = {{ dist = 'uniform', low = 0, high = {T} }}",
    )
    jobs = polls_of(text).jobs_frame()
    assert len(jobs) > 9_000
    assert jobs["detection_latency"].mean() == pytest.approx(T / 2, rel=0.02)


def test_mean_load_is_arrival_rate_times_polls_per_job():
    lam = 0.5
    text = scenario('{ dist = "exponential", mean = 120 }', "fixed(7)", rate=lam, horizon=40_000)
    p = polls_of(text)
    load = p.load_frame()["requests"]
    jobs = p.jobs_frame()
    steady = load.iloc[2_000:40_000]  # past the warm-up, before arrivals stop
    assert steady.mean() == pytest.approx(lam * jobs["polls"].mean(), rel=0.03)


def test_exponential_backoff_polls_match_the_geometric_sum():
    a, m, D = 1.0, 2.0, 100.0
    jobs = polls_of(scenario(str(D), f"exponential({a}, {m})", horizon=2000)).jobs_frame()
    n = math.ceil(math.log(D * (m - 1) / a + 1, m))  # a (m^n - 1) / (m - 1) >= D
    assert (jobs["polls"] == n).all()
    assert np.allclose(jobs["t_seen"] - jobs["submit"], a * (m**n - 1) / (m - 1))


def test_a_deadline_gives_up_and_counts_false_give_ups():
    jobs = polls_of(scenario("100", "fixed(2) | after_delay(60)", horizon=2000)).jobs_frame()
    assert jobs["gave_up"].all() and jobs["false_give_up"].all()
    assert (jobs["polls"] == 30).all()
    assert jobs["t_seen"].isna().all()


def herd(strategy: str) -> np.ndarray:
    text = f"""
        seed = 5
        horizon = 1
        [arrivals]
        kind = "none"
        bursts = [{{ at = 0, count = 2000 }}]
        [workers]
        capacity = "unlimited"
        [reporting]
        lag = 0
        [[templates]]
        name = "long"
        [[templates.steps]]
        id = "work"
        duration = "6m"
        [clients]
        strategy = "{strategy}"
        start_delay = {{ dist = "uniform", low = 0, high = 5 }}
        request_timeout = "30s"
        [server]
        [[server.outages]]
        start = "2m"
        duration = "60s"
        mode = "stall"
    """
    return polls_of(text).load_frame()["requests"].to_numpy()


def test_a_stalled_outage_synchronises_fixed_pollers_and_jitter_spreads_them():
    fixed, jittered = herd("fixed(5)"), herd("full_jitter(fixed(5))")
    # steady polling before the outage: 2000 clients every 5 s, or every 2.5 s on average
    assert fixed[60:110].mean() == pytest.approx(400, rel=0.05)
    assert jittered[60:110].mean() == pytest.approx(800, rel=0.05)
    # the stall answers everyone at once at 3m; fixed pollers then poll together for good
    peak_fixed, peak_jitter = fixed[181:300].max(), jittered[181:300].max()
    assert peak_fixed == 2000 and (fixed[185:300:5] == 2000).all()
    assert peak_jitter < 1.3 * jittered[60:110].mean()  # jitter spreads them again
    assert peak_fixed / peak_jitter > 1.8


def test_fiddler_py_polls_every_30s_in_retry_wait_and_gives_up_after_an_hour():
    s = load_scenario(ROOT / "scenarios" / "publishing_retry.toml")
    import dataclasses

    s = dataclasses.replace(s, clients=ClientSpec(((parse_strategy("fiddler-py"), 1.0),), rtt=0))
    p = simulate(s).polling
    jobs = p.jobs_frame()
    req = p.requests_frame().sort_values(["job_id", "t"])
    # the gap after each answer: 30 s after a retry_wait, 10 s otherwise
    tl = {t.job_id: t for t in p.timelines}
    gaps = {10.0: 0, 30.0: 0}
    for job_id, g in req.groupby("job_id"):
        times = g["t"].to_numpy()
        for a, b in itertools.pairwise(times):
            gap = round(b - a, 6)
            assert gap == (30.0 if tl[job_id].shown_at(a) == "retry_wait" else 10.0)
            gaps[gap] += 1
    assert gaps[30.0] > 100 and gaps[10.0] > 1000
    gave_up = jobs[jobs["gave_up"]]
    assert len(gave_up) >= 3  # the jobs that met three retries or more (70 min and up)
    assert ((gave_up["t_seen"].isna()) & (gave_up["polls"] > 0)).all()
    last = req.groupby("job_id")["t"].max()
    watched = last[gave_up["job_id"]].to_numpy() - gave_up["watch_start"].to_numpy()
    # it decides after each answer: the last poll comes at 1 h, or up to one wait past it
    assert watched.min() >= 3600 and watched.max() <= 3600 + 30
    assert gave_up["false_give_up"].sum() == (gave_up["state"] == "succeeded").sum() > 0


def test_a_zero_time_loop_is_refused_with_a_clear_message():
    text = (
        scenario("600", "fiddler-client", horizon=100, extra="")
        + """
        [server]
        [[server.outages]]
        start = 10
        duration = 60
    """
    )
    with pytest.raises(StuckPoller, match="loop that takes no time"):
        simulate(loads(text))


def test_retry_after_violations_are_counted_and_honouring_it_avoids_them():
    base = (
        scenario("600", "{}", rate=0.05, horizon=2000)
        + """
        [server]
        retry_after = 20
        [[server.outages]]
        start = 500
        duration = 120
    """
    )
    fixed = polls_of(base.replace("{}", "fixed(5)")).jobs_frame()
    honour = polls_of(base.replace("{}", "retry_after(fixed(5))")).jobs_frame()
    assert fixed["retry_after_violations"].sum() > 50
    assert honour["retry_after_violations"].sum() == 0
    assert honour["errors"].sum() > 0  # it did meet the outage


def test_long_poll_sees_the_end_at_once_with_few_requests():
    text = scenario("100", "poll(fixed(0), long_poll=20)", horizon=500, extra='rtt = "20ms"')
    text = text.replace("rtt = 0\n", "")
    jobs = polls_of(text).jobs_frame()
    # held until the state changes or 20 s pass: a request per 20 s and one at the end
    assert jobs["polls"].between(5, 8).all()
    assert jobs["polling_delay"].max() < 0.02  # the held answer goes out as the end shows
    assert (jobs["seen_state"] == "succeeded").all()
