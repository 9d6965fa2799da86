"""What the strategy language gained to say what SDK pollers do (issue 13): waits that
count from a first poll at once, deadlines checked ahead of a sleep or on waking,
request-level retries, stopping on an error as its own outcome, and Retry-After 0."""

import math

import numpy as np
import pytest

from sim.pollers import replay
from sim.status_server import Response
from sim.strategies import (
    PollState,
    StrategyError,
    after_delay,
    exponential,
    fixed,
    linear,
    parse_strategy,
    poll,
    retries,
    retry_after,
)

RUNNING = Response(200, "running", None, None)


def ends_at(t_end, before=RUNNING):
    return lambda t: Response(200, "succeeded", None, None) if t >= t_end else before


def outage(until, http=503, retry_after=None, t_end=math.inf):
    def answer(t):
        if t < until:
            return Response(http, None, None, retry_after)
        return ends_at(t_end)(t)

    return answer


@pytest.mark.parametrize(
    "text",
    [
        "poll(fixed(30), stop=after_delay(900, check='ahead'), first=0, "
        "retries=retries(3, on=[429, 500, 502, 503, 504], wait=exponential(1.6, 2), first=0, "
        "retry_after=True), on_error='stop')",
        "poll(retry_after(fixed(30), ignore_zero=True), first=0)",
        "fixed(6) | after_delay(1800, check='wake')",
        "poll(fixed(1), retries=retries(on=[0, 503], within=10))",
        "poll(fixed(5), on_error='stop')",
    ],
)
def test_the_new_forms_parse_back_to_equal_values(text):
    s = parse_strategy(text)
    assert parse_strategy(str(s)) == s
    assert str(parse_strategy(str(s))) == str(s)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("poll(fixed(1), on_error='boom')", "on_error must be one of 'poll', 'stop'"),
        ("fixed(1) | after_delay(5, check='soon')", "check must be one of"),
        ("fixed(1) | after_delay(5, check=3)", "check takes a word in quotes"),
        ("poll(fixed(1), retries=retries(on=[999]))", "found 999"),
        ("poll(fixed(1), retries=retries(on=['x']))", "ranges such as '506-599', found 'x'"),
        ("poll(fixed(1), retries=retries(-1))", "n must be a whole number"),
        ("poll(fixed(1), retries=fixed(2))", "retries must be retries(...)"),
        ("retry_after(fixed(1), ignore_zero=1)", "ignore_zero takes True or False"),
        (
            "fixed(1) | (after_polls(3) & after_delay(4, check='ahead'))",
            "checked at the same moment",
        ),
    ],
)
def test_wrong_forms_say_what_is_wrong(text, says):
    with pytest.raises(StrategyError, match="at column") as info:
        parse_strategy(text)
    assert says in str(info.value)


def test_waits_count_from_the_first_poll_as_the_libraries_number_them():
    at_once = replay(poll(exponential(1, 2), first=0), ends_at(20))
    assert at_once.times == [0, 1, 3, 7, 15, 31]
    stepped = replay(poll(linear(2, 1), first=0), ends_at(8))
    assert stepped.times == [0, 2, 5, 9]
    # without a first poll at once, the first wait is the wait at attempt 0, as before
    assert replay(exponential(1, 2), ends_at(10)).times == [1, 3, 7, 15]


def test_a_deadline_checked_ahead_never_lets_a_poll_start_past_it():
    s = poll(fixed(7), stop=after_delay(30, check="ahead"), first=0)
    r = replay(s, lambda t: RUNNING)
    assert r.times == [0, 7, 14, 21, 28] and r.record.gave_up and r.end == 28
    # checked after the poll (the default), the client polls once past it
    r = replay(poll(fixed(7), stop=after_delay(30), first=0), lambda t: RUNNING)
    assert r.times[-1] == 35 and r.end == 35


def test_a_deadline_checked_on_waking_gives_up_one_sleep_after_its_last_poll():
    # fiddler-client: `while elapsed <= 1800`: polls at 0, 6, ..., 1800, gives up at 1806
    r = replay(poll(fixed(6), stop=after_delay(1800, check="wake"), first=0), lambda t: RUNNING)
    assert len(r.times) == 301 and r.times[-1] == 1800
    assert r.record.gave_up and r.end == 1806


def test_request_retries_count_as_load_and_then_the_error_stands():
    azure = retries(3, on=[429, 500, 502, 503, 504], wait=exponential(1.6, 2), first=0)
    s = poll(fixed(30), first=0, retries=azure, on_error="stop")
    r = replay(s, outage(60))
    assert r.times == pytest.approx([0, 0, 1.6, 4.8])
    assert r.record.polls == 4 and r.record.errors == 4
    assert r.record.errored and not r.record.gave_up and not r.record.false_give_up


def test_retry_after_replaces_the_backoff_where_honoured():
    s = poll(fixed(30), first=0, retries=retries(3, retry_after=True), on_error="stop")
    r = replay(s, outage(60, retry_after=5.0))
    assert r.times == [0, 5, 10, 15] and r.record.errored and r.record.retry_after_violations == 0


