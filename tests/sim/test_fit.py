"""sim.fit recovers a strategy from its own traffic: every preset and the wait families,
from clients replayed by the simulator's own client logic (``sim.pollers.replay``)
against scripted jobs; and a client that fits no family is reported as such.

The jobs and their traffic are ``tests.sim.fit_traffic``'s.

What requests cannot show is compared as the fit can know it (``observable``): a stop
checked on waking sends the same requests as one checked before sleeping ('ahead'); a
retry's statuses are those the traffic retried (503 here), and a backoff for other
statuses (``per_http``) or a cap no retry reaches is not in it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from sim.fit import FitInputError, fit
from sim.strategies import PRESETS, Strategy, parse_strategy
from sim.strategies.stops import Stop
from tests.sim.fit_traffic import KINDS, scripts, traffic

REL = 0.05  #: parameters within 5%


def deadline(s: Strategy) -> float:
    """The longest deadline of the strategy's stop (0: none)."""
    found = [v for v in _values(s.stop) if isinstance(v, Stop) and hasattr(v, "seconds")]
    return max((float(v.seconds) for v in found), default=0.0)


def _values(x):
    yield x
    if dataclasses.is_dataclass(x):
        for f in dataclasses.fields(x):
            yield from _values(getattr(x, f.name))
    elif isinstance(x, tuple | list):
        for v in x:
            yield from _values(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from _values(v)


def fitted(strategy: Strategy, seed: int = 1, jobs: int = 200, kinds=KINDS):
    """The fit of the strategy's traffic over scripted jobs long enough to reach its
    deadline."""
    longest = max(600.0, 1.5 * deadline(strategy))
    df = traffic(strategy, scripts(jobs, seed, longest, kinds), seed + 1, 1.2 * longest)
    return fit(df)


def observable(s: Strategy, retried=(503,)) -> Strategy:
    """The strategy as requests can show it (see the module's docstring)."""

    def walk(x):
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            changes = {}
            for f in dataclasses.fields(x):
                if not f.init:
                    continue
                v = getattr(x, f.name)
                if f.name == "check" and v == "wake":
                    v = "ahead"
                changes[f.name] = walk(v)
            if type(x).__name__ == "per_http" and not set(x.on) & set(retried):
                return walk(x.default)  # a backoff for statuses the traffic never had
            if type(x).__name__ == "retries":
                changes["on"] = tuple(c for c in x.on if c in retried)
                changes["wait"] = _uncapped(dataclasses.replace(x, wait=changes["wait"]))
                # no Retry-After of 0, and no status outside ``on``, on the errors here
                for name in ("ignore_zero", "on_retry_after"):
                    if name in changes:
                        changes[name] = False
            try:
                return dataclasses.replace(x, **changes)
            except (TypeError, ValueError):
                return x
        if isinstance(x, tuple):
            return tuple(walk(v) for v in x)
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        return x

    return walk(s)


def _uncapped(r):
    """A retry wait's cap beyond any wait the retries can make (their count, or their
    time limit) is not in the traffic."""
    w = r.wait
    cap = getattr(w, "max", None)
    if cap is None or not math.isfinite(cap):
        inner = getattr(w, "inner", None)
        if inner is None or not math.isfinite(getattr(inner, "max", math.inf)):
            return w
        return dataclasses.replace(w, inner=_uncapped(dataclasses.replace(r, wait=inner)))
    reach = r.within if r.within is not None else math.inf
    if r.n is not None:
        from sim.strategies.state import PollState

        reach = min(reach, w(PollState(attempt=max(r.n - 1, 0)), None))
    return dataclasses.replace(w, max=math.inf) if cap >= reach else w


def same(a, b, path="strategy") -> list[str]:
    """Where ``a`` and ``b`` differ beyond REL (numbers), or in kind."""
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        if math.isinf(a) or math.isinf(b):
            return [] if a == b else [f"{path}: {a} != {b}"]
        return [] if abs(a - b) <= REL * max(abs(a), abs(b), 1e-9) else [f"{path}: {a} != {b}"]
    if type(a) is not type(b):
        return [f"{path}: {a!r} != {b!r}"]
    if dataclasses.is_dataclass(a):
        out = []
        for f in dataclasses.fields(a):
            if f.compare:
                out += same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
        return out
    if isinstance(a, tuple | list):
        if len(a) != len(b):
            return [f"{path}: {a!r} != {b!r}"]
        return [
            m for i, (x, y) in enumerate(zip(a, b, strict=True)) for m in same(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return [f"{path}: {a!r} != {b!r}"]
        return [m for k in a for m in same(a[k], b[k], f"{path}.{k}")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_recovered_from_its_traffic(name):
    preset = PRESETS[name]
    result = fitted(preset)
    assert result.fitted, (result.notes, result.waits)
    assert parse_strategy(result.text) == result.strategy
    assert same(observable(preset), observable(result.strategy)) == [], result.text
    # the fitted strategy replays the jobs as the client did
    assert abs(result.polls_per_job["error"]) < 0.03, result.polls_per_job


@pytest.mark.parametrize(
    "text",
    [
        "linear(2, 3, max=30)",
        "poll(exponential(1, 2, max=64), first=0)",
        "equal_jitter(exponential(2, 2, max=60))",
        "fixed(5) + uniform(0, 2)",
        "decorrelated_jitter(1, max=30)",
        "poll(retry_after(fixed(10)), first=0)",
        "poll(fixed(4), first=12)",
        # a schedule that turns into another: no one schedule runs through the waits
        "poll(for_attempts(3, fixed(1), then=fixed(10)), first=0)",
        "poll(for_attempts(4, exponential(1, 2), then=fixed(30)), first=0)",
    ],
)
def test_wait_families_are_recovered(text):
    s = parse_strategy(text)
    result = fitted(s, jobs=150)
    assert result.fitted, (result.notes, result.waits)
    assert same(observable(s), observable(result.strategy)) == [], result.text


def test_stop_after_polls_and_after_delay_told_apart_by_jitter():
    """Jittered waits spread the give-ups' times: a number of polls and a deadline are
    then no longer alike (with a fixed wait, they send the same requests)."""
    by_polls = fitted(parse_strategy("poll(full_jitter(fixed(10)), stop=after_polls(12), first=0)"))
    by_time = fitted(parse_strategy("full_jitter(fixed(10)) | after_delay(120)"))
    assert by_polls.stop == "after_polls(12)" and by_polls.stop_check is None
    assert by_time.stop == "after_delay(120)" and by_time.stop_check == "poll"


def _waits_table(waits_per_job: list[list[float]]) -> pd.DataFrame:
    rows = []
    for job, waits in enumerate(waits_per_job):
        t = np.concatenate([[0.0], np.cumsum(waits)])
        states = ["running"] * (len(t) - 1) + ["succeeded"]
        rows += [(job, float(x), 200, s, 0.0) for x, s in zip(t, states, strict=True)]
    return pd.DataFrame(rows, columns=["job_id", "t", "http_status", "state", "start"])


def test_a_bimodal_client_fits_no_family_and_shows_its_waits():
    rng = np.random.default_rng(5)
    jobs = [
        np.where(rng.random(30) < 0.5, rng.uniform(1, 2, 30), rng.uniform(10, 11, 30)).tolist()
        for _ in range(100)
    ]
    result = fit(_waits_table(jobs))
    assert not result.fitted and result.family == "none" and result.text is None
    assert any("fit no family" in n for n in result.notes)
    assert 0.9 < result.waits["p5"] < 2.1 and 9.9 < result.waits["p95"] < 11.1


def test_a_schedule_of_no_family_is_not_forced_into_one():
    schedule = [1.0, 7.0, 2.0, 9.0, 3.0, 8.0, 1.0, 7.0, 2.0, 9.0]
    result = fit(_waits_table([schedule] * 40))
    assert not result.fitted and result.family == "none"
    assert result.waits["p0"] == pytest.approx(1.0) and result.waits["p100"] == pytest.approx(9.0)


def test_a_report_of_requests_fits_with_server_times_only():
    """No client times, no watch start: the first request is taken as the start."""
    jobs = [[5.0] * (3 + k % 9) for k in range(50)]
    df = _waits_table(jobs).drop(columns=["start"])
    result = fit(df)
    assert result.text == "poll(fixed(5), first=0)" and not result.first_known


@pytest.mark.parametrize(
    ("table", "says"),
    [
        (pd.DataFrame({"job_id": [1], "t": [0.0]}), "missing column http_status"),
        (pd.DataFrame(columns=["job_id", "t", "http_status"]), "no requests"),
        (
            pd.DataFrame({"job_id": [1], "t": ["x"], "http_status": [200]}),
            "row 1: expected a number",
        ),
    ],
)
def test_bad_tables_say_what_is_wrong(table, says):
    with pytest.raises(FitInputError, match=says):
        fit(table)


@pytest.mark.parametrize(("seed", "longest"), [(2, 1800), (6, 1800), (9, 1800), (5, 900)])
def test_a_smithy_deadline_cutting_the_last_sleep_does_not_spoil_the_family(seed, longest):
    """A Smithy max_wait cuts a give-up's last sleep to end at the deadline: over a
    hundred jobs those cut waits are most of the waits at the late polls, where they
    made the family's cap unreadable ("no family", as a 101-job run of
    smithy-waiter(max_wait='10m') did); nor does a top draw that stands a little apart
    from the others by chance (seed 2), nor a first wait of exactly min=2 s under a
    fitted top of 2.02 s (seed 5)."""
    s = parse_strategy(
        "poll(full_jitter(exponential(2, 2, max=120), min=2), stop=max_wait(600), first=0)"
    )
    df = traffic(s, scripts(100, seed, longest, {}), seed + 1, 2000)
    result = fit(df)
    assert result.fitted, (result.notes, result.waits)
    assert result.outcomes["gave_up"] > 0
    assert same(observable(s), observable(result.strategy)) == [], result.text


def test_retry_after_is_reported_after_2xx_answers_and_after_errors_apart():
    """azure-lro honours a 503's Retry-After in its retries within a poll; its 200s
    carried none here: the fit says both, not "not seen" for all."""
    result = fitted(PRESETS["azure-lro"], kinds={"outage_ra": 0.4})
    assert result.retry_after_seen == {
        "after 2xx": "not seen",
        "after errors": "honoured by the retries within a poll",
    }
    assert "retry_after=True" in result.text


def test_without_states_nor_endings_no_stop_is_fitted_from_guesses():
    """Requests with no state and no gave_up cannot say which watches saw the job end:
    none is taken for a give-up, and the stop is unknown."""
    s = parse_strategy("poll(fixed(5), stop=after_polls(12), first=0)")
    df = traffic(s, scripts(60, 3, 600, {}), 4, 900)
    df = df.drop(columns=["state", "gave_up", "errored", "seen_state"])
    result = fit(df)
    assert result.fitted and result.text.startswith("poll(fixed(5)")
    assert result.outcomes["unknown"] == 60 and result.outcomes["gave_up"] == 0
    assert result.stop == "unknown" and result.polls_per_job == {}
    assert any("no stop is fitted" in n for n in result.notes)


def test_polls_per_job_on_a_sample_compares_the_samples_own_polls(monkeypatch):
    import sim.fit_predict
    from sim.fit_data import traces

    monkeypatch.setattr(sim.fit_predict, "REPLAYED", 25)
    s = parse_strategy("poll(fixed(5), stop=after_polls(12), first=0)")
    df = traffic(s, scripts(80, 3, 600, {}), 4, 900)
    p = fit(df).polls_per_job
    ended = [tr for tr in traces(df) if tr.outcome != "censored"]
    sample = [ended[i] for i in np.linspace(0, len(ended) - 1, 25).astype(int)]
    assert p["jobs"] == 25 and p["of"] == len(ended) > 25
    assert p["observed"] == pytest.approx(np.mean([tr.polls for tr in sample]))
    assert p["observed_all"] == pytest.approx(np.mean([tr.polls for tr in ended]))


@pytest.mark.parametrize(
    "text",
    [
        # a cap only the late polls of long watches reach (90 of 3,356 waits in the
        # attacker's run): not the bulk's 90th percentile
        "exponential(5, 2, max=600)",
        "exponential(2, 3, max=600)",
        # and no cap where the waits grow to the end
        "exponential(0.5, 1.3)",
        # a first poll 1 s after the start before waits of up to 600 s is no request's
        # own time: not "at once"
        "poll(exponential(2, 3, max=600), first=1)",
    ],
)
def test_long_watches_show_the_cap_and_the_first_poll(text):
    s = parse_strategy(text)
    result = fit(traffic(s, scripts(300, 1, 4000, {}), 2, 5000))
    assert result.text == text, result.notes


def test_a_watch_cut_short_by_the_requests_kept_is_still_watched_not_seen():
    """pollsim simulate --max-requests keeps some of a job's requests; polls.csv says it
    saw the end: those requests did not show it, so it was still watched."""
    from sim.fit_data import from_report

    rows = [
        (job, 5.0 * k, 200, "running" if k < 6 else "succeeded")
        for job in range(30)
        for k in range(7)
    ]
    rows += [(99, 5.0 * k, 200, "running") for k in range(10)]  # 10 kept of its 50
    requests = pd.DataFrame(rows, columns=["job_id", "t", "http_status", "state"])
    polls = pd.DataFrame(
        {
            "job_id": [*range(30), 99],
            "watch_start": 0.0,
            "polls": [7] * 30 + [50],
            "gave_up": False,
            "errored": False,
            "seen_state": "succeeded",
        }
    )
    result = fit(from_report(requests, polls))
    assert result.outcomes["censored"] == 1 and result.outcomes["seen"] == 30
    assert result.polls_per_job["observed"] == pytest.approx(7.0)


def test_a_retry_after_asking_for_the_usual_wait_is_not_taken_as_honoured():
    """A fixed(5) client met 503s with Retry-After 5: keeping to it and ignoring it send
    the same requests."""
    result = fitted(parse_strategy("fixed(5)"), kinds={"outage_ra": 0.4})
    assert result.text == "fixed(5)"
    assert result.retry_after == "not told apart"
    assert result.retry_after_seen["after errors"] == "not told apart"
    assert any("cannot be told" in n for n in result.notes)


@pytest.mark.parametrize("jobs", [2, 10])
def test_a_jitter_is_not_read_from_a_few_jobs(jobs):
    """The waits after each poll are compared across jobs: two jobs of full jitter were
    fitted as fixed(1e-09) + uniform(0, 5.3) with a first poll at 4.4 s."""
    s = parse_strategy("full_jitter(fixed(6))")
    result = fit(traffic(s, scripts(jobs, 4, 600, {}), 5, 1200))
    assert not result.fitted and result.n_waits > 0, result.text
