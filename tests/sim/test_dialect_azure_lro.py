"""The azure-lro dialect: every canonical state renders to a document its schema takes
and reads back to the same word, the end shows where azure-core's poller ends and only
there, and errors are in the OData shape azure-core reads."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import azure.core.exceptions as azure_exceptions
import azure.core.polling.base_polling as azure_polling
import pytest
from jsonschema import Draft202012Validator, ValidationError

from sim.dialects import AZURE_LRO, Kind, Seen, match
from sim.dialects.azure_lro import HTTP_CODES
from sim.dialects.base import BadPage
from sim.states import JobState, StepState
from tests.sim.dialect_jobs import Job, iso, job_in

J = JobState
#: the issue's table: canonical state -> the operation's status
WORDS = {
    J.QUEUED: "NotStarted",
    J.RUNNING: "Running",
    J.RETRY_WAIT: "Running",
    J.PAUSING: "Running",
    J.PAUSED: "Running",
    J.CANCELLING: "Running",
    J.SUCCEEDED: "Succeeded",
    J.FAILED: "Failed",
    J.PARTIAL: "Failed",
    J.CANCELLED: "Canceled",
}
BASE_URL = "http://127.0.0.1:8123"


def seen(job: Job) -> Seen:
    return Seen(iso=iso, shown_id=str(job.id), template="chain", base_url=BASE_URL)


def validator(schema: dict) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("state", list(JobState))
def test_every_state_renders_a_valid_document_that_reads_back(state):
    job = job_in(state)
    doc = AZURE_LRO.render(job, seen(job))
    validator(AZURE_LRO.schema()).validate(doc)
    assert doc["status"] == WORDS[state]
    assert doc["id"] == "42"
    reading = AZURE_LRO.read(doc)
    assert AZURE_LRO.job_word(reading.state) == WORDS[state]
    assert reading.state.terminal is state.terminal
    assert reading.progress == pytest.approx(job.completed_steps / 2)
    # the end time, where the operation has ended and only there
    assert reading.finished == (iso(40.0) if state.terminal else None)
    assert doc["createdDateTime"] == iso(10.0)


@pytest.mark.parametrize("state", list(JobState))
def test_azure_cores_poller_ends_exactly_on_the_terminal_states(state):
    """azure-core's own test of a status word: the old bug was a poller that ended on
    pollsim's words (or on a relative Location) while the job still ran."""
    word = AZURE_LRO.job_status(state)
    assert azure_polling._finished(word) is state.terminal
    assert azure_polling._succeeded(word) is (state is J.SUCCEEDED)
    assert azure_polling._failed(word) is (state in (J.FAILED, J.PARTIAL, J.CANCELLED))


@pytest.mark.parametrize("state", list(JobState))
def test_error_when_it_failed_and_resource_location_when_it_succeeded(state):
    job = job_in(state)
    doc = AZURE_LRO.render(job, seen(job))
    if state is J.SUCCEEDED:
        assert doc["resourceLocation"] == f"{BASE_URL}/azure/jobs/42"
        assert match("/azure/jobs/42").route("GET").kind is Kind.RESOURCE
    else:
        assert "resourceLocation" not in doc
    if state in (J.FAILED, J.PARTIAL, J.CANCELLED):
        odata = azure_exceptions.ODataV4Format(doc)  # as HttpResponseError reads it
        assert odata.message == job.error()
        assert odata.code in ("JobFailed", "PartialFailure", "OperationCanceled")
    else:
        assert "error" not in doc


def test_the_schema_refuses_what_the_poller_would_misread():
    check = validator(AZURE_LRO.schema())
    ok = AZURE_LRO.render(job_in(J.SUCCEEDED), seen(job_in(J.SUCCEEDED)))
    for bad in (
        {k: v for k, v in ok.items() if k != "resourceLocation"},  # no final GET
        {**ok, "status": "Cancelled"},  # two l: azure-core polls on through it
        {**ok, "status": "Running"},  # a result while still running
        {**ok, "error": {"code": "X", "message": "y"}},
    ):
        with pytest.raises(ValidationError):
            check.validate(bad)


