"""The ground truth's report with many distinct clients, and /healthz while it is built.

    python benchmarks/report.py [--clients 100000] [--jobs 100] [--reference 3000]

Starts ``pollsim serve`` on a loopback port, makes N distinct clients (one status
request each, ``X-Client-Id`` c0..cN-1, pipelined over a few connections), then asks for
``/_admin/report`` while another connection asks ``/healthz`` over and over. Prints the
report's time, the longest and the median /healthz wait during it (and when idle), the
server's resident memory per 100k clients, and, as the reference in the same run, the
per-client summaries as they were first written (every row filtered per client:
quadratic) timed on the report's first R rows and extrapolated to N, beside today's on
the same rows.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
from itertools import groupby
from operator import itemgetter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mock_server.truth_report import _summary  # noqa: E402

SCENARIO = ROOT / "scenarios" / "mock_qa.toml"
TOKEN, ADMIN = "bench-token", "bench-admin"
BATCH = 200  #: requests written at once on a connection before its answers are read


def start() -> tuple[subprocess.Popen, str, int]:
    args = [sys.executable, "-m", "pollsim", "serve", str(SCENARIO), "--port", "0"]
    args += ["--token", f"bench={TOKEN}", "--admin-token", ADMIN]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        sys.exit(f"the server did not start: {line}")
    host, port = line.split("listening on http://")[1].strip().rsplit(":", 1)
    return proc, host, int(port)


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """Resident memory now (VmRSS), or at its highest so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _answers(reader: asyncio.StreamReader, n: int) -> list[int]:
    """The statuses of the next ``n`` answers on a connection (each has a length)."""
    statuses = []
    for _ in range(n):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(
            int(v) for k, _, v in (x.partition(":") for x in lines) if k.lower() == "content-length"
        )
        await reader.readexactly(length)
        statuses.append(int(lines[0].split()[1]))
    return statuses


async def _clients(host: str, port: int, ids: range, jobs: int) -> list[int]:
    reader, writer = await asyncio.open_connection(host, port)
    statuses = []
    for start in range(ids.start, ids.stop, BATCH):
        batch = range(start, min(start + BATCH, ids.stop))
        writer.write(
            b"".join(
                f"GET /ordo/jobs/{i % jobs + 1} HTTP/1.1\r\nHost: b\r\n"
                f"Authorization: Bearer {TOKEN}\r\nX-Client-Id: c{i}\r\n\r\n".encode()
                for i in batch
            )
        )
        statuses += await _answers(reader, len(batch))
    writer.close()
    return statuses


