"""Lifecycle model speed and memory against a bare SimPy loop, in the same run.

    python benchmarks/lifecycle.py [--jobs 100000] [--repeat 5]

Prints simulated state changes per second of wall time, bare SimPy timeout events per
second, and the ratio: how many bare SimPy events one state change of the model costs
(target: at most 3). Then the peak memory of a run, per 100k jobs (tracemalloc).
Best of --repeat runs each, so that a busy machine does not count against either side.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import time
import tracemalloc

import simpy

import sim


def scenario(jobs: int) -> sim.Scenario:
    """The default scenario (chains and fan-outs, 120 workers, retries, lag), stretched to
    about ``jobs`` jobs at the default rate."""
    base = sim.default_scenario()
    rate = base.arrivals.rate
    # the lifecycle alone: no clients (benchmarks/fastpath.py measures those)
    return dataclasses.replace(base, horizon=jobs / rate, name=f"default x{jobs}", clients=None)


def time_model(s: sim.Scenario) -> tuple[float, int, int]:
    gc.collect()
    t0 = time.perf_counter()
    run = sim.simulate(s)
    return time.perf_counter() - t0, len(run.changes), len(run.jobs)


def time_bare(n: int) -> float:
    """n timeouts in one SimPy process: the cheapest thing SimPy can do per event."""

    def loop(env: simpy.Environment):
        for _ in range(n):
            yield env.timeout(1)

    env = simpy.Environment()
    env.process(loop(env))
    gc.collect()
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def peak_memory(s: sim.Scenario) -> tuple[int, int]:
    tracemalloc.start()
    run = sim.simulate(s)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, len(run.jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs per run (default 100000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each side (default 5)")
    args = parser.parse_args()
    s = scenario(args.jobs)
    model = min(time_model(s) for _ in range(args.repeat))
    seconds, changes, jobs = model
    bare = min(time_bare(changes) for _ in range(args.repeat))
    model_rate, bare_rate = changes / seconds, changes / bare
    print(f"scenario: {s.name}, {jobs} jobs, {changes} state changes")
    print(f"model:      {model_rate:12,.0f} state changes/s  ({seconds:.3f} s)")
    print(f"bare SimPy: {bare_rate:12,.0f} timeout events/s  ({bare:.3f} s)")
    print(
        f"ratio:      {bare_rate / model_rate:.2f} bare SimPy events per state change (target <= 3)"
    )
    peak, n = peak_memory(s)
    print(f"memory:     {peak / n * 100_000 / 2**20:.1f} MiB peak per 100k jobs (tracemalloc)")


if __name__ == "__main__":
    main()
