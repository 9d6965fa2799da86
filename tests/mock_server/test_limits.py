"""What an anonymous client may take of the server: jobs in all and per tenant (429 past
the caps), scripted retries per job (422 past the cap, and constant memory below it),
rate-limit buckets (at most max_clients); and the ways to give tokens that keep them out
of ``ps`` (a file, the environment). A small flood against a real server closes it."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from mock_server.faults import Faults
from mock_server.truth import OVERFLOW
from pollsim.cli import main
from sim._reader import Reader, ScenarioError
from sim.mock_spec import FaultSpec, read_serve
from tests.mock_server.helpers import ADMIN, Harness
from tests.mock_server.server import QA, Server, call, start, with_tables

POLLSIM = (sys.executable, "-m", "pollsim")


# --- caps on jobs ------------------------------------------------------------------------


def test_submissions_past_max_jobs_get_429_saying_which_limit():
    h = Harness(max_jobs=3)
    for token in ("tok-a", "tok-b", "tok-a"):
        assert h.doc("POST", "/ordo/jobs", {"template": "chain"}, token=token)[0] == 201
    for token in ("tok-a", "tok-b", None):
        status, doc = h.doc("POST", "/status", {"template": "chain"}, token=token)
        assert status == 429 and doc["error"] == "too_many_jobs", doc
        assert "max_jobs = 3" in doc["message"]
    assert len(h.core.model.records) == 3
    assert h.doc("GET", "/ordo/jobs/1")[0] == 200  # the jobs held still answer


def test_one_tenant_past_its_cap_does_not_stop_another():
    h = Harness(max_jobs_per_tenant=2)
    for _ in range(2):
        assert h.doc("POST", "/status", {"template": "chain"}, token=None)[0] == 202
    status, doc = h.doc("POST", "/status", {"template": "chain"}, token=None)
    assert status == 429 and "tenant anonymous" in doc["message"]
    assert "max_jobs_per_tenant = 2" in doc["message"]
    assert h.doc("POST", "/ordo/jobs", {"template": "chain"}, token="tok-b")[0] == 201


def test_scripted_retries_of_all_the_jobs_held_are_capped_with_a_429():
    """Each scripted failure is played out and kept (about 0.7 KB; an attack of jobs of
    1,000 retries each took 660 KB a job and stalled the event loop): the jobs held may
    script at most max_scripted_retries_total in all."""
    h = Harness(max_scripted_retries_total=10)
    body = {"template": "chain", "outcome": "transient_failures:4"}
    for _ in range(2):
        assert h.doc("POST", "/status", body, token=None)[0] == 202
    status, doc = h.doc("POST", "/status", body, token="tok-b")
    assert status == 429 and doc["error"] == "too_many_retries", doc
    assert "max_scripted_retries_total = 10" in doc["message"]
    assert h.core.model.scripted == 8 and len(h.core.model.records) == 2
    ok = {"template": "chain", "outcome": "transient_failures:2"}
    assert h.doc("POST", "/status", ok, token=None)[0] == 202  # up to the cap exactly
    assert h.doc("POST", "/status", {"template": "chain"}, token=None)[0] == 202  # none


def test_scripted_retries_past_the_cap_are_a_422():
    h = Harness(max_scripted_retries=5)
    body = {"template": "chain", "outcome": "transient_failures:5"}
    assert h.doc("POST", "/status", body, token=None)[0] == 202
    status, doc = h.doc("POST", "/status", {**body, "outcome": "transient_failures:6"}, token=None)
    assert status == 422 and "at most 5 scripted failures" in doc["message"]


def test_a_job_scripted_to_fail_a_thousand_times_costs_no_more_than_a_plain_one():
    """Its script holds a count, not a list of a thousand outcomes (8 KB a job, and a
    hundred million of them took 763 MiB)."""

    def per_job(outcome: str) -> float:
        h = Harness()
        body = json.dumps({"template": "chain", "outcome": outcome}).encode()
        h.doc("POST", "/status", body, token=None)
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(300):
            h.doc("POST", "/status", body, token=None)
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return (after - before) / 300

    plain, scripted = per_job("succeed"), per_job("transient_failures:1000")
    assert scripted < plain + 1000, (plain, scripted)


# --- rate-limit buckets ------------------------------------------------------------------


def test_rate_limit_buckets_are_at_most_max_clients_the_least_recently_seen_forgotten():
    faults = Faults(FaultSpec(rate_limit=(1.0, 1)), np.random.default_rng(0), max_clients=100)
    assert faults.limited("kept", now=0.0) is None  # its one token taken
    for i in range(10_000):
        faults.limited(f"c{i}", now=0.0)
        if i % 50 == 0:
            assert faults.limited("kept", now=0.0) is not None  # still empty: remembered
    assert len(faults._buckets) <= 100


# --- [serve] keys and flags --------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("max_jobs", 0, "a whole number from 1 to 100,000,000"),
        ("max_jobs", 10**400, "a whole number from 1"),
        ("max_jobs_per_tenant", 1.5, "a whole number"),
        ("max_scripted_retries", -1, "a whole number from 0"),
        ("max_clients", True, "a whole number"),
    ],
)
def test_serve_limits_are_whole_numbers_in_range(key, value, words):
    with pytest.raises(ScenarioError, match=f"serve.{key}: found .*expected {words}"):
        read_serve(Reader({key: value}, "x.toml", "serve"))


def test_serve_limits_have_their_defaults():
    spec = read_serve(Reader({}, "x.toml", "serve"))
    assert (spec.max_jobs, spec.max_jobs_per_tenant) == (100_000, 50_000)
    assert (spec.max_scripted_retries, spec.max_clients) == (1000, 100_000)


def one_line_exit_2(capsys, monkeypatch, *args: str, env: dict | None = None) -> str:
    """``pollsim serve`` run in process, refusing before it listens: one line, exit 2."""
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    assert main(["serve", *args, "--port", "0"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.splitlines()) == 1, out.err
    return out.err


def test_bad_limits_tokens_and_rate_limits_are_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    def run(*args, env=None):
        return one_line_exit_2(capsys, monkeypatch, *args, env=env)

    assert "--max-jobs: found 0" in run("--max-jobs", "0")
    assert "--max-clients: found" in run("--max-clients", "1000000000")
    assert "reserved name" in run("--token", "admin=x")
    assert "reserved name" in run(env={"POLLSIM_TOKENS": "anonymous=y"})
    assert "is the admin token" in run("--token", "qa=x", "--admin-token", "x")
    assert "cannot read" in run("--token-file", str(tmp_path / "none"))
    zero = with_tables(tmp_path, "[faults]\nrate_limit = { rate = 0, burst = 1 }\n")
    assert "faults.rate_limit.rate: found 0" in run(str(zero))
    admin = with_tables(tmp_path, "[serve.tokens]\nadmin = 'x'\n")
    assert "serve.tokens.admin: a reserved name" in run(str(admin))


# --- tokens out of ps --------------------------------------------------------------------


def start_with_env(tmp_path: Path) -> Server:
    """A server whose tokens come from a file and the environment, none on its command
    line."""
    tokens = tmp_path / "tokens"
    tokens.write_text("# tenants\nalpha=file-secret-a\n\nbeta = file-secret-b\n")
    proc = subprocess.Popen(
        [*POLLSIM, "serve", str(QA), "--port", "0", "--token-file", str(tokens)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "POLLSIM_ADMIN_TOKEN": "env-admin-secret"},
    )
    first = proc.stdout.readline()
    if "listening on" not in first:
        proc.kill()
        raise RuntimeError(f"the server did not start: {first}{proc.stderr.read()}")
    return Server(first.split("listening on ")[1].strip(), proc)


@pytest.mark.live
def test_tokens_from_a_file_and_the_environment_stay_out_of_ps_and_the_report(tmp_path):
    server = start_with_env(tmp_path)
    try:
        command = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
        assert b"secret" not in command
        created = call(server, "POST", "/ordo/jobs", {"template": "chain"}, token="file-secret-b")
        assert created.status == 201
        assert call(server, "GET", "/ordo/jobs/1", token="file-secret-b").status == 200
        assert call(server, "GET", "/ordo/jobs/1", token="file-secret-a").status == 404
        report = call(server, "GET", "/_admin/report", token="env-admin-secret")
        assert report.status == 200
        assert b"secret" not in report.body
        assert {c["client"] for c in report.json["clients"]} == {"beta:token#2"}
    finally:
        server.stop()
    banner = server.process.stdout.read()
    assert "token for tenant alpha: as given" in banner and "secret" not in banner


# --- a flood -----------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def submit_many(server: Server, token: str | None, n: int) -> list[tuple[int, dict]]:
    """``n`` submissions on one keep-alive connection: each status and JSON body."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    path = "/ordo/jobs" if token else "/status"
    out = []
    try:
        for _ in range(n):
            conn.request("POST", path, b'{"template": "chain"}', headers)
            resp = conn.getresponse()
            out.append((resp.status, json.loads(resp.read())))
    finally:
        conn.close()
    return out


