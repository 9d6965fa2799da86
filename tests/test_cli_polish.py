"""The command line's manners: --version, the nearest flag or command for a misspelt one,
help examples that name files which exist, the strategy error that says to quote a
duration, the sweep table's columns, and simulate's gate (exit 0, 1, 2)."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest

from pollsim.cli import build_parser, main
from sim.strategies import parse_strategy
from sim.strategies.text import StrategyError

ROOT = Path(__file__).resolve().parents[1]
POLLSIM = [sys.executable, "-m", "pollsim"]


def run(*argv: str) -> tuple[int, str, str]:
    """``pollsim argv`` in this process: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_version_is_the_installed_package_version():
    code, out, _ = run("--version")
    assert code == 0 and out == f"pollsim {version('pollsim')}\n"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["simulate", "--horizn", "1h"], "unknown flag --horizn; did you mean --horizon?"),
        (["simulate", "--horizn=1h"], "unknown flag --horizn; did you mean --horizon?"),
        (["sweep", "--gird", "t=1"], "unknown flag --gird; did you mean --grid?"),
        (["report", "--server", "x", "--asert", "a"], "did you mean --assert?"),
        (["simulate", "--frobnicate"], "pollsim simulate: error: unknown flag --frobnicate (see"),
        (["simulte"], "unknown command 'simulte'; did you mean simulate?"),
        (["reccomend"], "did you mean recommend?"),
        (["--verison"], "unknown flag --verison; did you mean --version?"),
        (
            ["report", "--sever", "http://127.0.0.1:9"],
            "unknown flag --sever; did you mean --server? (see",
        ),
        (["simulate", "--method", "fst"], "invalid choice: 'fst' (choose from 'auto', "),
        (["simulate", "--method", "fst"], "'fast'); did you mean fast?"),
    ],
)
def test_a_misspelt_flag_command_or_choice_gets_the_nearest_one(argv, said):
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    assert said in err and err.count("\n") == 1, err


def _helps() -> dict[str, str]:
    """Every help text: the top one and each command's."""
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {"pollsim": parser.format_help()} | {
        f"pollsim {name}": p.format_help() for name, p in sub.choices.items()
    }


#: paths of the repository that a help example may name as input
_REPO_PATH = re.compile(r"(?<![\w/.-])((?:scenarios|loadtests|notebooks|docs|benchmarks)/[\w./-]+)")


def test_every_file_a_help_example_names_exists():
    named = {}
    for where, text in _helps().items():
        for path in _REPO_PATH.findall(text):
            named.setdefault(path.rstrip(".,)"), where)
    assert "scenarios/publishing_retry.toml" in named  # the search finds what it should
    missing = {p: where for p, where in named.items() if not (ROOT / p).exists()}
    assert not missing, f"help examples name files that do not exist: {missing}"


def test_the_help_examples_of_the_gate_parse():
    """The --assert examples in help texts read with the grammar they document."""
    from pollsim.assertions import parse_assertion

    found = [a for text in _helps().values() for a in re.findall(r"--assert '([^']+)'", text)]
    assert found
    for text in found:
        parse_assertion(text)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "fixed(5) | after_delay(1h)",
            "at column 24: after_delay(1h): quote a duration with a unit: after_delay('1h')",
        ),
        ("fixed(250ms)", "fixed(250ms): quote a duration with a unit: fixed('250ms')"),
        (
            "poll(exponential(1, 2, max=1h30m), first=0)",
            "exponential(1, 2, max=1h30m): quote a duration with a unit: "
            "exponential(1, 2, max='1h30m')",
        ),
        (
            "after_delay(10 m)",
            "after_delay(10 m): quote a duration with a unit: after_delay('10m')",
        ),
        (
            "fixed(5) | after_delay(1 h 30 m)",
            "after_delay(1 h 30 m): quote a duration with a unit: after_delay('1h30m')",
        ),
    ],
)
def test_an_unquoted_duration_is_said_to_need_quotes(text, said):
    with pytest.raises(StrategyError) as err:
        parse_strategy(text)
    assert said in str(err.value) and "invalid decimal literal" not in str(err.value)


def test_a_duration_inside_quotes_is_not_taken_for_an_unquoted_one():
    with pytest.raises(StrategyError) as err:
        parse_strategy("after_delay('1h 30m') | fixed(5")
    assert "quote a duration" not in str(err.value) and "never closed" in str(err.value)
    assert parse_strategy("fixed(5) | after_delay('1h')") == parse_strategy(
        "fixed(5) | after_delay(3600)"
    )


