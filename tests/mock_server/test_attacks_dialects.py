"""The attack on the dialects' server (issue 12's seventh round of hostile use), each
finding held here: a long-poll that knows it is behind is answered at once; a long-poll
refused by the caps and a rate-limited request are graded against the job they asked
about, and only one the requester may see; the admin acts for existing tenants only;
absolute links follow the request's Host; the HTTP parser's 400s, 401s and 404s are said
as each dialect says them."""

from __future__ import annotations

import asyncio
import json

import pytest
from jsonschema import Draft202012Validator

from mock_server.admission import Admission
from mock_server.app import _hold
from mock_server.core import Hold, Request, Response
from sim.dialects import DIALECTS, Dialect, Kind
from tests.mock_server.helpers import ADMIN, Harness
from tests.mock_server.raw import exchange, head
from tests.mock_server.server import start
from tests.mock_server.test_dialect_routes import fill, first, shaped, status_path, submit

STATUS = [d for d in DIALECTS.values() if any(r.kind is Kind.STATUS for r in d.routes)]
EACH = pytest.mark.parametrize("dialect", STATUS, ids=[d.name for d in STATUS])
PROJECTS = [d for d in STATUS if any("{project}" in r.path for r in d.routes)]
LIMIT = {"rate_limit": {"rate": "0.2/s", "burst": 1}}  #: a request, then 429s for 5 s


def _linked() -> Dialect:
    """The dialect whose status documents carry an absolute link (a ``uri`` member)."""
    for dialect in DIALECTS.values():
        if '"uri"' in json.dumps(dialect.schema()):
            return dialect
    raise AssertionError("no dialect shows an absolute link")


# --- 1. a long-poll whose If-None-Match is stale is answered at once -------------------


@EACH
def test_a_long_poll_behind_the_current_document_is_answered_at_once(dialect):
    h = Harness()
    _, _, shown = submit(h, dialect)
    where = status_path(h, dialect, shown)
    current = h.call("GET", where).headers["ETag"]
    stale = h.call("GET", where, query={"wait": "30"}, headers={"If-None-Match": '"9.9.9"'})
    assert isinstance(stale, Response), stale
    assert stale.status == 200 and stale.headers["ETag"] == current
    # the current version (or any, or none said): held until the next change
    for seen in (current, f"W/{current}", "*", None):
        headers = {"If-None-Match": seen} if seen is not None else None
        assert isinstance(h.call("GET", where, query={"wait": "30"}, headers=headers), Hold)


def test_a_long_poll_on_a_version_the_job_has_left_sees_the_new_one_at_once():
    h = Harness()
    made = h.call("POST", "/ordo/jobs", {"template": "chain"})
    old = made.headers["ETag"]
    h.sleep(11)  # the first step ended at 10 s: a new version
    answer = h.call("GET", "/ordo/jobs/1", query={"wait": "30"}, headers={"If-None-Match": old})
    assert isinstance(answer, Response) and answer.status == 200
    assert answer.headers["ETag"] != old


# --- 2. a long-poll refused by the caps is graded against its job -----------------------


def test_a_long_poll_refused_by_the_caps_is_a_poll_of_its_job_with_its_retry_after():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"duration": "1h"})
    headers = {"authorization": "Bearer tok-a", "x-client-id": "lp"}
    req = Request("GET", "/ordo/jobs/1", {"wait": "30"}, headers)
    hold = h.core.handle(req)
    assert isinstance(hold, Hold)
    admission = Admission(10, 5, 1)
    assert admission.hold("id:lp") is None  # the client's one long-poll, held elsewhere
    refused = asyncio.run(_hold(h.core, req, hold, admission, None))
    assert refused is not None and refused.status == 429
    assert refused.headers["Retry-After"] == "1"
    (row,) = h.core.report()["jobs"]
    assert (row["client"], row["polls"], row["errors"]) == ("lp", 1, 1)
    # asked again before the Retry-After (the clock stands still): a violation
    assert h.call("GET", "/ordo/jobs/1", headers={"X-Client-Id": "lp"}).status == 200
    (row,) = h.core.report()["jobs"]
    assert (row["polls"], row["retry_after_violations"]) == (2, 1)


