"""Scripted jobs: outcomes and durations forced per step, so that tests and QA can say
exactly what a job does ("fail transiently five times, then succeed").

>>> from sim.distributions import Constant
>>> from sim.templates import JobTemplate, StepSpec
>>> t = JobTemplate("chain", (StepSpec("a", Constant(1)),
...                           StepSpec("b", Constant(1), depends_on=("a",))))
>>> s = Script.parse("transient_failures:2", t)
>>> [s.outcome("a", n) for n in (1, 2, 3)], s.outcome("b", 1)
(['transient', 'transient', 'success'], 'success')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sim.templates import JobTemplate

OUTCOMES = ("success", "transient", "permanent", "error")
FORCED = ("succeed", "fail_step:<id>", "transient_failures:<n>", "partial")


@dataclass(frozen=True)
class Script:
    """Per step id, the outcome of each attempt in turn (success once the list runs out),
    fixed durations per step id, and what steps without a list do: ``"random"`` (draw as
    usual) or ``"success"``."""

    outcomes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    durations: Mapping[str, float] = field(default_factory=dict)
    others: str = "random"

    def __post_init__(self) -> None:
        for step, seq in self.outcomes.items():
            for o in seq:
                if o not in OUTCOMES:
                    raise ValueError(
                        f"outcome {o!r} for step {step!r}: expected one of {', '.join(OUTCOMES)}"
                    )
        if self.others not in ("random", "success"):
            raise ValueError(f"others must be 'random' or 'success', found {self.others!r}")
        for step, d in self.durations.items():
            if not d >= 0:
                raise ValueError(f"duration of step {step!r} must be >= 0, found {d}")

    def outcome(self, step_id: str, attempt: int) -> str | None:
        """The forced outcome of attempt ``attempt`` (1-based), or None: draw it."""
        seq = self.outcomes.get(step_id)
        if seq is None:
            return None if self.others == "random" else "success"
        return seq[attempt - 1] if attempt <= len(seq) else "success"

    @classmethod
    def parse(cls, text: str, template: JobTemplate) -> Script:
        """A forced outcome as clients write it: ``succeed``, ``fail_step:<id>``,
        ``transient_failures:<n>`` (of the first step) or ``partial``."""
        name, _, arg = text.partition(":")
        ids = [s.id for s in template.steps]
        if name == "succeed" and not arg:
            return cls(others="success")
        if name == "fail_step" and arg in ids:
            return cls(outcomes={arg: ("permanent",)}, others="success")
        if name == "transient_failures" and arg.isdigit():
            first = template.order[0]
            return cls(outcomes={first: ("transient",) * int(arg)}, others="success")
        if name == "partial" and not arg:
            optional = [s.id for s in template.steps if s.optional]
            if not optional:
                raise ValueError(f"template {template.name!r} has no optional step to fail")
            return cls(outcomes={optional[0]: ("permanent",)}, others="success")
        if name == "fail_step":
            raise ValueError(f"fail_step:{arg}: expected a step of {template.name!r}: {ids}")
        raise ValueError(f"forced outcome {text!r}: expected one of {', '.join(FORCED)}")
