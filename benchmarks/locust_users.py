"""The polling user's cost: polls per second of one Locust process running the
strategy-driven polling user, against the same process running a bare FastHttpUser
that GETs the same status documents in a loop, both against the same mock server.

    python benchmarks/locust_users.py [--seconds 15] [--users 32] [--rounds 3]

The server runs on one core (core 0 where there are more), Locust on another. The
polling user polls as fast as its strategy lets it (fixed(0.001): a millisecond of
simulated time) on jobs that never end within the run, without If-None-Match so that
every answer is whole like the bare user's (and then with it, for the record). Target:
the polling user costs no more than 15% over the bare user (a ratio of at least 0.85).
The two run side by side on one core, so that whatever else the machine does slows both
alike (taken in turns, on a shared machine, one pair swings by a third), ``--rounds``
times; each process reports its CPU time over the test, and requests per CPU second
(what a process makes with a core to itself) is the figure held to the target, the
median of the rounds' ratios. The polling user with ETags runs alone, for the record.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from server import TOKEN, pin, post_jobs, start  # noqa: E402

BARE = f"""
import random
from locust import FastHttpUser, constant, task

class Bare(FastHttpUser):
    wait_time = constant(0)

    @task
    def poll(self):
        n = random.randint(1, 200)
        self.client.get(f"/ordo/jobs/{{n}}", name="/ordo/jobs/[id]",
                        headers={{"Authorization": "Bearer {TOKEN}"}})
"""

#: in both swarms: the process's CPU time from the start of the test to its end
CPU = """
import json, os, time
from locust import events

_cpu = {}

@events.test_start.add_listener
def _start(**_):
    _cpu["t0"] = time.process_time()

@events.test_stop.add_listener
def _stop(**_):
    with open(os.environ["POLLSIM_BENCH_CPU"], "w") as f:
        json.dump(time.process_time() - _cpu["t0"], f)
"""

POLLING = """
from loadtests.locustfile import PollingUser

class Polling(PollingUser):
    strategy_text = "fixed(0.001)"
"""


def swarms(url: str, runs: list[tuple[str, list[str]]], users: int, seconds: float) -> list[Run]:
    """Locust processes side by side on one core, each a locustfile and its flags: their
    status polls per wall second and requests per CPU second."""
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for i, (locustfile, extra) in enumerate(runs):
            path = Path(tmp) / f"swarm{i}.py"
            path.write_text(locustfile + CPU)
            args = [sys.executable, "-m", "locust", "-f", str(path), "--host", url]
            args += ["--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds:g}s"]
            args += ["--only-summary", "--json-file", str(Path(tmp) / f"stats{i}"), *extra]
            cpu_file = str(Path(tmp) / f"cpu{i}.json")
            procs.append(
                subprocess.Popen(
                    args,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    preexec_fn=pin(1),
                    env={**os.environ, "POLLSIM_BENCH_CPU": cpu_file},
                )
            )
        for proc in procs:
            proc.wait(seconds + 120)
        out = []
        for i in range(len(runs)):
            stats = json.loads((Path(tmp) / f"stats{i}.json").read_text())
            cpu = json.loads((Path(tmp) / f"cpu{i}.json").read_text())
            entry = next(s for s in stats if s["name"] == "/ordo/jobs/[id]")
            total = sum(s["num_requests"] for s in stats)
            span = entry["last_request_timestamp"] - entry["start_time"]
            out.append(Run(entry["num_requests"] / span, total / cpu))
    return out


class Run(NamedTuple):
    per_second: float  #: status polls per wall second
    per_cpu_second: float  #: requests per CPU second of the Locust process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scenario = str(ROOT / "scenarios" / "mock_qa.toml")
    server, url = start(["-m", "pollsim", "serve", scenario, "--port", "0", "--token", TOKEN])
    try:
        post_jobs(url, 200)
        flags = ["--token", TOKEN, "--template", "chain", "--job-duration", "100h"]
        pairs = []
        for _ in range(args.rounds):
            bare, polling = swarms(
                url, [(BARE, []), (POLLING, [*flags, "--no-etag"])], args.users, args.seconds
            )
            pairs.append((bare, polling))
        (with_etag,) = swarms(url, [(POLLING, flags)], args.users, args.seconds)
    finally:
        server.terminate()
        server.wait(10)
    print(
        f"Locust processes of {args.users} users, {args.seconds:g} s, the bare and the "
        "polling one side by side on one core:"
    )
    for bare, polling in pairs:
        print(
            f"  bare FastHttpUser {bare.per_second:>7,.0f} polls/s "
            f"({bare.per_cpu_second:>6,.0f} per CPU s); polling user (no If-None-Match) "
            f"{polling.per_second:>7,.0f} ({polling.per_cpu_second:>6,.0f} per CPU s)"
        )
    wall = statistics.median(p.per_second / b.per_second for b, p in pairs)
    cpu = statistics.median(p.per_cpu_second / b.per_cpu_second for b, p in pairs)
    print(f"  median ratio, polls per CPU second: {cpu:.2f} (target >= 0.85: at most 15% dearer)")
    print(f"  median ratio, polls per wall second: {wall:.2f} (as they shared the core)")
    print(
        f"  the polling user with ETags (304s): {with_etag.per_second:>8,.0f} polls/s "
        f"({with_etag.per_cpu_second:,.0f} per CPU s)"
    )


if __name__ == "__main__":
    main()
