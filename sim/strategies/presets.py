"""Strategies of real clients, by name: the seeds' clients and the defaults of the pollers
people actually run."""

from __future__ import annotations

from dataclasses import replace

from sim.strategies import stops
from sim.strategies.feedback import at_once_on_error, per_http, per_status, retry_after
from sim.strategies.poll import Strategy
from sim.strategies.retries import retries
from sim.strategies.stops import after_delay, after_polls
from sim.strategies.waits import exponential, fixed, for_attempts, full_jitter


def _named(name: str, s: Strategy) -> Strategy:
    return replace(s, name=name)


#: the AWS SDKs' standard retry mode's backoff: full jitter from 50 ms doubling to 20 s,
#: from 1 s for a throttled answer (botocore 1.44.8, @smithy/util-retry)
AWS_RETRY_WAIT = per_http(
    full_jitter(exponential(0.05, 2, max=20)), on=[429], wait=full_jitter(exponential(1, 2, max=20))
)


def smithy_waiter(max_wait: float = 3600) -> Strategy:
    """A waiter per the Smithy 2.0 specification, whose ``maxWaitTime`` its caller sets
    (``smithy-waiter(max_wait='10m')`` in the text form): at once, then uniform(2, min(2 *
    2**k, 120)) s, the last delay cut to poll once at ``max_wait``; an error no acceptor
    matches fails it."""
    return Strategy(
        full_jitter(exponential(2, 2, max=120), min=2),
        stops.max_wait(max_wait, min_delay=2),
        first=0,
        on_error="stop",
    )


PRESETS: dict[str, Strategy] = {
    s.name: s  # type: ignore[misc]
    for s in (
        # the seeds' clients
        # the ordo seed's pollJob: fetches at once, then a 3 s timer; no deadline
        _named("ordo-js", Strategy(fixed(3), first=0)),
        # the generic seed's pollJobStatus: at once, every 2 s, gives up on waking once more
        # than 60 s have passed (31 polls at 0..60); polls through errors
        _named("generic-js", Strategy(fixed(2), after_delay(60, check="wake"), first=0)),
        # the fiddler seed's manual loop: sleeps 10 s before its first refresh, 30 s in retry
        _named("fiddler-py", per_status(fixed(10), retry_wait=fixed(30)) | after_delay(3600)),
        # pollers people run
        # botocore 1.44.8, Waiter.wait (EC2 InstanceRunning: delay 15, 40 attempts) with the
        # standard retry mode: 3 attempts, rand * 2**i * 50 ms (1 s on a throttled 429)
        _named(
            "botocore-waiter",
            Strategy(
                fixed(15),
                after_polls(40),
                first=0,
                retries=retries(2, on=[0, 429, 500, 502, 503, 504], wait=AWS_RETRY_WAIT),
                on_error="stop",
            ),
        ),
        # azure-core 1.41.0, LROPoller + LROBasePolling._poll over RetryPolicy() (defaults)
        _named(
            "azure-lro",
            Strategy(
                retry_after(fixed(30), ignore_zero=True),
                first=0,
                retries=retries(
                    3,
                    on=[0, 408, 429, 500, 502, 503, 504, "506-599"],
                    wait=exponential(1.6, 2, max=120),
                    first=0,
                    retry_after=True,
                    on_retry_after=True,  # any error answer with a Retry-After
                    ignore_zero=True,  # a Retry-After of 0 is falsy: the backoff
                ),
                on_error="stop",
            ),
        ),
        # google-api-core 2.44.0, Operation.result() (DEFAULT_POLLING; REST GetOperation retry)
        _named(
            "google-lro",
            Strategy(
                full_jitter(exponential(1, 1.5, max=20)),
                after_delay(900, check="ahead"),
                first=0,
                retries=retries(on=[503], wait=full_jitter(exponential(0.5, 2, max=10)), within=10),
                on_error="stop",
            ),
        ),
        # Smithy 2.0 waiter specification (smithy.waiters#waitable, "Waiter retries"): at once,
        # then uniform(2, min(2 * 2**k, 120)); maxWaitTime an hour (smithy-waiter(max_wait=T)
        # for another), the last delay cut to poll at it; an unmatched error fails it
        _named("smithy-waiter", smithy_waiter(3600)),
        # @smithy/util-waiter 4.6.2, createWaiter (AWS SDK for JavaScript v3, EC2's waiters:
        # minDelay 2, maxDelay 120, maxWaitTime an hour): uniform(2, 2 * 2**k) for 6 retries,
        # then a fixed 120 s; no sleep past maxWaitTime; the client's standard retries
        # (honouring Retry-After); the generated waiters retry any other error
        _named(
            "aws-js-waiter",
            Strategy(
                for_attempts(6, full_jitter(exponential(2, 2), min=2), then=fixed(120)),
                after_delay(3600, check="ahead"),
                first=0,
                retries=retries(
                    2, on=[0, 429, 500, 502, 503, 504], wait=AWS_RETRY_WAIT, retry_after=True
                ),
            ),
        ),
        # celery 5.7.0, AsyncResult.get() -> SyncBackendMixin.wait_for: result backends that
        # poll only (Redis and RPC do not poll); a store error leaves get() at once
        _named("celery-get", Strategy(fixed(0.5), first=0, on_error="stop")),
        # fiddler-client 3.14.1, Job.wait() -> Job.watch: while elapsed <= 1800 s, 6 s after
        # a 2xx, at once after any error (Retry-After never read)
        _named(
            "fiddler-client",
            Strategy(at_once_on_error(fixed(6)), after_delay(1800, check="wake"), first=0),
        ),
    )
}

#: presets that take parameters in the text form, ``smithy-waiter(max_wait='10m')``
PRESET_MAKERS = {"smithy-waiter": smithy_waiter}
