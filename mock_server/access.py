"""Who a request is: the tenant its bearer token belongs to (tokens compared in constant
time), whether it holds the admin role, and the name it goes by in the ground truth and
the request log when it sends no ``X-Client-Id`` (never the secret itself).

>>> a = Access({"s3cret": "qa"}, admin_token="adm1n")
>>> a.identity("Bearer s3cret")
Identity(tenant='qa', name='qa:token#1', admin=False)
>>> a.identity("Basic adm1n") is None, a.identity("adm1n") is None
(True, True)
>>> a.identity("Bearer adm1n").admin
True
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import NamedTuple

from sim.mock_spec import RESERVED_TENANTS as RESERVED

ADMIN = "admin"  #: the tenant of the admin token: sees every job
ANONYMOUS = "anonymous"  #: the tenant of requests without credentials (generic only)
KNOWN_HEADERS = 1024  #: the most Authorization headers remembered with their identity
_TOKEN = re.compile(r"[\x21-\x7e]+")  #: visible ASCII: what a header carries unchanged


class Identity(NamedTuple):
    tenant: str
    name: str  #: the client's name without X-Client-Id: the tenant and the token's place
    admin: bool = False


class Access:
    """The server's tokens, checked once at start; the identity of each request."""

    def __init__(self, tokens: Mapping[str, str], admin_token: str = "") -> None:
        problem = token_problem(tokens, admin_token)
        if problem:
            raise ValueError(problem)
        self._tokens = [
            (_raw(token), Identity(tenant, f"{tenant}:token#{i}"))
            for i, (token, tenant) in enumerate(tokens.items(), 1)
        ]
        self._admin = (_raw(admin_token), Identity(ADMIN, ADMIN, admin=True))
        self._known: dict[str, Identity] = {}

    def identity(self, header: str) -> Identity | None:
        """The identity an ``Authorization: Bearer <token>`` header proves, else None."""
        hit = self._known.get(header)
        if hit is not None:
            return hit
        token = bearer(header)
        if token is None:
            return None
        given = _raw(token)
        found = None
        for secret, who in (self._admin, *self._tokens):  # every one: no early exit
            if hmac.compare_digest(given, secret) and secret:
                found = who
        if found is not None and len(self._known) < KNOWN_HEADERS:
            self._known[header] = found
        return found


def bearer(header: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None for any other scheme
    or a bare token."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_problem(tokens: Mapping[str, str], admin_token: str) -> str | None:
    """What is wrong with a set of tokens (token -> tenant) and an admin token, in one
    line; None when nothing is."""
    for token, tenant in tokens.items():
        if tenant.lower() in RESERVED:
            return f"tenant {tenant!r}: a reserved name ({', '.join(RESERVED)}); choose another"
        if not tenant or not _TOKEN.fullmatch(tenant):
            return f"tenant {tenant!r}: expected visible ASCII characters, no spaces"
        if not _TOKEN.fullmatch(token):
            return f"a token of tenant {tenant!r}: expected visible ASCII characters, no spaces"
        if admin_token and hmac.compare_digest(_raw(token), _raw(admin_token)):
            return f"a token of tenant {tenant!r} is the admin token; they must differ"
    if admin_token and not _TOKEN.fullmatch(admin_token):
        return "the admin token: expected visible ASCII characters, no spaces"
    return None


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")
