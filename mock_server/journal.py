"""The request log, when asked for: a JSON line per status request, up to a size cap;
entries past it are dropped and counted (the report says how many), never lost silently.
A log that cannot be written (a full disk) drops entries the same way and says why: the
requests are answered whatever becomes of their log.
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
        self.failed: str | None = None  #: why the log could not be written, once it could not
        self._file = self.path.open("a", encoding="utf-8", buffering=1 << 16)

    def write(self, entry: dict) -> None:
        line = json.dumps(entry, separators=(",", ":")) + "\n"  # ASCII: a char is a byte
        if self.failed is not None or self.bytes + len(line) > self.cap:
            self.dropped += 1
            return
        try:
            self._file.write(line)
        except OSError as exc:
            self._fail(exc)
            self.dropped += 1
            return
        self.bytes += len(line)
        self.written += 1

    def flush(self) -> None:
        if self.failed is None:
            try:
                self._file.flush()
            except OSError as exc:
                self._fail(exc)

    def close(self) -> None:
        self.flush()
        try:
            self._file.close()
        except OSError as exc:  # what was left in the buffer could not be written
            self._fail(exc)

    def summary(self) -> dict:
        self.flush()
        out = {
            "path": str(self.path),
            "written": self.written,
            "dropped": self.dropped,
            "bytes": self.bytes,
            "cap": self.cap,
        }
        if self.failed is not None:
            out["failed"] = self.failed
        return out

    def _fail(self, exc: OSError) -> None:
        self.failed = f"{self.path}: {exc.strerror or exc}"
