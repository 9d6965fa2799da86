"""How many jobs are in each state over time, from the state-change log.

>>> import pandas as pd
>>> log = pd.DataFrame({"job_id": [0, 0, 0], "step_id": [None] * 3,
...     "from_state": [None, "queued", "running"], "to_state": ["queued", "running", "succeeded"],
...     "t": [0.0, 1.0, 4.0]})
>>> jobs_in_states(log, [0.5, 2.0, 5.0])[["queued", "running"]].to_numpy().tolist()
[[1, 0], [0, 1], [0, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.states import JobState

LIVE_STATES = [s.value for s in JobState if not s.terminal]


def jobs_in_states(changes: pd.DataFrame, times: Sequence[float] | np.ndarray) -> pd.DataFrame:
    """Jobs in each non-terminal state at each of ``times`` (just after changes at that time)."""
    jobs = changes[changes["step_id"].isna()]
    times = np.asarray(times, dtype=float)
    out = {}
    for state in LIVE_STATES:
        enter = np.sort(jobs.loc[jobs["to_state"] == state, "t"].to_numpy())
        leave = np.sort(jobs.loc[jobs["from_state"] == state, "t"].to_numpy())
        out[state] = np.searchsorted(enter, times, "right") - np.searchsorted(leave, times, "right")
    return pd.DataFrame(out, index=pd.Index(times, name="t"))


def mean_in_system(jobs: pd.DataFrame, start: float, end: float) -> float:
    """Time-average number of jobs submitted and not yet ended over [start, end), from the
    per-job table (unfinished jobs count until ``end``)."""
    ended = jobs["ended"].fillna(np.inf).to_numpy()
    lo = np.clip(jobs["submit"].to_numpy(), start, end)
    hi = np.clip(ended, start, end)
    return float(np.sum(hi - lo) / (end - start))
