"""Jobs through their DAGs: timelines, retries, blocking, partial results, workers."""

import pytest

from sim import Action, Constant, ExponentialRetry, ScheduleRetry
from sim.scripts import Script
from tests.helpers import final_steps, job_log, lifecycle, run_one, step, step_log, template

MIN = 60.0
SCHEDULE = ScheduleRetry(tuple(m * MIN for m in (10, 20, 40, 80, 160)))


def test_a_chain_runs_step_after_step():
    model = run_one(template(step("reproject", 90), step("build_ept", 240, "reproject")))
    assert job_log(model) == [
        (0, None, "queued"),
        (0, "queued", "running"),
        (330, "running", "succeeded"),
    ]
    assert step_log(model, "build_ept") == [
        (90, "pending", "running"),
        (330, "running", "succeeded"),
    ]


def test_five_transient_failures_on_the_schedule_spend_310_minutes_in_retry_wait():
    tpl = template(step("process", 1 * MIN))
    model = run_one(tpl, Script({"process": ("transient",) * 5}), retry=SCHEDULE)
    job = model.jobs[0]
    assert job.state == "succeeded"
    assert job.time_in["retry_wait"] == pytest.approx(310 * MIN)
    assert job.retries == 5 and job.attempts == [6]
    # retry_wait and running alternate, five times
    states = [to for _, _, to in job_log(model)]
    assert states == ["queued", "running"] + ["retry_wait", "running"] * 5 + ["succeeded"]


def test_a_sixth_transient_failure_ends_the_job_failed():
    tpl = template(step("process", 1 * MIN))
    model = run_one(tpl, Script({"process": ("transient",) * 6}), retry=SCHEDULE)
    assert model.jobs[0].state == "failed"
    assert model.jobs[0].attempts == [6]
    assert final_steps(model) == {"process": "failed"}


def test_a_non_retryable_error_fails_at_once_without_retry():
    tpl = template(step("process", 1 * MIN))
    model = run_one(tpl, Script({"process": ("permanent",)}), retry=SCHEDULE)
    assert job_log(model)[-1] == (60, "running", "failed")
    assert model.jobs[0].retries == 0 and "retry_wait" not in model.jobs[0].time_in


def test_a_failed_dependency_blocks_its_dependants():
    tpl = template(step("A", 10), step("B", 10, "A"))
    model = run_one(tpl, Script({"A": ("permanent",)}))
    assert model.jobs[0].state == "failed"
    assert final_steps(model) == {"A": "failed", "B": "blocked"}
    assert step_log(model, "B") == [(10, "pending", "blocked")]
    from sim import ORDO, WORKFLOW

    assert ORDO.step_status(model.jobs[0].steps[1]) == "skipped"
    assert WORKFLOW.step_status(model.jobs[0].steps[1]) == "Cancelled"


def fanout(optional: bool):
    return template(
        step("split", 5),
        step("a", 10, "split"),
        step("b", 20, "split"),
        step("thumbs", 15, "split", optional=optional),
        step("merge", 5, "a", "b"),
    )


def test_a_fan_out_whose_optional_branch_fails_ends_partial():
    model = run_one(fanout(optional=True), Script({"thumbs": ("permanent",)}, others="success"))
    assert model.jobs[0].state == "partial"
    assert final_steps(model)["merge"] == "succeeded"
    assert job_log(model)[-1] == (30, "running", "partial")  # after merge, not at the failure


def test_the_same_fan_out_ends_failed_when_that_branch_is_required():
    model = run_one(fanout(optional=False), Script({"thumbs": ("permanent",)}, others="success"))
    assert model.jobs[0].state == "failed"
    assert job_log(model)[-1] == (20, "running", "failed")  # at once
    # what was running stops, what had not started never will
    assert final_steps(model) == {
        "split": "succeeded",
        "a": "succeeded",
        "b": "cancelled",
        "thumbs": "failed",
        "merge": "cancelled",
    }


def test_a_captured_error_lets_dependants_go_on_and_makes_the_job_partial():
    tpl = template(step("A", 10), step("B", 10, "A"))
    model = run_one(tpl, Script({"A": ("error",)}, others="success"))
    assert final_steps(model) == {"A": "error", "B": "succeeded"}
    assert model.jobs[0].state == "partial"


def test_fan_out_steps_run_in_parallel_and_the_join_waits_for_all():
    model = run_one(fanout(optional=True), Script(others="success"))
    assert step_log(model, "merge")[0] == (25, "pending", "running")  # split 5 + b 20
    assert model.jobs[0].ended == 30


def test_a_skipped_step_counts_as_done():
    tpl = template(step("A", 10, p_skip=1.0), step("B", 10, "A"))
    model = run_one(tpl)
    assert final_steps(model) == {"A": "skipped", "B": "succeeded"}
    assert model.jobs[0].ended == 10


def test_retry_wait_turns_to_queued_when_no_worker_is_free():
    tpl = template(step("A", 100))
    model = lifecycle(retry=ScheduleRetry((10.0,)), workers=1)
    model.submit(0, tpl, Script({"A": ("transient",)}))
    model.env.run(until=50)
    model.submit(1, tpl, Script(others="success"))  # takes the worker at 100
    model.env.run()
    # job 0 fails at 100, its retry is due at 110 but job 1 holds the worker until 200
    assert job_log(model, 0)[2:] == [
        (100, "running", "retry_wait"),
        (110, "retry_wait", "queued"),
        (200, "queued", "running"),
        (300, "running", "succeeded"),
    ]


