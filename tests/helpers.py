"""Small builders for tests: one-job lifecycles, step specs, scenario text."""

from __future__ import annotations

import numpy as np
import simpy

from sim import (
    Constant,
    JobTemplate,
    Lifecycle,
    NoRetry,
    RetryPolicy,
    StepSpec,
    get_dialect,
)
from sim.scripts import Script


def step(id: str, seconds: float = 60.0, *deps: str, **kw) -> StepSpec:
    """A step of constant duration depending on ``deps``."""
    return StepSpec(id, Constant(seconds), depends_on=deps, **kw)


def template(*steps: StepSpec, name: str = "t", **kw) -> JobTemplate:
    return JobTemplate(name, steps, **kw)


def lifecycle(
    retry: RetryPolicy | None = None, dialect: str = "workflow", seed: int = 0, **kw
) -> Lifecycle:
    env = simpy.Environment()
    return Lifecycle(
        env,
        rng=np.random.default_rng(seed),
        retry=retry or NoRetry(),
        dialect=get_dialect(dialect),
        **kw,
    )


def run_one(tpl: JobTemplate, script: Script | None = None, **kw) -> Lifecycle:
    """Submit one job at t=0 and run until nothing is left to happen."""
    model = lifecycle(**kw)
    model.submit(0, tpl, script)
    model.env.run()
    return model


def job_log(model: Lifecycle, job_id: int = 0) -> list[tuple[float, str | None, str]]:
    """(t, from, to) of the job's own changes."""
    return [(c[4], c[2], c[3]) for c in model.changes if c[0] == job_id and c[1] is None]


def step_log(model: Lifecycle, step_id: str, job_id: int = 0) -> list[tuple[float, str, str]]:
    return [(c[4], c[2], c[3]) for c in model.changes if c[0] == job_id and c[1] == step_id]


def final_steps(model: Lifecycle, job_id: int = 0) -> dict[str, str]:
    job = model.jobs[job_id]
    return {s.id: str(st) for s, st in zip(job.template.steps, job.steps, strict=True)}