def test_a_status_not_retried_ends_the_watch_at_once_where_errors_stop_it():
    s = poll(fixed(30), first=0, retries=retries(3, on=[503]), on_error="stop")
    r = replay(s, outage(60, http=429))
    assert r.times == [0] and r.record.errored


def test_retries_that_succeed_go_on_polling():
    s = poll(fixed(30), first=0, retries=retries(10, on=[503], wait=fixed(10)), on_error="stop")
    r = replay(s, outage(25, t_end=65))
    # 0, 10, 20 fail; the retry at 30 is answered; then polls at 60 and 90
    assert r.times == [0, 10, 20, 30, 60, 90]
    assert r.record.seen_state == "succeeded" and not r.record.errored


def test_retries_within_a_deadline_stop_before_a_sleep_that_would_pass_it():
    s = poll(fixed(30), first=0, retries=retries(on=[503], wait=fixed(3), within=10))
    r = replay(s, outage(1000), horizon=100)
    # the retries of the first poll at 0, 3, 6, 9; a fifth would end at 12 > 10
    assert r.times[:5] == [0, 3, 6, 9, 39]


def test_errors_without_on_error_stop_are_polled_through():
    r = replay(poll(fixed(10), first=0), outage(25, t_end=45))
    assert r.times == [0, 10, 20, 30, 40, 50]
    assert r.record.seen_state == "succeeded" and r.record.errors == 3


def test_a_retry_after_of_zero_is_ignored_where_the_sdk_ignores_it():
    zero = lambda t: Response(200, "running" if t < 95 else "succeeded", None, 0.0)  # noqa: E731
    azure = replay(poll(retry_after(fixed(30), ignore_zero=True), first=0), zero)
    assert azure.times == [0, 30, 60, 90, 120]
    state = PollState(attempt=2, http_status=200, retry_after=0.0)
    assert retry_after(fixed(30))(state, None) == 0.0


def test_replay_is_deterministic_for_a_seed():
    s = parse_strategy(
        "poll(full_jitter(exponential(1, 1.5, max=20)), stop=after_delay(900, check='ahead'), "
        "first=0)"
    )
    a = replay(s, lambda t: RUNNING, np.random.default_rng(5))
    b = replay(s, lambda t: RUNNING, np.random.default_rng(5))
    assert a.times == b.times and a.record.gave_up and a.end <= 900


def test_a_wait_of_fixed_once_is_unchanged():
    assert poll(fixed(15), first=0).next_delay(PollState(attempt=3), None) == 15.0


def _texts():
    from hypothesis import strategies as st

    seconds = st.sampled_from(["0", "0.5", "1", "1.6", "30", "'15m'", "900"])
    wait = st.sampled_from(
        ["fixed(6)", "exponential(1, 1.5, max=20)", "full_jitter(exponential(2, 2, max=120))"]
    )
    codes = st.lists(st.sampled_from([0, 429, 500, 502, 503, 504]), min_size=1, max_size=4)
    retry = st.builds(
        lambda n, on, w, first, ra, within: (
            "retries("
            + ", ".join(
                x
                for x in (
                    n,
                    f"on=[{', '.join(map(str, on))}]",
                    f"wait={w}",
                    first and f"first={first}",
                    ra and "retry_after=True",
                    within and f"within={within}",
                )
                if x
            )
            + ")"
        ),
        st.sampled_from(["", "0", "3", "10"]),
        codes,
        wait,
        st.sampled_from(["", "0", "1"]),
        st.booleans(),
        st.sampled_from(["", "10", "60"]),
    )
    stop = st.builds(
        lambda t, check: f"after_delay({t}, check='{check}')",
        seconds,
        st.sampled_from(["poll", "ahead", "wake"]),
    )
    return st.builds(
        lambda w, s, first, r, on_error: (
            f"poll({w}, stop={s}, first={first}, retries={r}, on_error='{on_error}')"
        ),
        wait,
        stop,
        seconds,
        retry,
        st.sampled_from(["poll", "stop"]),
    )


def test_every_combination_of_the_new_forms_parses_back():
    from hypothesis import given, settings

    @settings(max_examples=300, deadline=None)
    @given(_texts())
    def round_trip(text):
        s = parse_strategy(text)
        assert parse_strategy(str(s)) == s

    round_trip()


def test_for_attempts_turns_one_wait_into_another_after_n_attempts():
    from sim.strategies import for_attempts, full_jitter

    w = for_attempts(3, exponential(2, 2), then=fixed(120))
    assert [w(PollState(attempt=k), None) for k in range(5)] == [2, 4, 8, 120, 120]
    s = parse_strategy(
        "poll(for_attempts(6, full_jitter(exponential(2, 2), min=2), then=fixed(120)), first=0)"
    )
    assert parse_strategy(str(s)) == s and s.open_loop and not s.wait.deterministic
    rng = np.random.default_rng(2)
    drawn = [s.next_delay(PollState(attempt=k), rng) for k in range(1, 10)]
    assert all(2 <= d <= 2 * 2**k for k, d in enumerate(drawn[:6])) and drawn[6:] == [120] * 3
    with pytest.raises(ValueError, match="n must be a whole number"):
        for_attempts(-1, fixed(1), then=full_jitter(fixed(2)))


