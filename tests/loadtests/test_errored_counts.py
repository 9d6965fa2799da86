"""Jobs whose client stopped on an error answer (``errored``) are counted apart from
give-ups on the Locust side: each job's row, the Polling tab and its CSV and HTML, the
run's summary and report, ``pollsim compare``'s table and the reading of a load test
(clients, server and model side by side). Records are marked errored by hand here."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from loadtests.compare import METRICS, Side, metrics, table
from loadtests.reading import comparison, predict, read, side_by_side
from loadtests.report import write
from loadtests.summary import summarise, users_path
from sim.status_server import Outage, ServerSpec
from sim.strategies import parse_strategy

NAMES = ("/s", "/s/[id]")

#: run in a process of its own: importing Locust patches the standard library (gevent)
LOCUST_SIDE = r"""
import json, math, sys
from pathlib import Path
from loadtests import locust_stats as ls
from loadtests.live import Outcome
from sim.pollers import PollRecord
from sim.strategies import parse_strategy

out = Path(sys.argv[1])
s = parse_strategy("fixed(5)")
base = PollRecord(1, s.label, 0.0, math.nan, None, 3, 0, False, False, False, "", 0, 0)
seen = base._replace(t_seen=9.0, seen_state="succeeded")
for user, r in (("u1", seen), ("u2", base._replace(gave_up=True)),
                ("u3", base._replace(errored=True, errors=3)), ("u4", base._replace(errored=True))):
    ls.OUTCOMES.append(ls.outcome_row(user, s, Outcome(r, "1", None, None, "1")))