def test_a_submission_is_answered_202_with_an_absolute_operation_location():
    job = job_in(J.QUEUED)
    doc = AZURE_LRO.render(job, seen(job))
    status, headers, body = AZURE_LRO.submitted(job, seen(job), doc)
    assert status == 202
    assert headers["Operation-Location"] == f"{BASE_URL}/azure/operations/42"
    assert headers["Retry-After"].isdigit()
    assert "Location" not in headers  # azure-core would take it for the final GET
    validator(AZURE_LRO.submitted_schema()).validate(body)
    lower = {k.lower(): v for k, v in headers.items()}
    assert AZURE_LRO.new_job(status, lower, body) == "42"
    assert AZURE_LRO.new_job(status, {}, body) is None
    assert AZURE_LRO.new_job(400, lower, body) is None
    hit = match("/azure/operations/42")
    assert hit.dialect is AZURE_LRO and hit.route("GET").kind is Kind.STATUS
    assert hit.params == {"id": "42"}
    assert match("/azure/jobs").route("POST").kind is Kind.SUBMIT


@pytest.mark.parametrize("state", list(JobState))
def test_the_job_as_a_resource(state):
    job = job_in(state)
    doc = AZURE_LRO.resource(job, seen(job))
    validator(AZURE_LRO.resource_schema()).validate(doc)
    assert doc["id"] == "42" and doc["status"] == WORDS[state]
    assert len(doc["outputs"]) == sum(s.state is StepState.SUCCEEDED for s in job.steps)


@pytest.mark.parametrize("status", [*HTTP_CODES, 418, 504, 599])
def test_errors_are_in_azures_shape(status):
    body = AZURE_LRO.error(status, "rate_limited", "too many requests from this client")
    validator(AZURE_LRO.error_schema()).validate(body)
    odata = azure_exceptions.ODataV4Format(body)
    assert odata.code == HTTP_CODES.get(status, odata.code) and odata.code.isalpha()
    assert odata.message == "too many requests from this client"
    assert odata.innererror == {"code": "rate_limited"}


def test_a_page_of_operations_validates():
    jobs = [job_in(s) for s in (J.QUEUED, J.SUCCEEDED)]
    items = [AZURE_LRO.listed(AZURE_LRO.render(j, seen(j)), seen(j)) for j in jobs]
    page = AZURE_LRO.page(items, total=2, limit=10, offset=0)
    validator(AZURE_LRO.page_schema()).validate(page)
    assert [AZURE_LRO.read(d).state for d in page["value"]] == [J.QUEUED, J.SUCCEEDED]


def test_next_link_leads_through_every_operation_once():
    """Each page but the last has an absolute ``nextLink`` whose query, read back as the
    list reads a request's (``page_at``), is the next page."""
    total, jobs = 5, [job_in(J.RUNNING) for _ in range(5)]
    query: dict[str, str] = {"limit": "2"}
    offsets = []
    while True:
        limit, offset = AZURE_LRO.page_at(query, 500)
        offsets.append(offset)
        part = jobs[offset : offset + limit]
        items = [AZURE_LRO.listed(AZURE_LRO.render(j, seen(j)), seen(j)) for j in part]
        page = AZURE_LRO.page(items, total, limit, offset, BASE_URL)
        validator(AZURE_LRO.page_schema()).validate(page)
        link = page.get("nextLink")
        if link is None:
            break
        url = urlsplit(link)
        assert f"{url.scheme}://{url.netloc}" == BASE_URL
        assert url.path == AZURE_LRO.path(Kind.LIST)
        query = dict(parse_qsl(url.query))
    assert offsets == [0, 2, 4]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"limit": "0"}, "limit='0': expected a whole number >= 1 and <= 500"),
        ({"limit": "501"}, "limit='501'"),
        ({"offset": "-1"}, r"offset='-1': expected a whole number >= 0 and <= 999999999999999999$"),
        ({"offset": "1.5"}, "offset='1.5'"),
        ({"limit": "\uff13"}, "limit="),  # a fullwidth 3: int() would read it
    ],
)
def test_limit_and_offset_out_of_bounds_are_bad_page(query, words):
    """The default paging (``Dialect.page_at``), as the server's lists have always read
    it: the same bounds, the same words."""
    with pytest.raises(BadPage, match=words):
        AZURE_LRO.page_at(query, 500)
    assert AZURE_LRO.page_at({"limit": "500", "offset": "7"}, 500) == (500, 7)
    assert AZURE_LRO.page_at({}, 500) == (50, 0)
