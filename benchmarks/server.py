"""The mock server's status requests against the same framework's bare JSON handler.

    python benchmarks/server.py [--seconds 10] [--connections 64] [--mem-jobs 100000]

Both servers run in their own process on one core (core 0 where the machine has more);
the load comes from this process on another core: wrk where installed, else the bundled
async client. Prints requests per second of GET status (ours) and of a bare aiohttp
handler answering a JSON document of the same size, and the ratio (target >= 70%); p99
latency of ours at half its measured rate, from a constant-rate client (target < 10 ms);
resident memory per 100k jobs; and WireMock with one stub of the same size, after 90 s of
warm-up, where its standalone command is installed (npm install wiremock).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from loadgen import closed_loop, hey, open_loop, wrk  # noqa: E402

TOKEN = "bench-token"
JOBS = 1000


def pin(cpu: int):
    """A preexec function that pins a child to one core, where there are several."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []

    def run():
        if len(cpus) > 1:
            os.sched_setaffinity(0, {cpus[cpu % len(cpus)]})

    return run


def start(args: list[str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=pin(0),
    )
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"a server did not start: {line!r}")
    return proc, line.split("listening on ")[1].strip()


def run_async(coroutine):
    """On uvloop where installed, as the server runs: the client must not be the limit."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def post_jobs(url: str, n: int, connections: int = 32) -> None:
    import aiohttp

    async def go():
        headers = {"Authorization": f"Bearer {TOKEN}"}
        body = json.dumps({"template": "chain", "duration": "100h"})
        async with aiohttp.ClientSession(headers=headers) as session:
            todo = iter(range(n))

            async def client():
                for _ in todo:
                    async with session.post(url + "/ordo/jobs", data=body) as resp:
                        await resp.read()

            await asyncio.gather(*(client() for _ in range(connections)))

    asyncio.run(go())


def measure(base: str, paths: list[str], args) -> tuple[float, float, str]:
    """Requests per second and p99 (s), closed loop, and which tool measured them."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    got = wrk(base, paths, headers, args.connections, args.seconds)
    if got is not None:
        return got[0], got[1], "wrk"
    result = asyncio.run(
        closed_loop(lambda i: base + paths[i % len(paths)], headers, args.connections, args.seconds)
    )
    return result.rate, result.p(99), "bundled client"


def side_by_side(url, paths, bare_url, bare_paths, args) -> list[float] | None:
    """Ours and the bare handler loaded at once, sharing their one core: whatever else the
    machine does slows both alike, and the ratio of their rates is the ratio of their
    costs per request. None without wrk."""
    if shutil.which("wrk") is None:
        return None
    headers = {"Authorization": f"Bearer {TOKEN}"}
    ratios = []
    with ThreadPoolExecutor(2) as pool:
        for _ in range(args.repeat):
            a = pool.submit(wrk, url, paths, headers, args.connections, args.seconds)
            b = pool.submit(wrk, bare_url, bare_paths, headers, args.connections, args.seconds)
            ratios.append(a.result()[0] / b.result()[0])
    return ratios


def constant_rate(url: str, paths: list[str], headers: dict, rate: float, seconds: float):
    """Reached rate, p50 and p99 (s) at a constant rate, and which client: hey where
    installed (a compiled client: its own delays stay out of the figures), else the
    bundled open-loop one."""
    got = hey(url + paths[0], headers, rate, seconds)
    if got is not None:
        return (*got, "hey")
    where = urllib.parse.urlsplit(url)
    r = run_async(open_loop(where.hostname, where.port, paths, headers, rate, seconds))
    return r.rate, r.p(50), r.p(99), "bundled client"


