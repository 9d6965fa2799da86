"""A small load generator for the server benchmarks: closed-loop (as fast as C connections
go) and open-loop (a constant rate, latency measured from when each request was due, so
a slow server cannot hide its queue). wrk does the closed loop better where installed.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import numpy as np


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: np.ndarray  #: seconds
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def p(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) if len(self.latencies) else float("nan")


async def closed_loop(
    url_of: Callable[[int], str], headers: dict, connections: int, seconds: float
) -> Result:
    """``connections`` clients, each sending its next request when the last is answered."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def client():
            nonlocal errors
            while (t0 := time.perf_counter()) < stop:
                try:
                    async with session.get(url_of(next(counter))) as resp:
                        await resp.read()
                        if resp.status >= 400:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        took = time.perf_counter() - start
    return Result(len(latencies), took, np.array(latencies), errors)


async def open_loop(
    url_of: Callable[[int], str], headers: dict, rate: float, seconds: float, cap: int = 512
) -> Result:
    """Requests due at a constant ``rate``; each one's latency counts from when it was due."""
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=cap)
    room = asyncio.Semaphore(cap)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one(i: int, due: float):
            nonlocal errors
            try:
                async with session.get(url_of(i)) as resp:
                    await resp.read()
                    if resp.status >= 400:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            finally:
                room.release()
            latencies.append(time.perf_counter() - due)

        start = time.perf_counter()
        tasks = []
        n = int(rate * seconds)
        for i in range(n):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await room.acquire()
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
        took = time.perf_counter() - start
    return Result(n, took, np.array(latencies), errors)


def wrk(base: str, paths: list[str], headers: dict, connections: int, seconds: float):
    """Requests per second and p99 (s) from wrk, rotating over ``paths``; None without wrk."""
    exe = shutil.which("wrk")
    if exe is None:
        return None
    lua_paths = ",".join(f'"{p}"' for p in paths)
    lua_headers = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
    script = f"""
local paths = {{{lua_paths}}}
local i = 0
{lua_headers}
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %f %f %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(99) / 1e6, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp) / "rotate.lua"
        lua.write_text(script)
        out = subprocess.run(
            [exe, "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(lua), base],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    n, took, p99, errors = line.split()[1:]
    return int(n) / float(took), float(p99), int(errors)
