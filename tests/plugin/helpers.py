"""What the plugin's tests share: whether a process is still alive, which processes a
pytester run left behind, and the inner run's arguments."""

from __future__ import annotations

import os
from pathlib import Path

#: every inner run: no cache folder, one process (the user's suite as it runs by default)
INNER = ("-p", "no:cacheprovider", "-p", "no:xdist")


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's: exists
        return True
    status = Path(f"/proc/{pid}/status")
    try:
        return "\nState:\tZ" not in status.read_text()
    except OSError:
        return False


def processes_under(path: Path) -> list[int]:
    """The pids of processes whose command line names something under ``path`` (every
    server the plugin starts names its token file, kept in the run's temp folder)."""
    found = []
    mark = str(path).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if mark in cmdline and alive(int(entry.name)):
            found.append(int(entry.name))
    return found
