"""Scenario files: TOML in, one validated ``Scenario`` out, or one line saying what is wrong.

>>> s = default_scenario()
>>> s.name, s.dialect, [t.name for t in s.templates]
('default', 'ordo', ['pointcloud', 'fanout'])
>>> loads('horizon = "-3m"', source="bad.toml")
Traceback (most recent call last):
...
sim._reader.ScenarioError: bad.toml: horizon: found "-3m", expected a duration of zero or more ...
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from sim import _reader as r
from sim._reader import Reader, ScenarioError
from sim.arrivals import Arrivals, Bursts, Poisson, Replay
from sim.controls import Control
from sim.dialects import DIALECTS, ORDO
from sim.distributions import Constant, Distribution
from sim.limits import MAX_DEPTH
from sim.mock_spec import MockSpec, read_faults, read_serve
from sim.pollers import ClientSpec
from sim.retry import NoRetry, RetryPolicy
from sim.sections import (
    capacity,
    duration,
    horizon,
    read_arrivals,
    read_clients,
    read_control,
    read_distribution,
    read_retry,
    read_server,
    read_sweep,
    read_template,
)
from sim.status_server import ServerSpec
from sim.templates import JobTemplate


@dataclass(frozen=True)
class Scenario:
    """Everything one run needs; every field has a default."""

    name: str = "scenario"
    description: str = ""
    seed: int = 1
    horizon: float = 7200.0  #: arrivals happen in [0, horizon)
    drain: float = math.inf  #: how long after the horizon jobs may still run
    dialect: str = ORDO.name
    arrivals: Arrivals = field(default_factory=lambda: Poisson(600 / 3600))
    bursts: Bursts = field(default_factory=lambda: Bursts(()))
    templates: tuple[JobTemplate, ...] = ()
    retry: RetryPolicy = field(default_factory=NoRetry)
    workers: int | None = None  #: None: as many as there are steps to run
    reporting_lag: Distribution = field(default_factory=lambda: Constant(0.0))
    cancel_delay: float = 2.0  #: time in cancelling, where the dialect shows it
    controls: tuple[Control, ...] = ()
    clients: ClientSpec | None = None  #: who polls the jobs; None: nobody
    server: ServerSpec = field(default_factory=ServerSpec)  #: the status API they poll
    #: what ``pollsim sweep`` runs by default: strategy templates, and a grid of values
    sweep_strategies: tuple[str, ...] = ()
    sweep_grid: dict = field(default_factory=dict)
    #: how the mock server (``pollsim serve``) behaves and the faults it injects
    mock: MockSpec = field(default_factory=MockSpec)
    source: str = "<scenario>"  #: the file it came from, for messages

    def template(self, name: str) -> JobTemplate:
        return next(t for t in self.templates if t.name == name)

    def with_strategies(self, *texts: str) -> Scenario:
        """The same scenario, each job's client drawn evenly among the strategies
        ``texts`` (the strategy language: presets, ``fixed(5) | after_delay(60)``...); the
        clients' start delay, round trip and timeout stay as they were.

        >>> s = default_scenario().with_strategies("fixed(5)", "celery-get")
        >>> s.clients.labels
        ['fixed(5)', 'celery-get']
        """
        from sim.pollers import ClientSpec
        from sim.strategies import parse_strategy

        mix = tuple((parse_strategy(t), 1.0) for t in texts)
        old = self.clients
        if old is None:
            return dataclasses.replace(self, clients=ClientSpec(mix))
        return dataclasses.replace(self, clients=dataclasses.replace(old, strategies=mix))


def read_scenario(data: dict, source: str, base: Path | None = None) -> Scenario:
    """Validate a parsed TOML document into a Scenario."""
    top = Reader(data, source)
    s: dict = dict(
        name=top.get("name", r.text, Path(source).stem if base else "scenario"),
        description=top.get("description", str, ""),
        seed=top.get("seed", r.integer(0, 2**63 - 1), 1),
        horizon=top.get("horizon", horizon, 7200.0),
        drain=top.get("drain", duration, math.inf),
        dialect=top.get("dialect", r.one_of(*DIALECTS), ORDO.name),
        cancel_delay=top.get("cancel_delay", duration, 2.0),
    )
    s["arrivals"], s["bursts"] = read_arrivals(top.table("arrivals"), base)
    workers = top.table("workers")
    s["workers"] = workers.get("capacity", capacity, None)
    workers.done()
    reporting = top.table("reporting")
    s["reporting_lag"] = read_distribution(reporting, "lag", Constant(0.0))
    reporting.done()
    s["retry"] = read_retry(top, "retry", NoRetry())
    templates = top.tables("templates")
    s["templates"] = tuple(read_template(t) for t in templates)
    if not s["templates"]:
        raise ScenarioError(source, "templates", "missing; expected at least one [[templates]]")
    s["controls"] = tuple(read_control(c) for c in top.tables("controls"))
    s["clients"] = read_clients(top.table("clients"))
    s["server"] = read_server(top.table("server"))
    s["sweep_strategies"], s["sweep_grid"] = read_sweep(top.table("sweep"))
    serve, faults = read_serve(top.table("serve")), read_faults(top.table("faults"))
    s["mock"] = dataclasses.replace(serve, faults=faults)
    top.done()
    _check_names(s, templates, source)
    return Scenario(source=source, **s)


def _check_names(s: dict, templates: list[Reader], source: str) -> None:
    names = [t.name for t in s["templates"]]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise ScenarioError(source, f"templates[{i}].name", f"found {n!r}, used twice")
    if sum(t.weight for t in s["templates"]) <= 0:
        raise ScenarioError(source, "templates", "the weights add up to 0; expected some > 0")
    refs = [("arrivals.bursts", b[2]) for b in s["bursts"].bursts]
    if isinstance(s["arrivals"], Replay):
        refs += [("arrivals.file", n) for n in s["arrivals"].templates]
    refs += [
        (f"controls[{i}].templates", n) for i, c in enumerate(s["controls"]) for n in c.templates
    ]
    for key, n in refs:
        if n is not None and n not in names:
            raise ScenarioError(
                source, key, f"found {n!r}, expected a template name (one of: {', '.join(names)})"
            )


def loads(
    text: str, source: str = "<string>", base: Path | None = None, *, defaults: bool = True
) -> Scenario:
    """A Scenario from TOML text. With ``defaults``, each top-level key or table the text
    leaves out comes from the embedded default scenario; one it gives replaces it whole."""
    data = _parse_toml(text, source)
    if defaults:
        fallback = _parse_toml(_default_text(), "<default scenario>")
        for key in ("name", "description"):
            fallback.pop(key)
        data = fallback | data
    return read_scenario(data, source, base)


def _parse_toml(text: str, source: str) -> dict:
    """The TOML document, nested at most ``MAX_DEPTH`` levels (deeper ones recurse)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", f"not valid TOML: {exc}") from None
    except RecursionError:  # the parser recurses once per level
        raise ScenarioError(source, "", f"nested too deeply; at most {MAX_DEPTH} levels") from None
    r.check_depth(data, source)
    return data


def _default_text() -> str:
    return resources.files("sim").joinpath("default.toml").read_text(encoding="utf-8")


def load_scenario(path: str | Path) -> Scenario:
    """A Scenario from a TOML file; relative paths inside it are relative to the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read the scenario: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "", "cannot read the scenario: not UTF-8 text") from None
    return loads(text, source=str(path), base=path.parent)


def default_scenario() -> Scenario:
    """The embedded default: point-cloud chains and fan-outs over two simulated hours."""
    return loads(_default_text(), source="<default scenario>", defaults=False)
