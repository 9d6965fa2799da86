"""The OpenAPI document against the server: valid OpenAPI 3.1, every route of every
dialect in the registry (and every other endpoint the server answers) in it, generated
from the dialect objects alone, what it admits taken by the server, real answers in every
dialect matching it, and a run of schemathesis (every check and phase, both tokens) that
finds nothing. The tests loop over ``DIALECTS``: a dialect registered is covered."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from mock_server.clock import ScaledClock
from mock_server.core import Config, Core, Request, Response
from mock_server.model import LiveModel
from mock_server.openapi import document
from mock_server.openapi_bodies import BYTE_RATE, DURATION_TEXT, RATE, up_to
from sim import load_scenario
from sim.dialects import DIALECTS, Dialect, Kind, Route
from sim.limits import MAX_COUNT, MAX_DURATION
from tests.mock_server.helpers import ADMIN as CORE_ADMIN
from tests.mock_server.helpers import QA, Harness
from tests.mock_server.server import ADMIN, call, start

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import fuzz_server

HARNESS = Harness()
DOC = document(HARNESS.core)
FAULTED = Harness()  #: the rates' faults are put on this one, apart
SEED = load_scenario(QA).seed  #: the shown ids of the dialects that derive them from it
TENANT = "alpha"  #: tok-a's tenant: the project of the dialects whose paths name one
NAMES = ("ordo", "fiddler", "workflow", "generic", "fiddler-v3", "azure-lro", "google-lro")
GENERATOR = sorted((Path(__file__).resolve().parents[2] / "mock_server").glob("openapi*.py"))


def fill(route: Route, shown: str = "", project: str = TENANT) -> str:
    return route.path.replace("{id}", shown).replace("{project}", project)


def first(dialect: Dialect, kind: Kind) -> Route:
    return next(r for r in dialect.routes if r.kind is kind)


#: a dialect whose submission path names no project: the submission bodies' tests use it
PLAIN = next(
    d
    for d in DIALECTS.values()
    if any(r.kind is Kind.SUBMIT and "{" not in r.path for r in d.routes)
)
SUBMIT = first(PLAIN, Kind.SUBMIT).path
#: the status its submissions are answered with
ACCEPTED = int(next(c for c in DOC["paths"][SUBMIT]["post"]["responses"] if c < "300"))


def made_id(dialect: Dialect, answer) -> str:
    """The new job's shown id, as the dialect's own client reads it off the answer."""
    headers = {k.lower(): v for k, v in answer.headers.items()}
    body = json.loads(answer.body) if answer.body else None
    shown = dialect.new_job(answer.status, headers, body)
    assert shown, (dialect.name, answer.status, answer.body)
    return shown


def resolve(doc, pointer: str):
    """The member of ``doc`` at a JSON pointer (RFC 6901)."""
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        doc = doc[int(token)] if isinstance(doc, list) else doc[token]
    return doc


@pytest.fixture(scope="module")
def server():
    s = start(20)
    yield s
    s.stop()


def check(doc: dict, template: str, method: str, answer) -> None:
    """The answer's status, required headers, type and body against the document's for
    that operation."""
    responses = doc["paths"][template][method]["responses"]
    assert str(answer.status) in responses, f"{method.upper()} {template}: {answer.status}"
    given = {k.lower() for k in answer.headers}
    for name, header in responses[str(answer.status)].get("headers", {}).items():
        assert name.lower() in given or not header.get("required"), (template, name)
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
    for op_id in operations:  # what code generators take as a name
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", op_id), op_id


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


def test_every_route_of_every_dialect_is_in_the_document():
    expected = {"GET /healthz", "GET /metrics", "GET /openapi.json", "GET /_admin/report"}
    expected |= {"GET /_admin/faults", "PUT /_admin/faults", "POST /_admin/reset"}
    expected |= {"GET /_admin/requests", "DELETE /_admin/requests", "GET /_admin/jobs"}
    for dialect in DIALECTS.values():
        assert dialect.routes, dialect.name
        for route in dialect.routes:
            expected.add(f"{route.method} {route.path}")
            op = DOC["paths"][route.path][route.method.lower()]
            assert op["operationId"].startswith(dialect.name.replace("-", "_") + "_")
            assert op["tags"] == [dialect.name]
            names = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert names == set(re.findall(r"\{(\w+)\}", route.path)), route.path
            for p in op["parameters"]:
                if p["name"] == "id":  # an example that names the server's first job
                    assert p["schema"] | {"examples": []} == dialect.id_schema() | {"examples": []}
                    assert p["example"] == p["schema"]["examples"][0] == dialect.show_id(1, SEED)
                    assert dialect.read_id(p["example"], SEED) == 1
    documented = {f"{m.upper()} {p}" for p, ops in DOC["paths"].items() for m in ops}
    assert documented == expected
    assert [t["name"] for t in DOC["tags"]] == list(DIALECTS)


def test_every_documented_path_is_one_the_server_answers():
    """Each dialect's routes answer, on a job made there, something other than 'no such
    path' (an action the job's state refuses: 409)."""
    h = Harness()
    for dialect in DIALECTS.values():
        made = h.call("POST", fill(first(dialect, Kind.SUBMIT)), {"duration": "1h"})
        assert made.status < 300, (dialect.name, made.status, made.body)
        shown = made_id(dialect, made)
        for route in dialect.routes:
            answer = h.call(route.method, fill(route, shown))
            if not isinstance(answer, Response):
                continue
            assert answer.status < 400 or answer.status == 409, (route, answer.status, answer.body)
    for op in ("GET /healthz", "GET /metrics", "GET /openapi.json", "GET /_admin/faults"):
        method, path = op.split(" ")
        assert h.call(method, path, token=CORE_ADMIN).status == 200, op


def test_the_schemas_are_the_dialect_objects_own():
    schemas = DOC["components"]["schemas"]
    for d in DIALECTS.values():
        name, kinds = d.name, {r.kind for r in d.routes}
        assert schemas[name] == d.schema()
        assert schemas[f"{name}_error"] == d.error_schema()
        if Kind.SUBMIT in kinds:
            assert schemas[f"{name}_submitted"] == d.submitted_schema()
        if Kind.LIST in kinds:
            assert schemas[f"{name}_list"] == d.page_schema()
        if Kind.ACTION in kinds:
            assert schemas[f"{name}_acted"] == d.acted_schema()
        if Kind.RESOURCE in kinds:
            assert schemas[f"{name}_resource"] == d.resource_schema()
        for route in d.routes:
            if route.kind is Kind.INFO:
                op = DOC["paths"][route.path]["get"]
                shown = op["responses"]["200"]["content"]["application/json"]["schema"]
                assert schemas[shown["$ref"].rpartition("/")[2]] == dict(route.info_schema)
                assert Draft202012Validator(route.info_schema).is_valid(route.info())


def test_no_dialect_is_named_in_the_generator():
    """The document is generated from the registry: no dialect's name in its code."""
    names = {*NAMES, *DIALECTS}
    assert len(GENERATOR) == 4
    for path in GENERATOR:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for name in names:
                    found = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", node.value)
                    assert not found, (path.name, name, node.value[:80])


