"""Same seed, same history, bit for bit; another seed, another history."""

import dataclasses

import pytest

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


def test_a_run_leaves_the_garbage_collector_as_it_found_it():
    """The collector is off while the records are made (they hold no cycles), and only
    then: on again after a run that polls, off still where the caller had it off."""
    import gc

    s = default_scenario().with_strategies("fixed(5)", "fiddler-py")
    assert gc.isenabled()
    simulate(s)
    assert gc.isenabled()
    gc.disable()
    try:
        simulate(s)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValueError, match="method must be one of"):
        simulate(s, method="wobble")  # fails inside the polling phase
    assert gc.isenabled()
