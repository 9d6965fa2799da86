"""The pollsim command as users run it: a real process, its output and exit status."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pollsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pollsim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_simulate_runs_the_default_scenario_and_prints_a_summary():
    r = pollsim("simulate", "--quiet")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "default (<default scenario>), seed 1, dialect ordo, 80 workers" in out
    for label in ("succeeded", "failed", "partial", "duration", "queued", "in retry_wait"):
        assert label in out
    assert "retries per job: mean" in out


def test_json_summary_has_the_numbers_and_the_overrides():
    r = pollsim("simulate", "--json", "--seed", "5", "--horizon", "30m")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["seed"] == 5 and s["horizon_s"] == 1800
    assert (
        s["jobs"]["submitted"]
        == sum(o["jobs"] for o in s["outcomes"].values()) + s["jobs"]["unfinished"]
    )
    assert 200 < s["jobs"]["submitted"] < 400  # 600/h for half an hour
    assert s["duration_s"]["p50"] <= s["duration_s"]["p95"] <= s["duration_s"]["max"]


def test_the_same_seed_prints_the_same_summary():
    a = pollsim("simulate", "--json", "--horizon", "20m")
    b = pollsim("simulate", "--json", "--horizon", "20m")
    c = pollsim("simulate", "--json", "--horizon", "20m", "--seed", "2")
    assert a.stdout == b.stdout
    assert a.stdout != c.stdout


def test_out_writes_tables_and_plots(tmp_path):
    import pandas as pd

    out = tmp_path / "run"
    r = pollsim("simulate", "scenarios/workflow_pause_cancel.toml", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    changes = pd.read_csv(out / "state_changes.csv")
    jobs = pd.read_csv(out / "jobs.csv")
    assert list(changes.columns) == [
        "job_id",
        "step_id",
        "from_state",
        "to_state",
        "t",
        "t_visible",
        "attempt",
    ]
    assert set(jobs["state"]) >= {"succeeded", "cancelled"}
    assert (changes["t_visible"] >= changes["t"]).all()
    actions = pd.read_csv(out / "actions.csv")
    assert set(actions["action"]) == {"pause", "resume", "cancel"}
    for png in ("gantt.png", "states.png"):
        data = (out / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert json.loads((out / "summary.json").read_text())["scenario"] == "workflow_pause_cancel"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "nope.toml"], "pollsim: nope.toml: cannot read the scenario"),
        (["simulate", "--horizon", "soon"], "argument --horizon: 'soon': expected a number"),
        (["simulate", "--seed", "x"], "argument --seed: 'x': expected a whole number from 0"),
        (["simulate", "--seed", "-1"], "argument --seed: '-1': expected a whole number from 0"),
        (
            ["simulate", "--horizon", "32d"],
            "--horizon: '32d': expected a duration of at most 31 days",
        ),
        (["simulate", "--frobnicate"], "unknown flag --frobnicate (see"),
        (["smiulate"], "unknown command 'smiulate'; did you mean simulate?"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(args, message):
    r = pollsim(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr


def test_a_bad_scenario_file_is_one_line(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text(
        '[[templates]]\nname = "t"\n[[templates.steps]]\nid = "a"\nduration = "1m"\n'
        "p_transient = 2\n"
    )
    r = pollsim("simulate", str(f))
    assert r.returncode == 2
    assert r.stderr == (
        f"pollsim: {f}: templates[0].steps[0].p_transient: found 2, "
        "expected a probability in [0, 1]\n"
    )
    assert r.stdout == ""


def test_out_must_be_a_directory(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = pollsim("simulate", "--out", str(f))
    assert r.returncode == 2 and "--out must name a directory" in r.stderr


@pytest.mark.parametrize("args", [["--help"], ["simulate", "--help"]])
def test_help_explains_with_examples(args):
    r = pollsim(*args)
    assert r.returncode == 0
    assert "examples:" in r.stdout and "pollsim simulate" in r.stdout


def test_the_readme_shows_what_simulate_prints():
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```\npollsim simulate: default") + 4
    shown = readme[start : readme.index("```", start)]
    assert pollsim("simulate", "--quiet").stdout == shown


ONE_STEP = '[[templates]]\nname = "t"\n[[templates.steps]]\nid = "a"\nduration = "1m"\n'
CYCLE = (
    '[[templates]]\nname = "t"\n[[templates.steps]]\nid = "a"\nduration = 1\n'
    'depends_on = ["b"]\n[[templates.steps]]\nid = "b"\nduration = 1\ndepends_on = ["a"]\n'
)


@pytest.mark.parametrize(
    ("text", "key", "said"),
    [
        ("seeed = 3\n", "seeed", "unknown key; did you mean 'seed'?"),
        ('[workers]\ncapacity = "many"\n', "workers.capacity", 'found "many", expected a whole'),
        ('horizon = "-2h"\n', "horizon", 'found "-2h", expected a duration of zero or more'),
        (CYCLE, "templates[0].steps", "steps form a cycle: "),
        (ONE_STEP + 'depends_on = ["x"]\n', "templates[0].steps[0].depends_on", "found 'x'"),
        (ONE_STEP + "p_error = 1.01\n", "templates[0].steps[0].p_error", "found 1.01, expected"),
    ],
    ids=["unknown-key", "wrong-type", "negative-duration", "cycle", "missing-step", "probability"],
)
def test_each_kind_of_bad_scenario_is_refused_with_one_line(tmp_path, text, key, said):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    r = pollsim("simulate", str(f))
    assert r.returncode == 2
    assert r.stderr.startswith(f"pollsim: {f}: {key}: ")
    assert said in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stdout == ""  # nothing half-run


def test_a_run_with_no_jobs_still_summarises_and_plots(tmp_path):
    r = pollsim("simulate", "--horizon", "0", "--out", str(tmp_path), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "0 jobs submitted" in r.stdout
    assert (tmp_path / "states.png").stat().st_size > 1000


def test_strategies_on_the_command_line_report_load_and_latency_per_strategy(tmp_path):
    r = pollsim(
        "simulate",
        "--horizon",
        "30m",
        "--json",
        "--strategy",
        "ordo-js",
        "--strategy",
        "fiddler-py",
        "--out",
        str(tmp_path),
        "--max-requests",
        "10",
    )
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert set(s["strategies"]) == {"ordo-js", "fiddler-py"}
    for m in s["strategies"].values():
        for key in ("requests_per_second", "detection_latency_s", "polls_per_job"):
            assert key in m
        assert m["requests_per_second"]["mean"] > 0
        assert {"gave_up", "false_give_ups", "retry_after_violations"} <= set(m)
    ordo, fiddler = s["strategies"]["ordo-js"], s["strategies"]["fiddler-py"]
    assert ordo["detection_latency_s"]["p50"] < fiddler["detection_latency_s"]["p50"]
    assert ordo["method"] == "fast" and fiddler["method"] == "direct"
    import pandas as pd

    assert len(pd.read_csv(tmp_path / "requests.csv")) == 10
    load = pd.read_csv(tmp_path / "load.csv")
    assert load["requests"].sum() == s["server"]["requests"]
    for png in ("latency_cdf.png", "load.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--strategy", "fixd(3)"],
            "pollsim: --strategy: strategy 'fixd(3)': at column 1: unknown",
        ),
        (["--strategy", "fixed(-1)"], "seconds must be a number >= 0, found -1"),
        (["--strategy", "fiddler-py", "--method", "fast"], "no fast path for strategy fiddler-py"),
        (["--max-requests", "-1"], "--max-requests: found -1"),
    ],
)
def test_bad_strategy_input_is_one_line(args, message):
    r = pollsim("simulate", "--horizon", "5m", *args)
    assert r.returncode == 2
    assert message in r.stderr and r.stderr.count("\n") == 1


def test_sweep_and_recommend_from_the_command_line(tmp_path):
    common = ["--strategy", "fixed({t})", "--grid", "t=2,10", "--horizon", "30m", "--quiet"]
    r = pollsim("sweep", *common, "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "fixed(2)" in r.stdout and "fixed(10)" in r.stdout
    assert (tmp_path / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    import pandas as pd

    table = pd.read_csv(tmp_path / "sweep.csv")
    assert len(table) == 2
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "sweep.parquet"), table, check_dtype=False
    )
    r = pollsim("recommend", *common, "--slo-p95", "8s")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("recommended: fixed(2) (t=2)")
    r = pollsim("recommend", *common, "--slo-p95", "100ms")
    assert r.returncode == 1  # an answer (nothing meets the SLO), not bad input (2)
    assert (
        "nothing meets p95 <= 100ms" in r.stderr and "the fastest candidate, fixed(2)" in r.stderr
    )
    r = pollsim("sweep", "--strategy", "fixed({t})", "--grid", "tt=1")
    assert r.returncode == 2 and "grid parameter 'tt' is neither" in r.stderr
    assert r.stderr.count("\n") == 1


# --- values that escaped validation: in process, one line and exit status 2 -----------

STEP = '[[templates]]\nname = "t"\n[[templates.steps]]\nid = "a"\n'


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    """``pollsim`` in this process: exit status, stdout, stderr."""
    from pollsim.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("toml", "strategy", "message"),
    [
        (STEP, None, "templates[0].steps[0].duration: missing; this key is required"),
        (
            "horizon = 9223372036854775807\n" + STEP + "duration = 1\n",
            None,
            "horizon: found 9223372036854775807, expected a duration of at most 31 days",
        ),
        (STEP + "duration = 1e300\n", None, "found 1e+300, expected a duration of at most 10"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", None, "nested too deeply; at most 32 levels"),
        (None, "fixed('99999999999h')", "expected a duration of at most 10 years"),
        (None, "fixed(" + "9" * 400 + ")", "seconds must be at most 10 years"),
        (None, "fixed(1e308)", "seconds must be at most 10 years (315360000 s), found 1e+308"),
        (None, " + ".join(["fixed(1)"] * 3000), "characters; at most 4000"),
        (None, " | ".join(["fixed(1)"] * 100), "too many terms; at most 64"),
        (None, "|".join(["fixed(1)"] + ["after_polls(3)"] * 100), "too many terms; at most 64"),
    ],
)
def test_values_that_escaped_validation_are_one_line(capsys, tmp_path, toml, strategy, message):
    args = ["simulate", "--quiet", "--horizon", "2m"]
    if toml is not None:
        (tmp_path / "s.toml").write_text(toml)
        args.insert(1, str(tmp_path / "s.toml"))
    if strategy is not None:
        args += ["--strategy", strategy]
    code, out, err = run_main(capsys, *args)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1, err
    assert "--method" not in err and "Warning" not in err and "internal error" not in err


def test_a_stuck_poller_names_the_strategy_as_the_user_wrote_it(capsys, tmp_path, monkeypatch):
    from sim import limits

    monkeypatch.setattr(limits, "MAX_POLLS", 2_000)
    (tmp_path / "s.toml").write_text('[clients]\nstrategy = "fixed(0)"\nrtt = 0\n')
    code, _, err = run_main(capsys, "simulate", str(tmp_path / "s.toml"), "--horizon", "2m")
    assert code == 2 and err.startswith(
        f"pollsim: {tmp_path / 's.toml'}: clients: strategy fixed(0)"
    )
    code, _, err = run_main(
        capsys, "simulate", str(tmp_path / "s.toml"), "--strategy", "fixed('0s')", "--quiet"
    )
    assert code == 2 and err.startswith("pollsim: --strategy \"fixed('0s')\": strategy fixed(0)")
    assert "more than 2,000 times" in err and err.count("\n") == 1


def test_a_backoff_from_zero_runs(capsys):
    # exponential(0, 2) waited inf after 1,024 polls: an OverflowError in the run
    args = ("simulate", "--quiet", "--horizon", "2m", "--strategy", "exponential(0, 2)")
    code, out, _ = run_main(capsys, *args)
    assert code == 0 and "exponential(0, 2)" in out


def test_plain_numbers_are_seconds_on_the_command_line(capsys):
    code, out, _ = run_main(capsys, "simulate", "--quiet", "--json", "--horizon", "600")
    assert code == 0 and json.loads(out)["horizon_s"] == 600


def test_a_sweep_starts_at_most_64_processes(capsys):
    # --workers 1000000 forked a million processes
    args = ("sweep", "--strategy", "fixed({t})", "--grid", "t=1", "--workers", "1000000")
    code, _, err = run_main(capsys, *args)
    assert code == 2 and err == "pollsim: --workers: found 1000000, expected 1 to 64\n"
