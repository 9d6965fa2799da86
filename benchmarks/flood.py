"""A flood of job submissions against a real ``pollsim serve`` on loopback: the server's
memory stays bounded by its job caps, and every submission past them is answered 429.

    python benchmarks/flood.py [--submissions 1000000] [--tenants 3] [--connections 16]
                               [--max-jobs N] [--max-jobs-per-tenant N] [--seconds 600]

Submissions are spread over the tenants round robin (the anonymous generic dialect and
tenant tokens given to the server through POLLSIM_TOKENS), pipelined a batch at a time on
a few keep-alive connections, and stop at ``--submissions`` or ``--seconds``, whichever
comes first. Prints the rate, the server's resident memory before and after (and at the
caps), memory per 100k jobs, and the answers counted by status; exits 1 when a
submission past the caps got anything but 429 or when any answer was a 5xx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BODY = b'{"template": "chain", "outcome": "succeed"}'
BATCH = 128  #: requests written at once on a connection before reading their answers
STATUS = re.compile(rb"HTTP/1\.1 (\d\d\d)")  #: an answer's status line (bodies are JSON)


def cpu_seconds(pid: int) -> float:
    """The process's user and system CPU time so far, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """The process's resident memory, MiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(args: argparse.Namespace, tokens: list[str]) -> tuple[subprocess.Popen, str]:
    """``pollsim serve`` on a free loopback port, its tokens in the environment."""
    env = {**os.environ, "POLLSIM_TOKENS": ",".join(f"t{i}={t}" for i, t in enumerate(tokens))}
    cmd = [sys.executable, "-m", "pollsim", "serve", str(ROOT / "scenarios" / "mock_qa.toml")]
    cmd += ["--port", "0", "--speed", "60"]
    for flag in ("max_jobs", "max_jobs_per_tenant"):
        if getattr(args, flag) is not None:
            cmd += ["--" + flag.replace("_", "-"), str(getattr(args, flag))]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    line = proc.stdout.readline().decode()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return proc, line.split("listening on ")[1].strip()


def requests_for(host: str, tokens: list[str]) -> list[bytes]:
    """One submission per tenant: the anonymous generic dialect, then each token."""
    head = f"Host: {host}\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}"
    out = [f"POST /status HTTP/1.1\r\n{head}\r\n\r\n".encode() + BODY]
    for t in tokens:
        auth = f"Authorization: Bearer {t}"
        out.append(f"POST /ordo/jobs HTTP/1.1\r\n{head}\r\n{auth}\r\n\r\n".encode() + BODY)
    return out


async def flood(host: str, port: int, reqs: list[bytes], total: int, conns: int, until: float):
    """Send ``total`` submissions (fewer if ``until`` passes); the statuses, in order of
    answer per connection, and how many were sent."""
    counts: Counter[int] = Counter()
    sent = 0

    async def one() -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while sent < total and time.monotonic() < until:
                n = min(BATCH, total - sent)
                start = sent
                sent += n
                writer.write(b"".join(reqs[(start + i) % len(reqs)] for i in range(n)))
                await writer.drain()
                await read_answers(reader, n, counts)
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(conns)))
    return counts, sent


async def read_answers(reader: asyncio.StreamReader, n: int, counts: Counter[int]) -> None:
    """Read ``n`` answers off the stream, counting their statuses: status lines found in
    the bytes as they come (cheaper than parsing each answer, which would make this
    client the bottleneck)."""
    buf = b""
    while n:
        data = await reader.read(1 << 16)
        if not data:
            raise ConnectionError(f"the server closed the connection with {n} answers due")
        buf += data
        end = 0
        for m in STATUS.finditer(buf):
            counts[int(m.group(1))] += 1
            n -= 1
            end = m.end()
        buf = buf[max(end, len(buf) - 16) :]  # a status line cut in two is in the tail


def run(coroutine):
    """On uvloop where installed: the client must not be the limit."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--submissions", type=int, default=1_000_000)
    p.add_argument("--tenants", type=int, default=3, help="anonymous plus N-1 token tenants")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--max-jobs", type=int, help="the server's cap (default: its default)")
    p.add_argument("--max-jobs-per-tenant", type=int)
    p.add_argument("--seconds", type=float, default=600, help="stop the flood after this")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = p.parse_args()
    tokens = [f"flood-token-{i}" for i in range(1, max(args.tenants, 1))]
    proc, url = start_server(args, tokens)
    try:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        before, cpu = rss_mib(proc.pid), cpu_seconds(proc.pid)
        started = time.monotonic()
        counts, sent = run(
            flood(
                host,
                int(port),
                requests_for(url, tokens),
                args.submissions,
                args.connections,
                started + args.seconds,
            )
        )
        elapsed = time.monotonic() - started
        after, cpu = rss_mib(proc.pid), cpu_seconds(proc.pid) - cpu
        alive = proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(10)
    accepted = counts[201] + counts[202]
    figures = {
        "sent": sent,
        "seconds": round(elapsed, 1),
        "per_second": round(sent / elapsed),
        "accepted": accepted,
        "answered_429": counts[429],
        "other": {str(k): v for k, v in counts.items() if k not in (201, 202, 429)},
        "server_cpu_us_per_request": round(cpu / sent * 1e6, 1) if sent else None,
        "rss_before_mib": round(before, 1),
        "rss_after_mib": round(after, 1),
        "mib_per_100k_jobs": round((after - before) / accepted * 100_000, 1) if accepted else None,
        "server_alive": alive,
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for k, v in figures.items():
            print(f"{k:>20}: {v}")
    bad = figures["other"] or not alive or sent != accepted + counts[429]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
