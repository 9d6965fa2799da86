"""What a run measured of itself, for tolerances that hold on a busy machine: round
trips as Locust timed them, turned into simulated seconds; and which processes a run
left behind."""

from __future__ import annotations

import csv
from pathlib import Path


def round_trip(
    stats_csv: Path, name: str, speed: float, column: str = "Max Response Time"
) -> float:
    """Simulated seconds of a round trip to ``name`` (Locust's row, or rows: one a
    strategy, ``name · strategy``, the largest taken; its longest by default, or another
    column of ``locust_stats.csv`` such as ``95%``)."""
    from loadtests.failures import is_named

    with stats_csv.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if is_named(r["Name"], name)]
    assert rows, f"no row of {name} in {stats_csv}"
    return max(float(row[column]) for row in rows) / 1000 * speed


def mentioning(text: str) -> list[str]:
    """Command lines of the processes that mention ``text`` (a run's folder: its
    children, if any are left)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmd:
                found.append(cmd)
    return found
