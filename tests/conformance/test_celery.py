"""celery 5.7.0's ``AsyncResult.get()``, unmodified, on a fake clock, on every script of
the harness (tests/conformance/run_celery.py): what the library does on a result backend
that polls, pinned down from its own code.

Celery's transport here is the backend's store lookup: a polling key-value result
backend reaches its store only through ``get(key)`` (S3, Azure Blob, CouchDB,
Elasticsearch... implement it with their HTTP clients), so a subclass whose ``get``
answers from the script is the store, and the lookup, decoding, readiness, naps and
deadline above it are celery's own. Redis and RPC backends do not poll: ``celery-get``
does not stand for them.

``wait_for`` (celery/backends/base.py) looks the meta up at once, returns when it is
ready, and otherwise sleeps ``interval`` (0.5 s) and looks again; ``get()`` has no
timeout by default. A lookup that raises (the store's error answer) leaves ``get()`` at
once: ``get_task_meta`` retries only with ``result_backend_always_retry`` set (off by
default) and an exception the backend calls safe to retry.

The preset ``celery-get``, replayed by ``sim.pollers`` on the same script and round trip
(and the same horizon), must look up at the same times (to 1e-9 s) and stop the same way
at the same time: an error answer is its one request, then ``errored``.
"""

from __future__ import annotations

from functools import cache

import pytest

from tests.conformance.harness import BY_NAME, SCRIPTS
from tests.conformance.run_celery import run
from tests.conformance.watched import Watched, preset

RTT = 0.25  #: a round trip that binary floats add exactly
HORIZON = 1800.0  #: where a watch with no deadline is cut off
FAULTS = [s.name for s in SCRIPTS if s.faults]


@cache
def library(script: str, rtt: float, timeout: float | None = None) -> Watched:
    return run(BY_NAME[script], rtt, HORIZON, timeout)


@pytest.mark.parametrize("rtt", [0.0, RTT])
def test_looks_up_at_once_then_every_half_second_plus_the_round_trip(rtt):
    seen = library("ends after 95 s", rtt)
    step = 0.5 + rtt
    assert seen.times == tuple(step * k for k in range(len(seen.times)))
    assert seen.times[-2] < 95.0 <= seen.times[-1]
    assert (seen.outcome, seen.end) == ("ended", seen.times[-1] + rtt)


def test_no_timeout_by_default_it_watches_to_the_horizon():
    seen = library("never ends", 0.0)
    assert seen.times == tuple(0.5 * k for k in range(3600))
    assert seen.outcome == "watching"


@pytest.mark.parametrize("rtt", [0.0, RTT])
@pytest.mark.parametrize("script", FAULTS)
def test_an_error_answer_ends_get_at_once(script, rtt):
    seen = library(script, rtt)
    assert seen.times == (0.0,) and seen.answers == (BY_NAME[script].faults[0].http,)
    assert (seen.outcome, seen.raised, seen.end) == ("errored", "StoreError", rtt)


@pytest.mark.parametrize("script", ["Retry-After 0 on 200s", "Retry-After 7 on 200s"])
def test_retry_after_means_nothing_to_it(script):
    assert library(script, RTT).times == library("ends after 95 s", RTT).times


def test_a_timeout_counts_its_naps_not_the_clock():
    """Why the preset has no deadline to match: a caller's ``timeout`` is checked after a
    lookup against the naps slept so far, so the round trip does not count."""
    seen = library("never ends", RTT, timeout=10.0)
    assert len(seen.times) == 21  # at naps 0, 0.5, ..., 10
    assert (seen.outcome, seen.raised) == ("gave up", "TimeoutError")
    assert seen.end == 21 * RTT + 10.0  # the clock read 15.25 s when it gave up
    cut = library("never ends", 0.0, timeout=1.2)  # the last nap is cut to the deadline
    assert cut.times == pytest.approx((0.0, 0.5, 1.0, 1.2), abs=1e-9)
    assert cut.outcome == "gave up" and cut.end == pytest.approx(1.2, abs=1e-9)


# --- the preset against the library ----------------------------------------------------


@pytest.mark.parametrize("rtt", [0.0, RTT])
@pytest.mark.parametrize("script", [s.name for s in SCRIPTS])
def test_the_preset_polls_and_stops_as_the_library(script, rtt):
    seen, sim = library(script, rtt), preset("celery-get", BY_NAME[script], rtt, HORIZON)
    assert len(sim.times) == len(seen.times)
    assert sim.times == pytest.approx(seen.times, abs=1e-9, rel=0)
    assert sim.answers == seen.answers
    assert sim.outcome == seen.outcome
    assert sim.end == pytest.approx(seen.end, abs=1e-9, rel=0)


@pytest.mark.parametrize("rtt", [0.0, RTT])
def test_a_timeout_of_whole_intervals_is_a_count_of_lookups(rtt):
    """How to simulate a caller's ``get(timeout=10)``: its naps, not the clock, reach the
    timeout, after 21 lookups, so ``after_polls(21)`` (not ``after_delay``, which counts
    the round trips) gives up when it does. A timeout that is not a whole number of
    intervals cuts the last nap short, which no stop says."""
    seen = library("never ends", rtt, timeout=10.0)
    text = "poll(fixed(0.5), stop=after_polls(21), first=0, on_error='stop')"
    sim = preset(text, BY_NAME["never ends"], rtt, HORIZON)
    assert sim.times == pytest.approx(seen.times, abs=1e-9, rel=0)
    assert (sim.outcome, sim.end) == (seen.outcome, pytest.approx(seen.end, abs=1e-9))
