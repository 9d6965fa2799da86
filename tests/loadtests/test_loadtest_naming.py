"""The names a load test gives its strategies in Locust: a user class a strategy, named
after it (an identifier Locust and Python accept), and request names that keep each
strategy's rows apart while pollsim still counts them together."""

from __future__ import annotations

import ast
import csv

import pytest

from loadtests.failures import count, is_named, named
from loadtests.swarm import class_name, class_names, swarm_file
from sim.strategies import parse_strategy
from sim.strategies.presets import PRESETS

HARD = [
    "fixed(5) | after_delay('1h')",
    "full_jitter(fixed(6))",
    "exponential(0.5, 2, max=60) + fixed(1)",
    "for_attempts(3, fixed(1), then=fixed(10))",
    "fixed(5) | after_delay('1h') & after_polls(3)",
]


@pytest.mark.parametrize("text", [*PRESETS, *HARD])
def test_every_strategy_gets_a_class_name_python_and_locust_accept(text):
    label = parse_strategy(text).label
    name = class_name(label)
    assert name.isidentifier() and name[0].isupper() and len(name) <= 60, name
    tree = ast.parse(swarm_file([label], [text]))  # the file compiles
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert cls.name == name and ast.get_docstring(cls) == f"Polls by {label}"


def test_class_names_read_as_their_strategies_and_never_clash():
    labels = ["ordo-js", "fixed(5)", "FIXED(5)", "fixed(5) | after_delay(3600)", "none", "9"]
    assert class_names(labels) == [
        "OrdoJs", "Fixed5", "Fixed5_2", "Fixed5OrAfterDelay3600", "StrategyNone", "Strategy9",
    ]  # fmt: skip
    assert class_names(["polling-user"]) == ["PollingUser_2"]  # the base class's own name


def test_the_swarm_file_keeps_each_strategy_as_given():
    texts = ["fixed(3)", 'fixed(2) | after_delay("1h")']
    labels = [parse_strategy(t).label for t in texts]
    source = swarm_file(labels, texts)
    classes = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]
    assert [c.name for c in classes] == ["Fixed3", "Fixed2OrAfterDelay3600"]
    for cls, text in zip(classes, texts, strict=True):
        (value,) = [
            a.value.value
            for a in cls.body
            if isinstance(a, ast.Assign) and a.targets[0].id == "strategy_text"
        ]
        assert value == text


def test_request_names_carry_the_strategy_and_count_together(tmp_path):
    assert named("/s/[id]", "fixed(5)") == "/s/[id] · fixed(5)" and named("/s/[id]") == "/s/[id]"
    assert is_named("/s/[id] · fixed(5)", "/s/[id]") and is_named("/s/[id]", "/s/[id]")
    assert not is_named("/s/[id]x", "/s/[id]") and not is_named(None, "/s/[id]")
    rows = [
        {"Type": "POST", "Name": "/s · a", "Request Count": 10, "Failure Count": 1},
        {"Type": "POST", "Name": "/s · b", "Request Count": 20, "Failure Count": 0},
        {"Type": "GET", "Name": "/s/[id] · a", "Request Count": 100, "Failure Count": 3},
        {"Type": "GET", "Name": "/s/[id] · b", "Request Count": 50, "Failure Count": 0},
        {"Type": "GET", "Name": "/healthz", "Request Count": 2, "Failure Count": 0},
    ]
    write(tmp_path / "locust_stats.csv", rows)
    write(
        tmp_path / "locust_failures.csv",
        [{"Method": "GET", "Name": "/s/[id] · a", "Error": "HTTP 500 internal", "Occurrences": 3}],
    )
    found = count(tmp_path, ("/s", "/s/[id]"))
    assert found["submissions"] == {"requests": 30, "failed": 1, "error": None}
    assert found["polls"] == {"requests": 150, "failed": 3, "error": "HTTP 500 internal"}


def write(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
