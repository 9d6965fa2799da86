"""Attacks on the server's core, in process (the quick loop): job ids in other scripts'
digits, JSON nested thousands deep, numbers too large for a float, a rate limit that
never refills, credentials in the wrong scheme or under a role's name, and the answers a
client is judged by (Retry-After as sent, If-None-Match: *). The same attacks against a
real server are at the end, marked live."""

from __future__ import annotations

import json
import math

import pytest

from mock_server.access import Access
from mock_server.bodies import MAX_DEPTH, too_deep
from sim._reader import Reader, ScenarioError
from sim.mock_spec import read_faults, read_serve
from tests.mock_server.helpers import ADMIN, Harness
from tests.mock_server.server import call, start

DEEP = 5000  #: levels: far past the parser's recursion limit, under 64 KB of body


def deep(opening: str, closing: str, levels: int = DEEP) -> bytes:
    return (opening * levels + closing * levels).encode()


def assert_json_error(h: Harness, status: int, doc: dict, codes: tuple[int, ...]) -> None:
    """A 4xx in ``codes`` with a JSON error body, and the server answers afterwards."""
    assert status in codes, (status, doc)
    assert set(doc) == {"error", "message"} and doc["message"], doc
    assert h.doc("GET", "/healthz")[0] == 200


# --- job ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/status/\u00b2"),  # superscript two: str.isdigit() says yes, int() says no
        ("GET", "/ordo/jobs/\u2460"),  # circled one
        ("POST", "/fiddler/tasks/\u00b3/revoke"),
        ("GET", "/ordo/jobs/\u0661"),  # Arabic-Indic one: int() reads it as 1
        ("GET", "/ordo/jobs/\uff11"),  # fullwidth one: the same
        ("POST", "/ordo/jobs/\u0661/cancel"),
        ("GET", "/workflow/jobs/1\u0661"),
    ],
)
def test_a_job_id_in_digits_other_than_ascii_is_not_found(method, path):
    h = Harness()
    assert h.doc("POST", "/ordo/jobs", {"template": "chain"})[0] == 201
    assert h.doc("POST", "/ordo/jobs", {"template": "chain"})[0] == 201
    status, doc = h.doc(method, path, token=None if path.startswith("/status") else "tok-a")
    assert_json_error(h, status, doc, (404,))
    assert h.doc("GET", "/ordo/jobs/1")[1]["job"]["status"] != "failed"  # not cancelled


# --- bodies nested deep ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [("[", "]"), ('{"a":', "}"), ("[{}, ", "]")])
@pytest.mark.parametrize(
    "method, path, token",
    [
        ("POST", "/ordo/jobs", "tok-a"),
        ("POST", "/status", None),
        ("PUT", "/_admin/faults", ADMIN),
    ],
)
def test_json_nested_thousands_deep_is_a_400_on_every_endpoint_with_a_body(
    shape, method, path, token
):
    h = Harness()
    body = b'{"durations": ' + deep(*shape) + b"}"
    assert len(body) < 64 * 1024
    status, doc = h.doc(method, path, body, token=token)
    assert_json_error(h, status, doc, (400,))
    assert "deeper than" in doc["message"]


def test_brackets_inside_strings_do_not_count_as_nesting():
    body = json.dumps({"template": "[" * 100 + '\\"{' * 50}).encode()
    assert not too_deep(body, MAX_DEPTH)
    assert too_deep(b'{"a": "\\\\"' + b"[" * 40 + b"]" * 40 + b"}", MAX_DEPTH)
    h = Harness()
    status, doc = h.doc("POST", "/ordo/jobs", body)
    assert status == 422 and "unknown template" in doc["message"]


def test_nesting_within_the_bound_is_read_as_before():
    h = Harness()
    body = {"durations": {"prepare": 5}, "template": "chain"}
    assert h.doc("POST", "/ordo/jobs", body)[0] == 201
    assert not too_deep(json.dumps([[[1]]] * 1000).encode(), MAX_DEPTH)


