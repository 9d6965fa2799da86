"""When a real client's request went out and when its answer was in, taken around
``requests``' own ``Session.send``.

A response hook runs after ``send`` has measured ``elapsed`` and before the body is
read, so ``hook time - elapsed`` can fall after the request reached the server by the
time the hook took to be called (a few milliseconds on a loaded machine, enough to
put a bound the wrong side of the server's own stamp). Times taken just before
``send`` and just after it returned (the answer read) bracket the server's handling
of the request for sure.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests


def time_sends(
    session: requests.Session, record: Callable[[requests.Response, float, float], None]
) -> None:
    """Call ``record(response, t0, t1)`` for every request ``session`` sends, ``t0``
    taken (monotonic) before it went out and ``t1`` after its answer was read. Only
    this session's ``send`` is wrapped, as an attribute of the instance: the class and
    the client's own logic are untouched."""
    send = session.send

    def timed(request: requests.PreparedRequest, **kwargs) -> requests.Response:
        t0 = time.monotonic()
        response = send(request, **kwargs)
        record(response, t0, time.monotonic())
        return response

    session.send = timed  # type: ignore[method-assign]