def test_errors_are_in_each_dialects_shape_and_security_is_stated():
    dialect_of = {(r.method.lower(), r.path): d for d in DIALECTS.values() for r in d.routes}
    bearer = [{"bearer": []}]
    for path, ops in DOC["paths"].items():
        for method, op in ops.items():
            dialect = dialect_of.get((method, path))
            want = f"{dialect.name}_error" if dialect else "Error"
            for code, answer in op["responses"].items():
                if int(code) >= 400:
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref == f"#/components/schemas/{want}", (method, path, code)
            if path in ("/healthz", "/metrics", "/openapi.json"):
                assert op["security"] == []
            elif dialect is not None and dialect.anonymous:  # a token, or none
                assert op["security"] == [*bearer, {}]
            else:
                assert op["security"] == bearer
                assert "401" in op["responses"], (method, path)
            if path.startswith("/_admin"):
                assert "403" in op["responses"], (method, path)
    assert any(d.anonymous for d in DIALECTS.values())  # else the branch above is untried


def test_another_tenants_project_is_documented_as_the_404_it_gets():
    """A route naming a ``{project}`` is answered 404 for a project not the token's own,
    as for no such job (README: the same 404 for both): the document says so, promises
    no 403 there, and the answer validates against it."""
    projected = 0
    for dialect in DIALECTS.values():
        for route in dialect.routes:
            if "{project}" not in route.path:
                continue
            projected += 1
            responses = DOC["paths"][route.path][route.method.lower()]["responses"]
            assert "403" not in responses, (route.method, route.path)
            assert "project not the token's own" in responses["404"]["description"]
            path = fill(route, dialect.show_id(1, SEED), project="beta")  # tok-a is alpha
            answer = HARNESS.call(route.method, path, {} if route.method == "POST" else None)
            assert answer.status == 404, (route.path, answer.status, answer.body)
            check(DOC, route.path, route.method.lower(), _json(answer))
    assert projected  # else nothing above was tried