# --- 3. under a rate limit, a job the requester may not see is not counted --------------


@pytest.mark.parametrize("dialect", PROJECTS, ids=[d.name for d in PROJECTS])
def test_rate_limited_requests_for_another_project_count_against_no_job(dialect):
    h = Harness()
    _, rec, shown = submit(h, dialect)  # alpha's
    assert h.doc("PUT", "/_admin/faults", LIMIT, token=ADMIN)[0] == 200
    wrong = fill(first(dialect, Kind.STATUS), shown, "beta")
    answers = [h.call("GET", wrong, headers={"X-Client-Id": "rl"}) for _ in range(3)]
    assert [a.status for a in answers] == [404, 429, 429]
    shaped(dialect, answers[1], 429)
    assert not [r for r in h.core.report()["jobs"] if r["client"] == "rl"]
    # the same, in the right project: graded against the job
    h.sleep(10)
    right = fill(first(dialect, Kind.STATUS), shown)
    answers = [h.call("GET", right, headers={"X-Client-Id": "ok"}) for _ in range(2)]
    assert [a.status for a in answers] == [200, 429]
    (row,) = [r for r in h.core.report()["jobs"] if r["client"] == "ok"]
    assert (row["job_id"], row["polls"]) == (str(rec.id), 2)


def test_rate_limited_requests_for_another_tenants_job_count_against_no_job():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"duration": "1h"}, token="tok-b")
    h.doc("PUT", "/_admin/faults", LIMIT, token=ADMIN)
    answers = [h.call("GET", "/ordo/jobs/1", headers={"X-Client-Id": "rl"}) for _ in range(3)]
    assert [a.status for a in answers] == [404, 429, 429]
    assert not [r for r in h.core.report()["jobs"] if r["client"] == "rl"]


# --- 4. the admin acts for existing tenants only ----------------------------------------


@pytest.mark.parametrize("dialect", PROJECTS, ids=[d.name for d in PROJECTS])
@pytest.mark.parametrize("project", ["anonymous", "admin", "background", "nobody", "alph%ffa"])
def test_the_admin_cannot_act_for_a_project_no_tenant_has(dialect, project):
    h = Harness()
    made = len(h.core.model.records)
    submitting = fill(first(dialect, Kind.SUBMIT), "", project)
    shaped(dialect, h.call("POST", submitting, {"duration": "1h"}, token=ADMIN), 404)
    assert len(h.core.model.records) == made
    for route in dialect.routes:
        if "{project}" in route.path and route.method == "GET":
            where = fill(route, dialect.show_id(1, h.core.seed), project)
            shaped(dialect, h.call("GET", where, token=ADMIN), 404)


@pytest.mark.parametrize("dialect", PROJECTS, ids=[d.name for d in PROJECTS])
def test_the_admin_acts_for_the_background_tenant_where_the_model_has_one(dialect):
    h = Harness(background=True)
    for _ in range(100):  # until the scenario's arrivals have made a job
        h.sleep(60)
        h.core.model.advance()
        if h.core.model.by_tenant.get("background"):
            break
    for project in ("background", "alpha", "beta"):
        made = h.call("POST", fill(first(dialect, Kind.SUBMIT), "", project), {}, token=ADMIN)
        assert made.status < 300, (project, made.body)


def test_a_job_the_admin_made_is_never_readable_without_a_token():
    h = Harness()
    for dialect in PROJECTS:
        h.call("POST", fill(first(dialect, Kind.SUBMIT), "", "anonymous"), {}, token=ADMIN)
    anonymous = next(d for d in STATUS if d.anonymous)
    for job_id in range(1, len(h.core.model.records) + 2):
        where = status_path(h, anonymous, anonymous.show_id(job_id, h.core.seed))
        assert h.call("GET", where, token=None).status == 404


# --- 5. absolute links follow the request's Host ---------------------------------------


