"""The server core in process, on a clock moved by hand: scripted jobs in each dialect,
actions and refusals, access, bad input, ETags, long-poll holds and the ground truth."""

import json

import pytest

from mock_server.core import Hold
from sim.dialects import DIALECTS, Kind
from tests.mock_server.helpers import ADMIN, Harness


def sequence(h: Harness, path: str, key, step: float = 1.0, limit: int = 200, **kw) -> list:
    """What a client polling every ``step`` seconds sees, repeats collapsed."""
    seen: list = []
    for _ in range(limit):
        status, doc = h.doc("GET", path, **kw)
        assert status == 200
        value = key(doc)
        if not seen or seen[-1] != value:
            seen.append(value)
        if value in ("success", "failed", "partial", "SUCCESS", "FAILURE", "REVOKED",
                     "Success", "Failure", "Cancelled", "completed"):  # fmt: skip
            return seen
        h.sleep(step)
    raise AssertionError(f"no terminal state in {limit} polls: {seen}")


def test_an_ordo_job_has_the_seed_documents_fields_and_fails_at_the_step_it_was_told():
    h = Harness()
    status, doc = h.doc("POST", "/ordo/jobs", {"template": "chain", "outcome": "fail_step:build"})
    assert status == 201
    assert sequence(h, "/ordo/jobs/1", lambda d: d["job"]["status"]) == ["running", "failed"]
    _, doc = h.doc("GET", "/ordo/jobs/1")
    assert list(doc) == ["job", "progress", "duration_ms", "steps", "outputs"]
    assert list(doc["job"]) == ["id", "status", "created_at", "started_at", "finished_at", "error"]
    assert list(doc["progress"]) == ["percentage", "completed_steps", "total_steps"]
    assert [list(s) for s in doc["steps"]] == [
        ["step_id", "step_type", "status", "started_at", "finished_at", "error"]
    ] * 2
    assert doc["job"]["error"] == "step build failed"
    assert [s["status"] for s in doc["steps"]] == ["success", "failed"]
    assert doc["outputs"] == [{"artifact_name": "prepare.out", "path": "/artifacts/1/prepare.out"}]
    assert doc["progress"] == {"percentage": 100.0, "completed_steps": 2, "total_steps": 2}
    assert doc["duration_ms"] == 30_000  # 10 s + 20 s, on the scaled clock
    assert doc["job"]["finished_at"] == "1970-01-01T00:00:30.000Z"


def test_a_fiddler_task_retries_twice_and_succeeds():
    h = Harness(speed=10)
    h.doc("POST", "/fiddler/tasks", {"template": "chain", "outcome": "transient_failures:2"})
    seen = sequence(h, "/fiddler/tasks/1", lambda d: d["status"], step=0.1)
    assert seen == ["STARTED", "RETRY", "STARTED", "RETRY", "STARTED", "SUCCESS"]
    _, doc = h.doc("GET", "/fiddler/tasks/1")
    assert doc["progress"] == 100.0 and doc["error_message"] is None
    assert doc["result"] == {
        "outputs": [
            {"artifact_name": "prepare.out", "path": "/artifacts/1/prepare.out"},
            {"artifact_name": "build.out", "path": "/artifacts/1/build.out"},
        ]
    }


def test_a_workflow_job_pauses_through_pausing_resumes_and_succeeds():
    h = Harness()
    h.doc("POST", "/workflow/jobs", {"template": "chain"})
    h.sleep(5)  # prepare runs until 10 s
    assert h.doc("POST", "/workflow/jobs/1/pause")[1]["state"] == "Pausing"
    h.sleep(6)
    assert h.doc("GET", "/workflow/jobs/1")[1]["state"] == "Paused"
    status, body = h.doc("POST", "/workflow/jobs/1/pause")
    assert status == 409 and "only a Pending or Started job can be paused" in body["message"]
    h.sleep(30)  # nothing runs while paused
    assert h.doc("GET", "/workflow/jobs/1")[1]["state"] == "Paused"
    assert h.doc("POST", "/workflow/jobs/1/resume")[1]["state"] == "Started"
    assert sequence(h, "/workflow/jobs/1", lambda d: d["state"]) == ["Started", "Success"]
    tasks = h.doc("GET", "/workflow/jobs/1")[1]["tasks"]
    assert [(t["id"], t["state"]) for t in tasks] == [("prepare", "Success"), ("build", "Success")]


