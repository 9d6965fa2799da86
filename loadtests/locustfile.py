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

import csv
import itertools
import json
import os
from pathlib import Path

import gevent
import numpy as np
from locust import FastHttpUser, constant, events, task
from locust.runners import MasterRunner, WorkerRunner

from loadtests.live import BASES, Outcome, ScaledNow, poll_one
from sim.strategies import Strategy, parse_strategy

_numbers = itertools.count(1)
OUTCOMES: list[dict] = []  #: what each job came to, in this process


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


def summary_rows() -> list[dict]:
    """Per strategy: jobs, polls per job, detection latency p50/p95/max, give-ups: the
    rows of the web UI's Polling tab and of its CSV."""
    out = []
    for strategy in sorted({o["strategy"] for o in OUTCOMES}):
        mine = [o for o in OUTCOMES if o["strategy"] == strategy]
        lat = sorted(float(o["latency_s"]) for o in mine if o["latency_s"])

        def q(p: float, lat=lat) -> str:
            return f"{np.percentile(lat, p * 100):.2f}" if lat else ""

        out.append(
            {
                "name": strategy,
                "safe_name": strategy,
                "jobs": len(mine),
                "polls_per_job": f"{sum(int(o['polls']) for o in mine) / len(mine):.1f}",
                "latency_p50": q(0.5),
                "latency_p95": q(0.95),
                "gave_up": sum(bool(o["gave_up"]) for o in mine),
            }
        )
    return out


COLUMNS = [
    ("name", "Strategy"),
    ("jobs", "Jobs"),
    ("polls_per_job", "Polls per job"),
    ("latency_p50", "Detection latency p50 (sim. s)"),
    ("latency_p95", "p95"),
    ("gave_up", "Gave up"),
]


@events.init.add_listener
def _web_ui(environment, **_) -> None:
    """A Polling tab in the web UI (Locust's extension hook), fed with the stats the UI
    polls anyway, and its CSV: per-job metrics beside the HTTP rows, not among them."""
    ui = environment.web_ui
    if ui is None:
        return
    from flask import Blueprint, make_response, render_template, request

    tab = Blueprint("pollsim", __name__)

    @ui.app.after_request
    def _with_polling(response):
        if request.path != "/stats/requests" or not response.is_json:
            return response
        extended = [{"key": "pollsim", "data": summary_rows()}]
        response.set_data(json.dumps({**response.json, "extended_stats": extended}))
        return response

    @tab.route("/pollsim")
    def _page():
        ui.update_template_args()
        return render_template(
            "index.html",
            template_args={
                **ui.template_args,
                "extended_tabs": [{"title": "Polling", "key": "pollsim"}],
                "extended_tables": [
                    {
                        "key": "pollsim",
                        "structure": [{"key": k, "title": t} for k, t in COLUMNS],
                    }
                ],
                "extended_csv_files": [
                    {"href": "/pollsim/csv", "title": "Download polling statistics CSV"}
                ],
            },
        )

    @tab.route("/pollsim/csv")
    def _csv():
        rows = [",".join(t for _, t in COLUMNS)]
        rows += [",".join(str(r[k]) for k, _ in COLUMNS) for r in summary_rows()]
        response = make_response("\n".join(rows) + "\n")
        response.headers["Content-Type"] = "text/csv"
        response.headers["Content-Disposition"] = "attachment;filename=pollsim_stats.csv"
        return response

    ui.app.register_blueprint(tab)


@events.report_to_master.add_listener
def _send(client_id, data, **_) -> None:
    """A worker hands its jobs finished since the last report to the master."""
    global _sent
    data["pollsim"] = OUTCOMES[_sent:]
    _sent = len(OUTCOMES)


@events.worker_report.add_listener
def _receive(client_id, data, **_) -> None:
    OUTCOMES.extend(data.get("pollsim", []))


_sent = 0


@events.quitting.add_listener
def _write(environment, **_) -> None:
    path = environment.parsed_options.pollsim_csv if environment.parsed_options else ""
    if not path:
        return
    if isinstance(environment.runner, MasterRunner):
        return  # a master runs no users: its workers write theirs (the runner merges)
    if isinstance(environment.runner, WorkerRunner):  # one file per worker process
        p = Path(path)
        path = str(p.with_name(f"{p.stem}.worker-{os.getpid()}{p.suffix}"))
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        fields = ["user", "strategy", "job_id", "polls", "wasted_polls", "gave_up"]
        fields += ["seen_state", "latency_s", "retry_after_violations", "errors", "late_s"]
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(OUTCOMES)


def outcome_row(user: str, strategy: Strategy, outcome: Outcome, late: float = 0.0) -> dict:
    """What a job came to, a row of ``--pollsim-csv``; ``late``: simulated seconds after
    its start that an adopted job was taken up."""
    r = outcome.record
    return {
        "user": user,
        "strategy": strategy.label,
        "job_id": outcome.job_id,
        "polls": r.polls,
        "wasted_polls": r.wasted_polls,
        "gave_up": r.gave_up,
        "seen_state": r.seen_state or "",
        "latency_s": "" if outcome.latency is None else f"{outcome.latency:.3f}",
        "retry_after_violations": r.retry_after_violations,
        "errors": r.errors,
        "late_s": f"{late:.3f}",
    }


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

    def _http(self, method: str, path: str, body: bytes | None, headers: dict):
        base = BASES[self.environment.parsed_options.dialect]
        name = base if path == base else f"{base}/[id]"
        with self.client.request(
            method,
            path,
            data=body,
            headers={**self.auth, **headers},
            name=name,
            catch_response=True,
        ) as resp:
            code = resp.status_code or None
            if code in (200, 201, 202, 304):
                resp.success()
            else:
                resp.failure(f"HTTP {code}")
            h = resp.headers
            got = {"etag": h.get("etag"), "retry-after": h.get("retry-after")} if h else {}
            return code, got, resp.content or b""


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