def _json(answer: Response) -> SimpleNamespace:
    """A core Response as ``check`` reads an answer (``json``: its parsed body)."""
    doc = json.loads(answer.body) if answer.body else None
    return SimpleNamespace(status=answer.status, headers=answer.headers, body=answer.body, json=doc)


def test_links_from_a_submission_name_the_new_job():
    """Where the body of a real submission's answer shows the new job's id, the document
    links the submission to the job's routes by it, and following them finds the job."""
    h = Harness()
    linked = 0
    for dialect in DIALECTS.values():
        route = first(dialect, Kind.SUBMIT)
        made = h.call("POST", fill(route), {"duration": "1h"})
        shown, body = made_id(dialect, made), json.loads(made.body)
        answer = DOC["paths"][route.path]["post"]["responses"][str(made.status)]
        links = answer["links"]
        if not links:
            assert not _members_equal(body, shown), (dialect.name, body)
            continue
        linked += 1
        targets = {r.path: r for r in dialect.routes if "{id}" in r.path}
        by_op = {
            op["operationId"]: (p, m) for p, ops in DOC["paths"].items() for m, op in ops.items()
        }
        assert {by_op[link["operationId"]][0] for link in links.values()} == set(targets)
        for link in links.values():
            pointer = link["parameters"]["id"].removeprefix("$response.body#")
            assert resolve(body, pointer) == shown
            path, method = by_op[link["operationId"]]
            if method == "get":
                assert h.call("GET", fill(targets[path], shown)).status == 200, path
    assert linked >= 3


def _members_equal(node, value) -> bool:
    if isinstance(node, dict):
        return any(_members_equal(v, value) for v in node.values())
    if isinstance(node, list):
        return any(_members_equal(v, value) for v in node)
    return node == value


def test_the_document_follows_the_servers_settings():
    h = Harness(anonymous_generic=False, max_wait=5.0, page_max=20, max_scripted_retries=7)
    doc = document(h.core)
    for d in DIALECTS.values():
        for route in d.routes:
            op = doc["paths"][route.path][route.method.lower()]
            assert op["security"] == [{"bearer": []}]
            params = {p["name"]: p["schema"] for p in op["parameters"]}
            if route.kind is Kind.STATUS:
                assert params["wait"]["maximum"] == 5.0
            if route.kind is Kind.LIST:  # the dialect's own paging, within page_max
                paging = d.page_query(20)
                assert {n: params[n] for n in paging} == {
                    n: {k: v for k, v in q.items() if k != "description"} for n, q in paging.items()
                }
                limit = params.get("limit", params.get("pageSize"))
                assert limit.get("maximum", 20) == 20, (route.path, limit)
    body = doc["paths"][SUBMIT]["post"]["requestBody"]["content"]["application/json"]
    admits = re.compile(body["schema"]["anyOf"][0]["properties"]["outcome"]["pattern"]).fullmatch
    assert admits("transient_failures:7") and not admits("transient_failures:8")
    for n in (7, 8):
        status, _ = h.doc("POST", SUBMIT, {"outcome": f"transient_failures:{n}"})
        assert status == (ACCEPTED if n == 7 else 422)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(DURATION_TEXT, fullmatch=True))
def test_a_duration_the_document_admits_is_one_the_server_takes(text):
    status, doc = HARNESS.doc("POST", SUBMIT, {"duration": text, "template": "fanout"})
    assert status == ACCEPTED, (text, doc)


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
    branches = DOC["paths"][SUBMIT]["post"]["requestBody"]["content"]["application/json"]
    for branch in branches["schema"]["anyOf"]:
        template = branch["properties"]["template"]
        name = template.get("const") or template["enum"][0]
        admits = re.compile(branch["properties"]["outcome"]["pattern"]).fullmatch
        words = ["succeed", "partial", "fail_step:prepare", "fail_step:tile", "fail_step:nope"]
        words += [f"transient_failures:{n}" for n in ("0", "0999", "1000", "1001", "00001")]
        for outcome in words:
            status, doc = HARNESS.doc("POST", SUBMIT, {"template": name, "outcome": outcome})
            assert (status == ACCEPTED) == bool(admits(outcome)), (name, outcome, status, doc)


