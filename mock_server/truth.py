"""Ground truth: every status request, aggregated as it arrives per client and job, into
the design's metrics. Memory grows with the pairs of client and job, not with requests,
and at most ``max_clients`` client ids are tracked one by one: requests from ids beyond
the cap are still answered and counted, under one entry, ``(overflow)``, which says
about how many ids it holds.

Times are simulated seconds. A client is the ``X-Client-Id`` header, else the token.
Answers the server was told to get wrong (injected faults) are counted apart, so that a
report never mistakes them for the server's own failures. The report itself is built
from a snapshot (``mock_server.truth_report``), off the event loop when served.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from mock_server.distinct import Distinct
from mock_server.journal import MAX_RECORDS, Journal, Ring
from sim.states import JOB_TERMINAL

_TERMINAL = {s.value for s in JOB_TERMINAL}
OVERFLOW = "(overflow)"  #: the one entry for the client ids beyond the cap
MAX_CLIENTS = 100_000  #: client ids tracked one by one, by default (about 50 MiB)


@dataclass(slots=True)
class Pair:
    """What one client did about one job."""

    polls: int = 0  #: status requests
    first: float = math.nan  #: first request
    last: float = math.nan  #: latest request
    gap: float = 0.0  #: the longest time between two of its requests
    t_seen: float = math.nan  #: first answer showing the terminal state
    seen: tuple[str, ...] = ()  #: states answered so far
    wasted: int = 0  #: answers showing a state this client had already seen
    after_seen: int = 0  #: requests after it had already seen the terminal state
    not_before: float = -math.inf  #: a Retry-After given to it asks for no request before
    retry_after_violations: int = 0
    errors: int = 0  #: answers other than 200/304
    injected: int = 0  #: of which injected faults
    #: its latest answer was an error: 4xx but 304, 5xx, no answer, an injected fault
    last_error: bool = False
    era: int = 0  #: the snapshot it was last copied for (a snapshot's pairs never change)

    def copy(self, era: int) -> Pair:
        return Pair(
            self.polls,
            self.first,
            self.last,
            self.gap,
            self.t_seen,
            self.seen,
            self.wasted,
            self.after_seen,
            self.not_before,
            self.retry_after_violations,
            self.errors,
            self.injected,
            self.last_error,
            era,
        )


@dataclass(slots=True)
class Last:
    """A client's latest request of all (changed in place: a request allocates nothing
    the cyclic collector tracks, so it is not woken up by them)."""

    t: float
    job_id: int
    gap: float = 0.0  #: the longest time between two of its requests
    era: int = 0  #: as Pair's


@dataclass(frozen=True)
class Snapshot:
    """The ground truth at one instant, for a report built while requests go on: the
    pairs listed here are never changed again (a request copies a pair first)."""

    pairs: dict[tuple[str, int], Pair]
    clients: dict[str, Last]  #: client -> its latest request of all
    requests: Counter  #: (dialect, HTTP status) -> n
    injected: Counter  #: fault -> n
    overflow: Distinct  #: the ids folded into OVERFLOW
    max_clients: int
    journal: dict | None = None  #: the request log's summary, when there is one
    server_errors: Counter = field(default_factory=Counter)  #: dialect -> our own 500s
    latest: float = -math.inf  #: the latest status request of any client


class Truth:
    """The ground truth of one server run."""

    def __init__(
        self,
        journal: Journal | None = None,
        max_clients: int = MAX_CLIENTS,
        ring_cap: int = MAX_RECORDS,
    ) -> None:
        self.pairs: dict[tuple[str, int], Pair] = {}
        self.clients: dict[str, Last] = {}  #: at most max_clients, and OVERFLOW
        self.max_clients = max_clients
        self.overflow = Distinct()
        self.requests: Counter[tuple[str, int]] = Counter()  #: (dialect, HTTP status) -> n
        self.shown: Counter[str] = Counter()  #: state shown by status answers -> n
        self.injected: Counter[str] = Counter()  #: fault -> n
        self.server_errors: Counter[str] = Counter()  #: dialect -> our own 500s (bugs)
        self.journal = journal  #: every status request as a JSON line, when asked for
        self.ring = Ring(ring_cap)  #: the latest requests, for GET /_admin/requests
        #: the latest status request recorded: (t, client, job_id, shown, http_status,
        #: retry_after, injected); the front reads it into the request's journal record
        self.noted: tuple | None = None
        self.latest = -math.inf  #: the latest status request of any client
        self._era = 0
        self.building = False  #: a report is being written (one at a time: each holds its JSON)

    def status_request(
        self,
        t: float,
        client: str,
        job_id: int,
        shown: str | None,
        http_status: int,
        retry_after: float | None = None,
        injected: str | None = None,
    ) -> None:
        """A status request for a job arrived at ``t`` and was answered: the state it
        showed (canonical; None when the answer showed none), with this HTTP status (0:
        no answer) and Retry-After (simulated seconds). ``injected`` names the fault the
        scenario asked for (latency and dribbled answers still show the state)."""
        if not client.isascii():
            client = _readable(client)
        self.noted = (t, client, job_id, shown, http_status, retry_after, injected)
        if self.journal is not None:
            self.journal.write(
                {
                    "t": t,
                    "client": client,
                    "job_id": job_id,
                    "shown": shown,
                    "http_status": http_status,
                    "retry_after": retry_after,
                    "injected": injected,
                }
            )
        self.shown[shown or "none"] += 1
        clients = self.clients
        last = clients.get(client)
        if last is None or client == OVERFLOW:
            client = self._tracked(client)
            last = clients.get(client)
        # the pair, counted one more request; copied first if a snapshot holds it (inline:
        # this runs for every status request)
        key = (client, job_id)
        p = self.pairs.get(key)
        if p is None:
            p = self.pairs[key] = Pair(0, t, t, era=self._era)
        elif p.era != self._era:
            p = self.pairs[key] = p.copy(self._era)
        p.polls += 1
        if t - p.last > p.gap:
            p.gap = t - p.last
        p.last = t
        if t > self.latest:
            self.latest = t
        if last is None:
            clients[client] = Last(t, job_id, 0.0, self._era)
        else:  # its latest request of all moves to this one
            if last.era != self._era:
                last = clients[client] = Last(last.t, last.job_id, last.gap, self._era)
            if t - last.t > last.gap:
                last.gap = t - last.t
            last.t, last.job_id = t, job_id
        self._answered(p, t, shown, http_status, retry_after, injected)

    def _answered(self, p: Pair, t, shown, http_status, retry_after, injected) -> None:
        """What the answer told the client, on the pair."""
        if t < p.not_before:
            p.retry_after_violations += 1
        if retry_after is not None:
            p.not_before = t + retry_after
        if injected is not None:
            self.injected[injected] += 1
        if http_status == 304 and shown is None:  # If-None-Match: *, nothing shown
            p.last_error = False
            p.wasted += 1
            if not math.isnan(p.t_seen):
                p.after_seen += 1
            return
        if http_status not in (200, 304) or shown is None:
            p.last_error = True  # a client that stops here errored (truth_rows)
            if injected is not None:
                p.injected += 1  # the scenario asked for it: not the server's failure
            else:
                p.errors += 1
            return
        p.last_error = False
        if not math.isnan(p.t_seen):
            p.after_seen += 1
        if shown in p.seen:
            p.wasted += 1
        else:
            p.seen += (shown,)
        if shown in _TERMINAL and math.isnan(p.t_seen):
            p.t_seen = t

    def _tracked(self, client: str) -> str:
        """The client's own entry, or OVERFLOW once the cap is reached (a name no client
        may take: a client calling itself that is folded in as well)."""
        tracked = len(self.clients) - (OVERFLOW in self.clients)
        if tracked < self.max_clients and client != OVERFLOW:
            return client
        self.overflow.add(client)
        return OVERFLOW

    def restarted(self) -> Truth:
        """An empty truth for the same run: the same request log (a file goes on across
        resets), caps and journal size."""
        return Truth(self.journal, self.max_clients, self.ring.cap)

    def count(self, dialect: str, http_status: int) -> None:
        self.requests[dialect, http_status] += 1

    def internal_error(self, dialect: str) -> None:
        """The server failed on a request (a bug of ours, answered 500): never a fault the
        scenario asked for."""
        self.server_errors[dialect] += 1

    def snapshot(self) -> Snapshot:
        """The truth as it stands, in copies of its containers (dicts copied whole, in
        about 10 ms per 100k clients; no pair is copied: later requests copy a pair
        before changing it)."""
        self._era += 1
        return Snapshot(
            self.pairs.copy(),
            self.clients.copy(),
            Counter(self.requests),
            Counter(self.injected),
            self.overflow.copy(),
            self.max_clients,
            self.journal.summary() if self.journal is not None else None,
            Counter(self.server_errors),
            self.latest,
        )

    def report(self, jobs: Callable[[int], dict], now: float, until: float | None = None) -> dict:
        """Per client and job, per client, and in all, built here and now (the server
        builds it off the loop from a snapshot: ``mock_server.truth_report``)."""
        from mock_server.truth_report import build

        return build(self.snapshot(), jobs, now, until)


def readable(name: str) -> str:
    """``name`` as valid Unicode (see ``_readable``), at no cost for ASCII."""
    return name if name.isascii() else _readable(name)


def _readable(name: str) -> str:
    """A client id as valid Unicode: header bytes that were not UTF-8 (carried as lone
    surrogates) become U+FFFD, so that the report is JSON any reader takes and a CSV of
    it can be written."""
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")