def test_a_smithy_waiter_takes_its_callers_maximum_wait_and_polls_once_at_it():
    s = parse_strategy("smithy-waiter(max_wait='5m')")
    assert s.label == "smithy-waiter(max_wait=300)" and parse_strategy(str(s)) == s
    for seed in range(50):
        r = replay(s, lambda t: RUNNING, np.random.default_rng(seed))
        # the last delay is cut so that the last poll is at the deadline, then it gives up
        assert r.times[-1] == pytest.approx(300, abs=1e-9) and r.record.gave_up
        assert all(b - a >= 2 - 1e-9 for a, b in zip(r.times[1:-2], r.times[2:-1], strict=True))
    with pytest.raises(StrategyError, match="max_wait: seconds must be a number >= 0"):
        parse_strategy("smithy-waiter(max_wait=-1)")
    with pytest.raises(StrategyError, match="unexpected keyword argument 'foo'"):
        parse_strategy("smithy-waiter(foo=1)")


def test_per_http_backs_a_throttled_answer_off_apart():
    from sim.strategies import per_http

    w = per_http(fixed(0.05), on=[429, "500-503"], wait=fixed(1))
    assert [w(PollState(http_status=c), None) for c in (429, 502, 504, None)] == [1, 1, 0.05, 0.05]
    assert parse_strategy(str(poll(w))) == poll(w)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("smithy-waiter(1)(2)", "expected a call"),
        ("smithy-waiter(**{'max_wait': 5})", "** is not taken"),
        ("fixed(5, **{'x': 1})", "** is not taken"),
        ("fixed(seconds=1, seconds=2)", "seconds is given twice"),
        ("fixed(-fixed(1))", "- goes before a number only"),
        ("botocore-waiter(1)", "the preset botocore-waiter takes no parameters"),
        ("retries(3, [503]) | fixed(1)", "a list is taken only by on="),
        ("retry_after(fixed(1), True)", "True or False is taken only by name"),
        # full-width digits
        (
            "poll(fixed(1), retries=retries(on=['\uff15\uff10\uff10-\uff15\uff19\uff19']))",
            "ranges such as",
        ),
        ("poll(fixed(1), retries=retries(on=['²-5']))", "ranges such as '506-599'"),
        ("fixed(1) | (max_wait(7) & after_polls(3))", "a max_wait joins other stops with | only"),
        ("poll(per_http(fixed(1)))", "missing a required argument: 'on'"),
    ],
)
def test_what_an_attack_found_is_refused_in_one_line(text, says):
    with pytest.raises(StrategyError, match="at column") as info:
        parse_strategy(text)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_presets_stand_in_expressions_and_texts_may_span_lines():
    s = parse_strategy("smithy-waiter(max_wait=5) | after_polls(3)")
    assert str(s.stop) == "max_wait(5) | after_polls(3)" and parse_strategy(str(s)) == s
    assert parse_strategy("ordo-js | after_delay('1h')").stop == after_delay(3600)
    assert parse_strategy("fixed(1)\n| after_delay(5)") == fixed(1) | after_delay(5)
    assert parse_strategy("poll(fixed(1), retries=retries(3, on='500-599'))").retries.on == (
        "500-599",
    )


def test_never_inside_a_join_of_stops_round_trips():
    for text in ("fixed(1) | (never() | after_delay(5))", "fixed(1) | (never() & after_delay(5))"):
        s = parse_strategy(text)
        assert parse_strategy(str(s)) == s


def test_a_deadline_of_zero_still_polls_once_and_a_first_poll_is_never_cut():
    for text in (
        "poll(fixed(5), first=0) | after_delay(0)",
        "poll(fixed(5), first=0) | after_delay(0, check='ahead')",
        "smithy-waiter(max_wait=0)",
    ):
        r = replay(parse_strategy(text), lambda t: RUNNING)
        assert r.times == [0] and r.record.gave_up, text
    r = replay(parse_strategy("smithy-waiter(max_wait=1)"), lambda t: RUNNING)
    assert r.times == [0, 1] and r.record.gave_up


def test_waits_that_read_answers_are_deterministic_only_when_what_they_wrap_is():
    from sim.strategies import at_once_on_error, full_jitter, per_http, per_status

    jittered = full_jitter(fixed(4))
    assert not per_http(fixed(1), on=[429], wait=jittered).deterministic
    assert not per_status(jittered).deterministic
    assert not per_status(fixed(1), retry_wait=jittered).deterministic
    assert not retry_after(jittered).deterministic and not at_once_on_error(jittered).deterministic
    assert per_http(fixed(1), on=[429], wait=fixed(2)).deterministic
