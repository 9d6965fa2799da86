"""fiddler-client 3.14.1, unchanged, against a real ``pollsim serve`` in the fiddler-v3
dialect: ``fdl.init``, ``Job.get`` and ``job.wait`` on jobs with forced outcomes, and
under injected faults.

Every request the client makes is counted and timed on its own side, around the
``send`` of the session its connection uses (the library's own transport; none of its
logic is touched), and the server's ground truth (``GET /_admin/report``) must count
exactly those status requests for the job; the detection latency it reports must lie
within what the client saw: after the client's last answer that showed the job
running, and no later than its first that showed it ended.

What the client does, as these tests pin it down (fiddler/entities/job.py):
``watch`` sleeps ``interval`` after each 2xx answer and none after any other, so that
every error answer (404, 429, 500, 503; Retry-After is never read) is asked again at
once; ``wait`` returns on SUCCESS, raises ``AsyncJobFailed`` on FAILURE, and returns
as on success on REVOKED.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import urlsplit

import fiddler
import pytest
from fiddler.decorators import handle_api_error
from fiddler.entities.job import Job
from fiddler.exceptions import ApiError, AsyncJobFailed, Conflict, NotFound

from sim.dialects.fiddler_v3 import FIDDLER_V3, job_id, job_uuid
from tests.mock_server.server import ADMIN, Server, call, start, with_tables
from tests.sdk.timing import time_sends

pytestmark = pytest.mark.live  # a real pollsim serve on a loopback port

SPEED = 20.0  #: simulated seconds per wall second: a chain of two 10 s steps takes 1 s
INTERVAL = 0.05  #: wall seconds job.wait sleeps between polls (one simulated second)
TIMEOUT = 60  #: wall seconds job.wait watches at most (its own deadline)
SEED = 3  #: the QA scenario's seed, for which the server shows job ids as UUIDs
ENDED = ("SUCCESS", "FAILURE", "REVOKED")


@dataclass(frozen=True)
class Exchange:
    """One request of the client's and its answer, as its session saw them."""

    at: float  #: monotonic wall seconds when the answer was in (read)
    elapsed: float  #: from just before the request went out to ``at``
    method: str
    path: str
    status: int
    word: str | None  #: the job's status word, in a 200 about a job
    retry_after: float | None  #: seconds, where the answer asked for them


class Ledger:
    """Every exchange of the session, timed around its ``send`` (``time_sends``)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def __call__(self, resp, t0: float, t1: float) -> None:
        path = urlsplit(resp.request.url).path
        word = None
        if resp.status_code == 200 and path.startswith("/v3/jobs/"):
            word = resp.json()["data"]["status"]
        asked = resp.headers.get("Retry-After")
        self.exchanges.append(
            Exchange(
                t1,
                t1 - t0,
                resp.request.method,
                path,
                resp.status_code,
                word,
                float(asked) if asked is not None else None,
            )
        )

    def polls(self, shown: str) -> list[Exchange]:
        """The status requests for one job, in order."""
        return [e for e in self.exchanges if e.method == "GET" and e.path == f"/v3/jobs/{shown}"]


def connect(server: Server, monkeypatch, token: str = "tok-a") -> Ledger:
    """``fdl.init`` as a user calls it, then a ledger on the session it made."""
    # the client's own retries of Job.get give up after this (default: 300 s)
    monkeypatch.setenv("FIDDLER_CLIENT_RETRY_MAX_DURATION_SECONDS", "20")
    fiddler.init(url=server.url, token=token, auto_attach_log_handler=False)
    ledger = Ledger()
    time_sends(fiddler.conn.client.session, ledger)
    return ledger


def submit(server: Server, outcome: str, duration: str = "10s", token: str = "tok-a") -> str:
    """A chain job (two steps) with a forced outcome, through pollsim's own submit: its
    UUID."""
    body = {"template": "chain", "outcome": outcome, "duration": duration}
    made = call(server, "POST", "/v3/jobs", body, token=token)
    assert made.status == 201, made.body
    shown = made.json["data"]["id"]
    assert made.headers["Location"] == f"/v3/jobs/{shown}"
    return shown


def truth(server: Server, shown: str) -> dict:
    """The ground truth's row for the job (one client polled it)."""
    report = call(server, "GET", "/_admin/report", token=ADMIN)
    assert report.status == 200, report.body
    rows = [r for r in report.json["jobs"] if r["job_id"] == str(job_id(shown, SEED))]
    assert len(rows) == 1, rows
    return rows[0]