def test_a_workflow_cancel_goes_through_dequeuing_and_ordo_shows_it_failed():
    h = Harness()
    h.doc("POST", "/workflow/jobs", {"template": "chain"})
    h.sleep(3)
    assert h.doc("POST", "/workflow/jobs/1/cancel")[1]["state"] == "Dequeuing"
    assert sequence(h, "/workflow/jobs/1", lambda d: d["state"]) == ["Dequeuing", "Cancelled"]
    _, doc = h.doc("GET", "/ordo/jobs/1")
    assert doc["job"]["status"] == "failed" and doc["job"]["error"] == "job was cancelled"
    assert [s["status"] for s in doc["steps"]] == ["skipped", "skipped"]
    status, body = h.doc("POST", "/workflow/jobs/1/cancel")
    assert status == 409 and "Cancelled" in body["message"]


def test_generic_jobs_complete_with_a_result_or_fail_with_a_message():
    h = Harness()
    status, doc = h.doc("POST", "/status", {"template": "fanout", "outcome": "partial"}, token=None)
    assert status == 202 and doc == {"id": "1", "status": "pending"}
    assert sequence(h, "/status/1", lambda d: d["status"], token=None) == ["pending", "failed"]
    assert h.doc("GET", "/status/1", token=None)[1] == {
        "status": "failed",
        "message": "some steps failed: thumbnails",
    }
    h.doc("POST", "/status", {"outcome": "succeed", "duration": "2s"}, token=None)
    h.sleep(4)
    done = h.doc("GET", "/status/2", token=None)[1]
    assert done["status"] == "completed" and done["result"]["job_id"] == "2"


@pytest.mark.parametrize(
    ("path", "action", "message"),
    [
        ("/fiddler/tasks/1", "revoke", "a job can be revoked only while PENDING"),
        ("/workflow/jobs/1", "resume", "only a Paused job can be resumed"),
    ],
)
def test_actions_a_dialect_does_not_allow_are_refused_with_409(path, action, message):
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})
    h.sleep(1)
    status, body = h.doc("POST", f"{path}/{action}")
    assert status == 409 and message in body["message"]
    assert h.doc("GET", "/ordo/jobs/1")[1]["job"]["status"] == "running"  # untouched


def test_an_action_a_dialect_declares_no_route_for_is_no_path_of_it():
    """generic declares no cancel: its path is not found (the dialect's routes are all
    there is), and the job runs on."""
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})
    status, body = h.doc("POST", "/status/1/cancel")
    assert status == 404 and body["error"] == "not_found"
    assert h.doc("GET", "/ordo/jobs/1")[1]["job"]["status"] == "running"


def test_an_ordo_cancel_ends_the_job_at_once():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {})
    status, doc = h.doc("POST", "/ordo/jobs/1/cancel")
    assert status == 200 and doc["job"]["status"] == "failed"
    assert doc["job"]["error"] == "job was cancelled"


def test_tenants_see_only_their_own_jobs_and_bad_credentials_get_401():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {}, token="tok-a")
    assert h.doc("GET", "/ordo/jobs/1", token="tok-b")[0] == 404
    assert h.doc("POST", "/ordo/jobs/1/cancel", token="tok-b")[0] == 404
    assert h.doc("GET", "/ordo/jobs/1", token=ADMIN)[0] == 200
    status, body = h.doc("GET", "/ordo/jobs/1", token=None)
    assert status == 401 and body["error"] == "unauthorized"
    assert h.doc("GET", "/ordo/jobs/1", token="nope")[0] == 401
    assert (
        h.doc("GET", "/ordo/jobs/1", headers={"Authorization": "Basic eDp5"}, token=None)[0] == 401
    )
    assert h.doc("GET", "/ordo/jobs", token="tok-b")[1]["total"] == 0
    # anonymous generic jobs are a tenant of their own
    h.doc("POST", "/status", {}, token=None)
    assert h.doc("GET", "/status/2", token=None)[0] == 200
    assert h.doc("GET", "/status/1", token=None)[0] == 404
    assert h.doc("GET", "/_admin/report", token="tok-a")[0] == 403
    assert h.doc("GET", "/_admin/report", token=None)[0] == 401


def test_anonymous_access_to_generic_can_be_turned_off():
    h = Harness(anonymous_generic=False)
    assert h.doc("POST", "/status", {}, token=None)[0] == 401
    assert h.doc("POST", "/status", {}, token="tok-a")[0] == 202


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[1, 2]", 422, "expected a JSON object"),
        ({"template": 5}, 422, "template: expected a string"),
        ({"template": "nope"}, 422, "expected one of chain, fanout"),
        ({"colour": "red"}, 422, "unknown field 'colour'"),
        ({"durations": {"nope": 1}}, 422, "'nope' is not a step of 'chain'"),
        ({"durations": {"prepare": "soon"}}, 422, "durations.prepare"),
        ({"durations": [1]}, 422, "durations: expected an object"),
        ({"outcome": "explode"}, 422, "expected one of succeed"),
        ({"outcome": "fail_step:nope"}, 422, "expected a step of 'chain'"),
        (b"x" * 70_000, 413, "over 65536 bytes"),
        (b"\xff\xfe", 400, "not JSON"),
    ],
)
def test_bad_submissions_get_a_4xx_with_a_json_error(body, status, words):
    h = Harness()
    code, doc = h.doc("POST", "/ordo/jobs", body)
    assert code == status and words in doc["message"], doc
    assert h.doc("GET", "/ordo/jobs")[1]["total"] == 0  # nothing half-made


