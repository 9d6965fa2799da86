"""The runtime state of one job while the lifecycle model drives it."""

from __future__ import annotations

from sim.scripts import Script
from sim.states import JobState, StepState
from sim.templates import JobTemplate


class Job:
    """The runtime state of one job (shared state only; the model drives it)."""

    __slots__ = (
        "attempts",
        "discovering",
        "ended",
        "finished",
        "gen",
        "hold",
        "id",
        "ids",
        "parked",
        "retries",
        "retrying",
        "running",
        "script",
        "started",
        "state",
        "steps",
        "submit",
        "t_last",
        "template",
        "time_in",
        "vis",
        "waiting",
        "worked",
    )

    def __init__(self, job_id: int, template: JobTemplate, now: float) -> None:
        n = len(template.steps)
        self.id = job_id
        self.template = template
        self.submit = now
        self.state = JobState.QUEUED
        self.steps: list[StepState] = [StepState.PENDING] * n
        self.ids = template.ids
        self.attempts = [0] * n
        self.waiting = [len(d) for d in template.dependencies]  # dependencies not yet done
        self.running = 0  # steps running now
        self.retrying = 0  # steps waiting for their retry timer
        self.finished = 0  # steps in a terminal state
        self.worked = 0  # of those, steps that are not discovery steps
        self.discovering = 0  # discovery steps running now
        self.retries = 0
        self.hold = False  # pausing or paused
        self.parked: list[int] = []  # steps ready to start once resumed
        self.gen = 0  # bumped when the job stops its work: outstanding timers go stale
        self.started: float | None = None
        self.ended: float | None = None
        self.t_last = now
        self.vis = now
        self.time_in: dict[JobState, float] = {}
        self.script: Script | None = None