def bare_server(port: int, size: int) -> None:
    """The same framework's bare handler: a fixed JSON document of about the same size."""
    from aiohttp import web

    body = json.dumps({"status": "running", "padding": "x" * (size - 36)}).encode()

    async def handle(request):
        return web.Response(body=body, content_type="application/json")

    async def main():
        app = web.Application()
        app.router.add_get("/status/{id}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        print(f"bare: listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


def wiremock(args, size: int, ours: float) -> str:
    exe = shutil.which("wiremock") or shutil.which(
        "wiremock", path=str(ROOT / "node_modules" / ".bin")
    )
    if exe is None:
        return "WireMock: not installed (npm install wiremock), skipped"
    port = 18089
    # its command is a node wrapper around java: a session of its own, so that stopping
    # it stops the java process too
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--disable-banner"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pin(0),
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/__admin/mappings", timeout=1).read()
                break
            except OSError:
                time.sleep(0.5)
        stub = {
            "request": {"method": "GET", "urlPattern": "/status/.*"},
            "response": {
                "status": 200,
                "jsonBody": {"status": "running", "padding": "x" * (size - 40)},
            },
        }
        req = urllib.request.Request(
            base + "/__admin/mappings", data=json.dumps(stub).encode(), method="POST"
        )
        urllib.request.urlopen(req, timeout=10).read()
        paths = [f"/status/{i}" for i in range(1, 101)]
        warm = argparse.Namespace(connections=args.connections, seconds=90)
        measure(base, paths, warm)  # the JIT warms up
        rate, _, tool = measure(base, paths, args)
        return (
            f"WireMock (after 90 s of warm-up): {rate:,.0f} req/s ({tool}); "
            f"ours is {ours / rate:.1f}x its rate"
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mem-jobs", type=int, default=100_000)
    parser.add_argument("--bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=300, help=argparse.SUPPRESS)
    parser.add_argument("--no-wiremock", action="store_true")
    args = parser.parse_args()
    if args.bare is not None:
        bare_server(args.bare, args.size)
        return
    pin(1)()  # the load on the other core
    scenario = str(ROOT / "scenarios" / "mock_qa.toml")
    serve = ["-m", "pollsim", "serve", scenario, "--port", "0", "--token", TOKEN, "--speed", "60"]
    cap = str(JOBS + args.mem_jobs)  # the default caps (100k, 50k a tenant) would refuse some
    ours, url = start([*serve, "--max-jobs", cap, "--max-jobs-per-tenant", cap])
    bare = None
    try:
        post_jobs(url, JOBS)
        paths = [f"/ordo/jobs/{i}" for i in range(1, JOBS + 1)]
        size = len(
            urllib.request.urlopen(
                urllib.request.Request(url + paths[0], headers={"Authorization": f"Bearer {TOKEN}"})
            ).read()
        )
        bare, bare_url = start([__file__, "--bare", "0", "--size", str(size)])
        # best of --repeat runs each, alternating: this machine's other load comes and goes
        runs_ours, runs_bare = [], []
        bare_paths = [f"/status/{i}" for i in range(1, 101)]
        for _ in range(args.repeat):
            runs_ours.append(measure(url, paths, args))
            runs_bare.append(measure(bare_url, bare_paths, args))
        ours_rate, ours_p99, tool = max(runs_ours)
        bare_rate, bare_p99, _ = max(runs_bare)
        print(
            f"status document: {size} bytes; load: {tool}, {args.connections} connections, "
            f"best of {args.repeat} runs of {args.seconds:g} s"
        )
        print(f"ours  GET /ordo/jobs/{{id}}: {ours_rate:>9,.0f} req/s  p99 {ours_p99 * 1e3:.1f} ms")
        print(f"bare  aiohttp JSON handler: {bare_rate:>9,.0f} req/s  p99 {bare_p99 * 1e3:.1f} ms")
        print(f"  taken in turns: {ours_rate / bare_rate:.0%} of the bare handler")
        shared = side_by_side(url, paths, bare_url, bare_paths, args)
        if shared is not None:
            print(
                f"  side by side on the one core, {args.repeat} runs: ours at "
                + ", ".join(f"{r:.0%}" for r in shared)
                + f" of the bare handler's rate; median {statistics.median(shared):.0%} "
                "(target >= 70%)"
            )
        auth = {"Authorization": f"Bearer {TOKEN}"}
        rate = ours_rate / 2
        half = constant_rate(url, paths, auth, rate, args.seconds)
        floor = constant_rate(bare_url, bare_paths, {}, rate, args.seconds)
        print(
            f"at half that rate ({rate:,.0f} req/s, constant, {half[3]}): p50 "
            f"{half[1] * 1e3:.1f} ms, p99 {half[2] * 1e3:.1f} ms (target < 10 ms); the bare "
            f"handler at the same rate: p50 {floor[1] * 1e3:.1f} ms, p99 {floor[2] * 1e3:.1f} ms"
        )
        before = rss_mib(ours.pid)
        post_jobs(url, args.mem_jobs)
        after = rss_mib(ours.pid)
        per = (after - before) / args.mem_jobs * 100_000
        print(
            f"memory: {before:.0f} MiB, then {after:.0f} MiB after {args.mem_jobs:,} more "
            f"jobs: {per:.0f} MiB per 100k jobs"
        )
    finally:
        for p in (ours, bare):
            if p is not None:
                p.terminate()
                p.wait(10)
    if not args.no_wiremock:
        print(wiremock(args, size, ours_rate))


if __name__ == "__main__":
    main()