def requests_counted(server: Server, status: int) -> int:
    """Requests of the fiddler-v3 dialect answered ``status``, as the server counted."""
    report = call(server, "GET", "/_admin/report", token=ADMIN).json
    return sum(
        r["count"]
        for r in report["totals"]["requests"]
        if r["dialect"] == FIDDLER_V3.name and r["http_status"] == status
    )


def words(polls: list[Exchange]) -> list[str]:
    """The status words the client saw, each run of one word once."""
    out: list[str] = []
    for e in polls:
        if e.word is not None and (not out or out[-1] != e.word):
            out.append(e.word)
    return out


def check_truth(server: Server, ledger: Ledger, shown: str) -> dict:
    """The server counted exactly the client's status requests for the job, its errors
    among them, and a detection latency within what the client saw; its row."""
    polls = ledger.polls(shown)
    row = truth(server, shown)
    assert row["client"].startswith("alpha")  # the token's tenant
    assert row["polls"] == len(polls)
    refused = [e for e in polls if e.status != 200]
    assert row["injected_errors"] + row["errors"] == len(refused)
    assert row["errors"] == 0  # pollsim's own failures: none
    # a request reached the server between its sending and its answer's headers
    first = polls[0]
    end = next(i for i, e in enumerate(polls) if e.word in ENDED)
    seen = polls[end]
    before = [e for e in polls[:end] if e.word is not None][-1]  # errors show no state
    lo = (seen.at - seen.elapsed) - first.at
    hi = seen.at - (first.at - first.elapsed)
    eps = 1e-6
    assert lo - eps <= (row["t_seen"] - row["t_first"]) / SPEED <= hi + eps
    # the job ended after the server answered the last request that showed it not ended,
    # and by the one that showed it ended: at most the client's gap between the two
    gap = seen.at - (before.at - before.elapsed)
    assert 0 <= row["detection_latency_s"] <= gap * SPEED + eps, (row, gap)
    return row


def gaps_after_2xx(polls: list[Exchange]) -> list[float]:
    """Wall seconds from each 200 the client's watch got to its next request's answer
    (the first poll is Job.get's, after which watch asks at once)."""
    return [b.at - a.at for a, b in pairwise(polls[1:]) if a.status == 200]


# --- the server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    s = start(SPEED)
    yield s
    s.stop()


@pytest.fixture
def fresh():
    """A server of its own, for faults (they hold for every request while set)."""
    s = start(SPEED)
    yield s
    s.stop()


# --- outcomes --------------------------------------------------------------------------


def test_init_reads_server_info_and_a_bad_token_is_fiddlers_api_error(server, monkeypatch):
    connect(server, monkeypatch)
    assert str(fiddler.conn.server_version) == "24.4.0"
    assert fiddler.conn.organization_name == "pollsim"
    with pytest.raises(ApiError) as refused:
        fiddler.init(url=server.url, token="wrong", auto_attach_log_handler=False)
    assert refused.value.code == 401 and "token" in refused.value.message


def test_success(server, monkeypatch):
    ledger = connect(server, monkeypatch)
    shown = submit(server, "succeed")
    job = Job.get(id_=shown)
    assert str(job.id) == shown and job.name == "chain"
    assert job.wait(interval=INTERVAL, timeout=TIMEOUT) is None
    assert job.status == "SUCCESS" and job.progress == 100.0
    polls = ledger.polls(shown)
    assert words(polls) == ["STARTED", "SUCCESS"]
    assert all(e.status == 200 for e in polls)
    # with the job found, the client sleeps its interval after every answer
    assert min(gaps_after_2xx(polls)) >= INTERVAL
    row = check_truth(server, ledger, shown)
    assert row["state"] == "succeeded" and row["requests_after_seen"] == 0


