"""The OpenAPI 3.1 document of a running server (``GET /openapi.json``): every endpoint
it answers (the four dialects, the admin API, health, metrics and this document), with
the scenario's templates and the server's own bounds, and every answer it may give. The
tests check real answers against it, and schemathesis fuzzes the server from it
(``benchmarks/fuzz_server.py``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from mock_server.core import ACTION_WORDS, BASES, LIST_KEY, SUBMIT_FIELDS
from mock_server.openapi_answers import BODY, FAULTS, documents, faults_shown, operation
from mock_server.openapi_bodies import faults_body, obj, submission
from mock_server.responses import Response
from sim.mock_spec import ERROR_CODES
from sim.status_server import OUTAGE_MODES

if TYPE_CHECKING:
    from mock_server.core import Core

JOB_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "a job id: ASCII digits, at most 18",
    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
    "example": "1",
}
WAIT = "long-poll: hold the answer until the job's status changes, at most this many wall seconds"
CLIENT_ID = {
    "name": "X-Client-Id",
    "in": "header",
    "required": False,
    "description": "who polls, for the ground truth (else the tenant)",
    "schema": {"type": "string"},
}


def answer(core: Core) -> Response:
    """``GET /openapi.json``, serialized once: what it describes is fixed when the server
    starts, and serializing it takes 3 ms, for anyone to ask without a token."""
    body = _MADE.get(core)
    if body is None:
        body = _MADE[core] = json.dumps(document(core), separators=(",", ":")).encode()
    return Response(200, body, {"Content-Type": "application/json"})


_MADE: WeakKeyDictionary = WeakKeyDictionary()


def document(core: Core) -> dict:
    """The OpenAPI document of this server."""
    paths: dict = {}
    for dialect in BASES:
        paths.update(_dialect_paths(core, dialect))
    paths.update(_admin_paths())
    paths.update(_plain_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pollsim mock status API",
            "version": "1",
            "description": "Jobs run by the pollsim lifecycle model on a scaled clock, "
            f"in four dialects (speed {core.model.clock.speed:g}).",
        },
        "paths": paths,
        "components": {
            "schemas": documents(LIST_KEY) | {"faults": faults_shown(ERROR_CODES, OUTAGE_MODES)},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a tenant's token (its jobs), or the admin token (every "
                    "job, and /_admin)",
                }
            },
        },
    }


def _dialect_paths(core: Core, dialect: str) -> dict:
    """The submit, list, status and action paths of one dialect."""
    base = BASES[dialect]
    doc = {"application/json": {"schema": {"$ref": f"#/components/schemas/{dialect}"}}}
    anonymous = dialect == "generic" and core.config.anonymous_generic
    security = [{"bearer": []}, *([{}] if anonymous else [])]
    body = submission(
        list(core.model.templates.values()), getattr(core.config, "max_scripted_retries", None)
    )
    assert {k for branch in body["anyOf"] for k in branch["properties"]} == SUBMIT_FIELDS
    etag = {"ETag": {"schema": {"type": "string"}}}
    created = {
        "description": "Submitted",
        "content": doc,
        "headers": {"Location": {"required": True, "schema": {"type": "string"}}}
        | ({} if dialect == "generic" else etag),
        "links": _links(dialect),
    }
    page = {"application/json": {"schema": {"$ref": f"#/components/schemas/{dialect}_list"}}}
    config = core.config
    out = {
        f"/{base}": {
            "post": operation(
                f"{dialect}_submit",
                f"Submit a job ({dialect})",
                security,
                {"202" if dialect == "generic" else "201": created},
                (*BODY, 401, 422, 429),
                [CLIENT_ID],
                body={"required": False, "content": {"application/json": {"schema": body}}},
            ),
            "get": operation(
                f"{dialect}_list",
                f"List jobs ({dialect})",
                security,
                {"200": {"description": "A page of jobs", "content": page}},
                (401, 429),
                [
                    _query("limit", "integer", 1, config.page_max, 10),
                    _query("offset", "integer", 0, None, 0),
                    CLIENT_ID,
                ],
            ),
        },
        f"/{base}/{{id}}": {
            "get": operation(
                f"{dialect}_status",
                f"A job's status ({dialect})",
                security,
                {
                    "200": {"description": "The status", "content": doc, "headers": etag},
                    "304": {"description": "Unchanged since the ETag given", "headers": etag},
                },
                (401, 404, *FAULTS),
                [
                    JOB_ID,
                    _query("wait", "number", 0, config.max_wait, min(1, config.max_wait), WAIT),
                    {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
                    CLIENT_ID,
                ],
            )
        },
    }
    for word in ACTION_WORDS[dialect]:
        out[f"/{base}/{{id}}/{word}"] = {
            "post": operation(
                f"{dialect}_{word}",
                f"{word.capitalize()} a job ({dialect})",
                security,
                {"200": {"description": "Done", "content": doc, "headers": etag}},
                (401, 404, 409, 429),
                [JOB_ID, CLIENT_ID],
            )
        }
    return out


def _links(dialect: str) -> dict:
    """From a submission to its job's status and actions, for stateful testing."""
    at = {"ordo": "/job/id", "fiddler": "/task_id"}.get(dialect, "/id")
    ops = [f"{dialect}_status", *(f"{dialect}_{w}" for w in ACTION_WORDS[dialect])]
    return {op: {"operationId": op, "parameters": {"id": f"$response.body#{at}"}} for op in ops}


