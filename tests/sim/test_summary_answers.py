"""The simulation's summary counts the status API's answers both ways: as the server gave
them (``by_http_status``) and as the clients got them (``answers``), where a request the
server dropped, or answered after the client's timeout, is a ``timeout``. Checked against
the request log itself, on small scenarios with faults."""

from __future__ import annotations

import pytest

from sim import loads, simulate
from sim.polling_summary import TIMEOUT, answers, polling_summary
from tests.sim.summary_scenarios import FAULTS, FAULTS_TIMEOUT, HERD_CLIENTS, small_herd


@pytest.fixture(scope="module")
def faults():
    return simulate(loads(FAULTS)).polling


@pytest.fixture(scope="module")
def herd():
    return simulate(loads(small_herd())).polling


def test_the_answers_add_up_to_the_requests_and_to_each_strategys_errors(faults, herd):
    for p in (faults, herd):
        s = polling_summary(p)
        got = s["server"]["answers"]
        assert sum(got.values()) == s["server"]["requests"]
        not_ok = sum(v for k, v in got.items() if k != "http_200")
        assert not_ok == sum(m["errors"] for m in s["strategies"].values()) > 0


def test_the_herd_times_out_once_per_client_on_the_stall_and_the_server_answers_them_all(herd):
    server = polling_summary(herd)["server"]
    # the 60 s stall outlasts the 30 s timeout: every client's request in it times out,
    # though the server answers each one (200) when it recovers
    assert server["answers"][TIMEOUT] == HERD_CLIENTS
    assert server["by_http_status"] == {"http_200": server["requests"]}
    assert server["answers"]["http_200"] == server["requests"] - HERD_CLIENTS


def test_each_kind_of_answer_matches_the_request_log(faults):
    log = faults.requests_frame()
    waited = log["t_answered"] - log["t"]
    timed_out = log["http_status"].isna() | (waited > FAULTS_TIMEOUT)
    # no answer lands on the timeout itself, where the race could go either way
    assert not ((waited - FAULTS_TIMEOUT).abs() < 1e-6).any()
    got = answers(faults)
    assert got[TIMEOUT] == int(timed_out.sum())
    answered = log[~timed_out]["http_status"].astype(int).value_counts()
    assert {k: v for k, v in got.items() if k != TIMEOUT} == {
        f"http_{code}": int(n) for code, n in sorted(answered.items())
    }
    # every fault shows: the queue's 429s, the outage's 503s, the dropped requests, and
    # requests the server answered after their clients had gone
    by_status = polling_summary(faults)["server"]["by_http_status"]
    assert got["http_429"] > 0 and got["http_503"] > 0 and by_status["no_answer"] > 0
    assert got[TIMEOUT] > by_status["no_answer"]


def test_a_run_without_failures_has_only_200s():
    p = simulate(loads('horizon = "5m"\n[clients]\nstrategy = "fixed(5)"\n')).polling
    server = polling_summary(p)["server"]
    assert server["answers"] == server["by_http_status"] == {"http_200": server["requests"]}