def test_permanent_failure_raises_with_the_servers_error(server, monkeypatch):
    ledger = connect(server, monkeypatch)
    shown = submit(server, "fail_step:build")
    job = Job.get(id_=shown)
    with pytest.raises(AsyncJobFailed) as failed:
        job.wait(interval=INTERVAL, timeout=TIMEOUT)
    assert str(failed.value) == f"chain[{shown}] failed with StepFailed: step build failed"
    assert job.status == "FAILURE" and job.error_message == "step build failed"
    assert words(ledger.polls(shown)) == ["STARTED", "FAILURE"]
    assert check_truth(server, ledger, shown)["state"] == "failed"


def test_two_transient_failures_show_retry_then_success(server, monkeypatch):
    ledger = connect(server, monkeypatch)
    shown = submit(server, "transient_failures:2")
    job = Job.get(id_=shown)
    assert job.wait(interval=INTERVAL, timeout=TIMEOUT) is None
    assert job.status == "SUCCESS"
    polls = ledger.polls(shown)
    # each phase lasts 10 simulated seconds, ten of the client's intervals: it sees all
    expected = ["STARTED", "RETRY", "STARTED", "RETRY", "STARTED", "SUCCESS"]
    assert words(polls) == expected
    row = check_truth(server, ledger, shown)
    word = {"running": "STARTED", "retry_wait": "RETRY", "succeeded": "SUCCESS"}
    assert words_of_shown(row["shown"], word) == expected


def words_of_shown(shown: list[list], word: dict) -> list[str]:
    out: list[str] = []
    for _, state in shown:
        w = word.get(state)
        if w is not None and (not out or out[-1] != w):
            out.append(w)
    return out


def test_a_job_pollsim_does_not_know_is_fiddlers_not_found(server, monkeypatch):
    connect(server, monkeypatch)
    other = submit(server, "succeed", token="tok-b")  # another tenant's
    for shown in (job_uuid(10**6, SEED), job_uuid(1, SEED + 1), other, "not-a-uuid"):
        with pytest.raises(NotFound) as missing:
            Job.get(id_=shown)
        assert missing.value.code == 404 and shown in missing.value.message


def test_on_a_404_the_watch_asks_again_without_sleeping(server, monkeypatch):
    """The issue's 4,556 requests in 3 s: watch() sleeps only after a 2xx. pollsim now
    serves every job the client can name, so only a job it does not know gets here."""
    ledger = connect(server, monkeypatch)
    job = Job()  # as the client builds one: here for a UUID no job has
    job.id = job_uuid(10**6, SEED)
    before = requests_counted(server, 404)
    with pytest.raises(TimeoutError):
        job.wait(interval=10, timeout=0.5)  # a sleeping client would ask once
    polls = ledger.polls(str(job.id))
    assert len(polls) > 1 and {e.status for e in polls} == {404}
    assert requests_counted(server, 404) - before == len(polls)


# --- revoke ------------------------------------------------------------------------------


@pytest.fixture
def one_worker(tmp_path):
    """One worker: a second job waits PENDING behind the first."""
    s = start(SPEED, scenario=with_tables(tmp_path, "[workers]\ncapacity = 1\n"))
    yield s
    s.stop()


def test_revoke_while_pending_ends_the_watch_on_revoked(one_worker, monkeypatch):
    ledger = connect(one_worker, monkeypatch)
    running = submit(one_worker, "succeed", duration="1h")
    shown = submit(one_worker, "succeed")
    job = Job.get(id_=shown)
    assert job.status == "PENDING"
    revoke = handle_api_error(fiddler.conn.client.post)  # the client's transport, errors
    answer = revoke(url=f"/v3/jobs/{shown}/revoke")
    assert answer.status_code == 200 and answer.json()["data"]["status"] == "REVOKED"
    with pytest.raises(Conflict) as refused:
        revoke(url=f"/v3/jobs/{running}/revoke")
    assert refused.value.code == 409 and "only while PENDING" in refused.value.message
    # wait() returns on REVOKED as it does on SUCCESS: only job.status tells them apart
    assert job.wait(interval=INTERVAL, timeout=TIMEOUT) is None
    assert job.status == "REVOKED" and job.error_message == "job was cancelled"
    assert words(ledger.polls(shown)) == ["PENDING", "REVOKED"]
    row = check_truth(one_worker, ledger, shown)
    assert row["state"] == "cancelled"


