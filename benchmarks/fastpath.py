"""The vectorised fast path against the SimPy pollers, on the same 100k-job workload.

    python benchmarks/fastpath.py [--jobs 100000] [--simpy-jobs 10000]

For each open-loop strategy: simulated jobs per second of wall time through the fast
path (all --jobs) and through SimPy pollers (the first --simpy-jobs, as SimPy on all
100k would take minutes per strategy), and the ratio. Two fast figures: the whole
polling phase (`poll`, which turns the Timeline objects into arrays first), and the
evaluator alone on those arrays (`fast_poll`), per-second load included in both.
Targets: the fast path at least 100x SimPy, and at least 1 million jobs per second for
every open-loop strategy.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import time

import sim
from sim.fastpath import TimelineMatrix, fast_poll
from sim.pollers import ClientSpec
from sim.polling import poll
from sim.strategies import parse_strategy
from sim.timelines import timelines

STRATEGIES = [
    "ordo-js",
    "generic-js",
    "botocore-waiter",
    "google-lro",
    "smithy-waiter",
    "celery-get",
    "exponential(1, 2, max=60) | after_delay(3600)",
    "fixed(5) + uniform(0, 1)",
    "decorrelated_jitter(1, max=30)",
]


def timed(tls, strategy, end, method) -> float:
    spec = ClientSpec(((parse_strategy(strategy), 1.0),))
    gc.collect()
    t0 = time.perf_counter()
    poll(tls, spec, sim.ServerSpec(), seed=1, end=end, method=method)
    return time.perf_counter() - t0


def timed_core(matrix, tls, strategy, end) -> float:
    import numpy as np

    s = parse_strategy(strategy)
    rows = np.arange(len(tls))
    ids = np.array([t.job_id for t in tls])
    starts = np.array([t.submit for t in tls])
    gc.collect()
    t0 = time.perf_counter()
    fast_poll(matrix, rows, ids, starts, s, s.label, 0.02, end, np.random.default_rng(1))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--simpy-jobs", type=int, default=10_000)
    args = parser.parse_args()
    base = sim.default_scenario()
    s = dataclasses.replace(base, horizon=args.jobs / base.arrivals.rate, clients=None)
    run = sim.simulate(s)
    tls = timelines(run)
    few = tls[: args.simpy_jobs]
    print(f"workload: the default scenario, {len(tls)} jobs ({len(few)} for SimPy)")
    t0 = time.perf_counter()
    matrix = TimelineMatrix(tls)
    print(f"timelines as arrays: {len(tls) / (time.perf_counter() - t0):,.0f} jobs/s")
    print(
        f"{'strategy':<48}{'poll jobs/s':>13}{'evaluator':>11}{'SimPy jobs/s':>14}"
        f"{'ratio':>8}{'(eval.)':>9}"
    )
    worst = None
    for strategy in STRATEGIES:
        fast = len(tls) / timed(tls, strategy, run.end, "fast")
        core = len(tls) / timed_core(matrix, tls, strategy, run.end)
        slow = len(few) / timed(few, strategy, run.end, "simpy")
        worst = min(worst or fast, fast)
        print(
            f"{strategy:<48}{fast:>13,.0f}{core:>11,.0f}{slow:>14,.0f}"
            f"{fast / slow:>7.0f}x{core / slow:>8.0f}x"
        )
    print(f"slowest fast path: {worst:,.0f} jobs/s (target >= 1,000,000); ratio target >= 100x")


if __name__ == "__main__":
    main()
