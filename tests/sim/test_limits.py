"""The bounds of sim.limits hold in a run: one guard for stuck pollers whatever simulates
them, no poll past the simulated span, and runs too large refused before they start."""

import dataclasses

import pytest

from sim import ScenarioError, limits, loads, simulate
from sim.pollers import SpanError, StuckPoller, TooManyPolls
from tests.sim.test_pollers import scenario

OUTAGE = "[server]\n[[server.outages]]\nstart = 10\nduration = 60\n"


@pytest.fixture
def few_polls(monkeypatch):
    """A bound of 3,000 polls a job, so that a stuck poller is caught in milliseconds."""
    monkeypatch.setattr(limits, "MAX_POLLS", 3_000)


@pytest.mark.parametrize(
    ("strategy", "extra", "method"),
    [
        ("fixed(0)", "", "fast"),  # one schedule for all, drawn a block at a time
        ("fixed(0) + fixed(0)", "", "fast"),
        ("linear(0, 0)", "", "fast"),  # one schedule, attempt by attempt
        ("full_jitter(fixed(0))", "", "fast"),  # jittered: the compiled loop
        ("per_status(fixed(0))", "", "direct"),  # needs the answers: a loop per client
        ("fixed(0)", "", "simpy"),
        ("fixed(0)", OUTAGE, "simpy"),  # the server gives feedback
    ],
)
def test_one_guard_for_a_poller_stuck_in_zero_time(few_polls, strategy, extra, method):
    text = scenario("30", strategy, rate=0.05, horizon=200) + extra
    with pytest.raises(StuckPoller) as exc:
        simulate(loads(text), method=method)
    assert exc.value.label == strategy
    assert str(exc.value) == (
        f"strategy {exc.value.label} would poll one job more than 3,000 times (a wait of 0 "
        "with no round trip polls in a loop that takes no time): give it a longer wait or a "
        "stop, or the clients a round trip (clients.rtt > 0)"
    )


def test_as_many_polls_as_the_bound_allows_still_run(few_polls):
    # 20 s jobs polled every 10 ms: 2,000 polls each, under the bound of 3,000
    run = simulate(loads(scenario("20", "fixed(0.01)", rate=0.05, horizon=200)))
    assert run.polling.jobs_frame()["polls"].max() == 2000


def test_jobs_that_run_past_the_span_are_refused_with_clients():
    s = loads(scenario('"40d"', "fixed(60)", rate=0.01, horizon=300))
    with pytest.raises(SpanError, match="the jobs run past 31 days of simulated time"):
        simulate(s)
    lifecycle_only = dataclasses.replace(s, clients=None)
    assert simulate(lifecycle_only).end > 40 * 86400  # without clients: no per-second load


@pytest.mark.parametrize(
    "strategy",
    [
        "exponential(1, 1000)",  # one schedule: 1 s, 1000 s, 11.6 d, then 10 years
        "full_jitter(exponential(1, 1000))",  # the compiled loop
        "per_status(exponential(1, 1000))",  # the direct loop
    ],
)
def test_polls_past_the_span_are_refused_not_counted(strategy):
    # a poll 10 years on grew the per-second counts to 2.5 GB (or to inf: a MemoryError)
    text = scenario('"12d"', strategy, rate=0.05, horizon=100)
    with pytest.raises(SpanError, match="polls past 31 days"):
        simulate(loads(text))


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        ('[arrivals]\nrate = "2000/s"\n', "arrivals.rate", "14,400,000 jobs expected over"),
        (
            "[arrivals]\nbursts = [{ at = 1, count = 900000 }, { at = 2, count = 900000 }]\n",
            "arrivals.rate",
            "at most 1,000,000 a run",
        ),
        (
            '[arrivals]\nkind = "diurnal"\nperiod = "1ms"\nrates = [1, 2]\n',
            "arrivals.period",
            "cuts the horizon into 14,400,000 slots",
        ),
        (
            '[arrivals]\nrate = "100/s"\n[retry]\nkind = "fixed"\ndelay = 1\nmax_attempts = 1000\n',
            "templates",
            "step attempts expected",
        ),
    ],
)
def test_a_valid_scenario_too_large_to_run_is_refused_before_it_starts(extra, key, message):
    step = '[[templates]]\nname = "t"\n[[templates.steps]]\nid = "a"\nduration = 1\n'
    if "max_attempts" in extra:
        step += "p_transient = 0.999\n"
    s = loads('horizon = "2h"\n' + extra + step, source="big.toml")
    with pytest.raises(ScenarioError, match=message) as exc:
        simulate(s)
    assert exc.value.source == "big.toml" and exc.value.key == key


@pytest.mark.parametrize(
    ("strategy", "extra"), [("per_status(fixed(1))", ""), ("fixed(1)", OUTAGE)]
)
def test_polls_simulated_one_by_one_have_a_budget_for_the_run(monkeypatch, strategy, extra):
    # 40 jobs of 100 s polled every second: about 4,000 polls, each one in Python
    monkeypatch.setattr(limits, "MAX_SLOW_POLLS", 1_000)
    text = scenario("100", strategy, rate=0.2, horizon=200) + extra
    with pytest.raises(TooManyPolls, match="more than 1,000 polls simulated one by one"):
        simulate(loads(text))
    monkeypatch.setattr(limits, "MAX_SLOW_POLLS", 100_000)
    assert simulate(loads(text)).polling.jobs_frame()["polls"].sum() > 1_000


@pytest.mark.parametrize("strategy", ["fixed(5)", "per_status(fixed(5))"])
def test_a_run_with_clients_and_no_job_at_all(strategy):
    # found by the property test: no job, and a strategy that needs the answers, was
    # "No objects to concatenate"
    run = simulate(loads(scenario("10", strategy, rate=0, horizon=100)))
    assert run.polling.jobs_frame().empty


@pytest.mark.parametrize("strategy", ["fixed(2)", "linear(1, 0.5)", "full_jitter(fixed(4))"])
def test_the_fast_path_counts_its_polls_against_a_budget(monkeypatch, strategy):
    text = scenario("100", strategy, rate=0.2, horizon=200)
    run = simulate(loads(text))
    assert run.polling.methods[strategy] == "fast"
    total = int(run.polling.jobs_frame()["polls"].sum())
    monkeypatch.setattr(limits, "MAX_FAST_POLLS", total)  # exactly enough
    assert simulate(loads(text)).polling.jobs_frame()["polls"].sum() == total
    monkeypatch.setattr(limits, "MAX_FAST_POLLS", total - 1)
    with pytest.raises(TooManyPolls, match=f"more than {total - 1:,} polls: fewer jobs"):
        simulate(loads(text))
