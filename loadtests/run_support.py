"""What ``pollsim loadtest`` and ``compare`` ask of the server and of the machine around
a swarm: the server's ground truth and its request journal over the admin API, the CPU a
process used, whether the run was saturated, a free port, and the workers' per-job
files merged into one."""

from __future__ import annotations

import csv
import json
import os
import socket
import urllib.request
from pathlib import Path


def admin_report(url: str, admin: str, until: float | None = None) -> dict:
    """The server's ground truth; with ``until`` (simulated seconds: when the clients
    were stopped), jobs still watched then are unfinished, not given up."""
    query = "" if until is None else f"?until={until:.3f}"
    req = urllib.request.Request(
        url + "/_admin/report" + query, headers={"Authorization": f"Bearer {admin}"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)


def fetch_journal(url: str, admin: str, path: Path) -> None:
    """The server's request journal (``GET /_admin/requests``, as many records as it
    keeps), to ``path``; nothing written where the server does not give it."""
    req = urllib.request.Request(
        url + "/_admin/requests?limit=100000", headers={"Authorization": f"Bearer {admin}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            path.write_bytes(resp.read())
    except OSError:
        path.unlink(missing_ok=True)


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
