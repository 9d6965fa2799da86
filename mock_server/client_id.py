"""The ``X-Client-Id`` header's rule: printable UTF-8 text of at most 200 characters, else
a 400 naming the header. HTTP's headers carry bytes: bytes that are not UTF-8 (Latin-1's
"caf\xe9") reach the server as U+FFFD or a surrogate, and two different ids would merge
under one name; a longer id would be cut where ``?client=`` filters
(``mock_server.admin_query``) refuse it whole. Refused, no two clients ever share a name
and every id can be filtered by as it was sent."""

from __future__ import annotations

import re

from mock_server.responses import Response, error, quoted

MAX = 200  #: characters of a client id, as a filter's value (admin_query.MAX_VALUE)
#: control characters (a tab is a header's own), what undecodable bytes become
#: (surrogates, U+FFFD)
_BAD = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\ufffd]")


def refused(headers) -> Response | None:
    """The 400 of a request whose ``X-Client-Id`` breaks the rule, else None."""
    value = headers.get("x-client-id")
    if not value:  # none or empty: the client is named by its credentials
        return None
    bad = _BAD.search(value)
    if len(value) <= MAX and bad is None:
        return None
    if len(value) > MAX:
        what = f"{len(value)} characters, expected at most {MAX}"
    else:
        what = (
            f"'{quoted(value, 40)}' holds {bad.group()!a} at {bad.start()}: expected "
            "printable UTF-8 text (no byte of another charset, such as Latin-1's, no control)"
        )
    return error(400, "bad_client_id", f"header X-Client-Id: {what}")
