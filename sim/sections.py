"""Readers of a scenario file's tables: each takes a ``Reader`` on its table and returns a
validated value, or raises a ``ScenarioError`` naming the key."""

from __future__ import annotations

import csv
import math
from datetime import datetime
from pathlib import Path

from sim import _reader as r
from sim._reader import Expected, Reader, ScenarioError
from sim.arrivals import Arrivals, Bursts, Diurnal, NoArrivals, Poisson, Replay
from sim.controls import Control
from sim.dialects import Action
from sim.distributions import Constant, Distribution, Empirical, Exponential, LogNormal, Uniform
from sim.durations import parse_duration, parse_rate
from sim.limits import MAX_ATTEMPTS, MAX_COUNT, MAX_JOBS, MAX_SPAN, MAX_STEPS
from sim.pollers import ClientSpec
from sim.retry import ExponentialRetry, FixedRetry, NoRetry, RetryPolicy, ScheduleRetry
from sim.status_server import OUTAGE_MODES, Outage, ServerSpec
from sim.strategies import Strategy, StrategyError, parse_strategy
from sim.templates import JobTemplate, StepSpec, TemplateError


def duration(raw: object) -> float:
    try:
        return parse_duration(raw)
    except ValueError as exc:
        raise Expected(str(exc).removeprefix("expected ")) from None


def rate(raw: object) -> float:
    try:
        return parse_rate(raw)
    except ValueError as exc:
        raise Expected(str(exc).removeprefix("expected ")) from None


def horizon(raw: object) -> float:
    """How long jobs arrive for: a duration of at most 31 days (``MAX_SPAN``)."""
    most = Expected(f"a duration of at most {MAX_SPAN / 86400:g} days ({MAX_SPAN:.0f} s)")
    try:
        value = duration(raw)
    except Expected as exc:
        raise (most if "at most" in exc.what else exc) from None
    if value > MAX_SPAN:
        raise most
    return value


def capacity(raw: object) -> int | None:
    if raw == "unlimited":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_COUNT:
        raise Expected(f'a whole number from 1 to {MAX_COUNT:,}, or "unlimited"')
    return raw


#: a count of attempts, of jobs, of anything else a scenario gives
attempts = r.integer(1, MAX_ATTEMPTS)
jobs = r.integer(1, MAX_JOBS)
count = r.integer(0, MAX_COUNT)
#: an exponential backoff's growth
multiplier = r.number(1.0, 1000.0)


_DIST_KEYS = {
    "constant": ("value",),
    "uniform": ("low", "high"),
    "exponential": ("mean",),
    "lognormal": ("median", "p95"),
    "empirical": ("samples",),
}


def read_distribution(
    parent: Reader, name: str, default: Distribution | None = r._MISSING
) -> Distribution | None:
    """A duration distribution: a plain duration (constant) or a table with ``dist``;
    required unless a ``default`` (None included) is given."""
    if not parent.has(name):
        return parent.get(name, duration, default)
    if not isinstance(parent.data[name], dict):
        return Constant(parent.get(name, duration))
    t = parent.table(name)
    kind = t.get("dist", r.one_of(*_DIST_KEYS))
    if kind == "empirical":
        args = [t.get("samples", r.list_of(parse_duration, "durations"))]
    else:
        args = [t.get(k, duration) for k in _DIST_KEYS[kind]]
    t.done()
    cls = {"constant": Constant, "uniform": Uniform, "exponential": Exponential}
    cls |= {"lognormal": LogNormal, "empirical": Empirical}
    try:
        return cls[kind](*args)
    except ValueError as exc:
        raise parent.error(name, str(exc)) from None


def read_retry(parent: Reader, name: str, default: RetryPolicy | None) -> RetryPolicy | None:
    if not parent.has(name):
        return default
    t = parent.table(name)
    kind = t.get("kind", r.one_of("none", "fixed", "schedule", "exponential"))
    try:
        if kind == "none":
            policy: RetryPolicy = NoRetry()
        elif kind == "fixed":
            policy = FixedRetry(t.get("delay", duration), t.get("max_attempts", attempts, 3))
        elif kind == "schedule":
            waits = t.get("schedule", r.list_of(parse_duration, "durations", MAX_ATTEMPTS - 1))
            policy = ScheduleRetry(waits, t.get("max_attempts", attempts, 0))
        else:
            policy = ExponentialRetry(
                base=t.get("base", duration),
                multiplier=t.get("multiplier", multiplier, 2.0),
                cap=t.get("cap", duration, math.inf),
                max_attempts=t.get("max_attempts", attempts, 5),
                jitter=t.get("jitter", r.one_of("none", "full", "equal"), "none"),
            )
    except ValueError as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise parent.error(name, str(exc)) from None
    t.done()
    return policy


