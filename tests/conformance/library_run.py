"""What one run of a library's polling code did, in the terms a preset is compared in,
and the one way a runner reaches into a library: replacing a module's ``time`` (and,
for a jittered library, its ``random``) for the length of a run."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.conformance.harness import FakeTime

ENDED, GAVE_UP, ERRORED, POLLING = "ended", "gave up", "errored", "still polling"


@dataclass(frozen=True)
class LibraryRun:
    """The status requests a library made (fake seconds since the watch started, and
    the status each was answered), how it ended and when: ``ended`` (it returned the
    result), ``gave up`` (its own deadline), ``errored`` (it raised on an error answer),
    ``still polling`` (the run's horizon came first)."""

    times: tuple[float, ...]
    https: tuple[int, ...]
    outcome: str
    stop: float
    raised: str | None = None  #: the exception's type, where it raised one

    @property
    def requests(self) -> int:
        return len(self.times)


class Horizon(Exception):
    """Raised from a sleep that would wake at or past the run's horizon: a library that
    never stops is cut off there (no request at or after it)."""


class BoundedTime(FakeTime):
    """The harness's fake clock, with a horizon past which it will not sleep."""

    def __init__(self, horizon: float = float("inf")) -> None:
        super().__init__()
        self.horizon = horizon

    def sleep(self, seconds: float) -> None:
        if self.elapsed + seconds >= self.horizon:
            raise Horizon(f"a sleep past {self.horizon:g} s")
        super().sleep(seconds)


@contextmanager
def replaced(attribute: str, value: object, modules: tuple[str, ...]) -> Iterator[None]:
    """``module.<attribute> = value`` in each module for the length of the block (each
    must have the attribute: a library that moved its clock fails loudly here)."""
    loaded = [importlib.import_module(m) for m in modules]
    saved = [getattr(m, attribute) for m in loaded]  # AttributeError if it moved
    try:
        for m in loaded:
            setattr(m, attribute, value)
        yield
    finally:
        for m, old in zip(loaded, saved, strict=True):
            setattr(m, attribute, old)
