"""/_admin/requests' status filter takes HTTP statuses (100 to 599, 0: no answer), and
the OpenAPI document says what the server takes: the status filter, UUID job ids, and
the report's final."""

from __future__ import annotations

import re

import pytest

from tests.mock_server.helpers import ADMIN, Harness


@pytest.mark.parametrize("raw", ["1", "99", "099", "600", "010"])
def test_a_status_filter_outside_100_to_599_is_refused(raw):
    h = Harness()
    status, doc = h.doc("GET", "/_admin/requests", token=ADMIN, query={"status": raw})
    assert status == 400 and "status=" in doc["message"] and "100 to 599" in doc["message"]


@pytest.mark.parametrize("raw", ["0", "100", "404", "599"])
def test_a_status_filter_of_an_http_status_or_0_is_taken(raw):
    status, _ = Harness().doc("GET", "/_admin/requests", token=ADMIN, query={"status": raw})
    assert status == 200


def _params(doc: dict, path: str, method: str = "get") -> dict:
    return {p["name"]: p for p in doc["paths"][path][method]["parameters"]}


def test_the_openapi_document_says_what_the_admin_filters_take():
    h = Harness()
    status, doc = h.doc("GET", "/openapi.json", token=None)
    assert status == 200
    requests = _params(doc, "/_admin/requests")
    assert "status" in requests
    pattern = re.compile(requests["status"]["schema"]["items"]["pattern"])
    assert pattern.match("404") and pattern.match("0") and not pattern.match("99")
    job = re.compile(requests["job"]["schema"]["items"]["pattern"])
    assert job.match("12") and not job.match("x1")
    # a fiddler-v3 UUID is read where it names a job here: said, as no pattern can
    assert "UUID" in requests["job"]["schema"]["items"]["description"]
    assert _params(doc, "/_admin/report")["final"]["schema"]["enum"] == ["true", "false", "1", "0"]
