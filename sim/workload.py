"""The workload of a scenario: which job is submitted when, drawn up front.

>>> from sim.scenario import default_scenario
>>> import numpy as np
>>> times, kinds = submissions(default_scenario(), np.random.default_rng(1))
>>> len(times) == len(kinds), bool(np.all(np.diff(times) >= 0))
(True, True)
"""

from __future__ import annotations

import numpy as np

from sim.arrivals import Replay
from sim.scenario import Scenario


def submissions(scenario: Scenario, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Submit times (sorted) and the index of each job's template in ``scenario.templates``."""
    names = [t.name for t in scenario.templates]
    weights = np.array([t.weight for t in scenario.templates], dtype=float)
    weights /= weights.sum()

    def pick(n: int) -> np.ndarray:
        return rng.choice(len(names), size=n, p=weights) if n else np.empty(0, dtype=int)

    times = scenario.arrivals.times(scenario.horizon, rng)
    kinds = pick(len(times))
    arrivals = scenario.arrivals
    if isinstance(arrivals, Replay) and arrivals.templates:
        # a replayed log that names templates keeps them
        order = np.argsort(np.asarray(arrivals.submit, dtype=float), kind="stable")
        given = [arrivals.templates[i] for i in order if arrivals.submit[i] < scenario.horizon]
        kinds = np.array(
            [names.index(g) if g else k for g, k in zip(given, kinds, strict=True)], dtype=int
        )
    parts_t, parts_k = [times], [kinds]
    for at, count, template in scenario.bursts.bursts:
        if at >= scenario.horizon:
            continue
        parts_t.append(np.full(count, at))
        parts_k.append(np.full(count, names.index(template)) if template else pick(count))
    all_t = np.concatenate(parts_t)
    all_k = np.concatenate(parts_k).astype(int)
    order = np.argsort(all_t, kind="stable")
    return all_t[order], all_k[order]
