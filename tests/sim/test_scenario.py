"""Scenario files: defaults, the examples, and one clear line for each kind of mistake."""

import math
from pathlib import Path

import pytest

from sim import (
    Diurnal,
    ExponentialRetry,
    LogNormal,
    Poisson,
    Replay,
    ScenarioError,
    ScheduleRetry,
    default_scenario,
    load_scenario,
    loads,
    simulate,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "scenarios").glob("*.toml"))

STEP = """
[[templates]]
name = "t"
[[templates.steps]]
id = "a"
duration = "1m"
"""


def error_of(text: str) -> str:
    with pytest.raises(ScenarioError) as exc:
        loads(text, source="bad.toml")
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_the_default_scenario_is_complete():
    s = default_scenario()
    assert s.horizon == 7200 and s.workers == 80
    assert isinstance(s.arrivals, Poisson) and s.arrivals.rate == pytest.approx(600 / 3600)
    assert isinstance(s.retry, ExponentialRetry)
    chain = s.template("pointcloud")
    assert chain.order == ("reproject", "build_ept")
    assert isinstance(chain.steps[0].duration, LogNormal)
    fan = s.template("fanout")
    assert set(fan.dependants[fan.step_index("split")]) == {1, 2, 3}


def test_an_empty_file_is_the_default_scenario():
    s = loads("", source="empty.toml")
    d = default_scenario()
    assert (s.templates, s.horizon, s.workers, s.retry) == (
        d.templates,
        d.horizon,
        d.workers,
        d.retry,
    )


def test_a_table_in_a_file_replaces_the_defaults_table_whole():
    s = loads('[retry]\nkind = "schedule"\nschedule = ["10m", "20m"]\n' + STEP)
    assert s.retry == ScheduleRetry((600.0, 1200.0))
    assert [t.name for t in s.templates] == ["t"]
    assert s.workers == 80  # not mentioned: from the default


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_scenario_loads_and_runs(path):
    s = load_scenario(path)
    assert s.description
    run = simulate(s)
    jobs = run.jobs_frame()
    assert len(jobs) > 10
    assert (jobs["state"] != "queued").all()


def test_the_publishing_example_has_the_documented_schedules():
    s = load_scenario(ROOT / "scenarios" / "publishing_retry.toml")
    process = s.template("publish").steps[1].retry
    assert sum(process.waits) / 60 == 310 and process.max_attempts == 6
    create = s.template("publish").steps[0].retry
    assert create.max_attempts == 10 and sum(create.waits) / 60 == pytest.approx(20)


def test_replay_reads_timestamps_relative_to_the_first_and_keeps_templates():
    s = load_scenario(ROOT / "scenarios" / "replay.toml")
    assert isinstance(s.arrivals, Replay)
    assert s.arrivals.submit[:12] == (0.0,) * 12
    assert s.arrivals.templates[0] == "fanout"
    assert s.bursts.bursts == ((1800.0, 20, "fanout"),)


def test_diurnal_rates_per_hour():
    s = load_scenario(ROOT / "scenarios" / "diurnal.toml")
    assert isinstance(s.arrivals, Diurnal)
    assert s.arrivals.rate_at(9.5 * 3600) == pytest.approx(1000 / 3600)


def test_drain_defaults_to_running_until_every_job_ends():
    assert math.isinf(loads(STEP).drain)


