"""The assertion grammar, attacked, and the checks over measures: what a value is judged
against, what each failure line says, and which inputs are exit 2 rather than a pass."""

from __future__ import annotations

import argparse
import io
import math

import pandas as pd
import pytest

from pollsim.assertions import (
    AssertionSyntax,
    Measures,
    add_assert_arguments,
    check_all,
    gate,
    load_frame,
    parse_all,
    parse_assertion,
)

# --- what reads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "agg", "metric", "op", "threshold"),
    [
        ("p95(detection_latency) < 10s", "p95", "detection_latency", "<", 10.0),
        ("p95(detection_latency)<10s", "p95", "detection_latency", "<", 10.0),
        ("  max( detection_latency )  <=  250ms  ", "max", "detection_latency", "<=", 0.25),
        ("mean(detection_latency) >= 2m", "mean", "detection_latency", ">=", 120.0),
        ("p99(detection_latency) != 1.5h", "p99", "detection_latency", "!=", 5400.0),
        ("p50(detection_latency) > 7", "p50", "detection_latency", ">", 7.0),  # seconds
        ("p50(detection_latency) > 7 ms", "p50", "detection_latency", ">", 0.007),
        ("retry_after_violations == 0", "sum", "retry_after_violations", "==", 0.0),
        ("gave_up == 0", "sum", "gave_up", "==", 0.0),
        ("mean(gave_up) <= 1%", "mean", "gave_up", "<=", 0.01),
        ("mean(errored) < 0.5", "mean", "errored", "<", 0.5),
        ("mean(requests_per_second) <= 50", "mean", "requests_per_second", "<=", 50.0),
        ("max(polls) <= 1e3", "max", "polls", "<=", 1000.0),
        ("count(detection_latency) >= 10", "count", "detection_latency", ">=", 10.0),
        ("min(detection_latency) >= -1s", "min", "detection_latency", ">=", -1.0),
        ("sum(polls) < 1e300", "sum", "polls", "<", 1e300),
        ("p95(detection_latency)\u00a0<\u00a010s", "p95", "detection_latency", "<", 10.0),
    ],
)
def test_assertions_that_read(text, agg, metric, op, threshold):
    c = parse_assertion(text)
    assert (c.agg, c.metric, c.op) == (agg, metric, op)
    assert c.threshold == pytest.approx(threshold)
    assert parse_assertion(c.name) == parse_assertion(c.name)  # the canonical form reads


def test_a_bare_count_keeps_its_form_in_the_lines():
    assert parse_assertion("retry_after_violations==0").name == "retry_after_violations == 0"
    assert parse_assertion("p95(detection_latency)<10000ms").name == (
        "p95(detection_latency) < 10000ms"
    )


# --- what does not: one line, the column, what was expected ----------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty; expected [AGG(]metric[)] OP number[unit]"),
        ("   ", "empty"),
        ("p95(p95(detection_latency)) < 1s", "at column 8: expected ')': aggregates do not nest"),
        ("p95(detection_latency) < 10s garbage", "at column 30: expected the end"),
        ("p95(detection_latency) < 10s)", "at column 29: expected the end"),
        ("p95(detection_latency) < 10x", "at column 28: expected a unit (s, ms, m, h) or the end"),
        ("mean(gave_up) < 10 x", "at column 20: expected % or the end of the assertion, found 'x'"),
        ("polls < 10 s", "sum(polls) is a count: expected a plain number, found unit 's'"),
        ("p95(detection_latency) < 10sec", "expected a unit"),
        ("p95(detection_latncy) < 1s", "unknown metric 'detection_latncy'"),
        ("p95(detection_latncy) < 1s", "did you mean detection_latency?"),
        ("retry_after_violation == 0", "did you mean retry_after_violations?"),
        ("p59(polls) < 3", "at column 1: unknown aggregate 'p59'"),
        ("avg(polls) < 3", "unknown aggregate 'avg', expected one of mean"),
        ("polls(gave_up) < 3", "polls is a metric, not an aggregate"),
        ("p95 < 3", "p95 is an aggregate: say p95(METRIC)"),
        ("detection_latency < 10s", "say p95(detection_latency) or mean(detection_latency)"),
        ("requests_per_second <= 50", "needs an aggregate"),
        ("p95(detection_latency < 10s", "at column 23: expected ')' to close p95("),
        ("p95() < 1", "at column 5: expected a metric inside p95(...)"),
        ("polls = 3", "(for '=' say '==')"),
        ("polls ≤ 3", "(for '≤' say '<=')"),
        ("polls => 3", "(for '=>' say '>=')"),
        ("polls <> 3", "(for '<>' say '!=')"),
        ("polls 3", "expected an operator"),
        ("polls <", "at column 8: expected a number, e.g. 10, 2.5, 1e3, found the end"),
        ("polls < ten", "expected a number"),
        ("p95(detection_latency) < nan", "expected a finite number (nan and inf"),
        ("p95(detection_latency) < -inf", "expected a finite number"),
        ("p95(detection_latency) < Infinity", "expected a finite number"),
        ("p95(detection_latency) < 1e999", "expected a number of at most about 1.8e308"),
        ("p95(detection_latency) < ٣s", "expected a number"),  # an Arabic-Indic three
        ("détection_latency < 1", "unknown metric 'détection_latency'"),
        ("polls < 3s", "sum(polls) is a count: expected a plain number, found unit 's'"),
        ("max(polls) < 3%", "max(polls) is a count"),
        ("count(detection_latency) > 5s", "count(detection_latency) is a count"),
        ("gave_up < 1%", "for a share of jobs say mean(gave_up) < ..."),
        ("mean(gave_up) < 1s", "mean(gave_up) is a share from 0 to 1"),
        ("p95(detection_latency) < 5%", "is a duration: expected s, ms, m or h"),
        ("mean(requests_per_second) < 5s", "is requests per second: expected a plain number"),
        ("1 < polls", "expected a metric"),
        ("(polls) < 1", "expected a metric"),
    ],
)
def test_bad_assertions_are_one_line_naming_where_and_what(text, words):
    with pytest.raises(AssertionSyntax) as err:
        parse_assertion(text)
    message = str(err.value)
    assert words in message
    assert "\n" not in message and message.startswith("--assert ")


