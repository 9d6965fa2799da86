"""The tables of ``pollsim simulate``'s summary keep their columns in line whatever they
hold: a long strategy name, four-digit give-ups, millions of requests. Each cell of a
right-aligned column ends in the column its title ends in; a left-aligned one starts
where its title starts; a group title lies over its own columns. Built from summaries
made up for the purpose, no simulation needed."""

from __future__ import annotations

import pytest

from pollsim.summary_text import LONGEST_NAME, format_polling, format_summary

LONG = "equal_jitter(exponential(2))"  # as long as a name in the table may be
assert len(LONG) == LONGEST_NAME


def metrics(jobs: int, gave_up: int, false: int, errors: int, latency: float | None) -> dict:
    lat = dict.fromkeys(("mean", "p50", "p95", "p99", "max"), latency)
    return {
        "jobs": jobs,
        "method": "simpy",
        "requests_per_second": {"mean": 1234.5, "p99": 20411.0, "max": 20977.0},
        "detection_latency_s": lat,
        "polling_delay_s": lat,
        "polls_per_job": {"mean": 1061.25, "p95": 3000.0},
        "wasted_polls_per_job": 1000.0,
        "gave_up": gave_up,
        "false_give_ups": false,
        "errored": 17,
        "missed_states": {},
        "retry_after_violations": 12345,
        "errors": errors,
    }


def summary(names: list[str]) -> dict:
    strategies = {
        names[0]: metrics(21000, 4129, 4000, 1_234_567, None),
        names[1]: metrics(7, 0, 0, 0, 30.04277),
        **{n: metrics(5, 3, 1, 2, 2.5) for n in names[2:]},
    }
    stats = {"mean": 415.0, "p50": 356.0, "p95": 906.0, "p99": 1205.0, "max": 100000.0}
    return {
        "scenario": "made up",
        "source": "a test",
        "seed": 1,
        "dialect": "ordo",
        "horizon_s": 86400.0,
        "simulated_s": 90000.0,
        "workers": None,
        "jobs": {"submitted": 1_234_567, "ended": 1_234_567, "unfinished": 0},
        "state_changes": 9_999_999,
        "outcomes": {
            "succeeded": {"jobs": 1_234_000, "share": 0.999},
            "failed": {"jobs": 567, "share": 0.001},
            "cancelled": {"jobs": 0, "share": 0.0},
        },
        "duration_s": stats,
        "queued_s": stats,
        "retry_wait_s": stats,
        "retries_per_job": {"mean": 0.5, "max": 3, "share_with_retry": 0.25},
        "actions": {},
        "strategies": strategies,
        "server": {
            "requests": 123_456_789,
            "requests_per_second": {"mean": 1428.9, "p99": 20411.0, "max": 20977.0},
            "by_http_status": {"http_200": 123_456_789},
            "answers": {"http_200": 122_222_222, "timeout": 1_234_567},
        },
    }


def spans(titles: str, names: list[str]) -> list[tuple[int, int]]:
    """Where each title lies on the titles line, found in order."""
    out, at = [], 0
    for name in names:
        start = titles.index(name, at)
        out.append((start, start + len(name)))
        at = start + len(name)
    return out


def check_table(lines: list[str], titles: list[str], rows: list[list[str]], left=(0,)):
    """``lines``: the table's title line then its rows; each cell sits under its title."""
    where = spans(lines[0], titles)
    assert len(lines) == 1 + len(rows)
    for line, cells in zip(lines[1:], rows, strict=True):
        for j, (cell, (start, end)) in enumerate(zip(cells, where, strict=True)):
            if j in left:
                assert line[start : start + len(cell)] == cell, (line, cell)
            else:
                assert line[end - len(cell) : end] == cell, (line, cell)
                assert end == len(line) or line[end] == " ", (line, cell)


def test_the_strategy_tables_line_up_with_a_long_name_and_four_digit_give_ups():
    names = [LONG, "fixed(5)"]
    lines = format_polling(summary(names))
    top = next(i for i, line in enumerate(lines) if line.split()[:2] == ["strategy", "jobs"])
    check_table(
        lines[top : top + 3],
        ["strategy", "jobs", "mean", "p99", "max", "mean", "p50", "p95", "p99"],
        [
            [LONG, "21,000", "1234.5", "20411", "20977", "-", "-", "-", "-"],
            ["fixed(5)", "7", "1234.5", "20411", "20977", "30s", "30s", "30s", "30s"],
        ],
    )
    groups = lines[top - 1]
    (mean_start, _), (_, max_end) = spans(lines[top], ["mean", "max"])
    assert mean_start <= groups.index("load (req/s)") < groups.index(")") < max_end
    low = next(i for i, line in enumerate(lines) if line.split()[:3] == ["strategy", "per", "job"])
    titles = ["strategy", "per job", "error answers", "gave up (false)", "errored", "violations"]
    check_table(
        lines[low : low + 3],
        titles,
        [
            [LONG, "1061.2", "1,234,567", "4,129 (4,000)", "17", "12,345"],
            ["fixed(5)", "1061.2", "0", "0 (0)", "17", "12,345"],
        ],
    )
    over = lines[low - 1]
    (give_start, _), (_, errored_end) = spans(lines[low], ["gave up (false)", "errored"])
    assert give_start <= over.index("jobs whose client") < over.index("client") < errored_end
    assert all(len(line) <= 100 for line in lines), max(lines, key=len)


def test_a_name_too_long_for_the_table_is_shown_short_and_in_full_below_it():
    long = "full_jitter(fixed(10)) | after_delay(1h) | after_polls(400)"
    lines = format_polling(summary(["fixed(5)", long, "ordo-js"]))
    assert lines[-1] == f"  S2: {long}"
    assert sum(line.split()[:1] == ["S2"] for line in lines) == 2  # a row in each table
    assert all(len(line) <= 100 for line in lines), max(lines, key=len)


def test_the_outcome_and_time_tables_line_up_with_big_numbers():
    lines = format_summary(summary(["fixed(5)", "ordo-js"])).splitlines()
    top = next(i for i, line in enumerate(lines) if line.split()[:1] == ["outcome"])
    check_table(
        lines[top : top + 4],
        ["outcome", "jobs", "share of ended"],
        [
            ["succeeded", "1,234,000", "99.9%"],
            ["failed", "567", "0.1%"],
            ["cancelled", "0", "0.0%"],
        ],
    )
    top = next(i for i, line in enumerate(lines) if line.startswith("  time per job"))
    cells = ["6m55s", "5m56s", "15m06s", "20m05s", "1d3h"]
    check_table(
        lines[top : top + 4],
        ["time per job", "mean", "p50", "p95", "p99", "max"],
        [[label, *cells] for label in ("duration", "queued", "in retry_wait")],
    )


@pytest.mark.parametrize("name", ["fixed(5)", "full_jitter(fixed(10))", LONG])
def test_every_line_fits_in_100_columns_for_ordinary_names(name):
    lines = format_summary(summary([name, "generic-js", "fiddler-py"])).splitlines()
    assert max(len(line) for line in lines) <= 100, max(lines, key=len)
