"""Reading a ``pollsim loadtest`` folder: what the clients measured (Locust's figures and
each client's record of its jobs), the server's ground truth beside it, and the model's
prediction for the very same jobs.

The prediction takes each job as the server ran it (submitted when, what it showed from
when) and polls it in the model with the strategy its client used, so the model and the
live clients differ only in what the model leaves out: HTTP round trips beyond a mean,
scheduling on a busy machine, the clock's scaling. Times are simulated seconds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from sim.pollers import ClientSpec
from sim.polling import poll
from sim.status_server import ServerSpec
from sim.strategies import parse_strategy
from sim.timelines import Timeline


class LoadTestError(ValueError):
    """A folder that is not the output of a finished ``pollsim loadtest`` run."""


@dataclass
class LoadTest:
    """One load test's outputs as DataFrames."""

    folder: Path
    clients: pd.DataFrame  #: jobs.csv: a row per job a client finished watching
    truth: pd.DataFrame  #: the server's record per client and job (truth.json)
    locust: pd.DataFrame  #: locust_stats.csv: a row per endpoint, and Aggregated
    history: pd.DataFrame  #: Locust's stats history (Aggregated), ``t``: wall s from start
    summary: dict  #: summary.json
    speed: float  #: simulated seconds per wall second
    end: float  #: the server's simulated clock when the truth was taken

    @cached_property
    def watched(self) -> pd.DataFrame:
        """The jobs the clients finished watching: each client's record (``polls``,
        ``latency_s``, ``gave_up``, ``errored``) beside the server's (``polls_server``,
        ``detection_latency_s``, ``gave_up_server``, ``errored_server``) and the job's
        truth."""
        truth = self.truth.rename(
            columns={
                "client": "user",
                "polls": "polls_server",
                "gave_up": "gave_up_server",
                "errored": "errored_server",
            }
        )
        if "errored_server" not in truth:  # a server older than errored watches
            truth["errored_server"] = False
        keep = ["user", "job_id", "strategy", "polls", "latency_s", "gave_up", "errored"]
        return self.clients[keep].merge(truth, on=["user", "job_id"], how="inner")


