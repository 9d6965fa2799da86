"""How far a swarm has got, for ``pollsim loadtest`` to show while it runs: the Locust
process (the master, in distributed mode) writes a small JSON file (``--pollsim-progress``)
once a second, users, requests, requests per second and failed requests from Locust's
own statistics, and the jobs its users are watching, have finished watching and have
seen end, from pollsim's counters. Headless or not, one process or many: the file is
there either way, and costs the swarm one small write a second (the parent reads it
with ``loadtests.progress``). Workers send their count of jobs being watched with the
stats they report to the master anyway.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import gevent
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from loadtests.locust_stats import OUTCOMES

EVERY = 1.0  #: wall seconds between writes of the file


class Watching:
    """Jobs this process's users are watching now (a submission under way included)."""

    now = 0

    @classmethod
    def started(cls) -> None:
        cls.now += 1

    @classmethod
    def stopped(cls) -> None:
        cls.now -= 1


class _Tally:
    """Jobs finished watching so far, by how they ended, counted as they come (the list
    of outcomes is read once, not again every second)."""

    def __init__(self) -> None:
        self.read = 0
        self.finished = self.ended = self.gave_up = self.errored = 0
        self.peak_users = 0  #: the most users at once so far (the end has none)

    def update(self) -> None:
        for o in OUTCOMES[self.read :]:
            self.finished += 1
            if o.get("gave_up"):
                self.gave_up += 1
            elif o.get("errored"):
                self.errored += 1
            elif o.get("seen_state"):
                self.ended += 1
        self.read = len(OUTCOMES)


_workers: dict[str, int] = {}  #: the master's: each worker's jobs being watched
_began: list[float] = []  #: when the test started (monotonic), once it has


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument(
        "--pollsim-progress",
        default="",
        help="write how far the swarm has got (JSON: users, requests, jobs) here every "
        "second, for pollsim loadtest to show",
    )


@events.test_start.add_listener
def _test_start(**_) -> None:
    if not _began:
        _began.append(time.monotonic())


@events.report_to_master.add_listener
def _send(client_id, data, **_) -> None:
    data["pollsim_watching"] = Watching.now


@events.worker_report.add_listener
def _receive(client_id, data, **_) -> None:
    if "pollsim_watching" in data:
        _workers[client_id] = int(data["pollsim_watching"])


def snapshot(environment, tally: _Tally) -> dict:
    """What the file says: Locust's figures and pollsim's, at this moment."""
    runner = environment.runner
    total = environment.stats.total
    tally.update()
    watching = sum(_workers.values()) if isinstance(runner, MasterRunner) else Watching.now
    opts = environment.parsed_options
    users = runner.user_count if runner is not None else 0
    tally.peak_users = max(tally.peak_users, users)
    return {
        "state": str(getattr(runner, "state", "")),
        "run_s": time.monotonic() - _began[0] if _began else 0.0,
        "users": users,
        "peak_users": tally.peak_users,
        "target_users": getattr(opts, "num_users", None),
        "requests": total.num_requests,
        "failures": total.num_failures,
        "requests_per_s": round(float(total.current_rps), 2),
        "watching": watching,
        "finished": tally.finished,
        "seen_ended": tally.ended,
        "gave_up": tally.gave_up,
        "errored": tally.errored,
        "final": False,
    }


def write(path: Path, doc: dict) -> None:
    """The file replaced whole, so that a reader never sees half of it; a write that
    fails is let go (the next second's may succeed, and the swarm goes on regardless)."""
    part = path.with_name(path.name + ".part")
    try:
        part.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(part, path)
    except OSError:
        pass


@events.init.add_listener
def _start(environment, **_) -> None:
    opts = environment.parsed_options
    path = getattr(opts, "pollsim_progress", "") if opts is not None else ""
    if not path or isinstance(environment.runner, WorkerRunner):
        return
    tally = _Tally()

    def loop() -> None:
        while True:
            write(Path(path), snapshot(environment, tally))
            gevent.sleep(EVERY)

    writer = gevent.spawn(loop)

    @events.quitting.add_listener
    def _final(environment, **_) -> None:
        writer.kill(block=False)
        write(Path(path), {**snapshot(environment, tally), "final": True})
