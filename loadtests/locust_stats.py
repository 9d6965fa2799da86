"""What the polling users' jobs came to, beside Locust's own statistics and not among
them (firing them as request events would inflate Locust's request counts and rates):
a Polling tab on the web UI's main page, a per-strategy CSV next to Locust's
(``--csv``), a section in Locust's HTML report (``--html``), and a row a job in
``--pollsim-csv``. Workers hand theirs to the master with their stats reports.
"""

from __future__ import annotations

import csv
import html
import json
import os
from pathlib import Path

import numpy as np
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from loadtests.live import Outcome
from loadtests.progress import TAB
from loadtests.summary import users_path
from sim.strategies import Strategy

OUTCOMES: list[dict] = []  #: what each job came to, in this process
USERS: list[dict] = []  #: each polling user of this process and its strategy


def summary_rows() -> list[dict]:
    """Per strategy: jobs, polls per job, detection latency p50/p95/max, give-ups and
    errored jobs (the client stopped on an error answer), apart: the rows of the web UI's
    Polling tab and of its CSV."""
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
                "errored": sum(bool(o.get("errored")) for o in mine),
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
    ("errored", "Errored"),
]


@events.init.add_listener
def _web_ui(environment, **_) -> None:
    """A Polling tab on the web UI's main page (Locust's extension points: extra
    ``template_args``, which Locust keeps across its own updates, and the stats the UI
    polls anyway, extended), and its CSV: per-job metrics beside the HTTP rows, not
    among them. ``/pollsim`` opens the main page on that tab."""
    ui = environment.web_ui
    if ui is None:
        return
    from flask import Blueprint, make_response, redirect, request

    ui.template_args.update(
        extended_tabs=[{"title": "Polling", "key": TAB}],
        extended_tables=[{"key": TAB, "structure": [{"key": k, "title": t} for k, t in COLUMNS]}],
        extended_csv_files=[{"href": "/pollsim/csv", "title": "Download polling statistics CSV"}],
    )
    tab = Blueprint("pollsim", __name__)

    @ui.app.after_request
    def _with_polling(response):
        if request.path != "/stats/requests" or not response.is_json:
            return response
        extended = [{"key": TAB, "data": summary_rows()}]
        response.set_data(json.dumps({**response.json, "extended_stats": extended}))
        return response

    @tab.route("/pollsim")
    def _page():
        return redirect(f"./?tab={TAB}")

    @tab.route("/pollsim/csv")
    def _csv():
        response = make_response(summary_csv())
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
    opts = environment.parsed_options
    if opts is None:
        return
    runner = environment.runner
    if opts.pollsim_csv and not isinstance(runner, MasterRunner):  # a master runs no users
        path = Path(opts.pollsim_csv)
        users = users_path(path)
        if isinstance(runner, WorkerRunner):  # one file per worker process (the runner merges)
            path = path.with_name(f"{path.stem}.worker-{os.getpid()}{path.suffix}")
            users = users.with_name(f"{users.stem}.worker-{os.getpid()}{users.suffix}")
        write_jobs(path)
        write_rows(users, ["user", "strategy"], USERS)
    if isinstance(runner, WorkerRunner):
        return  # the master reports them all
    if getattr(opts, "csv_prefix", None):
        write_summary(Path(f"{opts.csv_prefix}_polling.csv"))
    html_file = getattr(opts, "html_file", None)
    if html_file and Path(html_file).exists():  # Locust writes it just before quitting
        add_to_html_report(Path(html_file))


#: ``job_id`` is the server's (as its ground truth names the job), ``shown_id`` the id the
#: dialect showed and the client polled (the same digits, or a UUID, ...)
#: ``errored``: the client stopped on an error answer (after its request-level retries),
#: apart from ``gave_up`` (its stop: a deadline, a number of polls)
JOB_FIELDS = ["user", "strategy", "job_id", "polls", "wasted_polls", "gave_up", "seen_state"]
JOB_FIELDS += ["latency_s", "retry_after_violations", "errors", "late_s", "shown_id", "errored"]


def write_jobs(path: Path) -> None:
    """A row a job."""
    write_rows(path, JOB_FIELDS, OUTCOMES)


def write_rows(path: Path, fields: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def summary_csv() -> str:
    """The Polling tab's rows as CSV."""
    rows = [",".join(t for _, t in COLUMNS)]
    rows += [",".join(str(r[k]) for k, _ in COLUMNS) for r in summary_rows()]
    return "\n".join(rows) + "\n"


def write_summary(path: Path) -> None:
    """A row a strategy, beside Locust's ``--csv`` files."""
    path.write_text(summary_csv(), encoding="utf-8")


def add_to_html_report(path: Path) -> None:
    """A section of the Polling tab's table, at the end of Locust's HTML report (which
    has no extension hook of its own)."""
    head = "".join(f"<th>{html.escape(t)}</th>" for _, t in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r[k]))}</td>" for k, _ in COLUMNS) + "</tr>"
        for r in summary_rows()
    )
    section = (
        '<section id="pollsim" style="font-family:sans-serif;margin:2em">'
        "<h2>Polling (pollsim): what the jobs came to</h2>"
        "<p>Per strategy: jobs watched to the end, given up on or stopped on an error, "
        "polls per job, detection latency (simulated seconds, from the finished_at the "
        "server reported), give-ups and errored jobs (the client stopped on an error "
        "answer). Not counted among the requests above.</p>"
        f'<table style="border-collapse:collapse" cellpadding="6"><tr>{head}</tr>{body}'
        "</table></section>"
    )
    page = path.read_text(encoding="utf-8")
    at = page.rfind("</body>")
    if at < 0:
        return  # not the report we know: leave it whole
    path.write_text(page[:at] + section + "\n" + page[at:], encoding="utf-8")


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
        "shown_id": outcome.shown_id,
        "errored": r.errored,
    }
