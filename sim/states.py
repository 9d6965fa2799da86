"""The canonical job and step state machines, with their allowed transitions as data.

>>> JobState.QUEUED.can_become(JobState.RUNNING)
True
>>> check_job_transition(JobState.SUCCEEDED, JobState.RUNNING)
Traceback (most recent call last):
...
sim.states.TransitionError: job cannot go from succeeded to running (from succeeded: terminal)
"""

from __future__ import annotations

from enum import StrEnum


class TransitionError(ValueError):
    """A state change that the machine does not allow."""


class JobState(StrEnum):
    """Canonical job states; each dialect renders them in its own words."""

    QUEUED = "queued"  #: created; no step started
    RUNNING = "running"  #: at least one step running or complete
    RETRY_WAIT = "retry_wait"  #: a transient failure; an automatic retry is scheduled
    PAUSING = "pausing"  #: pause asked; running steps finish, no new ones start
    PAUSED = "paused"  #: can be resumed or cancelled
    CANCELLING = "cancelling"  #: cancel asked; queued work is being removed
    SUCCEEDED = "succeeded"  #: all steps succeeded
    FAILED = "failed"  #: a required step failed or was blocked
    PARTIAL = "partial"  #: some steps succeeded, some (optional ones) failed
    CANCELLED = "cancelled"  #: cancelled before completion

    @property
    def terminal(self) -> bool:
        return self in JOB_TERMINAL

    def can_become(self, other: JobState) -> bool:
        return other in JOB_TRANSITIONS[self]


class StepState(StrEnum):
    """Canonical step (task) states."""

    PENDING = "pending"  #: created, not yet picked up (or waiting for its retry)
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  #: unexpected failure, no structured output
    ERROR = "error"  #: captured error; partial output, dependants go on
    SKIPPED = "skipped"  #: no work to perform
    BLOCKED = "blocked"  #: a step it depends on failed, so it never ran
    CANCELLED = "cancelled"  #: the job was cancelled or ended before it could run

    @property
    def terminal(self) -> bool:
        return self in STEP_TERMINAL

    def can_become(self, other: StepState) -> bool:
        return other in STEP_TRANSITIONS[self]


_J = JobState
_ENDINGS = frozenset({_J.SUCCEEDED, _J.FAILED, _J.PARTIAL})

#: Job machine: state -> the states it may move to. Terminal states map to nothing.
#: A pause with no step running goes straight to paused; a cancel goes through
#: cancelling only in dialects that show it (workflow's Dequeuing).
JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    # from queued straight to retry_wait, pausing or an end: a discovery step ran
    _J.QUEUED: frozenset({_J.RUNNING, _J.RETRY_WAIT, _J.PAUSING, _J.PAUSED, _J.CANCELLING})
    | {_J.CANCELLED, _J.FAILED, _J.PARTIAL},
    _J.RUNNING: frozenset({_J.RETRY_WAIT, _J.PAUSING, _J.PAUSED, _J.CANCELLING, _J.CANCELLED})
    | _ENDINGS,
    # retry_wait -> pausing or failed: a discovery step still runs beside the retry
    _J.RETRY_WAIT: frozenset({_J.RUNNING, _J.QUEUED, _J.PAUSING, _J.PAUSED, _J.CANCELLING})
    | {_J.CANCELLED, _J.FAILED},
    _J.PAUSING: frozenset({_J.PAUSED, _J.CANCELLING, _J.CANCELLED}) | _ENDINGS,
    _J.PAUSED: frozenset({_J.QUEUED, _J.RUNNING, _J.RETRY_WAIT, _J.CANCELLING, _J.CANCELLED}),
    _J.CANCELLING: frozenset({_J.CANCELLED}),
    _J.SUCCEEDED: frozenset(),
    _J.FAILED: frozenset(),
    _J.PARTIAL: frozenset(),
    _J.CANCELLED: frozenset(),
}

_S = StepState
_STEP_ENDS = frozenset({_S.SUCCEEDED, _S.FAILED, _S.ERROR, _S.CANCELLED})

#: Step machine. running -> pending is a transient failure waiting for its retry.
STEP_TRANSITIONS: dict[StepState, frozenset[StepState]] = {
    _S.PENDING: frozenset({_S.RUNNING, _S.SKIPPED, _S.BLOCKED, _S.CANCELLED}),
    _S.RUNNING: frozenset({_S.PENDING}) | _STEP_ENDS,
    _S.SUCCEEDED: frozenset(),
    _S.FAILED: frozenset(),
    _S.ERROR: frozenset(),
    _S.SKIPPED: frozenset(),
    _S.BLOCKED: frozenset(),
    _S.CANCELLED: frozenset(),
}

JOB_TERMINAL = frozenset(s for s, nxt in JOB_TRANSITIONS.items() if not nxt)
STEP_TERMINAL = frozenset(s for s, nxt in STEP_TRANSITIONS.items() if not nxt)

#: Every allowed (from, to) pair, for the hot path's one set lookup.
JOB_EDGES = frozenset((a, b) for a, nxt in JOB_TRANSITIONS.items() for b in nxt)
STEP_EDGES = frozenset((a, b) for a, nxt in STEP_TRANSITIONS.items() for b in nxt)


def _refuse(kind: str, table: dict, old, new) -> TransitionError:
    allowed = ", ".join(sorted(table[old])) or "terminal"
    return TransitionError(f"{kind} cannot go from {old} to {new} (from {old}: {allowed})")


def check_job_transition(old: JobState, new: JobState) -> None:
    """Raise TransitionError unless the job machine allows ``old -> new``."""
    if (old, new) not in JOB_EDGES:
        raise _refuse("job", JOB_TRANSITIONS, old, new)


def check_step_transition(old: StepState, new: StepState) -> None:
    """Raise TransitionError unless the step machine allows ``old -> new``."""
    if (old, new) not in STEP_EDGES:
        raise _refuse("step", STEP_TRANSITIONS, old, new)
