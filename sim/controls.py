"""Cancel, pause and resume requests that a scenario makes of its jobs, at given times or
with given probabilities."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.dialects import Action
from sim.distributions import Distribution


@dataclass(frozen=True)
class Control:
    """A request made of jobs: either ``after`` a delay from each job's submission, or ``at``
    an absolute time to the jobs then in the system (or only to ``jobs``), each chosen with
    ``probability``. A pause may carry ``resume_after``, the delay until its resume."""

    action: Action
    probability: float = 1.0
    after: Distribution | None = None
    at: float | None = None
    jobs: tuple[int, ...] = ()
    templates: tuple[str, ...] = ()  #: only jobs of these templates; all when empty
    resume_after: Distribution | None = None

    def __post_init__(self) -> None:
        if (self.after is None) == (self.at is None):
            raise ValueError("a control needs exactly one of 'after' or 'at'")
        if not (math.isfinite(self.probability) and 0 <= self.probability <= 1):
            raise ValueError(f"probability must be in [0, 1], found {self.probability}")
        if self.resume_after is not None and self.action is not Action.PAUSE:
            raise ValueError("only a pause can have resume_after")
        if self.jobs and self.at is None:
            raise ValueError("'jobs' goes with 'at'")

    def applies_to(self, template: str) -> bool:
        return not self.templates or template in self.templates
