"""Attacks on the HTTP front of a real ``pollsim serve`` on loopback: bodies in pieces,
late, oversized, undecodable or compressed into bombs; idle connections; a swarm of
long-polls; signals while it is busy. Each answer is a 4xx with a JSON body, and the
server answers ``/healthz`` afterwards."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import signal
import subprocess
import sys
import textwrap
import time
import zlib

import brotli
import pytest

from mock_server import metrics
from mock_server.app import build_core, make_server
from mock_server.core import Request
from sim import ScenarioError, load_scenario
from sim.mock_spec import MockSpec
from tests.mock_server.raw import (
    chunked,
    closed_by_peer,
    connect,
    descriptors,
    exchange,
    gauge,
    head,
    receive,
    rss_kib,
    send,
    total,
)
from tests.mock_server.server import ADMIN, QA, Server, call, start, with_tables

live = pytest.mark.live  # a real pollsim serve (or a process) on a loopback port

CAPPED = """
[serve]
request_deadline = "30s"
max_concurrency = 40
long_polls_max = 20
long_polls_per_client = 5
"""
SHORT = """
[serve]
request_deadline = "1s"
keepalive_timeout = "1s"
"""


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    """Small caps (40 requests, 20 long-polls, 5 per client), a long request deadline."""
    server = start(1, scenario=with_tables(tmp_path_factory.mktemp("capped"), CAPPED))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def short(tmp_path_factory):
    """A request deadline and a keep-alive timeout of one second."""
    server = start(1, scenario=with_tables(tmp_path_factory.mktemp("short"), SHORT))
    yield server
    server.stop()


def healthy(server: Server) -> None:
    assert call(server, "GET", "/healthz", token=None).status == 200


def refused(reply, status: int, kind: str | None = None) -> None:
    """A refusal: ``status`` with a JSON error body (of ``kind``, when given)."""
    assert reply.status == status, reply.body
    doc = reply.json
    assert set(doc) == {"error", "message"}, doc
    if kind is not None:
        assert doc["error"] == kind, doc


def post(path: str, body: bytes, **headers: str) -> bytes:
    return head("POST", path, Content_Length=str(len(body)), **headers)


# --- bodies ---------------------------------------------------------------------------


@live
def test_a_body_sent_in_two_writes_is_read_whole(capped):
    body = json.dumps({"template": "fanout", "duration": "1h"}).encode()
    reply = exchange(capped, post("/status", body), body[:7], body[7:], pause=0.3)
    assert reply.status == 202, reply.body
    job = call(capped, "GET", f"/ordo/jobs/{reply.json['id']}", token=ADMIN).json
    assert [s["step_id"] for s in job["steps"]] == ["split", "tile", "thumbnails"]
    # the first write alone is valid JSON (whitespace: the default template)
    body = b'\n{"template": "nope"}'
    reply = exchange(capped, post("/status", body), body[:1], body[1:], pause=0.3)
    refused(reply, 422, "invalid")
    healthy(capped)


@live
def test_a_chunked_body_is_read_to_its_last_chunk(capped):
    body = json.dumps({"template": "nope"}).encode()
    parts = [head("POST", "/status", Transfer_Encoding="chunked"), *chunked(b" ", body)]
    refused(exchange(capped, *parts, pause=0.2), 422, "invalid")
    body = json.dumps({"template": "fanout"}).encode()
    parts = [head("POST", "/status", Transfer_Encoding="chunked"), *chunked(body[:3], body[3:])]
    assert exchange(capped, *parts, pause=0.2).status == 202


@live
def test_a_body_that_does_not_arrive_within_the_deadline_is_cut_off_with_408(short):
    started = time.monotonic()
    reply = exchange(short, post("/status", b" " * 100), b'{"template"')
    took = time.monotonic() - started
    refused(reply, 408, "timeout")
    print(f"408 after {took:.2f} s (request deadline 1 s)")
    healthy(short)


@live
def test_a_body_over_max_body_is_413_even_chunked(capped):
    piece = b" " * 16_384
    parts = [head("POST", "/status", Transfer_Encoding="chunked"), *chunked(*[piece] * 5)]
    refused(exchange(capped, *parts), 413, "too_large")
    healthy(capped)


@live
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_a_decompression_bomb_is_413_and_costs_no_memory(capped, encoding):
    pack = {"gzip": gzip.compress, "deflate": zlib.compress, "br": _brotli}[encoding]
    bomb = pack(b" " * (64 << 20))  # 64 MiB of spaces: tens of kilobytes packed
    assert len(bomb) < 64 * 1024
    before = rss_kib(capped.process.pid)
    reply = exchange(capped, post("/status", bomb, Content_Encoding=encoding), bomb)
    refused(reply, 413, "too_large")
    parts = [head("POST", "/status", Transfer_Encoding="chunked", Content_Encoding=encoding)]
    parts += chunked(*[bomb[i : i + 4096] for i in range(0, len(bomb), 4096)])
    refused(exchange(capped, *parts), 413, "too_large")
    grown = rss_kib(capped.process.pid) - before
    assert grown < 16 * 1024, f"RSS grew {grown} KiB"
    healthy(capped)


def _deflate_raw(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # no zlib wrapper, as many clients send
    return packer.compress(data) + packer.flush()


PACK = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "raw deflate": _deflate_raw,
    "br": lambda data: brotli.compress(data, quality=5),
}


@live
@pytest.mark.parametrize("packing", PACK)
def test_a_stream_cut_short_or_followed_by_junk_does_not_decode(capped, packing):
    encoding = packing.split()[-1]
    whole = PACK[packing](json.dumps({"template": "fanout"}).encode())
    assert exchange(capped, post("/status", whole, Content_Encoding=encoding), whole).status == 202
    cut = whole[:-4]  # a gzip stream cut so was read as an empty body: a default job, 202
    refused(exchange(capped, post("/status", cut, Content_Encoding=encoding), cut), 400)
    junk = whole + b"junk"
    refused(exchange(capped, post("/status", junk, Content_Encoding=encoding), junk), 400)
    healthy(capped)


@live
def test_gzip_members_one_after_another_are_one_body(capped):
    body = gzip.compress(b'{"template": ') + gzip.compress(b'"nope"}')
    reply = exchange(capped, post("/status", body, Content_Encoding="gzip"), body)
    refused(reply, 422, "invalid")  # the second member read too: the template named


@live
@pytest.mark.parametrize("encoding", ["zstd", "compress", "gzip, br", "x-\u00e9"])
def test_a_coding_the_server_does_not_decode_is_415(capped, encoding):
    body = b"{}"
    reply = exchange(capped, post("/status", body, Content_Encoding=encoding), body)
    refused(reply, 415, "unsupported_encoding")
    healthy(capped)


def _brotli(data: bytes) -> bytes:
    return brotli.compress(data, quality=5)  # the default, 11, takes seconds


@live
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_a_body_that_does_not_decode_is_400(capped, encoding):
    body = b'{"template": "chain"}'
    reply = exchange(capped, post("/status", body, Content_Encoding=encoding), body)
    refused(reply, 400, "bad_body")
    assert encoding in reply.json["message"]
    healthy(capped)


@live
def test_expect_100_continue_is_answered_before_the_body(capped):
    body = json.dumps({"template": "fanout"}).encode()
    with connect(capped) as sock:
        send(sock, post("/status", body, Expect="100-continue"))
        assert receive(sock).status == 100  # before any byte of the body was sent
        send(sock, body)
        assert receive(sock).status == 202


# --- the server's own failures ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/status/1", "/healthz", "/nowhere"])
def test_the_servers_own_failures_are_counted_apart_from_injected_faults(path):
    """A bug of ours (here the core raising) is a 500 in JSON, counted in /metrics and in
    the report's totals, not among the injected faults. In process: no input reaches a
    500 on purpose."""
    core, head_line, body = asyncio.run(_one_failed_request(path))
    assert head_line.startswith(b"HTTP/1.1 500 "), head_line
    assert json.loads(body)["error"] == "internal"
    dialect = "generic" if path.startswith("/status") else "other"
    metrics = core.metrics.render().decode()
    assert f'pollsim_server_errors_total{{dialect="{dialect}"}} 1.0' in metrics
    assert total(metrics, "pollsim_server_errors_total") == 1
    assert total(metrics, "pollsim_injected_faults_total") == 0
    totals = core.report()["totals"]
    assert totals["server_errors"] == 1
    assert totals["injected_faults"] == {}


async def _one_failed_request(path: str):
    spec = MockSpec()
    core = build_core(load_scenario(QA), spec)

    def broken(req, held=False, decision=None):
        raise RuntimeError("a bug of ours")

    core.handle = broken
    loop = asyncio.get_running_loop()
    server = await loop.create_server(make_server(core, spec), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head("GET", path))
    top = await reader.readuntil(b"\r\n\r\n")
    length = int(top.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    body = await reader.readexactly(length)
    writer.close()
    server.close()
    return core, top.split(b"\r\n")[0], body


def test_a_flood_of_scrapes_counts_the_jobs_once_a_second(monkeypatch):
    """Counting jobs by state walks every job (30-50 ms at 100,000): done once a second."""
    core = build_core(load_scenario(QA), MockSpec())
    now = [1000.0]
    monkeypatch.setattr(metrics.time, "monotonic", lambda: now[0])

    def jobs() -> float:
        return total(core.metrics.render().decode(), "pollsim_jobs")

    assert jobs() == 0
    core.handle(Request("POST", "/status", {}, {}, b'{"duration": "1h"}'))
    assert jobs() == 0  # the count of a moment ago
    now[0] += metrics.STATES_EVERY
    assert jobs() == 1


@live
def test_metrics_list_the_servers_own_failures_by_dialect_from_zero(capped):
    text = call(capped, "GET", "/metrics", token=None).body.decode()
    assert 'pollsim_server_errors_total{dialect="generic"} 0.0' in text
    assert "# TYPE pollsim_injected_faults_total counter" in text


# --- settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table, words",
    [
        ("max_concurrency = 40\nlong_polls_max = 40", "not below max_concurrency (40)"),
        ("long_polls_per_client = 0", "long_polls_per_client"),
        ("keepalive_timeout = 0", "keepalive_timeout"),
        ('keepalive_timeout = "2h"', "at most 3600"),
    ],
)
def test_the_fronts_serve_keys_are_checked_when_read(tmp_path, table, words):
    with pytest.raises(ScenarioError, match=re.escape(words)):
        load_scenario(with_tables(tmp_path, "[serve]\n" + table))


@live
@pytest.mark.parametrize(
    "args, words",
    [
        (["--keepalive-timeout", "nan"], "--keepalive-timeout: found nan"),
        (["--long-polls-max", "1000"], "fewer than the scenario's max_concurrency (1000)"),
        (["--long-polls-per-client", "-1"], "--long-polls-per-client: found -1"),
    ],
)
def test_serve_refuses_bad_front_flags_in_one_line(args, words):
    done = subprocess.run(
        [sys.executable, "-m", "pollsim", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and words in lines[0], done.stderr


# --- idle connections -------------------------------------------------------------------


@live
def test_idle_connections_are_closed_by_the_server(short):
    pid = short.process.pid
    healthy(short)
    base = descriptors(pid)
    silent = [connect(short) for _ in range(200)]  # connect, then never send a byte
    kept = []
    for _ in range(50):  # one request, then idle on a kept-alive connection
        sock = connect(short)
        send(sock, head("GET", "/healthz"))
        assert receive(sock).status == 200
        kept.append(sock)
    held = descriptors(pid)
    started = time.monotonic()
    closed = closed_by_peer(silent + kept, within=30)
    took = time.monotonic() - started
    after = descriptors(pid)
    print(f"descriptors: {base} before, {held} with 250 idle sockets, {after} after {took:.1f} s")
    for sock in silent + kept:
        sock.close()
    assert closed == 250
    assert after <= base + 5  # (how many were held at once depends on the machine's pace)
    healthy(short)


# --- long-polls -------------------------------------------------------------------------


def _long_job(server: Server, token: str) -> str:
    answer = call(server, "POST", "/ordo/jobs", {"template": "chain", "duration": "1h"}, token)
    assert answer.status == 201, answer.body
    return answer.headers["Location"]


def _metric(server: Server, name: str) -> float | None:
    return gauge(call(server, "GET", "/metrics", token=None).body.decode(), name)


def _until(server: Server, name: str, value: float) -> None:
    for _ in range(200):
        if _metric(server, name) == value:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never reached {value}: {_metric(server, name)}")


def _long_poll(server: Server, where: str, client: str | None, token: str = "tok-a"):
    sock = connect(server)
    named = {"X_Client_Id": client} if client is not None else {}
    send(sock, head("GET", where + "?wait=60", Authorization=f"Bearer {token}", **named))
    return sock


@live
def test_swarms_of_long_polls_and_slow_uploads_leave_room_for_other_tenants(capped):
    mine, theirs = _long_job(capped, "tok-a"), _long_job(capped, "tok-b")
    socks = [_long_poll(capped, mine, "c0") for _ in range(5)]
    _until(capped, "pollsim_long_polls_held", 5)
    with _long_poll(capped, mine, "c0") as sixth:  # past the cap per client
        reply = receive(sixth)
    refused(reply, 429, "long_polls_client")
    assert reply.headers["retry-after"] == "1"
    socks += [_long_poll(capped, mine, f"c{1 + i // 5}") for i in range(15)]
    _until(capped, "pollsim_long_polls_held", 20)
    with _long_poll(capped, mine, "c9") as more:  # past the cap in all
        refused(receive(more), 429, "long_polls_total")
    assert call(capped, "GET", theirs, token="tok-b").status == 200
    # uploads that never finish take a quarter of the slots at most (10 of 40)
    slow = [_slow_upload(capped) for _ in range(10)]
    _until(capped, "pollsim_bodies_receiving", 10)
    with _slow_upload(capped) as more:
        reply = receive(more)
    refused(reply, 503, "overloaded")
    assert "bodies" in reply.json["message"]
    assert call(capped, "GET", theirs, token="tok-b").status == 200  # 30 of 40 taken
    healthy(capped)
    for sock in slow + socks:
        sock.close()
    _until(capped, "pollsim_long_polls_held", 0)  # hung up: their slots are free at once
    _until(capped, "pollsim_requests_in_progress", 1)  # (the scrape itself)
    metrics = call(capped, "GET", "/metrics", token=None).body.decode()
    assert total(metrics, "pollsim_server_errors_total") == 0


@live
@pytest.mark.parametrize(
    "method, path, token, status",
    [
        ("GET", "/healthz", None, 200),
        ("GET", "/metrics", None, 200),
        ("PUT", "/_admin/faults", None, 401),
        ("PUT", "/_admin/faults", "tok-a", 403),
    ],
)
def test_a_body_trickled_to_the_operators_paths_holds_no_slot(capped, method, path, token, status):
    """Answered at once, the body never waited for: only the admin's body is read there
    (those paths have slots of their own past max_concurrency)."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    with connect(capped) as sock:
        send(sock, head(method, path, Content_Length="100", **auth), b"{")
        assert receive(sock).status == status


