"""Each SDK's own pager lists every job of a tenant exactly once, page after page, against
a real ``pollsim serve``: google-api-core's ``list_operations`` (``pageSize``, then the
``nextPageToken`` sent back as ``pageToken``), azure-core's ``ItemPaged`` following
``nextLink`` as a generated list operation does, and fiddler-client's ``_paginate``
(``limit`` and ``offset`` until ``page_index`` reaches ``page_count``).

The tenant ``beta`` holds ``JOBS`` jobs, more than the server's largest page (500), so
that even a client asking for more than that needs a second page."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import fiddler
import google.auth.transport.requests as auth_requests
import google.oauth2.credentials as oauth2
import grpc  # noqa: F401 -- the operations client imports it even for REST
import pytest
import requests
from azure.core import PipelineClient
from azure.core.configuration import Configuration
from azure.core.paging import ItemPaged
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, SansIOHTTPPolicy
from azure.core.rest import HttpRequest
from fiddler.entities.job import Job
from google.api_core import client_options, exceptions, operations_v1
from google.protobuf import struct_pb2  # noqa: F401 -- the Struct in an Operation's Any

from sim import load_scenario
from sim.dialects.fiddler_v3 import FIDDLER_V3
from tests.mock_server.helpers import QA, Harness
from tests.mock_server.server import Server, start
from tests.sdk.test_azure_core import StaticToken

pytestmark = pytest.mark.live

TENANT, TOKEN = "beta", "tok-b"
JOBS = 510  #: past the largest page the server answers (page_max, 500)


@pytest.fixture(scope="module")
def server():
    s = start(20)
    try:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {TOKEN}"
            for _ in range(JOBS):
                made = session.post(f"{s.url}/azure/jobs", json={"duration": "1h"}, timeout=10)
                assert made.status_code == 202, made.text
        yield s
    finally:
        s.stop()


def listed(server: Server, path: str, key: str) -> list[str]:
    """Every job of the tenant by one page as large as the server answers (the truth to
    compare with: ``limit`` and ``offset`` by hand)."""
    ids: list[str] = []
    while True:
        page = requests.get(
            f"{server.url}{path}?limit=500&offset={len(ids)}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        ).json()
        ids += [item["id"] for item in page[key]]
        if len(page[key]) < 500:
            return ids


# --- google-api-core -----------------------------------------------------------------------


def google_client(server: Server) -> tuple[operations_v1.AbstractOperationsClient, list[dict]]:
    """The operations REST client as a user of a local emulator makes it, and the query of
    every list request it sends (a response hook on its own session)."""
    options = client_options.ClientOptions(api_endpoint=server.url)
    ops = operations_v1.AbstractOperationsClient(
        credentials=oauth2.Credentials(token=TOKEN), client_options=options
    )
    queries: list[dict] = []

    def count(response, *args, **kwargs) -> None:
        queries.append(dict(parse_qsl(urlsplit(response.request.url).query)))

    ops.transport._session.hooks["response"].append(count)
    return ops, queries


@pytest.mark.parametrize(("size", "pages"), [(1000, 2), (None, 11), (97, 6)])
def test_google_list_operations_iterates_every_operation_once(server, size, pages):
    """``page_size=1000`` is served 500 at a time (AIP-158: the server may answer fewer)
    and the pager goes on by the token; none given is 50 a page."""
    ops, queries = google_client(server)
    names = [op.name for op in ops.list_operations(f"projects/{TENANT}", "", page_size=size)]
    assert len(names) == len(set(names)) == JOBS
    assert {n.rsplit("/", 1)[1] for n in names} == set(listed(server, "/azure/operations", "value"))
    assert len(queries) == pages
    assert "pageToken" not in queries[0] and all("pageToken" in q for q in queries[1:])


def test_google_bad_page_token_is_invalid_argument(server):
    session = auth_requests.AuthorizedSession(oauth2.Credentials(token=TOKEN))
    where = f"{server.url}/v1/projects/{TENANT}/operations"
    for token in ("bogus", "-1", "1" * 19, "\uff11"):  # \uff11: a fullwidth one
        answer = session.get(where, params={"pageToken": token}, timeout=10)
        error = exceptions.from_http_response(answer)
        assert isinstance(error, exceptions.BadRequest), (token, answer.text)
        assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
        assert "pageToken" in error.message
    answer = session.get(where, params={"pageSize": "-1"}, timeout=10)
    assert answer.status_code == 400 and "pageSize" in answer.json()["error"]["message"]


# --- azure-core ---------------------------------------------------------------------------


class Pages(SansIOHTTPPolicy):
    """The URL of every request the pipeline sends."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def on_request(self, request) -> None:
        self.urls.append(request.http_request.url)


def test_azure_item_paged_follows_next_link_through_every_operation(server):
    pages = Pages()
    config = Configuration()
    config.authentication_policy = BearerTokenCredentialPolicy(StaticToken(TOKEN), "pollsim")
    client = PipelineClient(server.url, config=config, per_retry_policies=[pages])

    def get_next(next_link: str | None = None):
        """As a generated list operation: its first request, else GET the nextLink."""
        url = client.format_url(next_link or "/azure/operations?limit=200")
        return client.send_request(HttpRequest("GET", url), enforce_https=False)

    def extract_data(response):
        doc = response.json()
        return doc.get("nextLink") or None, iter(doc["value"])

    ids = [op["id"] for op in ItemPaged(get_next, extract_data)]
    assert len(ids) == len(set(ids)) == JOBS
    assert ids == listed(server, "/azure/operations", "value")
    assert len(pages.urls) == 3  # 200, 200, 110
    assert all(url.startswith(server.url + "/azure/operations?") for url in pages.urls)


# --- fiddler-client -----------------------------------------------------------------------


def test_fiddler_paginate_reaches_every_job_once(server, monkeypatch):
    monkeypatch.setenv("FIDDLER_CLIENT_RETRY_MAX_DURATION_SECONDS", "20")
    fiddler.init(url=server.url, token=TOKEN, auto_attach_log_handler=False)
    sent: list[str] = []
    fiddler.conn.client.session.hooks["response"].append(lambda r, *a, **k: sent.append(r.url))
    ids = [job["id"] for job in Job._paginate(url="/v3/jobs", page_size=200)]
    assert len(ids) == len(set(ids)) == JOBS
    seed = load_scenario(QA).seed  # the UUIDs carry pollsim's ids for the scenario's seed
    shown = [str(FIDDLER_V3.read_id(i, seed)) for i in ids]
    assert shown == listed(server, "/azure/operations", "value")
    assert len(sent) == 3


@pytest.mark.parametrize(
    ("host", "base"),
    [("myproxy.example:9999", "http://myproxy.example:9999"), (None, "http://127.0.0.1")],
)
def test_next_link_is_built_on_the_requests_host(host, base):
    """As Operation-Location is: behind a proxy or a port forward, the address the client
    reached (else the server's own)."""
    h = Harness()
    for _ in range(3):
        assert h.call("POST", "/azure/jobs", {"duration": "1h"}).status == 202
    headers = {"Host": host} if host else {}
    page = h.call("GET", "/azure/operations", query={"limit": "2"}, headers=headers)
    link = json.loads(page.body)["nextLink"]
    assert link == f"{base}/azure/operations?limit=2&offset=2"
