import pytest

from sim import format_duration, parse_duration, parse_rate


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (12, 12.0),
        (0.5, 0.5),
        ("250ms", 0.25),
        ("40s", 40.0),
        ("3m", 180.0),
        ("2h", 7200.0),
        ("1h30m", 5400.0),
        ("1d", 86400.0),
        ("1.5m", 90.0),
        ("10min", 600.0),
        (" 5 s ", 5.0),
        ("20", 20.0),  # a plain number as text is seconds, as the messages say
        (" 1.5 ", 1.5),
        ("2e3", 2000.0),
        ("3650d", 3650 * 86400.0),  # the longest: 10 years
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "bad", ["", "5x", "m5", "-5s", "-5", -1, True, None, [5], float("nan"), "nan", "inf"]
)
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError, match="expected"):
        parse_duration(bad)


@pytest.mark.parametrize(
    "huge", [float("inf"), 1e300, 10**400, "99999999999h", "1e999", "3651d", "9" * 5000]
)
def test_durations_past_ten_years_are_refused(huge):
    with pytest.raises(ValueError, match="at most 10 years"):
        parse_duration(huge)


@pytest.mark.parametrize("huge", [float("inf"), 1e300, 10**400, "2000000/s", "1e999"])
def test_rates_past_a_million_per_second_are_refused(huge):
    with pytest.raises(ValueError, match="at most 1000000/s"):
        parse_rate(huge)


@pytest.mark.parametrize(
    ("text", "rate"),
    [(2, 2.0), ("2", 2.0), ("20000/h", 20000 / 3600), ("5/m", 5 / 60), ("2/s", 2.0)],
)
def test_parse_rate(text, rate):
    assert parse_rate(text) == pytest.approx(rate)


@pytest.mark.parametrize("bad", ["fast", "5/fortnight", "-3/h", -1])
def test_bad_rates_are_refused(bad):
    with pytest.raises(ValueError, match="expected"):
        parse_rate(bad)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.25, "250ms"),
        (12.5, "12.5s"),
        (60, "1m"),
        (312.4, "5m12s"),
        (3600, "1h"),
        (5400, "1h30m"),
        (90000, "1d1h"),
        (float("nan"), "-"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
