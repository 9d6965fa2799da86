"""SIGTERM and Ctrl-C stop the server within about a second, whatever it is doing.

The signal is taken by a plain ``signal.signal`` handler, which Python runs between two
bytecodes of the main thread even while the event loop is busy with a long computation
(``loop.add_signal_handler`` would wait for the loop to come round). The handler asks the
loop to stop; a watchdog thread ends the process if it has not ended ``grace`` seconds
later, and a second signal ends it at once. A stop that had to be forced flushes what it
can (``on_force``), says so in one line and exits 128 + the signal's number, as a process
killed by it would; a stop that went well exits 0, silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable

GRACE = 1.0  #: seconds from the signal to a forced exit
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopper:
    """The signals' handler of one server run, installed before its loop starts (a
    signal while the server starts up stops it too); ``stopped`` is set when asked to
    stop."""

    def __init__(self, grace: float = GRACE) -> None:
        self.grace = grace
        self.on_force: Callable[[], None] | None = None  #: what to flush on a forced exit
        self.stopped = asyncio.Event()
        self._finished = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._signum = 0
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        """Take SIGINT and SIGTERM (from the main thread)."""
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def attach(self) -> None:
        """The running loop is the one to stop (now, if a signal came first)."""
        self._loop = asyncio.get_running_loop()
        if self._signum:
            self.stopped.set()

    def uninstall(self) -> None:
        """The server has ended on its own: no forced exit, the signals as they were."""
        self._finished.set()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame) -> None:
        if self._signum:  # a second signal: no more waiting
            self.force()
        self._signum = signum
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                self._loop.call_soon_threadsafe(self.stopped.set)
        threading.Thread(target=self._watchdog, name="stop-watchdog", daemon=True).start()

    def _watchdog(self) -> None:
        if not self._finished.wait(self.grace):
            self.force()

    def force(self) -> None:
        """End the process now: what can be flushed is, and one line says why."""
        if self.on_force is not None:
            with contextlib.suppress(Exception):
                self.on_force()
        name = signal.Signals(self._signum).name if self._signum else "a signal"
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            print(
                f"pollsim serve: stopped on {name} without finishing the requests in progress "
                f"(still busy {self.grace:g} s after the signal)",
                file=sys.stderr,
                flush=True,
            )
        os._exit(128 + (self._signum or signal.SIGTERM))
