"""The front's half of the request journal: each request to a dialect's paths, as it
arrived and as it was answered, into the ground truth's ring (``Journal.Ring``), whatever
became of it: answered, refused for want of a slot, cut by an injected fault (status 0).

The server's own paths (``/_admin``, ``/healthz``, ``/metrics``, ``/openapi.json``) are
not journaled, as WireMock leaves its ``/__admin`` out: a test's own checks would crowd
out the requests of the client under test.

What only the core knows of a status request (the job, the state shown, the Retry-After
asked for in simulated seconds, the fault injected) is what it recorded in the ground
truth; ``Truth.noted`` holds it until the front takes it, right after the synchronous
call that recorded it (nothing else runs on the loop in between).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mock_server.admission import operator
from mock_server.model import BACKGROUND
from mock_server.truth import readable
from sim.dialects import match

if TYPE_CHECKING:
    from mock_server.core import Core
    from mock_server.truth import Truth

_OWN = frozenset({"/openapi.json", "/_admin"})


class Entry:
    """One request on its way through the front: when it arrived, and what the core
    noted of it. ``truth`` is the run it arrived in: after a reset it is recorded nowhere."""

    __slots__ = ("first", "noted", "t", "truth", "wall")

    def __init__(self, core: Core) -> None:
        self.truth: Truth = core.truth
        self.t = core.model.clock.now()
        self.wall = time.time()
        self.noted: tuple | None = None
        self.first = 0  #: the next job id before the core's first call (a submission's)

    def before(self, core: Core) -> None:
        """Before a call of the core that may record a status request or make a job."""
        core.truth.noted = None
        if not self.first:
            self.first = core.model.next_id

    def after(self, core: Core) -> None:
        """After it: what it noted, if anything."""
        noted = core.truth.noted
        if noted is not None:
            self.noted = noted
            core.truth.noted = None


def journaled(path: str) -> bool:
    """Whether requests to ``path`` go into the journal (see the module)."""
    return not (operator(path) or path in _OWN)


def record(
    core: Core,
    entry: Entry,
    request,
    dialect: str,
    status: int,
    retry_after: str | None,
    took: float,
) -> None:
    """Put the request into the journal, if its run is still the server's."""
    truth = core.truth
    if truth is not entry.truth:
        return
    noted = entry.noted
    if noted is not None:
        _t, client, job_id, shown, _status, asked, injected = noted
    else:
        client = readable(core.client(request))
        job_id, shown, injected = _job(core, entry, request), None, None
        asked = None
        if retry_after is not None and retry_after.isdigit() and len(retry_after) < 12:
            asked = int(retry_after) * core.model.clock.speed
    ring = truth.ring
    ring.add(
        (
            entry.t,
            entry.wall,
            request.method,
            ring.share(request.path),
            dialect,
            ring.share(client),
            job_id,
            status,
            asked,
            injected,
            shown,
            took,
        )
    )


def _job(core: Core, entry: Entry, request) -> int | None:
    """The job a request other than a status request was about: the one its path names
    (an action, a resource), or the one it made (a submission); None for none."""
    model = core.model
    if entry.first and model.next_id == entry.first + 1:
        rec = model.records.get(entry.first)
        if rec is not None and rec.tenant != BACKGROUND:
            return entry.first  # the only job made meanwhile, and not by the scenario
    hit = match(request.path)
    if hit is None:
        return None
    text = hit.params.get("id")
    if text is None:
        return None
    job_id = hit.dialect.read_id(text, core.seed)
    return job_id if job_id is not None and job_id in model.records else None