def _slow_upload(server: Server):
    """A submission whose body never comes: it holds its slot to the request deadline."""
    sock = connect(server)
    send(sock, head("POST", "/ordo/jobs", Authorization="Bearer tok-b", Content_Length="9"))
    return sock


SLOW = """
[serve]
max_concurrency = 10
[faults]
latency = "30s"
"""


@live
def test_health_metrics_and_admin_are_answered_when_every_slot_is_taken(tmp_path):
    server = start(20, scenario=with_tables(tmp_path, SLOW))
    try:
        where = _long_job(server, "tok-a")
        busy = [connect(server) for _ in range(10)]
        for sock in busy:  # every status answer is 30 s late: each holds a slot
            send(sock, head("GET", where, Authorization="Bearer tok-a"))
        _until(server, "pollsim_requests_in_progress", 11)  # the scrape in a reserved slot
        refused(call(server, "GET", where, token="tok-b"), 503, "overloaded")
        healthy(server)
        assert call(server, "GET", "/_admin/faults", token=ADMIN).status == 200
        assert call(server, "GET", "/_admin/report", token=ADMIN).status == 200
        for sock in busy:
            sock.close()
    finally:
        server.stop()


@live
def test_a_long_poll_hung_up_frees_its_slot_and_is_still_in_the_ground_truth(capped):
    where = _long_job(capped, "tok-a")
    with _long_poll(capped, where, "hung-up"):
        _until(capped, "pollsim_long_polls_held", 1)
    _until(capped, "pollsim_long_polls_held", 0)  # at once, not after its 60 s
    rows = call(capped, "GET", "/_admin/report", token=ADMIN).json["jobs"]
    mine = [r for r in rows if r["client"] == "hung-up"]
    assert [r["polls"] for r in mine] == [1]  # the request arrived: it is load


