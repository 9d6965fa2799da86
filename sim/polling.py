"""The polling phase of a run: every job's client polls the status server model, and the
results come out as DataFrames (per job, per second, and the request log).

Open-loop strategies against a server that is never the bottleneck go through the
vectorised fast path (``sim.fastpath``); the rest through SimPy pollers. ``method``
forces either.

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

from sim import limits
from sim._gc import no_cyclic_gc
from sim.fastpath import TimelineMatrix, applies, fast_poll, seconds_needed
from sim.pollers import ClientSpec, PollRecord, SpanError, direct, poll_budget, poller
from sim.randomness import Draws
from sim.status_server import ServerSpec, StatusServer
from sim.timelines import Timeline

POLL_STREAMS = ("mix", "start", "waits", "server", "fast")
METHODS = ("auto", "simpy", "direct", "fast")
REQUEST_COLUMNS = ["t", "job_id", "http_status", "t_answered", "strategy"]
#: how each replayed watch of ``sampled_requests`` ended (its requests' own columns)
REPLAYED_ENDS = ("replay_gave_up", "replay_errored", "replay_seen_state")


class MethodError(ValueError):
    """A ``method`` forced where it cannot apply, or one that does not exist."""


@dataclass
class Polling:
    """What the clients did: a row per job, requests per second by strategy and HTTP
    status, the request log of the SimPy pollers, and the server's queue each second."""

    timelines: list[Timeline]
    per_job: pd.DataFrame  #: PollRecord columns
    counts: pd.DataFrame  #: second, strategy, http_status (0: no answer), requests
    requests: pd.DataFrame  #: REQUEST_COLUMNS; the fast path logs no single requests
    queue: list[tuple[float, int, int]]  #: (t, requests waiting, workers busy)
    server: ServerSpec
    end: float
    methods: dict[str, str]  #: strategy label -> "simpy" or "fast"
    #: when clients of jobs that never end stop watching (the lifecycle run's end)
    stop_at: float = math.nan

    def jobs_frame(self) -> pd.DataFrame:
        """Per job: the design's metrics, with ``detection_latency = t_seen - t_end`` and
        ``polling_delay = t_seen - t_visible``."""
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
        df = tl.merge(self.per_job, on="job_id", how="left").replace([np.inf], np.nan)
        df["detection_latency"] = df["t_seen"] - df["t_end"]
        df["polling_delay"] = df["t_seen"] - df["t_visible"]
        return df

    def requests_frame(self) -> pd.DataFrame:
        """Per request of the SimPy pollers: arrival at the server, job, HTTP status (nan:
        no answer), when answered, and the client's strategy."""
        return self.requests

    def load_frame(self, strategy: str | None = None) -> pd.DataFrame:
        """Per 1 s bin: requests arriving at the server, by HTTP status and in all (of one
        strategy's clients, or of all); with a finite server, the queue length and the
        share of busy workers at the start of each second."""
        seconds = seconds_needed(self.end)
        bins = np.arange(seconds)
        c = self.counts if strategy is None else self.counts[self.counts["strategy"] == strategy]
        out = pd.DataFrame(index=pd.Index(bins, name="second"))
        out["requests"] = _per_second(c, seconds)
        for code in sorted(self.counts["http_status"].unique()):
            name = f"http_{code}" if code else "no_answer"
            out[name] = _per_second(c[c["http_status"] == code], seconds)
        if self.queue:
            q = pd.DataFrame(self.queue, columns=["t", "queue", "busy"])
            q["second"] = q["t"].astype(int)
            q = q.drop_duplicates("second").set_index("second")
            out["queue"] = q["queue"].reindex(bins).ffill().fillna(0).astype(int)
            workers = self.server.workers or 1
            out["utilisation"] = q["busy"].reindex(bins).ffill().fillna(0) / workers
        return out


def _per_second(counts: pd.DataFrame, seconds: int) -> np.ndarray:
    s = counts["second"].to_numpy()
    keep = s < seconds
    per = np.bincount(s[keep], weights=counts["requests"].to_numpy()[keep], minlength=seconds)
    return per.astype(np.int64)