# --- faults ------------------------------------------------------------------------------


def put_faults(server: Server, faults: dict) -> None:
    answer = call(server, "PUT", "/_admin/faults", faults, token=ADMIN)
    assert answer.status == 200, answer.body


def violations(polls: list[Exchange]) -> tuple[int, int]:
    """Requests sent before a Retry-After the client was given had passed: those that
    surely were, and those that may have been (a request reached the server at some time
    between its sending and its answer)."""
    sure = maybe = 0
    asked: Exchange | None = None
    for e in polls:
        if asked is not None:
            maybe += e.at - e.elapsed < asked.at + asked.retry_after
            sure += e.at < asked.at - asked.elapsed + asked.retry_after
        if e.retry_after is not None:
            asked = e
    return sure, maybe


def watch_through(server: Server, ledger: Ledger, faults, duration: str) -> dict:
    """A job that succeeds, watched by the client from before the faults are set
    (``faults``: the body of PUT /_admin/faults, or a function of the simulated time
    then): the client's outcome, the ground truth's row, and what the client asked."""
    shown = submit(server, "succeed", duration=duration)
    job = Job.get(id_=shown)  # before the faults: its own retries are not watch's
    if callable(faults):
        faults = faults(call(server, "GET", "/healthz").json["now"])
    put_faults(server, faults)
    assert job.wait(interval=INTERVAL, timeout=TIMEOUT) is None
    assert job.status == "SUCCESS"
    row = check_truth(server, ledger, shown)
    polls = ledger.polls(shown)
    refused = [e for e in polls if e.status != 200]
    assert refused, "no fault reached the client"
    sure, maybe = violations(polls)
    assert sure <= row["retry_after_violations"] <= maybe
    return {"row": row, "polls": polls, "refused": refused}


def test_a_503_outage_with_retry_after(fresh, monkeypatch):
    ledger = connect(fresh, monkeypatch)

    def outage(now: float) -> dict:  # 4 simulated seconds (0.2 wall s) from the watch's start
        return {"outages": [{"start": now, "duration": 4, "mode": "503"}]}

    seen = watch_through(fresh, ledger, outage, "10s")
    assert {e.status for e in seen["refused"]} == {503}
    assert all(e.retry_after is not None for e in seen["refused"])


def test_429_with_retry_after_from_a_rate_limit(fresh, monkeypatch):
    ledger = connect(fresh, monkeypatch)
    limit = {"rate_limit": {"rate": "10/s", "burst": 1}}
    seen = watch_through(fresh, ledger, limit, "5s")
    assert {e.status for e in seen["refused"]} == {429}
    assert all(e.retry_after is not None for e in seen["refused"])


def test_injected_500s(fresh, monkeypatch):
    ledger = connect(fresh, monkeypatch)
    seen = watch_through(fresh, ledger, {"errors": {"500": 0.5}}, "10s")
    assert {e.status for e in seen["refused"]} == {500}


def test_job_get_retries_a_503_itself_on_its_own_backoff(fresh, monkeypatch):
    """Job.get goes through the client's central retry (watch turns it off): 429 and 5xx
    are asked again after 2**n / 3 s (0.67 s, 1.33 s, ...), whatever Retry-After says."""
    ledger = connect(fresh, monkeypatch)
    shown = submit(fresh, "succeed", duration="1h")
    now = call(fresh, "GET", "/healthz").json["now"]
    # 2 wall seconds: the first two tries (at 0 and 0.67 s) fall in it, the third not
    put_faults(fresh, {"outages": [{"start": now, "duration": 2 * SPEED, "mode": "503"}]})
    job = Job.get(id_=shown)
    assert job.status == "STARTED"
    polls = ledger.polls(shown)
    assert [e.status for e in polls] == [503, 503, 200]
    assert polls[0].retry_after == polls[1].retry_after == 1.0
    row = truth(fresh, shown)
    assert (row["polls"], row["injected_errors"], row["errors"]) == (3, 2, 0)
    sure, maybe = violations(polls)
    assert sure <= row["retry_after_violations"] <= maybe
