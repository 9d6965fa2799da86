"""A Locust user that adopts the server's background jobs instead of submitting its own:
the swarm of ``pollsim compare``, whose jobs must be the model's very jobs.

The schedule (``--adopt FILE``: a CSV of ``job_id,start,strategy``, simulated seconds;
the server's job ids, shown as the dialect shows them given ``--server-seed``) says when
each job's client starts watching it and with which strategy, as the model drew them.
The user waits for each start on the server's scaled clock and watches the job in a
greenlet of its own: one client per job, as in the model, however many jobs are
watched at once. It sends the strategy as ``X-Client-Id``, so that the server's
ground truth comes out per strategy. The server's clock should start after the swarm
is ready (``pollsim serve --start-in``); how late each job was taken up goes to
``--pollsim-csv`` (``late_s``).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import gevent
import numpy as np
from gevent.pool import Group
from locust import events, task
from locust.runners import LocalRunner

from loadtests.live import poll_one
from loadtests.locust_stats import OUTCOMES, outcome_row
from loadtests.locustfile import StatusClient
from sim.strategies import Strategy, parse_strategy


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument(
        "--adopt",
        default="",
        help="adopt the jobs of this schedule (CSV: job_id,start,strategy) instead of "
        "submitting jobs",
    )


@cache
def _strategy(text: str) -> Strategy:
    return parse_strategy(text)


def read_schedule(path: str | Path) -> list[tuple[str, float, str]]:
    """The schedule's rows, ``(job_id, start, strategy)``, by start."""
    with Path(path).open(newline="", encoding="utf-8") as f:
        rows = [(r["job_id"], float(r["start"]), r["strategy"]) for r in csv.DictReader(f)]
    return sorted(rows, key=lambda r: r[1])


class Adopter(StatusClient):
    """Watches every job of the ``--adopt`` schedule, then ends the run (one process)."""

    abstract = True  # a swarm file makes it concrete
    fixed_count = 1
    concurrency = 64  # connections of its HTTP session, shared by its jobs' clients

    def on_start(self) -> None:
        super().on_start()
        self.schedule = read_schedule(self.environment.parsed_options.adopt)

    @task
    def adopt_all(self) -> None:
        clients = Group()
        for job_id, start, strategy in self.schedule:
            wait = (start - self.clock.now()) / self.clock.speed
            if wait > 0:
                gevent.sleep(wait)
            late = max(0.0, self.clock.now() - start)
            clients.spawn(self._watch, job_id, _strategy(strategy), late)
        clients.join()
        if isinstance(self.environment.runner, LocalRunner):
            self.environment.runner.quit()  # every job is done: so is the run
        else:
            gevent.sleep(3600)  # a worker: the master's --run-time ends it

    def _watch(self, job_id: str, strategy: Strategy, late: float) -> None:
        opts = self.environment.parsed_options
        rng = np.random.default_rng(np.random.SeedSequence([opts.seed, int(job_id)]))
        outcome = poll_one(
            self._http,
            gevent.sleep,
            self.clock,
            strategy,
            rng,
            dialect=self.dialect,
            client=strategy.label,
            etag=not opts.no_etag,
            job_id=self.dialect.show_id(int(job_id), opts.server_seed),
            project=self.project,
            seed=opts.server_seed,
        )
        OUTCOMES.append(outcome_row(strategy.label, strategy, outcome, late))
