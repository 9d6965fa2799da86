"""The ``pollsim`` command.

Each subcommand turns bad input into one line on stderr and exit status 2; nothing is
half-run. Heavy imports (pandas, matplotlib) wait until a subcommand needs them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pollsim.failing import fail as _fail

EPILOG_MAIN = """\
examples:
  pollsim simulate                               run the embedded default scenario
  pollsim simulate scenarios/publishing_retry.toml --seed 7
  pollsim simulate --horizon 12h --json          summary as JSON on stdout
  pollsim serve --speed 60                       a mock status API on 127.0.0.1:8080
  pollsim simulate --strategy google-lro --out out/g
  pollsim fit out/g                              the strategy behind a run's requests
  pollsim simulate scenarios/pointcloud.toml --assert 'p95(detection_latency) < 10s'
                                                 exit 1 when a check fails (a CI gate)

Run 'pollsim COMMAND --help' for a command's options. Exit status: 0 ok; 1 an --assert
failed (recommend: nothing meets the SLO; loadtest: also a run that went wrong); 2 bad
input; 3 fit found no strategy family that fits.
"""

EPILOG_SIMULATE = """\
examples:
  pollsim simulate
      the embedded default scenario: point-cloud chains and fan-outs for 2 h
  pollsim simulate scenarios/pointcloud.toml --seed 7 --horizon 6h
  pollsim simulate scenarios/workflow_pause_cancel.toml --out out/wf
      also writes state_changes.csv, jobs.csv, actions.csv, summary.json,
      gantt.png and states.png to out/wf
  pollsim simulate --json | jq .outcomes
  pollsim simulate --strategy ordo-js --strategy "full_jitter(fixed(6))" --out out/cmp
      polls every job with one of two strategies, drawn evenly, and reports load and
      detection latency for each; --out adds polls.csv, load.csv, requests.csv,
      latency_cdf.png and load.png

  pollsim simulate scenarios/pointcloud.toml --strategy ordo-js --strategy "fixed(5)" \\
      --client '*' --assert 'p95(detection_latency) < 10s' --assert 'gave_up == 0'
      checks each strategy after the run: a PASS/FAIL line each with the measured
      value, exit 1 when one fails (--junit FILE: the same as JUnit XML)

Durations take units: 90, "250ms", "40s", "3m", "2h", "1h30m"; in a strategy, quote
them: "after_delay('1h')".
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2, and a misspelt flag,
    command or choice gets the nearest right one ("did you mean --horizon?"; Python 3.11's
    argparse has no ``suggest_on_error``)."""

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        self._argv = list(sys.argv[1:] if args is None else args)
        ns, extras = super().parse_known_args(args, namespace)
        unknown = [a for a in extras if a.startswith("-") and len(a) > 1]
        if unknown and not getattr(self, "_is_sub", False):
            self._unknown_flag(ns, unknown[0])
        return ns, extras

    def _unknown_flag(self, ns: argparse.Namespace, flag: str) -> None:
        """Exit 2 naming the first unknown flag and the nearest flag of its command."""
        parser = self
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                parser = action.choices.get(getattr(ns, action.dest, None) or "", self)
        options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
        name = flag.split("=", 1)[0]
        parser.error(f"unknown flag {name}{suggest(name, options, cutoff=0.7)}")

    def error(self, message: str) -> None:  # type: ignore[override]
        message = _with_suggestion(message)
        if message.startswith(("the following arguments are required", "one of the arguments")):
            message = self._misspelt(message)  # --sever for --server: say that first
        message = self._single_dash(message) or self._negative(message) or message
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def _misspelt(self, message: str) -> str:
        """A missing required flag's message, led by a flag given that this command does
        not know, with the nearest it does (argparse checks what is required first)."""
        known = self._option_string_actions
        for arg in getattr(self, "_argv", []):
            name = arg.split("=", 1)[0]
            if (
                name.startswith("--")
                and name not in known
                and not any(
                    k.startswith(name)
                    for k in known  # an abbreviation argparse accepts
                )
            ):
                hint = suggest(name, [k for k in known if k.startswith("--")], cutoff=0.7)
                return f"unknown flag {name}{hint}" if hint else f"unknown flag {name} ({message})"
        return message

    def _single_dash(self, message: str) -> str | None:
        """``-horizon`` for ``--horizon`` (argparse reads it as ``-h orizon``)."""
        known = self._option_string_actions
        for arg in getattr(self, "_argv", []):
            name = arg.split("=", 1)[0]
            if len(name) > 2 and name[0] == "-" and name[1].isalpha() and "-" + name in known:
                return f"unknown flag {name}; did you mean -{name}?"
        return None

    def _negative(self, message: str) -> str | None:
        """``--slo-p95 -5s``: argparse takes ``-5s`` for a flag and says "expected one
        argument"; say what the value must be."""
        import re

        m = re.match(r"argument (\S+): expected one argument$", message)
        argv = getattr(self, "_argv", [])
        if not m:
            return None
        flag = m.group(1).split("/")[-1]
        for i, arg in enumerate(argv[:-1]):
            value = argv[i + 1]
            if arg == flag and re.match(r"-\.?\d", value):
                action = self._option_string_actions.get(flag)
                what = (
                    "a positive duration"
                    if action and action.metavar == "DURATION"
                    else ("a positive value")
                )
                return f"argument {flag}: found {value!r}: the value must be {what}"
        return None


