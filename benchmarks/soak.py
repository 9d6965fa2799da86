"""A soak run of the mock server: a steady rate of status polls for ten minutes, with the
scenario's own arrivals adding jobs, and the server's resident memory sampled throughout.

    python benchmarks/soak.py [--minutes 10] [--rate 3000]

Target: resident memory grows less than 10% from minute 2 to the end. The server runs on
one core, the load on another (a constant-rate client: see loadgen.py).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from loadgen import open_loop  # noqa: E402
from server import TOKEN, pin, post_jobs, rss_mib, run_async, start  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=3000, help="status requests per second")
    parser.add_argument("--jobs", type=int, default=2000, help="jobs polled")
    args = parser.parse_args()
    pin(1)()
    scenario = str(ROOT / "scenarios" / "mock_qa.toml")
    server, url = start(
        ["-m", "pollsim", "serve", scenario, "--port", "0", "--token", TOKEN, "--background"]
    )
    samples: list[tuple[float, float]] = []
    stop = threading.Event()

    def sample():
        t0 = time.perf_counter()
        while not stop.is_set():
            samples.append(((time.perf_counter() - t0) / 60, rss_mib(server.pid)))
            stop.wait(10)

    try:
        post_jobs(url, args.jobs)
        threading.Thread(target=sample, daemon=True).start()
        where = urllib.parse.urlsplit(url)
        paths = [f"/ordo/jobs/{i}" for i in range(1, args.jobs + 1)]
        result = run_async(
            open_loop(
                where.hostname,
                where.port,
                paths,
                {"Authorization": f"Bearer {TOKEN}"},
                args.rate,
                args.minutes * 60,
            )
        )
    finally:
        stop.set()
        server.terminate()
        server.wait(10)
    at2 = next(m for t, m in samples if t >= 2)
    end = samples[-1][1]
    print(
        f"{result.requests:,} status requests at {result.rate:,.0f}/s for {args.minutes:g} min, "
        f"p50 {result.p(50) * 1e3:.1f} ms, p99 {result.p(99) * 1e3:.1f} ms, "
        f"{result.errors} errors"
    )
    for t, m in samples[:: max(1, len(samples) // 10)]:
        print(f"  minute {t:4.1f}: {m:6.1f} MiB")
    print(
        f"resident memory: {at2:.1f} MiB at minute 2, {end:.1f} MiB at the end: "
        f"{(end - at2) / at2:+.1%} (target < +10%)"
    )


if __name__ == "__main__":
    main()