def read_step(t: Reader) -> StepSpec:
    step = dict(
        id=t.get("id", r.text),
        type=t.get("type", r.text, ""),
        duration=read_distribution(t, "duration"),
        depends_on=t.get("depends_on", r.list_of(r.text, "step ids"), ()),
        optional=t.get("optional", r.boolean, False),
        discovery=t.get("discovery", r.boolean, False),
        retry=read_retry(t, "retry", None),
    )
    for p in ("p_transient", "p_permanent", "p_error", "p_skip"):
        step[p] = t.get(p, r.probability, 0.0)
    t.done()
    try:
        return StepSpec(**step)
    except TemplateError as exc:
        raise t.error(exc.key, str(exc)) from None


def read_template(t: Reader) -> JobTemplate:
    name = t.get("name", r.text)
    weight = t.get("weight", r.number(0.0), 1.0)
    retry = read_retry(t, "retry", None)
    steps = tuple(read_step(s) for s in t.tables("steps", MAX_STEPS))
    t.done()
    try:
        return JobTemplate(name, steps, weight=weight, retry=retry)
    except TemplateError as exc:
        raise t.error(exc.key, str(exc)) from None


def read_arrivals(t: Reader, base: Path | None) -> tuple[Arrivals, Bursts]:
    kind = t.get("kind", r.one_of("poisson", "diurnal", "replay", "none"), "poisson")
    if kind == "poisson":
        arrivals: Arrivals = Poisson(t.get("rate", rate, 600 / 3600))
    elif kind == "diurnal":
        rates = t.get("rates", r.list_of(parse_rate, "rates"))
        try:
            arrivals = Diurnal(rates, t.get("period", duration, 86400.0))
        except ValueError as exc:
            raise t.error("rates", str(exc)) from None
    elif kind == "replay":
        name = t.get("file", r.text)
        path = (base / name) if base else Path(name)
        arrivals = read_replay(path, t.source)
    else:
        arrivals = NoArrivals()
    bursts = []
    for b in t.tables("bursts"):
        bursts.append(
            (b.get("at", duration), b.get("count", jobs), b.get("template", r.text, None))
        )
        b.done()
    t.done()
    return arrivals, Bursts(tuple(bursts))


def read_replay(path: Path, source: str) -> Replay:
    """Submit times from a CSV with a ``submit`` column (seconds, a duration, or an ISO
    timestamp; timestamps count from the first) and an optional ``template`` column."""
    rows = _csv_rows(path, source)
    if not rows or "submit" not in rows[0]:
        raise ScenarioError(str(path), "", "expected a CSV with a header naming a 'submit' column")
    times: list[float] = []
    stamps: list[datetime] = []
    for line, row in enumerate(rows, start=2):
        raw = (row.get("submit") or "").strip()
        try:
            if "T" in raw or raw.count("-") >= 2:
                stamps.append(datetime.fromisoformat(raw.replace("Z", "+00:00")))
            else:
                times.append(parse_duration(float(raw) if _is_number(raw) else raw))
        except ValueError:
            raise ScenarioError(
                f"{path}:{line}",
                "submit",
                f"found {raw!r}, expected seconds, a duration or an ISO 8601 timestamp",
            ) from None
    if stamps and times:
        raise ScenarioError(
            str(path), "submit", "mixes timestamps and seconds; use one or the other"
        )
    if stamps:
        if len({s.tzinfo is None for s in stamps}) > 1:
            raise ScenarioError(
                str(path), "submit", "mixes timestamps with and without a time zone"
            )
        first = min(stamps)
        times = [(s - first).total_seconds() for s in stamps]
    names = tuple((row.get("template") or None) for row in rows)
    return Replay(tuple(times), names if any(names) else ())