def suggest(word: str, choices, cutoff: float = 0.6) -> str:
    """``"; did you mean X?"`` for the nearest of ``choices``, or nothing."""
    import difflib

    near = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f"; did you mean {near[0]}?" if near else ""


def _with_suggestion(message: str) -> str:
    """argparse's "invalid choice: 'simulte' (choose from ...)" with the nearest choice;
    an unknown command said as such."""
    import re

    m = re.match(r"argument (\S+): invalid choice: '(.*)' \(choose from (.*)\)$", message)
    if not m:
        return message
    what, word, listed = m.groups()
    choices = re.findall(r"'([^']*)'", listed)
    listed = ", ".join(choices)
    if what == "COMMAND":
        starts = [c for c in choices if c.startswith(word)]
        if word == "version":
            hint = "; did you mean --version?"
        elif len(starts) == 1:
            hint = f"; did you mean {starts[0]}?"
        else:
            hint = suggest(word, choices)
        return f"unknown command {word!r}{hint} (commands: {listed})"
    return message + suggest(word, choices)  # argparse's words, which people search for


def _version() -> str:
    """The installed package's version (importlib.metadata), or where it runs from source
    without being installed, that it is unknown."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pollsim")
    except PackageNotFoundError:
        return "unknown (not installed; pip install -e . records it)"


class _SubParser(_Parser):
    """A command's parser: its unknown flags are left to the top parser, which knows the
    command they were given to (argparse collects them there)."""

    _is_sub = True


def _duration(text: str) -> float:
    from sim.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def _horizon(text: str) -> float:
    """A duration of at most 31 days: how long jobs may arrive for."""
    from sim.sections import Expected, horizon

    try:
        return horizon(text)
    except Expected as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: expected {exc.what}") from None


def _share(text: str) -> float:
    """A share of jobs: 0.01 or 1%, from 0 to 1 (100%)."""
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a share of jobs from 0 to 1, or a percentage such as 1%"
        )
    return share


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if not 0 <= seed < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number from 0 to 2**63-1")
    return seed


def _command(sub, name: str, help: str, description: str, epilog: str):
    """A subcommand whose help keeps its examples' layout."""
    return sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    from sim.strategies.presets import PRESETS

    parser = _Parser(
        prog="pollsim",
        description="Design and test how clients poll asynchronous jobs: load on the status "
        "API and how late clients notice that jobs finished.",
        epilog=EPILOG_MAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-V",
        "--version",
        action="version",
        version=f"pollsim {_version()}",
        help="print the version",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_SubParser)
    sim = _command(
        sub,
        "simulate",
        "run a scenario through the job lifecycle model and summarise it",
        "Run a scenario's jobs through the SimPy lifecycle model (steps, retries, "
        "workers, cancels and pauses) and print a summary: outcomes, durations, time queued "
        "and in retry_wait, retries per job.",
        EPILOG_SIMULATE,
    )
    sim.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        help="a scenario TOML file (default: the embedded default scenario)",
    )
    sim.add_argument("--seed", type=_seed, help="override the scenario's seed")
    sim.add_argument(
        "--horizon",
        type=_horizon,
        help="override how long jobs arrive for, e.g. 6h (31 days at most)",
    )
    sim.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    sim.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write the state-change log, the job table (CSV) and plots (PNG) to DIR",
    )
    sim.add_argument(
        "--strategy",
        action="append",
        metavar="TEXT",
        help="poll every job with this strategy (repeat it to compare several, each job "
        "drawn among them); overrides the scenario's [clients] strategies. A preset name "
        f"({', '.join(PRESETS)}; smithy-waiter(max_wait='10m') takes its maximum wait) or "
        'an expression such as "poll(full_jitter(exponential(1, 1.5, max=20)), '
        "stop=after_delay('15m', check='ahead'), first=0)\"",
    )
    sim.add_argument(
        "--method",
        choices=("auto", "simpy", "direct", "fast"),
        default="auto",
        help="how clients are simulated (default auto: the vectorised fast path for "
        "open-loop strategies, a plain loop per client when the server gives no feedback, "
        "SimPy pollers otherwise), or one forced",
    )
    sim.add_argument(
        "--max-requests",
        type=int,
        default=1_000_000,
        metavar="N",
        help="with --out, keep at most N rows of the request log, whole jobs taken evenly "
        "(default 1000000)",
    )
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    from pollsim.assertions import add_assert_arguments

    add_assert_arguments(sim, noun="strategy")
    sim.set_defaults(run=cmd_simulate)
    from pollsim import sweeping

    sw = _command(
        sub,
        "sweep",
        "run a grid of strategies and parameters; one table of load and latency",
        "Run the scenario for every combination of the grid, in parallel on "
        "local processes, and print load and detection latency per strategy and point.",
        sweeping.EPILOG_SWEEP,
    )
    sweeping.add_grid_arguments(sw, _horizon)
    sw.set_defaults(run=sweeping.cmd_sweep)
    rec = _command(
        sub,
        "recommend",
        "the cheapest strategy of a grid that meets a detection-latency SLO",
        "Sweep the candidates, then pick the one with the lowest mean load "
        "(then the lowest peak) whose p95 detection latency meets the SLO and whose clients "
        "gave up on no more jobs than allowed; say why the others lost.",
        sweeping.EPILOG_RECOMMEND,
    )
    sweeping.add_grid_arguments(rec, _horizon)
    rec.add_argument(
        "--slo-p95",
        type=_duration,
        required=True,
        metavar="DURATION",
        help="the p95 detection latency to meet, e.g. 10s",
    )
    rec.add_argument(
        "--max-give-ups",
        type=_share,
        default=0.0,
        metavar="SHARE",
        help="the share of jobs clients may give up on or stop on an error, together: "
        "0.01 or 1%% (default 0)",
    )
    rec.set_defaults(run=sweeping.cmd_recommend)
    from pollsim import reporting, serving

    srv = _command(
        sub,
        "serve",
        "a mock job-status API driven by the model on a scaled clock",
        "Serve the scenario's jobs over HTTP in every dialect pollsim speaks (the banner "
        "lists each one's paths), run by the lifecycle model on a scaled clock, and record "
        "the ground truth of every client's polling.",
        serving.EPILOG_SERVE,
    )
    serving.add_serve_arguments(srv)
    srv.set_defaults(run=serving.cmd_serve)
    rep = _command(
        sub,
        "report",
        "a mock server's ground truth: load and detection latency per client",
        "Fetch the ground truth of a running mock server and print it per "
        "client: polls, wasted polls, Retry-After violations, give-ups, errored jobs, detection "
        "latency.",
        reporting.EPILOG_REPORT,
    )
    reporting.add_report_arguments(rep)
    rep.set_defaults(run=reporting.cmd_report)
    from pollsim import loadtesting

    lt = _command(
        sub,
        "loadtest",
        "a Locust swarm of strategy-driven pollers against the mock server",
        "Start the mock server on a free loopback port, run a Locust swarm of "
        "pollers (a user class per strategy) against it, stop both, and write Locust's "
        "CSV and HTML, the server's ground truth and a summary per strategy.",
        loadtesting.EPILOG_LOADTEST,
    )
    loadtesting.add_loadtest_arguments(lt, _duration)
    lt.set_defaults(run=loadtesting.cmd_loadtest)
    from pollsim import comparing

    cmp = _command(
        sub,
        "compare",
        "the model's prediction beside a live load test of the same jobs",
        "Run the scenario through the model, then the same jobs live: the mock server's "
        "background jobs, each watched by a Locust client with the strategy the model drew "
        "for it, from when the model's client started. Prints per strategy, predicted and "
        "measured: mean and peak requests per second at the server, polls per job, "
        "detection latency p50/p95, give-ups and errored jobs, with the relative error of each.",
        comparing.EPILOG_COMPARE,
    )
    comparing.add_compare_arguments(cmp)
    cmp.set_defaults(run=comparing.cmd_compare)
    from pollsim import fitting

    fit = _command(
        sub,
        "fit",
        "infer a client's polling strategy from its requests",
        "Read one client's requests (a mock server's request log, or a simulation's "
        "report) and infer its strategy: the first poll, the wait family and jitter with "
        "their parameters, per-status waits, Retry-After, what it does on errors and when "
        "it gives up. Prints the strategy's text form, which 'pollsim simulate --strategy' "
        "takes, and how well it fits.",
        fitting.EPILOG_FIT,
    )
    fitting.add_fit_arguments(fit)
    fit.set_defaults(run=fitting.cmd_fit)
    return parser


