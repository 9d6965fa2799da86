"""azure-core 1.41.0's ``LROPoller`` (``LROBasePolling`` over a pipeline with its default
``RetryPolicy``), run unchanged on a fake clock over every harness Script; what it does
is exact (no jitter), so it is pinned here request by request."""

from __future__ import annotations

import numpy as np
import pytest

from sim.pollers import replay
from sim.strategies.presets import PRESETS
from tests.conformance import azure_core_runner as azure
from tests.conformance.harness import BY_NAME, SCRIPTS, Fault, Script
from tests.conformance.library_run import ENDED, ERRORED, GAVE_UP, POLLING

HORIZON = 3600.0  #: azure's poller has no deadline: a job that never ends is cut off here

#: (status request times, outcome, stop) per script: polls at once, then every 30 s or
#: the 200's truthy Retry-After; an error answer retried 3 times (after 0, 1.6 and 3.2
#: s, or the Retry-After) and then raised as HttpResponseError
EXPECTED = {
    "ends after 95 s": ((0, 30, 60, 90, 120), ENDED, 120),
    "503 for 60 s": ((0, 0, 1.6, 4.8), ERRORED, 4.8),
    "503 for 60 s, Retry-After 5": ((0, 5, 10, 15), ERRORED, 15),
    "429 for 60 s": ((0, 0, 1.6, 4.8), ERRORED, 4.8),
    "500 for 60 s": ((0, 0, 1.6, 4.8), ERRORED, 4.8),
    "Retry-After 0 on 200s": ((0, 30, 60, 90, 120), ENDED, 120),  # 0 is falsy: 30 s
    "Retry-After 7 on 200s": (tuple(range(0, 99, 7)), ENDED, 98),
}


@pytest.fixture(scope="module")
def library():
    """Each script's one run of the library (it has no randomness)."""
    return {s.name: azure.run(s, horizon=HORIZON) for s in SCRIPTS}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_library_polls_at_once_then_every_30_s_and_raises_after_3_retries(library, name):
    times, outcome, stop = EXPECTED[name]
    run = library[name]
    assert run.times == pytest.approx(times, abs=1e-9)
    assert (run.outcome, run.stop) == (outcome, pytest.approx(stop, abs=1e-9))
    assert (run.raised == "HttpResponseError") == (outcome == ERRORED)


def test_the_library_never_stops_on_a_job_that_never_ends(library):
    run = library["never ends"]
    assert run.outcome == POLLING and run.raised == "Horizon"
    assert run.times == pytest.approx(range(0, int(HORIZON), 30), abs=1e-9)


@pytest.mark.live
@pytest.mark.parametrize("name", ["ends after 95 s", "503 for 60 s, Retry-After 5"])
def test_real_http_on_loopback_gives_what_the_transport_adapter_gives(library, name):
    """The adapter stands for the socket faithfully: the same requests, times and end
    through a real server on 127.0.0.1."""
    assert azure.run_loopback(BY_NAME[name], horizon=HORIZON) == library[name]


# --- the azure-lro preset against the library ----------------------------------------------

PRESET = PRESETS["azure-lro"]


def outcome(r) -> str:
    rec = r.record
    if rec.seen_state:
        return ENDED
    return GAVE_UP if rec.gave_up else ERRORED if rec.errored else POLLING


@pytest.mark.parametrize("name", [s.name for s in SCRIPTS])
def test_the_preset_makes_the_librarys_requests_at_its_times(library, name):
    """Every request (retries included) at the same time to 1e-9 s, the same outcome,
    and the same stop (a job that never ends: both still polling at the horizon)."""
    lib = library[name]
    r = replay(PRESET, BY_NAME[name].answer, np.random.default_rng(0), horizon=HORIZON)
    assert r.times == pytest.approx(lib.times, abs=1e-9)
    assert r.record.polls == lib.requests
    assert outcome(r) == lib.outcome
    if lib.outcome != POLLING:
        assert r.end == pytest.approx(lib.stop, abs=1e-9)
    assert r.record.errors == sum(h != 200 for h in lib.https)


#: answers outside the Scripts where azure-core retries on more than the usual list: any
#: error answer with a Retry-After (404 here), any status from 506, and a Retry-After of 0
#: on an error, which RetryPolicy reads as falsy (its backoff instead)
BEYOND = [
    Script("404 with Retry-After 5", 95.0, (Fault(0, 60, 404, 5.0),)),
    Script("507", 95.0, (Fault(0, 60, 507),)),
    Script("503 with Retry-After 0", 95.0, (Fault(0, 60, 503, 0.0),)),
]


@pytest.mark.parametrize("script", BEYOND, ids=lambda s: s.name)
def test_the_preset_retries_what_the_retry_policy_retries_beyond_the_list(script):
    lib = azure.run(script, horizon=HORIZON)
    assert lib.requests == 4 and lib.outcome == ERRORED
    r = replay(PRESET, script.answer, np.random.default_rng(0), horizon=HORIZON)
    assert r.times == pytest.approx(lib.times, abs=1e-9)
    assert outcome(r) == lib.outcome and r.end == pytest.approx(lib.stop, abs=1e-9)