def _csv_rows(path: Path, source: str) -> list[dict]:
    """The rows of a replay CSV, at most ``MAX_JOBS``; ScenarioError if it cannot be read."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = []
            for row in csv.DictReader(fh):
                rows.append(row)
                if len(rows) > MAX_JOBS:
                    raise ScenarioError(str(path), "", f"more than {MAX_JOBS:,} rows")
            return rows
    except OSError as exc:
        why = exc.strerror
    except UnicodeDecodeError:
        why = "not UTF-8 text"
    except csv.Error as exc:
        why = f"not a CSV file ({exc})"
    raise ScenarioError(source, "arrivals.file", f"cannot read {path}: {why}")


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def read_control(t: Reader) -> Control:
    action = Action(t.get("action", r.one_of(*(a.value for a in Action))))
    ctl = dict(
        action=action,
        probability=t.get("probability", r.probability, 1.0),
        after=read_distribution(t, "after", None),
        at=t.get("at", duration, None),
        jobs=t.get("jobs", r.list_of(r.integer(0, MAX_JOBS), "job ids"), ()),
        templates=t.get("templates", r.list_of(r.text, "template names"), ()),
        resume_after=read_distribution(t, "resume_after", None),
    )
    t.done()
    try:
        return Control(**ctl)
    except ValueError as exc:
        raise t.error("action", str(exc)) from None


def read_strategy(raw: object) -> Strategy:
    if not isinstance(raw, str):
        raise Expected("a strategy, e.g. \"fixed(5) | after_delay('1h')\" or a preset name")
    try:
        return parse_strategy(raw)
    except StrategyError as exc:
        raise ValueError(str(exc).split(": ", 1)[1]) from None


def read_clients(t: Reader) -> ClientSpec | None:
    """``[clients]``: one ``strategy``, or ``strategies`` = [{strategy, weight}]."""
    if not t.data:
        t.done()
        return None
    mix: list[tuple[Strategy, float]] = []
    if t.has("strategy"):
        mix.append((t.get("strategy", read_strategy), 1.0))
    for m in t.tables("strategies"):
        mix.append((m.get("strategy", read_strategy), m.get("weight", r.number(0.0), 1.0)))
        m.done()
    if not mix:
        raise t.error("strategy", "missing; expected a strategy or [[clients.strategies]]")
    spec = dict(
        strategies=tuple(mix),
        start_delay=read_distribution(t, "start_delay", Constant(0.0)),
        rtt=t.get("rtt", duration, 0.02),
        request_timeout=t.get("request_timeout", duration, 30.0),
    )
    t.done()
    try:
        return ClientSpec(**spec)
    except ValueError as exc:
        raise t.error("strategies", str(exc)) from None


def read_server(t: Reader) -> ServerSpec:
    """``[server]``: the status API's workers, service time, queue limit and outages."""
    outages = [read_outage(o) for o in t.tables("outages")]
    spec = ServerSpec(
        workers=t.get("workers", capacity, None),
        service_time=read_distribution(t, "service_time", Constant(0.0)),
        queue_limit=t.get("queue_limit", count, None),
        retry_after=t.get("retry_after", duration, 5.0),
        outages=tuple(outages),
    )
    t.done()
    return spec


def read_outage(o: Reader) -> Outage:
    """One outage window: ``start``, ``duration``, ``mode``."""
    outage = Outage(
        o.get("start", duration),
        o.get("duration", duration),
        o.get("mode", r.one_of(*OUTAGE_MODES), "503"),
    )
    o.done()
    return outage


def read_sweep(t: Reader) -> tuple[tuple[str, ...], dict]:
    """``[sweep]``: ``strategies`` (templates with {placeholders}) and ``grid`` (a table of
    arrays: placeholder or dotted scenario key -> values)."""
    templates = t.get("strategies", r.list_of(r.text, "strategy templates"), ())
    grid_table = t.table("grid")
    grid = {}
    for name in list(grid_table.data):
        values = grid_table.get(name, r.list_of(_scalar, "numbers or strings"))
        if not values:
            raise grid_table.error(name, "found an empty array, expected some values")
        grid[name] = list(values)
    grid_table.done()
    t.done()
    return templates, grid


def _scalar(raw: object) -> object:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise Expected("a number or a string")
    return raw
