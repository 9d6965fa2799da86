"""The waits of requests the front holds: a long-poll until its job's document changes,
an injected delay, a hung outage. Each ends early when its client hangs up, or when the
server is reset (``mock_server.admin_reset``): a reset wakes every held request at once,
so that none holds a long-poll slot (``mock_server.admission``) into the next test case.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from mock_server.admission import Admission, client_key
from mock_server.injected import long_poll_refused

if TYPE_CHECKING:
    from mock_server.core import Core, Hold, Request, Response
    from mock_server.journaling import Entry


def call_core(core: Core, entry: Entry | None, req: Request | None, call=None, **how):
    """``core.handle(req, **how)`` (or ``call()``), with what it noted of the request
    taken into its journal entry."""
    if entry is None:
        return call() if call is not None else core.handle(req, **how)
    entry.before(core)
    try:
        return call() if call is not None else core.handle(req, **how)
    finally:
        entry.after(core)


async def hold(
    core: Core,
    req: Request,
    held: Hold,
    admission: Admission,
    gone: asyncio.Future | None,
    entry: Entry | None = None,
) -> Response | None:
    """Hold a long-poll until the job's document changes, its wait ends, its client
    hangs up or the server is reset (the job is no more); or the 429 refusing it, when
    the long-polls' caps are full. The slot is free when this returns."""
    client = client_key(req.headers)
    refused = admission.hold(client)
    if refused is not None:  # graded as a status request of its job, with its Retry-After
        return call_core(core, entry, None, partial(long_poll_refused, core, req, held, refused))
    run, woken = core.model, core.waker.future()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + held.wait
        while (
            core.model is run
            and (delay := core.changed(held)) > 0
            and (left := deadline - loop.time()) > 0
        ):
            if await pause(min(delay, left), gone, woken):
                break
    finally:
        admission.release(client)
    return None


async def pause(
    seconds: float, gone: asyncio.Future | None, woken: asyncio.Future | None = None
) -> bool:
    """Wait ``seconds``, or less if the client hangs up or the server is reset
    (``woken`` is done) meanwhile: whether the client hung up."""
    waits = [f for f in (gone, woken) if f is not None]
    if not waits:
        await asyncio.sleep(seconds)
        return False
    if not any(f.done() for f in waits):
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    return gone is not None and gone.done()
