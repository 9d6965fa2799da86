"""schemathesis against a real ``pollsim serve`` on loopback, from its ``/openapi.json``:
every check (``--checks all``) in the examples, coverage, fuzzing and stateful phases,
once with a tenant's token and once with the admin token.

    python benchmarks/fuzz_server.py [--examples 200] [--seconds 840] [--seed 1] [--out DIR]

Three schemathesis runs against one server: the tenant's (every operation), the admin's
(every operation but ``PUT /_admin/faults``), then the admin's on ``/_admin/faults``
alone, last, since the faults it sets would break the status requests of any run after
it. ``--examples`` is schemathesis' ``--max-examples`` (per operation and phase); the
runs share ``--seconds`` of wall time, a run past it is stopped and counted as far as it
got. Prints the cases tried and the failures per phase and check, one example of each,
and exits 1 on any failure. The server's log, each run's output and its NDJSON events
are kept in ``--out``.
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QA = ROOT / "scenarios" / "mock_qa.toml"
TENANT, ADMIN = "fuzz-tenant-token", "fuzz-admin-token"
PROJECT = "alpha"  #: the tenant of TENANT
PHASES = ("examples", "coverage", "fuzzing", "stateful")
#: the server as fuzzed: short long-polls, so that a case holding one costs a second
SERVE = '\n[serve]\nlong_poll_max = "250ms"\n'
#: a path's ``{project}`` is the tenant's name: the tenant token's, so that the
#: submissions there make jobs (any other name is answered 403 or 404). Cross-field rules
#: of the faults body JSON Schema cannot state (probabilities adding up to at most 1,
#: uniform low <= high): the document says them in words, and a 422 to a body of the
#: right shape that breaks them is the right answer
CONFIG = f"""\
[parameters]
"path.project" = "{PROJECT}"

[[operations]]
include-name = "PUT /_admin/faults"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "422"]
"""


@dataclass(frozen=True)
class Run:
    name: str
    token: str
    select: tuple[str, ...] = ()  #: schemathesis' operation filters


RUNS = (
    Run("tenant", TENANT),
    Run("admin", ADMIN, ("--exclude-name", "PUT /_admin/faults")),
    Run("admin-faults", ADMIN, ("--include-path", "/_admin/faults")),
)


@dataclass
class Tally:
    """What one run tried and what failed, per phase and check."""

    cases: Counter = field(default_factory=Counter)  #: phase -> cases
    failures: Counter = field(default_factory=Counter)  #: (phase, check) -> cases
    examples: dict = field(default_factory=dict)  #: (phase, check) -> one, as text
    errors: list = field(default_factory=list)  #: schemathesis' own errors
    complete: bool = False


def start_server(out: Path, speed: float = 20.0) -> tuple[subprocess.Popen, str]:
    """``pollsim serve`` on a free loopback port, its log in ``out``; with its URL."""
    scenario = out / "scenario.toml"
    scenario.write_text(QA.read_text() + SERVE)
    args = [sys.executable, "-m", "pollsim", "serve", str(scenario), "--port", "0"]
    args += ["--speed", str(speed), "--token", f"{PROJECT}={TENANT}", "--admin-token", ADMIN]
    log = (out / "server.log").open("w")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT)
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}; see {out / 'server.log'}")
    return proc, line.split("listening on ")[1].strip()


#: schemathesis' command line, without its steering towards inputs an operation accepts:
#: Hypothesis' hill climbing on that score did not end (minutes at 100% CPU in the fuzzing
#: of an action endpoint, once the coverage phase had made jobs to act on)
ST = """import sys
from schemathesis.generation import metrics
metrics.maximize = lambda *args, **kwargs: None
from schemathesis.cli import schemathesis
sys.argv[0] = "st"
sys.exit(schemathesis())
"""


def command(url: str, run: Run, examples: int, seed: int, out: Path) -> list[str]:
    """The ``st run`` of one run: every check and phase, one worker (schemathesis'
    threads trip a CPython 3.11 bug in ``ast``), its events in ``out``."""
    return [
        sys.executable,
        "-c",
        ST,
        "--config-file",
        str(out / "schemathesis.toml"),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {run.token}",
        "--checks",
        "all",
        "--phases",
        ",".join(PHASES),
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(out / f"{run.name}.ndjson"),
        *run.select,
    ]


def fuzz(
    url: str, examples: int, seed: int, seconds: float, out: Path, runs: tuple[Run, ...] = RUNS
) -> dict[str, Tally]:
    """Each run in turn, within ``seconds`` in all; what each tried and found."""
    (out / "schemathesis.toml").write_text(CONFIG)
    deadline = time.monotonic() + seconds
    tallies = {}
    for run in runs:
        left = deadline - time.monotonic()
        if left <= 1:
            tallies[run.name] = Tally()
            continue
        with (out / f"{run.name}.txt").open("w") as log:
            try:
                cmd = command(url, run, examples, seed, out)
                subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=left, cwd=out)
            except subprocess.TimeoutExpired:
                pass  # counted as far as it got
        tallies[run.name] = tally(out / f"{run.name}.ndjson")
    return tallies


def tally(events: Path) -> Tally:
    """Cases per phase and failures per phase and check, from a run's NDJSON events."""
    t = Tally()
    if not events.exists():
        return t
    for line in events.read_text().splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line of a run stopped at the time bound
        if "EngineFinished" in event:
            t.complete = True
        if "NonFatalError" in event or "FatalError" in event:
            value = next(iter(event.values())).get("value", {})
            t.errors.append(f"{value.get('type')}: {value.get('message')}")
        done = event.get("ScenarioFinished")
        if done:
            _count(t, done["recorder"])
    return t


