"""Waits as pure functions over many random draws: bounds, and a statistical check."""

import numpy as np
import pytest

from sim.strategies import (
    at_once_on_error,
    decorrelated_jitter,
    equal_jitter,
    exponential,
    fixed,
    full_jitter,
    linear,
    make_state,
    per_status,
    progress,
    retry_after,
    uniform,
)

N = 20_000


@pytest.fixture
def rng():
    return np.random.default_rng(99)


def test_fixed_linear_exponential_by_attempt():
    waits = [
        (fixed(3), [3, 3, 3, 3]),
        (linear(1, 2, max=6), [1, 3, 5, 6]),
        (exponential(1, 2, max=5), [1, 2, 4, 5]),
    ]
    for w, expected in waits:
        assert [w(make_state(attempt=k), None) for k in range(4)] == expected


def test_waits_add_and_sum():
    w = fixed(5) + fixed(1) + fixed(0.5)
    assert w(make_state(), None) == 6.5
    assert str(w) == "fixed(5) + fixed(1) + fixed(0.5)"
    assert sum([fixed(1), fixed(2)]) == fixed(1) + fixed(2)


@pytest.mark.parametrize(
    ("wait", "low", "high", "mean"),
    [
        (uniform(2, 4), 2, 4, 3),
        (fixed(5) + uniform(0, 1), 5, 6, 5.5),
        (full_jitter(fixed(10)), 0, 10, 5),
        (full_jitter(fixed(10), min=2), 2, 10, 6),
        (equal_jitter(fixed(10)), 5, 10, 7.5),
    ],
)
def test_jitter_bounds_and_mean(rng, wait, low, high, mean):
    x = np.array([wait(make_state(attempt=1), rng) for _ in range(N)])
    assert x.min() >= low and x.max() <= high
    assert x.mean() == pytest.approx(mean, rel=0.02)


def test_decorrelated_jitter_stays_between_base_and_three_times_previous(rng):
    w = decorrelated_jitter(1, max=50)
    prev = None
    for _ in range(N):
        d = w(make_state(attempt=1, prev_delay=prev), rng)
        assert 1 <= d <= min(50, 3 * (prev or 1)) + 1e-12
        prev = d


def test_per_status_picks_the_wait_of_the_last_status():
    w = per_status(fixed(10), retry_wait=fixed(30))
    assert w(make_state(status="retry_wait"), None) == 30
    assert w(make_state(status="running"), None) == 10
    assert w(make_state(status=None), None) == 10  # an error: the default
    with pytest.raises(ValueError, match="'runing' is not a job state"):
        per_status(fixed(1), runing=fixed(2))


def test_retry_after_wins_when_given():
    w = retry_after(fixed(30))
    assert w(make_state(retry_after=7.0), None) == 7.0
    assert w(make_state(), None) == 30


def test_progress_estimates_the_time_left():
    w = progress(1, 60)
    assert w(make_state(elapsed=10.0, progress=None), None) == 1  # nothing reported yet
    assert w(make_state(elapsed=30.0, progress=0.25), None) == 45  # half of 90 s left
    assert w(make_state(elapsed=1000.0, progress=0.1), None) == 60  # capped
    assert w(make_state(elapsed=10.0, progress=0.99), None) == 1  # floored


def test_at_once_on_error_polls_again_without_sleeping():
    w = at_once_on_error(fixed(6))
    assert w(make_state(attempt=0), None) == 6
    assert w(make_state(attempt=3, http_status=200), None) == 6
    assert w(make_state(attempt=3, http_status=304), None) == 6
    assert w(make_state(attempt=3, http_status=503), None) == 0
    assert w(make_state(attempt=3, http_status=None), None) == 0  # no answer


def test_open_loop_marks_what_needs_no_server_feedback():
    assert (full_jitter(exponential(1)) + uniform(0, 1)).open_loop
    for w in (
        per_status(fixed(1)),
        retry_after(fixed(1)),
        progress(1, 2),
        at_once_on_error(fixed(1)),
        fixed(1) + retry_after(fixed(1)),
    ):
        assert not w.open_loop


@pytest.mark.parametrize(
    "wait",
    [
        fixed(5) + uniform(0, 1),
        uniform(2, 4) + fixed(1) + uniform(0, 1),
        full_jitter(exponential(1, 1.5, max=20)),
        full_jitter(exponential(1, 2), min=0.5) + fixed(1),
        equal_jitter(linear(1, 2, max=9)),
        decorrelated_jitter(1, max=30),
        full_jitter(uniform(0, 4)),
    ],
    ids=str,
)
def test_a_block_of_attempts_is_drawn_as_the_attempts_one_by_one(wait):
    """``fill`` (the fast path's block of waits, attempts 3 to 9 of 50 clients) gives
    the same waits as ``draw`` attempt after attempt, from the same generator, except
    that a sum of several random waits draws each term's block in turn."""
    prev = np.linspace(1, 10, 50)
    block = np.empty((7, 50))
    wait.fill(3, prev, np.random.default_rng(5), block)
    rng, p, rows = np.random.default_rng(5), prev, []
    for a in range(3, 10):
        p = np.broadcast_to(wait.draw(a, p, rng, 50), (50,)).copy()
        rows.append(p)
    one_by_one = np.array(rows)
    if sum(not w.deterministic for w in getattr(wait, "waits", (wait,))) > 1:
        assert block.min() >= 3 and block.max() <= 6  # other order, same bounds
        assert not np.array_equal(block, one_by_one)
    else:
        assert np.array_equal(block, one_by_one)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: fixed(-1), "fixed: seconds must be a number >= 0, found -1"),
        (lambda: fixed(float("inf")), r"fixed: seconds must be at most 10 years"),
        (lambda: fixed(1e308), r"fixed: seconds must be at most 10 years \(315360000 s\)"),
        (lambda: fixed(10**400), r"found 9*1000.*\(401 characters\)"),
        (lambda: fixed("99999999999h"), "seconds must be a duration of at most 10 years"),
        (lambda: fixed("soon"), "fixed: seconds must be a duration, found 'soon'"),
        (lambda: exponential(1, 0.5), "multiplier must be from 1 to 1000"),
        (lambda: exponential(1, 10**400), "multiplier must be from 1 to 1000"),
        (lambda: exponential(1, float("nan")), "multiplier must be from 1 to 1000"),
        (lambda: uniform(3, 1), "low must be <= high"),
        (lambda: full_jitter(5), "inner must be a wait"),
        (lambda: progress(10, 1), "min must be <= max"),
    ],
)
def test_bad_waits_are_refused_when_built(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("wait", [exponential(0, 2), exponential(1, 1000), linear(1, 1e8)])
def test_backoff_grows_to_ten_years_at_most(wait):
    # exponential(0, 2) gave inf after 1,024 polls: an OverflowError further on
    for attempt in (0, 3, 1100, 10**6):
        assert 0 <= wait(make_state(attempt=attempt), None) <= 10 * 365 * 86400


def test_durations_as_text_in_python_too():
    assert fixed("1m") == fixed(60)
    assert exponential("250ms", 2, max="1h") == exponential(0.25, 2, max=3600)
