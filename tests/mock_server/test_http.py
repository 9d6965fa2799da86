"""The mock server as users run it: ``pollsim serve`` on a loopback port, driven over
real HTTP."""

from __future__ import annotations

import csv
import http.client
import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from sim.dialects import DIALECTS
from sim.states import JOB_EDGES, JOB_TERMINAL
from tests.mock_server.server import ADMIN, QA, call, start

pytestmark = pytest.mark.live  # a real pollsim serve on a loopback port


@pytest.fixture(scope="module")
def fast():
    """Twenty simulated seconds per wall second: a scripted chain ends in 1.5 s."""
    server = start(20)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def real_time():
    server = start(1)
    yield server
    server.stop()


POLLSIM = (sys.executable, "-m", "pollsim")
TERMINAL_WORDS = {"success", "failed", "partial", "SUCCESS", "FAILURE", "REVOKED"}
TERMINAL_WORDS |= {"Success", "Failure", "Cancelled", "completed"}


def watch(server, path, key, token="tok-a", every=0.05, limit=600) -> list:
    seen: list = []
    for _ in range(limit):
        answer = call(server, "GET", path, token=token)
        assert answer.status == 200, answer.body
        value = key(answer.json)
        if not seen or seen[-1] != value:
            seen.append(value)
        if value in TERMINAL_WORDS:
            return seen
        time.sleep(every)
    raise AssertionError(f"no end after {limit} polls: {seen}")


def test_a_scripted_job_passes_through_its_states_in_each_dialect(fast):
    script = {"template": "chain", "outcome": "transient_failures:1"}
    cases = {
        "/ordo/jobs": (lambda d: d["job"]["status"], ["running", "success"]),
        "/fiddler/tasks": (lambda d: d["status"], ["STARTED", "RETRY", "STARTED", "SUCCESS"]),
        "/workflow/jobs": (lambda d: d["state"], ["Started", "Success"]),
        "/status": (lambda d: d["status"], ["pending", "completed"]),
    }

    def one(base):
        made = call(fast, "POST", base, script)
        assert made.status in (201, 202), made.body
        return watch(fast, made.headers["Location"], cases[base][0])

    with ThreadPoolExecutor(4) as pool:
        seen = dict(zip(cases, pool.map(one, cases), strict=True))
    assert seen == {base: expected for base, (_, expected) in cases.items()}


def test_ordo_answers_with_the_seed_documents_field_names(fast):
    made = call(fast, "POST", "/ordo/jobs", {"template": "chain", "outcome": "fail_step:build"})
    doc = made.json
    assert made.status == 201 and made.headers["Content-Type"] == "application/json"
    assert list(doc) == ["job", "progress", "duration_ms", "steps", "outputs"]
    assert list(doc["job"]) == ["id", "status", "created_at", "started_at", "finished_at", "error"]
    assert list(doc["steps"][0]) == [
        "step_id",
        "step_type",
        "status",
        "started_at",
        "finished_at",
        "error",
    ]
    watch(fast, made.headers["Location"], lambda d: d["job"]["status"])
    done = call(fast, "GET", made.headers["Location"]).json
    assert done["job"]["error"] == "step build failed"
    start_, end = (datetime.fromisoformat(done["job"][k]) for k in ("created_at", "finished_at"))
    assert (end - start_).total_seconds() == pytest.approx(30.0)  # simulated, scaled


def test_etag_304_and_a_long_poll_that_answers_at_the_next_change(fast):
    made = call(fast, "POST", "/ordo/jobs", {"template": "chain"})
    where = made.headers["Location"]
    first = call(fast, "GET", where)
    assert call(fast, "GET", where, headers={"If-None-Match": first.headers["ETag"]}).status in (
        304,
        200,  # prepare may have ended in between: then a new document
    )
    # held until the first change (prepare ends at 10 s), not until the wait (100 s) or
    # the job's end (30 s): the answer shows build still running
    held = call(fast, "GET", where + "?wait=5")
    steps = [s["status"] for s in held.json["steps"]]
    assert held.status == 200 and steps == ["success", "running"], steps
    again = call(fast, "GET", where, headers={"If-None-Match": held.headers["ETag"]})
    assert again.status == 304 and again.body == b""


def test_cancel_pause_resume_and_refusals(fast):
    made = call(fast, "POST", "/workflow/jobs", {"template": "chain", "duration": "5m"})
    where = made.headers["Location"]
    assert call(fast, "POST", where + "/pause").json["state"] == "Pausing"
    refused = call(fast, "POST", where + "/resume")
    assert refused.status == 409 and "only a Paused job" in refused.json["message"]
    job_id = where.rsplit("/", 1)[1]
    refused = call(fast, "POST", f"/fiddler/tasks/{job_id}/revoke")
    assert refused.status == 409 and "only while PENDING" in refused.json["message"]
    cancelled = call(fast, "POST", where + "/cancel")
    assert cancelled.status == 200 and cancelled.json["state"] == "Dequeuing"
    assert watch(fast, where, lambda d: d["state"]) == ["Dequeuing", "Cancelled"]


