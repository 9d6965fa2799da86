"""The OpenAPI 3.1 document of a running server (``GET /openapi.json``): every endpoint of
the four dialects and the admin API, with the scenario's template names. The tests check
real answers against it, and fuzz the server from it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.core import ACTION_WORDS, BASES, LIST_KEY, SUBMIT_FIELDS

if TYPE_CHECKING:
    from mock_server.core import Core

NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_TEXT = {"type": ["string", "null"]}
OUTPUTS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["artifact_name", "path"],
        "properties": {"artifact_name": {"type": "string"}, "path": {"type": "string"}},
        "additionalProperties": False,
    },
}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    return {
        "type": "object",
        "required": list(properties) if required is None else required,
        "properties": properties,
        "additionalProperties": False,
    }


def _enum(words) -> dict:
    return {"type": "string", "enum": sorted({w for w in words if w is not None})}


def schemas() -> dict:
    from sim.dialects import DIALECTS

    d = DIALECTS
    ordo_step = _object(
        {
            "step_id": {"type": "string"},
            "step_type": {"type": "string"},
            "status": _enum(d["ordo"].steps.values()),
            "started_at": NULLABLE_TIME,
            "finished_at": NULLABLE_TIME,
            "error": NULLABLE_TEXT,
        }
    )
    ordo = _object(
        {
            "job": _object(
                {
                    "id": {"type": "string"},
                    "status": _enum(d["ordo"].jobs.values()),
                    "created_at": {"type": "string", "format": "date-time"},
                    "started_at": NULLABLE_TIME,
                    "finished_at": NULLABLE_TIME,
                    "error": NULLABLE_TEXT,
                }
            ),
            "progress": _object(
                {
                    "percentage": {"type": "number", "minimum": 0, "maximum": 100},
                    "completed_steps": {"type": "integer", "minimum": 0},
                    "total_steps": {"type": "integer", "minimum": 1},
                }
            ),
            "duration_ms": {"type": ["integer", "null"], "minimum": 0},
            "steps": {"type": "array", "items": ordo_step},
            "outputs": OUTPUTS,
        }
    )
    fiddler = _object(
        {
            "task_id": {"type": "string"},
            "status": _enum(d["fiddler"].jobs.values()),
            "progress": {"type": "number", "minimum": 0, "maximum": 100},
            "result": {"oneOf": [{"type": "null"}, _object({"outputs": OUTPUTS})]},
            "error_message": NULLABLE_TEXT,
            "date_done": NULLABLE_TIME,
        }
    )
    task = _object(
        {
            "id": {"type": "string"},
            "type": {"type": "string"},
            "state": _enum(d["workflow"].steps.values()),
            "started": NULLABLE_TIME,
            "finished": NULLABLE_TIME,
        }
    )
    workflow = _object(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "state": _enum(d["workflow"].jobs.values()),
            "created": {"type": "string", "format": "date-time"},
            "started": NULLABLE_TIME,
            "finished": NULLABLE_TIME,
            "tasks": {"type": "array", "items": task},
        }
    )
    generic_props = {
        "id": {"type": "string"},
        "status": _enum(d["generic"].jobs.values()),
        "result": _object({"job_id": {"type": "string"}, "outputs": OUTPUTS}),
        "message": NULLABLE_TEXT,
    }
    generic = _object(generic_props, ["status"])
    error = _object({"error": {"type": "string"}, "message": {"type": "string"}})
    out = {"ordo": ordo, "fiddler": fiddler, "workflow": workflow, "generic": generic}
    out["Error"] = error
    for dialect, key in LIST_KEY.items():
        out[f"{dialect}_list"] = _object(
            {
                key: {"type": "array", "items": {"$ref": f"#/components/schemas/{dialect}"}},
                "total": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 1},
                "offset": {"type": "integer", "minimum": 0},
            }
        )
    return out


def _errors(*codes: int) -> dict:
    words = {
        400: "Bad query or body",
        401: "Missing or unknown token",
        403: "Not the admin token",
        404: "No such job (or not this tenant's)",
        405: "Method not allowed",
        409: "The dialect does not allow this action now",
        413: "Body too large",
        422: "Invalid request",
        429: "Rate limited (an injected fault); see Retry-After",
        500: "Injected fault",
        502: "Injected fault",
        503: "Overloaded, an outage or an injected fault; see Retry-After",
        504: "Injected fault",
    }
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {str(c): {"description": words[c], "content": ref} for c in codes}


FAULTS = (429, 500, 502, 503, 504)


def document(core: Core) -> dict:
    """The OpenAPI document of this server."""
    templates = list(core.model.templates)
    submit = {
        "type": "object",
        "properties": {
            "template": {"type": "string", "enum": templates},
            "outcome": {
                "type": "string",
                "description": "succeed, fail_step:<id>, transient_failures:<n> or partial",
            },
            "durations": {
                "type": "object",
                "description": "step id (or *) -> seconds or a duration such as 30s",
                "additionalProperties": {"type": ["number", "string"]},
            },
            "duration": {
                "type": ["number", "string"],
                "description": "every step's duration",
            },
        },
        "additionalProperties": False,
    }
    assert set(submit["properties"]) == SUBMIT_FIELDS
    paths: dict = {}
    job_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
    for dialect, base in BASES.items():
        doc = {"$ref": f"#/components/schemas/{dialect}"}
        json_doc = {"application/json": {"schema": doc}}
        security = [{"bearer": []}] + ([{}] if dialect == "generic" else [])
        created = "202" if dialect == "generic" else "201"
        id_at = {"ordo": "/job/id", "fiddler": "/task_id"}.get(dialect, "/id")
        ops = [f"{dialect}_status", *(f"{dialect}_{w}" for w in ACTION_WORDS[dialect])]
        links = {
            op: {"operationId": op, "parameters": {"id": f"$response.body#{id_at}"}} for op in ops
        }
        paths[f"/{base}"] = {
            "post": {
                "summary": f"Submit a job ({dialect})",
                "operationId": f"{dialect}_submit",
                "security": security,
                "requestBody": {"content": {"application/json": {"schema": submit}}},
                "responses": {
                    created: {"description": "Submitted", "content": json_doc, "links": links},
                    **_errors(400, 401, 413, 422, 429),
                },
            },
            "get": {
                "summary": f"List jobs ({dialect})",
                "operationId": f"{dialect}_list",
                "security": security,
                "parameters": [
                    _query("limit", "integer", 1, core.config.page_max),
                    _query("offset", "integer", 0, None),
                ],
                "responses": {
                    "200": {
                        "description": "A page of jobs",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{dialect}_list"}
                            }
                        },
                    },
                    **_errors(400, 401, 429),
                },
            },
        }
        paths[f"/{base}/{{id}}"] = {
            "get": {
                "summary": f"A job's status ({dialect})",
                "operationId": f"{dialect}_status",
                "security": security,
                "parameters": [
                    job_id,
                    _query("wait", "number", 0, core.config.max_wait, "long-poll, seconds"),
                    {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "The status", "content": json_doc},
                    "304": {"description": "Unchanged since the ETag given"},
                    **_errors(400, 401, 404, *FAULTS),
                },
            }
        }
        for word in ACTION_WORDS[dialect]:
            paths[f"/{base}/{{id}}/{word}"] = {
                "post": {
                    "summary": f"{word.capitalize()} a job ({dialect})",
                    "operationId": f"{dialect}_{word}",
                    "security": security,
                    "parameters": [job_id],
                    "responses": {
                        "200": {"description": "Done", "content": json_doc},
                        **_errors(401, 404, 409, 429),
                    },
                }
            }
    for name, summary in (
        ("report", "The ground truth per client and job"),
        ("faults", "The faults in force"),
    ):
        paths[f"/_admin/{name}"] = {
            "get": {
                "summary": summary,
                "operationId": f"admin_{name}",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {
                        "description": summary,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_errors(401, 403),
                },
            }
        }
    paths["/healthz"] = {
        "get": {
            "summary": "Liveness",
            "operationId": "healthz",
            "security": [],
            "responses": {
                "200": {
                    "description": "Up",
                    "content": {
                        "application/json": {
                            "schema": _object(
                                {
                                    "status": {"type": "string", "const": "ok"},
                                    "speed": {"type": "number", "exclusiveMinimum": 0},
                                    "epoch": {"type": "string", "format": "date-time"},
                                }
                            )
                        }
                    },
                }
            },
        }
    }
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
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _query(name, kind, low, high, description=None) -> dict:
    schema: dict = {"type": kind, "minimum": low}
    if high is not None:
        schema["maximum"] = high
    p = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        p["description"] = description
    return p