def _submit_as(h: Harness, dialect: Dialect, host: str | None, body: dict) -> Response:
    headers = {"Host": host} if host is not None else None
    return h.call("POST", fill(first(dialect, Kind.SUBMIT)), body, headers=headers)


def _links(resp: Response) -> list[str]:
    found = [v for k, v in resp.headers.items() if v.startswith("http")]
    return found + [v for v in json.loads(resp.body).values() if str(v).startswith("http")]


@pytest.mark.parametrize(
    "host, base",
    [
        ("myproxy.example:9999", "http://myproxy.example:9999/"),
        ("myproxy.example", "http://myproxy.example/"),
        ("10.0.0.7:65535", "http://10.0.0.7:65535/"),
        ("[::1]:8080", "http://[::1]:8080/"),
        ("[fe80::1]", "http://[fe80::1]/"),
        (None, "http://127.0.0.1/"),  # none sent: the server's own
        ("evil.example/x", "http://127.0.0.1/"),
        ("a b", "http://127.0.0.1/"),
        ("h:65536", "http://127.0.0.1/"),
        ("h:", "http://127.0.0.1/"),
        ("[::1", "http://127.0.0.1/"),
        ("[::1]x", "http://127.0.0.1/"),
        ("h@evil", "http://127.0.0.1/"),
        ("h\r\nX: y", "http://127.0.0.1/"),
        ("a" * 256, "http://127.0.0.1/"),
    ],
)
def test_absolute_links_use_a_well_formed_host_else_the_servers_own(host, base):
    dialect = _linked()
    h = Harness()
    resp = _submit_as(h, dialect, host, {"outcome": "succeed", "duration": "10s"})
    links = _links(resp)
    assert links and all(link.startswith(base) for link in links), links


def test_a_cached_document_is_not_shown_with_another_requests_host():
    dialect = _linked()
    h = Harness()
    resp = _submit_as(h, dialect, "a.example:1", {"outcome": "succeed", "duration": "10s"})
    shown = dialect.new_job(resp.status, {"operation-location": _links(resp)[0]}, None)
    where = status_path(h, dialect, shown)
    h.sleep(60)
    for host in ("a.example:1", "b.example:2", "a.example:1", "b.example:2"):
        answer = h.call("GET", where, headers={"Host": host})
        doc = json.loads(answer.body)
        links = [v for v in doc.values() if str(v).startswith("http")]
        assert links and all(v.startswith(f"http://{host}/") for v in links), (host, doc)
        assert dialect.read(doc).state.terminal
    # one version, two documents: two ETags, so that neither host's tag matches the other's
    tags = {h.call("GET", where, headers={"Host": x}).headers["ETag"] for x in ("a.e", "b.e")}
    assert len(tags) == 2
    a_tag = h.call("GET", where, headers={"Host": "a.e"}).headers["ETag"]
    other = h.call("GET", where, headers={"Host": "b.e", "If-None-Match": a_tag})
    assert other.status == 200


# --- 6. the HTTP parser's 400s in the path's dialect's shape -----------------------------


@pytest.fixture(scope="module")
def server():
    s = start(1)
    yield s
    s.stop()


@pytest.mark.live
def test_requests_the_parser_refuses_are_answered_in_the_dialects_shape(server):
    big = "a" * 9000
    for dialect in STATUS:
        where = fill(first(dialect, Kind.STATUS), dialect.show_id(1, 0))
        reply = exchange(server, head("GET", where, Authorization="Bearer tok-a", X_Big=big))
        assert reply.status == 400, (dialect.name, reply)
        doc = reply.json
        errors = list(Draft202012Validator(dialect.error_schema()).iter_errors(doc))
        assert not errors, (dialect.name, doc)
        assert dialect.error_kind(doc) == "bad_request"
    # no dialect's path, or no path to read: pollsim's own shape
    lines = (b"GET /nowhere/1 HTTP/1.1", b"\x00\x01 garbage", b"GET /" + b"a" * 9000 + b" HTTP/1.1")
    for line in lines:
        reply = exchange(server, line + b"\r\nHost: x\r\nX-Big: " + big.encode() + b"\r\n\r\n")
        assert reply.status == 400 and reply.json["error"] == "bad_request", reply


