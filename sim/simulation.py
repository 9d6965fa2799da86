"""One run of a scenario through the lifecycle model, and its results as DataFrames.

>>> from sim.scenario import default_scenario
>>> run = simulate(default_scenario())
>>> jobs = run.jobs_frame()
>>> set(jobs["state"]) <= {"succeeded", "failed", "partial", "cancelled"}
True
>>> run.changes_frame().columns.tolist()
['job_id', 'step_id', 'from_state', 'to_state', 't', 't_visible', 'attempt']
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from sim._gc import no_cyclic_gc
from sim.controls import Control
from sim.dialects import Action, get_dialect
from sim.durations import format_duration
from sim.job import Job
from sim.lifecycle import Lifecycle
from sim.polling import Polling, poll
from sim.randomness import Draws
from sim.records import ActionRecord, Change
from sim.scenario import Scenario
from sim.sizing import check_size
from sim.states import JobState
from sim.timelines import timelines
from sim.workload import submissions

#: Independent random streams, so that turning one feature on does not reshuffle the rest.
STREAMS = ("arrivals", "steps", "controls", "lag")

JOB_COLUMNS = [
    "job_id",
    "template",
    "state",
    "submit",
    "started",
    "ended",
    "ended_visible",
    "duration",
    "queued",
    "retry_wait",
    "paused",
    "retries",
    "attempts",
]


@dataclass
class Simulation:
    """What a run produced: every state change, every action asked, and each job."""

    scenario: Scenario
    changes: list[Change]
    actions: list[ActionRecord]
    jobs: list[Job]
    end: float  #: the simulated time the run stopped
    polling: Polling | None = None  #: what the clients did, when the scenario has clients

    def changes_frame(self) -> pd.DataFrame:
        """The state-change log: one row per change, job rows with ``step_id`` None."""
        return pd.DataFrame(self.changes, columns=list(Change._fields))

    def actions_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.actions, columns=list(ActionRecord._fields))

    def jobs_frame(self) -> pd.DataFrame:
        """One row per job: outcome, times, time spent queued, in retry_wait and paused."""
        rows = []
        for job in self.jobs:
            time_in = dict(job.time_in)
            if not job.state.terminal:
                time_in[job.state] = time_in.get(job.state, 0.0) + (self.end - job.t_last)
            ended = job.ended if job.ended is not None else math.nan
            rows.append(
                (
                    job.id,
                    job.template.name,
                    job.state.value,
                    job.submit,
                    job.started if job.started is not None else math.nan,
                    ended,
                    job.vis if job.ended is not None else math.nan,
                    ended - job.submit,
                    time_in.get(JobState.QUEUED, 0.0),
                    time_in.get(JobState.RETRY_WAIT, 0.0),
                    time_in.get(JobState.PAUSING, 0.0) + time_in.get(JobState.PAUSED, 0.0),
                    job.retries,
                    sum(job.attempts),
                )
            )
        return pd.DataFrame(rows, columns=JOB_COLUMNS)


def rngs(seed: int) -> dict[str, np.random.Generator]:
    """The run's generators, one per stream, all from the scenario's seed."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(c) for name, c in zip(STREAMS, children, strict=True)}


def lifecycle(env: simpy.Environment, scenario: Scenario, g: dict) -> Lifecycle:
    """The scenario's Lifecycle in ``env``, drawing from the run's generators ``g``
    (``rngs``), with nothing submitted yet."""
    return Lifecycle(
        env,
        rng=Draws(g["steps"]),
        retry=scenario.retry,
        dialect=get_dialect(scenario.dialect),
        workers=scenario.workers,
        lag=scenario.reporting_lag,
        lag_rng=Draws(g["lag"]),
        cancel_delay=scenario.cancel_delay,
    )


