"""Every allowed and every forbidden transition of the job and step machines."""

import itertools

import pytest

from sim.states import (
    JOB_TERMINAL,
    JOB_TRANSITIONS,
    STEP_TERMINAL,
    STEP_TRANSITIONS,
    JobState,
    StepState,
    TransitionError,
    check_job_transition,
    check_step_transition,
)

JOB_PAIRS = list(itertools.product(JobState, JobState))
STEP_PAIRS = list(itertools.product(StepState, StepState))


@pytest.mark.parametrize(("old", "new"), JOB_PAIRS, ids=[f"{a}->{b}" for a, b in JOB_PAIRS])
def test_job_transition(old, new):
    if new in JOB_TRANSITIONS[old]:
        check_job_transition(old, new)
        assert old.can_become(new)
    else:
        with pytest.raises(TransitionError, match=f"job cannot go from {old} to {new}"):
            check_job_transition(old, new)
        assert not old.can_become(new)


@pytest.mark.parametrize(("old", "new"), STEP_PAIRS, ids=[f"{a}->{b}" for a, b in STEP_PAIRS])
def test_step_transition(old, new):
    if new in STEP_TRANSITIONS[old]:
        check_step_transition(old, new)
        assert old.can_become(new)
    else:
        with pytest.raises(TransitionError, match=f"step cannot go from {old} to {new}"):
            check_step_transition(old, new)


def test_terminal_states_are_the_designs():
    assert {s.value for s in JOB_TERMINAL} == {"succeeded", "failed", "partial", "cancelled"}
    assert {s.value for s in STEP_TERMINAL} == {
        "succeeded",
        "failed",
        "error",
        "skipped",
        "blocked",
        "cancelled",
    }
    assert all(s.terminal for s in JOB_TERMINAL)
    assert not JobState.RUNNING.terminal


def test_every_state_is_reachable_from_queued():
    seen, todo = {JobState.QUEUED}, [JobState.QUEUED]
    while todo:
        for nxt in JOB_TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(JobState)


def test_no_state_is_a_dead_end_except_terminal_ones():
    for state, nxt in JOB_TRANSITIONS.items():
        assert bool(nxt) != state.terminal
    for state, nxt in STEP_TRANSITIONS.items():
        assert bool(nxt) != state.terminal


def test_the_message_lists_what_is_allowed():
    with pytest.raises(TransitionError) as exc:
        check_job_transition(JobState.CANCELLING, JobState.RUNNING)
    assert "(from cancelling: cancelled)" in str(exc.value)
