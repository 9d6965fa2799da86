"""The CLI's hints for near misses (a single dash, a command's prefix, a misspelt
required flag, a negative duration, a percentage), -V, and the --help epilog's examples
that run as written."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest

from pollsim.cli import EPILOG_MAIN, main


def usage_error(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize(
    "argv, said",
    [
        (["simulate", "-horizon", "60"], "unknown flag -horizon; did you mean --horizon?"),
        (["rec"], "unknown command 'rec'; did you mean recommend?"),
        (["version"], "did you mean --version?"),
        (["report", "--sever", "http://127.0.0.1:9"], "did you mean --server? (see"),
        (["recommend", "--slo-p95", "-5s"], "found '-5s': the value must be a positive duration"),
        (["recommend", "--slo-p95", "5s", "--max-give-ups", "1x"], "a percentage such as 1%"),
    ],
)
def test_a_near_miss_gets_one_line_with_the_right_spelling(capsys, argv, said):
    err = usage_error(capsys, *argv)
    assert said in err
    assert "arguments are required" not in err


def test_max_give_ups_takes_a_percentage(monkeypatch):
    import pollsim.sweeping

    seen = {}
    monkeypatch.setattr(pollsim.sweeping, "cmd_recommend", lambda a: seen.setdefault("v", 0))
    from pollsim.cli import build_parser

    args = build_parser().parse_args(["recommend", "--slo-p95", "5s", "--max-give-ups", "1%"])
    assert args.max_give_ups == pytest.approx(0.01)


def test_dash_v_prints_the_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["-V"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("pollsim ")


def test_the_epilogs_simulate_then_fit_example_runs_as_written(tmp_path):
    commands = [
        shlex.split(line.strip().split("  ")[0])
        for line in EPILOG_MAIN.splitlines()
        if re.match(r"\s+pollsim (fit|simulate --strategy)", line)
    ]
    fit = [c for c in commands if c[1] == "fit"]
    assert fit, "the epilog shows pollsim fit"
    out = fit[0][2]
    (simulate,) = [c for c in commands if c[1] == "simulate" and out in c]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    for argv in (simulate, fit[0]):
        done = subprocess.run(
            [sys.executable, "-m", *argv], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, (argv, done.stderr[-500:])