def cmd_simulate(args: argparse.Namespace) -> int:
    from pollsim.assertions import AssertionSyntax, parse_all
    from sim import ScenarioError, default_scenario, load_scenario, simulate, summarize
    from sim.limits import LimitError
    from sim.pollers import StuckPoller
    from sim.polling import MethodError

    try:
        checks = parse_all(args)
    except AssertionSyntax as exc:
        return _fail(str(exc))
    try:
        scenario = load_scenario(args.scenario) if args.scenario else default_scenario()
    except ScenarioError as exc:
        return _fail(str(exc))
    if args.seed is not None:
        scenario = dataclasses.replace(scenario, seed=args.seed)
    if args.horizon is not None:
        scenario = dataclasses.replace(scenario, horizon=args.horizon)
    if args.strategy:
        try:
            scenario = with_strategies(scenario, args.strategy)
        except ValueError as exc:
            return _fail(f"--strategy: {exc}")
    if args.max_requests < 0:
        return _fail(f"--max-requests: found {args.max_requests}, expected a count >= 0")
    if (checks or args.clients) and (problem := _gate_problem(scenario, args.clients)):
        return _fail(problem)
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        return _fail(f"{args.out}: --out must name a directory, and this is a file")
    try:
        run = simulate(scenario, progress=None if not args.quiet else False, method=args.method)
    except ScenarioError as exc:  # a run past the bounds of sim.limits
        return _fail(str(exc))
    except StuckPoller as exc:
        return _fail(f"{strategy_origin(args.strategy, scenario, exc.label)}: {exc}")
    except LimitError as exc:
        return _fail(f"{scenario.source}: {exc}")
    except MethodError as exc:  # a forced fast path that cannot apply
        return _fail(f"--method {args.method}: {exc}")
    summary = summarize(run)
    shown = sys.stderr if args.junit == "-" else sys.stdout  # stdout: the JUnit XML alone
    if args.json:
        print(json.dumps(summary, indent=2), file=shown)
    else:
        from pollsim.summary_text import format_summary

        print(format_summary(summary), file=shown)
    if args.out is not None:
        from pollsim.outputs import write_outputs

        try:
            written = write_outputs(run, summary, args.out, max_requests=args.max_requests)
        except OSError as exc:
            return _fail(f"{args.out}: cannot write the outputs: {exc.strerror}")
        print(f"wrote {', '.join(p.name for p in written)} to {args.out}", file=sys.stderr)
    if not checks and args.junit is None:
        return 0  # (with --junit: an empty suite, which a CI system expects to find)
    from pollsim.assertions import Measures, gate

    out = sys.stderr if args.json else sys.stdout  # --json: stdout holds the JSON alone
    return gate(checks, Measures.from_simulation(run), args, out=out)