def test_tokens_tenants_and_isolation(fast):
    made = call(fast, "POST", "/ordo/jobs", {}, token="tok-a")
    where = made.headers["Location"]
    assert call(fast, "GET", where, token="tok-b").status == 404
    assert call(fast, "GET", where, token=ADMIN).status == 200
    for token in (None, "wrong"):
        answer = call(fast, "GET", where, token=token)
        assert answer.status == 401 and answer.json["error"] == "unauthorized"
    assert call(fast, "GET", "/_admin/report", token="tok-a").status == 403


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("POST", "/ordo/jobs", b"{oops", {}, 400),
        ("POST", "/ordo/jobs", b'"text"', {}, 422),
        ("POST", "/ordo/jobs", {"template": ["chain"]}, {}, 422),
        ("POST", "/ordo/jobs", {"template": "nope"}, {}, 422),
        ("POST", "/ordo/jobs", b"x" * 100_000, {}, 413),
        ("GET", "/ordo/jobs/1?wait=forever", None, {}, 400),
        ("GET", "/ordo/jobs?limit=-1", None, {}, 400),
        ("GET", "/ordo/jobs/99999999999999999999999", None, {}, 404),
        ("GET", "/ordo/jobs/%00", None, {}, 404),
        ("PATCH", "/ordo/jobs", None, {}, 405),
        ("GET", "/status/1", None, {"Authorization": "Bearer"}, 401),
        ("POST", "/ordo/jobs", b"{}", {"Content-Type": "text/plain"}, 201),
    ],
)
def test_bad_input_gets_a_4xx_with_a_json_body_never_a_500(
    fast, method, path, body, headers, status
):
    token = None if "Authorization" in headers else "tok-a"
    answer = call(fast, method, path, body, token=token, headers=headers)
    assert answer.status == status, answer.body
    if status >= 400:
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json["message"]


def test_the_ground_truth_matches_what_fixed_interval_clients_saw(real_time):
    """Clients polling every 0.2 s count their own polls and measure their own latency
    (receipt of the terminal answer minus the job's finished_at, which at speed 1 is
    wall-clock time); the server's report must agree."""

    def client(k: int) -> tuple[str, int, float]:
        name = f"fixed-client-{k}"
        made = call(real_time, "POST", "/ordo/jobs", {"duration": f"{0.5 + 0.1 * k}s"})
        where, polls = made.headers["Location"], 0
        while True:
            polls += 1
            answer = call(real_time, "GET", where, headers={"X-Client-Id": name})
            received = time.time()
            doc = answer.json
            if doc["job"]["status"] == "success":
                end = datetime.fromisoformat(doc["job"]["finished_at"]).timestamp()
                return name, polls, received - end
            time.sleep(0.2)

    with ThreadPoolExecutor(5) as pool:
        mine = list(pool.map(client, range(5)))
    report = call(real_time, "GET", "/_admin/report", token=ADMIN).json
    rows = {r["client"]: r for r in report["jobs"]}
    for name, polls, latency in mine:
        assert rows[name]["polls"] == polls
        assert rows[name]["detection_latency_s"] == pytest.approx(latency, abs=0.05)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """Fast, and one status answer in five a fault: errors, resets, malformed bodies."""
    from tests.mock_server.server import with_tables

    text = "[faults]\nerrors = { 500 = 0.05, 503 = 0.05 }\nreset = 0.05\nmalformed = 0.05\n"
    server = start(20, scenario=with_tables(tmp_path_factory.mktemp("faulty"), text))
    yield server
    server.stop()


