"""Dialects: the words four real status APIs use for the canonical states, and the
actions each one allows.

>>> ORDO.job_status(JobState.CANCELLED), ORDO.job_error(JobState.CANCELLED)
('failed', 'job was cancelled')
>>> WORKFLOW.step_status(StepState.BLOCKED)
'Cancelled'
>>> FIDDLER.check(Action.CANCEL, JobState.RUNNING)
Traceback (most recent call last):
...
sim.dialects.ActionRefused: fiddler cannot cancel a job that is STARTED: a job can be revoked ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sim.states import JobState, StepState

_J, _S = JobState, StepState


class Action(StrEnum):
    """What a client may ask of a job besides its status."""

    CANCEL = "cancel"  #: fiddler calls it revoke, workflow goes through Dequeuing
    PAUSE = "pause"
    RESUME = "resume"


class ActionRefused(ValueError):
    """The dialect does not allow this action in this state (an HTTP 409 in the server)."""


@dataclass(frozen=True)
class Dialect:
    """How one status API renders the canonical states, and what it lets clients do."""

    name: str
    #: canonical job state -> the API's word; None where the API has no such state
    jobs: Mapping[JobState, str | None]
    #: canonical step state -> the API's word; None where the API shows no steps
    steps: Mapping[StepState, str | None]
    #: action -> the job states in which the API accepts it
    actions: Mapping[Action, frozenset[JobState]]
    #: a short reason per action, given when it is refused
    rules: Mapping[Action, str] = field(default_factory=dict)
    #: whether a cancel passes through the visible ``cancelling`` state
    shows_cancelling: bool = False
    #: the error text a job carries when its state alone does not say why it ended
    errors: Mapping[JobState, str] = field(default_factory=dict)

    def job_status(self, state: JobState) -> str:
        word = self.jobs[state]
        if word is None:
            raise ValueError(f"dialect {self.name} has no word for job state {state}")
        return word

    def step_status(self, state: StepState) -> str:
        word = self.steps[state]
        if word is None:
            raise ValueError(f"dialect {self.name} has no word for step state {state}")
        return word

    def job_error(self, state: JobState) -> str | None:
        return self.errors.get(state)

    def allows(self, action: Action, state: JobState) -> bool:
        return state in self.actions.get(action, frozenset())

    def check(self, action: Action, state: JobState) -> None:
        """Raise ActionRefused, with a message a client can act on, unless allowed."""
        if self.allows(action, state):
            return
        if action not in self.actions:
            raise ActionRefused(f"{self.name} does not support {action}")
        shown = self.jobs[state] or state.value
        why = self.rules.get(action, "")
        raise ActionRefused(
            f"{self.name} cannot {action} a job that is {shown}" + (f": {why}" if why else "")
        )


def _table(*pairs: tuple[StrEnum, str | None]) -> dict:
    return dict(pairs)


_LIVE = frozenset({_J.QUEUED, _J.RUNNING, _J.RETRY_WAIT})

ORDO = Dialect(
    name="ordo",
    jobs=_table(
        (_J.QUEUED, "pending"),
        (_J.RUNNING, "running"),
        (_J.RETRY_WAIT, "running"),
        (_J.PAUSING, None),
        (_J.PAUSED, None),
        (_J.CANCELLING, None),
        (_J.SUCCEEDED, "success"),
        (_J.FAILED, "failed"),
        (_J.PARTIAL, "partial"),
        (_J.CANCELLED, "failed"),
    ),
    steps=_table(
        (_S.PENDING, "pending"),
        (_S.RUNNING, "running"),
        (_S.SUCCEEDED, "success"),
        (_S.FAILED, "failed"),
        (_S.ERROR, "failed"),
        (_S.SKIPPED, "skipped"),
        (_S.BLOCKED, "skipped"),
        (_S.CANCELLED, "skipped"),
    ),
    actions={Action.CANCEL: _LIVE},
    rules={Action.CANCEL: "only a job that has not ended can be cancelled"},
    errors={_J.CANCELLED: "job was cancelled"},
)

FIDDLER = Dialect(
    name="fiddler",
    jobs=_table(
        (_J.QUEUED, "PENDING"),
        (_J.RUNNING, "STARTED"),
        (_J.RETRY_WAIT, "RETRY"),
        (_J.PAUSING, None),
        (_J.PAUSED, None),
        (_J.CANCELLING, None),
        (_J.SUCCEEDED, "SUCCESS"),
        (_J.FAILED, "FAILURE"),
        (_J.PARTIAL, "FAILURE"),
        (_J.CANCELLED, "REVOKED"),
    ),
    steps={s: None for s in StepState},
    actions={Action.CANCEL: frozenset({_J.QUEUED})},
    rules={Action.CANCEL: "a job can be revoked only while PENDING"},
)

WORKFLOW = Dialect(
    name="workflow",
    jobs=_table(
        (_J.QUEUED, "Pending"),
        (_J.RUNNING, "Started"),
        (_J.RETRY_WAIT, "Started"),
        (_J.PAUSING, "Pausing"),
        (_J.PAUSED, "Paused"),
        (_J.CANCELLING, "Dequeuing"),
        (_J.SUCCEEDED, "Success"),
        (_J.FAILED, "Failure"),
        (_J.PARTIAL, "Failure"),
        (_J.CANCELLED, "Cancelled"),
    ),
    steps=_table(
        (_S.PENDING, "Pending"),
        (_S.RUNNING, "Started"),
        (_S.SUCCEEDED, "Success"),
        (_S.FAILED, "Failure"),
        (_S.ERROR, "Error"),
        (_S.SKIPPED, "Skipped"),
        (_S.BLOCKED, "Cancelled"),
        (_S.CANCELLED, "Cancelled"),
    ),
    actions={
        Action.PAUSE: _LIVE,
        Action.RESUME: frozenset({_J.PAUSED}),
        Action.CANCEL: _LIVE | {_J.PAUSING, _J.PAUSED},
    },
    rules={
        Action.PAUSE: "only a Pending or Started job can be paused",
        Action.RESUME: "only a Paused job can be resumed",
        Action.CANCEL: "only a job that has not ended and is not Dequeuing can be cancelled",
    },
    shows_cancelling=True,
)

GENERIC = Dialect(
    name="generic",
    jobs=_table(
        (_J.QUEUED, "pending"),
        (_J.RUNNING, "pending"),
        (_J.RETRY_WAIT, "pending"),
        (_J.PAUSING, "pending"),
        (_J.PAUSED, "pending"),
        (_J.CANCELLING, "pending"),
        (_J.SUCCEEDED, "completed"),
        (_J.FAILED, "failed"),
        (_J.PARTIAL, "failed"),
        (_J.CANCELLED, "failed"),
    ),
    steps={s: None for s in StepState},
    actions={},
    errors={_J.CANCELLED: "job was cancelled", _J.PARTIAL: "some steps failed"},
)

DIALECTS: dict[str, Dialect] = {d.name: d for d in (ORDO, FIDDLER, WORKFLOW, GENERIC)}


def get_dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(
            f"unknown dialect {name!r}; expected one of {', '.join(DIALECTS)}"
        ) from None
