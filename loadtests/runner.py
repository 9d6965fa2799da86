"""``pollsim loadtest``: the mock server on a free loopback port, a Locust swarm against
it (headless unless asked for the web UI), both stopped whatever happens, and the
outputs in one folder. Locust runs in a process of its own (it patches the standard
library with gevent); so does the server.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


@dataclass
class Plan:
    scenario: str | None
    strategies: list[str]
    users: int = 20
    spawn_rate: float = 10
    duration: str = "1m"
    speed: float = 60
    out: Path = Path("out/loadtest")
    dialect: str = "ordo"
    template: str = ""
    job_duration: str = ""
    outcome: str = ""
    ui: bool = False
    seed: int = 1
    workers: int = 0  #: Locust worker processes under a master (0: one local process)


def swarm_file(plan: Plan) -> str:
    """A locustfile with a user class per strategy, equal weights."""
    lines = [
        '"""The swarm of one pollsim loadtest run (written by pollsim; run it again with',
        'locust -f this file)."""',
        "from loadtests.locustfile import PollingUser",
        "",
    ]
    for i, text in enumerate(plan.strategies):
        lines += [
            "",
            f"class Strategy{i + 1}(PollingUser):",
            f"    strategy_text = {text!r}",
            "    weight = 1",
            "",
        ]
    return "\n".join(lines)


def start_server(scenario: str | None, options: list[str]) -> tuple[subprocess.Popen, str]:
    """``pollsim serve`` on a free loopback port, with ``options``; the process and its URL."""
    args = [sys.executable, "-m", "pollsim", "serve", "--port", "0", *options]
    if scenario:
        args.insert(4, scenario)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    if "listening on" not in first:
        proc.kill()
        raise RuntimeError(f"the mock server did not start: {proc.stderr.read().strip()}")
    return proc, first.split("listening on ")[1].strip()


def admin_report(url: str, admin: str) -> dict:
    """The server's ground truth report."""
    req = urllib.request.Request(
        url + "/_admin/report", headers={"Authorization": f"Bearer {admin}"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(15)


def run(plan: Plan) -> dict:
    """Run the plan; the outputs go to ``plan.out``; returns the summary per strategy."""
    plan = replace(plan, out=plan.out.resolve())  # Locust runs in it: no relative paths
    plan.out.mkdir(parents=True, exist_ok=True)
    (plan.out / "swarm.py").write_text(swarm_file(plan))
    token, admin = secrets.token_hex(12), secrets.token_hex(12)  # never "-…": argv
    server = locust = None
    workers: list[subprocess.Popen] = []
    server_busy = 0.0
    try:
        options = ["--speed", str(plan.speed), "--token", f"loadtest={token}"]
        server, url = start_server(plan.scenario, [*options, "--admin-token", admin])
        base = [sys.executable, "-m", "locust", "-f", str(plan.out / "swarm.py")]
        common = ["--token", token, "--dialect", plan.dialect, "--seed", str(plan.seed)]
        common += ["--pollsim-csv", str(plan.out / "jobs.csv")]
        for flag, value in (
            ("--template", plan.template),
            ("--job-duration", plan.job_duration),
            ("--outcome", plan.outcome),
        ):
            if value:
                common += [flag, value]
        args = [*base, *common, "--host", url, "-u", str(plan.users), "-r", str(plan.spawn_rate)]
        args += ["-t", plan.duration, "--csv", str(plan.out / "locust")]
        args += ["--html", str(plan.out / "locust.html")]
        args += ["--json-file", str(plan.out / "locust_stats"), "--only-summary"]
        if plan.ui:
            args += ["--web-host", "127.0.0.1", "--autostart", "--autoquit", "5"]
        else:
            args += ["--headless"]
        if plan.workers:
            port = free_port()
            args += ["--master", "--master-bind-host", "127.0.0.1"]
            args += ["--master-bind-port", str(port), "--expect-workers", str(plan.workers)]
        log = (plan.out / "locust.log").open("w")
        cpu0, wall0 = cpu_seconds(server.pid), time.monotonic()
        locust = subprocess.Popen(args, cwd=plan.out, stderr=log)
        for _ in range(plan.workers):
            worker = [*base, *common, "--worker", "--master-host", "127.0.0.1"]
            worker += ["--master-port", str(port)]
            workers.append(subprocess.Popen(worker, cwd=plan.out, stderr=log))
        locust.wait()
        server_busy = (cpu_seconds(server.pid) - cpu0) / max(time.monotonic() - wall0, 1e-9)
        for w in workers:
            w.wait(30)
        if locust.returncode not in (0, 1):  # 1: some requests failed, a result too
            raise RuntimeError(f"locust exited with status {locust.returncode}")
        if not (plan.out / "locust_stats.csv").exists():
            raise RuntimeError(f"locust wrote no results; see {plan.out / 'locust.log'}")
        merge_jobs(plan.out / "jobs.csv")
        report = admin_report(url, admin)
        (plan.out / "truth.json").write_text(json.dumps(report, indent=2))
    finally:
        for w in workers:
            stop(w)
        stop(locust)
        stop(server)
    summary = summarise(plan.out / "jobs.csv", report)
    summary["warnings"] = saturation(plan.out / "locust.log", server_busy)
    from loadtests.report import write

    write(plan.out, summary)
    (plan.out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (user and system), from /proc; 0 where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def saturation(log: Path, server_busy: float) -> list[str]:
    """Why the measured latencies may not be trusted: the load generator said it was
    short of CPU (Locust warns above 90%), or the server kept a core 90% busy."""
    warnings = []
    text = log.read_text(errors="replace") if log.exists() else ""
    if "CPU usage above" in text or "CPU usage was too high" in text:
        warnings.append(
            "the load generator was CPU-saturated (see locust.log): latencies measured "
            "then are not to be trusted; use fewer users or --workers"
        )
    if server_busy > 0.9:
        warnings.append(
            f"the mock server kept a core {server_busy:.0%} busy: it was saturated, and "
            "latencies measured then are not to be trusted"
        )
    return warnings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def merge_jobs(path: Path) -> None:
    """The workers' per-job files into one (a single process wrote it whole already)."""
    parts = sorted(path.parent.glob(f"{path.stem}.worker-*{path.suffix}"))
    if not parts:
        return
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = None
        for part in parts:
            with part.open(newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                if writer is None:
                    writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
                    writer.writeheader()
                writer.writerows(reader)
            part.unlink()


def summarise(jobs_csv: Path, report: dict) -> dict:
    """Per strategy: jobs finished, polls per job, detection latency p50/p95 (simulated
    seconds, as the clients measured it), give-ups; and the server's requests."""
    rows = list(csv.DictReader(jobs_csv.open())) if jobs_csv.exists() else []
    out: dict = {}
    for strategy in sorted({r["strategy"] for r in rows}):
        mine = [r for r in rows if r["strategy"] == strategy]
        lat = sorted(float(r["latency_s"]) for r in mine if r["latency_s"])
        out[strategy] = {
            "jobs": len(mine),
            "polls_per_job": sum(int(r["polls"]) for r in mine) / len(mine),
            "gave_up": sum(r["gave_up"] == "True" for r in mine),
            "detection_latency_s": {"p50": _q(lat, 0.5), "p95": _q(lat, 0.95)},
        }
    out["server"] = {
        "requests": sum(r["count"] for r in report["totals"]["requests"]),
        "injected_faults": report["totals"].get("injected_faults", {}),
    }
    return out


def _q(values: list[float], p: float) -> float | None:
    """A percentile as the simulation's summaries take them (numpy's); None of nothing."""
    return float(np.percentile(values, p * 100)) if values else None
