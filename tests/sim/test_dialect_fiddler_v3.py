"""The ``fiddler-v3`` dialect: its job UUIDs carry pollsim's ids for one seed alone, its
documents read back as rendered and validate against its schemas, and what it answers
parses as fiddler-client 3.x's own models (the client's pydantic schemas, unchanged)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

import jsonschema
import pytest

from sim.dialects import DIALECTS, Action, ActionRefused, Seen, match
from sim.dialects.fiddler_v3 import FIDDLER_V3, SERVER_VERSION, job_id, job_uuid
from sim.states import JobState, StepState

J = JobState
RNG = random.Random(12)
SEEDS = [0, 1, 3, -7, 2**40 + 1, *(RNG.randrange(-(2**63), 2**63) for _ in range(20))]
IDS = [0, 1, 2, 9, 10, 999_999_999_999_999_999, *(RNG.randrange(1, 10**18) for _ in range(200))]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_job_uuid_reads_back_as_its_id_for_its_seed(seed):
    shown = [job_uuid(i, seed) for i in IDS]
    assert [job_id(u, seed) for u in shown] == IDS
    assert len(set(shown)) == len(IDS)
    for u in shown:
        parsed = uuid.UUID(u)
        assert str(parsed) == u and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_the_uuid_is_stable_for_a_seed_and_differs_between_seeds():
    assert job_uuid(12, 3) == job_uuid(12, 3) == FIDDLER_V3.show_id(12, 3)
    assert job_uuid(12, 3) != job_uuid(12, 4)
    assert FIDDLER_V3.read_id(job_uuid(12, 3), 3) == 12


def test_another_seeds_uuid_names_no_job():
    for a in SEEDS:
        for b in SEEDS:
            if a != b:
                assert [job_id(job_uuid(i, a), b) for i in IDS[:20]] == [None] * 20


def test_any_case_and_the_unhyphenated_form_are_read():
    u = job_uuid(4321, 3)
    for text in (u.upper(), u.lower(), u.replace("-", ""), u.replace("-", "").upper()):
        assert job_id(text, 3) == 4321


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12",
        "not-a-uuid",
        str(uuid.UUID(int=0)),
        "{%s}",  # braces, as uuid.UUID takes them: not in a path
        "urn:uuid:%s",
        "%s0",  # a digit too many
        "+%s",
        "%s\n",
    ],
)
def test_other_text_names_no_job(text):
    u = job_uuid(5, 3)
    assert job_id(text.replace("%s", u) if "%s" in text else text, 3) is None


def test_text_that_uuid_would_read_but_is_not_hex_ascii_is_refused():
    u = job_uuid(5, 3).replace("-", "")
    arabic_one = "\u0661"  # int("\u0661", 16) == 1
    for text in (u[:-1] + arabic_one, u[:10] + "_" + u[11:], u[:-1] + "g"):
        assert job_id(text, 3) is None


def test_a_uuid_with_the_prefix_but_another_version_or_variant_is_refused():
    n = uuid.UUID(job_uuid(5, 3)).int
    assert job_id(str(uuid.UUID(int=n ^ (1 << 77))), 3) is None  # version 6
    assert job_id(str(uuid.UUID(int=n ^ (1 << 63))), 3) is None  # variant 0b00
    assert job_id(str(uuid.UUID(int=n ^ (1 << 100))), 3) is None  # a prefix bit


def test_ids_out_of_range_are_refused_when_shown():
    for bad in (-1, 2**62):
        with pytest.raises(ValueError, match="a job id from 0"):
            job_uuid(bad, 3)


# --- documents ---------------------------------------------------------------------------


@dataclass
class Step:
    id: str
    type: str = "work"
    state: StepState = StepState.PENDING
    started: float | None = None
    finished: float | None = None


@dataclass
class FakeJob:
    id: int
    state: JobState
    steps: list = field(default_factory=lambda: [Step("a"), Step("b")])
    tenant: str = "alpha"
    created: float = 0.0
    started: float | None = None
    finished: float | None = None

    @property
    def completed_steps(self) -> int:
        return sum(s.state is StepState.SUCCEEDED for s in self.steps)

    def error(self) -> str | None:
        return {J.FAILED: "step b failed", J.CANCELLED: "job was cancelled"}.get(self.state)


def iso(t: float | None) -> str | None:
    return None if t is None else f"2026-01-01T00:00:{t:06.3f}Z"


def seen(job: FakeJob, seed: int = 3) -> Seen:
    return Seen(iso=iso, shown_id=FIDDLER_V3.show_id(job.id, seed), template="chain")


def job_in(state: JobState) -> FakeJob:
    done = state in (J.SUCCEEDED, J.FAILED, J.PARTIAL, J.CANCELLED)
    steps = [Step("a", state=StepState.SUCCEEDED), Step("b")]
    if state is J.SUCCEEDED:
        steps[1].state = StepState.SUCCEEDED
    return FakeJob(7, state, steps, finished=30.5 if done else None)


def validate(doc, schema):
    jsonschema.validate(doc, schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("state", list(JobState))
def test_render_validates_and_reads_back(state):
    job = job_in(state)
    doc = FIDDLER_V3.render(job, seen(job))
    validate(doc, FIDDLER_V3.schema())
    validate(doc, FIDDLER_V3.submitted_schema())
    reading = FIDDLER_V3.read(doc)
    assert FIDDLER_V3.job_word(reading.state) == FIDDLER_V3.job_word(state)
    assert reading.progress == job.completed_steps / len(job.steps)
    assert reading.finished == iso(job.finished)
    data = doc["data"]
    assert job_id(data["id"], 3) == 7 and data["name"] == "chain"
    assert FIDDLER_V3.new_job(201, {}, doc) == data["id"]


def test_the_words_are_fiddlers_celery_states():
    words = {s: FIDDLER_V3.job_word(s) for s in JobState}
    assert words[J.QUEUED] == "PENDING" and words[J.RETRY_WAIT] == "RETRY"
    assert words[J.SUCCEEDED] == "SUCCESS" and words[J.CANCELLED] == "REVOKED"
    assert words[J.FAILED] == words[J.PARTIAL] == "FAILURE"
    assert set(words.values()) == {"PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"}


def test_a_failure_says_why_in_fiddlers_fields():
    data = FIDDLER_V3.render(job_in(J.FAILED), seen(job_in(J.FAILED)))["data"]
    assert (data["error_reason"], data["error_message"]) == ("StepFailed", "step b failed")
    ok = FIDDLER_V3.render(job_in(J.SUCCEEDED), seen(job_in(J.SUCCEEDED)))["data"]
    assert ok["error_reason"] is None and ok["error_message"] is None


def test_revoke_only_while_pending():
    FIDDLER_V3.check(Action.CANCEL, J.QUEUED)
    for state in set(JobState) - {J.QUEUED}:
        with pytest.raises(ActionRefused, match="revoked only while PENDING"):
            FIDDLER_V3.check(Action.CANCEL, state)


def test_a_page_validates_in_fiddlers_paginated_shape():
    jobs = [job_in(s) for s in (J.QUEUED, J.SUCCEEDED)]
    items = [FIDDLER_V3.listed(FIDDLER_V3.render(j, seen(j)), seen(j)) for j in jobs]
    page = FIDDLER_V3.page(items, total=5, limit=2, offset=2)
    validate(page, FIDDLER_V3.page_schema())
    assert page["data"]["page_index"] == 2 and page["data"]["page_count"] == 3


@pytest.mark.parametrize("status", [401, 404, 409, 422, 429, 503])
def test_errors_validate(status):
    validate(FIDDLER_V3.error(status, "not_found", "no job x"), FIDDLER_V3.error_schema())


def test_info_routes_validate_and_the_dialect_is_registered():
    assert DIALECTS["fiddler-v3"] is FIDDLER_V3
    infos = [r for r in FIDDLER_V3.routes if r.info is not None]
    assert [r.path for r in infos] == ["/v3/server-info", "/v3/version-compatibility"]
    for route in infos:
        validate(route.info(), route.info_schema)
        hit = match(route.path)
        assert hit.dialect is FIDDLER_V3 and hit.route("GET") is route
    u = job_uuid(3, 3)
    assert match(f"/v3/jobs/{u}").params == {"id": u}
    assert match(f"/v3/jobs/{u}/revoke").route("POST").action is Action.CANCEL


# --- the client's own models read what the dialect writes ---------------------------------


def test_fiddler_clients_models_parse_the_documents():
    import fiddler  # noqa: F401
    from fiddler.configs import MIN_SERVER_VERSION
    from fiddler.schemas.job import JobResp
    from fiddler.schemas.response import ErrorResponse
    from fiddler.schemas.server_info import ServerInfo
    from fiddler.utils.version import match_semver

    info = ServerInfo(**FIDDLER_V3.routes[0].info()["data"])
    assert match_semver(info.server_version, f">={MIN_SERVER_VERSION}")
    assert str(info.server_version) == SERVER_VERSION
    job = job_in(J.FAILED)
    resp = JobResp(**FIDDLER_V3.render(job, seen(job))["data"])
    assert resp.id == uuid.UUID(job_uuid(7, 3)) and resp.status == "FAILURE"
    err = ErrorResponse(**FIDDLER_V3.error(404, "not_found", "no job x"))
    assert (err.error.code, err.error.message) == (404, "no job x")


def test_the_id_schema_takes_the_shapes_read_id_reads():
    import re

    pattern = re.compile(FIDDLER_V3.id_schema()["pattern"])
    u = job_uuid(8, 3)
    for text in (u, u.upper(), u.replace("-", "")):
        assert pattern.search(text) and job_id(text, 3) == 8
    for text in ("12", "x" * 36, u + "0", "{" + u + "}"):
        assert not pattern.search(text) and job_id(text, 3) is None
    assert job_id(FIDDLER_V3.id_schema()["examples"][0], 0) == 1


def test_a_404_says_that_job_ids_are_uuids():
    """A newcomer asks for /v3/jobs/1 (the digits other dialects show): fiddler's own
    ``help`` says what a v3 job id is."""
    body = FIDDLER_V3.error(404, "not_found", "no job 1")
    assert "UUID" in body["error"]["errors"][0]["help"]
    assert FIDDLER_V3.error(409, "conflict", "no")["error"]["errors"][0]["help"] == ""
