"""The polling user's cost: polls per second of one Locust process running the
strategy-driven polling user, against the same process running a bare FastHttpUser
that GETs the same status documents in a loop, both against the same mock server.

    python benchmarks/locust_users.py [--seconds 15] [--users 32]

The server runs on one core (core 0 where there are more), Locust on another. The
polling user polls as fast as its strategy lets it (fixed(0.001): a millisecond of
simulated time) on jobs that never end within the run, without If-None-Match so that
every answer is whole like the bare user's (and then with it, for the record). Target:
the polling user costs no more than 15% over the bare user (a ratio of at least 0.85).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

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

POLLING = """
from loadtests.locustfile import PollingUser

class Polling(PollingUser):
    strategy_text = "fixed(0.001)"
"""


def swarm(url: str, locustfile: str, users: int, seconds: float, extra: list[str]) -> float:
    """GET status requests per second of one Locust process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "swarm.py"
        path.write_text(locustfile)
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(path), "--host", url, "--headless",
             "-u", str(users), "-r", str(users), "-t", f"{seconds:g}s", "--only-summary",
             "--json-file", str(Path(tmp) / "stats"), *extra],
            capture_output=True,
            timeout=seconds + 120,
            preexec_fn=pin(1),
        )  # fmt: skip
        stats = json.loads((Path(tmp) / "stats.json").read_text())
    entry = next(s for s in stats if s["name"] == "/ordo/jobs/[id]")
    return entry["num_requests"] / (entry["last_request_timestamp"] - entry["start_time"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--users", type=int, default=32)
    args = parser.parse_args()
    scenario = str(ROOT / "scenarios" / "mock_qa.toml")
    server, url = start(["-m", "pollsim", "serve", scenario, "--port", "0", "--token", TOKEN])
    try:
        post_jobs(url, 200)
        bare = swarm(url, BARE, args.users, args.seconds, [])
        flags = ["--token", TOKEN, "--template", "chain", "--job-duration", "100h"]
        polling = swarm(url, POLLING, args.users, args.seconds, [*flags, "--no-etag"])
        with_etag = swarm(url, POLLING, args.users, args.seconds, flags)
    finally:
        server.terminate()
        server.wait(10)
    print(f"one Locust process, {args.users} users, {args.seconds:g} s each:")
    print(f"  bare FastHttpUser, plain GETs: {bare:>8,.0f} polls/s")
    print(f"  strategy-driven polling user:  {polling:>8,.0f} polls/s (no If-None-Match)")
    print(f"  ratio {polling / bare:.2f} (target >= 0.85: at most 15% dearer)")
    print(f"  the same with ETags (304s):    {with_etag:>8,.0f} polls/s")


if __name__ == "__main__":
    main()