def rngs(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence([seed, 1]).spawn(len(POLL_STREAMS))
    return {n: np.random.default_rng(c) for n, c in zip(POLL_STREAMS, children, strict=True)}


@no_cyclic_gc()  # the records only grow: no cycles to look for
def poll(
    timelines: list[Timeline],
    clients: ClientSpec,
    server: ServerSpec,
    seed: int,
    end: float,
    method: str = "auto",
    progress: bool | None = False,
) -> Polling:
    """Every job's client polls the server model until it sees the end or gives up; a job
    that never ends is watched until ``end``, the end of the lifecycle run.

    ``method``: "auto" takes, for each strategy, the vectorised fast path when it is
    open-loop and the server gives no feedback (no workers limit, service time or
    outages); a plain loop per client ("direct") when only the server gives none, since
    clients then cannot affect each other; SimPy pollers otherwise. "simpy", "direct" and
    "fast" force one (MethodError where it cannot apply); a ``sim.limits.LimitError``
    when a client would poll past the bounds."""
    if method not in METHODS:
        raise MethodError(f"method must be one of {', '.join(METHODS)}, found {method!r}")
    if end > limits.MAX_SPAN:
        raise SpanError("the jobs run")
    g = rngs(seed)
    weights = np.array([w for _, w in clients.strategies], dtype=float)
    choice = g["mix"].choice(len(weights), size=len(timelines), p=weights / weights.sum())
    starts = np.array([tl.submit for tl in timelines]) + clients.start_delay.sample_many(
        g["start"], len(timelines)
    )
    feedback = server.needs_feedback
    methods: dict[str, str] = {}
    for strategy, _ in clients.strategies:
        fits = applies(strategy, feedback)
        if method == "fast" and not fits:
            why = (
                "it needs the server's answers"
                if not strategy.open_loop
                else ("the server gives feedback (workers, service time or outages)")
            )
            raise MethodError(f"no fast path for strategy {strategy.label}: {why}")
        if method == "direct" and feedback:
            raise MethodError(
                f"no direct path for strategy {strategy.label}: the server gives feedback "
                "(workers, service time or outages), so clients affect each other"
            )
        if method == "auto":
            chosen = "fast" if fits else ("direct" if not feedback else "simpy")
        else:
            chosen = method
        methods[strategy.label] = chosen
    labels = clients.labels
    per_job, counts = [], []
    fast = [i for i, label in enumerate(labels) if methods[label] == "fast"]
    fast_budget = poll_budget(fast=True)
    if fast:
        matrix = TimelineMatrix(timelines)
        ids = np.array([t.job_id for t in timelines])
        for i in fast:
            rows = np.flatnonzero(choice == i)
            strategy = clients.strategies[i][0]
            df, per_second = fast_poll(
                matrix,
                rows,
                ids[rows],
                starts[rows],
                strategy,
                labels[i],
                clients.rtt,
                end,
                g["fast"],
                fast_budget,
            )
            per_job.append(df)
            counts.append(_counts(per_second, labels[i], 200))
    simpy_ = [i for i, label in enumerate(labels) if methods[label] == "simpy"]
    direct_ = [i for i, label in enumerate(labels) if methods[label] == "direct"]
    slow = np.flatnonzero(np.isin(choice, simpy_))
    loop = np.flatnonzero(np.isin(choice, direct_))
    requests = pd.DataFrame(columns=REQUEST_COLUMNS)
    queue: list[tuple[float, int, int]] = []
    records: list[PollRecord] = []
    log: list = []
    budget = poll_budget()
    if slow.size:
        records, log, queue = _simpy_poll(
            [timelines[k] for k in slow],
            choice[slow],
            starts[slow],
            clients,
            server,
            end,
            g,
            progress,
            budget,
        )
    if loop.size:
        rng = Draws(g["waits"])
        for k in loop.tolist():
            strategy = clients.strategies[choice[k]][0]
            records.append(
                direct(
                    timelines[k],
                    strategy,
                    labels[choice[k]],
                    clients,
                    float(starts[k]),
                    end,
                    rng,
                    log,
                    budget,
                )
            )
    if records:
        per_job.append(pd.DataFrame(records, columns=list(PollRecord._fields)))
        strategy_of = {r.job_id: r.strategy for r in records}
        requests = pd.DataFrame(log, columns=REQUEST_COLUMNS[:4])
        requests["strategy"] = requests["job_id"].map(strategy_of)
        http = requests["http_status"].fillna(0).astype(int)
        grouped = requests.assign(second=np.floor(requests["t"]).astype(int), http_status=http)
        counts.append(
            grouped.groupby(["second", "strategy", "http_status"])
            .size()
            .rename("requests")
            .reset_index()
        )
    counts_df = (
        pd.concat(counts, ignore_index=True)
        if counts
        else _counts(np.zeros(1, dtype=np.int64), "", 200)
    )
    last = float(counts_df["second"].max()) if len(counts_df) else 0.0
    if last >= limits.MAX_SPAN:
        latest = counts_df.loc[counts_df["second"].idxmax(), "strategy"]
        raise SpanError(f"strategy {latest} polls")
    if not per_job:  # no job at all, and no fast cohort to give an empty frame
        per_job.append(pd.DataFrame(columns=list(PollRecord._fields)).astype({"job_id": int}))
    per_job_df = pd.concat(per_job, ignore_index=True).sort_values("job_id", ignore_index=True)
    return Polling(
        timelines,
        per_job_df,
        counts_df,
        requests,
        queue,
        server,
        max(end, last + 1),
        methods,
        stop_at=end,
    )


def sampled_requests(
    polling: Polling, clients: ClientSpec, seed: int, most_jobs: int = 1000
) -> pd.DataFrame:
    """The request log (REQUEST_COLUMNS) of up to ``most_jobs`` jobs of each strategy the
    fast path ran, which logs no single request: those jobs replayed one by one with the
    plain loop, which gives the same distribution of requests where the fast path applies
    (same strategy, timeline and watch start; other draws, from a stream of their own).
    The jobs are spread evenly over the run. For fitting a strategy to its traffic
    (``sim.fit``) and for reading one client's requests; the load and per-job tables stay
    the fast path's."""
    fast = {label for label, how in polling.methods.items() if how == "fast"}
    if not fast or most_jobs <= 0:
        return pd.DataFrame(columns=REQUEST_COLUMNS)
    by_label = {label: s for (s, _), label in zip(clients.strategies, clients.labels, strict=True)}
    timeline = {t.job_id: t for t in polling.timelines}
    rng = Draws(np.random.default_rng(np.random.SeedSequence([seed, 2])))
    log: list = []
    labels: list[str] = []
    ends: list[tuple] = []  # each replayed watch's own ending, on each of its requests
    per_job = polling.per_job
    for label in sorted(fast):
        rows = per_job[per_job["strategy"] == label]
        if len(rows) > most_jobs:
            rows = rows.iloc[(np.arange(most_jobs) * (len(rows) / most_jobs)).astype(int)]
        starts = rows["watch_start"].tolist()
        for job_id, start in zip(rows["job_id"].tolist(), starts, strict=True):
            before = len(log)
            record = direct(
                timeline[job_id],
                by_label[label],
                label,
                clients,
                float(start),
                polling.stop_at,
                rng,
                log,
            )
            labels += [label] * (len(log) - before)
            ended = (record.gave_up, record.errored, record.seen_state or "")
            ends += [ended] * (len(log) - before)
    out = pd.DataFrame(log, columns=REQUEST_COLUMNS[:4])
    out["strategy"] = labels
    # the replay's own endings: polls.csv's are the fast path's, of other draws
    out[list(REPLAYED_ENDS)] = pd.DataFrame(ends, columns=list(REPLAYED_ENDS), index=out.index)
    return out


def _counts(per: np.ndarray, label: str, http: int) -> pd.DataFrame:
    """Long-form counts from an array of requests per second."""
    nz = np.flatnonzero(per)
    return pd.DataFrame({"second": nz, "strategy": label, "http_status": http, "requests": per[nz]})


def _simpy_poll(timelines, choice, starts, clients, server, end, g, progress=False, budget=None):
    """The SimPy pollers of these jobs: their PollRecords, the request log, queue samples."""
    env = simpy.Environment()
    srv = StatusServer(env, server, Draws(g["server"]))
    records: list[PollRecord] = []
    queue: list[tuple[float, int, int]] = []
    waits = Draws(g["waits"])
    labels = clients.labels
    order = np.argsort(starts, kind="stable").tolist()
    starts = starts.tolist()

    def launcher() -> Generator[simpy.Event, None, None]:
        for k in order:
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
                    budget,
                )
            )

    env.process(launcher())
    if srv.workers is not None:
        env.process(_sampler(env, srv, queue, records, len(timelines)))
    if progress is False:
        env.run()
    else:
        _run_with_bar(env, records, len(timelines), progress)
    return records, srv.log, queue


def _run_with_bar(env, records, n, show) -> None:
    """Run the pollers, a bar counting the jobs whose client is done (shown once the
    polling has taken two seconds, and only on a terminal unless asked)."""
    from tqdm import tqdm

    with tqdm(
        total=n,
        unit="job",
        desc="polling",
        delay=0 if show else 2,
        disable=None if show is None else False,
        leave=False,
    ) as bar:
        step, peek = env.step, env.peek
        count = 0
        while peek() < float("inf"):
            step()
            count += 1
            if count % 4096 == 0:
                bar.update(len(records) - bar.n)


def _sampler(env, srv, queue, records, n) -> Generator[simpy.Event, None, None]:
    """The server's queue and busy workers once a second, while any client still polls."""
    while len(records) < n:
        queue.append((env.now, len(srv.workers.queue), srv.workers.count))
        yield env.timeout(1.0)
