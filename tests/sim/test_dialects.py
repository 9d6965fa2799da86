"""The four dialects render every canonical state as the design's table says, and refuse
what they do not support."""

import pytest

from sim import DIALECTS, FIDDLER, GENERIC, ORDO, WORKFLOW, Action, ActionRefused, get_dialect
from sim.states import JobState, StepState

J = JobState
# The design's job table: canonical -> (ordo, fiddler, workflow, generic)
JOB_TABLE = {
    J.QUEUED: ("pending", "PENDING", "Pending", "pending"),
    J.RUNNING: ("running", "STARTED", "Started", "pending"),
    J.RETRY_WAIT: ("running", "RETRY", "Started", "pending"),
    J.PAUSING: (None, None, "Pausing", "pending"),
    J.PAUSED: (None, None, "Paused", "pending"),
    J.CANCELLING: (None, None, "Dequeuing", "pending"),
    J.SUCCEEDED: ("success", "SUCCESS", "Success", "completed"),
    J.FAILED: ("failed", "FAILURE", "Failure", "failed"),
    J.PARTIAL: ("partial", "FAILURE", "Failure", "failed"),
    J.CANCELLED: ("failed", "REVOKED", "Cancelled", "failed"),
}
S = StepState
STEP_TABLE = {  # canonical -> (ordo, workflow)
    S.PENDING: ("pending", "Pending"),
    S.RUNNING: ("running", "Started"),
    S.SUCCEEDED: ("success", "Success"),
    S.FAILED: ("failed", "Failure"),
    S.ERROR: ("failed", "Error"),
    S.SKIPPED: ("skipped", "Skipped"),
    S.BLOCKED: ("skipped", "Cancelled"),
    S.CANCELLED: ("skipped", "Cancelled"),
}


@pytest.mark.parametrize("state", list(JobState))
def test_job_states_render_as_the_design_says(state):
    for dialect, word in zip((ORDO, FIDDLER, WORKFLOW, GENERIC), JOB_TABLE[state], strict=True):
        if word is None:
            with pytest.raises(ValueError, match=f"no word for job state {state}"):
                dialect.job_status(state)
        else:
            assert dialect.job_status(state) == word


@pytest.mark.parametrize("state", list(StepState))
def test_step_states_render_as_the_design_says(state):
    assert ORDO.step_status(state) == STEP_TABLE[state][0]
    assert WORKFLOW.step_status(state) == STEP_TABLE[state][1]


def test_ordo_says_a_cancelled_job_was_cancelled():
    assert ORDO.job_status(J.CANCELLED) == "failed"
    assert "cancelled" in ORDO.job_error(J.CANCELLED)
    assert ORDO.job_error(J.FAILED) is None


# Which (dialect, action) is allowed in which job states.
ALLOWED = {
    ("ordo", Action.CANCEL): {J.QUEUED, J.RUNNING, J.RETRY_WAIT},
    ("fiddler", Action.CANCEL): {J.QUEUED},
    ("workflow", Action.CANCEL): {J.QUEUED, J.RUNNING, J.RETRY_WAIT, J.PAUSING, J.PAUSED},
    ("workflow", Action.PAUSE): {J.QUEUED, J.RUNNING, J.RETRY_WAIT},
    ("workflow", Action.RESUME): {J.PAUSED},
    ("fiddler-v3", Action.CANCEL): {J.QUEUED},  # revoked only while PENDING, as fiddler
    ("google-lro", Action.CANCEL): {J.QUEUED, J.RUNNING, J.RETRY_WAIT, J.PAUSING, J.PAUSED},
}

# The issue's table for the SDK dialects: canonical -> (fiddler-v3, azure-lro)
SDK_TABLE = {
    J.QUEUED: ("PENDING", "NotStarted"),
    J.RUNNING: ("STARTED", "Running"),
    J.RETRY_WAIT: ("RETRY", "Running"),
    J.PAUSING: ("STARTED", "Running"),
    J.PAUSED: ("STARTED", "Running"),
    J.CANCELLING: ("STARTED", "Running"),
    J.SUCCEEDED: ("SUCCESS", "Succeeded"),
    J.FAILED: ("FAILURE", "Failed"),
    J.PARTIAL: ("FAILURE", "Failed"),
    J.CANCELLED: ("REVOKED", "Canceled"),
}


@pytest.mark.parametrize("state", list(JobState))
def test_sdk_dialects_show_each_state_as_the_issue_says(state):
    """The word shown (a state without a word of its own shows as running)."""
    shown = tuple(get_dialect(d).job_word(state) for d in ("fiddler-v3", "azure-lro"))
    assert shown == SDK_TABLE[state]


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize("action", list(Action))
def test_actions_are_allowed_exactly_where_the_dialect_says(dialect, action):
    d = get_dialect(dialect)
    allowed = ALLOWED.get((dialect, action), set())
    for state in JobState:
        if state in allowed:
            d.check(action, state)
        else:
            with pytest.raises(ActionRefused, match=f"{dialect}"):
                d.check(action, state)


def test_refusals_say_why_in_the_dialects_words():
    with pytest.raises(ActionRefused, match="revoked only while PENDING"):
        FIDDLER.check(Action.CANCEL, J.RUNNING)
    with pytest.raises(ActionRefused, match="fiddler does not support pause"):
        FIDDLER.check(Action.PAUSE, J.RUNNING)
    with pytest.raises(ActionRefused, match="cannot resume a job that is Started"):
        WORKFLOW.check(Action.RESUME, J.RUNNING)


def test_only_workflow_shows_cancelling():
    assert [d.name for d in DIALECTS.values() if d.shows_cancelling] == ["workflow"]


def test_unknown_dialect():
    with pytest.raises(ValueError, match="unknown dialect 'soap'; expected one of ordo"):
        get_dialect("soap")


@pytest.mark.parametrize("dialect", list(DIALECTS.values()), ids=list(DIALECTS))
def test_each_dialect_reads_back_the_error_it_renders(dialect):
    """A client of any dialect can tell pollsim's kinds of error apart (a fault asked
    for from a real failure): ``error_kind`` reads what ``error`` wrote, and refuses
    another dialect's shape or no error at all."""
    for status, kind in ((404, "not_found"), (429, "rate_limited"), (503, "injected")):
        assert dialect.error_kind(dialect.error(status, kind, "why")) == kind
    for other in ({}, {"error": 5}, [1], {"error": {"details": []}}):
        with pytest.raises((LookupError, TypeError)):
            dialect.error_kind(other)
