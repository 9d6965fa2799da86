"""Prometheus metrics at ``/metrics``: requests by dialect and HTTP status, status answers
by the state they showed, injected faults, the server's own failures (apart from them),
jobs by state, request latency, and the HTTP front's slots and connections. Counts are
read from the ground truth and the front when scraped, so nothing is counted twice."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from sim.dialects import DIALECTS

if TYPE_CHECKING:
    from mock_server.admission import Admission
    from mock_server.core import Core
    from mock_server.protocol import Watch

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


STATES_EVERY = 1.0  #: seconds a count of jobs by state is shown before it is made again
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The server's collector. Latency is kept in plain bucket counts (one bisect per
    request, on a single-threaded server) and exposed as a histogram when scraped."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.registry = CollectorRegistry()
        self._latency: dict[str, list] = {}  # dialect -> [counts per bucket and +Inf, sum]
        self._front: tuple[Admission, Watch] | None = None
        self._states: tuple[float, Counter] | None = None  #: when counted, jobs by state
        self.registry.register(self)

    def attach(self, admission: Admission, watch: Watch) -> None:
        """The HTTP front's slots and connections, shown too."""
        self._front = (admission, watch)

    def _job_states(self) -> Counter:
        """Jobs by their true state, counted at most once a second: counting 100,000 jobs
        takes the event loop 30-50 ms, which a flood of scrapes must not multiply."""
        now = time.monotonic()
        if self._states is None or now - self._states[0] >= STATES_EVERY:
            self.core.model.advance()
            counts = Counter(j.state.value for j in self.core.model.lifecycle.jobs.values())
            self._states = (now, counts)
        return self._states[1]

    def observe(self, dialect: str, seconds: float) -> None:
        h = self._latency.get(dialect)
        if h is None:
            h = self._latency[dialect] = [[0] * (len(BUCKETS) + 1), 0.0]
        h[0][bisect_left(BUCKETS, seconds)] += 1
        h[1] += seconds

    def collect(self):
        truth = self.core.truth
        requests = CounterMetricFamily(
            "pollsim_requests", "Requests by dialect and HTTP status", labels=["dialect", "code"]
        )
        for (dialect, code), n in sorted(truth.requests.items()):
            requests.add_metric([dialect, str(code)], n)
        yield requests
        shown = CounterMetricFamily(
            "pollsim_status_answers", "Status answers by the job state shown", labels=["state"]
        )
        for state, n in sorted(truth.shown.items()):
            shown.add_metric([state], n)
        yield shown
        faults = CounterMetricFamily(
            "pollsim_injected_faults", "Faults injected, by kind", labels=["kind"]
        )
        for kind, n in sorted(truth.injected.items()):
            faults.add_metric([kind], n)
        yield faults
        failed = CounterMetricFamily(
            "pollsim_server_errors",
            "The server's own failures (500 for a bug of ours), by dialect; not injected faults",
            labels=["dialect"],
        )
        # every dialect, at 0 too: an alert on a rise needs the series to exist
        for dialect in sorted({*DIALECTS, "other", *truth.server_errors}):
            failed.add_metric([dialect], truth.server_errors.get(dialect, 0))
        yield failed
        if self._front is not None:
            yield from _front(*self._front)
        jobs = GaugeMetricFamily("pollsim_jobs", "Jobs by their true state", labels=["state"])
        for state, n in sorted(self._job_states().items()):
            jobs.add_metric([state], n)
        yield jobs
        latency = HistogramMetricFamily(
            "pollsim_request_seconds",
            "Time to answer a request, injected latency and long-polls included",
            labels=["dialect"],
        )
        for dialect, (counts, total) in sorted(self._latency.items()):
            running, buckets = 0, []
            for bound, n in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                running += n
                buckets.append((bound, running))
            latency.add_metric([dialect], buckets, total)
        yield latency

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _front(admission: Admission, watch: Watch):
    """Slots taken and refused, long-polls held, connections open and cut."""
    yield GaugeMetricFamily(
        "pollsim_requests_in_progress", "Requests being answered", value=admission.in_flight
    )
    yield GaugeMetricFamily(
        "pollsim_long_polls_held", "Long-polls held open", value=admission.long_polls
    )
    yield GaugeMetricFamily(
        "pollsim_bodies_receiving", "Request bodies being received", value=admission.receiving
    )
    refused = CounterMetricFamily(
        "pollsim_refused",
        "Requests refused for want of a slot (503: overloaded, receiving; 429: long-poll "
        "caps), by reason",
        labels=["reason"],
    )
    for reason, n in sorted(admission.refused.items()):
        refused.add_metric([reason], n)
    yield refused
    yield GaugeMetricFamily("pollsim_connections_open", "Client connections", value=len(watch.open))
    yield CounterMetricFamily(
        "pollsim_connections_cut",
        "Connections dropped for a request not received within the request deadline",
        value=watch.cut,
    )
