"""The seeds' own clients, whose code is not here to run: their presets, replayed by
``sim.pollers`` on the harness's scripts, keep the schedules the seeds' source has
(issue 13, point 1).

- ``ordo-js``: the ordo client's ``pollJob`` fetches at once, then sets its 3 s timer; it
  has no deadline.
- ``generic-js``: the generic ``pollJobStatus`` calls ``poll()`` at once, every 2 s after,
  and gives up only once *more than* 60 s have passed (checked as it wakes): with no
  round trip it polls at 0, 2, ..., 60, 31 polls; it polls through error answers.
- ``fiddler-py``: the seed's manual loop sleeps 10 s before its first refresh, 30 s while
  the job is in retry, and gives up after an hour.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.pollers import Replay, replay
from sim.status_server import Response
from sim.strategies import parse_strategy
from tests.conformance.harness import BY_NAME, Script

RTT = 0.25  #: a round trip that binary floats add exactly


def watch(preset: str, answer, rtt: float = 0.0, horizon: float = math.inf) -> Replay:
    return replay(parse_strategy(preset), answer, np.random.default_rng(0), rtt, horizon)


def sent(r: Replay, rtt: float) -> list[float]:
    """Each request's send time (``replay`` gives its arrival, half a round trip on)."""
    return [t - rtt / 2 for t in r.times]


def arrivals(n: int, step: float, rtt: float = 0.0, first: float = 0.0) -> list[float]:
    return [first + step * k + rtt / 2 for k in range(n)]


# --- ordo-js ----------------------------------------------------------------------------


def test_ordo_js_fetches_at_once_then_every_3_s():
    r = watch("ordo-js", BY_NAME["ends after 95 s"].answer)
    assert r.times == arrivals(33, 3.0)  # 0, 3, ..., 96: seen on the poll at 96
    assert (r.record.seen_state, r.end) == ("succeeded", 96.0)


def test_ordo_js_sees_a_job_already_ended_on_its_first_fetch():
    r = watch("ordo-js", Script("ended before watching", ends_at=0.0).answer)
    assert r.times == [0.0] and r.record.seen_state == "succeeded"


def test_ordo_js_has_no_deadline():
    r = watch("ordo-js", BY_NAME["never ends"].answer, RTT, horizon=3600.0)
    assert r.times == arrivals(len(r.times), 3.0 + RTT, RTT)
    assert sent(r, RTT)[-1] + 3.0 + RTT >= 3600.0  # watched to the horizon
    assert not (r.record.gave_up or r.record.errored)


# --- generic-js -------------------------------------------------------------------------


def test_generic_js_polls_at_0_2_to_60_then_gives_up_once_more_than_60_s_passed():
    r = watch("generic-js", BY_NAME["never ends"].answer)
    assert r.times == arrivals(31, 2.0)  # 31 polls (pollsim before: 30, from 2 s)
    assert r.record.gave_up and r.end == 62.0  # the first wake past 60 s


def test_generic_js_with_a_round_trip_gives_up_on_the_first_wake_past_60_s():
    r = watch("generic-js", BY_NAME["never ends"].answer, RTT)
    assert r.times == arrivals(27, 2.0 + RTT, RTT)  # sent at 0, 2.25, ..., 58.5
    assert r.record.gave_up and r.end == 27 * (2.0 + RTT)


def test_generic_js_sees_a_job_that_ends_within_its_minute():
    r = watch("generic-js", Script("ends after 30 s", ends_at=30.0).answer)
    assert r.times == arrivals(16, 2.0)
    assert (r.record.seen_state, r.record.gave_up) == ("succeeded", False)


@pytest.mark.parametrize("script", ["503 for 60 s", "429 for 60 s", "500 for 60 s"])
def test_generic_js_polls_through_error_answers(script):
    r = watch("generic-js", BY_NAME[script].answer)
    assert r.times == arrivals(31, 2.0)
    assert r.record.errors == 30  # every poll before 60 s, and on to its deadline
    assert r.record.gave_up and not r.record.errored


# --- fiddler-py -------------------------------------------------------------------------


def test_fiddler_py_sleeps_10_s_before_its_first_refresh():
    r = watch("fiddler-py", BY_NAME["ends after 95 s"].answer)
    assert r.times == arrivals(10, 10.0, first=10.0)  # 10, 20, ..., 100
    assert (r.record.seen_state, r.end) == ("succeeded", 100.0)


def test_fiddler_py_waits_30_s_while_the_job_is_in_retry():
    def answer(t: float) -> Response:
        state = "running" if t < 25 else "retry_wait" if t < 95 else "succeeded"
        return Response(200, state, None, None)

    r = watch("fiddler-py", answer)
    assert r.times == [10.0, 20.0, 30.0, 60.0, 90.0, 120.0]
    assert r.record.seen_state == "succeeded"


def test_fiddler_py_gives_up_after_an_hour():
    r = watch("fiddler-py", BY_NAME["never ends"].answer)
    assert r.times == arrivals(360, 10.0, first=10.0)  # 10, ..., 3600
    assert r.record.gave_up and r.end == 3600.0
