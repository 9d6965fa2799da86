"""Polling strategies: small immutable values that compose, with a text form.

>>> from sim.strategies import fixed, after_delay, parse_strategy
>>> s = fixed(5) | after_delay("1h")
>>> parse_strategy(str(s)) == s
True
"""

from sim.strategies.feedback import (
    at_once_on_error,
    per_http,
    per_status,
    progress,
    retry_after,
)
from sim.strategies.poll import Strategy, poll
from sim.strategies.presets import PRESETS
from sim.strategies.retries import retries
from sim.strategies.state import PollState, make_state
from sim.strategies.stops import (
    Stop,
    after_delay,
    after_polls,
    max_wait,
    never,
    stop_all,
    stop_any,
)
from sim.strategies.text import StrategyError, parse_strategy
from sim.strategies.waits import (
    Wait,
    decorrelated_jitter,
    equal_jitter,
    exponential,
    fixed,
    for_attempts,
    full_jitter,
    linear,
    uniform,
    wait_sum,
)

__all__ = [
    "PRESETS",
    "PollState",
    "Stop",
    "Strategy",
    "StrategyError",
    "Wait",
    "after_delay",
    "after_polls",
    "at_once_on_error",
    "decorrelated_jitter",
    "equal_jitter",
    "exponential",
    "fixed",
    "for_attempts",
    "full_jitter",
    "linear",
    "make_state",
    "max_wait",
    "never",
    "parse_strategy",
    "per_http",
    "per_status",
    "poll",
    "progress",
    "retries",
    "retry_after",
    "stop_all",
    "stop_any",
    "uniform",
    "wait_sum",
]
