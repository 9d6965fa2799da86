"""The admin API in the OpenAPI document (``mock_server.openapi``), behind the admin
token, as ``mock_server.admin`` and its endpoints answer: the reset, the request
journal, the jobs, the ground truth and the faults. Each filter that may be repeated
(``client``, ``job``, ...) is an array sent as repeated parameters; a parameter an
endpoint does not take is a 400, as any query the server cannot read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.openapi_answers import BODY, faults_shown, operation
from mock_server.openapi_bodies import faults_body
from sim.dialects.schema import obj
from sim.mock_spec import ERROR_CODES
from sim.states import JobState
from sim.status_server import OUTAGE_MODES

if TYPE_CHECKING:
    from mock_server.core import Core

ADMIN = [{"bearer": []}]
ERRORS = (401, 403)  #: no token or a wrong one; a tenant's token
LIMIT_MAX = 100_000  #: the most records or jobs an answer holds
NUMBER = {"type": "number"}
SECONDS = {"type": "number", "minimum": 0}
COUNT = {"type": "integer", "minimum": 0}
TEXT = {"type": "string"}
MAYBE_TEXT = {"type": ["string", "null"]}
MAYBE_SECONDS = {"type": ["number", "null"]}
#: a filter's value, as ``admin_query.texts`` takes it
VALUE = {"type": "string", "minLength": 1, "maxLength": 200}
#: a job as the ``job`` filter names it. The pattern is the numbers, which the server
#: always reads; a fiddler-v3 UUID is read too where it names a job of this server's
#: seed (another UUID is a 400), which no pattern can say: the description says it
JOB = {
    "type": "string",
    "pattern": "^[0-9]{1,18}$",
    "examples": ["1"],
    "description": "a job's number; or its UUID where a dialect shows ids as UUIDs "
    "(GET /_admin/jobs lists each job's ids; a UUID of no job here is a 400)",
}


def admin_paths(core: Core) -> dict:
    """Every ``/_admin`` endpoint (the document's paths)."""
    return {
        "/_admin/reset": {"post": _reset()},
        "/_admin/requests": {"get": _requests(), "delete": _forget()},
        "/_admin/jobs": {"get": _jobs(core)},
        "/_admin/report": {"get": _report()},
        **_faults(),
    }


def _json(description: str, schema: dict, **more) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
        **more,
    }


def _query(name: str, schema: dict, description: str, many: bool = False) -> dict:
    """A query parameter; ``many``: repeatable (``?client=a&client=b``), any matching."""
    if many:
        schema = {"type": "array", "items": schema}
    out = {"name": name, "in": "query", "required": False, "schema": schema}
    out["description"] = description
    if many:
        out |= {"style": "form", "explode": True}
    return out


def _limit(default: int) -> dict:
    schema = {"type": "integer", "minimum": 0, "maximum": LIMIT_MAX, "default": default}
    return _query("limit", schema, f"the most recent N that match (default {default})")


CLIENT = _query("client", VALUE, "a client (X-Client-Id, or the token's name)", many=True)
JOB_FILTER = _query("job", JOB, "a job, its id as the paths show it", many=True)
#: an HTTP status as ``admin_journal._statuses`` takes it: 0 (no answer) or 100 to 599
STATUS = _query(
    "status",
    {"type": "string", "pattern": "^(0|[1-5][0-9]{2})$", "examples": ["404"]},
    "an HTTP status, 100 to 599 (0: no answer; 404: what WireMock calls unmatched)",
    many=True,
)
FINAL = _query(
    "final",
    {"type": "string", "enum": ["true", "false", "1", "0"]},
    "the clients have stopped: a job a client did not see end counts as given up, or "
    "errored, never unfinished",
)


def _reset() -> dict:
    done = obj({"reset": {"const": True}, "now": SECONDS})
    return operation(
        "admin_reset",
        "Start the run over: jobs, ground truth, request journal, faults (the scenario's) "
        "and the clock, as if the server had just started; tokens stay (WireMock's "
        "POST /__admin/reset)",
        ADMIN,
        {"200": _json("Reset", done)},
        ERRORS,
    )


