"""fiddler-client 3.14.1's ``Job.wait()``, unmodified, on a fake clock over real HTTP on
127.0.0.1 (tests/conformance/run_fiddler.py), on every script of the harness: what the
library does, pinned down from its own code.

Its loop (fiddler/entities/job.py, ``Job.watch``): check ``time.monotonic() > deadline``
(1800 s after it began), GET the job, sleep 6 s after a 2xx that shows it not ended, and
go round again at once after any error answer (its central retry is off for this GET,
and Retry-After is never read). So it polls at once, then every 6 s plus the round
trip, while no more than 1800 s have passed when it wakes, and raises ``TimeoutError``
on the first wake past them; an outage is a loop with no wait but the round trip.

The preset ``fiddler-client``, replayed by ``sim.pollers`` on the same script and round
trip, must send the same requests at the same times (to 1e-9 s: every wait here is
deterministic) and stop the same way at the same time.
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import pytest

from tests.conformance.harness import BY_NAME, SCRIPTS
from tests.conformance.run_fiddler import run
from tests.conformance.watched import Watched, preset

pytestmark = pytest.mark.live  # a loopback HTTP server answers the client

RTT = 0.25  #: a round trip that binary floats add exactly (an outage needs one)
FAULTS = [s.name for s in SCRIPTS if s.faults]
CALM = [s.name for s in SCRIPTS if not s.faults]


@cache
def library(script: str, rtt: float) -> Watched:
    return run(BY_NAME[script], rtt)


def test_polls_at_once_then_every_6_s_and_raises_timeout_error_after_1800_s():
    seen = library("never ends", 0.0)
    assert seen.times == tuple(6.0 * k for k in range(301))  # 0, 6, ..., 1800: 301 polls
    assert (seen.outcome, seen.raised, seen.end) == ("gave up", "TimeoutError", 1806.0)


def test_the_deadline_is_checked_on_waking_and_counts_the_round_trip():
    seen = library("never ends", RTT)
    step = 6.0 + RTT
    assert seen.times == tuple(step * k for k in range(289))  # the last at 1800.0
    assert seen.times[-1] <= 1800.0 < seen.times[-1] + step
    assert (seen.outcome, seen.end) == ("gave up", seen.times[-1] + step)


@pytest.mark.parametrize("rtt", [0.0, RTT])
def test_a_job_that_ends_is_seen_on_the_first_poll_after_it_ends(rtt):
    seen = library("ends after 95 s", rtt)
    step = 6.0 + rtt
    assert seen.times == tuple(step * k for k in range(len(seen.times)))
    assert seen.times[-2] < 95.0 <= seen.times[-1]
    assert (seen.outcome, seen.end) == ("ended", seen.times[-1] + rtt)


@pytest.mark.parametrize("script", FAULTS)
def test_an_error_answer_is_asked_again_at_once_whatever_its_status_or_retry_after(script):
    seen = library(script, RTT)
    fault = BY_NAME[script].faults[0]
    during = [t for t in seen.times if t < fault.stop]
    assert set(seen.answers[: len(during)]) == {fault.http}
    assert len(during) == fault.stop / RTT  # no wait but the round trip
    assert all(b - a == RTT for a, b in pairwise(during))
    after = seen.times[len(during) :]
    assert all(b - a == 6.0 + RTT for a, b in pairwise(after))  # back to its interval
    assert seen.outcome == "ended"


RETRY_AFTER = ["503 for 60 s, Retry-After 5", "Retry-After 0 on 200s", "Retry-After 7 on 200s"]


@pytest.mark.parametrize("script", RETRY_AFTER)
def test_retry_after_is_never_read(script):
    plain = "503 for 60 s" if BY_NAME[script].faults else "ends after 95 s"
    assert library(script, RTT).times == library(plain, RTT).times


# --- the preset against the library ----------------------------------------------------

CASES = [(s.name, 0.0) for s in SCRIPTS if not s.faults] + [(s.name, RTT) for s in SCRIPTS]


@pytest.mark.parametrize(("script", "rtt"), CASES)
def test_the_preset_polls_and_stops_as_the_library(script, rtt):
    seen, sim = library(script, rtt), preset("fiddler-client", BY_NAME[script], rtt)
    assert len(sim.times) == len(seen.times)
    assert sim.times == pytest.approx(seen.times, abs=1e-9, rel=0)
    assert sim.answers == seen.answers  # the same requests under 503, 429, 500
    assert sim.outcome == seen.outcome
    assert sim.end == pytest.approx(seen.end, abs=1e-9, rel=0)