# --- numbers too large -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"duration": 1' + b"0" * 400 + b"}",  # 1e400 written as an integer
        b'{"duration": ' + b"7" * 5000 + b"}",  # past Python's 4,300-digit limit
        b'{"durations": {"prepare": -' + b"9" * 5000 + b"}}",
        b'{"duration": 1e400}',
        b'{"duration": "' + b"9" * 500 + b'"}',
        b'{"duration": "99999999999h"}',
        b'{"template": "chain", "outcome": "transient_failures:100000000000000000000"}',
        b'{"template": "chain", "outcome": "transient_failures:100000000"}',
    ],
)
def test_a_number_too_large_in_a_submission_is_a_422(body):
    h = Harness()
    status, doc = h.doc("POST", "/status", body, token=None)
    assert_json_error(h, status, doc, (422,))
    assert h.core.model.records == {}


@pytest.mark.parametrize(
    "faults",
    [
        b'{"outages": [{"start": 1' + b"0" * 400 + b', "duration": 10, "mode": "503"}]}',
        b'{"outages": [{"start": 0, "duration": ' + b"9" * 5000 + b', "mode": "503"}]}',
        b'{"dribble": {"probability": 0.1, "rate": 1' + b"0" * 400 + b"}}",
        b'{"rate_limit": {"rate": 5, "burst": 1' + b"0" * 400 + b"}}",
        b'{"dribble": {"probability": 0.1, "rate": "1/h"}}',
        b'{"rate_limit": {"rate": 0, "burst": 1}}',
        b'{"rate_limit": {"rate": "0/s", "burst": 1}}',
        b'{"errors": {"\xc2\xb2": 0.1}}',  # a superscript status code
        b'{"reset": NaN}',
    ],
)
def test_put_faults_refuses_what_it_cannot_carry_out_and_keeps_the_old_faults(faults):
    h = Harness()
    before = h.doc("GET", "/_admin/faults", token=ADMIN)[1]
    status, doc = h.doc("PUT", "/_admin/faults", faults, token=ADMIN)
    assert_json_error(h, status, doc, (400, 422))
    assert h.doc("GET", "/_admin/faults", token=ADMIN)[1] == before


def test_a_rate_limit_of_zero_is_refused_when_the_scenario_is_read():
    with pytest.raises(ScenarioError, match=r"faults.rate_limit.rate: found 0, expected a rate"):
        read_faults(Reader({"rate_limit": {"rate": 0, "burst": 1}}, "x.toml", "faults"))


def test_status_requests_answer_under_the_slowest_rate_limit():
    h = Harness()
    h.doc("POST", "/status", {"template": "chain"}, token=None)
    assert h.doc("PUT", "/_admin/faults", {"rate_limit": {"rate": "1/d"}}, token=ADMIN)[0] == 200
    assert h.doc("GET", "/status/1", token=None)[0] == 200
    status, doc = h.doc("GET", "/status/1", token=None)
    assert status == 429 and doc["error"] == "rate_limited"


@pytest.mark.parametrize(
    "body",
    [
        {"template": "x" * 60_000},
        {"template": "chain", "outcome": "y" * 60_000},
        {"z" * 60_000: 1},
        {"template": "chain", "durations": {"w" * 60_000: 1}},
    ],
)
def test_a_refusal_quotes_a_long_value_shortened(body):
    h = Harness()
    status, doc = h.doc("POST", "/status", body, token=None)
    assert status == 422 and len(doc["message"]) < 300, doc["message"][:300]


@pytest.mark.parametrize("query", [{"limit": "\u0663"}, {"offset": "\u0661"}, {"wait": "\u0661"}])
def test_query_numbers_are_ascii_digits_only(query):
    h = Harness()
    h.doc("POST", "/status", {"template": "chain"}, token=None)
    path = "/status/1" if "wait" in query else "/status"
    status, doc = h.doc("GET", path, token=None, query=query)
    assert_json_error(h, status, doc, (400,))


def test_lists_page_each_tenants_jobs_and_the_admin_sees_all():
    h = Harness()
    for token in ("tok-a", "tok-b", "tok-a", "tok-b", "tok-a"):
        h.doc("POST", "/ordo/jobs", {"template": "chain"}, token=token)
    _, doc = h.doc("GET", "/ordo/jobs", query={"offset": "1", "limit": "5"})
    assert [j["job"]["id"] for j in doc["jobs"]] == ["3", "5"] and doc["total"] == 3
    _, doc = h.doc("GET", "/ordo/jobs", token=ADMIN, query={"offset": "3", "limit": "5"})
    assert [j["job"]["id"] for j in doc["jobs"]] == ["4", "5"] and doc["total"] == 5
    _, doc = h.doc("GET", "/ordo/jobs", token=ADMIN, query={"offset": "99", "limit": "5"})
    assert doc["jobs"] == [] and doc["total"] == 5