def _need(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise LoadTestError(
            f"{folder}: no {name}; expected the --out folder of a finished pollsim loadtest"
        )
    return path


def read(folder: str | Path) -> LoadTest:
    """A load test's folder (``pollsim loadtest --out``) as DataFrames."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LoadTestError(f"{folder}: no such folder; expected the --out folder of a loadtest")
    try:
        report = json.loads(_need(folder, "truth.json").read_text())
        summary = json.loads(_need(folder, "summary.json").read_text())
        clients = pd.read_csv(_need(folder, "jobs.csv"), dtype={"job_id": str})
    except (json.JSONDecodeError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LoadTestError(
            f"{folder}: a file is not what pollsim loadtest writes: {exc}"
        ) from None
    if not {"jobs", "speed", "now"} <= set(report):
        raise LoadTestError(f"{folder}/truth.json: not the server's ground truth report")
    truth = pd.DataFrame(report["jobs"])
    if len(truth):
        truth["job_id"] = truth["job_id"].astype(str)
    clients["gave_up"] = clients["gave_up"].astype(str) == "True"
    # a jobs.csv written before errored watches were counted has no column: none errored
    clients["errored"] = clients.get("errored", pd.Series(False, index=clients.index))
    clients["errored"] = clients["errored"].astype(str) == "True"
    locust = pd.read_csv(_need(folder, "locust_stats.csv"))
    history = pd.read_csv(folder / "locust_stats_history.csv")
    history = history[history["Name"] == "Aggregated"].copy()
    history["t"] = history["Timestamp"] - history["Timestamp"].min()
    return LoadTest(
        folder, clients, truth, locust, history.reset_index(drop=True), summary,
        float(report["speed"]), float(report["now"]),
    )  # fmt: skip


def _q(x: pd.Series, q: float) -> float:
    x = pd.to_numeric(x, errors="coerce").dropna()
    return float(np.quantile(x, q)) if len(x) else math.nan


def side_by_side(lt: LoadTest) -> pd.DataFrame:
    """Per strategy, the clients' own figures beside the server's ground truth for the
    same jobs: jobs, polls per job, detection latency p50/p95 (simulated s), give-ups and
    errored jobs (the client stopped on an error answer), each counted apart."""
    rows = []
    for strategy, w in lt.watched.groupby("strategy"):
        rows.append(
            {
                "strategy": strategy,
                "jobs": len(w),
                "polls_per_job_clients": float(w["polls"].mean()),
                "polls_per_job_server": float(w["polls_server"].mean()),
                "latency_p50_clients": _q(w["latency_s"], 0.5),
                "latency_p50_server": _q(w["detection_latency_s"], 0.5),
                "latency_p95_clients": _q(w["latency_s"], 0.95),
                "latency_p95_server": _q(w["detection_latency_s"], 0.95),
                "gave_up_clients": int(w["gave_up"].sum()),
                "gave_up_server": int(w["gave_up_server"].astype(bool).sum()),
                "errored_clients": int(w["errored"].sum()),
                "errored_server": int(w["errored_server"].astype(bool).sum()),
            }
        )
    return pd.DataFrame(rows).set_index("strategy")


def totals(lt: LoadTest) -> pd.DataFrame:
    """The run in all, one row: requests as Locust counted them and as the server did,
    Locust's failures, and its rate in wall and in simulated seconds."""
    agg = lt.locust[lt.locust["Name"] == "Aggregated"].iloc[0]
    server = int(lt.summary.get("server", {}).get("requests", 0))
    rate = float(agg["Requests/s"])
    row = {
        "requests_locust": int(agg["Request Count"]),
        "requests_server": server,
        "failures_locust": int(agg["Failure Count"]),
        "requests_per_s_wall": rate,
        "requests_per_s_simulated": rate / lt.speed,
        "wall_s": float(lt.history["t"].max()) if len(lt.history) else math.nan,
        "speed": lt.speed,
    }
    return pd.DataFrame([row], index=pd.Index(["run"]))


def round_trip(lt: LoadTest) -> float:
    """The clients' mean round trip to the status endpoint, in simulated seconds (Locust's
    average response time of its GETs, scaled by the speed)."""
    gets = lt.locust[(lt.locust["Type"] == "GET") & (lt.locust["Name"] != "/healthz")]
    if gets.empty:
        return 0.0
    ms = np.average(gets["Average Response Time"], weights=gets["Request Count"])
    return float(ms) / 1000 * lt.speed


def _timeline(row) -> Timeline:
    shown = row["shown"] if isinstance(row["shown"], list) and row["shown"] else []
    t_end = row["t_end"] if pd.notna(row["t_end"]) else math.inf
    t_vis = row["t_visible"] if pd.notna(row["t_visible"]) else math.inf
    times = [float(t) for t, _ in shown] or [float(row["submit"])]
    states = [str(s) for _, s in shown] or ["queued"]
    return Timeline(
        int(row["job_id"]), str(row["template"]), float(row["submit"]), float(t_end),
        float(t_vis), str(row["state"]), times, states, [0.0] * len(times),
    )  # fmt: skip


def predict(
    lt: LoadTest, rtt: float | None = None, server: ServerSpec | None = None
) -> pd.DataFrame:
    """The model's prediction for each job the clients watched: the same job (as the
    server ran it) polled in the model by the same strategy, from its submission, with
    the clients' round trip (``round_trip`` unless given), against ``server`` (the
    scenario's ``server`` with its outages, for errors and give-ups they cause; default:
    an API that never fails, since the folder does not say what the server was told). A
    row per job: ``user``, ``job_id``, ``strategy``, and the model's ``polls``,
    ``t_seen``, ``detection_latency``, ``gave_up`` and ``errored``."""
    w = lt.watched
    if "submit" not in w or "shown" not in w:
        raise LoadTestError(
            f"{lt.folder}/truth.json has no job timelines (a server older than this reader)"
        )
    rtt = round_trip(lt) if rtt is None else rtt
    parts = []
    for strategy, rows in w.groupby("strategy"):
        tls = [_timeline(r) for _, r in rows.iterrows()]
        spec = ClientSpec(((parse_strategy(str(strategy)), 1.0),), rtt=rtt)
        jobs = poll(tls, spec, server or ServerSpec(), seed=1, end=lt.end).jobs_frame()
        columns = ["job_id", "polls", "t_seen", "detection_latency", "gave_up", "errored"]
        jobs = jobs[columns].assign(job_id=jobs["job_id"].astype(str), strategy=strategy)
        parts.append(rows[["user", "job_id"]].merge(jobs, on="job_id"))
    return pd.concat(parts, ignore_index=True)


def comparison(lt: LoadTest, model: pd.DataFrame) -> pd.DataFrame:
    """Per strategy, the measurement (the server's ground truth) beside the model's
    prediction (``predict``) for the same jobs: polls per job and detection latency
    p50/p95, with the model's error; and give-ups and errored jobs, counts measured and
    predicted (no ratio: the model may rightly predict none)."""
    w = lt.watched
    rows = []
    for strategy, m in model.groupby("strategy"):
        mine = w[w["strategy"] == strategy]
        row = {"strategy": strategy, "jobs": len(mine)}
        live, model_lat = mine["detection_latency_s"], m["detection_latency"]
        for name, measured, predicted in (
            ("polls_per_job", mine["polls_server"].mean(), m["polls"].mean()),
            ("latency_p50", _q(live, 0.5), _q(model_lat, 0.5)),
            ("latency_p95", _q(live, 0.95), _q(model_lat, 0.95)),
        ):
            row[f"{name}_measured"] = float(measured)
            row[f"{name}_model"] = float(predicted)
            row[f"{name}_error"] = float(predicted / measured - 1) if measured else math.nan
        for name, measured, predicted in (
            ("gave_up", mine["gave_up_server"].astype(bool).sum(), m["gave_up"].eq(True).sum()),
            ("errored", mine["errored_server"].astype(bool).sum(), m["errored"].eq(True).sum()),
        ):
            row[f"{name}_measured"], row[f"{name}_model"] = int(measured), int(predicted)
        rows.append(row)
    return pd.DataFrame(rows).set_index("strategy")
