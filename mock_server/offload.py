"""Answers too long to build on the event loop (the ground truth's report): the core,
which knows no event loop, hands the front an ``Offload``; the front awaits ``run``,
which builds the answer in a worker thread while the loop goes on serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mock_server.responses import error

if TYPE_CHECKING:
    from mock_server.responses import Response


@dataclass(frozen=True)
class Offload:
    """An answer to build off the loop: ``build(stop)`` returns it, and gives up soon
    after ``stop`` is set (the request went away, or the server is stopping)."""

    build: Callable[[threading.Event], Response]
    stop: threading.Event = field(default_factory=threading.Event)

    async def run(self, gone: asyncio.Future | None = None) -> Response:
        """The answer, built in a daemon thread (one that never holds up the process's
        exit). Cancelling this, or ``gone`` (the client hung up) coming first, asks the
        build to stop; the answer then, to nobody, is a 503."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Response] = loop.create_future()

        def work() -> None:
            answer, error = None, None
            try:
                answer = self.build(self.stop)
            except BaseException as exc:  # handed to the loop, raised there
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(_settle, done, answer, error)

        threading.Thread(target=work, name="offload", daemon=True).start()
        try:
            if gone is not None:
                await asyncio.wait((done, gone), return_when=asyncio.FIRST_COMPLETED)
                if not done.done():
                    return error(503, "gone", "the client hung up before its answer was built")
            return await done
        finally:
            self.stop.set()
            if not done.done():
                done.cancel()  # what the build ends with is for nobody


def _settle(done: asyncio.Future, answer: Response | None, exc: BaseException | None) -> None:
    if done.done():  # cancelled meanwhile
        return
    if exc is not None:
        done.set_exception(exc)
    else:
        done.set_result(answer)
