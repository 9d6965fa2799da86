"""The Smithy waiter specification's workflow (tests/conformance/smithy_spec.py) on a
fake clock, over every Script: what it does, and that the ``smithy-waiter`` preset does
the same (issue 13)."""

from __future__ import annotations

import random
import statistics

import pytest

from tests.conformance import smithy_runner, smithy_spec
from tests.conformance.harness import BY_NAME, SCRIPTS

HOUR = 3600.0


def test_the_specifications_example_schedule():
    """The example of "Waiter retries" (minDelay 2, maxDelay 120, maxWaitTime 300): the
    first retry waits 2 s, retry k at most 2 ** k s until the ceiling, then up to 120 s;
    the waiter never polls after 300 s and makes its last request at 300 s."""
    for seed in range(200):
        run = smithy_runner.run(BY_NAME["never ends"], 300.0, seed=seed)
        waits = [b - a for a, b in zip(run.times, run.times[1:], strict=False)]
        assert run.times[:2] == (0.0, 2.0)
        for k, w in enumerate(waits[:-1], start=1):
            assert 2.0 <= w <= min(2.0**k, 120.0) + 1e-9
        assert run.times[-1] == pytest.approx(300.0, abs=1e-9)
        assert (run.outcome, run.end) == ("gave up", run.times[-1])


def test_the_last_delay_is_trimmed_to_the_time_remaining():
    rng = random.Random(0)
    assert smithy_spec.retry_delay(9, 3.5, rng) == 3.5  # 3.5 - delay <= 2 for any delay
    assert smithy_spec.retry_delay(1, 300.0, rng) == 2.0  # random(2, 2)


def test_an_hour_of_a_job_that_never_ends_makes_65_and_a_half_polls():
    runs = [smithy_runner.run(BY_NAME["never ends"], HOUR, seed=s) for s in range(400)]
    assert statistics.mean(r.requests for r in runs) == pytest.approx(65.5, abs=0.5)
    assert {r.outcome for r in runs} == {"gave up"}
    assert max(r.times[-1] for r in runs) == pytest.approx(HOUR, abs=1e-9)


@pytest.mark.parametrize("script", [s for s in SCRIPTS if s.faults], ids=lambda s: s.name)
def test_an_error_no_acceptor_matches_ends_the_wait_at_once(script):
    run = smithy_runner.run(script, HOUR)
    assert (run.times, run.outcome, run.end) == ((0.0,), "errored", 0.0)


@pytest.mark.parametrize("name", ["Retry-After 0 on 200s", "Retry-After 7 on 200s"])
def test_retry_after_changes_nothing(name):
    assert smithy_runner.run(BY_NAME[name], HOUR, seed=5).times == (
        smithy_runner.run(BY_NAME["ends after 95 s"], HOUR, seed=5).times
    )


@pytest.mark.live
def test_real_http_on_loopback_gives_what_the_in_process_operation_gives():
    script = BY_NAME["ends after 95 s"]
    assert smithy_runner.run(script, 300.0, seed=2, http=True) == smithy_runner.run(
        script, 300.0, seed=2
    )
