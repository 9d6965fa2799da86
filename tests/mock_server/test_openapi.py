"""The OpenAPI document against the server's real answers, and a property-based run of
schemathesis against the live server: no server error, no answer the document denies."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.mock_server.server import ADMIN, call, start


@pytest.fixture(scope="module")
def server():
    s = start(20)
    yield s
    s.stop()


def check(doc: dict, template: str, method: str, answer) -> None:
    """The answer's body against the document's schema for that operation and status."""
    content = doc["paths"][template][method]["responses"][str(answer.status)]["content"]
    schema = content["application/json"]["schema"]
    registry = Registry().with_resource("root", DRAFT202012.create_resource(doc))
    if "$ref" in schema:
        schema = {"$ref": "root" + schema["$ref"]}
    errors = list(Draft202012Validator(schema, registry=registry).iter_errors(answer.json))
    assert not errors, f"{method.upper()} {template} {answer.status}: {errors[0].message}"


def test_the_document_is_valid_openapi_3_1(server):
    doc = call(server, "GET", "/openapi.json", token=None).json
    assert doc["openapi"] == "3.1.0"
    Draft202012Validator.check_schema(doc["components"]["schemas"]["ordo"])
    operations = [op["operationId"] for p in doc["paths"].values() for op in p.values()]
    assert len(operations) == len(set(operations)) >= 20


def test_real_answers_match_the_document_in_every_dialect(server):
    doc = call(server, "GET", "/openapi.json", token=None).json
    script = {"template": "chain", "outcome": "fail_step:build", "duration": "5s"}
    for base in ("/ordo/jobs", "/fiddler/tasks", "/workflow/jobs", "/status"):
        made = call(server, "POST", base, script)
        check(doc, base, "post", made)
        where = made.headers["Location"]
        for _ in range(3):  # running, then ended
            check(doc, base + "/{id}", "get", call(server, "GET", where))
            time.sleep(0.3)
        check(doc, base, "get", call(server, "GET", base + "?limit=3"))
        check(doc, base + "/{id}", "get", call(server, "GET", base + "/999999"))
        check(doc, base, "post", call(server, "POST", base, {"template": "nope"}))
    made = call(server, "POST", "/workflow/jobs", {"duration": "1h"}).headers["Location"]
    for word in ("pause", "resume", "cancel"):
        check(doc, "/workflow/jobs/{id}/" + word, "post", call(server, "POST", f"{made}/{word}"))
    check(doc, "/healthz", "get", call(server, "GET", "/healthz", token=None))
    check(doc, "/_admin/report", "get", call(server, "GET", "/_admin/report", token="tok-a"))


def test_schemathesis_finds_no_server_error_and_no_answer_the_document_denies(
    server, tmp_path: Path
):
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert exe, "schemathesis is a dev dependency: pip install -e '.[dev]'"
    r = subprocess.run(
        [
            exe,
            "run",
            server.url + "/openapi.json",
            "--header",
            "Authorization: Bearer tok-a",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--workers",
            "1",
            "--request-timeout",
            "20",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    report = call(server, "GET", "/_admin/report", token=ADMIN).json
    assert all(row["http_status"] < 500 for row in report["totals"]["requests"])
