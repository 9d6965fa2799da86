"""SIGTERM and Ctrl-C stop the server within about a second, whatever it is doing.

The signal is taken by a plain ``signal.signal`` handler, which Python runs between two
bytecodes of the main thread even while the event loop is busy with a long computation
(``loop.add_signal_handler`` would wait for the loop to come round). The handler asks the
loop to stop; a watchdog thread ends the process if it has not ended ``grace`` seconds
later, and a second signal ends it at once. A stop that had to be forced flushes what it
can (``on_force``), says so in one line and exits 128 + the signal's number, as a process
killed by it would; a stop that went well exits 0.

Writing the ground truth at the end (``--truth-out``) may take longer than the grace: the
server asks for more (``finishing``) before it begins, and the watchdog waits that long
instead; a second signal still ends the process at once (the file is written whole or
not at all: ``mock_server.truth_out``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
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
        self._until = 0.0  #: monotonic time the watchdog waits to at least (``finishing``)
        self._doing = ""  #: what the server is finishing, for the forced stop's line
        self._why = ""  #: why the stop was forced, when it was

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
            self._why = "a second signal came"
            self.force()
        self._signum = signum
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                self._loop.call_soon_threadsafe(self.stopped.set)
        threading.Thread(target=self._watchdog, name="stop-watchdog", daemon=True).start()

    def finishing(self, seconds: float, doing: str) -> None:
        """The server has more to do before it ends (``doing``, in words): a stop is not
        forced before ``seconds`` from now."""
        self._until = max(self._until, time.monotonic() + seconds)
        self._doing = doing

    def _watchdog(self) -> None:
        started = time.monotonic()
        deadline = started + self.grace
        while not self._finished.wait(max(0.0, deadline - time.monotonic())):
            if self._until <= deadline:
                self._why = f"still busy {time.monotonic() - started:.1f} s after the signal"
                self.force()
                return
            deadline = self._until

    def force(self) -> None:
        """End the process now: what can be flushed is, and one line says why."""
        if self.on_force is not None:
            with contextlib.suppress(Exception):
                self.on_force()
        name = signal.Signals(self._signum).name if self._signum else "a signal"
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            doing = self._doing or "the requests in progress"
            print(
                f"pollsim serve: stopped on {name} without finishing {doing} "
                f"({self._why or 'forced'})",
                file=sys.stderr,
                flush=True,
            )
        os._exit(128 + (self._signum or signal.SIGTERM))
