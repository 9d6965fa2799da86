"""The polling phase of a run: every job's client polls the status server model, and the
results come out as DataFrames (per job, per request, per second).

>>> from sim import loads, simulate
>>> run = simulate(loads('[clients]\\nstrategy = "fixed(5)"\\n'))
>>> polls = run.polling.jobs_frame()
>>> # at most the interval, plus the round trip of the poll before and half of this one's
>>> bool(polls["polling_delay"].between(0, 5 + 1.5 * 0.02).all())
True
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from sim.pollers import ClientSpec, PollRecord, poller
from sim.randomness import Draws
from sim.status_server import ServerSpec, StatusServer
from sim.timelines import Timeline

POLL_STREAMS = ("mix", "start", "waits", "server")


@dataclass
class Polling:
    """What the clients did: a record per job, the server's request log, and samples of
    the server's queue each second."""

    timelines: list[Timeline]
    records: list[PollRecord]
    requests: list[tuple[float, int, int | None, float | None]]
    queue: list[tuple[float, int, int]]  #: (t, requests waiting, workers busy)
    server: ServerSpec
    end: float

    def jobs_frame(self) -> pd.DataFrame:
        """Per job: the design's metrics, with ``detection_latency = t_seen - t_end`` and
        ``polling_delay = t_seen - t_visible``."""
        polls = pd.DataFrame(self.records, columns=list(PollRecord._fields))
        tl = pd.DataFrame(
            {
                "job_id": [t.job_id for t in self.timelines],
                "template": [t.template for t in self.timelines],
                "submit": [t.submit for t in self.timelines],
                "t_end": [t.t_end for t in self.timelines],
                "t_visible": [t.t_visible for t in self.timelines],
                "state": [t.final for t in self.timelines],
            }
        )
        df = tl.merge(polls, on="job_id", how="left").replace([np.inf], np.nan)
        df["detection_latency"] = df["t_seen"] - df["t_end"]
        df["polling_delay"] = df["t_seen"] - df["t_visible"]
        return df

    def requests_frame(self) -> pd.DataFrame:
        """Per request: arrival at the server, job, HTTP status (nan: no answer), answered."""
        df = pd.DataFrame(self.requests, columns=["t", "job_id", "http_status", "t_answered"])
        strategy = {r.job_id: r.strategy for r in self.records}
        df["strategy"] = df["job_id"].map(strategy)
        return df

    def load_frame(self) -> pd.DataFrame:
        """Per 1 s bin: requests arriving at the server, by HTTP status and in all; with a
        finite server, the queue length and the busy workers at the start of the second."""
        req = self.requests_frame()
        seconds = max(1, math.ceil(self.end))
        bins = np.arange(seconds)
        out = pd.DataFrame(index=pd.Index(bins, name="second"))
        second = np.floor(req["t"].to_numpy()).astype(int)
        out["requests"] = np.bincount(second, minlength=seconds)[:seconds]
        codes = req["http_status"].fillna(0).astype(int).to_numpy()
        for code in sorted(set(codes)):
            name = f"http_{code}" if code else "no_answer"
            out[name] = np.bincount(second[codes == code], minlength=seconds)[:seconds]
        if self.queue:
            q = pd.DataFrame(self.queue, columns=["t", "queue", "busy"])
            q["second"] = q["t"].astype(int)
            q = q.drop_duplicates("second").set_index("second")
            out["queue"] = q["queue"].reindex(bins).ffill().fillna(0).astype(int)
            workers = self.server.workers or 1
            out["utilisation"] = q["busy"].reindex(bins).ffill().fillna(0) / workers
        return out


def rngs(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence([seed, 1]).spawn(len(POLL_STREAMS))
    return {n: np.random.default_rng(c) for n, c in zip(POLL_STREAMS, children, strict=True)}


def poll(
    timelines: list[Timeline], clients: ClientSpec, server: ServerSpec, seed: int, end: float
) -> Polling:
    """Every job's client polls the server model until it sees the end or gives up; a job
    that never ends is watched until ``end``, the end of the lifecycle run."""
    g = rngs(seed)
    weights = np.array([w for _, w in clients.strategies], dtype=float)
    choice = g["mix"].choice(len(weights), size=len(timelines), p=weights / weights.sum())
    starts = [tl.submit + clients.start_delay.sample(g["start"]) for tl in timelines]
    env = simpy.Environment()
    srv = StatusServer(env, server, Draws(g["server"]))
    records: list[PollRecord] = []
    queue: list[tuple[float, int, int]] = []
    waits = Draws(g["waits"])
    labels = clients.labels
    order = np.argsort(starts, kind="stable")

    def launcher() -> Generator[simpy.Event, None, None]:
        for k in order.tolist():
            if starts[k] > env.now:
                yield env.timeout(starts[k] - env.now)
            strategy, _ = clients.strategies[choice[k]]
            env.process(
                poller(
                    env,
                    timelines[k],
                    strategy,
                    labels[choice[k]],
                    srv,
                    clients,
                    starts[k],
                    end,
                    waits,
                    records,
                )
            )

    env.process(launcher())
    if srv.workers is not None:
        env.process(_sampler(env, srv, queue, records, len(timelines)))
    env.run()
    last = max((r[0] for r in srv.log), default=0.0)
    return Polling(timelines, sorted(records), srv.log, queue, server, max(end, last + 1e-9))


def _sampler(env, srv, queue, records, n) -> Generator[simpy.Event, None, None]:
    """The server's queue and busy workers once a second, while any client still polls."""
    while len(records) < n:
        queue.append((env.now, len(srv.workers.queue), srv.workers.count))
        yield env.timeout(1.0)
