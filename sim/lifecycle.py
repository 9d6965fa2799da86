"""The SimPy model of job lifecycles: steps run through their DAG, fail, retry, get
cancelled and paused, and every state change is recorded as a flat ``Change``.

A job's state follows from its steps: running while a step runs or once one has ended,
retry_wait while a step only waits for its retry, queued before that; pausing, paused
and cancelling are asked for from outside. Step attempts are timeouts with a callback
rather than a process each, since a process costs two more events per attempt.
"""

from __future__ import annotations

import numpy as np
import simpy
from simpy.events import Timeout

from sim.dialects import Action, ActionRefused, Dialect
from sim.distributions import Constant, Distribution
from sim.job import Job
from sim.randomness import Draws
from sim.records import ActionRecord, Change
from sim.retry import RetryPolicy
from sim.scripts import Script
from sim.states import (
    JOB_EDGES,
    JOB_TERMINAL,
    STEP_EDGES,
    JobState,
    StepState,
    check_job_transition,
    check_step_transition,
)
from sim.templates import JobTemplate
from sim.workers import WorkerPool

_J, _S = JobState, StepState
# Module constants: a global lookup is cheaper than an enum attribute on the hot path.
QUEUED, RUNNING, RETRY_WAIT = _J.QUEUED, _J.RUNNING, _J.RETRY_WAIT
PAUSING, PAUSED, CANCELLING, CANCELLED = _J.PAUSING, _J.PAUSED, _J.CANCELLING, _J.CANCELLED
SUCCEEDED, FAILED, PARTIAL = _J.SUCCEEDED, _J.FAILED, _J.PARTIAL
PENDING, STEP_RUNNING, STEP_SUCCEEDED = _S.PENDING, _S.RUNNING, _S.SUCCEEDED
STEP_FAILED, STEP_ERROR, SKIPPED, BLOCKED = _S.FAILED, _S.ERROR, _S.SKIPPED, _S.BLOCKED
STEP_CANCELLED = _S.CANCELLED
_HOLD_OR_DONE = JOB_TERMINAL | {CANCELLING}
NO_LAG = Constant(0.0)


