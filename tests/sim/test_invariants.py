"""Random scenarios with every feature on at once, checked against the model's invariants.
Each case is seeded, so a failure names a case that replays exactly."""

import random

import pytest

from sim import loads, simulate
from sim.states import JOB_TERMINAL, STEP_TERMINAL


def random_scenario(case: int) -> str:
    r = random.Random(case)
    n = r.randint(1, 6)
    steps = []
    for i in range(n):
        deps = [f"s{j}" for j in range(i) if r.random() < 0.4]
        steps.append(
            f"""
            [[templates.steps]]
            id = "s{i}"
            depends_on = {deps!r}
            duration = {{ dist = "exponential", mean = {r.uniform(1, 60):.1f} }}
            p_transient = {r.choice([0, 0.1, 0.3])}
            p_permanent = {r.choice([0, 0.05])}
            p_error = {r.choice([0, 0.05])}
            p_skip = {r.choice([0, 0, 0.2])}
            optional = {str(r.random() < 0.3).lower()}
            discovery = {str(i == 0 and r.random() < 0.5).lower()}
            """
        )
    dialect = r.choice(["ordo", "fiddler", "workflow", "generic"])
    controls = ""
    for action in ("cancel", "pause", "resume"):
        if r.random() < 0.6:
            controls += f"""
            [[controls]]
            action = "{action}"
            probability = {r.choice([0.1, 0.3, 1.0])}
            after = {{ dist = "uniform", low = 0, high = 120 }}
            """
    if r.random() < 0.5:
        controls += f"""
            [[controls]]
            action = "pause"
            probability = 0.5
            at = {r.randint(10, 300)}
            resume_after = {r.randint(1, 200)}
            """
    return f"""
        seed = {case}
        horizon = 600
        dialect = "{dialect}"
        cancel_delay = {r.choice([0, 3])}
        [arrivals]
        rate = {r.choice([0.05, 0.2])}
        bursts = [{{ at = 100, count = {r.randint(1, 20)} }}]
        [workers]
        capacity = {r.choice(['"unlimited"', 1, 3, 10])}
        [reporting]
        lag = {{ dist = "uniform", low = 0, high = {r.choice([0, 5])} }}
        [retry]
        kind = "exponential"
        base = 5
        cap = 60
        max_attempts = {r.randint(1, 4)}
        jitter = "{r.choice(["none", "full", "equal"])}"
        [[templates]]
        name = "t"
        {"".join(steps)}
        {controls}
    """


@pytest.mark.parametrize("case", range(60))
def test_random_scenarios_keep_the_invariants(case):
    scenario = loads(random_scenario(case))
    run = simulate(scenario)
    model_jobs = {j.id: j for j in run.jobs}
    last: dict[tuple[int, str | None], str | None] = {}
    for c in run.changes:
        job_id, step_id, old, new, t, vis, _ = c
        key = (job_id, step_id)
        # every change starts where the previous one of the same job or step ended
        assert old == last.get(key, None if step_id is None else "pending"), c
        last[key] = new
        assert vis >= t
        assert t >= model_jobs[job_id].submit
    for job in run.jobs:
        required = {s.id: not s.optional for s in job.template.steps}
        final = dict(zip(job.template.ids, job.steps, strict=True))
        assert job.running == 0
        if job.state in JOB_TERMINAL:
            assert all(s in STEP_TERMINAL for s in final.values()), (job.id, final)
            assert sum(job.time_in.values()) == pytest.approx(job.ended - job.submit)
            lost = {k for k, s in final.items() if s in ("failed", "blocked", "error")}
            if job.state == "succeeded":
                assert set(final.values()) <= {"succeeded", "skipped"}
            elif job.state == "partial":
                assert lost and not any(
                    required[k] and final[k] in ("failed", "blocked") for k in lost
                )
            elif job.state == "failed":
                assert any(required[k] and final[k] in ("failed", "blocked") for k in final)
        else:
            # only a job whose pause was never resumed may be left open
            assert job.state == "paused", (job.id, job.state)
    if scenario.workers is not None:
        assert run.jobs and all(j.running == 0 for j in run.jobs)
