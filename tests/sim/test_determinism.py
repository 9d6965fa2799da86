"""Same seed, same history, bit for bit; another seed, another history."""

import dataclasses

from sim import default_scenario, load_scenario, simulate
from tests.sim.test_scenario import ROOT


def test_same_seed_same_state_change_log():
    s = load_scenario(ROOT / "scenarios" / "workflow_pause_cancel.toml")
    a, b = simulate(s), simulate(s)
    assert a.changes == b.changes  # floats compared exactly
    assert a.actions == b.actions
    assert a.changes_frame().equals(b.changes_frame())


def test_different_seeds_differ():
    s = default_scenario()
    a = simulate(s).changes
    b = simulate(dataclasses.replace(s, seed=s.seed + 1)).changes
    assert a != b


def test_a_progress_bar_does_not_change_the_run():
    s = dataclasses.replace(default_scenario(), horizon=1800.0)
    assert simulate(s, progress=False).changes == simulate(s, progress=True).changes
