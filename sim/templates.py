"""Job templates: a DAG of steps, each with a duration distribution and its odds of failing.

>>> from sim.distributions import Constant
>>> chain = JobTemplate("pointcloud", (
...     StepSpec("reproject", Constant(60)),
...     StepSpec("build_ept", Constant(240), depends_on=("reproject",)),
... ))
>>> chain.order, chain.dependants
(('reproject', 'build_ept'), ((1,), ()))
>>> JobTemplate("loop", (StepSpec("a", Constant(1), depends_on=("b",)),
...                      StepSpec("b", Constant(1), depends_on=("a",))))
Traceback (most recent call last):
...
sim.templates.TemplateError: steps form a cycle: a -> b -> a
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter

from sim.distributions import Distribution
from sim.retry import RetryPolicy


class TemplateError(ValueError):
    """A template that cannot run: a cycle, a missing dependency, a bad probability."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key  #: the offending field, relative to the template (e.g. steps[1].depends_on)


@dataclass(frozen=True)
class StepSpec:
    """One step of a job template.

    Each attempt ends, in this order of draws, permanently failed (``p_permanent``), failed
    transiently and retried per the retry policy (``p_transient``), with a captured error
    and partial output (``p_error``; dependants go on), or succeeded. ``p_skip`` is the
    chance the step finds no work and is skipped without taking a worker.
    """

    id: str
    duration: Distribution
    depends_on: tuple[str, ...] = ()
    type: str = ""  #: shown as ``step_type``; the id when empty
    p_transient: float = 0.0
    p_permanent: float = 0.0
    p_error: float = 0.0
    p_skip: float = 0.0
    optional: bool = False  #: its failure makes the job partial rather than failed
    #: collects the job's work: the job stays queued (workflow's Pending) while it runs
    discovery: bool = False
    retry: RetryPolicy | None = None  #: overrides the template's and the scenario's policy
    #: the chance an attempt does not simply succeed
    p_fail: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("p_transient", "p_permanent", "p_error", "p_skip"):
            p = getattr(self, name)
            if not (isinstance(p, int | float) and 0 <= p <= 1 and math.isfinite(p)):
                raise TemplateError(f"{name} must be a probability in [0, 1], found {p!r}", name)
        total = self.p_transient + self.p_permanent + self.p_error
        if total > 1 + 1e-12:
            raise TemplateError(
                f"p_transient + p_permanent + p_error must be at most 1, found {total:g}",
                "p_transient",
            )
        if not self.type:
            object.__setattr__(self, "type", self.id)
        object.__setattr__(self, "p_fail", total)


@dataclass(frozen=True)
class JobTemplate:
    """A named DAG of steps; ``weight`` is its share of arrivals."""

    name: str
    steps: tuple[StepSpec, ...]
    weight: float = 1.0
    retry: RetryPolicy | None = None  #: overrides the scenario's policy for this template
    #: step ids in an order where every step comes after its dependencies
    order: tuple[str, ...] = field(init=False)
    #: per step index: the indices of the steps that depend on it
    dependants: tuple[tuple[int, ...], ...] = field(init=False)
    #: per step index: the indices of the steps it depends on
    dependencies: tuple[tuple[int, ...], ...] = field(init=False)
    #: the indices of the steps that depend on nothing
    roots: tuple[int, ...] = field(init=False)
    #: the step ids by index
    ids: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not self.steps:
            raise TemplateError("a template needs at least one step", "steps")
        if not (math.isfinite(self.weight) and self.weight >= 0):
            raise TemplateError(f"weight must be >= 0, found {self.weight}", "weight")
        index: dict[str, int] = {}
        for i, step in enumerate(self.steps):
            if step.id in index:
                raise TemplateError(f"step id {step.id!r} is used twice", f"steps[{i}].id")
            index[step.id] = i
        for i, step in enumerate(self.steps):
            for dep in step.depends_on:
                if dep not in index:
                    raise TemplateError(
                        f"found {dep!r}, expected the id of a step of this template "
                        f"(one of: {', '.join(index)})",
                        f"steps[{i}].depends_on",
                    )
        graph = {s.id: s.depends_on for s in self.steps}
        try:
            order = tuple(TopologicalSorter(graph).static_order())
        except CycleError as exc:
            cycle = list(reversed(exc.args[1]))
            raise TemplateError(f"steps form a cycle: {' -> '.join(cycle)}", "steps") from None
        deps = tuple(tuple(index[d] for d in s.depends_on) for s in self.steps)
        outs: list[list[int]] = [[] for _ in self.steps]
        for i, ds in enumerate(deps):
            for d in ds:
                outs[d].append(i)
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "dependencies", deps)
        object.__setattr__(self, "dependants", tuple(tuple(o) for o in outs))
        object.__setattr__(self, "roots", tuple(i for i, d in enumerate(deps) if not d))
        object.__setattr__(self, "ids", tuple(s.id for s in self.steps))

    def step_index(self, step_id: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.id == step_id)

    def spread(self, total: float) -> dict[str, float]:
        """Each step's duration for a job that takes ``total`` seconds from its first
        step's start to its last step's end (when no step waits for a worker, is skipped
        or is retried): the steps' default mean durations, scaled so that the longest
        chain of dependent steps takes ``total``; steps beside that chain, in parallel,
        end within it. Where the means cannot say (all 0, or one not finite), each step
        counts alike, and the longest chain is the one of most steps.

        >>> from sim.distributions import Constant
        >>> a, b = StepSpec("a", Constant(10)), StepSpec("b", Constant(30), depends_on=("a",))
        >>> JobTemplate("chain", (a, b)).spread(60)
        {'a': 15.0, 'b': 45.0}
        >>> side = StepSpec("side", Constant(5), depends_on=("a",))
        >>> JobTemplate("fork", (a, b, side)).spread(80)
        {'a': 20.0, 'b': 60.0, 'side': 10.0}
        """
        weights = [_mean(s) for s in self.steps]
        if not all(math.isfinite(w) for w in weights) or not any(weights):
            weights = [1.0] * len(self.steps)
        index = {step_id: i for i, step_id in enumerate(self.ids)}
        chain = [0.0] * len(self.steps)  # the longest chain ending with each step
        for step_id in self.order:
            i = index[step_id]
            chain[i] = weights[i] + max((chain[d] for d in self.dependencies[i]), default=0.0)
        scale = total / max(chain)
        return {step.id: w * scale for step, w in zip(self.steps, weights, strict=True)}


def _mean(step: StepSpec) -> float:
    """A step's default mean duration; NaN where its distribution has none to give."""
    try:
        return float(step.duration.mean)
    except (NotImplementedError, OverflowError, ValueError):
        return math.nan