ls.write_jobs(out / "jobs.csv")
ls.write_summary(out / "polling.csv")
(out / "report.html").write_text("<html><body></body></html>")
ls.add_to_html_report(out / "report.html")
print(json.dumps(ls.summary_rows()))
"""


def test_the_locust_side_counts_errored_jobs_apart_from_give_ups(tmp_path):
    r = subprocess.run(
        [sys.executable, "-c", LOCUST_SIDE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    (row,) = json.loads(r.stdout)
    assert (row["jobs"], row["gave_up"], row["errored"]) == (4, 1, 2)
    with (tmp_path / "jobs.csv").open() as f:
        jobs = list(csv.DictReader(f))
    assert [j["errored"] for j in jobs] == ["False", "False", "True", "True"]
    assert [j["gave_up"] for j in jobs] == ["False", "True", "False", "False"]
    head, values = (tmp_path / "polling.csv").read_text().splitlines()
    assert head.endswith("Gave up,Errored") and values.endswith(",1,2")
    assert "<th>Errored</th>" in (tmp_path / "report.html").read_text()


def _write(path, fields, rows):
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def folder(tmp_path, errored: bool = True, strategy: str = "fixed(5)"):
    """A load test's folder by hand: three jobs of ``strategy``, one seen (at 10 s, of an
    end at 8 s), one given up on, one errored (by the clients and by the server)."""
    fields = ["user", "strategy", "job_id", "polls", "gave_up", "latency_s"]
    fields += ["errored"] if errored else []
    rows = [
        {"user": "u1", "job_id": "1", "polls": 4, "gave_up": "False", "latency_s": "2.0"},
        {"user": "u2", "job_id": "2", "polls": 9, "gave_up": "True", "latency_s": ""},
        {"user": "u3", "job_id": "3", "polls": 2, "gave_up": "False", "latency_s": ""},
    ]
    for k, row in enumerate(rows):
        row["strategy"] = strategy
        if errored:
            row["errored"] = str(k == 2)
    _write(tmp_path / "jobs.csv", fields, rows)
    _write(users_path(tmp_path / "jobs.csv"), ["user", "strategy"], [])
    stats = [
        {"Type": "GET", "Name": "/s/[id]", "Request Count": 15, "Failure Count": 2,
         "Requests/s": 1.0, "Average Response Time": 2.0},
        {"Type": "", "Name": "Aggregated", "Request Count": 15, "Failure Count": 2,
         "Requests/s": 1.0, "Average Response Time": 2.0},
    ]  # fmt: skip
    _write(tmp_path / "locust_stats.csv", list(stats[0]), stats)
    history = [{"Timestamp": 100 + t, "Name": "Aggregated", "Requests/s": 1.0} for t in (0, 1)]
    _write(tmp_path / "locust_stats_history.csv", list(history[0]), history)
    job = {"template": "chain", "tenant": "alpha", "state": "running", "submit": 0.0}
    job |= {"t_end": None, "t_visible": None, "shown": [[0.0, "queued"]]}
    truth = [
        {**job, "client": "u1", "job_id": "1", "polls": 4, "gave_up": False, "errored": False,
         "unfinished": False, "detection_latency_s": 2.0, "state": "succeeded", "t_end": 8.0,
         "t_visible": 8.0, "shown": [[0.0, "queued"], [8.0, "succeeded"]]},
        {**job, "client": "u2", "job_id": "2", "polls": 9, "gave_up": True, "errored": False,
         "unfinished": False, "detection_latency_s": None},
        {**job, "client": "u3", "job_id": "3", "polls": 2, "gave_up": False, "errored": True,
         "unfinished": False, "detection_latency_s": None},
    ]  # fmt: skip
    if not errored:
        for t in truth:
            del t["errored"]
    report = {"jobs": truth, "speed": 10, "now": 60.0}
    report["totals"] = {"requests": [{"count": 15}], "injected_faults": {"outage_503": 2}}
    (tmp_path / "truth.json").write_text(json.dumps(report))
    summary = summarise(tmp_path, report, NAMES)
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    return summary


def test_the_runs_summary_and_report_have_errored_beside_gave_up(tmp_path):
    s = folder(tmp_path)["fixed(5)"]
    assert (s["jobs"], s["gave_up"], s["errored"], s["unfinished"]) == (3, 1, 1, 0)
    page = write(tmp_path, summarise(tmp_path, json.loads((tmp_path / "truth.json").read_text()),
                                     NAMES)).read_text()  # fmt: skip
    assert "<th>gave up</th>\n<th>errored</th>" in page
    assert "<td>fixed(5)</td><td>3</td><td>5.0</td><td>1</td><td>1</td><td>0</td>" in page


def test_a_folder_from_before_errored_was_counted_reads_as_none_errored(tmp_path):
    s = folder(tmp_path, errored=False)["fixed(5)"]
    assert (s["gave_up"], s["errored"]) == (1, 0)
    lt = read(tmp_path)
    assert not lt.watched["errored"].any() and not lt.watched["errored_server"].any()
    assert side_by_side(lt).loc["fixed(5)", "errored_server"] == 0


def test_reading_a_load_test_puts_errored_clients_server_and_model_side_by_side(tmp_path):
    folder(tmp_path)
    lt = read(tmp_path)
    row = side_by_side(lt).loc["fixed(5)"]
    assert (row["gave_up_clients"], row["gave_up_server"]) == (1, 1)
    assert (row["errored_clients"], row["errored_server"]) == (1, 1)
    model = pd.DataFrame(
        {"user": ["u1", "u2", "u3"], "job_id": ["1", "2", "3"], "strategy": "fixed(5)",
         "polls": [4, 9, 40], "t_seen": [10.0, math.nan, math.nan],
         "detection_latency": [2.0, math.nan, math.nan], "gave_up": [False, True, True],
         "errored": [False, False, False]}
    )  # fmt: skip
    c = comparison(lt, model).loc["fixed(5)"]
    assert (c["errored_measured"], c["errored_model"]) == (1, 0)  # the model rode it out
    assert (c["gave_up_measured"], c["gave_up_model"]) == (1, 2)


def test_compare_puts_the_models_errored_jobs_beside_the_measured():
    assert ("errored", "errored (stopped on an error)") in METRICS
    cols = ["strategy", "polls", "gave_up", "errored", "detection_latency"]
    predicted = Side(
        pd.DataFrame([("a", 3, False, True, None), ("a", 4, False, False, 1.0)], columns=cols),
        {"a": np.array([1, 1])},
    )
    old = Side(  # a side without the column (before errored watches): none errored
        pd.DataFrame([("a", 3, True, None)], columns=[c for c in cols if c != "errored"]),
        {"a": np.array([1])},
    )
    assert metrics(predicted, "a", span=2.0)["errored"] == 1.0
    assert metrics(old, "a", span=2.0)["errored"] == 0.0
    t = table(predicted, old, span=2.0).set_index(["strategy", "metric"])
    assert t.loc[("a", "errored"), "predicted"] == 1.0 and t.loc[("a", "errored"), "measured"] == 0
    assert t.loc[("all", "errored"), "rel_error"] == pytest.approx(-1.0)


def test_the_model_predicts_errored_jobs_where_it_is_told_of_the_outage(tmp_path):
    """``predict`` against the server the scenario described (its outage): a strategy
    that stops on errors errors out in the model on every job still running then; told
    of no outage (the default: the folder does not say), it predicts none."""
    stops = "poll(fixed(5), first=0, on_error='stop')"
    folder(tmp_path, strategy=stops)
    lt = read(tmp_path)
    label = parse_strategy(stops).label
    down = ServerSpec(outages=(Outage(20.0, 3600.0, "503"),))
    told = predict(lt, rtt=0.0, server=down).set_index("job_id")
    assert told.loc["1", "t_seen"] == 10.0  # polls at 0, 5, 10: the end shown at 8
    assert told.loc[["2", "3"], "errored"].all() and not told["gave_up"].any()
    assert told.loc[["2", "3"], "polls"].tolist() == [5, 5]  # 0, 5, ..., 20: the 503
    assert not predict(lt, rtt=0.0)["errored"].any()
    c = comparison(lt, told.reset_index()).loc[label]
    assert (c["errored_measured"], c["errored_model"]) == (1, 2)