@pytest.mark.parametrize(
    ("method", "path", "query", "status"),
    [
        ("GET", "/ordo/jobs/1", {"wait": "soon"}, 400),
        ("GET", "/ordo/jobs/1", {"wait": "-1"}, 400),
        ("GET", "/ordo/jobs/1", {"wait": "nan"}, 400),
        ("GET", "/ordo/jobs/1", {"wait": "1e9"}, 400),
        ("GET", "/ordo/jobs", {"limit": "0"}, 400),
        ("GET", "/ordo/jobs", {"offset": "-3"}, 400),
        ("GET", "/ordo/jobs/2", {}, 404),
        ("GET", "/ordo/jobs/abc", {}, 404),
        ("GET", "/ordo/jobs/1/explode", {}, 404),
        ("PUT", "/ordo/jobs/1", {}, 405),
        ("DELETE", "/ordo/jobs", {}, 405),
        ("GET", "/ordo/jobs/1/cancel", {}, 405),
        ("GET", "/nowhere", {}, 404),
    ],
)
def test_bad_requests_get_a_4xx_with_a_json_error(method, path, query, status):
    h = Harness()
    h.doc("POST", "/ordo/jobs", {})
    code, doc = h.doc(method, path, query=query)
    assert code == status and doc["error"] and doc["message"]


def test_etags_give_304_until_what_the_dialect_shows_changes():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})
    first = h.call("GET", "/ordo/jobs/1")
    etag = first.headers["ETag"]
    h.sleep(5)
    same = h.call("GET", "/ordo/jobs/1", headers={"If-None-Match": etag})
    assert same.status == 304 and same.body == b"" and same.headers["ETag"] == etag
    h.sleep(6)  # prepare ended at 10 s: a step changed
    new = h.call("GET", "/ordo/jobs/1", headers={"If-None-Match": etag})
    assert new.status == 200 and new.headers["ETag"] != etag
    # generic shows nothing of steps: its ETag holds across them
    g = h.call("GET", "/status/1", token=ADMIN).headers["ETag"]
    h.sleep(5)
    assert h.call("GET", "/status/1", token=ADMIN, headers={"If-None-Match": g}).status == 304


def test_a_long_poll_is_held_until_the_next_change_and_not_past_the_end():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})
    h.sleep(2)
    hold = h.call("GET", "/ordo/jobs/1", query={"wait": "30"})
    assert isinstance(hold, Hold) and hold.wait == 30
    assert h.core.changed(hold) == pytest.approx(8.0)  # prepare ends at 10 s
    h.sleep(8)
    assert h.core.changed(hold) == 0
    answer = h.call("GET", "/ordo/jobs/1", query={"wait": "30"}, held=True)
    assert answer.status == 200
    h.sleep(30)
    ended = h.call("GET", "/ordo/jobs/1", query={"wait": "30"})
    assert not isinstance(ended, Hold) and ended.status == 200  # an ended job: at once


def test_the_ground_truth_counts_every_poll_and_the_latency_exactly():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})  # ends at 30 s
    h.sleep(1)
    polls = 0
    while True:
        polls += 1
        _, doc = h.doc("GET", "/ordo/jobs/1", headers={"X-Client-Id": "poller-3s"})
        if doc["job"]["status"] == "success":
            break
        h.sleep(3)
    report = h.core.report()
    (row,) = report["jobs"]
    assert row["client"] == "poller-3s" and row["polls"] == polls == 11
    assert row["detection_latency_s"] == pytest.approx(1.0, abs=1e-9)  # seen at 31 s
    assert row["wasted_polls"] == polls - 2  # it saw running, then success
    assert row["t_end"] == pytest.approx(30.0) and not row["gave_up"]
    # when it was submitted, and what the API showed of it from when
    assert row["submit"] == pytest.approx(0.0)
    assert [state for _, state in row["shown"]] == ["running", "succeeded"]  # started at once
    assert row["shown"][-1][0] == pytest.approx(row["t_visible"])
    assert [t for t, _ in row["shown"]] == sorted(t for t, _ in row["shown"])
    assert report["clients"][0]["polls"] == 11
    h.doc("GET", "/ordo/jobs/1", headers={"X-Client-Id": "poller-3s"})
    assert h.core.report()["jobs"][0]["requests_after_seen"] == 1


