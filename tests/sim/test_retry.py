import numpy as np
import pytest

from sim import ExponentialRetry, FixedRetry, NoRetry, ScheduleRetry


def waits(policy, rng=None):
    out, n = [], 1
    while (w := policy.delay(n, rng)) is not None:
        out.append(w)
        n += 1
    return out


def test_schedule_runs_through_its_waits_then_gives_up():
    p = ScheduleRetry((600.0, 1200.0, 2400.0, 4800.0, 9600.0))
    assert waits(p) == [600, 1200, 2400, 4800, 9600]
    assert p.max_attempts == 6


def test_schedule_repeats_its_last_wait_for_more_attempts():
    assert waits(ScheduleRetry((1.0, 2.0), max_attempts=5)) == [1, 2, 2, 2]


def test_fixed_and_none():
    assert waits(FixedRetry(30.0, max_attempts=3)) == [30, 30]
    assert waits(NoRetry()) == []


def test_exponential_without_jitter():
    assert waits(ExponentialRetry(10, 2, cap=50, max_attempts=6)) == [10, 20, 40, 50, 50]


@pytest.mark.parametrize(("jitter", "low"), [("full", 0.0), ("equal", 0.5)])
def test_jitter_stays_within_its_band(jitter, low):
    rng = np.random.default_rng(4)
    p = ExponentialRetry(8, 2, cap=100, max_attempts=3, jitter=jitter)
    x = np.array([p.delay(2, rng) for _ in range(20_000)])  # the band is [low, 1] x 16
    assert x.min() >= low * 16 and x.max() <= 16
    assert x.mean() == pytest.approx((low + 1) / 2 * 16, rel=0.02)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ScheduleRetry(()), "at least one wait"),
        (lambda: ScheduleRetry((1.0, -1.0)), "waits >= 0"),
        (lambda: FixedRetry(5, max_attempts=0), "max_attempts must be a whole number >= 1"),
        (lambda: ExponentialRetry(10, 0.5), "multiplier >= 1"),
        (lambda: ExponentialRetry(10, 2, cap=5), "cap >= base"),
        (lambda: ExponentialRetry(10, jitter="some"), "jitter must be one of"),
    ],
)
def test_bad_policies_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_exponential_retry_grows_to_ten_years_at_most():
    # 1000**999 does not fit a float: an OverflowError inside the run
    policy = ExponentialRetry(base=1, multiplier=1000, max_attempts=1000)
    assert policy.delay(999, None) == 10 * 365 * 86400