@live
def test_without_a_client_id_long_polls_are_counted_per_credentials(capped):
    mine, theirs = _long_job(capped, "tok-a"), _long_job(capped, "tok-b")
    socks = [_long_poll(capped, mine, None) for _ in range(5)]
    _until(capped, "pollsim_long_polls_held", 5)
    with _long_poll(capped, mine, None) as sixth:
        refused(receive(sixth), 429, "long_polls_client")
    socks.append(_long_poll(capped, theirs, None, token="tok-b"))  # another's: held
    _until(capped, "pollsim_long_polls_held", 6)
    for sock in socks:
        sock.close()
    _until(capped, "pollsim_long_polls_held", 0)


# --- signals ----------------------------------------------------------------------------

DRIBBLE = """
[faults.dribble]
probability = 1
rate = 1
"""


@live
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_a_busy_server_at_once_quietly(tmp_path, sig):
    server = start(1, scenario=with_tables(tmp_path, DRIBBLE))
    try:
        job = call(server, "POST", "/status", {"duration": "1h"}, token=None).json["id"]
        busy = [connect(server) for _ in range(30)]
        for i, sock in enumerate(busy):  # held long-polls, and answers a byte at a time
            send(sock, head("GET", f"/status/{job}" + ("?wait=60" if i % 2 else "")))
        _until(server, "pollsim_requests_in_progress", 31)
        started = time.monotonic()
        server.process.send_signal(sig)
        code = server.process.wait(10)
        took = time.monotonic() - started
    finally:
        server.stop()
    print(f"{sig.name}: exited {code} after {took:.3f} s with 30 requests in progress")
    assert code == 0
    # the one-screen summary of the run, and nothing else: no traceback, not a forced stop
    err = server.process.stderr.read()
    assert err.startswith("pollsim serve: stopped after") and "Traceback" not in err
    assert "without finishing" not in err
    for sock in busy:
        sock.close()


BLOCKED = """
import asyncio, sys, time
from mock_server.stopping import Stopper

async def main(stopper):
    stopper.attach()
    print("ready", flush=True)
    end = time.monotonic() + 60
    while time.monotonic() < end:  # the loop busy in Python, never coming round
        pass

stopper = Stopper(grace=float(sys.argv[1]))
stopper.install()
try:
    asyncio.run(main(stopper))
finally:
    stopper.uninstall()
"""


@live
@pytest.mark.parametrize("grace, signals", [(1.0, 1), (60.0, 2)])
def test_a_loop_busy_in_a_long_computation_is_ended_all_the_same(grace, signals):
    """Past the grace after a signal, or at a second signal: one line, 128 + signal."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(BLOCKED), str(grace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline() == "ready\n"
        started = time.monotonic()
        for _ in range(signals):
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.1)
        code = proc.wait(10)
        took = time.monotonic() - started
    finally:
        proc.kill()
        proc.wait()
    print(f"busy loop, grace {grace:g} s, {signals} signal(s): exited {code} after {took:.2f} s")
    assert code == 128 + signal.SIGTERM
    lines = proc.stderr.read().splitlines()
    assert len(lines) == 1 and "SIGTERM" in lines[0], lines
