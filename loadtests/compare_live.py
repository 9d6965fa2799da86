"""The live side of ``pollsim compare``: the mock server playing the scenario's arrivals
as background jobs, and one Locust user adopting each of them on the model's schedule
(``loadtests.adopters``); both watched, both stopped whatever happens, their output in
the run folder; the server's ground truth taken as the swarm stopped."""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from loadtests.processes import (
    Ending,
    child,
    health,
    simulated_now,
    start_server,
    stop,
    terminable,
    watch,
)
from loadtests.run_support import admin_report, cpu_seconds, saturation
from mock_server.model import BACKGROUND


def swarm_file() -> str:
    return "\n".join(
        [
            '"""The swarm of a pollsim compare run (written by pollsim)."""',
            "from loadtests.adopters import Adopter",
            "",
            "",
            "class Adopt(Adopter):",
            "    pass",
            "",
        ]
    )


@dataclass
class Live:
    report: dict | None  #: the server's ground truth (None where it gave none)
    requests: Path  #: the server's request log
    warnings: list[str]
    problem: str | None = None  #: what cut the run short, one line


@dataclass(frozen=True)
class Played:
    """What the live side plays: the scenario (its file; None: the default), its dialect
    and its seed, from which the ids the dialect shows may derive."""

    scenario_path: str | None
    dialect: str
    seed: int


def measure(played: Played, speed: float, start_in: float, end: float, out: Path) -> Live:
    """The live side: server and swarm, watched (either dying stops the other) and both
    stopped whatever happens, a SIGTERM to pollsim included; their output in
    ``server.log`` and ``locust.log``."""
    out = out.resolve()  # Locust runs in it: no relative paths
    out.mkdir(parents=True, exist_ok=True)
    (out / "swarm.py").write_text(swarm_file())
    (out / "requests.jsonl").unlink(missing_ok=True)
    (out / "locust.log").unlink(missing_ok=True)
    children: list[subprocess.Popen] = []
    with terminable():
        try:
            live = _live(played, speed, start_in, end, out, children)
        finally:
            for proc in reversed(children):  # Locust, then the server
                stop(proc)
            for pid_file in out.glob("*.pid"):
                pid_file.unlink()
    if live.report is not None:
        (out / "truth.json").write_text(json.dumps(live.report, indent=2))
    return live


def _live(played: Played, speed, start_in, end, out, children) -> Live:
    """Start the server and the adopters (each put in ``children``), watch them, stop
    the swarm and take the ground truth as it stood then."""
    admin = secrets.token_hex(12)
    log_path = out / "requests.jsonl"
    options = ["--speed", str(speed), "--background", "--start-in", str(start_in)]
    options += ["--request-log", str(log_path)]
    server, url = start_server(played.scenario_path, options, out, {"POLLSIM_ADMIN_TOKEN": admin})
    children.append(server)
    bound = math.ceil(end / speed + start_in + 60)  # the adopter ends the run before
    args = [sys.executable, "-m", "locust", "-f", str(out / "swarm.py"), "--headless"]
    args += ["--host", url, "-u", "1", "-r", "1", "-t", f"{bound}s"]
    args += ["--dialect", played.dialect, "--adopt", str(out / "schedule.csv")]
    # the background tenant's jobs: its name is their project where a path names one
    args += ["--tenant", BACKGROUND, "--server-seed", str(played.seed)]
    args += ["--pollsim-csv", str(out / "jobs.csv"), "--csv", str(out / "locust")]
    args += ["--html", str(out / "locust.html"), "--only-summary"]
    # the background jobs are no tenant's: the adopters read them with the admin role
    env = {**os.environ, "POLLSIM_TOKEN": admin}
    cpu0, wall0 = cpu_seconds(server.pid), time.monotonic()
    locust = child(args, out / "locust.log", out / "locust.pid", cwd=out, env=env)
    children.append(locust)
    ending = _watch_with_bar(locust, server, url, end / speed + start_in)
    busy = max(0.0, cpu_seconds(server.pid) - cpu0) / max(time.monotonic() - wall0, 1e-9)
    doc = health(url) if ending.server_alive else None
    stop(locust, signal.SIGINT)  # what it measured so far, to its files
    report, problem = None, ending.problem
    if doc is None:
        problem = problem or "the mock server did not answer /healthz as the swarm ended"
    else:
        try:
            report = admin_report(url, admin, simulated_now(doc))
        except (OSError, ValueError) as exc:
            problem = problem or f"the mock server gave no report: {exc}"
    return Live(report, log_path, saturation(out / "locust.log", busy), problem)


def _watch_with_bar(locust, server, url: str, expected: float) -> Ending:
    """Watch the run, with a bar of wall seconds on a terminal (none elsewhere)."""
    from tqdm import tqdm

    with tqdm(
        total=round(expected), unit="s", desc="live run", disable=None, file=sys.stderr
    ) as bar:
        return watch(
            locust, server, url, tick=lambda t: bar.update(min(round(t), bar.total) - bar.n)
        )
