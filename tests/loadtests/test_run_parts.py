"""The parts of a load test's ending, without a server: the client's backoff after a
rejected submission and what it reads of odd answers, the watch over two children, and
the summary's unfinished jobs."""

from __future__ import annotations

import argparse
import csv
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from loadtests.failures import count, share, verdict
from loadtests.live import Rejected, _answer, _retry_after, backoff, error_kind, poll_one
from loadtests.processes import child, how_it_ended, simulated_now, watch
from loadtests.summary import summarise, users_path
from sim.dialects import DIALECTS, ORDO

NAMES = ("/s", "/s/[id]")  #: what Locust counts submissions and polls under


def test_a_rejected_user_waits_longer_each_time_and_at_least_its_retry_after():
    rng = np.random.default_rng(1)
    waits = [[backoff(n, None, rng) for n in range(1, 10)] for _ in range(200)]
    assert all(0.5 <= w[0] <= 1 for w in waits)  # a second, jittered down to half
    assert all(15 <= w[-1] <= 30 for w in waits)  # doubling to 30
    assert len({round(w[0], 6) for w in waits}) > 100  # users do not come back together
    assert backoff(1, 7.0, rng) == 7.0
    assert backoff(1, 10**6, rng) == 300.0  # however long the server asks


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("²", None), ("\u0661", None), ("9" * 400, None), ("-1", None), ("1.5", None),
     ("", None), (None, None), ("86400", 86400.0), ("86401", None)],
)  # fmt: skip
def test_a_retry_after_is_ascii_digits_of_at_most_a_day(header, seconds):
    assert _retry_after(header) == seconds
    answer, _ = _answer(ORDO, 429, {"retry-after": header}, b"", None, 10.0, [None, None])
    assert answer.retry_after == (None if seconds is None else seconds * 10)


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b'{"error": "invalid", "message": "no such template"}', "invalid"), (b"", ""),
     (b"[1]", ""), (b'{"error": 5}', ""), (b'{"error": "a\\nb"}', ""), (b"\xff", ""),
     (b'{"error": "' + b"x" * 100 + b'"}', "x" * 40), (b"[" * 5000, "")],
)  # fmt: skip
def test_the_error_kind_of_an_answer_is_short_and_printable(body, kind):
    assert error_kind(body) == kind


@pytest.mark.parametrize("dialect", list(DIALECTS.values()), ids=list(DIALECTS))
def test_the_error_kind_is_read_where_each_dialect_writes_it(dialect):
    """Each ecosystem keeps the server's kind of error elsewhere (azure's innererror,
    google's ErrorInfo reason in capitals, fiddler's errors list); each dialect reads
    back what its own ``error`` wrote, so that the faults a scenario asked for are told
    from real failures in every dialect."""
    for kind in ("invalid", "rate_limited", "injected", "too_many_jobs"):
        body = json.dumps(dialect.error(429, kind, "a message")).encode()
        assert error_kind(body, dialect) == kind
    assert error_kind(b'{"error": {}}', dialect) == "" == error_kind(b"[" * 5000, dialect)


class _Clock:
    speed = 10.0

    def now(self) -> float:
        return 0.0


@pytest.mark.parametrize(
    ("status", "body"),
    [(422, b'{"error": "invalid"}'), (None, b""), (201, b"not json"), (201, b'{"id": "\xc2\xb2"}'),
     (201, b'{"id": null}'), (201, b"[]"), (201, b'{"job": {"id": "\xc2\xb2"}}'),
     (201, b'{"job": {"id": "../7"}}'), (201, b'{"job": {"id": 7}}'), (201, b'{"job": {"id": ""}}'),
     (302, b'{"job": {"id": "7"}}')],
)  # fmt: skip
def test_a_submission_without_a_job_id_is_rejected_not_a_crash(status, body):
    def http(method, path, body_, headers):
        return status, {"retry-after": "2"}, body

    from sim.strategies import parse_strategy

    with pytest.raises(Rejected) as caught:
        poll_one(http, lambda s: None, _Clock(), parse_strategy("fixed(1)"), None)
    assert caught.value.retry_after == (None if status == 201 else 2.0)


