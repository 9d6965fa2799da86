"""The lifecycle's action records: a run keeps one per request (its actions.csv and
summary read them); a model that lives as long as a server keeps none, and plays the
jobs out exactly as a recording one does."""

from sim import Action
from sim.scripts import Script
from tests.helpers import lifecycle, step, template


def _asked(keep_actions: bool):
    """Two jobs, asked to pause, resume and cancel, some allowed and some refused."""
    model = lifecycle(dialect="workflow", cancel_delay=2.0, keep_actions=keep_actions)
    tpl = template(step("A", 10), step("B", 10, "A"))
    model.submit(0, tpl, Script(others="success"))
    model.submit(1, tpl, Script(others="success"))
    asked = [
        (5, 0, Action.PAUSE),  # allowed: pausing
        (6, 0, Action.PAUSE),  # refused: already pausing
        (20, 0, Action.RESUME),  # allowed
        (15, 1, Action.CANCEL),  # allowed: dequeuing, then cancelled at 17
        (16, 1, Action.CANCEL),  # refused: dequeuing
        (23, 1, Action.CANCEL),  # refused: it has ended
        (24, 7, Action.CANCEL),  # refused: no such job
    ]
    answers = []
    for t, job_id, action in asked:
        model.env.timeout(t).callbacks.append(
            lambda _, j=job_id, a=action: answers.append(model.request(j, a))
        )
    model.env.run()
    return model, answers


def test_a_run_keeps_one_record_per_request_allowed_or_refused():
    model, answers = _asked(keep_actions=True)
    kept = [(a.job_id, a.action, a.t, a.accepted) for a in model.actions]
    assert kept == [
        (0, "pause", 5, True),
        (0, "pause", 6, False),
        (1, "cancel", 15, True),
        (1, "cancel", 16, False),
        (0, "resume", 20, True),
        (1, "cancel", 23, False),
        (7, "cancel", 24, False),
    ]
    assert [a.reason for a in model.actions] == [a or "" for a in answers]


def test_a_model_that_keeps_no_actions_answers_and_plays_out_the_same():
    kept, kept_answers = _asked(keep_actions=True)
    bare, bare_answers = _asked(keep_actions=False)
    assert bare.actions == []
    assert bare_answers == kept_answers
    assert bare.changes == kept.changes
    assert [j.state for j in bare.jobs.values()] == [j.state for j in kept.jobs.values()]


def test_refused_requests_keep_nothing_however_many():
    model = lifecycle(dialect="workflow", keep_actions=False)
    model.submit(0, template(step("A", 10)), Script(others="success"))
    model.env.run()
    changes = len(model.changes)
    for _ in range(1_000):
        assert model.request(0, Action.CANCEL) is not None
        assert model.request(0, Action.PAUSE) is not None
    assert model.actions == [] and len(model.changes) == changes
