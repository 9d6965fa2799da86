"""What the server answers, for the OpenAPI document (``mock_server.openapi``): every
refusal an operation may get, in the JSON error body, and the schemas of each dialect's
status document and page of them, and of the faults in force."""

from __future__ import annotations

from collections.abc import Iterable

from mock_server.openapi_bodies import PROBABILITY, enum, obj

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
ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    "additionalProperties": False,
}


WORDS = {
    400: "A request it cannot parse, a bad query, or a body that does not decode or is not JSON",
    401: "Missing or unknown token, or not the Bearer scheme",
    403: "A tenant's token where the admin token is needed",
    404: "No such job (or not this tenant's)",
    408: "The body did not arrive within the request deadline",
    409: "The dialect does not allow this action now",
    413: "Body too large",
    415: "A Content-Encoding other than gzip, deflate or br (or more than one)",
    422: "A body of the wrong shape or values",
    429: "A limit reached: jobs held, long-polls, or the client's rate (an injected fault); "
    "the message says which",
    500: "Injected fault",
    502: "Injected fault",
    503: "Overloaded, an outage or an injected fault; see Retry-After",
    504: "Injected fault",
}
#: answers any request may get: one the front cannot parse, one past its concurrency
EVERYWHERE = (400, 503)
#: answers any request with a body may get
BODY = (408, 413, 415)
FAULTS = (429, 500, 502, 503, 504)  #: injected on a job's status
ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}},
}


def operation(op_id, summary, security, answers, errors=(), parameters=(), body=None) -> dict:
    """One operation: its answers, and every error it may give in JSON."""
    responses = dict(answers)
    for code in sorted({*errors, *EVERYWHERE}):
        responses[str(code)] = {"description": WORDS[code], "content": ERROR_REF}
        if code in (429, 503):
            responses[str(code)]["headers"] = RETRY_AFTER
    out = {"summary": summary, "operationId": op_id, "security": security}
    if parameters:
        out["parameters"] = list(parameters)
    if body is not None:
        out["requestBody"] = body
    return {**out, "responses": responses}


def faults_shown(codes: Iterable[int], outage_modes: Iterable[str]) -> dict:
    """``GET /_admin/faults``: the faults in force, in the keys ``PUT`` takes."""
    number = {"type": "number", "minimum": 0}
    return obj(
        {
            "errors": {
                "type": "object",
                "propertyNames": {"enum": [str(c) for c in codes]},
                "additionalProperties": PROBABILITY,
            },
            "reset": PROBABILITY,
            "empty": PROBABILITY,
            "malformed": PROBABILITY,
            "dribble": obj({"probability": PROBABILITY, "rate": number}),
            "latency": NULLABLE_TEXT,
            "latency_probability": PROBABILITY,
            "rate_limit": {
                "oneOf": [
                    {"type": "null"},
                    obj({"rate": number, "burst": {"type": "integer", "minimum": 1}}),
                ]
            },
            "outages": {
                "type": "array",
                "items": obj(
                    {"start": number, "duration": number, "mode": {"enum": list(outage_modes)}}
                ),
            },
        }
    )


def documents(list_keys: dict[str, str]) -> dict:
    """What each dialect answers: a job's status, and a page of them."""
    from sim.dialects import DIALECTS as d

    out = {
        "ordo": _ordo(d["ordo"]),
        "fiddler": obj(
            {
                "task_id": {"type": "string"},
                "status": enum(d["fiddler"].jobs.values()),
                "progress": {"type": "number", "minimum": 0, "maximum": 100},
                "result": {"oneOf": [{"type": "null"}, obj({"outputs": OUTPUTS})]},
                "error_message": NULLABLE_TEXT,
                "date_done": NULLABLE_TIME,
            }
        ),
        "workflow": _workflow(d["workflow"]),
        "generic": obj(
            {
                "id": {"type": "string"},
                "status": enum(d["generic"].jobs.values()),
                "result": obj({"job_id": {"type": "string"}, "outputs": OUTPUTS}),
                "message": NULLABLE_TEXT,
            },
            ["status"],
        ),
        "Error": ERROR,
    }
    for dialect, key in list_keys.items():
        out[f"{dialect}_list"] = obj(
            {
                key: {"type": "array", "items": {"$ref": f"#/components/schemas/{dialect}"}},
                "total": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 1},
                "offset": {"type": "integer", "minimum": 0},
            }
        )
    return out


def _ordo(dialect) -> dict:
    step = obj(
        {
            "step_id": {"type": "string"},
            "step_type": {"type": "string"},
            "status": enum(dialect.steps.values()),
            "started_at": NULLABLE_TIME,
            "finished_at": NULLABLE_TIME,
            "error": NULLABLE_TEXT,
        }
    )
    job = obj(
        {
            "id": {"type": "string"},
            "status": enum(dialect.jobs.values()),
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": NULLABLE_TIME,
            "finished_at": NULLABLE_TIME,
            "error": NULLABLE_TEXT,
        }
    )
    progress = obj(
        {
            "percentage": {"type": "number", "minimum": 0, "maximum": 100},
            "completed_steps": {"type": "integer", "minimum": 0},
            "total_steps": {"type": "integer", "minimum": 1},
        }
    )
    return obj(
        {
            "job": job,
            "progress": progress,
            "duration_ms": {"type": ["integer", "null"], "minimum": 0},
            "steps": {"type": "array", "items": step},
            "outputs": OUTPUTS,
        }
    )


def _workflow(dialect) -> dict:
    task = obj(
        {
            "id": {"type": "string"},
            "type": {"type": "string"},
            "state": enum(dialect.steps.values()),
            "started": NULLABLE_TIME,
            "finished": NULLABLE_TIME,
        }
    )
    return obj(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "state": enum(dialect.jobs.values()),
            "created": {"type": "string", "format": "date-time"},
            "started": NULLABLE_TIME,
            "finished": NULLABLE_TIME,
            "tasks": {"type": "array", "items": task},
        }
    )