def test_step_ids_with_regex_characters_are_matched_as_themselves(tmp_path: Path):
    scenario = tmp_path / "odd.toml"
    scenario.write_text(ODD)
    clock = ScaledClock(1.0, wall=lambda: 0.0, epoch=0.0)
    core = Core(LiveModel(load_scenario(scenario), clock), Config(tokens={"t": "qa"}))
    body = document(core)["paths"][SUBMIT]["post"]["requestBody"]["content"]
    admits = re.compile(
        body["application/json"]["schema"]["anyOf"][0]["properties"]["outcome"]["pattern"]
    ).fullmatch
    for outcome in ("fail_step:a.b+c", "fail_step:x(y)/z", "fail_step:aXb+c", "fail_step:x(y)"):
        raw = json.dumps({"outcome": outcome}).encode()
        auth = {"authorization": "Bearer t"}
        answer = core.handle(Request("POST", SUBMIT, {}, auth, raw))
        assert (answer.status == ACCEPTED) == bool(admits(outcome)), (outcome, answer.body)


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
    whole = {"template": "chain", "outcome": "succeed", "job_duration": "10s"}
    for d in DIALECTS.values():
        submit, status, listing = (first(d, k) for k in (Kind.SUBMIT, Kind.STATUS, Kind.LIST))
        made = call(server, "POST", fill(submit), script)
        check(doc, submit.path, "post", made)
        check(doc, submit.path, "post", call(server, "POST", fill(submit), whole))
        both = call(server, "POST", fill(submit), {**whole, "duration": "1s"})
        assert both.status == 422
        check(doc, submit.path, "post", both)
        where = fill(status, made_id(d, made))
        check(doc, status.path, "get", call(server, "GET", where))
        check(doc, status.path, "get", call(server, "GET", where + "?wait=0.5"))
        etag = call(server, "GET", where).headers.get("ETag")
        if etag:
            check(
                doc, status.path, "get", call(server, "GET", where, headers={"If-None-Match": etag})
            )
        check(doc, listing.path, "get", call(server, "GET", fill(listing) + "?limit=3&offset=1"))
        check(doc, listing.path, "get", call(server, "GET", fill(listing) + "?limit=0"))
        nobody = fill(status, d.show_id(999_999, SEED))
        check(doc, status.path, "get", call(server, "GET", nobody))
        check(doc, status.path, "get", call(server, "GET", where, token="nope"))
        check(doc, status.path, "get", call(server, "GET", where + "?wait=x"))
        check(doc, submit.path, "post", call(server, "POST", fill(submit), {"template": "nope"}))
        check(doc, submit.path, "post", call(server, "POST", fill(submit), b"{not json"))
        check(doc, submit.path, "post", call(server, "POST", fill(submit), b" " * (65 * 1024)))
        if "{project}" in submit.path:  # another tenant's project
            check(doc, status.path, "get", call(server, "GET", fill(status, "1", "beta")))
            check(doc, submit.path, "post", call(server, "POST", fill(submit, project="beta")))
        for route in d.routes:
            if route.kind in (Kind.RESOURCE, Kind.INFO):
                check(doc, route.path, "get", call(server, "GET", fill(route, made_id(d, made))))
        actions = [r for r in d.routes if r.kind is Kind.ACTION]
        if actions:
            shown = made_id(d, call(server, "POST", fill(submit), {"duration": "1h"}))
            for route in [*actions, actions[-1]]:  # the last twice: refused (409) or not
                check(doc, route.path, "post", call(server, "POST", fill(route, shown)))
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
    for query in ("", "?client=alpha:token%231&job=1&since=0&limit=5", "?limit=x", "?nope=1"):
        answer = call(server, "GET", "/_admin/requests" + query, token=ADMIN)
        check(doc, "/_admin/requests", "get", answer)
    for query in ("", "?state=succeeded&template=chain&tenant=alpha&limit=2", "?state=x"):
        check(doc, "/_admin/jobs", "get", call(server, "GET", "/_admin/jobs" + query, token=ADMIN))
    for query in ("?client=alpha:token%231&job=1", "?client=nobody", "?job=x"):
        answer = call(server, "GET", "/_admin/report" + query, token=ADMIN)
        check(doc, "/_admin/report", "get", answer)
    check(doc, "/_admin/jobs", "get", call(server, "GET", "/_admin/jobs", token="tok-a"))
    check(
        doc, "/_admin/requests", "delete", call(server, "DELETE", "/_admin/requests", token=ADMIN)
    )
    check(doc, "/_admin/reset", "post", call(server, "POST", "/_admin/reset", token=ADMIN))
    check(doc, "/_admin/reset", "post", call(server, "POST", "/_admin/reset", token=None))


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