# --- plain numbers in strings ------------------------------------------------------------


def test_a_duration_written_as_a_number_in_a_string_is_seconds():
    h = Harness()
    status, _ = h.doc("POST", "/status", {"template": "chain", "duration": "20"}, token=None)
    assert status == 202
    body = {"template": "chain", "durations": {"prepare": "2.5", "build": " 7 "}}
    assert h.doc("POST", "/status", body, token=None)[0] == 202
    h.sleep(39.9)
    assert h.doc("GET", "/ordo/jobs/1", token=ADMIN)[1]["job"]["status"] == "running"
    h.sleep(0.2)
    assert h.doc("GET", "/ordo/jobs/1", token=ADMIN)[1]["job"]["status"] == "success"
    assert h.doc("GET", "/ordo/jobs/2", token=ADMIN)[1]["duration_ms"] == 9500


@pytest.mark.parametrize("value", [False, [], "", 0, "20s"])
def test_durations_that_are_not_an_object_are_refused_not_taken_as_none(value):
    """Found by schemathesis: ``"durations": false`` made a job as if none were given."""
    h = Harness()
    status, doc = h.doc("POST", "/ordo/jobs", {"template": "chain", "durations": value})
    assert_json_error(h, status, doc, (422,))
    assert "durations" in doc["message"]
    assert h.doc("POST", "/ordo/jobs", {"template": "chain", "durations": None})[0] == 201


@pytest.mark.parametrize("path", ["/healthz", "/metrics", "/openapi.json"])
@pytest.mark.parametrize("method", ["TRACE", "POST", "DELETE", "PATCH"])
def test_the_servers_own_documents_answer_get_alone(method, path):
    """Found by schemathesis: TRACE /healthz was a 200, POST /metrics a 404."""
    h = Harness()
    r = h.call(method, path, None, token=None)
    assert r.status == 405 and r.headers["Allow"] == "GET", (r.status, r.body)
    assert json.loads(r.body)["error"] == "method_not_allowed"
    assert h.call("GET", path, None, token=None).status == 200


# --- credentials -------------------------------------------------------------------------


@pytest.mark.parametrize("header", [f"Junk {ADMIN}", f"Basic {ADMIN}", ADMIN, f"{ADMIN} Bearer"])
def test_admin_endpoints_take_the_admin_token_only_as_a_bearer_token(header):
    h = Harness()
    for method, path in (("GET", "/_admin/report"), ("GET", "/_admin/faults")):
        status, doc = h.doc(method, path, token=None, headers={"Authorization": header})
        assert_json_error(h, status, doc, (401,))
    assert h.doc("GET", "/_admin/faults", token=None, headers={"Authorization": "bearer " + ADMIN})
    assert h.doc("GET", "/_admin/faults", token=ADMIN)[0] == 200


@pytest.mark.parametrize("name", ["admin", "anonymous", "background"])
def test_a_tenant_may_not_take_the_name_of_a_role(name):
    with pytest.raises(ValueError, match="reserved name"):
        Access({"tok": name}, admin_token="adm")
    with pytest.raises(ScenarioError, match=f"serve.tokens.{name}: a reserved name"):
        read_serve(Reader({"tokens": {name: "tok"}}, "x.toml", "serve"))


def test_two_tenants_may_not_share_a_token():
    with pytest.raises(ScenarioError, match=r"serve\.tokens\.b: the same token as tenant 'a'"):
        read_serve(Reader({"tokens": {"a": "tok", "b": "tok"}}, "x.toml", "serve"))


def test_a_tenant_token_may_not_be_the_admin_token():
    with pytest.raises(ValueError, match="is the admin token"):
        Access({"adm": "qa"}, admin_token="adm")


