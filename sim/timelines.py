"""What the status API shows of each job over time: the visible timeline that pollers read.

The lifecycle never depends on who polls, so a run's change log is complete before any
client polls: pollers (simulated or vectorised) read these timelines afterwards.

>>> from sim import default_scenario, simulate
>>> run = simulate(default_scenario())
>>> tl = timelines(run)[0]
>>> tl.shown_at(tl.t_visible - 0.001) != tl.final == tl.shown_at(tl.t_visible)
True
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sim._gc import no_cyclic_gc
from sim.states import JOB_TERMINAL, STEP_TERMINAL

if TYPE_CHECKING:
    from sim.simulation import Simulation

_TERMINAL = {s.value for s in JOB_TERMINAL}
_STEP_DONE = {s.value for s in STEP_TERMINAL}


@dataclass
class Timeline:
    """One job as the API shows it: from ``times[k]`` on, ``states[k]`` and ``progress[k]``."""

    job_id: int
    template: str
    submit: float
    t_end: float  #: when it truly reached a terminal state (inf if it never did)
    t_visible: float  #: when the API first showed that (inf if never)
    final: str  #: its last state
    times: list[float] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    progress: list[float] = field(default_factory=list)

    def index_at(self, t: float) -> int:
        """The index of what the API shows at ``t`` (changes visible at t included)."""
        return max(bisect_right(self.times, t) - 1, 0)

    def shown_at(self, t: float) -> str:
        return self.states[self.index_at(t)]

    def long_poll_hold(self, t: float, wait: float | None, known: str | None) -> float:
        """How long a long-poll arriving at ``t`` is held: while the state shown is still
        the ``known`` one, until it changes or ``wait`` seconds pass (0: answer at once)."""
        if not wait or known is None or self.shown_at(t) != known:
            return 0.0
        return min(self.next_change(t), t + wait) - t

    def next_change(self, t: float) -> float:
        """When the state shown after ``t`` first differs from the one shown at ``t``."""
        k = self.index_at(t)
        state = self.states[k]
        for j in range(k + 1, len(self.times)):
            if self.states[j] != state and self.times[j] > t:
                return self.times[j]
        return float("inf")

    @property
    def ended(self) -> bool:
        return self.final in _TERMINAL


@no_cyclic_gc()  # the timelines only grow: no cycles to look for
def timelines(run: Simulation) -> list[Timeline]:
    """Every job's visible timeline, in job id order."""
    jobs = {j.id: j for j in run.jobs}
    out: dict[int, Timeline] = {}
    done: dict[int, int] = {}
    for job_id, step_id, _old, new, _t, vis, _ in run.changes:
        tl = out.get(job_id)
        if tl is None:
            job = jobs[job_id]
            ended = job.ended is not None
            tl = out[job_id] = Timeline(
                job_id,
                job.template.name,
                job.submit,
                job.ended if ended else float("inf"),
                job.vis if ended else float("inf"),
                str(job.state),
            )
            done[job_id] = 0
        if step_id is None:
            state, prog = str(new), tl.progress[-1] if tl.progress else 0.0
        elif new in _STEP_DONE:
            done[job_id] += 1
            state, prog = tl.states[-1], done[job_id] / len(jobs[job_id].steps)
        else:
            continue
        if tl.times and tl.times[-1] == vis:  # same instant: the later change wins
            tl.states[-1], tl.progress[-1] = state, prog
        else:
            tl.times.append(vis)
            tl.states.append(state)
            tl.progress.append(prog)
    return [out[k] for k in sorted(out)]