def _gate_problem(scenario, clients: list[str]) -> str | None:
    """Before the run: why --assert/--client cannot be answered (no clients poll; a
    --client that is none of the scenario's strategy labels)."""
    if scenario.clients is None or not scenario.clients.strategies:
        return (
            f"{scenario.source}: --assert/--client: the scenario has no clients, so nothing "
            "polls; give --strategy or a [clients] section"
        )
    labels = [s.label for s, _ in scenario.clients.strategies]
    for c in clients:
        if c != "*" and c not in labels:
            return (
                f"--client {c!r}: no such strategy in the run (strategies: "
                f"{', '.join(labels)}){suggest(c, labels)}"
            )
    return None


def strategy_origin(texts: list[str] | None, scenario, label: str) -> str:
    """Where the user wrote the strategy ``label``: a ``--strategy`` or the scenario."""
    from sim.strategies import parse_strategy

    for text in texts or ():
        if parse_strategy(text).label == label:
            return f"--strategy {text!r}"
    return f"{scenario.source}: clients"


def with_strategies(scenario, texts: list[str]):
    """The scenario with its clients polling per ``texts``, equally weighted."""
    from sim.pollers import ClientSpec
    from sim.strategies import parse_strategy

    mix = tuple((parse_strategy(t), 1.0) for t in texts)
    old = scenario.clients
    clients = ClientSpec(mix) if old is None else dataclasses.replace(old, strategies=mix)
    return dataclasses.replace(scenario, clients=clients)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("pollsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug of ours: one line, the traceback on request
        if os.environ.get("POLLSIM_DEBUG"):
            raise
        print(
            f"pollsim: internal error: {type(exc).__name__}: {exc} "
            "(run again with POLLSIM_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
