"""Whether a run fits the bounds of ``sim.limits``, checked before anything is drawn: the
jobs it will submit and the step attempts they will take. A scenario that is valid but
would run for hours is refused in one line, naming the key to change.

>>> from sim.scenario import loads
>>> check_size(loads('horizon = "1h"'))
>>> check_size(loads('[arrivals]\\nrate = "2000/s"\\n', source="big.toml"))
Traceback (most recent call last):
...
sim._reader.ScenarioError: big.toml: arrivals.rate: 14,400,000 jobs expected over the ...
"""

from __future__ import annotations

from sim import limits
from sim._reader import ScenarioError
from sim.arrivals import Diurnal
from sim.durations import format_duration
from sim.retry import RetryPolicy
from sim.scenario import Scenario
from sim.templates import JobTemplate

#: constant-rate slots a diurnal curve may be cut into over the horizon
MAX_SLOTS = 1_000_000


def check_size(s: Scenario) -> None:
    """Raise a ScenarioError when the run would pass a bound of ``sim.limits``."""
    if not s.horizon <= limits.MAX_SPAN:
        _refuse(s, "horizon", f"{format_duration(s.horizon)}; at most {_days(limits.MAX_SPAN)}")
    if isinstance(s.arrivals, Diurnal) and s.arrivals.slots(s.horizon) > MAX_SLOTS:
        _refuse(
            s,
            "arrivals.period",
            f"cuts the horizon into {s.arrivals.slots(s.horizon):,.0f} slots of one rate; "
            f"at most {MAX_SLOTS:,}: give a longer period or fewer rates",
        )
    jobs = s.arrivals.expected(s.horizon) + s.bursts.expected(s.horizon)
    if jobs > limits.MAX_JOBS:
        _refuse(
            s,
            "arrivals.rate",
            f"{jobs:,.0f} jobs expected over the horizon of {format_duration(s.horizon)}; "
            f"at most {limits.MAX_JOBS:,} a run: lower the rate, the bursts or the horizon",
        )
    attempts = jobs * _attempts_per_job(s)
    if attempts > limits.MAX_STEP_ATTEMPTS:
        _refuse(
            s,
            "templates",
            f"{attempts:,.0f} step attempts expected ({jobs:,.0f} jobs, their steps and "
            f"retries); at most {limits.MAX_STEP_ATTEMPTS:,} a run: fewer jobs, steps or "
            "retries",
        )


def _attempts_per_job(s: Scenario) -> float:
    """Step attempts a job takes on average, over the templates by weight."""
    total = sum(t.weight for t in s.templates)
    return sum(t.weight / total * _attempts(t, s.retry) for t in s.templates) if total else 0.0


def _attempts(t: JobTemplate, retry: RetryPolicy) -> float:
    """Attempts of every step of a template: 1 + p + p^2 ... up to its policy's limit."""
    out = 0.0
    for step in t.steps:
        p = step.p_transient
        n = (step.retry or t.retry or retry).max_attempts
        out += n if p >= 1 else (1 - p**n) / (1 - p)
    return out


def _days(seconds: float) -> str:
    return f"{seconds / 86400:g} days"


def _refuse(s: Scenario, key: str, message: str) -> None:
    raise ScenarioError(s.source, key, message)