@pytest.mark.parametrize("status", [200, 201, 202])
def test_any_2xx_takes_a_submission_and_the_job_is_polled_where_the_dialect_says(status):
    asked = []
    done = {"job": {"id": "7", "status": "success", "finished_at": None},
            "progress": {"percentage": 100}}  # fmt: skip

    def http(method, path, body, headers):
        asked.append((method, path))
        return (
            (status, {}, b'{"job": {"id": "7"}}')
            if method == "POST"
            else (200, {}, json.dumps(done).encode())
        )

    from sim.strategies import parse_strategy

    outcome = poll_one(http, lambda s: None, _Clock(), parse_strategy("fixed(1)"), None, ORDO)
    assert asked == [("POST", "/ordo/jobs"), ("GET", "/ordo/jobs/7")]
    assert outcome.job_id == outcome.shown_id == "7" and outcome.record.seen_state == "succeeded"


def test_a_child_that_writes_much_runs_to_its_end_and_its_output_is_kept(tmp_path):
    noisy = "import sys\nfor i in range(40000): print('x' * 60, file=sys.stderr)\nprint('done')"
    proc = child([sys.executable, "-c", noisy], tmp_path / "c.log", tmp_path / "c.pid")
    assert proc.wait(60) == 0  # a pipe nobody read held 64 KiB of it
    text = (tmp_path / "c.log").read_text()
    assert len(text) > 2_000_000 and text.endswith("done\n")
    assert int((tmp_path / "c.pid").read_text()) == proc.pid


def _sleeper(tmp_path, name: str, seconds: float) -> subprocess.Popen:
    args = [sys.executable, "-c", f"import time; time.sleep({seconds})"]
    return child(args, tmp_path / f"{name}.log", tmp_path / f"{name}.pid")


@pytest.mark.parametrize("victim", ["server", "locust"])
def test_the_watch_notices_a_child_killed(tmp_path, victim):
    kids = {"server": _sleeper(tmp_path, "s", 60), "locust": _sleeper(tmp_path, "l", 60)}
    try:
        looks = []
        kids[victim].send_signal(signal.SIGKILL)
        ending = watch(kids["locust"], kids["server"], "http://127.0.0.1:9", looks.append)
        who = {"server": "the mock server", "locust": "Locust"}[victim]
        assert ending.problem.startswith(f"{who} was killed by SIGKILL")
        assert ending.server_alive == (victim == "locust")
        assert len(looks) <= 2  # noticed at the first or second look
    finally:
        for k in kids.values():
            k.kill()
            k.wait()


def test_a_swarm_that_ends_by_itself_is_no_problem(tmp_path):
    server = _sleeper(tmp_path, "s", 60)
    try:
        ending = watch(_sleeper(tmp_path, "l", 0), server, "http://127.0.0.1:9")
        assert ending.problem is None and ending.server_alive
    finally:
        server.kill()
        server.wait()


def test_exit_statuses_in_words():
    assert how_it_ended(-9) == "was killed by SIGKILL"
    assert how_it_ended(-99) == "was killed by signal 99"
    assert how_it_ended(3) == "exited with status 3"


def test_the_simulated_now_is_the_servers_else_reckoned_from_its_clock():
    assert simulated_now({"now": 12.5, "speed": 60, "epoch": "2020-01-01T00:00:00+00:00"}) == 12.5
    later = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3600))
    assert simulated_now({"speed": 60, "epoch": later}) == 0.0  # before a delayed start
    since = simulated_now({"speed": 2, "epoch": "2020-01-01T00:00:00+00:00"})
    assert since > 2 * 365 * 86400


def _write(path, fields, rows):
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def _folder(tmp_path):
    jobs = tmp_path / "jobs.csv"
    fields = ["user", "strategy", "job_id", "polls", "gave_up", "latency_s"]
    _write(jobs, fields, [{"user": "u1", "strategy": "a", "job_id": "1", "polls": 4,
                           "gave_up": "False", "latency_s": "2.0"}])  # fmt: skip
    users = [{"user": "u1", "strategy": "a"}, {"user": "u2", "strategy": "b"}]
    _write(users_path(jobs), ["user", "strategy"], users)
    stats = [
        {"Type": "POST", "Name": "/s", "Request Count": 10, "Failure Count": 3},
        {"Type": "GET", "Name": "/s/[id]", "Request Count": 100, "Failure Count": 7},
    ]
    _write(tmp_path / "locust_stats.csv", list(stats[0]), stats)
    errors = [
        ("POST", "/s", "CatchResponseError('HTTP 429 too_many_jobs')", 2),
        ("POST", "/s", "CatchResponseError('HTTP 429 rate_limited')", 1),  # asked for
        ("GET", "/s/[id]", "CatchResponseError('HTTP 503 injected')", 3),  # asked for
        ("GET", "/s/[id]", "ConnectionResetError(104, 'Connection reset by peer')", 2),
        ("GET", "/s/[id]", "CatchResponseError('HTTP 500 internal')", 2),
    ]
    fields = ["Method", "Name", "Error", "Occurrences"]
    rows = [dict(zip(fields, e, strict=True)) for e in errors]
    _write(tmp_path / "locust_failures.csv", fields, rows)