def _admin_paths() -> dict:
    """The ground truth and the faults, behind the admin token."""
    admin = [{"bearer": []}]
    json_of = {"application/json": {"schema": {"$ref": "#/components/schemas/faults"}}}
    faults = {"description": "The faults in force", "content": json_of}
    shown = {"admin_faults": {"operationId": "admin_faults"}}  # what was put reads back
    report = {
        **obj(
            {
                "jobs": {"type": "array", "items": {"type": "object"}},
                "clients": {"type": "array", "items": {"type": "object"}},
                "totals": {"type": "object"},
                "speed": {"type": "number", "exclusiveMinimum": 0},
                "now": {"type": "number", "minimum": 0},
            }
        ),
        "additionalProperties": True,
    }
    until = _query("until", "number", 0, None, 60, "simulated seconds: the truth up to then")
    return {
        "/_admin/report": {
            "get": operation(
                "admin_report",
                "The ground truth per client and job, per client, and in all",
                admin,
                {
                    "200": {
                        "description": "The ground truth",
                        "content": {"application/json": {"schema": report}},
                    }
                },
                (401, 403),
                [until],
            )
        },
        "/_admin/faults": {
            "get": operation(
                "admin_faults", "The faults in force", admin, {"200": faults}, (401, 403)
            ),
            "put": operation(
                "admin_set_faults",
                "Replace the faults in force",
                admin,
                {"200": {**faults, "links": shown}},
                (*BODY, 401, 403, 422),
                body={
                    "required": False,
                    "content": {
                        "application/json": {"schema": faults_body(ERROR_CODES, OUTAGE_MODES)}
                    },
                },
            ),
        },
    }


def _plain_paths() -> dict:
    """What answers without a token: health, metrics, this document."""
    health = obj(
        {
            "status": {"type": "string", "const": "ok"},
            "speed": {"type": "number", "exclusiveMinimum": 0},
            "epoch": {"type": "string", "format": "date-time"},
            "now": {"type": "number", "minimum": 0},
        }
    )
    text = {"text/plain": {"schema": {"type": "string"}}}
    json_doc = {"application/json": {"schema": {"type": "object"}}}
    return {
        "/healthz": {
            "get": operation(
                "healthz",
                "Liveness, and the simulated time now",
                [],
                {"200": {"description": "Up", "content": {"application/json": {"schema": health}}}},
            )
        },
        "/metrics": {
            "get": operation(
                "metrics",
                "Prometheus metrics (text format 0.0.4)",
                [],
                {"200": {"description": "The metrics", "content": text}},
            )
        },
        "/openapi.json": {
            "get": operation(
                "openapi", "This document", [], {"200": {"description": "", "content": json_doc}}
            )
        },
    }


def _query(name, kind, low, high, example, description=None) -> dict:
    schema: dict = {"type": kind, "minimum": low}
    if high is not None:
        schema["maximum"] = high
    p = {"name": name, "in": "query", "required": False, "schema": schema, "example": example}
    if description:
        p["description"] = description
    return p
