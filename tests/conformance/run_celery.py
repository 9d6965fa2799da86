"""celery 5.7.0's own ``AsyncResult.get()``, unmodified, on a fake clock, against a result
store that answers per a ``Script``.

``get()`` hands the wait to its backend's ``wait_for_pending``; on a backend that polls
(``SyncBackendMixin``: the key-value stores other than Redis, the database backends) that
is ``wait_for`` (celery/backends/base.py): look the task's meta up, return if it is
ready, raise ``TimeoutError`` if a timeout was given and the naps so far add up to it,
otherwise ``time.sleep(interval)`` (0.5 s by default) and look again. The lookup goes
through ``get_task_meta``, whose ``_ensure_retryable`` retries a failed lookup only when
``result_backend_always_retry`` is set (off by default) and the backend calls the
exception safe to retry; otherwise the store's exception leaves ``get()`` at once.
Redis and RPC backends wait on a subscription instead and do not poll.

Why a backend subclass is celery's transport here: a key-value result backend's only
contact with its store is ``get(key)`` (S3, Azure Blob, GCS, CouchDB, Elasticsearch,
ArangoDB and Cosmos DB implement it with their HTTP clients), so ``ScriptedStore.get`` is
the store's answer, and everything above it, the lookup, decoding, readiness, naps and
deadline, is celery's. A 200 is the meta a worker stored (STARTED while running,
SUCCESS once ended); any other answer is the store client's exception (a Retry-After
means nothing to celery). Only the ``time`` module of celery/backends/base.py is
replaced; the round trip is moved on the same clock inside ``get`` (half before the
store answers, half after), as ``sim.pollers`` has it.
"""

from __future__ import annotations

import math
from unittest import mock

import celery.backends.base as celery_base
from celery import Celery, states
from celery.backends.base import KeyValueStoreBackend
from celery.result import AsyncResult

from tests.conformance.harness import FakeTime, Script
from tests.conformance.watched import Watched

TASK_ID = "5d0c5a0e-7a43-4d8c-a4c8-1f2e3d4c5b6a"


class StoreError(Exception):
    """What a result store's client raises on an answer other than 200."""

    def __init__(self, http: int) -> None:
        super().__init__(f"the result store answered {http}")
        self.http = http


class Horizon(Exception):
    """Watching went on to the run's horizon: the caller stops looking."""


class ScriptedStore(KeyValueStoreBackend):
    """A polling key-value result backend whose store answers per ``script`` at the fake
    clock's time, and which logs each lookup."""

    def __init__(self, app: Celery, script: Script, clock: FakeTime, rtt: float, horizon: float):
        super().__init__(app=app)
        self.script, self.clock, self.rtt, self.horizon = script, clock, rtt, horizon
        self.times: list[float] = []
        self.answers: list[int] = []
        # the meta a worker stores, encoded by celery itself
        self.stored = {
            "running": self.encode(self._get_result_meta(None, states.STARTED, None, None)),
            "succeeded": self.encode(self._get_result_meta(42, states.SUCCESS, None, None)),
        }

    def get(self, key):
        if self.clock.elapsed >= self.horizon:
            raise Horizon()
        half = self.rtt / 2
        self.times.append(self.clock.elapsed)
        self.clock.t += half
        answer = self.script.answer(self.clock.elapsed)
        self.answers.append(answer.http)
        self.clock.t += half
        if answer.http != 200:
            raise StoreError(answer.http)
        return self.stored[answer.status]

    def mget(self, keys):
        return [self.get(k) for k in keys]

    def set(self, key, value):
        raise NotImplementedError("the conformance store is read-only")

    def delete(self, key):
        raise NotImplementedError("the conformance store is read-only")


def run(
    script: Script,
    rtt: float = 0.0,
    horizon: float = math.inf,
    timeout: float | None = None,
) -> Watched:
    """``AsyncResult.get()`` (its default interval, ``timeout`` as given: None by
    default) on ``script``: what it looked up, when, and how it stopped."""
    clock = FakeTime()
    app = Celery("conformance", set_as_current=False)
    store = ScriptedStore(app, script, clock, rtt, horizon)
    result = AsyncResult(TASK_ID, backend=store, app=app)
    raised = None
    with mock.patch.object(celery_base, "time", clock):
        try:
            assert result.get(timeout=timeout) == 42
            outcome = "ended"
        except Horizon:
            outcome = "watching"
        except celery_base.TimeoutError as e:
            outcome, raised = "gave up", type(e).__name__
        except StoreError as e:
            outcome, raised = "errored", type(e).__name__
    return Watched(tuple(store.times), tuple(store.answers), outcome, clock.elapsed, raised)
