"""Who gets a slot: requests in progress are capped (``max_concurrency``; beyond: 503);
below that, held long-polls in all and per client (beyond: 429) and bodies being
received (a quarter of the slots; beyond: 503), so that a swarm of long-polls or of slow
uploads cannot take every slot; and a few slots past the cap are kept for ``/healthz``,
``/metrics`` and ``/_admin``, so that the operator still sees the server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from mock_server.core import Response, error

RESERVED = 64  #: slots past ``max_concurrency`` for /healthz, /metrics and /_admin only
RETRY_AFTER = "1"  #: seconds, on a refusal for want of a slot
BODIES_SHARE = 4  #: bodies received at once: at most this fraction of max_concurrency


class Admission:
    """The slots of one server: a counter each, on a single-threaded server."""

    def __init__(self, max_concurrency: int, long_polls_max: int, per_client: int) -> None:
        self.max_concurrency = max_concurrency
        self.long_polls_max = long_polls_max
        self.per_client = per_client
        self.in_flight = 0  #: requests in progress
        self.long_polls = 0  #: long-polls held
        self.bodies_max = max(1, max_concurrency // BODIES_SHARE)
        self.receiving = 0  #: bodies being received
        self.holders: Counter[str] = Counter()  #: client -> long-polls it holds
        self.refused: Counter[str] = Counter()  #: reason -> refusals

    def enter(self, path: str) -> Response | None:
        """Take a slot for a request, or the 503 that refuses it."""
        cap = self.max_concurrency + (RESERVED if operator(path) else 0)
        if self.in_flight >= cap:
            self.refused["overloaded"] += 1
            return error(
                503, "overloaded", "too many requests in progress", **{"Retry-After": RETRY_AFTER}
            )
        self.in_flight += 1
        return None

    def leave(self) -> None:
        self.in_flight -= 1

    def receive(self, path: str) -> Response | None:
        """Take a place to receive a body in, or the 503 that refuses it (and closes the
        connection: the body is not read)."""
        if self.receiving >= self.bodies_max and not operator(path):
            self.refused["receiving"] += 1
            text = f"{self.bodies_max} request bodies being received at once, the most; retry"
            resp = error(503, "overloaded", text, **{"Retry-After": RETRY_AFTER})
            resp.headers["Connection"] = "close"
            return resp
        self.receiving += 1
        return None

    def received(self) -> None:
        self.receiving -= 1

    def hold(self, client: str) -> Response | None:
        """Take a long-poll's place for ``client``, or the 429 that says which cap is full."""
        if self.long_polls >= self.long_polls_max:
            return self._refuse(
                "long_polls_total", f"{self.long_polls_max} long-polls held in all, the most"
            )
        if self.holders[client] >= self.per_client:
            return self._refuse(
                "long_polls_client",
                f"this client (X-Client-Id, else its credentials) holds {self.per_client} "
                "long-polls, the most per client",
            )
        self.long_polls += 1
        self.holders[client] += 1
        return None

    def release(self, client: str) -> None:
        self.long_polls -= 1
        left = self.holders[client] - 1
        if left:
            self.holders[client] = left
        else:
            del self.holders[client]  # the table holds only clients holding long-polls

    def _refuse(self, reason: str, message: str) -> Response:
        self.refused[reason] += 1
        text = f"{message}; poll without ?wait= or retry later"
        return error(429, reason, text, **{"Retry-After": RETRY_AFTER})


def client_key(headers: Mapping[str, str]) -> str:
    """Whose long-polls these are: ``X-Client-Id``, else the credentials (held here as a
    key only: never shown)."""
    client = headers.get("x-client-id")
    if client:
        return "id:" + client[:200]
    auth = headers.get("authorization")
    return "auth:" + auth[:200] if auth else "anonymous"


def operator(path: str) -> bool:
    """A path of the operator's (health, metrics, admin): answered in the reserved slots."""
    return path in _OPERATOR or path.startswith("/_admin/")


_OPERATOR = frozenset({"/healthz", "/metrics"})  #: answered in the reserved slots too