def make_clients(host: str, port: int, n: int, jobs: int, connections: int = 4) -> list[int]:
    """N distinct clients, one status request each, spread over ``jobs`` jobs."""
    share = -(-n // connections)
    parts = [range(k * share, min(n, (k + 1) * share)) for k in range(connections)]

    async def all_of_them():
        done = await asyncio.gather(*(_clients(host, port, p, jobs) for p in parts))
        return [s for d in done for s in d]

    return asyncio.run(all_of_them())


def call(conn: http.client.HTTPConnection, method: str, path: str, **headers) -> bytes:
    conn.request(method, path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    if resp.status >= 300:
        sys.exit(f"{method} {path}: HTTP {resp.status}: {body[:200]!r}")
    return body


FETCH = """
import sys, time, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
t = time.perf_counter()
with urllib.request.urlopen(req, timeout=600) as resp:
    body = resp.read()
sys.stdout.write(f"{time.perf_counter() - t}\\n")
sys.stdout.buffer.write(body)
"""


def healthz_waits(conn, seconds: float = 0.0, while_running=None) -> list[float]:
    """/healthz round trips, for ``seconds`` or while the process ``while_running`` runs."""
    waits: list[float] = []
    end = time.perf_counter() + seconds
    while len(waits) < 100_000:
        if while_running.poll() is not None if while_running else time.perf_counter() > end:
            break
        t = time.perf_counter()
        call(conn, "GET", "/healthz")
        waits.append(time.perf_counter() - t)
    return waits


def timed_report(host: str, port: int) -> tuple[dict, float, int, list[float], list[float]]:
    """The report and its time (fetched by another process: its reading and ours do not
    share an interpreter), with /healthz waits idle and during it."""
    health = http.client.HTTPConnection(host, port, timeout=600)
    idle = healthz_waits(health, seconds=1.0)
    url = f"http://{host}:{port}/_admin/report"
    fetch = subprocess.Popen([sys.executable, "-c", FETCH, url, ADMIN], stdout=subprocess.PIPE)
    reading = threading.Thread(target=lambda: got.append(fetch.stdout.read()))
    got: list[bytes] = []
    reading.start()
    during = healthz_waits(health, while_running=fetch)
    reading.join()
    fetch.wait()
    seconds, _, body = got[0].partition(b"\n")
    return json.loads(body), float(seconds), len(body), idle, during


def old_per_client(rows: list[dict]) -> list[dict]:
    """The per-client summaries as they were first written: every row filtered per
    client."""
    out = []
    for client in sorted({r["client"] for r in rows}):
        mine = [r for r in rows if r["client"] == client]
        out.append({"client": client, **_summary(mine)})
    return out


def new_per_client(rows: list[dict]) -> list[dict]:
    """The per-client summaries as the report makes them now: rows sorted by client are
    grouped in one pass."""
    return [{"client": c, **_summary(list(g))} for c, g in groupby(rows, key=itemgetter("client"))]


def best_of(repeat: int, f, *args) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f(*args)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=100_000)
    p.add_argument("--jobs", type=int, default=100)
    p.add_argument("--reference", type=int, default=3000, help="rows the old algorithm gets")
    args = p.parse_args()
    if not 1 <= args.clients <= 1_000_000 or not 1 <= args.jobs <= 10_000:
        sys.exit("--clients: 1 to 1,000,000; --jobs: 1 to 10,000")
    proc, host, port = start()
    try:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        for _ in range(args.jobs):
            call(conn, "POST", "/ordo/jobs", Authorization=f"Bearer {TOKEN}")
        base = rss_mib(proc.pid)
        t = time.perf_counter()
        statuses = make_clients(host, port, args.clients, args.jobs)
        made = time.perf_counter() - t
        grown = rss_mib(proc.pid) - base
        before = rss_mib(proc.pid)
        report, seconds, size, idle, during = timed_report(host, port)
        peak = rss_mib(proc.pid, "VmHWM") - before
    finally:
        proc.terminate()
        proc.wait(30)
    ok = sum(s == 200 for s in statuses)
    print(f"{args.clients:,} clients made in {made:.1f} s ({ok:,} answered 200)")
    print(f"server RSS grew {grown:.0f} MiB: {grown * 100_000 / args.clients:.0f} MiB per 100k")
    print(
        f"report: {seconds:.2f} s, {size / 2**20:.0f} MiB of JSON, "
        f"{len(report['clients']):,} clients, {len(report['jobs']):,} rows; "
        f"the server's peak RSS rose {peak:.0f} MiB while it was built"
    )
    ms = 1000
    print(
        f"/healthz during it: {len(during)} answered, longest {max(during) * ms:.0f} ms, "
        f"median {statistics.median(during) * ms:.1f} ms "
        f"(idle: median {statistics.median(idle) * ms:.1f} ms, longest {max(idle) * ms:.1f} ms)"
    )
    rows = report["jobs"][: args.reference]
    old = best_of(1, old_per_client, rows)
    new = best_of(3, new_per_client, rows)
    scale = (args.clients / len(rows)) ** 2
    print(
        f"per-client summaries of {len(rows):,} rows: first written {old:.2f} s, "
        f"now {new * ms:.1f} ms ({old / new:.0f}x); the old extrapolated to "
        f"{args.clients:,}: {old * scale:.0f} s against this report's {seconds:.2f} s whole "
        f"({old * scale / seconds:.0f}x)"
    )


if __name__ == "__main__":
    main()