@pytest.mark.parametrize("which", ["fast", "faulty"])
def test_terminal_states_never_change_and_every_sequence_is_a_path(which, request):
    """Many jobs polled at once by many threads in every dialect, with and without
    faults: each client's sequence of states (answers that show one) must be one the
    state machine allows, with nothing after a terminal."""
    fast = request.getfixturevalue(which)
    outcomes = ["succeed", "transient_failures:1", "fail_step:build", None]
    jobs = []
    for i in range(24):
        body = {"template": "chain"}
        if outcomes[i % 4]:
            body["outcome"] = outcomes[i % 4]
        jobs.append(call(fast, "POST", "/ordo/jobs", body).json["job"]["id"])  # no faults here
    cancel_some = jobs[3::6]
    views = {
        "ordo": ("/ordo/jobs/", lambda d: d["job"]["status"]),
        "fiddler": ("/fiddler/tasks/", lambda d: d["status"]),
        "workflow": ("/workflow/jobs/", lambda d: d["state"]),
        "generic": ("/status/", lambda d: d["status"]),
    }
    failures: list[str] = []

    def poll(dialect: str) -> None:
        prefix, key = views[dialect]
        reach = reachable(dialect)
        seqs: dict[str, list[str]] = {j: [] for j in jobs}
        for _ in range(400):
            open_ = [j for j in jobs if not seqs[j] or seqs[j][-1] not in TERMINAL_WORDS]
            if not open_:
                break
            for j in open_:
                try:
                    answer = call(fast, "GET", prefix + j, token=ADMIN)
                    word = key(answer.json) if answer.status == 200 else None
                except (OSError, ValueError, http.client.HTTPException):
                    word = None  # an injected fault: no state shown
                if word is None:
                    continue
                seq = seqs[j]
                if seq and word != seq[-1] and word not in reach[seq[-1]]:
                    failures.append(f"{dialect} job {j}: {seq[-1]} -> {word}")
                seq.append(word)
        for j, seq in seqs.items():
            last = [w for w in seq if w in TERMINAL_WORDS]
            if len(set(last)) > 1:
                failures.append(f"{dialect} job {j}: terminal changed: {seq}")

    threads = [threading.Thread(target=poll, args=(d,)) for d in views]
    for t in threads:
        t.start()
    for j in cancel_some:
        call(fast, "POST", f"/workflow/jobs/{j}/cancel", token=ADMIN)
    for t in threads:
        t.join()
    assert not failures, failures[:10]


def reachable(dialect: str) -> dict[str, set[str]]:
    """Per word of the dialect, the words of every state reachable from its states."""
    d = DIALECTS[dialect]

    def word(s):
        return d.jobs[s] or d.jobs[s.__class__("running")]

    closure = {s: {b for a, b in JOB_EDGES if a == s} for s, _ in JOB_EDGES}
    changed = True
    while changed:
        changed = False
        for nxt in closure.values():
            more = set().union(*(closure.get(n, set()) for n in nxt)) - nxt
            if more:
                nxt |= more
                changed = True
    out: dict[str, set[str]] = {}
    for s, nxt in closure.items():
        out.setdefault(word(s), set()).update(word(n) for n in nxt)
    for s in JOB_TERMINAL:
        out.setdefault(word(s), set())
    return out


def test_pollsim_report_prints_the_ground_truth_and_writes_csv(fast, tmp_path):
    made = call(fast, "POST", "/ordo/jobs", {"duration": "1s"}, headers={"X-Client-Id": "rep"})
    time.sleep(0.2)
    call(fast, "GET", made.headers["Location"], headers={"X-Client-Id": "reporter"})
    out = tmp_path / "truth.csv"
    r = subprocess.run(
        [*POLLSIM, "report", "--server", fast.url, "--admin-token", ADMIN, "--csv", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "reporter" in r.stdout and r.stdout.splitlines()[2].startswith("client")
    (row,) = [r for r in csv.DictReader(out.open()) if r["client"] == "reporter"]
    shown = json.loads(row["shown"])  # the states shown over time, as JSON in one cell
    assert shown[0][1] in ("queued", "running") and float(row["submit"]) <= shown[0][0]
    bad = subprocess.run(
        [*POLLSIM, "report", "--server", fast.url, "--admin-token", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "HTTP 401" in bad.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--speed", "0"], "--speed: found 0, expected a number > 0"),
        (["--speed", "1e308"], "--speed: found 1e+308, expected a number > 0 and at most"),
        (["--port", "70000"], "--port: found 70000"),
        (["--host", ""], "--host: found '', expected an interface"),  # not every interface
        (["--token", "Anonymous=x"], "tenant 'Anonymous' is a reserved name"),
        (["--admin-token", ""], "--admin-token: found ''"),
        (["--token", "team="], "expected TOKEN or TENANT=TOKEN"),
        (["no/such/scenario.toml"], "no/such/scenario.toml"),
    ],
)
def test_serve_refuses_bad_arguments_in_one_line(args, words):
    r = subprocess.run(
        [*POLLSIM, "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and words in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_serve_says_in_one_line_when_the_port_is_taken(fast):
    port = fast.url.rsplit(":", 1)[1]
    r = subprocess.run(
        [*POLLSIM, "serve", str(QA), "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1


def test_prometheus_metrics_count_requests_faults_and_jobs(fast):
    made = call(fast, "POST", "/fiddler/tasks", {"duration": "1h"})
    for _ in range(3):
        call(fast, "GET", made.headers["Location"])
    call(fast, "GET", "/fiddler/tasks/999999")
    answer = call(fast, "GET", "/metrics", token=None)
    text = answer.body.decode()
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/plain")
    counts = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert counts['pollsim_requests_total{code="200",dialect="fiddler"}'] >= 3
    assert counts['pollsim_requests_total{code="404",dialect="fiddler"}'] >= 1
    assert counts['pollsim_jobs{state="running"}'] >= 1
    assert counts['pollsim_request_seconds_count{dialect="fiddler"}'] >= 5
