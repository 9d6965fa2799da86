"""Duration distributions: bounds over many draws, and a statistical check of each."""

import numpy as np
import pytest

from sim import Constant, Empirical, Exponential, LogNormal, Uniform
from sim.randomness import Draws

N = 50_000


@pytest.fixture(params=["generator", "draws"])
def rng(request):
    g = np.random.default_rng(12)
    return g if request.param == "generator" else Draws(g)


def draws(dist, rng):
    return np.array([dist.sample(rng) for _ in range(N)])


def test_constant(rng):
    assert set(draws(Constant(3.0), rng)) == {3.0}


def test_uniform_stays_in_bounds_and_is_flat(rng):
    x = draws(Uniform(10, 20), rng)
    assert x.min() >= 10 and x.max() <= 20
    counts, _ = np.histogram(x, bins=10, range=(10, 20))
    assert counts.min() > 0.9 * N / 10  # each tenth within 10% of its share


def test_exponential_mean_and_memorylessness(rng):
    x = draws(Exponential(30.0), rng)
    assert x.mean() == pytest.approx(30, rel=0.03)
    assert (x[x > 30] - 30).mean() == pytest.approx(30, rel=0.05)


def test_lognormal_hits_its_median_and_p95(rng):
    d = LogNormal(median=60, p95=300)
    x = draws(d, rng)
    assert np.median(x) == pytest.approx(60, rel=0.03)
    assert np.percentile(x, 95) == pytest.approx(300, rel=0.05)
    assert x.mean() == pytest.approx(d.mean, rel=0.05)


def test_empirical_resamples_only_its_samples(rng):
    x = draws(Empirical((1.0, 2.0, 5.0)), rng)
    assert set(x) == {1.0, 2.0, 5.0}
    assert np.mean(x == 5.0) == pytest.approx(1 / 3, abs=0.02)


def test_sample_many_agrees_with_sample():
    for d in (Uniform(1, 3), Exponential(2), LogNormal(5, 20), Empirical((1.0, 4.0))):
        many = d.sample_many(np.random.default_rng(3), N)
        assert many.mean() == pytest.approx(d.mean, rel=0.05)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Constant(-1), "constant needs value >= 0"),
        (lambda: Uniform(5, 1), "uniform needs low <= high"),
        (lambda: Exponential(float("inf")), "exponential needs mean >= 0"),
        (lambda: LogNormal(10, 5), "lognormal needs 0 < median <= p95"),
        (lambda: LogNormal(0, 5), "lognormal needs 0 < median <= p95"),
        (lambda: Empirical(()), "at least one sample"),
        (lambda: Empirical((1.0, -2.0)), r"samples\[1\]=-2.0"),
    ],
)
def test_bad_parameters_are_refused_when_built(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_draws_are_reproducible_and_cross_blocks():
    a, b = Draws(np.random.default_rng(1)), Draws(np.random.default_rng(1))
    xs = [a.random() for _ in range(10_000)]
    assert xs == [b.random() for _ in range(10_000)]
    assert len(set(xs)) == len(xs)
    assert all(0 <= v < 10 for v in (a.integers(10) for _ in range(1000)))


def test_a_lognormal_spread_too_wide_to_draw_from_is_refused():
    # found by the property test: median 5e-324 s, p95 1 h drew e**700: an OverflowError
    with pytest.raises(ValueError, match="p95 at most 1,000,000 times the median"):
        LogNormal(median=5e-324, p95=3600)
    d = LogNormal(median=1, p95=1e6)
    assert np.isfinite(d.sample_many(np.random.default_rng(1), 100_000)).all()