# --- one line per mistake, naming file, key, what was found and what was expected --------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoziron = 5\n" + STEP, "bad.toml: hoziron: unknown key; did you mean 'horizon'?"),
        (
            "[arrivals]\nrat = 1\n" + STEP,
            "bad.toml: arrivals.rat: unknown key; did you mean 'rate'?",
        ),
        ('seed = "one"\n' + STEP, 'bad.toml: seed: found "one", expected a whole number from 0'),
        ("horizon = true\n" + STEP, "bad.toml: horizon: found true, expected a number of seconds"),
        ('horizon = "-5m"\n' + STEP, 'bad.toml: horizon: found "-5m", expected a duration of zero'),
        (
            STEP.replace('"1m"', '"-1m"'),
            'bad.toml: templates[0].steps[0].duration: found "-1m", expected a duration of zero',
        ),
        (
            STEP + "p_transient = 1.5\n",
            "bad.toml: templates[0].steps[0].p_transient: found 1.5, "
            "expected a probability in [0, 1]",
        ),
        (
            STEP + "p_permanent = -0.1\n",
            "bad.toml: templates[0].steps[0].p_permanent: found -0.1, expected a probability",
        ),
        (
            STEP + "p_permanent = 0.6\np_transient = 0.6\n",
            "templates[0].steps[0].p_transient: "
            "p_transient + p_permanent + p_error must be at most 1",
        ),
        (
            STEP + 'depends_on = ["b"]\n'
            '[[templates.steps]]\nid = "b"\nduration = 1\ndepends_on = ["a"]\n',
            "bad.toml: templates[0].steps: steps form a cycle: ",
        ),
        (
            STEP + 'depends_on = ["nope"]\n',
            "bad.toml: templates[0].steps[0].depends_on: found 'nope', expected the id of a step "
            "of this template (one of: a)",
        ),
        ('dialect = "soap"\n' + STEP, 'bad.toml: dialect: found "soap", expected one of "ordo"'),
        (
            STEP.replace('"1m"', '{ dist = "lognormal", median = "5m", p95 = "1m" }'),
            "templates[0].steps[0].duration: lognormal needs 0 < median <= p95",
        ),
        (
            STEP.replace('"1m"', '{ dist = "gamma", k = 2 }'),
            'templates[0].steps[0].duration.dist: found "gamma", expected one of "constant"',
        ),
        (
            "[workers]\ncapacity = 0\n" + STEP,
            "bad.toml: workers.capacity: found 0, expected a whole",
        ),
        (
            '[retry]\nkind = "schedule"\nschedule = "10m"\n' + STEP,
            'retry.schedule: found "10m", expected an array',
        ),
        (
            '[[templates]]\nname = "t"\n',
            "bad.toml: templates[0].steps: a template needs at least one step",
        ),
        ("templates = []\n", "bad.toml: templates: missing; expected at least one [[templates]]"),
        (
            STEP + '[[controls]]\naction = "explode"\nafter = 1\n',
            'controls[0].action: found "explode"',
        ),
        (
            STEP + '[[controls]]\naction = "cancel"\n',
            "controls[0].action: a control needs exactly one of",
        ),
        (
            '[arrivals]\nbursts = [{ at = 5, count = 2, template = "x" }]\n' + STEP,
            "arrivals.bursts: found 'x', expected a template name",
        ),
        ("horizon = [\n", "bad.toml: not valid TOML: "),
    ],
)
def test_mistakes_are_one_clear_line(text, expected):
    assert expected in error_of(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # each of these passed validation, then failed inside the run
        (
            '[[templates]]\nname = "t"\n[[templates.steps]]\nid = "a"\n',
            "bad.toml: templates[0].steps[0].duration: missing; this key is required",
        ),
        (
            "horizon = 9223372036854775807\n" + STEP,
            "bad.toml: horizon: found 9223372036854775807, expected a duration of at most 31 days",
        ),
        ('horizon = "32d"\n' + STEP, 'horizon: found "32d", expected a duration of at most 31'),
        (
            STEP.replace('"1m"', "1e300"),
            "templates[0].steps[0].duration: found 1e+300, expected a duration of at most 10 years",
        ),
        (STEP.replace('"1m"', '"20"'), None),  # a plain number as text is seconds
        ("x = " + "[" * 5000 + "]" * 5000 + "\n" + STEP, "bad.toml: nested too deeply; at most 32"),
        ("x = " + "[" * 40 + "]" * 40 + "\n" + STEP, "bad.toml: x: nested too deeply; at most 32"),
        ("x = " + "{a = " * 40 + "1" + "}" * 40 + "\n" + STEP, "nested too deeply; at most 32"),
        (
            "[arrivals]\nbursts = [{ at = 5, count = 99999999999 }]\n" + STEP,
            "arrivals.bursts[0].count: found 99999999999, "
            "expected a whole number from 1 to 1,000,000",
        ),
        ("[workers]\ncapacity = 10000000\n" + STEP, 'from 1 to 1,000,000, or "unlimited"'),
        (
            '[retry]\nkind = "exponential"\nbase = 1\nmultiplier = 1e300\n' + STEP,
            "retry.multiplier: found 1e+300, expected a number from 1 to 1,000",
        ),
        ('[retry]\nkind = "fixed"\ndelay = 1\nmax_attempts = 5000\n' + STEP, "from 1 to 1,000"),
        (
            '[[templates]]\nname = "t"\n' + '[[templates.steps]]\nid = "a"\nduration = 1\n' * 257,
            "templates[0].steps: found 257 tables, expected at most 256",
        ),
        (
            '[arrivals]\nkind = "diurnal"\nrates = ' + str([1] * 100_001) + "\n" + STEP,
            "expected an array of at most 100,000 rates (found 100,001)",
        ),
        ("[templates.x]\n", "bad.toml: templates: found a table, expected an array of tables"),
        # found by the property test: a file name holding a line break made two lines
        (
            '[arrivals]\nkind = "replay"\nfile = "a\\nb.csv"\n' + STEP,
            "bad.toml: arrivals.file: cannot read a\\nb.csv: No such file",
        ),
    ],
)
def test_values_that_escaped_validation_are_one_line(text, expected):
    if expected is None:
        assert loads(text).templates[0].steps[0].duration.mean == 20
        return
    assert expected in error_of(text)


