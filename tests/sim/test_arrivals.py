import numpy as np
import pytest

from sim import Bursts, Diurnal, NoArrivals, Poisson, Replay, loads
from sim.workload import submissions


def test_poisson_count_and_gaps():
    t = Poisson(2.0).times(50_000.0, np.random.default_rng(1))
    assert len(t) / 50_000 == pytest.approx(2.0, rel=0.02)
    gaps = np.diff(t)
    assert gaps.mean() == pytest.approx(0.5, rel=0.02)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, rel=0.03)  # exponential gaps
    assert t.min() >= 0 and t.max() < 50_000


def test_diurnal_follows_its_curve():
    d = Diurnal((1.0, 0.0, 3.0), period=300.0)  # 100 s slots
    t = d.times(30_000.0, np.random.default_rng(2))
    slot = (t % 300 // 100).astype(int)
    per_slot = np.bincount(slot, minlength=3) / (30_000 / 3)
    assert per_slot[1] == 0
    assert per_slot[0] == pytest.approx(1.0, rel=0.05)
    assert per_slot[2] == pytest.approx(3.0, rel=0.05)


def test_bursts_replay_and_none():
    assert Bursts(((5.0, 2, None), (99.0, 1, None))).times(50.0, None).tolist() == [5.0, 5.0]
    assert Replay((30.0, 10.0, 70.0)).times(60.0, None).tolist() == [10.0, 30.0]
    assert len(NoArrivals().times(100.0, None)) == 0


def test_templates_are_drawn_by_weight_and_bursts_keep_theirs():
    s = loads(
        """
        horizon = 20000
        [arrivals]
        rate = 1
        bursts = [{ at = 10, count = 50, template = "rare" }]
        [[templates]]
        name = "common"
        weight = 9
        [[templates.steps]]
        id = "a"
        duration = 1
        [[templates]]
        name = "rare"
        weight = 1
        [[templates.steps]]
        id = "a"
        duration = 1
        """
    )
    times, kinds = submissions(s, np.random.default_rng(3))
    assert np.all(np.diff(times) >= 0)
    at_burst = kinds[times == 10.0]
    assert len(at_burst) >= 50 and np.sum(at_burst == 1) >= 50
    assert np.mean(kinds[times != 10.0] == 1) == pytest.approx(0.1, abs=0.01)
