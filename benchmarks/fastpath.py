"""The vectorised fast path against the SimPy pollers, on the same 100k-job workload.

    python benchmarks/fastpath.py [--jobs 100000] [--simpy-jobs 10000]

For each open-loop strategy: simulated jobs per second of wall time through the fast
path (all --jobs) and through SimPy pollers (the first --simpy-jobs, as SimPy on all
100k would take minutes per strategy), and the ratio. Two fast figures: the evaluator
on the timelines as arrays (`fast_poll`: per-job metrics and per-second load), and the
whole polling phase (`poll`, which first turns the Timeline objects into those arrays,
a cost printed on its own). Fast figures are the best of --repeat runs, after one run
that loads the compiled loops; SimPy runs once. Targets: the fast path at least 100x
SimPy, and at least 1 million jobs per second for every open-loop strategy.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import time

import numpy as np

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
    "aws-js-waiter",  # smithy-waiter cuts its last sleep to its deadline: no fast path
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
    s = parse_strategy(strategy)
    rows = np.arange(len(tls))
    ids = np.array([t.job_id for t in tls])
    starts = np.array([t.submit for t in tls])
    gc.collect()
    t0 = time.perf_counter()
    fast_poll(matrix, rows, ids, starts, s, s.label, 0.02, end, np.random.default_rng(1))
    return time.perf_counter() - t0


def best(repeat, f, *args) -> float:
    return min(f(*args) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--simpy-jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = sim.default_scenario()
    s = dataclasses.replace(base, horizon=args.jobs / base.arrivals.rate, clients=None)
    run = sim.simulate(s, progress=False)
    tls = timelines(run)
    few = tls[: args.simpy_jobs]
    print(f"workload: the default scenario, {len(tls)} jobs ({len(few)} for SimPy)")
    t0 = time.perf_counter()
    matrix = TimelineMatrix(tls)
    print(f"timelines as arrays: {len(tls) / (time.perf_counter() - t0):,.0f} jobs/s")
    timed_core(matrix, tls[:1000], STRATEGIES[0], run.end)  # load the compiled loops
    timed_core(matrix, tls[:1000], STRATEGIES[-1], run.end)
    print(
        f"{'strategy':<48}{'evaluator':>11}{'poll jobs/s':>13}{'SimPy jobs/s':>14}"
        f"{'ratio':>8}{'(poll)':>8}"
    )
    worst, lowest = None, None
    for strategy in STRATEGIES:
        core = len(tls) / best(args.repeat, timed_core, matrix, tls, strategy, run.end)
        fast = len(tls) / best(args.repeat, timed, tls, strategy, run.end, "fast")
        slow = len(few) / timed(few, strategy, run.end, "simpy")
        worst = min(worst or core, core)
        lowest = min(lowest or core / slow, core / slow)
        print(
            f"{strategy:<48}{core:>11,.0f}{fast:>13,.0f}{slow:>14,.0f}"
            f"{core / slow:>7.0f}x{fast / slow:>7.0f}x"
        )
    print(
        f"slowest evaluator: {worst:,.0f} jobs/s (target >= 1,000,000); "
        f"lowest ratio: {lowest:.0f}x (target >= 100x)"
    )


if __name__ == "__main__":
    main()
