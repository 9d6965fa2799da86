"""The ground truth outliving the server: ``pollsim serve --truth-out FILE`` writes the
report (``GET /_admin/report``'s JSON, with ``until`` the end of the run: a client that
had stopped asking well before it gave up) when the server stops, on Ctrl-C, SIGTERM or
any other end; and the server prints a one-screen summary of the run then.

The file is written whole or not at all: into a temporary file beside it, then renamed
over it (a reader never sees half a report; a stop forced meanwhile leaves the old file,
or none, and the temporary one is removed on the next write).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from pollsim.tables import Column, render

if TYPE_CHECKING:
    from mock_server.core import Core

MAX_ROWS = 10  #: clients listed one by one in the summary; the rest in one line


def writable(path: str | Path) -> str | None:
    """Why the truth could not be written to ``path`` when the server stops, checked
    before it starts (None: it can): its folder must exist and take a new file."""
    if not str(path):
        return "empty; expected a file name"
    target = Path(path)
    if target.is_dir():
        return f"{target} is a folder; expected a file name"
    folder = target.parent
    if not folder.is_dir():
        return f"no folder {folder}"
    if _special(target):  # /dev/null, a FIFO: written directly, no temporary file
        return None if os.access(target, os.W_OK) else f"cannot write to {target}"
    _remove_stale(target)
    probe = _temporary(target)
    try:
        probe.open("wb").close()
        probe.unlink()
    except OSError as exc:
        return f"cannot write in {folder}: {exc.strerror or exc}"
    return None


def write(core: Core, path: str | Path) -> dict:
    """The ground truth at the end of the run, written to ``path`` atomically: the
    report, as a dict, for the summary."""
    import json

    from mock_server.admin_report import builder

    until = core.model.advance()
    data = builder(core, until)(None)
    target = Path(path)
    if _special(target):
        with target.open("wb") as f:
            f.write(data)
        return json.loads(data)
    temporary = _temporary(target)
    try:
        with temporary.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return json.loads(data)


def _temporary(target: Path, pid: int | None = None) -> Path:
    return target.with_name(f".{target.name}.{os.getpid() if pid is None else pid}.tmp")


def _special(target: Path) -> bool:
    """Whether the target exists and is no regular file (a character device such as
    /dev/null, a FIFO): a rename would replace it with a regular file."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _remove_stale(target: Path) -> None:
    """Remove the temporary files of earlier servers that died while writing ``target``
    (``.NAME.PID.tmp`` of a pid no longer running)."""
    prefix = f".{target.name}."
    with contextlib.suppress(OSError):
        for entry in target.parent.iterdir():
            pid = entry.name.removeprefix(prefix).removesuffix(".tmp")
            if not entry.name.startswith(prefix) or not entry.name.endswith(".tmp"):
                continue
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    entry.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def summary(report: dict, wall: float, made: int, written: str | None) -> str:
    """The run on one screen: how long, what the server answered, then per client (the
    busiest ``MAX_ROWS``) and in all, jobs, polls, how they ended for the client and the
    detection latency. ``made``: the jobs the server made (submitted, or the scenario's)."""
    totals = report["totals"]
    requests = sum(r["count"] for r in totals["requests"])
    clients = report["clients"]
    lines = [
        f"pollsim serve: stopped after {_duration(wall)} of wall time; "
        f"{_duration(report.get('now', 0.0))} simulated since the run began (at the start "
        f"or the last reset); {requests:,} requests from "
        f"{_n(len(clients), 'client')}; {_n(made, 'job')} made, "
        f"{len({r['job_id'] for r in report['jobs']}):,} asked about"
    ]
    if requests:
        lines.append("  answers: " + _answers(totals))
    if clients:
        busiest = sorted(clients, key=lambda c: (-c["polls"], c["client"]))[:MAX_ROWS]
        rows = [_row(c["client"], c) for c in busiest]
        rows.append(_row("(all)", totals))  # apart from a client named all
        lines += render(COLUMNS, rows)
        if len(clients) > MAX_ROWS:
            lines.append(f"  ({len(clients) - MAX_ROWS:,} more clients; the file has them all)")
    if written is not None:
        lines.append(f"  ground truth written to {written}")
    return "\n".join(lines)


COLUMNS = [
    Column("client", "<"),
    Column("jobs"),
    Column("polls"),
    Column("seen ended", group="of which"),
    Column("gave up", group="of which"),
    Column("errored", group="of which"),
    Column("unfinished", group="of which"),
    Column("Retry-After violations"),
    Column("p50 (s)", group="detection latency"),
    Column("p95 (s)", group="detection latency"),
]


def _row(name: str, s: dict) -> list[str]:
    ended = s["jobs"] - s["gave_up"] - s["errored"] - s["unfinished"]
    lat = s["detection_latency_s"] or {}
    return [
        name if len(name) <= 30 else name[:29] + "…",
        f"{s['jobs']:,}",
        f"{s['polls']:,}",
        f"{ended:,}",
        f"{s['gave_up']:,}",
        f"{s['errored']:,}",
        f"{s['unfinished']:,}",
        f"{s['retry_after_violations']:,}",
        _seconds(lat.get("p50")),
        _seconds(lat.get("p95")),
    ]


def _answers(totals: dict) -> str:
    """Requests by HTTP status (0: no answer), the injected faults among them."""
    by_status: dict[int, int] = {}
    for r in totals["requests"]:
        by_status[r["http_status"]] = by_status.get(r["http_status"], 0) + r["count"]
    text = ", ".join(f"{'no answer' if s == 0 else s}: {n:,}" for s, n in sorted(by_status.items()))
    injected = totals.get("injected_faults") or {}
    if injected:
        text += "; injected: " + ", ".join(f"{k} {n:,}" for k, n in injected.items())
    if totals.get("server_errors"):
        text += f"; the server's own errors (bugs): {totals['server_errors']:,}"
    return text


def _n(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _duration(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, s = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {s:02d}s"
    hours, m = divmod(minutes, 60)
    return f"{hours}h {m:02d}m"
