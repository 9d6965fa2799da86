"""What ``pollsim loadtest`` shows while its swarm runs: a line of where the run stands
(time, users, requests per second, jobs watched and seen to their end, failed requests),
read from the file the Locust process writes once a second
(``loadtests.locust_progress``).

On a terminal the line is redrawn in place every second; elsewhere (a CI log, a file) a
line is printed every ``QUIET_EVERY`` seconds at most, so that a log shows the run going
on without filling up, and a last line when the swarm has ended, in both cases. The
display never touches the swarm: it reads a file Locust writes anyway.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import TextIO

LIVE_EVERY = 1.0  #: wall seconds between redraws on a terminal
QUIET_EVERY = 10.0  #: wall seconds between lines elsewhere
PREFIX = "loadtest: "  #: every progress line's start (pollsim's own lines say "pollsim:")
TAB = "pollsim"  #: the web UI's Polling tab's key: ``/?tab=pollsim`` opens the UI on it


def read(path: Path) -> dict | None:
    """The progress file's figures; None where there is none yet (Locust still starting)
    or it cannot be read."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def line(elapsed: float, duration: float, doc: dict | None, final: bool = False) -> str:
    """The progress line: wall seconds since the swarm was started, of ``duration`` (its
    run time), and the swarm's figures (``doc``; None: Locust still starting).

    >>> doc = {"users": 40, "target_users": 40, "requests_per_s": 85.25, "requests": 900,
    ...        "finished": 100, "watching": 40, "seen_ended": 96, "failures": 0}
    >>> line(12.04, 60, doc)[:50]
    'loadtest: 12 s of 60 s  users 40/40  85.2 requests'
    >>> line(12.04, 60, doc)[50:]
    '/s  jobs watched 140 (40 now), 96 seen ended  errors 0'
    """
    head = f"{PREFIX}{'done after ' if final else ''}{elapsed:.0f} s"
    head += "" if final else f" of {duration:.0f} s"
    if doc is None:
        return f"{head}  starting Locust"
    target = doc.get("target_users")
    users = f"{doc.get('users', 0)}" + (f"/{target}" if target else "")
    if final:  # none are left at the end: the most there were
        users = f"{doc.get('peak_users', doc.get('users', 0))} at most"
    watching = int(doc.get("watching", 0))
    watched = int(doc.get("finished", 0)) + watching
    jobs = f"jobs watched {watched:,}" + (f" ({watching:,} now)" if not final else "")
    rate = f"{float(doc.get('requests_per_s', 0.0)):.1f} requests/s"
    if final:
        rate = f"{int(doc.get('requests', 0)):,} requests"
    return (
        f"{head}  users {users}  {rate}  {jobs}, {int(doc.get('seen_ended', 0)):,} seen "
        f"ended  errors {int(doc.get('failures', 0)):,}"
    )


class Display:
    """Shows the run's progress on ``stream`` (stderr by default): a line redrawn in
    place on a terminal, a line every ``QUIET_EVERY`` seconds elsewhere, and a last line
    either way (:meth:`close`). Call it with the wall seconds since the swarm started,
    as often as you like; it reads the file only when a line is due."""

    def __init__(
        self, path: Path, duration: float, stream: TextIO | None = None, live: bool | None = None
    ) -> None:
        self.path = path
        self.duration = duration
        self.stream = sys.stderr if stream is None else stream
        self.live = _is_terminal(self.stream) if live is None else live
        self.every = LIVE_EVERY if self.live else QUIET_EVERY
        self.shown: float | None = None  #: when the last line was shown
        self.drawn = False  #: a live line is on the screen, unfinished
        self.updates = 0  #: lines shown (or redrawn) so far
        self.last = 0.0

    def __call__(self, elapsed: float) -> None:
        self.last = elapsed
        if self.shown is not None and elapsed - self.shown < self.every:
            return
        if self.shown is None and not self.live and elapsed < self.every:
            return  # elsewhere, the first line after QUIET_EVERY seconds, not at once
        self.shown = elapsed
        self._show(line(elapsed, self.duration, read(self.path)))

    def note(self, text: str) -> None:
        """A line of its own (where the web UI is, say), above the live line."""
        self._clear()
        print(text, file=self.stream, flush=True)

    def close(self, elapsed: float | None = None) -> None:
        """The last line, from the swarm's final figures; the live line ends there."""
        elapsed = self.last if elapsed is None else elapsed
        self._show(line(elapsed, self.duration, read(self.path), final=True))
        if self.live:
            self.stream.write("\n")
            self.drawn = False
        self.stream.flush()

    def _show(self, text: str) -> None:
        self.updates += 1
        if self.live:
            width = shutil.get_terminal_size((100, 24)).columns - 1
            self.stream.write("\r" + text[:width] + "\x1b[K")
            self.stream.flush()
            self.drawn = True
        else:
            print(text, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.drawn = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
