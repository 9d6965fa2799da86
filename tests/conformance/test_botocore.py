"""botocore's own EC2 InstanceRunning waiter on a fake clock, over every Script: what it
does, and that the ``botocore-waiter`` preset does the same (issue 13)."""

from __future__ import annotations

import pytest

from sim.strategies.presets import PRESETS
from tests.conformance import botocore_runner
from tests.conformance.compare import ks_p, means_agree, preset_runs, same_times
from tests.conformance.harness import BY_NAME, SCRIPTS

PRESET = PRESETS["botocore-waiter"]
CLEAN = [s for s in SCRIPTS if not s.faults]
ERROR_SCRIPTS = [s for s in SCRIPTS if s.faults]


def test_the_library_under_test_is_the_pinned_one():
    assert botocore_runner.VERSION == "1.44.8"


@pytest.mark.parametrize(
    "name", ["ends after 95 s", "Retry-After 0 on 200s", "Retry-After 7 on 200s"]
)
def test_polls_at_once_then_every_15_s_ignoring_retry_after(name):
    run = botocore_runner.run(BY_NAME[name])
    assert run.times == tuple(15.0 * k for k in range(8))  # 0, 15, ..., 105
    assert (run.outcome, run.end) == ("ended", 105.0)


def test_never_ending_job_gives_up_after_40_attempts():
    run = botocore_runner.run(BY_NAME["never ends"])
    assert run.times == tuple(15.0 * k for k in range(40))
    assert (run.outcome, run.end) == ("gave up", 585.0)
    assert run.reason == "Max attempts exceeded"


@pytest.mark.parametrize("script", ERROR_SCRIPTS, ids=lambda s: s.name)
def test_an_error_stands_after_three_attempts_and_ends_the_wait(script):
    """Standard retry mode: 3 attempts with jittered backoff (50 ms base on 5xx, 1 s on
    throttling), then the waiter sees the error, which no acceptor matches."""
    for seed in range(5):
        run = botocore_runner.run(script, seed=seed)
        assert run.requests == 3 and run.outcome == "errored", run
        first, second = (b - a for a, b in zip(run.times, run.times[1:], strict=False))
        base = 1.0 if script.faults[0].http == 429 else 0.05
        assert 0 <= first <= base and 0 <= second <= 2 * base
        assert run.end == run.times[-1]


@pytest.mark.live
@pytest.mark.parametrize("name", ["ends after 95 s", "503 for 60 s, Retry-After 5", "429 for 60 s"])
def test_real_http_on_loopback_gives_what_the_transport_hook_gives(name):
    """The same waiter through urllib3 to a scripted server on 127.0.0.1: the hook that
    the other tests use changes nothing the waiter or its retries do."""
    script = BY_NAME[name]
    assert botocore_runner.run(script, seed=3, http=True) == botocore_runner.run(script, seed=3)


@pytest.mark.parametrize("rtt", [0.0, 0.25], ids=lambda r: f"rtt {r:g} s")
@pytest.mark.parametrize("script", CLEAN, ids=lambda s: s.name)
def test_the_preset_polls_at_the_libraries_times(script, rtt):
    (preset,) = preset_runs(PRESET, script, 1, rtt=rtt)
    assert same_times(botocore_runner.run(script, rtt=rtt), preset)


@pytest.mark.parametrize("script", ERROR_SCRIPTS, ids=lambda s: s.name)
def test_under_errors_the_preset_makes_three_requests_and_errs_as_the_library(script):
    library = botocore_runner.runs(script, 100, seed=1)
    preset = preset_runs(PRESET, script, 100)
    assert {r.requests for r in library} == {r.requests for r in preset} == {3}
    assert {r.outcome for r in library} == {r.outcome for r in preset} == {"errored"}


@pytest.mark.parametrize(
    "name",
    ["503 for 60 s", "429 for 60 s"],
)
def test_the_retry_backoff_is_the_libraries(name):
    """When the error stands: two jittered backoffs, as the library draws them (KS over
    600 library runs and 4000 replays) and as long on average (a 500 is retried as a
    503 is: the same code, and the test above sees its requests)."""
    script = BY_NAME[name]
    n = 600 if script.faults[0].http != 429 else 200  # a 429's waits are longer
    library = [r.end for r in botocore_runner.runs(script, n, seed=2)]
    preset = [r.end for r in preset_runs(PRESET, script, 4000)]
    assert ks_p(library, preset) > 0.01
    agree, figures = means_agree(library, preset)
    assert agree, figures