def test_the_worker_pool_is_first_come_first_served():
    model = lifecycle(workers=2)
    tpl = template(step("A", 10))
    for j in range(5):
        model.submit(j, tpl, Script(others="success"))
    model.env.run()
    assert [model.jobs[j].started for j in range(5)] == [0, 0, 10, 10, 20]
    assert model.jobs[4].time_in["queued"] == 20
    assert model.pool.free == 2


def test_exponential_retry_waits_grow_to_the_cap():
    tpl = template(step("A", 0))
    retry = ExponentialRetry(base=10, multiplier=3, cap=50, max_attempts=5)
    model = run_one(tpl, Script({"A": ("transient",) * 4}), retry=retry)
    starts = [t for t, _, to in step_log(model, "A") if to == "running"]
    assert starts == [0, 10, 40, 90, 140]


def test_a_steps_own_retry_policy_wins():
    tpl = template(step("A", 0, retry=ScheduleRetry((5.0,))))
    model = run_one(tpl, Script({"A": ("transient",)}), retry=SCHEDULE)
    assert model.jobs[0].ended == 5


# --- pause, resume, cancel ------------------------------------------------------------


def at(model, t, job_id, action):
    model.env.timeout(t).callbacks.append(lambda _: model.request(job_id, action))


def test_workflow_pause_lets_running_steps_finish_then_resume_goes_on():
    model = lifecycle(dialect="workflow")
    model.submit(0, template(step("A", 10), step("B", 10, "A")), Script(others="success"))
    at(model, 5, 0, Action.PAUSE)
    at(model, 30, 0, Action.RESUME)
    model.env.run()
    assert job_log(model) == [
        (0, None, "queued"),
        (0, "queued", "running"),
        (5, "running", "pausing"),
        (10, "pausing", "paused"),
        (30, "paused", "running"),
        (40, "running", "succeeded"),
    ]
    assert step_log(model, "B")[0] == (30, "pending", "running")


def test_workflow_cancel_dequeues_then_cancels():
    model = lifecycle(dialect="workflow", cancel_delay=2.0)
    model.submit(0, template(step("A", 10), step("B", 10, "A")))
    at(model, 5, 0, Action.CANCEL)
    model.env.run()
    assert job_log(model)[-2:] == [(5, "running", "cancelling"), (7, "cancelling", "cancelled")]
    assert final_steps(model) == {"A": "cancelled", "B": "cancelled"}


def test_fiddler_revokes_only_pending_jobs():
    model = lifecycle(dialect="fiddler", workers=1)
    tpl = template(step("A", 10))
    model.submit(0, tpl, Script(others="success"))
    model.submit(1, tpl, Script(others="success"))  # waits for the worker
    at(model, 5, 0, Action.CANCEL)
    at(model, 5, 1, Action.CANCEL)
    model.env.run()
    assert model.jobs[0].state == "succeeded"
    assert model.jobs[1].state == "cancelled"
    assert job_log(model, 1)[-1] == (5, "queued", "cancelled")  # no Dequeuing in fiddler
    refused = [a for a in model.actions if not a.accepted]
    assert [(a.job_id, a.action) for a in refused] == [(0, "cancel")]
    assert "revoked only while PENDING" in refused[0].reason
    assert model.pool.free == 1


def test_pause_is_refused_where_the_dialect_has_no_pause():
    model = lifecycle(dialect="ordo")
    model.submit(0, template(step("A", 10)))
    at(model, 5, 0, Action.PAUSE)
    model.env.run()
    assert model.jobs[0].state == "succeeded"
    assert model.actions[0].accepted is False


def test_a_cancelled_job_frees_its_workers_for_others():
    model = lifecycle(dialect="ordo", workers=1)
    tpl = template(step("A", 100))
    model.submit(0, tpl, Script(others="success"))
    model.submit(1, tpl, Script(others="success"))
    at(model, 10, 0, Action.CANCEL)
    model.env.run()
    assert model.jobs[1].started == 10 and model.jobs[1].ended == 110


def test_cancel_during_retry_wait_stops_the_retry():
    model = lifecycle(dialect="ordo", retry=ScheduleRetry((100.0,)))
    model.submit(0, template(step("A", 10)), Script({"A": ("transient",)}))
    at(model, 50, 0, Action.CANCEL)
    model.env.run()
    assert job_log(model)[-1] == (50, "retry_wait", "cancelled")
    assert model.env.now == 110  # the stale retry timer fires and does nothing
    assert model.jobs[0].attempts == [1]


# --- reporting lag -----------------------------------------------------------------------


def test_reporting_lag_delays_what_the_api_shows_never_reordering():
    from sim import Uniform

    model = lifecycle(lag=Uniform(0, 30))
    model.submit(0, template(step("A", 1), step("B", 1, "A"), step("C", 1, "B")))
    model.env.run()
    vis = [c[5] for c in model.changes]
    assert all(c[5] >= c[4] for c in model.changes)
    assert vis == sorted(vis)
    assert any(c[5] > c[4] for c in model.changes)


def test_constant_lag_shifts_every_change():
    model = lifecycle(lag=Constant(2.5))
    model.submit(0, template(step("A", 10)))
    model.env.run()
    assert {c[5] - c[4] for c in model.changes} == {2.5}


def test_a_job_stays_queued_while_its_discovery_step_collects_work():
    tpl = template(step("discover", 30, discovery=True), step("work", 60, "discover"))
    model = run_one(tpl, Script(others="success"), workers=1)
    assert job_log(model) == [
        (0, None, "queued"),
        (30, "queued", "running"),
        (90, "running", "succeeded"),
    ]
    assert model.jobs[0].started == 30
    assert model.jobs[0].time_in["queued"] == 30  # what workflow shows as Pending
