"""The google-lro dialect: every canonical state renders to an Operation that google's own
proto classes parse strictly, that its schema takes, and that reads back to the same
state; ``done``, ``response`` and ``error.code`` are where google-api-core's Operation
future looks; errors are google's JSON errors, which its ``from_http_response`` reads."""

from __future__ import annotations

import json

import pytest
import requests
from google.api_core import exceptions, operation
from google.longrunning import operations_pb2
from google.protobuf import json_format, struct_pb2
from jsonschema import Draft202012Validator, ValidationError

from sim.dialects import DIALECTS, GOOGLE_LRO, Action, ActionRefused, Kind, Seen, match
from sim.dialects.base import BadPage
from sim.dialects.google_lro import CANONICAL, canonical_status
from sim.states import JobState
from tests.sim.dialect_jobs import iso, job_in

J = JobState
#: the issue's table: canonical state -> done, and the error code once done (None: response)
ENDS = {
    J.QUEUED: (False, None),
    J.RUNNING: (False, None),
    J.RETRY_WAIT: (False, None),
    J.PAUSING: (False, None),
    J.PAUSED: (False, None),
    J.CANCELLING: (False, None),
    J.SUCCEEDED: (True, None),
    J.FAILED: (True, 2),
    J.PARTIAL: (True, 2),
    J.CANCELLED: (True, 1),
}
#: the state each metadata word reads back as (the first canonical state it stands for)
READ_AS = {J.RETRY_WAIT: J.RUNNING, J.PAUSING: J.RUNNING}


SEEN = Seen(iso=iso, shown_id="42", template="pointcloud")


def parse(doc: dict) -> operations_pb2.Operation:
    """The Operation as google-api-core's REST transport parses it: strictly."""
    return json_format.ParseDict(doc, operations_pb2.Operation(), ignore_unknown_fields=False)


@pytest.mark.parametrize("state", list(JobState))
def test_each_state_renders_an_operation_google_parses_and_reads_back(state):
    job = job_in(state)
    doc = GOOGLE_LRO.render(job, SEEN)
    Draft202012Validator(GOOGLE_LRO.schema()).validate(doc)
    op = parse(doc)
    done, code = ENDS[state]
    assert op.name == "projects/alpha/operations/42"
    assert op.done is done
    meta = struct_pb2.Struct()
    assert op.metadata.Unpack(meta)  # the Any holds a Struct, as its @type says
    assert meta["state"] == GOOGLE_LRO.job_word(state)
    reading = GOOGLE_LRO.read(doc)
    assert reading.state is READ_AS.get(state, state)
    assert reading.progress == job.completed_steps / len(job.steps)
    assert reading.finished == (iso(40.0) if state.terminal else None)
    if not done:
        assert not op.HasField("response") and not op.HasField("error")
    elif code is None:
        result = struct_pb2.Struct()
        assert op.response.Unpack(result) and result["jobId"] == "42"
        assert not op.HasField("error")
    else:
        assert (op.error.code, op.error.message) == (code, job.error())
        assert not op.HasField("response")


@pytest.mark.parametrize("state", list(JobState))
def test_an_operation_as_googles_serializer_writes_it_reads_the_same(state):
    """proto3 JSON leaves out ``done`` while it is false: a client's copy of the
    Operation (``MessageToDict``) still reads as the server's document does."""
    doc = GOOGLE_LRO.render(job_in(state), SEEN)
    copy = json_format.MessageToDict(parse(doc))
    assert ("done" in copy) is state.terminal
    assert GOOGLE_LRO.read(copy) == GOOGLE_LRO.read(doc)


@pytest.mark.parametrize("state", [J.SUCCEEDED, J.FAILED, J.CANCELLED])
def test_google_api_cores_operation_future_ends_as_the_state_says(state):
    """The Operation future made from the rendered document, with nothing to poll: its
    result, or the exception google-api-core maps the error code to."""
    op = parse(GOOGLE_LRO.render(job_in(state), SEEN))
    future = operation.Operation(op, refresh=None, cancel=None, result_type=struct_pb2.Struct)
    assert future.done()
    if state is J.SUCCEEDED:
        assert future.result()["jobId"] == "42"
    else:
        expected = exceptions.Cancelled if state is J.CANCELLED else exceptions.Unknown
        with pytest.raises(expected):
            future.result()
        assert future.cancelled() is (state is J.CANCELLED)


def test_every_word_is_googles_job_state_and_the_table_is_the_issues():
    words = set(GOOGLE_LRO.jobs.values())
    assert None not in words and all(w.startswith("JOB_STATE_") for w in words)
    for state in JobState:
        assert GOOGLE_LRO.render(job_in(state), SEEN)["done"] is ENDS[state][0]


