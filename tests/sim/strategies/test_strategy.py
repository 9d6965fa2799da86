"""Strategies: waits and stops together, their text form, and the presets."""

import math

import pytest

from sim.strategies import (
    PRESETS,
    Strategy,
    StrategyError,
    after_delay,
    after_polls,
    exponential,
    fixed,
    full_jitter,
    make_state,
    never,
    parse_strategy,
    per_status,
    poll,
)


def test_stops_combine_with_or_and_and():
    either = after_delay(60) | after_polls(10)
    both = after_delay(60) & after_polls(10)
    late, many = make_state(elapsed=61.0, attempt=2), make_state(elapsed=5.0, attempt=10)
    assert either(late) and either(many) and not either(make_state(elapsed=1.0, attempt=1))
    assert not both(late) and not both(many) and both(make_state(elapsed=61.0, attempt=10))
    assert not never()(make_state(elapsed=1e9, attempt=10**6))


def test_every_stop_is_a_threshold_on_the_time_watched_per_attempt():
    # the form the fast path's compiled loop evaluates: give up once elapsed >= threshold
    stop = (after_delay(60) | after_polls(10)) & (after_delay(30) | after_polls(3))
    assert [stop.threshold(k) for k in (0, 3, 10)] == [60.0, 60.0, 0.0]
    assert (after_delay(60) & after_polls(3)).threshold(2) == math.inf
    assert never().threshold(10**6) == math.inf


def test_a_strategy_waits_then_gives_up():
    s = fixed(2) | after_delay(60)
    assert s.next_delay(make_state(attempt=29, elapsed=58.0), None) == 2
    assert s.next_delay(make_state(attempt=30, elapsed=60.0), None) is None


def test_first_wait_and_long_poll():
    s = poll(fixed(15), stop=after_polls(40), first=0)
    assert s.next_delay(make_state(attempt=0), None) == 0
    assert s.next_delay(make_state(attempt=1), None) == 15
    assert s.next_delay(make_state(attempt=40), None) is None
    lp = poll(fixed(0), long_poll=20)
    assert lp.long_poll == 20 and not lp.open_loop


def test_adding_a_stop_to_a_strategy_keeps_its_options():
    s = poll(fixed(1), first=0) | after_polls(3)
    assert s == Strategy(fixed(1), after_polls(3), first=0)


