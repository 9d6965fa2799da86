"""The live model behind the server: the ``sim`` lifecycle in a SimPy environment that
advances lazily to the scaled clock's time whenever the server looks at it; no thread
spins the clock.

>>> from sim import default_scenario
>>> t = [0.0]
>>> model = LiveModel(default_scenario(), ScaledClock(60, wall=lambda: t[0], epoch=0))
>>> job = model.submit("pointcloud", tenant="qa", outcome="succeed", durations={"*": 30})
>>> t[0] = 1.0  # a wall second: a simulated minute
>>> model.view(job.id).state.value
'running'
>>> t[0] = 10.0
>>> model.view(job.id).state.value
'succeeded'
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping

import simpy

from mock_server.clock import ScaledClock
from mock_server.jobs import JobRecord, step_index
from sim.dialects import Action, Dialect
from sim.durations import parse_duration
from sim.scenario import Scenario
from sim.scripts import MAX_RETRIES, Script
from sim.simulation import lifecycle, rngs
from sim.templates import JobTemplate
from sim.workload import submissions

BACKGROUND = "background"  #: the tenant of the jobs the scenario's arrivals make
# Each accepted pause and its resume are played out and kept as state changes of the job
# (about 0.4 KB of RSS a cycle), for the server's life; a job in retry_wait or queued can cycle
# without end, so pauses are capped like scripted retries: a job, and all the jobs held.
MAX_PAUSES = 1_000  #: accepted pauses of one job
MAX_PAUSES_TOTAL = 100_000  #: accepted pauses of all the jobs held (about 40 MB)


class SubmitError(ValueError):
    """A job that cannot be made as asked: unknown template, bad durations or outcome."""


class RetryBudget(SubmitError):
    """A job whose scripted failures would pass what the server holds in all."""


class LiveModel:
    """The scenario's lifecycle model on a scaled clock, with the server's job records.

    ``background``: the scenario's arrival process also submits jobs (owned by the
    ``background`` tenant), so that pollers see a busy system. ``max_pauses`` and
    ``max_pauses_total`` bound the pauses accepted (see ``MAX_PAUSES``). Job ids start
    at ``first_id``: a model made by ``restarted`` goes on from its predecessor's, so
    that a job id of before a reset names no job after it (its requests are 404s).

    Nothing is kept per action request: the lifecycle keeps no ``ActionRecord``s here
    (the server answers each request and the ground truth counts it), so what a job
    holds grows only with what it does, and a cancel is accepted once."""

    def __init__(
        self,
        scenario: Scenario,
        clock: ScaledClock,
        background: bool = False,
        max_pauses: int = MAX_PAUSES,
        max_pauses_total: int = MAX_PAUSES_TOTAL,
        first_id: int = 1,
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.background = background
        self.first_id = first_id
        self.env = simpy.Environment()
        g = rngs(scenario.seed)
        self.lifecycle = lifecycle(self.env, scenario, g)
        self.lifecycle.keep_actions = False
        self.max_pauses = max_pauses
        self.max_pauses_total = max_pauses_total
        self.pauses: dict[int, int] = {}  #: accepted pauses by job id (jobs paused only)
        self.paused = 0  #: accepted pauses of all the jobs held
        self.templates = {t.name: t for t in scenario.templates}
        self._indexes = {id(t): step_index(t) for t in scenario.templates}
        self.records: dict[int, JobRecord] = {}
        self.by_tenant: dict[str, list[JobRecord]] = {}  #: each tenant's jobs, in order
        self.scripted = 0  #: transient failures scripted by the jobs held
        self._cursor = 0  # how much of the lifecycle's change log is filed by job
        if background:
            times, kinds = submissions(scenario, g["arrivals"])
            self.env.process(self._arrivals(times.tolist(), kinds.tolist()))

    def restarted(self) -> LiveModel:
        """The model as it was made, on a restarted clock: no job, the scenario's
        arrivals (with ``background``) drawn again from its seed, the same limits; job
        ids go on from this model's (see the class)."""
        return LiveModel(
            self.scenario,
            self.clock.restarted(),
            self.background,
            self.max_pauses,
            self.max_pauses_total,
            first_id=self.next_id,
        )

    def close(self) -> None:
        """Let this model go (a reset made another): its SimPy environment, lifecycle
        and processes refer to each other in cycles, which the server keeps out of the
        cyclic collector's sight (``gc.freeze``) and would never free; broken here, the
        model is freed by reference counting alone, at once and without a full
        collection (which took a second or two in a server of 20,000 jobs). Its job
        records stay readable (a report being built reads them); nothing else is."""
        queue = self.env._queue
        for item in queue:  # (time, priority, id, event): an event and its waiter hold
            item[-1].callbacks = []  # each other (a Timeout, the process resumed on it)
        queue.clear()
        vars(self.lifecycle).clear()
        vars(self.env).clear()

    @property
    def next_id(self) -> int:
        """The id the next job made will have."""
        return self.first_id + len(self.records)

    # --- time --------------------------------------------------------------------------

    def advance(self) -> float:
        """Run the model up to the clock's time and file the new changes; that time."""
        now = self.clock.now()
        env = self.env
        while env.peek() <= now:  # what happens by now (at now too) is shown at now
            env.step()
        if now > env._now:
            env._now = now  # nothing is due before: move the clock without an event
        if self._cursor != len(self.lifecycle.changes):
            self._file()
        return env._now

    def _file(self) -> None:
        log = self.lifecycle.changes
        records = self.records
        for i in range(self._cursor, len(log)):
            change = log[i]
            records[change[0]].changes.append(change)
        self._cursor = len(log)

    def next_change(self, job_id: int) -> float:
        """The earliest simulated time at which what the API shows of the job may change
        (inf: nothing is due)."""
        rec = self.records[job_id]
        if rec.ended:
            return math.inf
        due = rec.next_visible()
        return min(due if due is not None else math.inf, self.env.peek())

    # --- jobs --------------------------------------------------------------------------

    def submit(
        self,
        template: str | None,
        tenant: str,
        outcome: str | None = None,
        durations: Mapping[str, object] | None = None,
        max_retries: int = MAX_RETRIES,
        max_total: float = math.inf,
    ) -> JobRecord:
        """Make a job now from a template (the scenario's first when None), with an
        optional forced outcome (at most ``max_retries`` scripted failures) and fixed
        durations per step id ("*": every step)."""
        spec = self._template(template)
        script = _script(spec, outcome, durations, max_retries)
        scripted = _transients(script)
        if self.scripted + scripted > max_total:
            raise RetryBudget(
                f"the jobs held script {self.scripted:,} transient failures and this one "
                f"{scripted:,}: past max_scripted_retries_total = {max_total:,.0f}"
            )
        self.scripted += scripted
        now = self.advance()
        rec = self._new(spec, tenant, now)
        self.lifecycle.submit(rec.id, spec, script)
        self._file()
        rec.catch_up(now)
        return rec

    def view(self, job_id: int) -> JobRecord:
        """The job's record, brought up to what the API shows now."""
        now = self.advance()
        rec = self.records[job_id]
        rec.catch_up(now)
        return rec

    def act(self, job_id: int, action: Action, dialect: Dialect) -> str | None:
        """Ask an action of a job now, under the dialect's rules: None if done, else why
        it was refused."""
        now = self.advance()
        if action is Action.PAUSE:
            over = self._pause_cap(job_id, dialect)
            if over is not None:
                return over
        refused = self.lifecycle.request(job_id, action, dialect)
        if refused is None and action is Action.PAUSE:
            self.pauses[job_id] = self.pauses.get(job_id, 0) + 1
            self.paused += 1
        self._file()
        self.records[job_id].catch_up(now)
        return refused

    def _pause_cap(self, job_id: int, dialect: Dialect) -> str | None:
        """Why a pause the dialect would allow is refused for want of room (None: there
        is room). A pause the dialect refuses anyway keeps the dialect's reason."""
        job = self.lifecycle.jobs.get(job_id)
        if job is None or not dialect.allows(Action.PAUSE, job.state):
            return None
        n = self.pauses.get(job_id, 0)
        if n >= self.max_pauses:
            return (
                f"this job has been paused {n:,} times: no more, past "
                f"max_pauses = {self.max_pauses:,} a job (cancel it or let it run)"
            )
        if self.paused >= self.max_pauses_total:
            return (
                f"the jobs held have been paused {self.paused:,} times in all: no more, "
                f"past max_pauses_total = {self.max_pauses_total:,}"
            )
        return None

    def truth(self, job_id: int) -> tuple[float | None, float | None]:
        """When the job truly ended and when the API first showed it (None: not yet)."""
        job = self.lifecycle.jobs[job_id]
        return (job.ended, job.vis) if job.ended is not None else (None, None)

    def _new(self, spec: JobTemplate, tenant: str, now: float) -> JobRecord:
        rec = JobRecord(self.next_id, spec, tenant, now, self._indexes[id(spec)])
        self.records[rec.id] = rec
        self.by_tenant.setdefault(tenant, []).append(rec)
        return rec

    def _template(self, name: str | None) -> JobTemplate:
        if name is None:
            return self.scenario.templates[0]
        try:
            return self.templates[name]
        except KeyError:
            raise SubmitError(
                f"unknown template {short(name)}; expected one of {', '.join(self.templates)}"
            ) from None

    def _arrivals(self, times: list[float], kinds: list[int]) -> Generator:
        templates = self.scenario.templates
        for t, k in zip(times, kinds, strict=True):
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            rec = self._new(templates[k], BACKGROUND, self.env.now)
            self.lifecycle.submit(rec.id, templates[k])


