"""The AWS SDK for JavaScript v3's EC2 waiter (``waitForInstanceRunning``, whose loop
is @smithy/util-waiter's ``createWaiter``) with the EC2 client's own retries, run by
``js/waiter.js`` in node on faked timers and answered by a Script; its node_modules are
installed from ``js/package-lock.json`` by ``install()``."""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

from sim.status_server import Response
from tests.conformance.aws_answers import ERROR_CODES, http_answer
from tests.conformance.harness import Script
from tests.conformance.runs import Run

JS = Path(__file__).with_name("js")
#: the util-waiter defaults (the Smithy specification's minDelay and maxDelay)
DEFAULTS = {"minDelay": 2, "maxDelay": 120}


class NodeMissing(RuntimeError):
    """No ``node`` on PATH: the JavaScript waiter cannot run here."""


def install(timeout: float = 300) -> str:
    """``npm ci`` into js/node_modules (git-ignored) unless what the lock file pins is
    installed already; the path of ``node``. One process at a time (a lock file)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        raise NodeMissing("node is not on PATH: the AWS SDK for JavaScript waiter needs it")
    if npm is None:
        raise RuntimeError("node is installed but npm is not: npm installs js/package-lock.json")
    lock = json.loads((JS / "package-lock.json").read_text())["packages"]
    with open(JS / ".install.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        installed = JS / "node_modules" / ".package-lock.json"
        with contextlib.suppress(OSError, ValueError, KeyError):
            have = json.loads(installed.read_text())["packages"]
            if {k: v.get("version") for k, v in have.items()} == {
                k: v.get("version") for k, v in lock.items() if k
            }:
                return node
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=JS,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(f"npm ci in {JS} failed: {done.stderr.strip()[-2000:]}")
    return node


def _bodies() -> dict[str, str]:
    out = {
        s: http_answer(Response(200, s, None, None))[2].decode() for s in ("running", "succeeded")
    }
    for code in ERROR_CODES:
        out[str(code)] = http_answer(Response(code, None, None, None))[2].decode()
    return out


class Job(NamedTuple):
    """``runs`` waiters on ``script``, seeded ``seed``, ``seed + 1``, ...; ``client``:
    "sdk", the EC2 client with its retries, or "send", a stand-in making one request per
    call (js/waiter.js says when it is faithful); ``waiter`` overrides DEFAULTS."""

    script: Script
    max_wait_time: float
    runs: int = 1
    seed: int = 0
    client: str = "sdk"
    waiter: dict | None = None


def run_jobs(node: str, jobs: list[Job]) -> tuple[dict[str, str], list[list[Run]]]:
    """Every job in one node process: the packages' versions and each job's runs."""
    given = {
        "bodies": _bodies(),
        "jobs": [
            {
                "script": {
                    "ends_at": j.script.ends_at,
                    "faults": [[f.start, f.stop, f.http, f.retry_after] for f in j.script.faults],
                    "retry_after_on_200": j.script.retry_after_on_200,
                },
                "waiter": {"maxWaitTime": j.max_wait_time, **DEFAULTS, **(j.waiter or {})},
                "runs": j.runs,
                "seed": j.seed,
                "client": j.client,
            }
            for j in jobs
        ],
    }
    done = subprocess.run(
        [node, str(JS / "waiter.js")],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=JS,
    )
    if done.returncode:
        raise RuntimeError(f"waiter.js failed: {done.stderr.strip()[-2000:]}")
    out = json.loads(done.stdout)
    runs = [[Run(tuple(r["times"]), r["outcome"], r["end"]) for r in job] for job in out["jobs"]]
    return out["versions"], runs


def run(node: str, script: Script, max_wait_time: float, **job) -> tuple[dict[str, str], list[Run]]:
    """One job's runs (see Job)."""
    versions, (runs,) = run_jobs(node, [Job(script, max_wait_time, **job)])
    return versions, runs