def _count(t: Tally, recorder: dict) -> None:
    for case_id, case in recorder.get("cases", {}).items():
        phase = case["value"]["meta"]["phase"]["name"]
        t.cases[phase] += 1
        for check in recorder.get("checks", {}).get(case_id, []):
            if check["status"] != "failure":
                continue
            key = (phase, check["name"])
            t.failures[key] += 1
            if key not in t.examples:
                t.examples[key] = _example(recorder, case_id, check)


def _example(recorder: dict, case_id: str, check: dict) -> str:
    """One failing case as a request, its answer and what the check said."""
    said = check.get("failure_info", {}).get("failure", {})
    message = said.get("title", "") + ": " + said.get("message", "").split("\n")[0]
    seen = recorder.get("interactions", {}).get(case_id) or {}
    request, response = seen.get("request", {}), seen.get("response") or {}
    body = _text(request.get("body"))
    answer = _text(response.get("content"))
    return (
        f"{request.get('method')} {request.get('uri')}"
        + (f" {body[:200]}" if body else "")
        + f" -> {response.get('status_code')} {answer[:200]}\n      {message}"
    )


def _text(raw: object) -> str:
    if isinstance(raw, dict) and "$base64" in raw:
        return base64.b64decode(raw["$base64"]).decode("utf-8", "replace")
    return "" if raw is None else str(raw)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as resp:
            return resp.status == 200
    except OSError:
        return False


def server_errors(url: str) -> int | None:
    """The server's own 500s (bugs, not injected faults), from ``/metrics``."""
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    lines = [x for x in text.splitlines() if x.startswith("pollsim_server_errors_total")]
    return int(sum(float(x.rsplit(" ", 1)[1]) for x in lines)) if lines else None


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def show(tallies: dict[str, Tally]) -> str:
    lines = []
    total = sum(sum(t.cases.values()) for t in tallies.values())
    failed = sum(sum(t.failures.values()) for t in tallies.values())
    for name, t in tallies.items():
        phases = ", ".join(f"{p} {t.cases[p]}" for p in PHASES)
        state = "" if t.complete else " (stopped at the time bound)"
        lines.append(f"{name}: {sum(t.cases.values())} cases ({phases}){state}")
        for (phase, check), n in sorted(t.failures.items()):
            lines.append(f"  FAIL {phase}/{check}: {n}\n    {t.examples[(phase, check)]}")
        lines += [f"  schemathesis error: {e}" for e in t.errors]
    lines.append(f"in all: {total} cases, {failed} failing")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", type=_at_least(1, int), default=200, help="per operation")
    p.add_argument("--seconds", type=_at_least(1, float), default=840.0, help="of all runs")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--runs", default=",".join(r.name for r in RUNS), help="which runs")
    p.add_argument("--out", type=Path, help="where to keep logs (default: a temporary folder)")
    args = p.parse_args(argv)
    unknown = set(args.runs.split(",")) - {r.name for r in RUNS}
    if unknown:
        p.error(
            f"--runs: unknown {', '.join(sorted(unknown))}; "
            f"expected some of {p.get_default('runs')}"
        )
    out = args.out or Path(tempfile.mkdtemp(prefix="fuzz-server-"))
    out.mkdir(parents=True, exist_ok=True)
    proc, url = start_server(out)
    try:
        started = time.monotonic()
        runs = tuple(r for r in RUNS if r.name in args.runs.split(","))
        tallies = fuzz(url, args.examples, args.seed, args.seconds, out, runs)
        up, bugs, rss = healthy(url), server_errors(url), rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    print(show(tallies))
    print(
        f"{time.monotonic() - started:.0f} s; the server answered /healthz after: {up}, "
        f"its own 500s: {bugs}, RSS {rss:.0f} MiB; logs in {out}"
    )
    failed = any(t.failures or t.errors or not t.cases for t in tallies.values())
    return 1 if failed or not up or bugs else 0


def _at_least(low: float, kind: type):
    """An argparse type: a number of ``kind`` from ``low`` up (finite)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not low <= value < float("inf"):
            raise argparse.ArgumentTypeError(f"expected a number >= {low:g}, found {text!r}")
        return value

    return parse


if __name__ == "__main__":
    sys.exit(main())
