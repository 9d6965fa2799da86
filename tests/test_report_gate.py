"""``pollsim report --assert/--client/--junit``: against a stand-in admin API (to see the
query sent, and a server that ignores ``?client=`` or whose journal dropped records),
and against a real ``pollsim serve``."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pollsim.cli import main
from pollsim.report_gate import latency_stats, narrowed


def row(client: str, job: int, lat: float | None, polls: int, ra: int = 0, gave_up=False):
    return {
        "client": client,
        "job_id": str(job),
        "detection_latency_s": lat,
        "polls": polls,
        "wasted_polls": polls - 1,
        "requests_after_seen": 0,
        "retry_after_violations": ra,
        "gave_up": gave_up,
        "errored": False,
        "unfinished": False,
    }


JOBS = [row("good", 1, 2.0, 3), row("good", 2, 4.0, 5), row("rude", 3, 1.0, 9, ra=4)]


def summary(rows: list[dict], client: str) -> dict:
    polls = sum(r["polls"] for r in rows)
    lat = [r["detection_latency_s"] for r in rows if r["detection_latency_s"] is not None]
    return {
        "client": client,
        "jobs": len(rows),
        "polls": polls,
        "polls_per_job": polls / len(rows),
        **{
            k: sum(int(r[k]) for r in rows)
            for k in ("wasted_polls", "requests_after_seen", "retry_after_violations")
        },
        **{k: sum(int(r[k]) for r in rows) for k in ("gave_up", "errored", "unfinished")},
        "detection_latency_s": latency_stats(lat),
    }


def full_report() -> dict:
    clients = [summary([r for r in JOBS if r["client"] == c], c) for c in ("good", "rude")]
    totals = {**summary(JOBS, "all"), "injected_faults": {}}
    return {"now": 10.0, "speed": 1, "jobs": JOBS, "clients": clients, "totals": totals}


class StandIn:
    """An admin API that answers every report whole (it ignores ``?client=``) and a
    journal of four requests; it keeps the queries it was sent."""

    def __init__(self, journal: dict | None = None) -> None:
        self.queries: list[tuple[str, dict]] = []
        arrivals = [("good", 0.5), ("good", 1.5), ("rude", 1.2), ("rude", 1.7)]
        self.journal = journal or {
            "requests": [{"t": t, "client": c} for c, t in arrivals],
            "count": 4,
            "total": 4,
            "dropped": 0,
        }
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                stand_in.queries.append((url.path, urllib.parse.parse_qs(url.query)))
                body = full_report() if url.path == "/_admin/report" else stand_in.journal
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stand_in():
    s = StandIn()
    yield s
    s.stop()


def report(server: str, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["report", "--server", server, "--admin-token", "adm", *argv])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_client_is_sent_to_the_server_and_filtered_here_too(stand_in):
    code, out, err = report(stand_in.url, "--client", "rude")
    assert code == 0, err
    assert stand_in.queries == [("/_admin/report", {"client": ["rude"]})]
    clients = [line.split()[0] for line in out.splitlines()[3:]]
    assert clients == ["rude", "(all)"]  # the server sent both; the table shows one
    (total,) = [line for line in out.splitlines() if line.startswith("(all) ")]
    assert total.split()[1:3] == ["1", "9"]  # the totals over rude's rows alone


def test_the_gate_over_a_report_exit_1_with_the_measured_value_and_junit(stand_in, tmp_path):
    junit = tmp_path / "report.xml"
    code, out, err = report(
        stand_in.url,
        "--client",
        "good",
        "--client",
        "rude",
        "--assert",
        "retry_after_violations == 0",
        "--junit",
        str(junit),
    )
    assert code == 1, err
    assert stand_in.queries[0][1]["client"] == ["good", "rude"]
    lines = [line for line in out.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert lines == [
        "PASS retry_after_violations == 0: measured 0 (client good, 2 jobs)",
        "FAIL retry_after_violations == 0: measured 4 (client rude, 1 job)",
    ]
    failure = ET.parse(junit).getroot().find(".//failure")
    assert "measured 4 (client rude" in failure.get("message")


def test_the_gate_passes_with_exit_0_and_json_keeps_stdout_for_the_json(stand_in):
    code, out, err = report(stand_in.url, "--json", "--assert", "max(polls) <= 9")
    assert code == 0
    assert json.loads(out)["totals"]["polls"] == 17
    assert err.startswith("PASS max(polls) <= 9: measured 9 (all clients, 3 jobs)")


def test_requests_per_second_come_from_the_request_journal(stand_in):
    code, out, err = report(
        stand_in.url, "--client", "rude", "--assert", "max(requests_per_second) <= 1"
    )
    assert code == 1, err
    assert stand_in.queries[1] == ("/_admin/requests", {"limit": ["100000"], "client": ["rude"]})
    assert "FAIL max(requests_per_second) <= 1: measured 2 (client rude, 10 s)" in out


@pytest.mark.parametrize(
    ("journal", "said"),
    [
        ({"requests": [], "count": 0, "total": 0, "dropped": 7}, "the journal dropped 7"),
        ({"requests": [], "count": 0, "total": 200_000, "dropped": 0}, "more than the 100000"),
        ({"requests": [{"client": "a"}], "total": 1}, "a record without a time"),
        ({"jobs": []}, "the answer is not a request journal"),
    ],
)
def test_a_journal_that_would_give_low_rates_is_bad_input_not_a_pass(journal, said):
    s = StandIn(journal)
    try:
        code, _, err = report(s.url, "--assert", "mean(requests_per_second) <= 100")
    finally:
        s.stop()
    assert code == 2 and said in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--client", "rdue"], "--client 'rdue': no such client in the report"),
        (["--client", "rdue"], "did you mean rude?"),
        (["--assert", "gave_up =< 0"], "(for '=<' say '<=')"),
        (["--assert", "polls < 1", "--junit", "/nonexistent-folder/x.xml"], "does not exist"),
    ],
)
def test_bad_gate_input_is_one_line_and_exit_2(stand_in, argv, said):
    code, out, err = report(stand_in.url, *argv)
    assert code == 2 and said in err and err.count("\n") == 1, err
    assert out == ""  # no table of nobody's rows before the error


def test_a_bad_assertion_is_refused_before_the_server_is_asked(stand_in):
    code, _, _ = report(stand_in.url, "--assert", "p95(polls) <")
    assert code == 2 and stand_in.queries == []


def test_narrowing_recomputes_the_totals_over_the_rows_kept():
    kept = narrowed(full_report(), ["good"])
    assert [r["client"] for r in kept["jobs"]] == ["good", "good"]
    assert kept["totals"]["polls"] == 8 and kept["totals"]["polls_per_job"] == 4.0
    assert kept["totals"]["detection_latency_s"]["max"] == 4.0
    assert narrowed(full_report(), ["*"]) == full_report()


@pytest.mark.live
def test_a_real_server_gated_per_client(tmp_path):
    from tests.mock_server.server import ADMIN, call, start

    server = start(60)
    try:
        job = call(server, "POST", "/ordo/jobs", {"template": "chain"}).headers["Location"]
        for _ in range(3):
            call(server, "GET", job, headers={"X-Client-Id": "three"})
        call(server, "GET", job, headers={"X-Client-Id": "one"})
        code, out, err = report(
            server.url,
            "--admin-token",
            ADMIN,
            "--client",
            "three",
            "--assert",
            "polls == 3",
            "--assert",
            "polls < 3",
            "--junit",
            str(tmp_path / "j.xml"),
        )
    finally:
        server.stop()
    assert code == 1, err
    lines = [line for line in out.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert lines == [
        "PASS polls == 3: measured 3 (client three, 1 job)",
        "FAIL polls < 3: measured 3 (client three, 1 job)",
    ]
    assert "one" not in [line.split()[0] for line in out.splitlines()[3:]]
    assert ET.parse(tmp_path / "j.xml").getroot().find("testsuite").get("failures") == "1"


def unfinished_report(final: bool | None = None) -> dict:
    """A report whose client 'quiet' stopped without a word: its job reads unfinished
    (given up when the report is final)."""
    jobs = [*JOBS, {**row("quiet", 4, None, 2), "unfinished": final is not True}]
    if final:
        jobs[-1]["gave_up"] = True
    clients = [summary([r for r in jobs if r["client"] == c], c) for c in ("good", "quiet")]
    totals = {**summary(jobs, "all"), "injected_faults": {}, "until": None}
    if final is not None:
        totals["final"] = final
    return {"now": 10.0, "speed": 1, "jobs": jobs, "clients": clients, "totals": totals}


@pytest.mark.parametrize("final", [None, False])
def test_gave_up_cannot_pass_while_jobs_are_unfinished(stand_in, monkeypatch, tmp_path, final):
    monkeypatch.setattr(sys.modules[__name__], "full_report", lambda: unfinished_report(final))
    junit = tmp_path / "r.xml"
    argv = ("--assert", "gave_up == 0", "--assert", "max(polls) <= 9", "--junit", str(junit))
    code, out, err = report(stand_in.url, *argv)
    assert code == 1, err
    lines = [line for line in out.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert lines[0] == (
        "FAIL gave_up == 0: cannot tell: 1 jobs unfinished (a client still polling, or one "
        "that stopped without a word); once your clients have stopped, ask with --final"
    )
    assert lines[1].startswith("PASS max(polls) <= 9")
    assert "1 jobs unfinished: not in the latency figures" in err
    assert "cannot tell" in ET.parse(junit).getroot().find(".//failure").get("message")


def test_final_is_sent_and_a_final_report_gates_gave_up(stand_in, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "full_report", lambda: unfinished_report(True))
    code, out, err = report(stand_in.url, "--final", "--assert", "gave_up == 0")
    assert code == 1, err
    assert stand_in.queries[0] == ("/_admin/report", {"final": ["true"]})
    assert "FAIL gave_up == 0: measured 1 (all clients, 4 jobs)" in out
    code, out, err = report(stand_in.url, "--final", "--assert", "errored == 0")
    assert code == 0, err


@pytest.mark.live
def test_a_real_server_a_client_that_quit_fails_gave_up_without_and_with_final():
    from tests.mock_server.server import ADMIN, call, start

    server = start(60)
    try:
        job = call(server, "POST", "/ordo/jobs", {"template": "chain"}).headers["Location"]
        call(server, "GET", job, headers={"X-Client-Id": "quitter"})  # then it exits
        gate = ("--admin-token", ADMIN, "--client", "quitter", "--assert", "gave_up == 0")
        code, out, err = report(server.url, *gate)
        final_code, final_out, final_err = report(server.url, *gate, "--final")
    finally:
        server.stop()
    assert code == 1, err
    assert "FAIL gave_up == 0: cannot tell: 1 jobs unfinished" in out
    assert final_code == 1, final_err
    assert "FAIL gave_up == 0: measured 1 (client quitter, 1 job)" in final_out


def test_junit_without_assert_writes_an_empty_suite_a_ci_system_can_read(stand_in, tmp_path):
    junit = tmp_path / "empty.xml"
    code, _out, err = report(stand_in.url, "--junit", str(junit))
    assert code == 0, err
    root = ET.parse(junit).getroot()
    assert root.findall(".//testcase") == []
    assert root.get("tests", "0") == "0" and root.get("failures", "0") == "0"
