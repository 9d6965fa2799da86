"""The cyclic garbage collector, off while a run's records are made."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector off for the block. A run's log, its timelines and
    the pollers' records only grow and hold no cycles: the collector would rescan them
    again and again for nothing (a third of the lifecycle's time on 100k jobs, and most
    of the time spent building the timelines)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