def _requests() -> dict:
    record = obj(
        {
            "t": NUMBER,
            "wall": NUMBER,
            "method": TEXT,
            "path": TEXT,
            "dialect": TEXT,
            "client": TEXT,
            "job": MAYBE_TEXT,
            "job_id": MAYBE_TEXT,
            "status": {"type": "integer", "minimum": 0, "maximum": 599},
            "retry_after": MAYBE_SECONDS,
            "injected": MAYBE_TEXT,
            "shown": MAYBE_TEXT,
            "took": NUMBER,
        }
    )
    journal = obj(
        {
            "requests": {"type": "array", "items": record},
            "count": COUNT,
            "total": COUNT,
            "dropped": COUNT,
        }
    )
    since = _query("since", SECONDS, "simulated seconds: the requests that arrived then or later")
    return operation(
        "admin_requests",
        "The request journal, oldest first: the latest requests that match (WireMock's "
        "GET /__admin/requests)",
        ADMIN,
        {"200": _json("The requests", journal)},
        ERRORS,
        [CLIENT, JOB_FILTER, STATUS, since, _limit(1000)],
    )


def _forget() -> dict:
    return operation(
        "admin_forget_requests",
        "Forget every request in the journal",
        ADMIN,
        {"200": _json("Forgotten", obj({"deleted": COUNT}))},
        ERRORS,
    )


def _jobs(core: Core) -> dict:
    # [t, state]: a pair each of whose items is a number or a text (schemathesis reads
    # no prefixItems)
    either = {"type": ["number", "string"]}
    pair = {"type": "array", "items": either, "minItems": 2, "maxItems": 2}
    job = obj(
        {
            "job": TEXT,
            "job_id": TEXT,
            "ids": {"type": "object", "additionalProperties": TEXT},
            "template": TEXT,
            "tenant": TEXT,
            "state": TEXT,
            "submit": NUMBER,
            "t_end": MAYBE_SECONDS,
            "t_visible": MAYBE_SECONDS,
            "shown": {"type": "array", "items": pair},
        }
    )
    jobs = obj({"jobs": {"type": "array", "items": job}, "count": COUNT, "total": COUNT})
    states = {"type": "string", "enum": [s.value for s in JobState]}
    templates = {"type": "string", "enum": list(core.model.templates)}
    return operation(
        "admin_jobs",
        "Every job of the run, newest last, with its states over time as the API showed them",
        ADMIN,
        {"200": _json("The jobs", jobs)},
        ERRORS,
        [
            _query("client", VALUE, "the jobs this client asked about or submitted", many=True),
            _query("tenant", VALUE, "a tenant's jobs", many=True),
            _query("state", states, "the jobs in this state now", many=True),
            _query("template", templates, "the jobs of this template", many=True),
            _limit(1000),
        ],
    )


def _report() -> dict:
    shown_filter = {
        **obj(
            {
                "client": {"type": "array", "items": TEXT},
                "job": {"type": "array", "items": TEXT},
                "server_wide": {"type": "array", "items": TEXT},
            },
            ["server_wide"],
        ),
        "description": "what the rows were filtered by; the counts named in server_wide "
        "stay the whole server's",
    }
    report = {
        **obj(
            {
                "jobs": {"type": "array", "items": {"type": "object"}},
                "clients": {"type": "array", "items": {"type": "object"}},
                "totals": {"type": "object"},
                "speed": {"type": "number", "exclusiveMinimum": 0},
                "now": SECONDS,
                "filter": shown_filter,
            },
            ["jobs", "clients", "totals", "speed", "now"],
        ),
        "additionalProperties": True,
    }
    until = _query("until", SECONDS, "simulated seconds: the truth up to then")
    return operation(
        "admin_report",
        "The ground truth per client and job, per client, and in all; with client or job, "
        "only their rows, and the summaries over those (an unknown one: no rows)",
        ADMIN,
        {"200": _json("The ground truth", report)},
        ERRORS,
        [until, CLIENT, JOB_FILTER, FINAL],
    )


def _faults() -> dict:
    json_of = {"application/json": {"schema": {"$ref": "#/components/schemas/faults"}}}
    faults = {"description": "The faults in force", "content": json_of}
    shown = {"admin_faults": {"operationId": "admin_faults"}}  # what was put reads back
    return {
        "/_admin/faults": {
            "get": operation("admin_faults", "The faults in force", ADMIN, {"200": faults}, ERRORS),
            "put": operation(
                "admin_set_faults",
                "Replace the faults in force",
                ADMIN,
                {"200": {**faults, "links": shown}},
                (*BODY, *ERRORS, 422),
                body={
                    "required": False,
                    "content": {
                        "application/json": {"schema": faults_body(ERROR_CODES, OUTAGE_MODES)}
                    },
                },
            ),
        }
    }


#: the schema of ``GET /_admin/faults``, among the document's components
FAULTS_SHOWN = faults_shown(ERROR_CODES, OUTAGE_MODES)