def build(env: simpy.Environment, scenario: Scenario) -> Lifecycle:
    """A Lifecycle in ``env`` with the scenario's arrivals and controls scheduled."""
    g = rngs(scenario.seed)
    controls_rng = Draws(g["controls"])
    model = lifecycle(env, scenario, g)
    times, kinds = submissions(scenario, g["arrivals"])
    # Python floats, not numpy scalars: the clock and every record inherit their type.
    times, kinds = times.tolist(), kinds.tolist()
    relative = [c for c in scenario.controls if c.after is not None]
    env.process(_arrivals(env, model, scenario, times, kinds, relative, controls_rng))
    for c in scenario.controls:
        if c.at is not None:
            env.timeout(c.at).callbacks.append(lambda _, c=c: _at_time(model, c, controls_rng))
    return model


def _arrivals(env, model, scenario, times, kinds, controls, rng) -> Generator:
    templates = scenario.templates
    for job_id in range(len(times)):
        t = times[job_id]
        if t > env.now:
            yield env.timeout(t - env.now)
        template = templates[kinds[job_id]]
        model.submit(job_id, template)
        for c in controls:
            if c.applies_to(template.name) and (c.probability >= 1 or rng.random() < c.probability):
                delay = c.after.sample(rng)
                env.timeout(delay).callbacks.append(lambda _, c=c, j=job_id: _ask(model, j, c, rng))


def _ask(model: Lifecycle, job_id: int, control: Control, rng: Draws) -> None:
    refused = model.request(job_id, control.action)
    if refused is None and control.resume_after is not None:
        delay = control.resume_after.sample(rng)
        model.env.timeout(delay).callbacks.append(lambda _: model.request(job_id, Action.RESUME))


def _at_time(model: Lifecycle, control: Control, rng: Draws) -> None:
    ids = control.jobs or [j.id for j in model.jobs.values() if not j.state.terminal]
    for job_id in ids:
        job = model.jobs.get(job_id)
        if job is not None and not control.applies_to(job.template.name):
            continue
        if control.probability >= 1 or rng.random() < control.probability:
            _ask(model, job_id, control, rng)


def simulate(
    scenario: Scenario, *, progress: bool | None = False, method: str = "auto"
) -> Simulation:
    """Run the scenario through the lifecycle model, then its clients' polls (if it has
    clients) through the fast path or SimPy pollers as ``method`` says (see ``sim.polling``).
    A ScenarioError or a ``sim.limits.LimitError`` says which bound a run would pass.

    ``progress``: True shows a progress bar, None shows one only on a terminal and only
    once the run has taken two seconds, False shows none.
    """
    check_size(scenario)
    env = simpy.Environment()
    model = build(env, scenario)
    stop = scenario.horizon + scenario.drain
    with no_cyclic_gc():
        if progress is False:
            env.run(until=None if math.isinf(stop) else stop)
        else:
            _run_with_bar(env, scenario.horizon, stop, progress)
        end = env.now if math.isinf(stop) else max(env.now, stop)
        jobs = list(model.jobs.values())
        run = Simulation(scenario, model.changes, model.actions, jobs, end)
        if scenario.clients is not None:
            run.polling = poll(
                timelines(run),
                scenario.clients,
                scenario.server,
                scenario.seed,
                end,
                method,
                progress=progress,
            )
    return run


def _run_with_bar(env: simpy.Environment, horizon: float, stop: float, show: bool | None) -> None:
    """``env.run(until=stop)`` one event at a time, moving a bar over simulated time."""
    from tqdm import tqdm

    chunk = max(horizon / 200, 1.0)
    mark = chunk
    step, peek = env.step, env.peek
    with tqdm(
        total=round(horizon),
        unit="sim s",
        delay=0 if show else 2,
        disable=None if show is None else False,
        desc="simulating",
        leave=False,
    ) as bar:
        while (t := peek()) < stop:
            step()
            if t >= mark:
                mark = t + chunk
                if t <= horizon:
                    bar.update(round(t) - bar.n)
                else:
                    bar.set_description("draining")
                    bar.set_postfix_str(f"at {format_duration(t)}", refresh=False)