def test_a_huge_assertion_is_refused_without_echoing_it_whole():
    text = "polls < 1" + " x" * 50_000
    with pytest.raises(AssertionSyntax) as err:
        parse_assertion(text)
    assert "expected the end" in str(err.value) and len(str(err.value)) < 300


# --- == and != ------------------------------------------------------------------------


def test_equality_is_exact_on_counts_and_within_a_relative_1e9_on_other_values():
    zero = parse_assertion("retry_after_violations == 0")
    assert zero.holds(0.0) and not zero.holds(1.0)
    lat = parse_assertion("p95(detection_latency) == 0.3s")
    assert lat.holds(0.1 + 0.2)  # 0.30000000000000004: floating-point noise
    assert not lat.holds(0.3 * (1 + 1e-6))
    assert parse_assertion("p95(detection_latency) != 0.3s").holds(0.31)
    assert not parse_assertion("p95(detection_latency) != 0.3s").holds(0.1 + 0.2)


# --- measures -------------------------------------------------------------------------


def truth() -> dict:
    def row(client, lat, polls, ra=0, gave_up=False, errored=False, unfinished=False):
        return {
            "client": client,
            "detection_latency_s": lat,
            "polls": polls,
            "wasted_polls": polls - 1,
            "retry_after_violations": ra,
            "gave_up": gave_up,
            "errored": errored,
            "unfinished": unfinished,
        }

    return {
        "now": 10.0,
        "jobs": [
            row("alpha:token#1", 14.2, 5, ra=2),
            row("alpha:token#1", 4.0, 3),
            row("beta", None, 9, gave_up=True),
            row("beta", 1.0, 2),
        ],
    }


def ns(*asserts: str, clients=(), junit=None) -> argparse.Namespace:
    return argparse.Namespace(asserts=list(asserts), clients=list(clients), junit=junit)


def run(measures: Measures, *asserts: str, clients=()) -> tuple[int, list[str]]:
    out = io.StringIO()
    args = ns(*asserts, clients=clients)
    code = gate(parse_all(args), measures, args, out=out)
    return code, out.getvalue().splitlines()


def test_a_failure_is_one_line_with_the_measured_value_and_what_it_was_measured_on():
    m = Measures.from_report(truth())
    code, lines = run(m, "max(detection_latency) < 10s", clients=["alpha:token#1"])
    assert code == 1
    assert lines == [
        "FAIL max(detection_latency) < 10s: measured 14.2s "
        "(client alpha:token#1, 2 of 2 jobs seen ended)"
    ]
    code, lines = run(m, "retry_after_violations == 0", "gave_up == 0", clients=["*"])
    assert code == 1
    assert lines == [
        "FAIL retry_after_violations == 0: measured 2 (client alpha:token#1, 2 jobs)",
        "PASS retry_after_violations == 0: measured 0 (client beta, 2 jobs)",
        "PASS gave_up == 0: measured 0 (client alpha:token#1, 2 jobs)",
        "FAIL gave_up == 0: measured 1 (client beta, 2 jobs)",
    ]


def test_all_clients_together_without_client_and_values_in_the_unit_written():
    m = Measures.from_report(truth())
    code, lines = run(m, "mean(gave_up) <= 25%", "p50(detection_latency) < 5000ms")
    assert code == 0
    assert lines == [
        "PASS mean(gave_up) <= 25%: measured 25% (all clients, 4 jobs)",
        "PASS p50(detection_latency) < 5000ms: measured 4000ms (all clients, 3 of 4 jobs seen "
        "ended)",
    ]


def test_an_aggregate_over_no_values_fails_and_a_count_over_none_is_zero():
    jobs = Measures.from_report({"now": 1.0, "jobs": [truth()["jobs"][2]]})
    code, lines = run(jobs, "p95(detection_latency) < 1h", "count(detection_latency) == 0")
    assert code == 1
    assert lines[0] == (
        "FAIL p95(detection_latency) < 1h: measured nothing (all clients, 0 of 1 jobs seen ended)"
    )
    assert lines[1].startswith("PASS count(detection_latency) == 0: measured 0")


