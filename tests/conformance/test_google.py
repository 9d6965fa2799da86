"""google-api-core 2.44.0's ``Operation.result()`` (a GAPIC REST operations client's
future, google's defaults throughout), run unchanged on a fake clock over every harness
Script. Its waits are jittered (``random.uniform`` in ``exponential_sleep_generator``,
seeded here), so what is pinned is what holds on every draw; the preset is compared
with it in distribution."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy import stats

from sim.pollers import replay
from sim.strategies.presets import PRESETS
from tests.conformance import google_api_core_runner as google
from tests.conformance.harness import BY_NAME, SCRIPTS
from tests.conformance.library_run import ENDED, ERRORED, GAVE_UP

NO_ERRORS = [s.name for s in SCRIPTS if not s.faults]
SEEDS = range(20)


@pytest.mark.live
@pytest.mark.parametrize("name", ["ends after 95 s", "503 for 60 s"])
def test_real_http_on_loopback_gives_what_the_transport_adapter_gives(name):
    """The adapter on the transport's session stands for the socket faithfully."""
    script = BY_NAME[name]
    assert google.run_loopback(script, seed=7) == google.run(script, seed=7)


@pytest.mark.parametrize("name", NO_ERRORS)
def test_the_api_request_hook_polls_as_the_gapic_client_where_no_error_comes(name):
    """The cheap path the distributions are drawn on is the same polling, draw for draw."""
    script = BY_NAME[name]
    for seed in range(3):
        assert google.run_http_json(script, seed) == google.run(script, seed)


def test_it_polls_at_once_and_never_after_its_900_s_deadline():
    runs = [google.run_http_json(BY_NAME["never ends"], seed) for seed in SEEDS]
    assert {(r.outcome, r.raised) for r in runs} == {(GAVE_UP, "TimeoutError")}
    assert all(r.times[0] == 0 and r.times[-1] <= 900 for r in runs)
    assert all(r.stop == r.times[-1] for r in runs)  # it gives up before sleeping
    assert max(r.stop for r in runs) < 900 - 1e-6 < min(r.stop for r in runs) + 20


@pytest.mark.parametrize("name", ["Retry-After 0 on 200s", "Retry-After 7 on 200s"])
def test_retry_after_on_a_200_is_not_read(name):
    for seed in SEEDS:
        same = google.run_http_json(BY_NAME["ends after 95 s"], seed)
        assert google.run_http_json(BY_NAME[name], seed) == same
        assert same.outcome == ENDED and same.times[0] == 0


@pytest.mark.parametrize(
    ("name", "raised"),
    [("429 for 60 s", "TooManyRequests"), ("500 for 60 s", "InternalServerError")],
)
def test_a_429_or_500_ends_the_watch_at_the_first_request(name, raised):
    run = google.run(BY_NAME[name], seed=0)
    assert (run.times, run.outcome, run.raised, run.stop) == ((0.0,), ERRORED, raised, 0.0)


@pytest.mark.parametrize("name", ["503 for 60 s", "503 for 60 s, Retry-After 5"])
def test_503s_are_retried_for_10_s_then_result_raises_timeout_error(name):
    """GetOperation's retry (503 only, no Retry-After read) runs out of its 10 s and
    ``_blocking_poll`` reports its RetryError as a TimeoutError: an error ends it."""
    for seed in SEEDS:
        run = google.run(BY_NAME[name], seed)
        same = google.run(BY_NAME["503 for 60 s"], seed)
        assert (run.outcome, run.raised) == (ERRORED, "TimeoutError")
        assert set(run.https) == {503} and run.times[0] == 0 and run.stop <= 10
        assert run == same  # Retry-After is not read


# --- the google-lro preset against the library ---------------------------------------------

PRESET = PRESETS["google-lro"]
#: (library runs, preset replays) per script drawn on: the preset's are cheap, so it
#: has more (its side of the two-sample errors shrinks); the GAPIC client's requests
#: cost most, and under 503s each run is only its ~6 requests' worth of draws
RUNS = {"ends after 95 s": (2000, 3000), "never ends": (400, 1200), "503 for 60 s": (600, 3000)}


def replays(name: str, runs: int) -> list:
    script = BY_NAME[name]
    return [replay(PRESET, script.answer, np.random.default_rng([13, k])) for k in range(runs)]


@functools.cache
def drawn(name: str) -> tuple[list, list]:
    """(library runs, preset replays) on a script, drawn once per process (each xdist
    worker draws only its tests' scripts): the library through the api_request hook
    where no error is answered, the GAPIC client where one is."""
    library_runs, preset_runs = RUNS[name]
    run = google.run if BY_NAME[name].faults else google.run_http_json
    library = [run(BY_NAME[name], 10_000 + k) for k in range(library_runs)]
    return library, replays(name, preset_runs)


def outcome(r) -> str:
    rec = r.record
    if rec.seen_state:
        return ENDED
    return GAVE_UP if rec.gave_up else ERRORED if rec.errored else "still polling"


def waits(times) -> np.ndarray:
    return np.diff(np.asarray(times, dtype=float))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_preset_draws_the_librarys_schedules(name):
    """The same outcome every time; the stop time (end seen, deadline or error) and the
    waits between requests alike (two-sample KS); the mean requests within 2%, and the
    mean stop where it is a give-up or an end seen (under 503s it varies too much, sd
    2 s on 7 s, for 2% at this many runs: the KS stands for it)."""
    lib, pre = drawn(name)
    assert {r.outcome for r in lib} == {outcome(r) for r in pre} and len(
        {r.outcome for r in lib}
    ) == 1
    lib_stop, pre_stop = np.array([r.stop for r in lib]), np.array([r.end for r in pre])
    assert stats.ks_2samp(lib_stop, pre_stop).pvalue > 0.01
    lib_waits = np.concatenate([waits(r.times) for r in lib])
    pre_waits = np.concatenate([waits(r.times) for r in pre])
    assert stats.ks_2samp(lib_waits, pre_waits).pvalue > 0.01
    lib_n, pre_n = np.mean([r.requests for r in lib]), np.mean([len(r.times) for r in pre])
    assert pre_n == pytest.approx(lib_n, rel=0.02)
    if not BY_NAME[name].faults:
        assert pre_stop.mean() == pytest.approx(lib_stop.mean(), rel=0.02)
    assert all(r.record.polls == len(r.times) and r.times[0] == 0 for r in pre)


def test_the_preset_never_polls_after_900_s():
    assert max(r.end for r in replays("never ends", 200)) <= 900


@pytest.mark.parametrize("name", ["429 for 60 s", "500 for 60 s"])
def test_the_preset_errors_at_the_first_429_or_500_as_the_library_does(name):
    library = google.run(BY_NAME[name], seed=0)
    (r,) = replays(name, 1)
    assert (tuple(r.times), outcome(r), r.end) == (library.times, library.outcome, library.stop)


@pytest.mark.parametrize(
    ("name", "same_as"),
    [
        ("503 for 60 s, Retry-After 5", "503 for 60 s"),
        ("Retry-After 0 on 200s", "ends after 95 s"),
        ("Retry-After 7 on 200s", "ends after 95 s"),
    ],
)
def test_the_preset_reads_retry_after_nowhere_as_the_library(name, same_as):
    """The library's runs on these are its runs on the script without the Retry-After
    (above); the preset's are the preset's, draw for draw."""
    for a, b in zip(replays(name, 50), replays(same_as, 50), strict=True):
        assert (a.times, a.end, outcome(a)) == (b.times, b.end, outcome(b))
