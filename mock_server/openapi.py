"""The OpenAPI 3.1 document of a running server (``GET /openapi.json``): every endpoint
it answers (every route of every dialect in ``sim.dialects.DIALECTS``, the admin API,
health, metrics and this document), with the scenario's templates and the server's own
bounds, and every answer it may give, errors in the shape of the dialect they belong to.
It is generated from the dialect objects alone: a dialect added to the registry is in it
(the admin API's part is in ``mock_server.openapi_admin``). The tests check real answers
against it, and schemathesis fuzzes the server from it (``benchmarks/fuzz_server.py``)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from mock_server.openapi_admin import FAULTS_SHOWN, admin_paths
from mock_server.openapi_answers import BODY, ERROR, FAULTS, operation, ref, sampled
from mock_server.openapi_bodies import submission
from mock_server.responses import Response
from sim.dialects import DIALECTS, Dialect, Kind, Route
from sim.dialects.schema import obj
from sim.mock_spec import TENANT_NAME, TENANT_RULE

if TYPE_CHECKING:
    from mock_server.core import Core

PROJECT = {
    "name": "project",
    "in": "path",
    "required": True,
    "description": "the tenant's name (its token's; " + TENANT_RULE + ")",
    "schema": {"type": "string", "pattern": f"^{TENANT_NAME.pattern}$"},
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
    schemas: dict = {"Error": ERROR, "faults": FAULTS_SHOWN}
    for dialect in DIALECTS.values():
        found, shapes = _dialect_paths(core, dialect)
        for path, ops in found.items():
            paths.setdefault(path, {}).update(ops)
        schemas |= shapes
    paths.update(admin_paths(core))
    paths.update(_plain_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pollsim mock status API",
            "version": "1",
            "description": "Jobs run by the pollsim lifecycle model on a scaled clock, "
            f"the same jobs in {len(DIALECTS)} dialects, {', '.join(DIALECTS)} "
            f"(speed {core.model.clock.speed:g}).",
        },
        "tags": [{"name": d.name, "description": d.summary} for d in DIALECTS.values()],
        "paths": paths,
        "components": {
            "schemas": schemas,
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


def _dialect_paths(core: Core, dialect: Dialect) -> tuple[dict, dict]:
    """The paths of one dialect's routes, and the schemas they name: ``<name>`` (the
    status document), ``<name>_submitted``, ``<name>_list``, ``<name>_acted``,
    ``<name>_resource``, ``<name>_error`` and one per fixed document."""
    name, config = dialect.name, core.config
    kinds = {r.kind for r in dialect.routes}
    schemas = {name: dialect.schema(), f"{name}_error": dialect.error_schema()}
    if Kind.SUBMIT in kinds:
        schemas[f"{name}_submitted"] = dialect.submitted_schema()
    if Kind.LIST in kinds:
        schemas[f"{name}_list"] = dialect.page_schema()
    if Kind.ACTION in kinds:
        schemas[f"{name}_acted"] = dialect.acted_schema()
    if Kind.RESOURCE in kinds:
        schemas[f"{name}_resource"] = dialect.resource_schema()
    sample = sampled(dialect)
    anonymous = dialect.anonymous and config.anonymous_generic
    security = [{"bearer": []}, *([{}] if anonymous else [])]
    ids = op_ids(dialect)
    etag = {"ETag": {"required": False, "schema": {"type": "string"}}}
    paths: dict = {}
    for route, op_id in zip(dialect.routes, ids, strict=True):
        params = _path_params(dialect, route, core.model.scenario.seed)
        errors: tuple[int, ...] = (401, 429)
        body = None
        if route.kind is Kind.SUBMIT:
            answer = sample.submitted
            headers = {h: {"required": True, "schema": {"type": "string"}} for h in answer.headers}
            answers = {
                str(answer.status): {
                    "description": "Submitted",
                    "content": ref(f"{name}_submitted"),
                    "headers": etag | headers,
                    "links": _links(dialect, ids, sample.id_pointer),
                }
            }
            errors = (*BODY, 401, 422, 429)
            body = submission(list(core.model.templates.values()), config.max_scripted_retries)
            body = {"required": False, "content": {"application/json": {"schema": body}}}
        elif route.kind is Kind.LIST:
            answers = {"200": {"description": "A page of jobs", "content": ref(f"{name}_list")}}
            params += _page_query(dialect, config.page_max)
        elif route.kind is Kind.STATUS:
            answers = {
                "200": {"description": "The status", "content": ref(name), "headers": etag},
                "304": {"description": "Unchanged since the ETag given", "headers": etag},
            }
            errors = (401, 404, *FAULTS)
            params += [
                _query("wait", "number", 0, config.max_wait, min(1, config.max_wait), WAIT),
                {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
            ]
        elif route.kind is Kind.ACTION:
            code = str(sample.acted.status)
            answers = {code: {"description": "Done", "content": ref(f"{name}_acted")}}
            answers[code]["headers"] = etag
            errors = (401, 404, 409, 429)
        elif route.kind is Kind.RESOURCE:
            answers = {"200": {"description": "The job", "content": ref(f"{name}_resource")}}
            errors = (401, 404, 429)
        else:  # Kind.INFO: a fixed document
            schemas[op_id] = dict(route.info_schema or {"type": "object"})
            answers = {"200": {"description": route.summary, "content": ref(op_id)}}
        if "{project}" in route.path:  # another tenant's project: 404, as no such job
            errors = (*errors, 404)
        method = route.method.lower()
        paths.setdefault(route.path, {})  # a valid OpenAPI template as it is
        paths[route.path][method] = operation(
            op_id,
            f"{route.summary} ({name})",
            security,
            answers,
            errors,
            [*params, CLIENT_ID],
            body=body,
            error=f"{name}_error",
            tags=[name],
        )
    return paths, schemas


def op_ids(dialect: Dialect) -> list[str]:
    """Each route's operationId, ``<dialect>_<op>``, an identifier (``-`` as ``_``): a
    fixed document's is qualified by its path's last literal segment, as is any op a
    dialect has twice."""
    ops = [r.op for r in dialect.routes]
    out = []
    for route, op in zip(dialect.routes, ops, strict=True):
        if route.kind is Kind.INFO or ops.count(op) > 1:
            literal = [p for p in route.path.split("/") if p and "{" not in p][-1]
            op = f"{op}_{literal}"
        out.append(re.sub(r"\W", "_", f"{dialect.name}_{op}"))
    return out


def _path_params(dialect: Dialect, route: Route, seed: int) -> list[dict]:
    """The path's placeholders: ``{id}`` as the dialect reads it, its example the id this
    server shows its first job by (an example that names a job, once one is made);
    ``{project}`` a name."""
    params = []
    for placeholder in re.findall(r"\{(\w+)\}", route.path):
        if placeholder == "project":
            params.append(PROJECT)
            continue
        example = dialect.show_id(1, seed)
        schema = {**dialect.id_schema(), "examples": [example]}
        param = {"name": placeholder, "in": "path", "required": True, "schema": schema}
        if "description" in schema:
            param["description"] = schema["description"]
        params.append({**param, "example": example})
    return params


def _links(dialect: Dialect, ids: list[str], pointer: str | None) -> dict:
    """From a submission to its job's routes (status, actions, resource), for stateful
    testing: the id from the answer's body at ``pointer``, the project as submitted."""
    if pointer is None:
        return {}
    links = {}
    for route, op_id in zip(dialect.routes, ids, strict=True):
        if "{id}" not in route.path:
            continue
        params = {"id": f"$response.body#{pointer}"}
        if "{project}" in route.path:
            params["project"] = "$request.path.project"
        links[op_id] = {"operationId": op_id, "parameters": params}
    return links


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


def _page_query(dialect: Dialect, page_max: int) -> list[dict]:
    """The query parameters a dialect's list pages by (``Dialect.page_query``)."""
    params = []
    for name, schema in dialect.page_query(page_max).items():
        schema = dict(schema)
        param = {"name": name, "in": "query", "required": False, "schema": schema}
        if "description" in schema:
            param["description"] = schema.pop("description")
        params.append(param)
    return params


def _query(name, kind, low, high, example, description=None) -> dict:
    schema: dict = {"type": kind, "minimum": low}
    if high is not None:
        schema["maximum"] = high
    p = {"name": name, "in": "query", "required": False, "schema": schema, "example": example}
    if description:
        p["description"] = description
    return p