def test_a_client_without_an_id_is_named_by_its_tenant_and_token_place_never_the_secret():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"}, token="tok-b")
    h.doc("GET", "/ordo/jobs/1", token="tok-b")
    h.doc("GET", "/ordo/jobs/1", token=ADMIN)
    h.doc("GET", "/ordo/jobs/1", token="tok-b", headers={"X-Client-Id": "me"})
    clients = {client for client, _job in h.core.truth.pairs}
    assert clients == {"beta:token#2", "admin", "me"}
    assert "tok-b" not in json.dumps(h.core.report())
    assert ADMIN not in json.dumps(h.core.report())


# --- what a client is judged by ----------------------------------------------------------


def test_retry_after_violations_are_judged_against_the_header_sent_not_the_inner_wait():
    h = Harness(speed=1, retry_after_hint=0.1)  # sent as "Retry-After: 1"
    h.doc("POST", "/status", {"template": "chain"}, token=None)
    for _ in range(10):
        r = h.call("GET", "/status/1", token=None)
        assert r.status == 200 and r.headers["Retry-After"] == "1"
        h.sleep(0.2)
    (pair,) = h.core.truth.pairs.values()
    assert pair.retry_after_violations == 9


def test_retry_after_of_a_rate_limit_is_judged_as_sent():
    h = Harness(speed=10)
    h.doc("POST", "/status", {"template": "chain"}, token=None)
    limit = {"rate_limit": {"rate": 1.5, "burst": 1}}
    assert h.doc("PUT", "/_admin/faults", limit, token=ADMIN)[0] == 200
    answers = []
    for _ in range(5):  # every half second: 200, then 429 (a 0.17 s wait, sent as 1 s), ...
        answers.append(h.call("GET", "/status/1", token=None).status)
        h.sleep(0.5)
    assert answers == [200, 429, 200, 429, 200]
    (pair,) = h.core.truth.pairs.values()
    assert pair.retry_after_violations == 2  # the 200s half a second after a 429


def test_if_none_match_star_on_an_existing_job_is_304():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})
    r = h.call("GET", "/ordo/jobs/1", headers={"If-None-Match": "*"})
    assert r.status == 304 and r.body == b""
    r = h.call("GET", "/ordo/jobs/1", headers={"If-None-Match": '"nope", *'})
    assert r.status == 304
    assert h.call("GET", "/ordo/jobs/1", headers={"If-None-Match": '"nope"'}).status == 200


def test_healthz_tells_the_models_simulated_time():
    h = Harness(speed=10)
    assert h.doc("GET", "/healthz")[1]["now"] == 0.0
    h.sleep(1.5)
    assert h.doc("GET", "/healthz")[1]["now"] == pytest.approx(15.0)


# --- the same attacks against a real pollsim serve ---------------------------------------


@pytest.fixture(scope="module")
def server():
    s = start(20)
    yield s
    s.stop()


def answered_in_json(server, answer, codes: tuple[int, ...]) -> None:
    """A 4xx in ``codes`` with a JSON error body, and /healthz still answers."""
    assert answer.status in codes, (answer.status, answer.body[:200])
    assert set(answer.json) == {"error", "message"}
    assert call(server, "GET", "/healthz", token=None).status == 200


@pytest.mark.live
def test_a_real_server_answers_unicode_digit_ids_404(server):
    assert call(server, "POST", "/status", {"template": "chain"}, token=None).status == 202
    for method, path, token in [
        ("GET", "/status/%C2%B2", None),
        ("GET", "/ordo/jobs/%E2%91%A0", "tok-a"),
        ("POST", "/fiddler/tasks/%C2%B3/revoke", "tok-a"),
        ("GET", "/ordo/jobs/%D9%A1", "tok-a"),
        ("GET", "/ordo/jobs/%EF%BC%91", "tok-a"),
        ("GET", "/status/%D9%A1", None),
    ]:
        answered_in_json(server, call(server, method, path, token=token), (404,))


