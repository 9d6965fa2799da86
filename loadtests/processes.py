"""The child processes of ``pollsim loadtest`` and ``compare``: the mock server and the
Locust swarm, their output in log files of the run folder (a pipe nobody reads fills
and freezes the child), their pids beside them, and a watch that notices either one
dying or the server no longer answering, within a few seconds."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

STARTUP = 60.0  #: wall seconds the server gets to say where it listens
TICK = 0.5  #: wall seconds between looks at the children
HEALTH_EVERY = 2.0  #: wall seconds between health checks of the server
HUNG_AFTER = 10.0  #: wall seconds without a health answer after which the server is hung


class ServerGone(RuntimeError):
    """The mock server died or stopped answering."""


def child(args: list[str], log: Path, pid_file: Path, **kw) -> subprocess.Popen:
    """A child process writing stdout and stderr to ``log``, its pid in ``pid_file``."""
    with log.open("ab") as f:  # the child holds its own descriptor
        proc = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, **kw)
    pid_file.write_text(f"{proc.pid}\n")
    return proc


def start_server(
    scenario: str | None, options: list[str], out: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """``pollsim serve`` on a free loopback port, with ``options`` (and ``env`` added to
    the environment), logging to ``server.log``; the process and its URL."""
    args = [sys.executable, "-m", "pollsim", "serve", "--port", "0", *options]
    if scenario:
        args.insert(4, str(Path(scenario).resolve()))  # never read as an option
    log = out / "server.log"
    log.unlink(missing_ok=True)
    proc = child(args, log, out / "server.pid", env={**os.environ, **(env or {})})
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if "listening on " in line:
                return proc, line.split("listening on ", 1)[1].strip()
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop(proc)
    last = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
    raise RuntimeError(f"the mock server did not start: {last[0]} (see {log})")


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """``sig`` (Locust writes its files on SIGINT, not on SIGTERM), then SIGKILL after
    15 s; nothing if it has ended."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(15)


@contextlib.contextmanager
def terminable() -> Iterator[None]:
    """SIGTERM taken as Ctrl-C while the children run, so that the ``finally`` that stops
    them runs too (Python's default for SIGTERM ends it on the spot, leaving orphans)."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def health(url: str, timeout: float = 2.0) -> dict | None:
    """The server's ``/healthz`` document; None where it does not answer."""
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=timeout) as resp:
            return json.load(resp)
    except (OSError, ValueError):
        return None


def simulated_now(doc: dict) -> float:
    """Simulated seconds on the server's clock, from its ``/healthz``: its ``now``, else
    reckoned from its epoch and speed (0 before a delayed start)."""
    if isinstance(doc.get("now"), int | float):
        return float(doc["now"])
    epoch = datetime.fromisoformat(doc["epoch"]).timestamp()
    return max(0.0, (time.time() - epoch) * float(doc["speed"]))


def how_it_ended(code: int) -> str:
    """A process's exit status in words."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


@dataclass
class Ending:
    """How a run's swarm ended: ``problem`` is None when Locust ended by itself and the
    server was still there; else one line saying what went wrong."""

    problem: str | None
    server_alive: bool
    wall_s: float  #: wall seconds from the start of the watch to the end of the swarm


def watch(locust: subprocess.Popen, server: subprocess.Popen, url: str, tick=None) -> Ending:
    """Wait for the swarm to end, looking at both children every ``TICK`` and at the
    server's health every ``HEALTH_EVERY``; ``tick(elapsed)`` after each look."""
    start = answered = asked = time.monotonic()
    while True:
        now = time.monotonic()
        code = locust.poll()
        if code is not None:
            alive = server.poll() is None
            if code in (0, 1):  # 1: some requests failed, a result too
                return Ending(None, alive, now - start)
            return Ending(_cut(f"Locust {how_it_ended(code)}", now - start), alive, now - start)
        if server.poll() is not None:
            problem = _cut(f"the mock server {how_it_ended(server.returncode)}", now - start)
            return Ending(problem, False, now - start)
        if now - asked >= HEALTH_EVERY:
            asked = now
            if health(url) is not None:
                answered = time.monotonic()
            elif time.monotonic() - answered > HUNG_AFTER:
                problem = f"the mock server did not answer /healthz for {HUNG_AFTER:g} s"
                return Ending(_cut(problem, now - start), True, now - start)
        if tick is not None:
            tick(now - start)
        time.sleep(TICK)


def _cut(what: str, seconds: float) -> str:
    return f"{what} {seconds:.1f} s into the run, which was stopped there"