def test_schema_refuses_what_google_would_not_read_as_an_operation():
    validator = Draft202012Validator(GOOGLE_LRO.schema())
    good = GOOGLE_LRO.render(job_in(J.FAILED), SEEN)
    for bad in (
        {**good, "status": "FAILED"},  # an unknown field: the strict parse refuses it
        {**good, "done": False},  # not done, yet an error
        {**good, "response": good["metadata"]},  # both an error and a response
        {**good, "name": "operations/42"},  # refused by the client before any request
    ):
        with pytest.raises(ValidationError):
            validator.validate(bad)
    with pytest.raises(json_format.ParseError):
        parse({**good, "status": "FAILED"})


def test_read_refuses_what_is_not_this_dialects():
    doc = GOOGLE_LRO.render(job_in(J.RUNNING), SEEN)
    with pytest.raises((KeyError, TypeError, ValueError)):
        GOOGLE_LRO.read({**doc, "done": True})
    with pytest.raises((KeyError, TypeError, ValueError)):
        GOOGLE_LRO.read({"name": doc["name"], "done": False})
    with pytest.raises(ValueError):
        GOOGLE_LRO.read({**doc, "metadata": {**doc["metadata"], "@type": "x/y"}})


def test_submission_and_cancel_answer_as_google_methods_do():
    doc = GOOGLE_LRO.render(job_in(J.QUEUED), SEEN)
    status, headers, body = GOOGLE_LRO.submitted(job_in(J.QUEUED), SEEN, doc)
    assert (status, body) == (200, doc)
    assert GOOGLE_LRO.new_job(status, headers, body) == "42"
    assert GOOGLE_LRO.new_job(200, {}, {"name": "projects/alpha/jobs/42"}) is None
    Draft202012Validator(GOOGLE_LRO.submitted_schema()).validate(body)
    acted = GOOGLE_LRO.acted(job_in(J.RUNNING), SEEN, doc)
    assert (acted.status, acted.doc) == (200, {})  # google.protobuf.Empty
    Draft202012Validator(GOOGLE_LRO.acted_schema()).validate(acted.doc)


def test_a_page_is_a_list_operations_response():
    items = [GOOGLE_LRO.listed(GOOGLE_LRO.render(job_in(s), SEEN), SEEN) for s in JobState]
    page = GOOGLE_LRO.page(items, total=10, limit=50, offset=0)
    Draft202012Validator(GOOGLE_LRO.page_schema()).validate(page)
    parsed = json_format.ParseDict(page, operations_pb2.ListOperationsResponse())
    assert len(parsed.operations) == len(JobState) and parsed.next_page_token == ""


def test_cancel_is_allowed_until_the_operation_is_done():
    allowed = {s for s in JobState if GOOGLE_LRO.allows(Action.CANCEL, s)}
    assert allowed == {J.QUEUED, J.RUNNING, J.RETRY_WAIT, J.PAUSING, J.PAUSED}
    assert not GOOGLE_LRO.shows_cancelling  # a cancel ends the operation at once


def test_a_cancel_of_an_operation_not_done_is_acknowledged_even_where_refused():
    """CancelOperation is best-effort and idempotent: on an operation shown not done
    (being cancelled already, as through another dialect) the refused request is still
    answered as done; on one shown done it stays refused, in words that say why."""
    acknowledged = {s for s in JobState if GOOGLE_LRO.acknowledges(Action.CANCEL, s)}
    assert acknowledged == {s for s in JobState if not s.terminal}
    assert J.CANCELLING in acknowledged and not GOOGLE_LRO.allows(Action.CANCEL, J.CANCELLING)
    for state in (J.SUCCEEDED, J.CANCELLED):
        with pytest.raises(ActionRefused, match="only an operation that is not done"):
            GOOGLE_LRO.check(Action.CANCEL, state)
    others = [d for d in DIALECTS.values() if d is not GOOGLE_LRO]
    assert not any(d.acknowledges(a, s) for d in others for a in Action for s in JobState)


def test_routes_are_where_the_operations_client_sends_its_requests():
    """google-api-core's REST transport: GetOperation ``/v1/{name=**/operations/*}``,
    CancelOperation ``...:cancel``, ListOperations ``/v1/{name=**}/operations``."""
    name = GOOGLE_LRO.render(job_in(J.RUNNING), SEEN)["name"]
    for path, method, kind in (
        (f"/v1/{name}", "GET", Kind.STATUS),
        (f"/v1/{name}:cancel", "POST", Kind.ACTION),
        ("/v1/projects/alpha/operations", "GET", Kind.LIST),
        ("/v1/projects/alpha/jobs", "POST", Kind.SUBMIT),
    ):
        hit = match(path)
        assert hit is not None and hit.dialect is GOOGLE_LRO, path
        assert hit.route(method).kind is kind
        assert hit.params["project"] == "alpha"
    assert match(f"/v1/{name}:cancel").params["id"] == "42"
    assert GOOGLE_LRO.path(Kind.STATUS, "42", "alpha") == f"/v1/{name}"
    assert DIALECTS["google-lro"] is GOOGLE_LRO


