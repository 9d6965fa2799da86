"""How a preset's runs are held to a library's on the same Script (issue 13): the same
request times where both are deterministic; the same distribution (two-sample KS,
p > 0.01) and means within 2% where they jitter; the same outcome and requests under
errors."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from sim.pollers import replay
from sim.strategies.poll import Strategy
from tests.conformance.harness import Script
from tests.conformance.runs import Run, from_replay

P_MIN = 0.01  #: two-sample KS: the same distribution unless p is below this
REL = 0.02  #: means within 2%


def preset_runs(
    preset: Strategy, script: Script, n: int, seed: int = 0, rtt: float = 0.0
) -> list[Run]:
    """``n`` watches of ``preset`` replayed against ``script`` (a round trip of ``rtt``),
    from one generator seeded ``seed``."""
    rng = np.random.default_rng(seed)
    return [from_replay(replay(preset, script.answer, rng, rtt=rtt)) for _ in range(n)]


def same_times(lib: Run, pre: Run, tol: float = 1e-9) -> bool:
    """Every request at the same time (to ``tol`` s), the same outcome and stop."""
    return (
        lib.requests == pre.requests
        and all(abs(a - b) <= tol for a, b in zip(lib.times, pre.times, strict=True))
        and lib.outcome == pre.outcome
        and abs(lib.end - pre.end) <= tol
    )


def ks_p(lib: list[float], pre: list[float]) -> float:
    return float(stats.ks_2samp(lib, pre).pvalue)


def means_agree(lib: list[float], pre: list[float]) -> tuple[bool, str]:
    """Within 2% of the library's mean, or three standard errors of the difference
    where the runs are too few for 2% to be measured (a mean of 75 ms of retry backoff);
    the verdict and a line saying the figures."""
    a, b = np.asarray(lib, float), np.asarray(pre, float)
    diff = abs(b.mean() - a.mean())
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)) if len(a) > 1 else 0.0
    tol = max(REL * abs(a.mean()), 3 * se)
    return diff <= tol, f"library {a.mean():.6g}, preset {b.mean():.6g}, tolerance {tol:.3g}"
