"""X-Client-Id: printable ASCII of at most 200 characters, else a 400 naming the header
(``mock_server.client_id``), so that two ids never merge and every id can be filtered."""

from __future__ import annotations

import json

import pytest

from tests.mock_server.helpers import ADMIN, Harness


def test_a_client_id_not_ascii_is_refused_naming_the_header():
    h = Harness()
    for odd in ("caf\ufffd", "caf\udce9", "a\x7fb"):  # a Latin-1 byte arrives as either
        status, doc = h.doc(
            "POST", "/ordo/jobs", {"template": "chain"}, headers={"X-Client-Id": odd}
        )
        assert status == 400 and "X-Client-Id" in doc["message"], (odd, doc)
    assert not h.core.model.records


def test_an_over_long_client_id_is_refused_and_the_longest_is_filtered_whole():
    h = Harness()
    status, doc = h.doc("GET", "/healthz", headers={"X-Client-Id": "c" * 250})
    assert status == 400 and "X-Client-Id" in doc["message"] and "200" in doc["message"]
    longest = "d" * 200
    status, _ = h.doc("POST", "/ordo/jobs", {"template": "chain"}, headers={"X-Client-Id": longest})
    assert status == 201
    assert h.core.client(h.core.showing.req) == longest  # named whole, never cut
    r = h.call("GET", "/_admin/jobs", token=ADMIN, query={"client": longest})
    assert r.status == 200, r.body


@pytest.mark.live
def test_a_latin1_client_id_sent_as_bytes_is_refused_by_a_real_server():
    from tests.mock_server.raw import exchange
    from tests.mock_server.server import start

    server = start(1.0)
    try:
        for raw in (b"caf\xe9", b"caf\xe8"):  # two ids that would merge as "caf\ufffd"
            request = b"GET /ordo/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            request += b"Authorization: Bearer tok-a\r\nX-Client-Id: " + raw + b"\r\n\r\n"
            reply = exchange(server, request)
            assert reply.status == 400, reply.body
            assert "X-Client-Id" in json.loads(reply.body)["message"]
        utf8 = "caf\xe9".encode()  # UTF-8 text is an id as sent
        request = b"GET /ordo/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        request += b"Authorization: Bearer tok-a\r\nX-Client-Id: " + utf8 + b"\r\n\r\n"
        assert exchange(server, request).status == 200
    finally:
        server.stop()