@pytest.mark.live
def test_a_real_server_refuses_deep_json_and_huge_numbers_in_json(server):
    body = b'{"durations": ' + deep("[", "]") + b"}"
    answered_in_json(server, call(server, "POST", "/ordo/jobs", body), (400,))
    answered_in_json(server, call(server, "PUT", "/_admin/faults", body, token=ADMIN), (400,))
    huge = b'{"duration": 1' + b"0" * 400 + b"}"
    answered_in_json(server, call(server, "POST", "/status", huge, token=None), (422,))
    digits = b'{"duration": ' + b"7" * 5000 + b"}"
    answered_in_json(server, call(server, "POST", "/status", digits, token=None), (422,))
    outage = b'{"outages": [{"start": 1' + b"0" * 400 + b', "duration": 1, "mode": "503"}]}'
    answered_in_json(server, call(server, "PUT", "/_admin/faults", outage, token=ADMIN), (422,))
    zero = {"rate_limit": {"rate": 0, "burst": 1}}
    answered_in_json(server, call(server, "PUT", "/_admin/faults", zero, token=ADMIN), (422,))
    retries = {"template": "chain", "outcome": "transient_failures:100000000000000000000"}
    answered_in_json(server, call(server, "POST", "/status", retries, token=None), (422,))


@pytest.mark.live
def test_a_real_server_takes_the_admin_token_only_as_bearer(server):
    for header in (f"Junk {ADMIN}", f"Basic {ADMIN}", ADMIN):
        answer = call(
            server, "GET", "/_admin/report", token=None, headers={"Authorization": header}
        )
        answered_in_json(server, answer, (401,))
    assert call(server, "GET", "/_admin/faults", token=ADMIN).status == 200


@pytest.mark.live
def test_a_real_server_answers_if_none_match_star_304_and_tells_now(server):
    created = call(server, "POST", "/ordo/jobs", {"template": "chain"})
    path = created.headers["Location"]
    assert call(server, "GET", path, headers={"If-None-Match": "*"}).status == 304
    first = call(server, "GET", "/healthz", token=None).json["now"]
    second = call(server, "GET", "/healthz", token=None).json["now"]
    assert 0 < first <= second


# --- found by an attack after the fixes above --------------------------------------------


@pytest.mark.parametrize(
    "text", ["\u0661\u0660s", "\uff15m", "\u0661\u0660", "1\u0660/s", "\u00b2s"]
)
def test_durations_and_rates_are_ascii_digits_only(text):
    """Arabic-Indic 'ten s' was ten seconds: ids and query numbers were ASCII only
    already, durations went through \\d, which takes any script's digits."""
    from sim.durations import parse_duration, parse_rate

    with pytest.raises(ValueError):
        parse_rate(text) if "/" in text else parse_duration(text)
    h = Harness()
    if "/" not in text:
        status, doc = h.doc("POST", "/ordo/jobs", {"template": "chain", "duration": text})
        assert_json_error(h, status, doc, (422,))


@pytest.mark.parametrize("rate", [1e-300, 1e-10])
def test_a_retry_after_is_never_longer_than_the_bound_on_durations(rate):
    """A rate limit of 1e-300/s was answered with a Retry-After of 300 digits."""
    h = Harness()
    assert (
        h.doc("PUT", "/_admin/faults", {"rate_limit": {"rate": rate, "burst": 1}}, token=ADMIN)[0]
        == 200
    )
    h.doc("POST", "/ordo/jobs", {"template": "chain"})
    h.call("GET", "/ordo/jobs/1")
    r = h.call("GET", "/ordo/jobs/1")
    assert r.status == 429 and int(r.headers["Retry-After"]) <= 10 * 365 * 86400


def test_a_304_to_if_none_match_star_shows_no_state_in_the_ground_truth():
    """``If-None-Match: *`` is answered 304 on any job that exists, so it tells the client
    nothing of the job's state: a client that only ever sends it has seen no end, and
    its polls are wasted, not errors. ``W/*`` is no tag at all."""
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain", "duration": "1s"})
    h.sleep(600)  # long ended
    for _ in range(3):
        assert h.call("GET", "/ordo/jobs/1", headers={"If-None-Match": "*"}).status == 304
    (pair,) = h.core.truth.pairs.values()
    assert math.isnan(pair.t_seen) and pair.errors == 0 and pair.wasted == 3
    assert h.call("GET", "/ordo/jobs/1", headers={"If-None-Match": "W/*"}).status == 200
    assert not math.isnan(pair.t_seen)  # now it has been shown the end
