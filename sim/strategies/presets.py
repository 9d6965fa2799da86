"""Strategies of real clients, by name: the seeds' clients and the defaults of the pollers
people actually run."""

from __future__ import annotations

from dataclasses import replace

from sim.strategies.poll import Strategy
from sim.strategies.stops import after_delay, after_polls
from sim.strategies.waits import (
    at_once_on_error,
    exponential,
    fixed,
    full_jitter,
    per_status,
    retry_after,
)


def _named(name: str, s: Strategy) -> Strategy:
    return replace(s, name=name)


PRESETS: dict[str, Strategy] = {
    s.name: s  # type: ignore[misc]
    for s in (
        # the seeds' clients
        _named("ordo-js", Strategy(fixed(3))),  # every 3 s, no deadline
        _named("generic-js", fixed(2) | after_delay(60)),  # polls through errors
        _named("fiddler-py", per_status(fixed(10), retry_wait=fixed(30)) | after_delay(3600)),
        # pollers people run
        _named("botocore-waiter", Strategy(fixed(15), after_polls(40), first=0)),
        _named("azure-lro", Strategy(retry_after(fixed(30)))),  # Retry-After wins
        _named("google-lro", full_jitter(exponential(1, 1.5, max=20)) | after_delay(900)),
        _named("smithy-waiter", Strategy(full_jitter(exponential(2, 2, max=120), min=2))),
        _named("celery-get", Strategy(fixed(0.5))),
        _named("fiddler-client", at_once_on_error(fixed(6)) | after_delay(1800)),
    )
}
