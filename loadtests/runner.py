"""``pollsim loadtest``: the mock server on a free loopback port, a Locust swarm against
it (headless unless asked for the web UI), both watched and stopped whatever happens,
and the outputs in one folder: the children's output in ``server.log`` and
``locust.log``, Locust's files, the ground truth as it stood when the swarm stopped, the
summary and its report, marked partial where the run was cut short. Locust runs in a
process of its own (it patches the standard library with gevent); so does the server.
The tokens reach both through the environment, never the command line. The users speak
the plan's dialect as the one tenant the server is given, whose name is the project of
a dialect's paths that name one. While the swarm runs, a display (``loadtests.progress``)
shows how far it has got, from a file the Locust process writes once a second.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from loadtests.failures import MAX_FAILURES, idle, verdict
from loadtests.live import request_names
from loadtests.parameters import parameters
from loadtests.processes import (
    Ending,
    child,
    health,
    simulated_now,
    start_server,
    stop,
    terminable,
    watch,
)
from loadtests.progress import TAB, Display
from loadtests.run_support import (
    admin_report,
    cpu_seconds,
    fetch_journal,
    free_port,
    merge_jobs,
    saturation,
)
from loadtests.summary import summarise, users_path
from loadtests.swarm import swarm_file as _swarm_file
from sim.dialects import ORDO, get_dialect
from sim.durations import parse_duration
from sim.strategies import parse_strategy

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
TENANT = "loadtest"  #: the swarm's tenant: its token's, and its project where a path names one
PROGRESS = "progress.json"  #: the file of the swarm's progress, in the run's folder
JOURNAL = "requests.json"  #: the server's request journal, where the plan asks for it


@dataclass
class Plan:
    scenario: str | None
    strategies: list[str]
    users: int = 20
    spawn_rate: float = 10
    duration: str = "1m"
    speed: float = 60
    out: Path = Path("out/loadtest")
    dialect: str = ORDO.name
    template: str = ""
    job_duration: str = ""
    outcome: str = ""
    ui: bool = False
    seed: int = 1
    workers: int = 0  #: Locust worker processes under a master (0: one local process)
    max_failures: float = MAX_FAILURES  #: share of submissions or polls that may fail
    #: the seed of the server's scenario, from which a dialect's shown ids may derive
    #: (None: read from the scenario)
    server_seed: int | None = None
    web_port: int = 0  #: the web UI's port, with ``ui`` (0: a free one)
    journal: bool = False  #: keep the server's request journal (``requests.json``)


def scenario_seed(path: str | None) -> int:
    """The seed of the scenario the server will run (the default scenario's if none);
    RuntimeError, in one line, for a scenario that cannot be read."""
    from sim.scenario import ScenarioError, default_scenario, load_scenario

    try:
        return (load_scenario(path) if path else default_scenario()).seed
    except ScenarioError as exc:
        raise RuntimeError(str(exc)) from None


def swarm_file(plan: Plan) -> str:
    """A locustfile with a user class per strategy, named after it, equal weights."""
    labels = [parse_strategy(text).label for text in plan.strategies]
    return _swarm_file(labels, plan.strategies)


def web_ui(plan: Plan) -> str | None:
    """The web UI's address, where the plan asks for it."""
    return f"http://127.0.0.1:{plan.web_port}/" if plan.ui else None


def locust_args(plan: Plan, url: str, port: int) -> tuple[list[str], list[str]]:
    """The Locust master's (or lone process's) command line, and a worker's. No token
    here: it goes in the environment (``POLLSIM_TOKEN``), out of ``ps``."""
    base = [sys.executable, "-m", "locust", "-f", str(plan.out / "swarm.py")]
    common = ["--dialect", plan.dialect, "--tenant", TENANT, "--seed", str(plan.seed)]
    if plan.server_seed is not None:  # else the locustfile's default, the default scenario's
        common += ["--server-seed", str(plan.server_seed)]
    common += ["--pollsim-csv", str(plan.out / "jobs.csv")]
    for flag, value in (
        ("--template", plan.template),
        ("--job-duration", plan.job_duration),
        ("--outcome", plan.outcome),
    ):
        if value:
            common.append(f"{flag}={value}")  # a value may begin with "-"
    args = [*base, *common, "--host", url, "-u", str(plan.users), "-r", str(plan.spawn_rate)]
    args += ["-t", plan.duration, "--csv", str(plan.out / "locust")]
    args += ["--html", str(plan.out / "locust.html")]
    args += ["--json-file", str(plan.out / "locust_stats"), "--only-summary"]
    args += ["--pollsim-progress", str(plan.out / PROGRESS)]
    if plan.ui:
        args += ["--web-host", "127.0.0.1", "--web-port", str(plan.web_port)]
        args += ["--autostart", "--autoquit", "5"]
    else:
        args += ["--headless"]
    worker = [*base, *common, "--worker", "--master-host", "127.0.0.1"]
    worker += ["--master-port", str(port)]
    if plan.workers:
        args += ["--master", "--master-bind-host", "127.0.0.1"]
        args += ["--master-bind-port", str(port), "--expect-workers", str(plan.workers)]
    return args, worker


@dataclass
class Measured:
    """What a run measured: its ground truth (None where the server could not give it),
    how the swarm ended, and how busy the server was."""

    report: dict | None
    ending: Ending
    server_busy: float
    until: float | None = None  #: simulated seconds when the swarm stopped


def run(plan: Plan, display: Display | None = None) -> dict:
    """Run the plan; the outputs go to ``plan.out``; returns the summary per strategy,
    with ``problem`` (one line) where the run went wrong or failed beyond the limit, and
    the run's ``parameters``. ``display`` shows the swarm's progress as it runs (none:
    a quiet run)."""
    started = datetime.now(UTC)
    plan = replace(plan, out=plan.out.resolve())  # Locust runs in it: no relative paths
    if plan.server_seed is None:
        plan = replace(plan, server_seed=scenario_seed(plan.scenario))
    if plan.ui and not plan.web_port:
        plan = replace(plan, web_port=free_port())
    plan.out.mkdir(parents=True, exist_ok=True)
    (plan.out / "swarm.py").write_text(swarm_file(plan))
    if display is None:
        display = Display(plan.out / PROGRESS, run_seconds(plan), io.StringIO(), live=False)
    display.path = plan.out / PROGRESS
    measured = _measure(plan, display)
    merge_jobs(plan.out / "jobs.csv")
    merge_jobs(users_path(plan.out / "jobs.csv"))
    if measured.report is not None:
        (plan.out / "truth.json").write_text(json.dumps(measured.report, indent=2))
    names = request_names(get_dialect(plan.dialect), TENANT)
    summary = summarise(plan.out, measured.report, names)
    summary["server"]["until_s"] = measured.until
    summary["warnings"] = saturation(plan.out / "locust.log", measured.server_busy)
    problem = measured.ending.problem
    if problem is None and measured.report is not None:
        problem = verdict(summary["failures"], plan.max_failures)
        summary["failures"]["over_limit"] = problem is not None
        problem = problem or idle(plan.out, summary["failures"])
    summary["partial"] = measured.ending.problem is not None
    summary["problem"] = problem
    summary["parameters"] = parameters(plan, started)
    summary["wall_s"] = round(measured.ending.wall_s, 3)
    from loadtests.report import write

    write(plan.out, summary)
    (plan.out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def run_seconds(plan: Plan) -> float:
    """The swarm's run time asked for, wall seconds."""
    return parse_duration(plan.duration)


def _measure(plan: Plan, display: Display) -> Measured:
    """Server and swarm, watched to the end and both stopped whatever happens (a
    SIGTERM to pollsim included); the display closed with the swarm's last figures."""
    for name in ("locust.log", PROGRESS, JOURNAL):
        (plan.out / name).unlink(missing_ok=True)
    children: list[subprocess.Popen] = []
    with terminable():
        try:
            return _run_children(plan, children, display)
        finally:
            for proc in reversed(children):  # workers, Locust, then the server
                stop(proc)
            for pid_file in plan.out.glob("*.pid"):
                pid_file.unlink()


def _ticker(plan: Plan, display: Display):
    """What the watch calls after each look: the display, and once Locust is up (its
    first progress file), where its web UI is, if it has one."""
    ui = web_ui(plan)

    def tick(elapsed: float) -> None:
        nonlocal ui
        if ui and (plan.out / PROGRESS).exists():
            display.note(f"Locust's web UI: {ui} (the Polling tab: {ui}?tab={TAB})")
            ui = None
        display(elapsed)

    return tick


def _ended_early(plan: Plan, ending: Ending) -> None:
    """A headless swarm that ended by itself before its run time was up was stopped from
    outside (Locust ends on SIGTERM as on its own, exit status 0): a problem, said."""
    asked = run_seconds(plan)
    if ending.problem is None and not plan.ui and ending.wall_s < asked:
        ending.problem = (
            f"Locust ended {ending.wall_s:.1f} s into a run of {asked:g} s (stopped from "
            "outside?), which was cut short there"
        )


def _run_children(plan: Plan, children: list[subprocess.Popen], display: Display) -> Measured:
    """Start the server and the swarm (each put in ``children`` as it starts), watch
    them, stop the swarm and take the ground truth as it stood then."""
    out = plan.out
    token, admin = secrets.token_hex(12), secrets.token_hex(12)
    secrets_env = {"POLLSIM_TOKENS": f"{TENANT}={token}", "POLLSIM_ADMIN_TOKEN": admin}
    server, url = start_server(plan.scenario, ["--speed", str(plan.speed)], out, secrets_env)
    children.append(server)
    args, worker = locust_args(plan, url, free_port())
    env = {**os.environ, "POLLSIM_TOKEN": token}
    cpu0, wall0 = cpu_seconds(server.pid), time.monotonic()
    locust = child(args, out / "locust.log", out / "locust.pid", cwd=out, env=env)
    children.append(locust)
    for i in range(plan.workers):
        pid_file = out / f"locust-worker-{i + 1}.pid"
        children.append(child(worker, out / "locust.log", pid_file, cwd=out, env=env))
    try:
        ending = watch(locust, server, url, tick=_ticker(plan, display))
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop the swarm, keep what it measured
        seconds = time.monotonic() - wall0
        what = f"interrupted {seconds:.1f} s into the run, which was stopped there"
        ending = Ending(what, server.poll() is None, seconds)
    _ended_early(plan, ending)
    busy = max(0.0, cpu_seconds(server.pid) - cpu0) / max(time.monotonic() - wall0, 1e-9)
    doc = health(url) if ending.server_alive else None
    if doc is None and ending.problem is None:
        ending.problem = "the mock server did not answer /healthz as the swarm ended"
    until = simulated_now(doc) if doc else None
    for proc in children[1:]:
        stop(proc, signal.SIGINT)  # what it measured so far, to its files
    display.close(ending.wall_s)
    if ending.problem is None and not (out / "locust_stats.csv").exists():
        raise RuntimeError(f"locust wrote no results; see {out / 'locust.log'}")
    truth = _truth(url, admin, until, ending)
    if truth is not None and plan.journal:
        fetch_journal(url, admin, out / JOURNAL)
    return Measured(truth, ending, busy, until)


def _truth(url: str, admin: str, until: float | None, ending: Ending) -> dict | None:
    """The ground truth as it stood at ``until``; None (and a problem) if not given."""
    if until is None:
        return None
    try:
        return admin_report(url, admin, until)
    except (OSError, ValueError) as exc:
        ending.problem = ending.problem or f"the mock server gave no report: {exc}"
        return None