# --- 7. 401 says how to authenticate; a 404 does not echo what it was sent --------------


@EACH
def test_a_401_names_the_bearer_scheme(dialect):
    h = Harness()
    where = fill(first(dialect, Kind.STATUS), dialect.show_id(1, h.core.seed))
    answers = [h.call("GET", where, token="nope")]
    if not dialect.anonymous:
        answers.append(h.call("GET", where, token=None))
    answers.append(h.call("GET", where, token=None, headers={"Authorization": "Basic eDp5"}))
    for resp in answers:
        shaped(dialect, resp, 401)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


@EACH
def test_a_404_quotes_at_most_a_short_printable_part_of_the_id(dialect):
    h = Harness()
    hostile = "\x00\x1b[31m" + "9" * 8000 + "\n"
    where = fill(first(dialect, Kind.STATUS), hostile)
    resp = h.call("GET", where, token=ADMIN)
    shaped(dialect, resp, 404)
    message = resp.error[1]
    assert len(message) < 200 and message.isprintable(), message


@pytest.mark.parametrize("dialect", PROJECTS, ids=[d.name for d in PROJECTS])
def test_the_admin_finds_a_background_job_made_since_the_model_last_ran(dialect):
    """The background tenant's first job may arrive between two requests: a status
    request naming its project is the first to run the model that far, and must find
    it (``pollsim compare`` polls the model's jobs so, as they arrive)."""
    h = Harness(background=True)
    h.sleep(3600)  # arrivals are due by now; nothing has run the model since
    assert not h.core.model.by_tenant.get("background")
    shown = dialect.show_id(1, h.core.seed)
    path = fill(first(dialect, Kind.STATUS), shown, "background")
    assert h.call("GET", path, token=ADMIN).status == 200
    assert h.core.model.records[1].tenant == "background"


@EACH
def test_query_numbers_are_plain_ascii_decimals_quoted_short(dialect):
    """int() and float() take " 5", "5_0", "+5" and "inf"; a page's numbers here are
    plain digits, a wait a JSON number within its bounds, and a refusal quotes a long
    value short."""
    h = Harness()
    if any(r.kind is Kind.LIST for r in dialect.routes):
        numbers = [n for n, s in dialect.page_query(500).items() if s["type"] == "integer"]
        assert numbers
        for name in numbers:
            for bad in (" 5", "5_0", "+5", "1e1", "x" * 5000):
                answer = h.call("GET", fill(first(dialect, Kind.LIST)), query={name: bad})
                assert answer.status == 400, (name, bad, answer.body[:200])
                assert len(answer.body) < 600
    made = h.call("POST", fill(first(dialect, Kind.SUBMIT)), {})
    headers = {k.lower(): v for k, v in made.headers.items()}
    shown = dialect.new_job(made.status, headers, json.loads(made.body))
    for bad in ("1e3", "inf", " 1", "1_0"):
        answer = h.call("GET", status_path(h, dialect, shown), query={"wait": bad})
        assert answer.status == 400, (bad, answer.body[:200])


@EACH
def test_found_by_schemathesis_a_duration_of_the_wrong_type_and_the_largest_offset(dialect):
    """``"duration": {}`` was taken (a ``durations`` "*" hid it); an offset past the
    document's maximum is a 400 the document says, one at it is an empty page."""
    h = Harness()
    submit = fill(first(dialect, Kind.SUBMIT))
    for bad in ({}, [], True):
        body = {"duration": bad, "durations": {"*": "1s"}}
        assert h.call("POST", submit, body).status == 422, bad
    names = dialect.page_query(500) if any(r.kind is Kind.LIST for r in dialect.routes) else {}
    if "offset" in names:
        most = names["offset"]["maximum"]
        where = fill(first(dialect, Kind.LIST))
        assert h.call("GET", where, query={"offset": str(most)}).status == 200
        assert h.call("GET", where, query={"offset": str(most + 1)}).status == 400