class _Answer(requests.Response):
    def __init__(self, status: int, body: dict) -> None:
        super().__init__()
        self.status_code = status
        self._content = json.dumps(body).encode()
        self.request = requests.Request("GET", "http://127.0.0.1/v1/x").prepare()


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (401, "unauthorized", exceptions.Unauthorized),
        (404, "not_found", exceptions.NotFound),
        (409, "conflict", exceptions.Conflict),
        (422, "invalid", exceptions.GoogleAPICallError),  # no class of its own
        (429, "rate_limited", exceptions.TooManyRequests),
        (500, "injected", exceptions.InternalServerError),
        (503, "unavailable", exceptions.ServiceUnavailable),
    ],
)
def test_errors_are_googles_and_its_client_reads_them(status, kind, expected):
    """pollsim's old ``{"error": "not_found"}`` crashed ``from_http_response``
    (``'str' object has no attribute 'get'``)."""
    body = GOOGLE_LRO.error(status, kind, "what went wrong")
    Draft202012Validator(GOOGLE_LRO.error_schema()).validate(body)
    assert body["error"]["status"] == canonical_status(status)
    exc = exceptions.from_http_response(_Answer(status, body))
    assert type(exc) is expected
    assert "what went wrong" in exc.message
    assert exc.reason == kind.upper() and exc.domain == "pollsim"


def test_every_http_status_has_a_canonical_name():
    assert canonical_status(404) == "NOT_FOUND" and canonical_status(413) == "INVALID_ARGUMENT"
    assert canonical_status(599) == "UNKNOWN"
    assert all(name.isupper() for name in CANONICAL.values())


def test_page_size_and_page_token_name_the_page():
    """``pageSize`` as AIP-158 asks (0 or none: the default; above the most a page holds:
    that most), and ``pageToken`` back to the offset its ``nextPageToken`` was written
    for."""
    assert GOOGLE_LRO.page_at({}, 500) == (50, 0)
    assert GOOGLE_LRO.page_at({"pageSize": "0", "pageToken": ""}, 500) == (50, 0)
    assert GOOGLE_LRO.page_at({"pageSize": "7", "filter": "done=true"}, 500) == (7, 0)
    assert GOOGLE_LRO.page_at({"pageSize": "1000"}, 500) == (500, 0)
    assert GOOGLE_LRO.page_at({"pageToken": "120"}, 500) == (50, 120)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"pageSize": "-1"}, "pageSize='-1': expected a whole number >= 0"),
        ({"pageSize": "x"}, "pageSize='x'"),
        ({"pageSize": "\uff17"}, "pageSize="),  # a fullwidth 7
        ({"pageToken": "bogus"}, "pageToken='bogus': not a page token of this server"),
        ({"pageToken": "-5"}, "pageToken='-5'"),
        ({"pageToken": "1" * 19}, "pageToken="),
        ({"pageToken": "\uff11"}, "pageToken="),  # a fullwidth 1
    ],
)
def test_a_page_size_or_token_the_server_cannot_read_is_bad_page(query, words):
    with pytest.raises(BadPage, match=words):
        GOOGLE_LRO.page_at(query, 500)


def test_next_page_token_leads_through_every_operation_once():
    """Pages written and read back as google's pager does: the token of each page, sent
    back, gives the next, until one's token is empty (the pager's end)."""
    total, size = 23, 5
    ops = [f"op{i}" for i in range(total)]
    seen, query, pages = [], {"pageSize": str(size)}, 0
    while True:
        limit, offset = GOOGLE_LRO.page_at(query, 500)
        items = [GOOGLE_LRO.listed(GOOGLE_LRO.render(job_in(J.RUNNING), SEEN), SEEN)] * len(
            ops[offset : offset + limit]
        )
        seen += ops[offset : offset + limit]
        page = GOOGLE_LRO.page(items, total, limit, offset)
        Draft202012Validator(GOOGLE_LRO.page_schema()).validate(page)
        token = json_format.ParseDict(page, operations_pb2.ListOperationsResponse()).next_page_token
        pages += 1
        if not token:
            break
        query = {"pageSize": str(size), "pageToken": token}
    assert seen == ops and pages == 5
    assert GOOGLE_LRO.page([], total, 5, 30)["nextPageToken"] == ""  # past the end: no more


def test_a_page_size_of_any_size_is_coerced_to_the_most_a_page_holds():
    """AIP-158: a pageSize over the maximum is coerced, not refused (schemathesis sent
    one of 31 digits, which the document allows)."""
    assert GOOGLE_LRO.page_at({"pageSize": "1" * 31}, 500) == (500, 0)
    with pytest.raises(BadPage):
        GOOGLE_LRO.page_at({"pageSize": "1" * 5000}, 500)