def _script(
    spec: JobTemplate,
    outcome: str | None,
    durations: Mapping[str, object] | None,
    max_retries: int = MAX_RETRIES,
) -> Script | None:
    """The forced outcome and fixed durations of a submitted job, checked."""
    ids = [s.id for s in spec.steps]
    given: dict[str, float] = {}
    for key, raw in (durations or {}).items():
        if key != "*" and key not in ids:
            raise SubmitError(f"durations: {short(key)} is not a step of {spec.name!r}: {ids}")
        try:
            given[key] = _seconds(raw)
        except (ValueError, TypeError, OverflowError) as exc:
            raise SubmitError(f"durations.{short(key)[1:-1]}: {exc}") from None
    every = given.pop("*", None)
    fixed = ({step: every for step in ids} if every is not None else {}) | given
    if outcome is None:
        return Script(durations=fixed) if fixed else None
    try:
        forced = Script.parse(outcome, spec, max_retries)
    except ValueError as exc:
        raise SubmitError(f"outcome: {exc}") from None
    return Script(forced.outcomes, fixed, forced.others)


def _seconds(raw: object) -> float:
    """A duration as a client sends it: a number, a plain number in a string ("20":
    seconds) or a string with a unit; ValueError when it is none of these or out of
    range (``sim.durations`` reads all three, in ASCII digits only)."""
    return parse_duration(raw)


def short(text: str) -> str:
    """A client's text, quoted and kept short for a message."""
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def _transients(script: Script | None) -> int:
    """The transient failures a script forces, each played out and kept as changes."""
    if script is None:
        return 0
    return sum(seq.count("transient") for seq in script.outcomes.values())
