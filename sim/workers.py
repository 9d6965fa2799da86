"""The worker pool that job steps queue for."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


class WorkerPool:
    """c workers taken first come, first served. A waiter is a callable that returns False
    when it no longer wants the worker (its job ended meanwhile), which passes it on.

    Plain counting rather than a ``simpy.Resource``: a grant here costs no event, which keeps
    the model within three bare SimPy events per state change (benchmarks/lifecycle.py).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.free = capacity
        self.waiting: deque[tuple[Callable[..., bool], tuple]] = deque()

    def acquire(self, start: Callable[..., bool], *args: object) -> None:
        if self.free > 0:
            self.free -= 1
            if not start(*args):
                self.free += 1
        else:
            self.waiting.append((start, args))

    def release(self) -> None:
        waiting = self.waiting
        while waiting:
            start, args = waiting.popleft()
            if start(*args):
                return
        self.free += 1
