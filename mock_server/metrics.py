"""Prometheus metrics at ``/metrics``: requests by dialect and HTTP status, status answers
by the state they showed, injected faults, jobs by state, and request latency. Counts are
read from the ground truth when scraped, so nothing is counted twice."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

if TYPE_CHECKING:
    from mock_server.core import Core

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "pollsim_request_seconds",
            "Time to answer a request, injected latency and long-polls included",
            ["dialect"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.registry.register(self)

    def observe(self, dialect: str, seconds: float) -> None:
        self.latency.labels(dialect).observe(seconds)

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
        jobs = GaugeMetricFamily("pollsim_jobs", "Jobs by their true state", labels=["state"])
        self.core.model.advance()
        counts = Counter(j.state.value for j in self.core.model.lifecycle.jobs.values())
        for state, n in sorted(counts.items()):
            jobs.add_metric([state], n)
        yield jobs

    def render(self) -> bytes:
        return generate_latest(self.registry)