TEXTS = [
    "fixed(5)",
    "fixed(5) + uniform(0, 1)",
    "fixed(2) | after_delay(60)",
    "exponential(1, 1.5, max=20) | after_delay(900) | after_polls(100)",
    "full_jitter(exponential(2, 2, max=120), min=2)",
    "equal_jitter(linear(1, 2, max=30))",
    "decorrelated_jitter(1, max=60) | after_delay(600) & after_polls(5)",
    "per_status(fixed(10), queued=fixed(60), retry_wait=fixed(30)) | after_delay(3600)",
    "retry_after(fixed(30))",
    "progress(1, 60, fraction=0.25)",
    "at_once_on_error(fixed(6)) | after_delay(1800)",
    "poll(fixed(15), stop=after_polls(40), first=0)",
    "poll(fixed(0), long_poll=20)",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_text_form_parses_back_to_an_equal_value(text):
    s = parse_strategy(text)
    assert str(s) == text
    assert parse_strategy(str(s)) == s


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_round_trip_and_keep_their_name(name):
    s = parse_strategy(name)
    assert s.label == name
    assert parse_strategy(str(s)) == s


def test_presets_are_what_the_clients_do():
    """The presets' decisions at a few moments; tests/conformance replays them against
    the libraries' own code."""
    import numpy as np

    st = make_state
    for name in ("ordo-js", "generic-js", "botocore-waiter", "azure-lro", "google-lro"):
        assert PRESETS[name].next_delay(st(attempt=0), np.random.default_rng(0)) == 0, name
    assert PRESETS["ordo-js"].next_delay(st(attempt=100, elapsed=1e6), None) == 3
    g = PRESETS["generic-js"]  # gives up on waking once more than 60 s have passed
    assert g.next_delay(st(attempt=30, elapsed=60.0), None) == 2
    assert g.gives_up_on_waking(31, 62.0) and not g.gives_up_on_waking(30, 60.0)
    fp = PRESETS["fiddler-py"]
    assert fp.next_delay(st(attempt=0), None) == 10  # sleeps before its first refresh
    assert fp.next_delay(st(attempt=1, status="retry_wait"), None) == 30
    assert fp.next_delay(st(attempt=1, status="running"), None) == 10
    assert fp.next_delay(st(attempt=1, elapsed=3600.0), None) is None
    bw = PRESETS["botocore-waiter"]
    assert bw.next_delay(st(attempt=40), None) is None
    azure = PRESETS["azure-lro"]
    assert azure.next_delay(st(attempt=1, retry_after=5.0), None) == 5
    assert azure.next_delay(st(attempt=1, retry_after=0.0), None) == 30  # 0 is falsy
    assert azure.next_delay(st(attempt=1), None) == 30
    assert azure.stops_on(503) and not azure.stops_on(304)
    google = PRESETS["google-lro"]  # never sleeps past its 900 s deadline
    assert google.next_delay(st(attempt=50, elapsed=900.0), np.random.default_rng(0)) is None
    assert PRESETS["celery-get"].next_delay(st(attempt=5), None) == 0.5
    fc = PRESETS["fiddler-client"]
    assert fc.next_delay(st(attempt=2, http_status=500), None) == 0
    assert fc.next_delay(st(attempt=2, http_status=200), None) == 6
    assert not fc.stops_on(500)


def test_smithy_waiter_waits_between_2s_and_120s():
    import numpy as np

    rng = np.random.default_rng(1)
    s = PRESETS["smithy-waiter"]
    assert s.next_delay(make_state(attempt=0), rng) == 0  # at once
    for k in range(1, 12):  # the wait after poll k is the backoff's (k-1)th
        for _ in range(200):
            d = s.next_delay(make_state(attempt=k), rng)
            assert 2 <= d <= min(120, 2 * 2 ** (k - 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fixd(5)", "at column 1: unknown name 'fixd'; did you mean fixed?"),
        ("ordo-jss", "unknown preset 'ordo-jss'; did you mean ordo-js?"),
        ("fixed(-2)", "at column 1: fixed: seconds must be a number >= 0, found -2"),
        ("fixed(5) | after_delay(soon)", "at column 24: unknown name 'soon'"),
        ("fixed(5) | after_delay('soon')", "at column 24: 'soon': expected a number of seconds"),
        ("fixed('99999999999h')", "at column 7: '99999999999h': expected a duration of at most 10"),
        ("fixed(1e308)", "at column 1: fixed: seconds must be at most 10 years"),
        ("fixed(5) | after_polls(2000000)", "n must be a whole number from 1 to 1,000,000"),
        ("fixed(5) | fixed(3)", "cannot combine a wait | a wait"),
        ("after_delay(60)", "a stop alone is not a strategy"),
        ("fixed(1, 2)", "fixed(seconds): too many positional arguments"),
        ("fixed(5) +", "not a strategy"),
        ("__import__('os')", "unknown name '__import__'"),
        ("fixed(5).real", "expected a call such as fixed(5)"),
        ("[fixed(5)]", "expected a call such as fixed(5)"),
    ],
)
def test_malformed_text_names_the_part_that_is_wrong(text, message):
    with pytest.raises(StrategyError) as exc:
        parse_strategy(text)
    assert message in str(exc.value)
    assert str(exc.value).startswith(f"strategy {text!r}: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (" + ".join(["fixed(1)"] * 3000), "characters; at most 4000"),
        (" + ".join(["fixed(1)"] * 65), "too many terms; at most 64"),
        ("|".join(["fixed(1)"] + ["after_polls(3)"] * 64), "too many terms; at most 64"),
        ("full_jitter(" * 33 + "fixed(1)" + ")" * 33, "nested too deeply; at most 32"),
        ("fixed(" + "-" * 900 + "1)", "too many terms; at most 64"),
        ("not " * 900 + "x", "expected a call"),
    ],
)
def test_huge_texts_are_refused_before_parsing(text, message):
    # 3,000 terms or levels were a RecursionError in Python's own parser
    with pytest.raises(StrategyError, match=message) as exc:
        parse_strategy(text)
    assert len(str(exc.value)) < 250  # the text is shown cut short


def test_the_most_terms_and_levels_still_parse():
    assert len(parse_strategy(" + ".join(["fixed(1)"] * 64)).wait.waits) == 64
    assert parse_strategy("full_jitter(" * 31 + "fixed(1)" + ")" * 31).open_loop


def test_equality_and_hash_are_by_value():
    a = per_status(fixed(10), retry_wait=fixed(30)) | after_delay(60)
    b = parse_strategy("per_status(fixed(10), retry_wait=fixed(30)) | after_delay(60)")
    assert a == b and hash(a) == hash(b)
    assert len({a, b, full_jitter(exponential(1)) | never()}) == 2