def test_no_jobs_at_all_fail_every_check_even_a_sum_of_none():
    """A client that never polled (a wrong id, a client that did not run) proves nothing."""
    empty = Measures.from_report({"now": 5.0, "jobs": []}, requests=[])
    code, lines = run(empty, "gave_up == 0", "max(requests_per_second) <= 10")
    assert code == 1
    assert lines == [
        "FAIL gave_up == 0: measured nothing (all clients, 0 jobs)",
        "FAIL max(requests_per_second) <= 10: measured nothing (all clients, 0 s)",
    ]


def test_a_client_with_jobs_but_no_request_in_the_journal_polled_at_zero_per_second():
    m = Measures.from_report(truth(), requests=[{"client": "beta", "t": 1.0}])
    code, lines = run(m, "max(requests_per_second) == 0", clients=["alpha:token#1"])
    assert (code, lines) == (
        0,
        ["PASS max(requests_per_second) == 0: measured 0 (client alpha:token#1, 10 s)"],
    )


def test_requests_per_second_over_every_second_including_the_quiet_ones():
    arrivals = [("a", 0.5), ("a", 0.7), ("a", 3.2), ("b", 3.9)]
    m = Measures.from_report(truth(), requests=[{"client": c, "t": t} for c, t in arrivals])
    # 10 s (the report's now): a has 2, 0, 0, 1, 0...; all together 2, 0, 0, 2, 0...
    code, lines = run(m, "mean(requests_per_second) == 0.4", "max(requests_per_second) <= 1")
    assert lines == [
        "PASS mean(requests_per_second) == 0.4: measured 0.4 (all clients, 10 s)",
        "FAIL max(requests_per_second) <= 1: measured 2 (all clients, 10 s)",
    ]
    code, lines = run(m, "sum(requests_per_second) == 3", clients=["a"])
    assert code == 0 and lines[0].endswith("(client a, 10 s)")


def test_a_metric_the_source_lacks_and_an_unknown_client_are_bad_input():
    m = Measures.from_report(truth())  # no journal: no requests per second
    with pytest.raises(AssertionSyntax, match="requests_per_second is not measured by pollsim"):
        check_all([parse_assertion("mean(requests_per_second) < 1")], m)
    with pytest.raises(AssertionSyntax, match=r"no such client .*did you mean beta\?"):
        check_all([parse_assertion("gave_up == 0")], m, ["betta"])
    err = io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(err):
        code, lines = run(m, "gave_up == 0", clients=["nobody"])
    assert code == 2 and lines == [] and err.getvalue().count("\n") == 1


def test_a_command_built_measures_frame_and_its_missing_columns():
    jobs = pd.DataFrame({"group": ["s1", "s1", "s2"], "polls": [1, 2, 3]})
    m = Measures(jobs=jobs, load=load_frame([("s1", 0.1), ("s2", 1.5)], 2.0), source="loadtest")
    code, lines = run(m, "sum(polls) == 3", "max(requests_per_second) == 1", clients=["s2"])
    assert code == 0
    assert lines == [
        "PASS sum(polls) == 3: measured 3 (strategy s2, 1 job)",
        "PASS max(requests_per_second) == 1: measured 1 (strategy s2, 2 s)",
    ]
    with pytest.raises(AssertionSyntax, match="gave_up is not measured by pollsim loadtest"):
        check_all([parse_assertion("gave_up == 0")], m)


def test_parse_all_reads_every_assert_and_checks_the_junit_folder(tmp_path):
    p = argparse.ArgumentParser()
    add_assert_arguments(p)
    args = p.parse_args(["--assert", "gave_up == 0", "--assert", "polls < 9", "--client", "x"])
    assert [c.metric for c in parse_all(args)] == ["gave_up", "polls"] and args.clients == ["x"]
    with pytest.raises(AssertionSyntax, match="does not exist"):
        parse_all(p.parse_args(["--junit", str(tmp_path / "no" / "out.xml")]))
    with pytest.raises(AssertionSyntax, match="a folder; expected a file"):
        parse_all(p.parse_args(["--junit", str(tmp_path)]))
    with pytest.raises(AssertionSyntax, match="column 7"):
        parse_all(p.parse_args(["--assert", "gave_up == 0", "--assert", "polls ? 9"]))


def test_measured_values_print_without_exponents_in_everyday_sizes():
    c = parse_assertion("p95(detection_latency) < 10s")
    assert [c.format(v) for v in (14.2, 0.00123, 14235.7, 3.0, 1e20)] == [
        "14.2s",
        "0.00123s",
        "14236s",
        "3s",
        "1e+20s",
    ]
    assert parse_assertion("mean(gave_up) < 1%").format(1 / 3) == "33.33%"
    assert math.isnan(float(c.format(math.nan)[:-1]))
