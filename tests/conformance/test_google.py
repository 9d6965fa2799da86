"""google-api-core 2.44.0's ``Operation.result()`` (a GAPIC REST operations client's
future, google's defaults throughout), run unchanged on a fake clock over every harness
Script. Its waits are jittered (``random.uniform`` in ``exponential_sleep_generator``,
seeded here), so what is pinned is what holds on every draw; the preset is compared
with it in distribution."""

from __future__ import annotations

import pytest

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