def test_the_sweep_table_sizes_its_columns_to_their_contents():
    from pollsim.sweeping import _format

    table = pd.DataFrame(
        {
            "t": [2, 10],
            "server.workers": ["unlimited", 8],
            "strategy": ["fixed(2)", "full_jitter(exponential(1, 1.5, max=10))"],
            "template": ["fixed({t})", "full_jitter(exponential(1, 1.5, max={t}))"],
            "load_mean": [14.5, 1234.567],
            "load_max": [43, 12345],
            "latency_p50": [2.0, float("nan")],
            "latency_p95": [2.9, 10.7],
            "gave_up_share": [0.0, 0.123],
            "errored_share": [0.0, 0.0],
        }
    )
    lines = _format(table).splitlines()
    titles, rows = lines[1], lines[2:]
    assert len(rows) == 2
    for title in ("server.workers", "mean", "max", "p95", "errored"):  # right-aligned
        end = titles.index(title) + len(title)
        for row in rows:
            assert row[end - 1] != " " and (end == len(row) or row[end] == " "), (title, row)
    start = titles.index("strategy")  # left-aligned
    assert [r[start:].split("  ")[0] for r in rows] == list(table["strategy"])


def test_simulate_gates_per_strategy_with_junit_and_exit_1(tmp_path):
    junit = tmp_path / "sim.xml"
    base = ["simulate", "--horizon", "5m", "--quiet", "--seed", "3"]
    strategies = ["--strategy", "fixed(2)", "--strategy", "fixed(30) | after_polls(2)"]
    code, out, err = run(
        *base,
        *strategies,
        "--assert",
        "gave_up == 0",
        "--assert",
        "p95(detection_latency) < 10s",
        "--client",
        "*",
        "--junit",
        str(junit),
    )
    assert code == 1, err
    lines = [line for line in out.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert len(lines) == 4
    assert any(
        line.startswith("PASS gave_up == 0: measured 0 (strategy fixed(2), ") for line in lines
    )
    assert any(line.startswith("FAIL gave_up == 0: measured ") for line in lines)
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("tests") == "4" and int(suite.get("failures")) >= 1
    code, out, _ = run(*base, "--strategy", "fixed(2)", "--assert", "gave_up == 0", "--json")
    assert code == 0 and out.lstrip().startswith("{")  # --json: the JSON alone on stdout


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--assert", "p95(detection_latency) < 10 parsecs"], "expected a unit (s, ms, m, h)"),
        (["--strategy", "fixed(2)", "--client", "fixed(3)"], "no such strategy in the run"),
        (["--assert", "gave_up == 0", "--junit", "/nonexistent-folder/x.xml"], "does not exist"),
    ],
)
def test_simulate_refuses_what_it_cannot_gate_before_running(argv, said):
    code, out, err = run("simulate", "--horizon", "5m", "--quiet", *argv)
    assert code == 2 and said in err and err.count("\n") == 1 and "PASS" not in out


def test_a_scenario_without_clients_cannot_be_gated():
    import dataclasses

    from pollsim.cli import _gate_problem
    from sim import default_scenario

    nobody = dataclasses.replace(default_scenario(), clients=None)
    assert "has no clients, so nothing polls" in _gate_problem(nobody, [])
    assert _gate_problem(default_scenario(), ["*"]) is None


GATE = ["--strategy", "fixed(1)", "--assert", "max(polls) < 1"]


def test_python_dash_m_pollsim_exits_with_the_gate_status():
    """Through a real process: the exit status a CI system sees."""
    r = subprocess.run(
        [*POLLSIM, "simulate", "--horizon", "2m", "--quiet", *GATE],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 1 and "FAIL max(polls) < 1: measured " in r.stdout


def _gate_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Gating a build: assertions and exit codes")
    return readme[start : readme.index("\n## ", start + 1)]


def test_the_readme_gate_section_lists_every_metric_and_its_asserts_parse():
    from pollsim.assertions import METRICS, AssertionSyntax, parse_assertion

    section = _gate_section()
    listed = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    assert listed == list(METRICS)
    asserts = re.findall(r"--assert '([^']+)'", section)
    assert len(asserts) >= 5
    (refused,) = re.findall(r"`(--assert '[^`]*\.\.\.; did you mean [^`]*)`", section)
    for text in asserts:
        if f"--assert '{text}'" in refused:  # the example of a refusal: as the README says
            with pytest.raises(AssertionSyntax) as err:
                parse_assertion(text)
            head, tail = refused.split(" ...")
            assert str(err.value).startswith(head) and str(err.value).endswith(tail)
        else:
            parse_assertion(text)


def test_the_readme_gate_example_prints_what_the_readme_shows(tmp_path):
    import shlex

    section = _gate_section()
    command = re.search(r"```sh\n(pollsim simulate .*?)\n```", section, flags=re.S).group(1)
    argv = shlex.split(command.replace("\\\n", " "))[1:]
    argv[argv.index("--junit") + 1] = str(tmp_path / "sim.xml")
    shown = re.search(r"```text\n(.*?)\n```", section, flags=re.S).group(1).splitlines()
    code, out, err = run(*argv, "--quiet")
    assert code == 1, err
    assert [line for line in out.splitlines() if line.startswith(("PASS", "FAIL"))] == shown
    assert (tmp_path / "sim.xml").exists()
