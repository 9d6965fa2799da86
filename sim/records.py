"""The flat records a run produces, turned into DataFrames at the edge."""

from __future__ import annotations

from typing import NamedTuple


class Change(NamedTuple):
    """One state change of a job (``step_id`` None) or of one of its steps. The log holds
    plain tuples in this field order (cheaper to make); ``Change._make`` names them."""

    job_id: int
    step_id: str | None
    from_state: str | None  #: None when the job is created
    to_state: str
    t: float  #: when it truly happened (simulated seconds)
    t_visible: float  #: when the status API shows it, after the reporting lag
    attempt: int  #: the step's attempt number; 0 for job changes


class ActionRecord(NamedTuple):
    """A cancel, pause or resume asked of a job, and whether the dialect allowed it."""

    job_id: int
    action: str
    t: float
    accepted: bool
    reason: str