def test_a_replay_file_that_is_not_text_names_it(tmp_path):
    (tmp_path / "log.csv").write_bytes(b"submit\n\xff\xfe10\n")
    (tmp_path / "tz.csv").write_text("submit\n2024-01-01T00:00:00Z\n2024-01-01T00:00:05\n")
    for name, why in (("log.csv", "not UTF-8 text"), ("tz.csv", "with and without a time zone")):
        f = tmp_path / "s.toml"
        f.write_text(f'[arrivals]\nkind = "replay"\nfile = "{name}"\n')
        with pytest.raises(ScenarioError, match=why):
            load_scenario(f)


def test_a_missing_replay_file_names_it(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[arrivals]\nkind = "replay"\nfile = "nope.csv"\n')
    with pytest.raises(ScenarioError, match=r"s.toml: arrivals.file: cannot read .*nope.csv"):
        load_scenario(f)


def test_a_bad_replay_row_names_its_line(tmp_path):
    (tmp_path / "log.csv").write_text("submit\n10\n20\nsoon\n")
    f = tmp_path / "s.toml"
    f.write_text('[arrivals]\nkind = "replay"\nfile = "log.csv"\n')
    with pytest.raises(ScenarioError, match=r"log.csv:4: submit: found 'soon', expected seconds"):
        load_scenario(f)


def test_a_sweep_table_in_a_scenario_file():
    s = load_scenario(ROOT / "scenarios" / "pointcloud.toml")
    assert s.sweep_strategies[0] == "fixed({interval})"
    assert s.sweep_grid == {"interval": [2, 5, 10, 30]}
    with pytest.raises(ScenarioError, match=r"sweep.grid.t: found an empty array"):
        loads("[sweep]\ngrid = { t = [] }\n")


def test_the_readmes_scenario_reference_is_a_valid_scenario():
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```toml\n") + len("```toml\n")
    s = loads(readme[start : readme.index("```", start)], source="README.md")
    assert s.clients is not None and s.server.outages and s.sweep_grid
