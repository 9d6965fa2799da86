"""The Smithy specification's waiter (tests/conformance/smithy_spec.py) watching a
Script: each call of the operation is one request, made in process or (``http=True``)
over HTTP to a loopback server, and the waiter sleeps on a FakeTime."""

from __future__ import annotations

import contextlib
import random
import urllib.error
import urllib.request

from tests.conformance import smithy_spec
from tests.conformance.aws_answers import INSTANCE_STATE
from tests.conformance.harness import FakeTime, Script
from tests.conformance.loopback import ScriptedAPI
from tests.conformance.runs import Run

_SUCCESS = INSTANCE_STATE["succeeded"]


def run(script: Script, max_wait_time: float, seed: int = 0, http: bool = False) -> Run:
    """One waiter until it ends, gives up or errs; ``seed`` seeds its jitter."""
    clock = FakeTime()
    rng = random.Random(seed)
    with contextlib.ExitStack() as stack:
        if http:
            api = stack.enter_context(ScriptedAPI(script.answer, clock))
            times = api.times

            def operation() -> str:
                try:
                    with urllib.request.urlopen(api.url, timeout=10) as r:
                        body = r.read().decode()
                except urllib.error.HTTPError as e:
                    e.read()
                    return "error"
                return "success" if f"<name>{_SUCCESS}</name>" in body else "retry"
        else:
            times = []

            def operation() -> str:
                t = clock.elapsed
                times.append(t)
                a = script.answer(t)
                if a.http != 200:
                    return "error"
                return "success" if a.status == "succeeded" else "retry"

        outcome = smithy_spec.wait(operation, clock, max_wait_time, rng)
    return Run(tuple(times), outcome, clock.elapsed)
