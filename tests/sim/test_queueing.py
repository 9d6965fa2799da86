"""The model against queueing theory: Little's law and Erlang C for M/M/c."""

import math

import pytest

from sim import loads, simulate
from sim.occupancy import mean_in_system


def erlang_c_wait(lam: float, mean_service: float, c: int) -> float:
    """Mean time in queue of M/M/c (Erlang C)."""
    a = lam * mean_service
    rho = a / c
    terms = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (terms + top)
    return p_wait * mean_service / (c - a)


def single_step(rate: float, mean: float, horizon: float, workers: str, seed: int) -> str:
    return f"""
        seed = {seed}
        horizon = {horizon}
        [arrivals]
        rate = {rate}
        [workers]
        capacity = {workers}
        [reporting]
        lag = 0
        [retry]
        kind = "none"
        [clients]  # empty: nobody polls
        [[templates]]
        name = "one"
        [[templates.steps]]
        id = "work"
        duration = {{ dist = "exponential", mean = {mean} }}
    """


@pytest.mark.parametrize("seed", [1, 2])
def test_littles_law_holds_without_a_capacity_limit(seed):
    lam, horizon, warmup = 1.0, 40_000.0, 2_000.0
    # a chain with a lognormal step: Little's law holds for any service distribution
    text = (
        single_step(lam, 30, horizon, '"unlimited"', seed)
        + """
        [[templates.steps]]
        id = "more"
        depends_on = ["work"]
        duration = { dist = "lognormal", median = 10, p95 = 60 }
    """
    )
    run = simulate(loads(text))
    jobs = run.jobs_frame()
    w = jobs["duration"].mean()
    L = mean_in_system(jobs, warmup, horizon)
    assert pytest.approx(lam * w, rel=0.03) == L
    assert (jobs["queued"] == 0).all()


def test_mean_time_queued_matches_erlang_c():
    # Utilisation 0.7 over 700k jobs: the estimate's spread across seeds is about 1%
    # (seeds 1-4 gave 1.012, 1.017, 0.995, 0.997 of the formula); shorter runs spread wider.
    lam, mean, c = 0.28, 10.0, 4
    run = simulate(loads(single_step(lam, mean, 2_500_000.0, str(c), seed=1)))
    jobs = run.jobs_frame()
    steady = jobs[jobs["submit"] > 5_000]
    expected = erlang_c_wait(lam, mean, c)
    assert steady["queued"].mean() == pytest.approx(expected, rel=0.05)


def test_erlang_c_formula_itself():
    # M/M/1 special case: Wq = rho / (mu - lambda)
    assert erlang_c_wait(0.5, 1.0, 1) == pytest.approx(0.5 / (1 - 0.5))


def test_the_capacity_module_agrees_with_the_textbook_formula():
    from sim.capacity import erlang_c, mean_wait, wait_quantile, workers_for

    for lam, s, c in ((0.5, 1.0, 1), (3.0, 0.5, 2), (50.0, 0.05, 4), (900.0, 0.01, 12)):
        assert mean_wait(lam, s, c) == pytest.approx(erlang_c_wait(lam, s, c), rel=1e-9)
    assert erlang_c(1, 0.3) == pytest.approx(0.3)  # M/M/1: a request waits if one is busy
    assert erlang_c(3, 3.0) == 1.0 and math.isinf(wait_quantile(10.0, 0.5, 5))
    # P(wait > t_q) = 1 - q exactly at the quantile
    lam, s, c = 50.0, 0.05, 4
    t = wait_quantile(lam, s, c, 0.99)
    assert erlang_c(c, lam * s) * math.exp(-(c / s - lam) * t) == pytest.approx(0.01)
    # the fewest workers: one fewer misses the target
    n = workers_for(lam, s, target=0.02)
    assert wait_quantile(lam, s, n) <= 0.02 < wait_quantile(lam, s, n - 1)
    assert workers_for(2 * lam, s, target=0.02) >= n


def test_response_time_quantile_of_mmc():
    from sim.capacity import response_over, response_quantile, workers_for

    # M/M/1: the response time is exponential at mu - lambda
    lam, s = 6.0, 0.1
    assert response_quantile(lam, s, 1, 0.99) == pytest.approx(math.log(100) / (10 - lam))
    # at the quantile, exactly 1 - q of responses are slower, for c > 1 too
    for lam, s, c in ((50.0, 0.05, 4), (100.0, 0.02, 3), (30.0, 0.1, 5)):
        t = response_quantile(lam, s, c, 0.99)
        assert response_over(t, lam, s, c) == pytest.approx(0.01, rel=1e-6)
    assert math.isinf(response_quantile(100.0, 0.05, 5))  # offered 5 of 5 workers
    n = workers_for(100.0, 0.05, target=0.3, of="response")
    assert response_quantile(100.0, 0.05, n) <= 0.3 < response_quantile(100.0, 0.05, n - 1)
    # a response-time target under the service time's own p99 cannot be met
    with pytest.raises(ValueError, match="under the service time's own"):
        workers_for(100.0, 0.05, target=0.2, of="response")
