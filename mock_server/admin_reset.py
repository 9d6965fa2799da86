"""``POST /_admin/reset``: the server as if just started, between two test cases (WireMock's
``POST /__admin/reset``). Jobs, the ground truth, the request journal, the faults (back
to the scenario's, their generator at its start) and the scaled clock (at 0) start over;
tokens, the configuration, the request log's file and /metrics' request latencies (the
server's own speed, not the run's) stay.

Everything is made anew and swapped in at once, on the event loop between two requests,
so that no request sees half a reset. What a request in progress holds of the old run (a
held long-poll, an injected delay, a report being built) stays with it: a reset wakes
every such wait at once (``mock_server.holding``), freeing its long-poll slot, and a
request that began before the reset leaves no trace after it (no journal record, no
ground truth). Job ids go on from the
old run's (``LiveModel.restarted``): a client of the old run asking about its job gets a
404, never another test case's job of the same id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.admin_query import unknown
from mock_server.responses import Request, Response, error, ok

if TYPE_CHECKING:
    from mock_server.core import Core


def answer(core: Core, req: Request) -> Response:
    if req.method != "POST":
        return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="POST")
    bad = unknown(req.query, "/_admin/reset", ())
    if bad is not None:
        return bad
    return ok(200, reset(core))


def reset(core: Core) -> dict:
    """Start the run over (see the module): ``{"reset": true, "now": 0.0}``."""
    old = core.model
    model = old.restarted()
    truth = core.truth.restarted()
    faults = core.faults.restarted()
    # swapped together: nothing runs on the loop in between
    core.model, core.truth, core.faults = model, truth, faults
    core.showing.clock = model.clock  # what job documents date their times by
    # /metrics counts jobs by state at most once a second: not the old run's jobs again;
    # its counters read the ground truth, and start over with it (as after a restart)
    core.metrics._states = None
    old.close()  # freed now, frozen or not (see LiveModel.close)
    core.waker.wake()  # the old run's held requests answer now, freeing their slots
    return {"reset": True, "now": float(model.advance())}