@pytest.mark.live
@pytest.mark.slow
def test_a_flood_of_submissions_is_capped_and_every_one_past_the_caps_is_a_429():
    server = start(60, "--max-jobs", "2000", "--max-jobs-per-tenant", "1000", "--max-clients", "3")
    try:
        before = rss_mib(server.process.pid)
        with ThreadPoolExecutor(6) as pool:
            tenants = [None, "tok-a", "tok-b"] * 2
            answers = list(pool.map(lambda t: submit_many(server, t, 600), tenants))
        after = rss_mib(server.process.pid)
        assert call(server, "GET", "/healthz", token=None).status == 200
        for i in range(6):  # past --max-clients: answered, and counted as one entry
            client = {"X-Client-Id": f"c{i}"}
            polled = call(server, "GET", "/ordo/jobs/1", token=ADMIN, headers=client)
            assert polled.status == 200
        report = call(server, "GET", "/_admin/report", token=ADMIN).json
        clients = {c["client"]: c["polls"] for c in report["clients"]}
        assert len(clients) == 4 and clients[OVERFLOW] == 3, clients
    finally:
        server.stop()
    flat = [a for per in answers for a in per]
    accepted = [doc for status, doc in flat if status in (201, 202)]
    refused = [doc for status, doc in flat if status == 429]
    assert len(accepted) == 2000 and len(refused) == len(flat) - 2000  # and nothing else
    assert {doc["error"] for doc in refused} == {"too_many_jobs"}
    assert all("max_jobs = 2000" in d["message"] or "= 1000" in d["message"] for d in refused)
    # 2,000 jobs: about 6 MiB at the measured 285 MiB per 100k; the caps hold it there
    assert after - before < 64, (before, after)


