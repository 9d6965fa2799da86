"""Capacity planning with the model: the status API's load as the job arrival rate
grows, over a day, and the API workers that keep its response time under a target.

Each function runs the lifecycle model and the pollers and returns a DataFrame (with a
progress bar over its runs if asked: ``progress`` as ``sim.simulate`` takes it); the
capacity-planning notebook plots them (``sim.planning_plots``). Loads are requests
arriving at the status API per second of simulated time; response times are the API's
own (queueing plus service), the share of a client's round trip that capacity decides.

>>> from sim import default_scenario
>>> s = default_scenario()
>>> table = arrival_sweep(s, [0.05, 0.1], "fixed(5)", horizon=1800)
>>> list(table["arrival_rate"]), bool((table["load_offered"].diff().dropna() > 0).all())
([0.05, 0.1], True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.arrivals import Poisson
from sim.capacity import response_quantile, workers_for
from sim.distributions import Exponential
from sim.pollers import ClientSpec
from sim.polling import Polling, poll
from sim.scenario import Scenario
from sim.simulation import Simulation, simulate
from sim.status_server import ServerSpec
from sim.strategies import parse_strategy
from sim.timelines import timelines


def _each(items, what: str, progress: bool | None):
    """``items``, with a progress bar over them unless ``progress`` is False (None: on a
    terminal only), as ``sim.simulate`` takes it."""
    if progress is False:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=what, unit="run", disable=None if progress is None else False)


def api(workers: int | None, mean_service: float) -> ServerSpec:
    """A status API of ``workers`` workers (None: unlimited) and exponential service
    times of ``mean_service`` seconds: the M/M/c server Erlang C describes."""
    return ServerSpec(workers=workers, service_time=Exponential(mean_service))


def poll_each(
    run: Simulation,
    strategies: list[str],
    server: ServerSpec | None = None,
    clients: ClientSpec | None = None,
    progress: bool | None = False,
) -> dict[str, Polling]:
    """Every job of one lifecycle run polled by each strategy in turn (all jobs by each):
    ``{label: Polling}``. The clients' start delay, round trip and timeout are those of
    ``clients`` (by default the scenario's), the server the scenario's unless given."""
    base = clients or run.scenario.clients
    out: dict[str, Polling] = {}
    tls = timelines(run)
    for text in _each(strategies, "strategies", progress):
        strategy = parse_strategy(text)
        spec = ClientSpec(((strategy, 1.0),))
        if base is not None:
            spec = dataclasses.replace(base, strategies=spec.strategies)
        server_ = server or run.scenario.server
        out[strategy.label] = poll(tls, spec, server_, run.scenario.seed, run.end)
    return out


def _against(
    scenario: Scenario, rate: float, strategy: str, horizon: float
) -> tuple[Simulation, Callable[[ServerSpec], Polling]]:
    """Jobs arriving at ``rate`` for ``horizon`` seconds, run once through the lifecycle;
    and a function that polls them by ``strategy`` against a server (the timelines are
    built once, whatever the number of servers)."""
    s = dataclasses.replace(scenario, arrivals=Poisson(rate), horizon=horizon)
    run = simulate(dataclasses.replace(s, clients=None), progress=False)
    clients = s.with_strategies(strategy).clients
    assert clients is not None
    tls = timelines(run)
    return run, lambda server: poll(tls, clients, server, s.seed, run.end)


def window_of(horizon: float, warmup: float | None) -> tuple[float, float]:
    """The steady part of a run: from ``warmup`` (a third of the horizon by default,
    while the first jobs fill the system) to the horizon, when arrivals stop."""
    lo = horizon / 3 if warmup is None else warmup
    if not 0 <= lo < horizon:
        raise ValueError(f"warmup must be in [0, horizon), found {lo} for horizon {horizon}")
    return lo, horizon


def response_times(polling: Polling, window: tuple[float, float] | None = None) -> np.ndarray:
    """The status API's response time of each answered request (seconds from arrival to
    answer), of requests arriving in ``window``; SimPy pollers only (the fast path logs
    no single requests, and its server answers at once)."""
    r = polling.requests_frame()
    r = r[r["http_status"] == 200]
    if window is not None:
        r = r[(r["t"] >= window[0]) & (r["t"] < window[1])]
    return (r["t_answered"] - r["t"]).to_numpy(dtype=float)


def _load(polling: Polling, window: tuple[float, float]) -> np.ndarray:
    per = polling.load_frame()["requests"]
    return per.iloc[int(window[0]) : int(window[1])].to_numpy(dtype=float)


def _quantile(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q)) if len(x) else float("nan")


def arrival_sweep(
    scenario: Scenario,
    rates: list[float],
    strategy: str,
    server: ServerSpec | None = None,
    horizon: float | None = None,
    warmup: float | None = None,
    progress: bool | None = False,
) -> pd.DataFrame:
    """The status API's load as the job arrival rate grows: per rate (jobs/s, Poisson),
    the load the clients offer (an API that never queues: ``load_offered``, mean and
    p99 per second) and, against ``server``, the load it serves, its p99 response time
    and utilisation, and the clients' p95 detection latency. Measured in the steady
    window (``window_of``). Load grows in line with the rate until the API's workers
    are busy; then requests queue, responses slow, and the served load flattens."""
    horizon = scenario.horizon if horizon is None else horizon
    window = window_of(horizon, warmup)
    rows = []
    for rate in _each(rates, "arrival rates", progress):
        run, against = _against(scenario, rate, strategy, horizon)
        offered = _load(against(ServerSpec()), window)  # an API that never queues
        row = {
            "arrival_rate": rate,
            "jobs": len(run.jobs),
            "load_offered": float(offered.mean()),
            "load_offered_p99": _quantile(offered, 0.99),
        }
        if server is not None:
            p = against(server)
            load = _load(p, window)
            frame = p.load_frame().iloc[int(window[0]) : int(window[1])]
            jobs = p.jobs_frame()
            row |= {
                "load_served": float(load.mean()),
                "response_p99": _quantile(response_times(p, window), 0.99),
                "utilisation": float(frame["utilisation"].mean()),
                "latency_p95": _quantile(jobs["detection_latency"].dropna().to_numpy(), 0.95),
            }
        rows.append(row)
    return pd.DataFrame(rows)


def hourly(load: pd.Series, slot: float = 3600.0) -> pd.DataFrame:
    """Per-second load (requests, indexed by second) summed up per ``slot`` seconds: per
    slot (``hour``, counted from 0), the mean, p99 and max of its seconds."""
    seconds = np.asarray(load.index, dtype=float)
    frame = pd.DataFrame({"slot": (seconds // slot).astype(int), "requests": load.to_numpy()})
    out = frame.groupby("slot")["requests"].agg(
        mean="mean", p99=lambda x: float(np.quantile(x, 0.99)), max="max"
    )
    out.index.name = "hour"
    return out


def peak_hour(load: pd.Series, slot: float = 3600.0) -> tuple[int, pd.Series]:
    """The busiest slot (highest mean load) and its mean, p99 and max per second."""
    table = hourly(load, slot)
    hour = int(table["mean"].idxmax())
    return hour, table.loc[hour]


def workers_check(
    scenario: Scenario,
    rate: float,
    strategy: str,
    mean_service: float,
    workers: list[int],
    horizon: float | None = None,
    warmup: float | None = None,
    q: float = 0.99,
    progress: bool | None = False,
) -> pd.DataFrame:
    """Erlang C's answer against the model's: jobs arriving at ``rate`` per second
    polled by ``strategy``, against an API of each number of ``workers`` with
    exponential service times. Per row: the mean load the API served, the ``q`` quantile
    of its response time as simulated and as M/M/c predicts for that load."""
    horizon = scenario.horizon if horizon is None else horizon
    window = window_of(horizon, warmup)
    _, against = _against(scenario, rate, strategy, horizon)
    rows = []
    for c in _each(workers, "worker counts", progress):
        p = against(api(c, mean_service))
        load = float(_load(p, window).mean())
        rows.append(
            {
                "workers": c,
                "load": load,
                "utilisation": load * mean_service / c,
                "simulated": _quantile(response_times(p, window), q),
                "erlang_c": response_quantile(load, mean_service, c, q),
            }
        )
    return pd.DataFrame(rows)


def interval_cost(
    run: Simulation,
    template: str,
    intervals: list[float],
    mean_service: float,
    target: float,
    q: float = 0.99,
    slot: float = 3600.0,
    progress: bool | None = False,
) -> pd.DataFrame:
    """What a tighter polling interval costs in API workers: the jobs of ``run`` polled
    by ``template`` at each interval (``"fixed({interval})"``); per interval the peak
    slot's mean and p99 per-second load, the workers Erlang C needs to keep the ``q``
    response-time quantile under ``target`` at that peak, and the p95 detection
    latency the interval buys."""
    texts = [template.format(interval=i) for i in intervals]
    polled = poll_each(run, texts, progress=progress)
    rows = []
    for interval, (label, p) in zip(intervals, polled.items(), strict=True):
        load = p.load_frame()["requests"]
        hour, peak = peak_hour(load, slot)
        latency = p.jobs_frame()["detection_latency"].dropna().to_numpy()
        rows.append(
            {
                "interval": interval,
                "strategy": label,
                "peak_hour": hour,
                "peak_mean": float(peak["mean"]),
                "peak_p99": float(peak["p99"]),
                "workers": workers_for(float(peak["mean"]), mean_service, target, q, "response"),
                "latency_p95": _quantile(latency, 0.95),
            }
        )
    return pd.DataFrame(rows)