class Lifecycle:
    """Runs jobs through their templates in a SimPy environment and records every change.

    ``rng`` serves step durations, outcomes and retry jitter; ``lag_rng`` the reporting
    lag. Either a ``numpy.random.Generator`` or a ``sim.randomness.Draws``.

    ``keep_actions``: each request (cancel, pause, resume), allowed or refused, appends an
    ``ActionRecord`` to ``actions``, which a run's actions.csv and summary read. A model
    that lives as long as a server and answers whatever clients ask keeps none: a client
    asking again and again to cancel a finished job must cost it nothing.
    """

    def __init__(
        self,
        env: simpy.Environment,
        *,
        rng: np.random.Generator | Draws,
        retry: RetryPolicy,
        dialect: Dialect,
        workers: int | None = None,
        lag: Distribution = NO_LAG,
        lag_rng: np.random.Generator | Draws | None = None,
        cancel_delay: float = 0.0,
        keep_actions: bool = True,
    ) -> None:
        self.env = env
        self.rng = rng
        self.lag_rng = lag_rng or rng
        self.retry = retry
        self.dialect = dialect
        self.pool = WorkerPool(workers) if workers is not None else None
        self.lag = lag
        self._lag_const = lag.value if isinstance(lag, Constant) else None
        self.cancel_delay = cancel_delay
        self.jobs: dict[int, Job] = {}
        self.changes: list[Change] = []  #: plain tuples in Change's field order
        self.actions: list[ActionRecord] = []  #: stays empty unless ``keep_actions``
        self.keep_actions = keep_actions
        self._log = self.changes.append

    # --- recording -------------------------------------------------------------------

    def _visible(self, job: Job, now: float) -> float:
        """When the API shows a change made now: after the lag, never before an earlier one.
        (A constant lag keeps the order by itself; the callers add it without a call.)"""
        vis = now + self.lag.sample(self.lag_rng)
        if vis < job.vis:
            vis = job.vis
        job.vis = vis
        return vis

    def _set_job(self, job: Job, new: JobState) -> None:
        old = job.state
        if (old, new) not in JOB_EDGES:
            check_job_transition(old, new)
        now = self.env._now
        time_in = job.time_in
        time_in[old] = time_in.get(old, 0.0) + (now - job.t_last)
        job.t_last = now
        job.state = new
        lag = self._lag_const
        vis = now + lag if lag is not None else self._visible(job, now)
        self._log((job.id, None, old, new, now, vis, 0))
        if new in JOB_TERMINAL:
            job.ended = now
            job.vis = vis
            job.gen += 1

    def _set_step(self, job: Job, i: int, new: StepState) -> None:
        steps = job.steps
        old = steps[i]
        if (old, new) not in STEP_EDGES:
            check_step_transition(old, new)
        steps[i] = new
        now = self.env._now
        lag = self._lag_const
        vis = now + lag if lag is not None else self._visible(job, now)
        self._log((job.id, job.ids[i], old, new, now, vis, job.attempts[i]))

    # --- submission and steps ----------------------------------------------------------

    def submit(self, job_id: int, template: JobTemplate, script: Script | None = None) -> Job:
        """Create a job now and start the steps that depend on nothing. A ``script`` forces
        outcomes and durations of its steps."""
        now = self.env._now
        job = Job(job_id, template, now)
        job.script = script
        self.jobs[job_id] = job
        lag = self._lag_const
        vis = now + lag if lag is not None else self._visible(job, now)
        self._log((job_id, None, None, QUEUED, now, vis, 0))
        for i in template.roots:
            self._ready(job, i)
        self._settle(job)
        return job

    def _ready(self, job: Job, i: int) -> None:
        """Step i has all it needs; start it when a worker is free (unless paused)."""
        if job.hold:
            job.parked.append(i)
            return
        p_skip = job.template.steps[i].p_skip
        if p_skip and not job.attempts[i] and self.rng.random() < p_skip:
            self._set_step(job, i, SKIPPED)
            self._step_done(job, i)
        elif self.pool is None:
            self._start(job, i, job.gen)
        else:
            self.pool.acquire(self._start, job, i, job.gen)

    def _start(self, job: Job, i: int, gen: int) -> bool:
        """A worker is ours: run one attempt of step i. False hands the worker back."""
        if gen != job.gen:
            return False
        if job.hold:
            job.parked.append(i)
            return False
        job.attempts[i] += 1
        self._set_step(job, i, STEP_RUNNING)
        job.running += 1
        step = job.template.steps[i]
        if step.discovery:
            job.discovering += 1
            self._derive(job)
        elif job.state is not RUNNING:
            if job.started is None:
                job.started = self.env._now
            self._set_job(job, RUNNING)
        if job.script is not None and step.id in job.script.durations:
            duration = job.script.durations[step.id]
        else:
            duration = step.duration.sample(self.rng)
        Timeout(self.env, duration, (job, i, gen)).callbacks.append(self._attempt_ended)
        return True

    def _attempt_ended(self, event: simpy.Event) -> None:
        job, i, gen = event._value
        if gen != job.gen:
            return  # the job was cancelled or ended while this attempt ran
        job.running -= 1
        step = job.template.steps[i]
        if step.discovery:
            job.discovering -= 1
        forced = job.script.outcome(step.id, job.attempts[i]) if job.script else None
        if forced is not None:
            self._forced(job, i, gen, forced)
        elif (u := self.rng.random()) >= step.p_fail:
            self._set_step(job, i, STEP_SUCCEEDED)
            self._step_done(job, i)
        elif u < step.p_permanent:
            self._step_failed(job, i)
        elif u < step.p_permanent + step.p_transient:
            self._transient(job, i, gen)
        else:
            self._set_step(job, i, STEP_ERROR)
            self._step_done(job, i)
        # The worker goes back last, so that the next step it serves finds this one's
        # outcome already counted. Waiters are served first come, first served either way.
        if self.pool is not None:
            self.pool.release()

    def _forced(self, job: Job, i: int, gen: int, outcome: str) -> None:
        if outcome == "permanent":
            self._step_failed(job, i)
        elif outcome == "transient":
            self._transient(job, i, gen)
        else:
            self._set_step(job, i, STEP_ERROR if outcome == "error" else STEP_SUCCEEDED)
            self._step_done(job, i)

    def _transient(self, job: Job, i: int, gen: int) -> None:
        """A retryable failure: wait per the retry policy, or fail when attempts run out."""
        step = job.template.steps[i]
        policy = step.retry or job.template.retry or self.retry
        wait = policy.delay(job.attempts[i], self.rng)
        if wait is None:
            self._step_failed(job, i)
            return
        self._set_step(job, i, PENDING)
        job.retrying += 1
        job.retries += 1
        self._derive(job)
        Timeout(self.env, wait, (job, i, gen)).callbacks.append(self._retry_due)

    def _retry_due(self, event: simpy.Event) -> None:
        job, i, gen = event._value
        if gen != job.gen:
            return
        job.retrying -= 1
        self._ready(job, i)
        self._derive(job)

    def _step_done(self, job: Job, i: int) -> None:
        """Step i ended in a state its dependants can go on from."""
        job.finished += 1
        if not job.template.steps[i].discovery:
            job.worked += 1
        waiting = job.waiting
        for d in job.template.dependants[i]:
            waiting[d] -= 1
            if waiting[d] == 0 and job.steps[d] is PENDING:
                self._ready(job, d)
        self._settle(job)

    def _step_failed(self, job: Job, i: int) -> None:
        """Step i failed for good: block what depends on it; a required loss ends the job."""
        self._set_step(job, i, STEP_FAILED)
        steps = job.template.steps
        job.finished += 1
        job.worked += not steps[i].discovery
        lost_required = not steps[i].optional
        stack = list(job.template.dependants[i])
        while stack:
            d = stack.pop()
            if job.steps[d] is PENDING:
                self._set_step(job, d, BLOCKED)
                job.finished += 1
                job.worked += not steps[d].discovery
                lost_required = lost_required or not steps[d].optional
                stack.extend(job.template.dependants[d])
        if lost_required:
            self._stop_steps(job)
            self._set_job(job, FAILED)
        else:
            self._settle(job)

    def _stop_steps(self, job: Job) -> None:
        """The job stops its work: running and pending steps are cancelled."""
        job.gen += 1
        pool = self.pool
        for i, s in enumerate(job.steps):
            if s is STEP_RUNNING or s is PENDING:
                self._set_step(job, i, STEP_CANCELLED)
                if s is STEP_RUNNING and pool is not None:
                    pool.release()
        job.running = job.retrying = job.discovering = 0
        job.parked.clear()

    def _settle(self, job: Job) -> None:
        """End the job if every step has ended, else bring its state up to date."""
        if job.state in JOB_TERMINAL:  # a skipped dependant already ended it
            return
        if job.finished < len(job.steps):
            self._derive(job)
            return
        if job.state is QUEUED:  # every step was skipped: it ran, briefly
            self._set_job(job, RUNNING)
        lost = any(s is STEP_FAILED or s is BLOCKED or s is STEP_ERROR for s in job.steps)
        self._set_job(job, PARTIAL if lost else SUCCEEDED)

    def _derive(self, job: Job) -> None:
        """The job's state from its steps' (pausing, paused and cancelling are asked for)."""
        state = job.state
        if state is RUNNING and job.running > job.discovering and not job.hold:
            return  # the common case, first
        if state in _HOLD_OR_DONE:
            return
        if job.hold:
            new = PAUSING if job.running else PAUSED
        elif job.running > job.discovering:
            new = RUNNING
        elif job.retrying:
            new = RETRY_WAIT
        else:
            new = RUNNING if job.worked else QUEUED
        if new is not state:
            if job.started is None and new is RUNNING:
                job.started = self.env._now
            self._set_job(job, new)

    # --- requests from outside -----------------------------------------------------------

    def request(self, job_id: int, action: Action, dialect: Dialect | None = None) -> str | None:
        """Ask ``action`` of a job now, under the rules of ``dialect`` (the model's own by
        default; the mock server asks in the dialect of the request); None if done, else
        the reason it was refused."""
        dialect = dialect or self.dialect
        job = self.jobs.get(job_id)
        if job is None:
            reason: str | None = f"no job {job_id}"
        else:
            try:
                dialect.check(action, job.state)
            except ActionRefused as exc:
                reason = str(exc)
            else:
                reason = None
                if action is Action.CANCEL:
                    self._cancel(job, dialect.shows_cancelling)
                else:
                    (self._pause if action is Action.PAUSE else self._resume)(job)
        if self.keep_actions:
            self.actions.append(
                ActionRecord(job_id, action.value, self.env.now, reason is None, reason or "")
            )
        return reason

    def _cancel(self, job: Job, shows_cancelling: bool) -> None:
        job.hold = False
        if not shows_cancelling or self.cancel_delay <= 0:
            self._stop_steps(job)
            self._set_job(job, CANCELLED)
            return
        self._set_job(job, CANCELLING)
        self._stop_steps(job)
        Timeout(self.env, self.cancel_delay, (job, job.gen)).callbacks.append(self._dequeued)

    def _dequeued(self, event: simpy.Event) -> None:
        job, gen = event._value
        if gen == job.gen and job.state is CANCELLING:
            self._set_job(job, CANCELLED)

    def _pause(self, job: Job) -> None:
        job.hold = True
        self._derive(job)

    def _resume(self, job: Job) -> None:
        job.hold = False
        self._derive(job)  # out of paused before parked steps start (or get skipped)
        parked, job.parked = sorted(job.parked), []
        for i in parked:
            self._ready(job, i)
        self._settle(job)
