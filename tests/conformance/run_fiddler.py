"""fiddler-client 3.14.1's own job wait loop, unmodified, on a fake clock, against a
loopback HTTP server that answers per a ``Script``.

What runs is the library's ``Job.wait()`` with its defaults (``JOB_POLL_INTERVAL`` 6 s,
``JOB_WAIT_TIMEOUT`` 1800 s), which drives ``Job.watch`` (fiddler/entities/job.py): a
``while True`` loop that raises ``TimeoutError`` once ``time.monotonic()`` is past its
deadline, GETs ``/v3/jobs/<id>`` through the client's own ``requests`` session with its
central retry turned off (``retry='off'``), sleeps ``interval`` after a 2xx that shows the
job not ended, and goes round again without sleeping after any HTTP error answer or
connection error. Only the ``time`` module that job.py reads is replaced (a ``FakeTime``);
requests travel over real HTTP on 127.0.0.1.

The round trip is simulated on the same clock: the server moves it on by half the round
trip when a request arrives, answers what the script says at that moment, and moves it
on by the other half before it writes the answer, so that a request sent at ``t``
arrives at ``t + rtt / 2`` and is answered at ``t + rtt``, as ``sim.pollers`` has it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import fiddler
import fiddler.entities.job as fiddler_job
from fiddler.entities.job import Job

from tests.conformance.harness import FakeTime, Script
from tests.conformance.watched import Watched

JOB_ID = "0b8f7a52-3c1e-4d7a-9f3e-5a6b7c8d9e01"
WORD = {"running": "STARTED", "succeeded": "SUCCESS"}  #: canonical state -> fiddler's
MAX_REQUESTS = 20_000  #: a loop that takes no fake time is cut off after this many


class Runaway(Exception):
    """The client asked more than ``MAX_REQUESTS`` times: a loop with no wait and no
    round trip, which no fake clock would ever end."""


class _Jobs(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: Script, clock: FakeTime, rtt: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script, self.clock, self.rtt = script, clock, rtt
        self.times: list[float] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client's session reuses one socket
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart
    server: _Jobs

    def do_GET(self) -> None:
        jobs = self.server
        if self.path.split("?")[0] != f"/v3/jobs/{JOB_ID}":
            self._send(404, {"error": {"code": 404, "message": f"no {self.path}"}})
            return
        with jobs.lock:
            half = jobs.rtt / 2
            jobs.clock.t += half  # the request's way there
            arrived = jobs.clock.elapsed
            jobs.times.append(arrived - half)
            answer = jobs.script.answer(arrived)
            jobs.answers.append(answer.http)
            jobs.clock.t += half  # the answer's way back
        headers = {}
        if answer.retry_after is not None:
            headers["Retry-After"] = f"{answer.retry_after:g}"
        if answer.http != 200:
            body = {"error": {"code": answer.http, "message": "scripted fault", "errors": []}}
            self._send(answer.http, body, headers)
            return
        ended = answer.status == "succeeded"
        data = {
            "id": JOB_ID,
            "name": "publish",
            "status": WORD[answer.status],
            "progress": 100.0 if ended else 50.0,
            "info": {},
        }
        self._send(200, {"data": data}, headers)

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args) -> None:  # quiet
        pass


class _Clock(FakeTime):
    """The fake clock job.py reads, which refuses to be read forever by a loop that
    takes none of its time."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def monotonic(self) -> float:  # type: ignore[override]
        self.reads += 1
        if self.reads > MAX_REQUESTS:
            raise Runaway(f"more than {MAX_REQUESTS} deadline checks")
        return self.t


@contextlib.contextmanager
def _serving(script: Script, clock: FakeTime, rtt: float) -> Iterator[_Jobs]:
    jobs = _Jobs(script, clock, rtt)
    thread = threading.Thread(target=jobs.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield jobs
    finally:
        jobs.shutdown()
        jobs.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The client logs a warning for every error answer: hundreds in an outage."""
    log = logging.getLogger("fiddler")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def run(script: Script, rtt: float = 0.0) -> Watched:
    """``Job.wait()`` with the library's defaults on ``script``: what it asked, when, and
    how it stopped."""
    clock = _Clock()
    with (
        _serving(script, clock, rtt) as jobs,
        mock.patch.object(fiddler_job, "time", clock),
        _quiet(),
    ):
        fiddler.init(
            url=jobs.url, token="conformance", validate=False, auto_attach_log_handler=False
        )
        job = Job()
        job.id = JOB_ID
        raised = None
        try:
            job.wait()
            outcome = "ended"
        except TimeoutError as e:
            outcome, raised = "gave up", type(e).__name__
        except Runaway as e:
            outcome, raised = "runaway", type(e).__name__
        except Exception as e:  # an error answer the library does not ride through
            outcome, raised = "errored", type(e).__name__
        return Watched(tuple(jobs.times), tuple(jobs.answers), outcome, clock.elapsed, raised)
