"""Scripted jobs: outcomes and durations forced per step, so that tests and QA can say
exactly what a job does ("fail transiently five times, then succeed").

>>> from sim.distributions import Constant
>>> from sim.templates import JobTemplate, StepSpec
>>> t = JobTemplate("chain", (StepSpec("a", Constant(1)),
...                           StepSpec("b", Constant(1), depends_on=("a",))))
>>> s = Script.parse("transient_failures:2", t)
>>> [s.outcome("a", n) for n in (1, 2, 3)], s.outcome("b", 1)
(['transient', 'transient', 'success'], 'success')
>>> Script.parse("transient_failures:5000", t)
Traceback (most recent call last):
ValueError: transient_failures:5000: expected at most 1000 scripted failures
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat

from sim.templates import JobTemplate

OUTCOMES = ("success", "transient", "permanent", "error")
FORCED = ("succeed", "fail_step:<id>", "transient_failures:<n>", "partial")
MAX_RETRIES = 1000  #: the most transient failures a script forces, by default


class Repeated(Sequence[str]):
    """One outcome ``n`` times, in constant memory (a tuple of a million names is 8 MB)."""

    __slots__ = ("item", "n")

    def __init__(self, item: str, n: int) -> None:
        self.item, self.n = item, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):  # a Sequence's contract; ints are all a script asks
        if isinstance(i, slice):
            return tuple(self)[i]
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return self.item

    def __iter__(self) -> Iterator[str]:
        return repeat(self.item, self.n)

    def __repr__(self) -> str:
        return f"Repeated({self.item!r}, {self.n})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Script:
    """Per step id, the outcome of each attempt in turn (success once the list runs out),
    fixed durations per step id, and what steps without a list do: ``"random"`` (draw as
    usual) or ``"success"``."""

    outcomes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    durations: Mapping[str, float] = field(default_factory=dict)
    others: str = "random"

    def __post_init__(self) -> None:
        for step, seq in self.outcomes.items():
            for o in set(seq):
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
    def parse(cls, text: str, template: JobTemplate, max_retries: int = MAX_RETRIES) -> Script:
        """A forced outcome as clients write it: ``succeed``, ``fail_step:<id>``,
        ``transient_failures:<n>`` (of the first step, ``n`` at most ``max_retries``) or
        ``partial``."""
        name, _, arg = text.partition(":")
        ids = [s.id for s in template.steps]
        if name == "succeed" and not arg:
            return cls(others="success")
        if name == "fail_step" and arg in ids:
            return cls(outcomes={arg: ("permanent",)}, others="success")
        if name == "transient_failures" and arg.isascii() and arg.isdigit():
            if len(arg) > len(str(max_retries)) or int(arg) > max_retries:
                raise ValueError(
                    f"{name}:{arg[:40]}: expected at most {max_retries} scripted failures"
                )
            first = template.order[0]
            return cls(outcomes={first: Repeated("transient", int(arg))}, others="success")
        if name == "partial" and not arg:
            optional = [s.id for s in template.steps if s.optional]
            if not optional:
                raise ValueError(f"template {template.name!r} has no optional step to fail")
            return cls(outcomes={optional[0]: ("permanent",)}, others="success")
        if name == "fail_step":
            raise ValueError(f"fail_step:{arg}: expected a step of {template.name!r}: {ids}")
        shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
        raise ValueError(f"forced outcome {shown}: expected one of {', '.join(FORCED)}")
