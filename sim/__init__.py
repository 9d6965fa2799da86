"""pollsim's model: job lifecycles in SimPy, workloads, dialects and scenario files.

No network I/O and no imports of the other pollsim packages: ``mock_server`` and
``loadtests`` build on this, never the other way round.
"""

from sim._reader import ScenarioError
from sim.arrivals import Arrivals, Bursts, Diurnal, NoArrivals, Poisson, Replay
from sim.controls import Control
from sim.dialects import (
    DIALECTS,
    FIDDLER,
    GENERIC,
    ORDO,
    WORKFLOW,
    Action,
    ActionRefused,
    Dialect,
    get_dialect,
)
from sim.distributions import Constant, Distribution, Empirical, Exponential, LogNormal, Uniform
from sim.durations import format_duration, parse_duration, parse_rate
from sim.fit import Fit, FitInputError, fit
from sim.job import Job
from sim.lifecycle import Lifecycle
from sim.limits import LimitError
from sim.records import ActionRecord, Change
from sim.retry import ExponentialRetry, FixedRetry, NoRetry, RetryPolicy, ScheduleRetry
from sim.scenario import Scenario, default_scenario, load_scenario, loads
from sim.simulation import Simulation, simulate
from sim.states import JobState, StepState, TransitionError
from sim.status_server import Outage, ServerSpec
from sim.summary import summarize
from sim.templates import JobTemplate, StepSpec, TemplateError

__all__ = [
    "DIALECTS",
    "FIDDLER",
    "GENERIC",
    "ORDO",
    "WORKFLOW",
    "Action",
    "ActionRecord",
    "ActionRefused",
    "Arrivals",
    "Bursts",
    "Change",
    "Constant",
    "Control",
    "Dialect",
    "Distribution",
    "Diurnal",
    "Empirical",
    "Exponential",
    "ExponentialRetry",
    "Fit",
    "FitInputError",
    "FixedRetry",
    "Job",
    "JobState",
    "JobTemplate",
    "Lifecycle",
    "LimitError",
    "LogNormal",
    "NoArrivals",
    "NoRetry",
    "Outage",
    "Poisson",
    "Replay",
    "RetryPolicy",
    "Scenario",
    "ScenarioError",
    "ScheduleRetry",
    "ServerSpec",
    "Simulation",
    "StepSpec",
    "StepState",
    "TemplateError",
    "TransitionError",
    "Uniform",
    "default_scenario",
    "fit",
    "format_duration",
    "get_dialect",
    "load_scenario",
    "loads",
    "parse_duration",
    "parse_rate",
    "simulate",
    "summarize",
]
