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
from collections import deque
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


class _Conn(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self, done: Callable[[_Conn, int], None]) -> None:
        self.done = done
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.due = 0.0

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport

    def send(self, request: bytes, due: float) -> None:
        self.due = due
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        head_end = self.buf.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = self.buf[:head_end].lower()
        at = head.find(b"content-length:")
        length = int(head[at + 15 : head.find(b"\r\n", at)]) if at >= 0 else 0
        if len(self.buf) < head_end + 4 + length:
            return
        status = int(self.buf[9:12])
        self.buf = self.buf[head_end + 4 + length :]
        self.done(self, status)


async def open_loop(
    host: str, port: int, paths: list[str], headers: dict, rate: float, seconds: float,
    connections: int = 64,
) -> Result:  # fmt: skip
    """Requests due at a constant ``rate`` over keep-alive connections, one in flight on
    each; a request with no free connection waits, and its latency counts from when it
    was due (so a slow server cannot hide its queue)."""
    loop = asyncio.get_running_loop()
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    requests = [f"GET {p} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode() for p in paths]
    latencies: list[float] = []
    errors = 0
    idle: list[_Conn] = []
    waiting: deque[tuple[int, float]] = deque()

    def done(conn: _Conn, status: int) -> None:
        nonlocal errors
        latencies.append(time.perf_counter() - conn.due)
        errors += status >= 400
        if waiting:
            i, due = waiting.popleft()
            conn.send(requests[i % len(requests)], due)
        else:
            idle.append(conn)

    for _ in range(connections):
        _, conn = await loop.create_connection(lambda: _Conn(done), host, port)
        idle.append(conn)
    n = int(rate * seconds)
    start = time.perf_counter()
    i = 0
    while i < n:
        now = time.perf_counter()
        while i < n and start + i / rate <= now:
            due = start + i / rate
            if idle:
                idle.pop().send(requests[i % len(requests)], due)
            else:
                waiting.append((i, due))
            i += 1
        await asyncio.sleep(0.0005)
    while len(latencies) < n:
        await asyncio.sleep(0.001)
    took = time.perf_counter() - start
    for conn in idle:
        conn.transport.close()
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


def hey(url: str, headers: dict, rate: float, seconds: float, workers: int = 32):
    """A constant rate from hey (``workers`` each at ``rate / workers`` per second): the
    rate it reached, p50 and p99 (s); None without hey. A worker waits for its answer
    before the next tick, so a stall delays (rather than queues) what was due during it:
    its tail is a lower bound where the server stalls, exact where it does not."""
    exe = shutil.which("hey")
    if exe is None:
        return None
    args = [exe, "-z", f"{seconds:g}s", "-c", str(workers), "-q", f"{rate / workers:.3f}"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    got = {}
    for line in out.splitlines():
        words = line.split()
        if line.strip().startswith("Requests/sec:"):
            got["rate"] = float(words[1])
        elif len(words) == 4 and words[1] == "in" and words[0] in ("50%", "99%"):
            got[words[0]] = float(words[2])
    return got["rate"], got["50%"], got["99%"]