@pytest.mark.parametrize(
    ("files", "environ", "words"),
    [
        (["# only a comment\n"], {}, "holds no token"),
        ([""], {}, "holds no token"),
        ([], {"POLLSIM_TOKENS": ","}, "POLLSIM_TOKENS is set but holds no token"),
    ],
)
def test_tokens_meant_to_be_given_but_missing_are_refused_not_replaced(
    tmp_path, files, environ, words
):
    """An empty token file or variable fell back to random tokens without a word."""
    from pollsim.credentials import CredentialError, tenant_tokens

    paths = []
    for i, text in enumerate(files):
        paths.append(tmp_path / f"tokens{i}")
        paths[-1].write_text(text)
    with pytest.raises(CredentialError, match=words):
        tenant_tokens([], paths, environ)


def test_an_admin_token_set_empty_is_refused():
    from pollsim.credentials import CredentialError, admin_token

    with pytest.raises(CredentialError, match="POLLSIM_ADMIN_TOKEN is set but holds no token"):
        admin_token(None, None, {"POLLSIM_ADMIN_TOKEN": " "})
    assert admin_token(None, None, {}) is None


@pytest.mark.parametrize(
    ("server", "words"),
    [
        ("http://[::1", "not a URL"),
        ("", "expected http://HOST:PORT"),
        ("ftp://127.0.0.1:1", "expected http://HOST:PORT"),
        ("http://127.0.0.1:99999", "not a URL"),
    ],
)
def test_pollsim_report_refuses_a_server_address_that_is_no_url(server, words):
    """'http://[::1' was an internal error (exit 1), '' an 'unknown url type'."""
    r = subprocess.run(
        [*POLLSIM, "report", "--server", server, "--admin-token", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and words in r.stderr, r.stderr
