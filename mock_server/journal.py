"""The request log, when asked for: a JSON line per status request, up to a size cap;
entries past it are dropped and counted (the report says how many), never lost silently.
"""

from __future__ import annotations

import json
from pathlib import Path


class Journal:
    """Appends JSON lines to ``path`` until ``cap`` bytes are written."""

    def __init__(self, path: str | Path, cap: int) -> None:
        self.path = Path(path)
        self.cap = cap
        self.written = 0  #: entries
        self.bytes = 0
        self.dropped = 0
        self._file = self.path.open("a", encoding="utf-8", buffering=1 << 16)

    def write(self, entry: dict) -> None:
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        if self.bytes + len(line) > self.cap:
            self.dropped += 1
            return
        self._file.write(line)
        self.bytes += len(line)
        self.written += 1

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def summary(self) -> dict:
        self.flush()
        return {
            "path": str(self.path),
            "written": self.written,
            "dropped": self.dropped,
            "bytes": self.bytes,
            "cap": self.cap,
        }
