"""The OpenAPI document against the server: valid OpenAPI 3.1, every endpoint the server
answers in it, what it admits taken by the server, real answers matching it, and a run of
schemathesis (every check and phase, both tokens) that finds nothing."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from mock_server.clock import ScaledClock
from mock_server.core import ACTION_WORDS, BASES, Config, Core, Request, Response
from mock_server.model import LiveModel
from mock_server.openapi import document
from mock_server.openapi_bodies import BYTE_RATE, DURATION_TEXT, RATE, up_to
from sim import load_scenario
from sim.limits import MAX_COUNT, MAX_DURATION
from tests.mock_server.helpers import ADMIN as CORE_ADMIN
from tests.mock_server.helpers import Harness
from tests.mock_server.server import ADMIN, call, start

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import fuzz_server

HARNESS = Harness()
DOC = document(HARNESS.core)
FAULTED = Harness()  #: the rates' faults are put on this one, apart


@pytest.fixture(scope="module")
def server():
    s = start(20)
    yield s
    s.stop()


def check(doc: dict, template: str, method: str, answer) -> None:
    """The answer's status, type and body against the document's for that operation."""
    responses = doc["paths"][template][method]["responses"]
    assert str(answer.status) in responses, f"{method.upper()} {template}: {answer.status}"
    content = responses[str(answer.status)].get("content")
    if content is None:
        assert not answer.body
        return
    kind = answer.headers["Content-Type"].split(";")[0]
    assert kind in content, f"{method.upper()} {template} {answer.status}: {kind}"
    if kind != "application/json":
        return
    registry = Registry().with_resource("root", DRAFT202012.create_resource(doc))
    schema = content[kind]["schema"]
    if "$ref" in schema:
        schema = {"$ref": "root" + schema["$ref"]}
    errors = list(Draft202012Validator(schema, registry=registry).iter_errors(answer.json))
    assert not errors, f"{method.upper()} {template} {answer.status}: {errors[0].message}"


def test_the_document_is_valid_openapi_3_1():
    validate(DOC)
    assert DOC["openapi"] == "3.1.0"
    operations = [op["operationId"] for p in DOC["paths"].values() for op in p.values()]
    assert len(operations) == len(set(operations))


def test_the_examples_in_the_document_are_valid():
    """The examples phase sends them: each must be what its schema admits."""
    seen = 0

    def walk(node):
        nonlocal seen
        if isinstance(node, dict):
            if "example" in node and "schema" in node:  # a parameter
                assert Draft202012Validator(node["schema"]).is_valid(node["example"]), node
                seen += 1
            for example in (
                node.get("examples", []) if isinstance(node.get("examples"), list) else []
            ):
                assert Draft202012Validator(node).is_valid(example), (example, node)
                seen += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(DOC["paths"])
    assert seen > 20


def test_the_document_is_serialized_once_per_server():
    first = HARNESS.call("GET", "/openapi.json", token=None)
    again = HARNESS.call("GET", "/openapi.json", token=None)
    assert first.status == again.status == 200
    assert first.body is again.body  # 3 ms each time otherwise, asked without a token
    assert json.loads(first.body) == DOC


def test_the_document_has_every_endpoint_the_server_answers():
    expected = {"GET /healthz", "GET /metrics", "GET /openapi.json", "GET /_admin/report"}
    expected |= {"GET /_admin/faults", "PUT /_admin/faults"}
    for dialect, base in BASES.items():
        expected |= {f"POST /{base}", f"GET /{base}", f"GET /{base}/{{id}}"}
        expected |= {f"POST /{base}/{{id}}/{word}" for word in ACTION_WORDS[dialect]}
    documented = {f"{m.upper()} {p}" for p, ops in DOC["paths"].items() for m in ops}
    assert documented == expected
    h = Harness()
    for base in BASES.values():
        assert h.call("POST", f"/{base}", {"duration": "1h"}, token="tok-a").status in (201, 202)
    for op in documented:  # each answers something other than "no such path"
        method, path = op.split(" ")
        answer = h.call(method, path.replace("{id}", "1"), token=CORE_ADMIN)
        if not isinstance(answer, Response):
            continue  # answered later, off the event loop (the report)
        assert answer.status < 400 or answer.status == 409, (op, answer.status, answer.body)


def test_every_answer_code_has_the_json_error_body_and_security_is_stated():
    for path, ops in DOC["paths"].items():
        for method, op in ops.items():
            for code, answer in op["responses"].items():
                if int(code) >= 400:
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Error", (method, path, code)
            bearer = [{"bearer": []}]
            if path in ("/healthz", "/metrics", "/openapi.json"):
                assert op["security"] == []
            elif path.startswith("/status"):  # the generic dialect: a token, or none
                assert op["security"] == [*bearer, {}]
            else:
                assert op["security"] == bearer
                assert "401" in op["responses"], (method, path)
            if path.startswith("/_admin"):
                assert "403" in op["responses"], (method, path)


def test_the_document_follows_the_servers_settings():
    h = Harness(anonymous_generic=False, max_wait=5.0, page_max=20, max_scripted_retries=7)
    doc = document(h.core)
    assert doc["paths"]["/status"]["get"]["security"] == [{"bearer": []}]
    status = {p["name"]: p["schema"] for p in doc["paths"]["/ordo/jobs/{id}"]["get"]["parameters"]}
    listing = {p["name"]: p["schema"] for p in doc["paths"]["/ordo/jobs"]["get"]["parameters"]}
    assert status["wait"]["maximum"] == 5.0 and listing["limit"]["maximum"] == 20
    body = doc["paths"]["/ordo/jobs"]["post"]["requestBody"]["content"]["application/json"]
    admits = re.compile(body["schema"]["anyOf"][0]["properties"]["outcome"]["pattern"]).fullmatch
    assert admits("transient_failures:7") and not admits("transient_failures:8")
    for n in (7, 8):
        status, _ = h.doc("POST", "/ordo/jobs", {"outcome": f"transient_failures:{n}"})
        assert status == (201 if n == 7 else 422)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(DURATION_TEXT, fullmatch=True))
def test_a_duration_the_document_admits_is_one_the_server_takes(text):
    status, doc = HARNESS.doc("POST", "/ordo/jobs", {"duration": text, "template": "fanout"})
    assert status == 201, (text, doc)


@settings(max_examples=100, deadline=None)
@given(
    st.from_regex(RATE["pattern"], fullmatch=True),
    st.from_regex(BYTE_RATE["pattern"], fullmatch=True),
    st.integers(1, MAX_COUNT),
)
def test_a_rate_the_document_admits_is_one_the_server_takes(text, bytes_text, burst):
    body = {"rate_limit": {"rate": text, "burst": burst}, "dribble": {"rate": bytes_text}}
    status, doc = FAULTED.doc("PUT", "/_admin/faults", body, token=CORE_ADMIN)
    assert status == 200, (text, doc)


def test_outcomes_the_document_admits_are_those_the_server_takes():
    branches = DOC["paths"]["/ordo/jobs"]["post"]["requestBody"]["content"]["application/json"]
    for branch in branches["schema"]["anyOf"]:
        template = branch["properties"]["template"]
        name = template.get("const") or template["enum"][0]
        admits = re.compile(branch["properties"]["outcome"]["pattern"]).fullmatch
        words = ["succeed", "partial", "fail_step:prepare", "fail_step:tile", "fail_step:nope"]
        words += [f"transient_failures:{n}" for n in ("0", "0999", "1000", "1001", "00001")]
        for outcome in words:
            status, doc = HARNESS.doc("POST", "/ordo/jobs", {"template": name, "outcome": outcome})
            assert (status == 201) == bool(admits(outcome)), (name, outcome, status, doc)


def test_step_ids_with_regex_characters_are_matched_as_themselves(tmp_path: Path):
    scenario = tmp_path / "odd.toml"
    scenario.write_text(ODD)
    clock = ScaledClock(1.0, wall=lambda: 0.0, epoch=0.0)
    core = Core(LiveModel(load_scenario(scenario), clock), Config(tokens={"t": "qa"}))
    body = document(core)["paths"]["/status"]["post"]["requestBody"]["content"]
    admits = re.compile(
        body["application/json"]["schema"]["anyOf"][0]["properties"]["outcome"]["pattern"]
    ).fullmatch
    for outcome in ("fail_step:a.b+c", "fail_step:x(y)/z", "fail_step:aXb+c", "fail_step:x(y)"):
        raw = json.dumps({"outcome": outcome}).encode()
        answer = core.handle(Request("POST", "/status", {}, {}, raw))
        assert (answer.status == 202) == bool(admits(outcome)), (outcome, answer.body)


ODD = """
name = "odd"
horizon = "1h"
[[templates]]
name = "odd"
[[templates.steps]]
id = "a.b+c"
duration = "10s"
[[templates.steps]]
id = "x(y)/z"
duration = "10s"
"""


def test_up_to_is_the_whole_numbers_to_n_in_as_many_digits():
    for n in (0, 7, 10, 99, 100, 1000, 1234):
        admits = re.compile(up_to(n)).fullmatch
        width = len(str(n))
        for k in range(1, width + 2):
            for i in range(10**k):
                text = str(i).zfill(k)
                assert bool(admits(text)) == (k <= width and i <= n), (n, text)


def test_durations_the_document_admits_stay_under_the_bound():
    longest = "".join(["999d", "9999h", "9999999s"])  # three parts, each at its widest
    assert re.fullmatch(DURATION_TEXT, longest)
    assert MAX_DURATION >= 999 * 86400 + 9999 * 3600 + 9999999


@pytest.mark.live
def test_real_answers_match_the_document_in_every_dialect(server):
    doc = call(server, "GET", "/openapi.json", token=None).json
    check(doc, "/openapi.json", "get", call(server, "GET", "/openapi.json", token=None))
    script = {"template": "chain", "outcome": "fail_step:build", "duration": "5s"}
    for base in ("/ordo/jobs", "/fiddler/tasks", "/workflow/jobs", "/status"):
        made = call(server, "POST", base, script)
        check(doc, base, "post", made)
        where = made.headers["Location"]
        check(doc, base + "/{id}", "get", call(server, "GET", where))
        check(doc, base + "/{id}", "get", call(server, "GET", where + "?wait=0.5"))
        etag = {"If-None-Match": call(server, "GET", where).headers["ETag"]}
        check(doc, base + "/{id}", "get", call(server, "GET", where, headers=etag))
        check(doc, base, "get", call(server, "GET", base + "?limit=3&offset=1"))
        check(doc, base, "get", call(server, "GET", base + "?limit=0"))
        check(doc, base + "/{id}", "get", call(server, "GET", base + "/999999"))
        check(doc, base + "/{id}", "get", call(server, "GET", where, token="nope"))
        check(doc, base, "post", call(server, "POST", base, {"template": "nope"}))
        check(doc, base, "post", call(server, "POST", base, b"{not json"))
        check(doc, base, "post", call(server, "POST", base, b" " * (65 * 1024)))
    made = call(server, "POST", "/workflow/jobs", {"duration": "1h"}).headers["Location"]
    for word in ("pause", "resume", "cancel", "cancel"):  # the second cancel: 409
        check(doc, "/workflow/jobs/{id}/" + word, "post", call(server, "POST", f"{made}/{word}"))
    check(doc, "/healthz", "get", call(server, "GET", "/healthz", token=None))
    check(doc, "/metrics", "get", call(server, "GET", "/metrics", token=None))
    for until in ("", "?until=0", "?until=-1"):
        answer = call(server, "GET", "/_admin/report" + until, token=ADMIN)
        check(doc, "/_admin/report", "get", answer)
    check(doc, "/_admin/report", "get", call(server, "GET", "/_admin/report", token="tok-a"))
    check(doc, "/_admin/faults", "get", call(server, "GET", "/_admin/faults", token=ADMIN))
    check(doc, "/_admin/faults", "get", call(server, "GET", "/_admin/faults", token=None))
    for body in ({"reset": 2}, {"errors": {"503": 0.5}, "reset": 0.6}, {}):
        answer = call(server, "PUT", "/_admin/faults", body, token=ADMIN)
        check(doc, "/_admin/faults", "put", answer)


@pytest.mark.live
@pytest.mark.slow
def test_schemathesis_finds_nothing_with_either_token(tmp_path: Path):
    """About 1,500 cases: the tenant's run on every operation, the admin's on /_admin."""
    proc, url = fuzz_server.start_server(tmp_path)
    runs = (
        fuzz_server.RUNS[0],
        fuzz_server.Run("admin", fuzz_server.ADMIN, ("--include-path-regex", "^/_admin/")),
    )
    try:
        tallies = fuzz_server.fuzz(url, 5, 1, 240, tmp_path, runs)
        up, bugs = fuzz_server.healthy(url), fuzz_server.server_errors(url)
    finally:
        proc.terminate()
        proc.wait(10)
    shown = fuzz_server.show(tallies)
    assert all(t.complete for t in tallies.values()), shown
    assert sum(sum(t.cases.values()) for t in tallies.values()) >= 1000, shown
    assert not any(t.failures or t.errors for t in tallies.values()), shown
    assert up and bugs == 0, f"{shown}\n/healthz answered: {up}; the server's own 500s: {bugs}"
    assert "Traceback" not in (tmp_path / "server.log").read_text()
