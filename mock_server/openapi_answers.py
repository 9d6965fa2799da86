"""What the server answers, for the OpenAPI document (``mock_server.openapi``): every
refusal an operation may get, in the error shape of the dialect it belongs to (pollsim's
own ``Error`` elsewhere), the faults in force, and what a dialect's answers to a
submission and an action look like, learned from the dialect itself on a sample job."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from mock_server.openapi_bodies import PROBABILITY
from sim.dialects import Answer, Dialect, Seen
from sim.dialects.schema import NULLABLE_TEXT, obj
from sim.states import JobState, StepState

#: pollsim's own error body: what paths of no dialect answer (``/_admin``, ``/healthz``)
ERROR = obj({"error": {"type": "string"}, "message": {"type": "string"}})

WORDS = {
    400: "A request it cannot parse, a bad query, or a body that does not decode or is not JSON",
    401: "Missing or unknown token, or not the Bearer scheme",
    403: "Not this token's to see: the admin API with a tenant's token",
    404: "No such path, job or project; the message says the nearest miss: a job that is "
    "another tenant's (that it exists, never whose), another dialect's way of writing "
    "the id, a project not the token's own, the route nearest the path",
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
RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}},
}


def ref(name: str) -> dict:
    """The JSON content of a schema of the document's components."""
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def operation(
    op_id: str,
    summary: str,
    security: list,
    answers: dict,
    errors: Iterable[int] = (),
    parameters: Iterable[dict] = (),
    body: dict | None = None,
    error: str = "Error",
    tags: Iterable[str] = (),
) -> dict:
    """One operation: its answers, and every error it may give, in the schema ``error``
    (a name among the document's components)."""
    responses = dict(answers)
    for code in sorted({*errors, *EVERYWHERE}):
        responses[str(code)] = {"description": WORDS[code], "content": ref(error)}
        if code in (429, 503):
            responses[str(code)]["headers"] = RETRY_AFTER
    out: dict[str, Any] = {"summary": summary, "operationId": op_id}
    if tags:
        out["tags"] = list(tags)
    out["security"] = security
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


# --- a dialect's answers, from a sample job -----------------------------------------------


@dataclass(frozen=True)
class _Step:
    id: str = "prepare"
    type: str = "task"
    state: StepState = StepState.PENDING
    started: float | None = None
    finished: float | None = None


@dataclass(frozen=True)
class _Job:
    """A job just submitted, as the dialects render one (``JobLike``)."""

    id: int = 1
    tenant: str = "tenant"
    state: JobState = JobState.QUEUED
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    steps: tuple[_Step, ...] = (_Step(),)
    completed_steps: int = 0

    def error(self) -> str | None:
        return None


class Sampled(NamedTuple):
    """What a dialect answers to a submission and to an action it allows."""

    submitted: Answer
    acted: Answer
    id_pointer: str | None  #: where the submission's body shows the new job's id


def sampled(dialect: Dialect) -> Sampled:
    """The dialect's answers for a sample job (the dialect's functions are pure: their
    status codes and headers do not depend on which job it is)."""
    job = _Job()
    seen = Seen(
        iso=lambda t: None if t is None else "1970-01-01T00:00:00Z",
        shown_id=dialect.show_id(job.id, 0),
        template="sample",
    )
    doc = dialect.render(job, seen)
    submitted = dialect.submitted(job, seen, doc)
    acted = dialect.acted(job, seen, doc)
    pointer = dialect.id_pointer()
    if pointer is None:
        pointer = _find_id(dialect, submitted)
    return Sampled(submitted, acted, pointer)


def _find_id(dialect: Dialect, answer: Answer) -> str | None:
    """The JSON pointer of the first member of the answer's body that is the id a client
    reads off the answer (``new_job``), or None."""
    headers = {k.lower(): v for k, v in answer.headers.items()}
    try:
        shown = dialect.new_job(answer.status, headers, answer.doc)
    except NotImplementedError:
        return None
    return None if shown is None else _pointer_to(answer.doc, shown, "")


def _pointer_to(node: Any, value: str, at: str) -> str | None:
    if node == value and isinstance(node, str):
        return at
    if isinstance(node, dict):
        items = ((str(k).replace("~", "~0").replace("/", "~1"), v) for k, v in node.items())
    elif isinstance(node, list):
        items = ((str(i), v) for i, v in enumerate(node))
    else:
        return None
    for key, child in items:
        found = _pointer_to(child, value, f"{at}/{key}")
        if found is not None:
            return found
    return None
