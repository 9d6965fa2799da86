"""A client that stopped on an error answer (``PollRecord.errored``) is counted apart from
give-ups in the simulation's summary, as JSON and as the text ``pollsim simulate``
prints. Records are marked errored by hand here (strategies that stop on errors: the
end-to-end tests in test_errored_end_to_end.py)."""

from __future__ import annotations

import dataclasses

import pytest

from pollsim.summary_text import format_polling
from sim import loads, simulate
from sim.polling_summary import polling_summary
from sim.strategies import parse_strategy

SLOW = "poll(fixed(30), stop=after_polls(2))"
SCENARIO = f"""
horizon = "20m"
[clients]
strategies = [{{ strategy = "fixed(5)", weight = 1 }}, {{ strategy = "{SLOW}", weight = 1 }}]
"""


@pytest.fixture(scope="module")
def polling():
    return simulate(loads(SCENARIO)).polling


def erring(polling, label: str, k: int):
    """The polling with ``k`` of ``label``'s jobs that its clients saw end marked as
    stopped on an error instead."""
    per_job = polling.per_job.copy()
    mine = per_job.index[(per_job["strategy"] == label) & per_job["t_seen"].notna()][:k]
    per_job.loc[mine, ["errored", "t_seen", "seen_state"]] = [True, float("nan"), None]
    return dataclasses.replace(polling, per_job=per_job)


def test_the_summary_counts_errored_jobs_apart_from_give_ups(polling):
    before = polling_summary(polling)["strategies"]
    after = polling_summary(erring(polling, "fixed(5)", 3))["strategies"]
    assert before["fixed(5)"]["errored"] == 0 and after["fixed(5)"]["errored"] == 3
    for label in before:
        assert after[label]["gave_up"] == before[label]["gave_up"]
        assert after[label]["false_give_ups"] == before[label]["false_give_ups"]
    slow = parse_strategy(SLOW).label
    assert after[slow]["gave_up"] > 0 and after[slow]["errored"] == 0


def test_the_printed_summary_has_an_errored_column_beside_gave_up(polling):
    summary = polling_summary(erring(polling, "fixed(5)", 3))
    lines = format_polling(summary)
    head = next(line for line in lines if "gave up" in line)
    # the column right of "gave up (false)", under the same group title
    assert head.index("errored") == head.index("gave up (false)") + len("gave up (false)") + 2
    below = lines[lines.index(head) :]  # the table of what the clients did
    row = next(line for line in below if line.strip().startswith("fixed(5)"))
    gave = summary["strategies"]["fixed(5)"]
    cells = row.split()
    at = cells.index(f"({gave['false_give_ups']})")
    assert cells[at - 1 : at + 2] == [str(gave["gave_up"]), f"({gave['false_give_ups']})", "3"]