def test_jobs_the_clients_never_finished_are_unfinished_by_their_users_strategy(tmp_path):
    _folder(tmp_path)
    truth = {
        "jobs": [{"client": "u1", "job_id": "1"}, {"client": "u1", "job_id": "2"},
                 {"client": "u2", "job_id": "3"}],
        "totals": {"requests": [{"count": 50}], "injected_faults": {"503": 3, "reset": 2}},
    }  # fmt: skip
    s = summarise(tmp_path, truth, NAMES)
    assert s["a"]["jobs"] == 1 and s["a"]["unfinished"] == 1 and s["a"]["gave_up"] == 0
    assert s["b"]["jobs"] == 0 and s["b"]["unfinished"] == 1 and s["b"]["polls_per_job"] is None
    assert s["server"]["unfinished"] == 2 and s["server"]["requests"] == 50
    # what the scenario asked for is no failure: its rate limit, its faults, the
    # connections the server cut on purpose (the ground truth counts them)
    assert s["failures"]["polls"]["failed"] == 2
    assert verdict(s["failures"], 0.05) == (
        "2 of 10 submissions failed (20.0%, more than --max-failures 5.0%): HTTP 429 too_many_jobs"
    )
    # the server's own word wins where it gives one
    for job in truth["jobs"]:
        job["unfinished"] = job["job_id"] == "3"
    assert summarise(tmp_path, truth, NAMES)["a"]["unfinished"] == 0
    json.dumps(s)  # summary.json holds it


def test_without_the_servers_truth_the_summary_says_so(tmp_path):
    _folder(tmp_path)
    s = summarise(tmp_path, None, NAMES)
    assert s["a"]["unfinished"] is None and s["server"]["requests"] is None
    assert count(tmp_path, NAMES)["polls"]["failed"] == 7 - 3  # the cut ones are not known


def test_a_swarm_that_submitted_nothing_says_why(tmp_path):
    from loadtests.failures import idle

    _write(tmp_path / "locust_stats.csv", ["Type", "Name", "Request Count", "Failure Count"], [])
    crash = {"Count": 4, "Message": "ValueError('expected non-negative integer')"}
    _write(tmp_path / "locust_exceptions.csv", ["Count", "Message"], [crash])
    found = count(tmp_path, NAMES)
    assert idle(tmp_path, found) == (
        "the swarm submitted no job: ValueError('expected non-negative integer') (see locust.log)"
    )
    found["submissions"]["requests"] = 1
    assert idle(tmp_path, found) is None


def test_a_server_that_stops_answering_is_noticed(tmp_path, monkeypatch):
    import loadtests.processes as processes

    monkeypatch.setattr(processes, "HEALTH_EVERY", 0.1)
    monkeypatch.setattr(processes, "HUNG_AFTER", 0.5)
    monkeypatch.setattr(processes, "TICK", 0.05)
    kids = [_sleeper(tmp_path, "s", 60), _sleeper(tmp_path, "l", 60)]
    try:  # alive, and nothing answers on its port
        ending = watch(kids[1], kids[0], "http://127.0.0.1:9")
        assert ending.problem.startswith("the mock server did not answer /healthz for 0.5 s")
        assert ending.server_alive
    finally:
        for k in kids:
            k.kill()
            k.wait()


@pytest.mark.parametrize(
    ("text", "value"), [("5%", 0.05), ("0.05", 0.05), (" 100 % ", 1.0), ("0", 0.0), ("0%", 0.0)]
)
def test_max_failures_takes_a_share_or_a_percentage(text, value):
    """The failure line says '5.0%', so '5%' is how users write it back."""
    assert share(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["5", "-1%", "nan", "inf%", "%", "five%", "101%"])
def test_max_failures_refuses_what_is_no_share(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected a share from 0 to 1"):
        share(text)
