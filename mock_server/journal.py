"""The request log, when asked for: a JSON line per status request, up to a size cap;
entries past it are dropped and counted (the report says how many), never lost silently.
A log that cannot be written (a full disk) drops entries the same way and says why: the
requests are answered whatever becomes of their log.

And the request journal kept in memory whatever is asked (``Ring``): every request to a
dialect's paths, the latest ones, for ``GET /_admin/requests`` (``mock_server.admin_journal``).
"""

from __future__ import annotations

import json
from collections import deque
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


#: a request the ring holds, as a tuple (a record is about RECORD_BYTES; see ``Ring``):
#: t, wall, method, path, dialect, client, job_id, status, retry_after, injected, shown,
#: took (see ``mock_server.journaling``)
FIELDS = (
    "t",
    "wall",
    "method",
    "path",
    "dialect",
    "client",
    "job_id",
    "status",
    "retry_after",
    "injected",
    "shown",
    "took",
)
MAX_RECORDS = 100_000  #: records the ring holds, by default
#: what a record holds, measured (tests/mock_server/test_admin_journal.py): a status
#: request of a client polling one of 5,000 jobs, its strings shared
RECORD_BYTES = 260


class Ring:
    """The request journal served at ``GET /_admin/requests``: the latest ``cap``
    requests, always kept (the oldest dropped and counted past the cap), each a tuple
    of ``FIELDS``, about ``RECORD_BYTES`` each: a client polls the same path many times,
    so the records share one copy of each path and client id (``share``) rather than
    each holding the request's own (about 370 bytes a record then)."""

    __slots__ = ("_shared", "cap", "dropped", "records")

    def __init__(self, cap: int = MAX_RECORDS) -> None:
        self.cap = cap
        self.records: deque[tuple] = deque(maxlen=cap)
        self.dropped = 0  #: records pushed out by newer ones
        self._shared: dict[str, str] = {}

    def share(self, text: str) -> str:
        """The copy of ``text`` the records share (at most ``cap`` kept for sharing:
        past that the table starts afresh; records keep the copies they hold)."""
        shared = self._shared
        got = shared.get(text)
        if got is None:
            if len(shared) >= self.cap:
                shared.clear()
            got = shared[text] = text
        return got

    def add(self, record: tuple) -> None:
        records = self.records
        if len(records) == self.cap:
            self.dropped += 1
        records.append(record)

    def clear(self) -> int:
        """Forget every record (the count of drops too): how many there were."""
        n = len(self.records)
        self.records.clear()
        self._shared.clear()
        self.dropped = 0
        return n

    def __len__(self) -> int:
        return len(self.records)
