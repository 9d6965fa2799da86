"""Locust users that poll the mock server the way a ``sim`` strategy says: each submits a
job, watches it with the simulated pollers' own client logic (``loadtests.live``) until
it shows an end or the strategy gives up, then starts on the next.

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8080 \\
        --strategy 'full_jitter(fixed(6))' --token s3cret --headless -u 50 -r 10 -t 2m

Every HTTP request is an ordinary Locust request (status polls grouped by name); what a
job came to (polls, detection latency against the ``finished_at`` the server reports)
is not, so it cannot inflate Locust's request counts: it goes to ``--pollsim-csv``.
"""

from __future__ import annotations

import gc
import itertools

import gevent
import numpy as np
from locust import FastHttpUser, constant, events, task

from loadtests.live import BASES, ScaledNow, poll_one
from loadtests.locust_stats import OUTCOMES, outcome_row
from sim.strategies import parse_strategy

_numbers = itertools.count(1)


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument("--strategy", default="ordo-js", help="the users' polling strategy")
    parser.add_argument("--dialect", choices=list(BASES), default="ordo")
    parser.add_argument("--template", default="", help="the jobs' template (default: first)")
    parser.add_argument("--job-duration", default="", help="every step's duration, e.g. 30s")
    parser.add_argument("--outcome", default="", help="succeed, fail_step:<id>, ...")
    parser.add_argument("--token", default="", is_secret=True, help="the bearer token")
    parser.add_argument("--seed", type=int, default=1, help="the users' generators' seed")
    parser.add_argument(
        "--no-etag", action="store_true", help="never send If-None-Match (every answer whole)"
    )
    parser.add_argument(
        "--pollsim-csv", default="", help="write what each job came to, a row a job, here"
    )


@events.test_start.add_listener
def _freeze(**_) -> None:
    """What is loaded by now (Locust, numpy, the model's libraries: about a hundred
    thousand objects) lives as long as the process: out of the cyclic collector's sight,
    so that its full collections, triggered by the garbage every poll makes, do not
    rescan it again and again."""
    gc.freeze()


class StatusClient(FastHttpUser):
    """What every user here shares: the token, the server's scaled clock, and HTTP
    requests as Locust requests, status polls grouped under one name."""

    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        self.auth = {"Authorization": f"Bearer {opts.token}"} if opts.token else {}
        health = self.client.get("/healthz", name="/healthz").json()
        self.clock = ScaledNow(health["speed"], health["epoch"])
        self.base = BASES[opts.dialect]
        self.status_name = f"{self.base}/[id]"  # status polls: one row in Locust's stats

    def _http(self, method: str, path: str, body: bytes | None, headers: dict):
        name = self.base if path == self.base else self.status_name
        headers.update(self.auth)
        # Locust counts answers of 400 and above as failures by itself (304 is no failure)
        resp = self.client.request(method, path, data=body, headers=headers, name=name)
        h = resp.headers
        got = {"etag": h.get("etag"), "retry-after": h.get("retry-after")} if h else {}
        return resp.status_code or None, got, resp.content or b""


class PollingUser(StatusClient):
    """One polling client: a job at a time, watched per ``strategy_text`` (a subclass's),
    else ``--strategy``. Several subclasses with their own ``weight`` run several
    strategies side by side in one swarm."""

    abstract = True  # the concrete class below, or a subclass per strategy
    strategy_text: str | None = None

    def on_start(self) -> None:
        super().on_start()
        opts = self.environment.parsed_options
        self.number = next(_numbers)
        # distinct across worker processes: a worker's index (0 when alone), then the user's
        worker = getattr(self.environment.runner, "worker_index", 0) or 0
        self.name = f"locust-{self.number}" if not worker else f"locust-{worker}-{self.number}"
        self.strategy = parse_strategy(self.strategy_text or opts.strategy)
        seed = np.random.SeedSequence([opts.seed, worker, self.number])
        self.rng = np.random.default_rng(seed)
        submit: dict = {}
        if opts.template:
            submit["template"] = opts.template
        if opts.job_duration:
            submit["duration"] = opts.job_duration
        if opts.outcome:
            submit["outcome"] = opts.outcome
        self.submit = submit

    @task
    def one_job(self) -> None:
        opts = self.environment.parsed_options
        outcome = poll_one(
            self._http,
            gevent.sleep,
            self.clock,
            self.strategy,
            self.rng,
            dialect=opts.dialect,
            client=self.name,
            submit=self.submit,
            etag=not opts.no_etag,
        )
        OUTCOMES.append(outcome_row(self.name, self.strategy, outcome))


class Poller(PollingUser):
    """The swarm's users when the locustfile is run as it is: ``--strategy`` for all."""
