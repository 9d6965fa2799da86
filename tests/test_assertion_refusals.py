"""Assertions that used to pass by accident or read wrong (issue 14's attackers): a
threshold that overflows or underflows with its unit, a share over 100%, a fraction
compared with == to a count, p95.5, a threshold printed rounded, client lists unquoted."""

from __future__ import annotations

import argparse

import pytest

from pollsim.assertions import AssertionSyntax, Measures, check_all, parse_assertion


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("p95(detection_latency) < 1e308h", "overflows to infinity"),
        ("max(detection_latency) < 1e308m", "overflows to infinity"),
        ("p95(detection_latency) < 1e-400s", "underflows to 0"),
        ("p95(detection_latency) > 1e-323ms", "underflows to 0"),
        ("mean(gave_up) <= 101%", "a share is at most 100%"),
        ("mean(errored) < 1.5", "a share is at most 100%"),
        ("gave_up == .5", "gave_up is a count (a whole number), so == .5 never holds"),
        ("max(polls) != 2.5", "!= 2.5 always holds"),
        ("p95.5(detection_latency) < 10s", "a percentile is pNN with a whole number"),
    ],
)
def test_a_threshold_that_cannot_mean_what_it_says_is_one_line(text, says):
    with pytest.raises(AssertionSyntax) as err:
        parse_assertion(text)
    line = str(err.value)
    assert says in line and "\n" not in line and line.startswith(f"--assert {text!r}")


@pytest.mark.parametrize(
    ("text", "threshold"),
    [
        ("mean(gave_up) <= 100%", 1.0),
        ("mean(polls) == 3.4", 3.4),
        ("p95(detection_latency) < 1e-300ms", 1e-303),
        ("p95(detection_latency) < 0s", 0.0),
        ("p95(detection_latency) < 0e-999s", 0.0),
    ],
)
def test_the_thresholds_at_the_edges_still_read(text, threshold):
    assert parse_assertion(text).threshold == pytest.approx(threshold, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("mean(polls) == 3.4", "mean(polls) == 3.4"),
        ("p95(detection_latency) < 2.50m", "p95(detection_latency) < 2.50m"),
        ("p95(detection_latency)<10", "p95(detection_latency) < 10s"),
        ("mean(gave_up) <= 0.125%", "mean(gave_up) <= 0.125%"),
        ("mean(requests_per_second) <= 1.23456", "mean(requests_per_second) <= 1.23456"),
    ],
)
def test_the_threshold_is_printed_as_written(text, name):
    assert parse_assertion(text).name == name


def test_an_unknown_client_lists_the_names_quoted():
    row = {"client": "a, b", "detection_latency_s": 1.0, "polls": 1, "wasted_polls": 0}
    row |= {"retry_after_violations": 0, "gave_up": False, "errored": False, "unfinished": False}
    measures = Measures.from_report({"now": 10.0, "jobs": [row, {**row, "client": "c"}]})
    with pytest.raises(AssertionSyntax) as err:
        check_all([parse_assertion("gave_up == 0")], measures, ["b"])
    assert "('a, b', 'c')" in str(err.value)


def test_parse_all_refuses_an_empty_junit_path():
    args = argparse.Namespace(asserts=["gave_up == 0"], clients=[], junit="")
    from pollsim.assertions import parse_all

    with pytest.raises(AssertionSyntax, match="--junit '': empty"):
        parse_all(args)
