"""botocore's own EC2 ``InstanceRunning`` waiter (``Waiter.wait``, delay 15 s, 40
attempts) with its default retry mode ("standard" in 1.44.8: 3 attempts, jittered
backoff), run unmodified on a FakeTime and answered by a Script.

Only the clocks are replaced: the ``time`` the waiter sleeps on (botocore.waiter) and the
one the retry handler's sleep goes through (botocore.endpoint). The answers come either
from a loopback server (``http=True``: real HTTP through urllib3) or from botocore's
``before-send`` event, which hands a response back in place of sending one, so that the
retry handler, the parser and the waiter's acceptors all still run.
"""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Iterator

import botocore
import botocore.endpoint
import botocore.session
import botocore.waiter
from botocore.awsrequest import AWSResponse
from botocore.exceptions import WaiterError

from tests.conformance.aws_answers import http_answer
from tests.conformance.harness import FakeTime, Script
from tests.conformance.loopback import ScriptedAPI
from tests.conformance.runs import Run

VERSION = botocore.__version__
WAITER = "instance_running"


class _Body(io.BytesIO):
    def stream(self, **_):  # what AWSResponse.content reads
        yield self.getvalue()


@contextlib.contextmanager
def fake_clock(clock: FakeTime) -> Iterator[FakeTime]:
    """botocore's waiter and its retry sleeps on ``clock`` for the block."""
    saved = botocore.waiter.time, botocore.endpoint.time
    botocore.waiter.time = botocore.endpoint.time = clock
    try:
        yield clock
    finally:
        botocore.waiter.time, botocore.endpoint.time = saved


_SESSION = botocore.session.get_session()  # loaders cache the models: clients are cheap


def _client(endpoint_url: str):
    return _SESSION.create_client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    )


def run(script: Script, seed: int = 0, http: bool = False, rtt: float = 0.0) -> Run:
    """Wait for instance ``i-0`` with a new client (its retry quota full, as a new
    process's) until the waiter returns or raises; ``seed`` seeds the retry jitter
    (botocore draws it from the ``random`` module). ``rtt``: through the hook, each
    request takes that long on the fake clock, half on the way there (its time is when
    it reaches the server, as ``sim.pollers.replay`` logs it)."""
    random.seed(seed)
    clock = FakeTime()
    with fake_clock(clock), contextlib.ExitStack() as stack:
        if http:
            api = stack.enter_context(ScriptedAPI(script.answer, clock))
            client = _client(api.url)
            times = api.times
        else:
            client = _client("https://ec2.us-east-1.amazonaws.com")
            times = []
            _answer_in_place(client, script, clock, times, rtt)
        stack.callback(client.close)
        return _wait(client, clock, times)


def runs(script: Script, n: int, seed: int = 0) -> list[Run]:
    """``n`` waits through the transport hook, seeded ``seed`` once: the many runs a
    distribution needs. A client serves a few waits in turn (its clock and log renewed
    each time), and a new one comes before its retry quota could run low: each wait
    takes at most 2 retries (28 of its 500 tokens), so 15 waits never find it short."""
    random.seed(seed)
    out: list[Run] = []
    while len(out) < n:
        clock = FakeTime()
        times: list[float] = []
        client = _client("https://ec2.us-east-1.amazonaws.com")
        _answer_in_place(client, script, clock, times)
        with contextlib.closing(client):
            for _ in range(min(15, n - len(out))):
                clock.t, clock.sleeps = clock.t0, []
                times.clear()
                with fake_clock(clock):
                    out.append(_wait(client, clock, times))
    return out


def _answer_in_place(
    client, script: Script, clock: FakeTime, times: list[float], rtt: float = 0.0
) -> None:
    """botocore's ``before-send`` event answers each request as ``script`` says at the
    fake time (and logs it): no HTTP, everything else as sent."""

    def answer(request, **_):
        clock.t += rtt / 2
        t = clock.elapsed
        times.append(t)
        status, headers, body = http_answer(script.answer(t))
        clock.t += rtt / 2
        return AWSResponse(request.url, status, headers, _Body(body))

    client.meta.events.register("before-send.ec2.DescribeInstances", answer)


def _wait(client, clock: FakeTime, times: list[float]) -> Run:
    try:
        client.get_waiter(WAITER).wait(InstanceIds=["i-0"])
        outcome, reason = "ended", ""
    except WaiterError as e:
        reason = str(e.kwargs.get("reason", e))
        outcome = "gave up" if reason.startswith("Max attempts") else "errored"
    return Run(tuple(times), outcome, clock.elapsed, reason)