def test_a_client_that_stops_asking_before_the_end_gave_up():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})
    h.doc("POST", "/ordo/jobs", {"template": "chain"})
    for _ in range(3):  # every 3 s, then no more
        h.doc("GET", "/ordo/jobs/1")
        h.sleep(3)
    h.sleep(31)
    h.doc("GET", "/ordo/jobs/2")  # it moved on (else unfinished: see test_unfinished.py)
    row = h.core.report()["jobs"][0]
    assert row["gave_up"] and row["t_seen"] is None and not row["unfinished"]


def test_jobs_are_listed_a_page_at_a_time():
    h = Harness()
    for _ in range(3):
        h.doc("POST", "/ordo/jobs", {})
    page = h.doc("GET", "/ordo/jobs", query={"limit": "2"})[1]
    assert [j["job"]["id"] for j in page["jobs"]] == ["1", "2"] and page["total"] == 3
    rest = h.doc("GET", "/ordo/jobs", query={"limit": "2", "offset": "2"})[1]
    assert [j["job"]["id"] for j in rest["jobs"]] == ["3"]


def test_the_request_log_stops_at_its_cap_and_counts_what_it_dropped(tmp_path):
    from mock_server.journal import Journal
    from mock_server.truth import Truth

    h = Harness()
    journal = Journal(tmp_path / "requests.jsonl", cap=400)
    h.core.truth = Truth(journal)
    h.doc("POST", "/ordo/jobs", {})
    for _ in range(10):
        h.doc("GET", "/ordo/jobs/1")
    summary = h.core.report()["totals"]["journal"]
    lines = (tmp_path / "requests.jsonl").read_text().splitlines()
    assert summary["written"] == len(lines) > 0 and summary["dropped"] == 10 - len(lines) > 0
    assert summary["bytes"] <= 400
    assert json.loads(lines[0])["shown"] == "running"


def test_retry_after_can_hint_the_polling_interval_on_200_and_violations_count():
    h = Harness(speed=10, retry_after_hint=2.0)
    h.doc("POST", "/ordo/jobs", {"duration": "1h"})
    first = h.call("GET", "/ordo/jobs/1")
    assert first.status == 200 and first.headers["Retry-After"] == "2"
    h.sleep(1.0)  # too soon: 10 simulated s of the 20 asked
    h.call("GET", "/ordo/jobs/1")
    h.sleep(2.0)
    h.call("GET", "/ordo/jobs/1")
    (row,) = h.core.report()["jobs"]
    assert row["polls"] == 3 and row["retry_after_violations"] == 1


def test_a_background_job_is_found_by_id_and_listed_with_no_request_before_it():
    """The scenario's arrivals make jobs whenever the model runs; the first request that
    asks for one must run it (a client adopting background jobs asks for nothing else)."""
    h = Harness(speed=60, background=True)
    h.sleep(600)  # ten wall minutes: many background jobs, and no request in between
    status, doc = h.doc("GET", "/ordo/jobs/1", token=ADMIN)
    assert status == 200 and doc["job"]["id"] == "1"
    fresh = Harness(speed=60, background=True)
    fresh.sleep(600)
    status, page = fresh.doc("GET", "/ordo/jobs", token=ADMIN)
    assert status == 200 and page["total"] > 0


def test_the_plain_status_shortcut_answers_and_records_what_the_general_path_does():
    """Status requests with nothing unusual skip the general routing: every answer, and
    the ground truth after them, must be the same without the shortcut, in every
    dialect (those it does not serve take the general path both times)."""
    runs = []
    for shortcut in (True, False):
        h = Harness(speed=60)
        if not shortcut:
            h.core._plain_status = lambda req: None
        paths = {}
        for name, dialect in DIALECTS.items():
            submit = dialect.path(Kind.SUBMIT, project="alpha")
            made = h.call("POST", submit, {"template": "chain", "duration": "20s"})
            headers = {k.lower(): v for k, v in made.headers.items()}
            shown = dialect.new_job(made.status, headers, json.loads(made.body))
            paths[name] = dialect.path(Kind.STATUS, shown, "alpha")
        answers = []
        for step in range(8):
            h.sleep(0.2)  # 12 simulated seconds: the jobs move on
            for url in paths.values():
                first = h.call("GET", url, headers={"X-Client-Id": f"c{step % 2}"})
                again = h.call("GET", url, headers={"If-None-Match": first.headers.get("ETag", "")})
                other = h.call("GET", url, token="tok-b")  # another tenant's job: 404
                admin = h.call("GET", url, token=ADMIN)
                anon = h.call("GET", url, token=None)
                for r in (first, again, other, admin, anon):
                    answers.append((r.status, r.body, sorted(r.headers.items())))
        report = h.core.report()
        runs.append((answers, json.dumps(report, sort_keys=True, default=str)))
    assert runs[0][0] == runs[1][0]
    assert {a[0] for a in runs[0][0]} >= {200, 304, 401, 404}
    assert runs[0][1] == runs[1][1]
