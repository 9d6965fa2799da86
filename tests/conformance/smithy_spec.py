"""The Smithy waiter specification's workflow and retry delay (Smithy 2.0, "Waiters",
``smithy.waiters#waitable``: "Waiter workflow" and "Waiter retries"), transcribed step
by step: no library implements it in Python, so this is the reference the
``smithy-waiter`` preset is compared with. Each step quotes the specification.

Readings where the text leaves room, said once here:

- ``random(minDelay, delay)`` is "a random value between two inclusive integers": a real
  number between the two bounds (which are whole seconds), as the AWS SDK for
  JavaScript draws it; the specification's example table shows whole seconds only
  because it rounds.
- The waiter "calls the operation": one request here. Request-level retries belong to the
  client the waiter runs on, which the specification does not define.
- "set delay to remainingTime and perform one last retry": that retry is made even though
  the total time then equals, not exceeds, the allowed time; the waiter stops after it
  (no time remains). Times are compared with a nanosecond's tolerance, as the fake clock
  adds floats.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from tests.conformance.harness import FakeTime

MIN_DELAY = 2  #: "with a default of 2"
MAX_DELAY = 120  #: "with a default of 120"
_EPS = 1e-9


def retry_delay(
    attempt: int,
    remaining_time: float,
    rng: random.Random,
    min_delay: float = MIN_DELAY,
    max_delay: float = MAX_DELAY,
) -> float:
    """ "Waiter retries": the delay before retry ``attempt`` (from 1)."""
    attempt_ceiling = (math.log(max_delay / min_delay) / math.log(2)) + 1
    if attempt > attempt_ceiling:  # noqa: SIM108 (the specification's own lines)
        delay = max_delay
    else:
        delay = min_delay * 2 ** (attempt - 1)
    delay = rng.uniform(min_delay, delay)
    if remaining_time - delay <= min_delay:
        delay = remaining_time
    return delay


def wait(
    operation: Callable[[], str],
    clock: FakeTime,
    max_wait_time: float,
    rng: random.Random,
    min_delay: float = MIN_DELAY,
    max_delay: float = MAX_DELAY,
) -> str:
    """ "Waiter workflow": ``operation()`` says what the acceptors matched ('success',
    'retry') or 'error' (an error no acceptor matches). Returns 'ended', 'gave up'
    (the allowed time ran out) or 'errored'."""
    start = clock.monotonic()
    attempt = 0
    while True:
        # 1. "Call the operation"
        result = operation()
        total = clock.monotonic() - start
        # 2. "If the total time of the waiter exceeds the allowed time, the waiter ...
        #    MUST transition to a terminal failure state."
        if total > max_wait_time + _EPS:
            return "gave up"
        # 3. acceptors: "Stop waiting if the acceptor transitions the waiter to the
        #    success or failure state."
        if result == "success":
            return "ended"
        # 4. "If none of the acceptors are matched and an error was encountered while
        #    calling the operation, then transition to the failure state"
        if result == "error":
            return "errored"
        # "While the total execution time of a waiter is less than the allowed time":
        # after the last retry, at the allowed time, none remains.
        if total >= max_wait_time - _EPS:
            return "gave up"
        # 5. "Transition the waiter to the retry state, follow the process described in
        #    Waiter retries, and continue to step 1."
        attempt += 1
        clock.sleep(retry_delay(attempt, max_wait_time - total, rng, min_delay, max_delay))
