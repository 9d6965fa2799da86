"""The AWS SDK for JavaScript v3's EC2 waiter (@smithy/util-waiter's loop, the EC2
client's retries) in node on faked timers, over every Script: what it does, and that the
``aws-js-waiter`` preset does the same (issue 13). Its packages are installed from
js/package-lock.json by the ``node`` fixture; without node the tests say so and skip."""

from __future__ import annotations

import pytest

from sim.strategies.presets import PRESETS
from tests.conformance import aws_js_runner
from tests.conformance.aws_js_runner import Job
from tests.conformance.compare import ks_p, means_agree, preset_runs
from tests.conformance.harness import BY_NAME, SCRIPTS

HOUR = 3600.0  #: the maxWaitTime the preset is set to
PRESET = PRESETS["aws-js-waiter"]
CLEAN = [s for s in SCRIPTS if not s.faults]
ERROR_SCRIPTS = [s for s in SCRIPTS if s.faults]


@pytest.fixture(scope="module")
def node() -> str:
    try:
        return aws_js_runner.install()
    except aws_js_runner.NodeMissing as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def library(node) -> dict[str, list]:
    """The library's runs every comparison below reads, from one node process: the
    stand-in client for the 2000 runs of a distribution where no error comes, the SDK
    client under errors."""
    jobs = {
        "ends after 95 s": Job(BY_NAME["ends after 95 s"], HOUR, 2000, client="send"),
        "never ends": Job(BY_NAME["never ends"], HOUR, 2000, client="send"),
        **{s.name: Job(s, HOUR, 60, seed=100) for s in ERROR_SCRIPTS},
    }
    _, runs = aws_js_runner.run_jobs(node, list(jobs.values()))
    return dict(zip(jobs, runs, strict=True))


def test_the_packages_under_test_are_the_pinned_ones(node):
    versions, _ = aws_js_runner.run(node, BY_NAME["ends after 95 s"], HOUR)
    assert versions["@aws-sdk/client-ec2"] == "3.1169.0"
    assert versions["@smithy/util-waiter"] == "4.6.2"


def test_jitter_for_six_retries_then_a_fixed_120_s(node):
    """Retry k (from 1) waits uniform(2, 2 ** k) s while 2 ** k <= 64; from the 7th
    retry, 120 s without jitter; no request after the hour: 36 polls, the last before
    3600 s, then TIMEOUT."""
    _, runs = aws_js_runner.run(node, BY_NAME["never ends"], HOUR, runs=5)
    for run in runs:
        waits = [b - a for a, b in zip(run.times, run.times[1:], strict=False)]
        assert run.times[:2] == (0.0, 2.0)
        for k, w in enumerate(waits[:6], start=1):
            assert 2.0 <= w <= 2.0**k
        assert waits[6:] == pytest.approx([120.0] * (len(waits) - 6), abs=1e-9)
        assert run.requests == 36 and run.times[-1] <= HOUR < run.times[-1] + 120
        assert (run.outcome, run.end) == ("gave up", run.times[-1])


@pytest.mark.parametrize("script", CLEAN, ids=lambda s: s.name)
def test_the_stand_in_client_polls_as_the_sdk_client_does_without_errors(node, script):
    """The thousands of runs a distribution needs use a stand-in client (one request per
    call): without errors it gives the SDK client's times exactly."""
    _, sdk = aws_js_runner.run(node, script, HOUR, runs=4, seed=11)
    _, stand_in = aws_js_runner.run(node, script, HOUR, runs=4, seed=11, client="send")
    assert sdk == stand_in


@pytest.mark.parametrize("script", ERROR_SCRIPTS, ids=lambda s: s.name)
def test_errors_are_retried_by_the_client_and_then_by_the_waiter(node, script):
    """The generated EC2 waiter answers RETRY to an error no acceptor matches, so it
    never fails on one; each poll inside the fault is 3 requests (standard retry mode:
    backoff rand * 50 ms * 2**i, 1 s base on a 429, a Retry-After honoured)."""
    fault = script.faults[0]
    _, runs = aws_js_runner.run(node, script, HOUR, runs=3, seed=3)
    for run in runs:
        assert run.outcome == "ended"
        inside = [t for t in run.times if t < fault.stop]
        gaps = [b - a for a, b in zip(run.times, run.times[1:], strict=False)]
        assert run.requests > len(inside) >= 3
        first_poll_retries = gaps[:2]
        if fault.retry_after is not None:
            assert first_poll_retries == pytest.approx([fault.retry_after] * 2, abs=1e-3)
        else:
            base = 1.0 if fault.http == 429 else 0.05
            assert 0 <= first_poll_retries[0] <= base and 0 <= first_poll_retries[1] <= 2 * base


@pytest.mark.parametrize("name", ["ends after 95 s", "never ends"], ids=str)
def test_the_preset_polls_as_often_and_stops_as_late_as_the_library(library, name):
    """Means over 2000 runs: requests and stop time within 2% (an hour: 36 polls each)."""
    lib, preset = library[name], preset_runs(PRESET, BY_NAME[name], 2000)
    assert {r.outcome for r in lib} == {r.outcome for r in preset}
    for what in ("requests", "end"):
        agree, figures = means_agree(
            [getattr(r, what) for r in lib], [getattr(r, what) for r in preset]
        )
        assert agree, f"{what}: {figures}"


@pytest.mark.parametrize("name", ["ends after 95 s", "never ends"], ids=str)
def test_the_preset_stops_when_the_library_does_in_distribution(library, name):
    lib, preset = library[name], preset_runs(PRESET, BY_NAME[name], 2000)
    assert ks_p([r.end for r in lib], [r.end for r in preset]) > 0.01


@pytest.mark.parametrize(
    "name",
    [
        "503 for 60 s",
        "503 for 60 s, Retry-After 5",
        "429 for 60 s",
        "500 for 60 s",
    ],
    ids=str,
)
def test_under_errors_the_preset_requests_as_often_and_ends_as_the_library(library, name):
    """Every run ends (the waiter retries on any error), with as many requests on
    average (2%, or three standard errors of 60 library runs)."""
    lib, preset = library[name], preset_runs(PRESET, BY_NAME[name], 1000)
    assert {r.outcome for r in lib} == {r.outcome for r in preset} == {"ended"}
    agree, figures = means_agree([r.requests for r in lib], [r.requests for r in preset])
    assert agree, figures
