"""The vectorised fast path against the SimPy pollers, on the same 100k-job workload.

    python benchmarks/fastpath.py [--jobs 100000] [--simpy-jobs 10000]

For each open-loop strategy: simulated jobs per second of wall time through the fast
path (all --jobs) and through SimPy pollers (the first --simpy-jobs, as SimPy on all
100k would take minutes per strategy), and the ratio. Targets: the fast path at least
100x SimPy, and at least 1 million jobs per second for every open-loop strategy.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import time

import sim
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
    print(f"{'strategy':<48}{'fast jobs/s':>14}{'SimPy jobs/s':>14}{'ratio':>9}")
    worst = None
    for strategy in STRATEGIES:
        fast = len(tls) / timed(tls, strategy, run.end, "fast")
        slow = len(few) / timed(few, strategy, run.end, "simpy")
        worst = min(worst or fast, fast)
        print(f"{strategy:<48}{fast:>14,.0f}{slow:>14,.0f}{fast / slow:>8.0f}x")
    print(f"slowest fast path: {worst:,.0f} jobs/s (target >= 1,000,000); ratio target >= 100x")


if __name__ == "__main__":
    main()
