"""Property: whatever a user (or an attacker) writes in a scenario file or a strategy,
``pollsim simulate`` ends with a result (exit 0) or one line on stderr (exit 2); never a
traceback, a MemoryError, a RecursionError, a numpy warning or a hang.

The example scenarios of scenarios/ are mutated (keys dropped, values replaced by wrong
types, negative, huge, NaN and inf, unicode digits, deep nesting, unknown keys added)
and strategy texts are built from the language's own names with hostile arguments.
Each example runs in process through ``pollsim.cli.main`` with a small horizon, and
with the run's bounds lowered (jobs, polls, step attempts) so that a valid but enormous
case is refused by a bound, as a real one would be, in milliseconds rather than minutes.

200 examples in the suite, the same ones every run; more with
``POLLSIM_HYPOTHESIS_EXAMPLES=5000``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import tomllib
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pollsim.cli import main
from sim import limits
from sim.strategies.presets import PRESETS
from sim.strategies.text import CALLS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "scenarios").glob("*.toml"))


def scaled(doc: dict) -> dict:
    """An example with its bursts cut to 50 jobs (outage_herd's 2,000 pollers take
    seconds), so that each case runs in milliseconds."""
    for burst in doc.get("arrivals", {}).get("bursts", []):
        burst["count"] = min(burst["count"], 50)
    return doc


SCENARIOS = [scaled(tomllib.loads(p.read_text(encoding="utf-8"))) for p in EXAMPLES]
RUNS = int(os.environ.get("POLLSIM_HYPOTHESIS_EXAMPLES", "200"))

#: the run's bounds for this test: small enough that every example takes milliseconds
SMALL = {
    "MAX_JOBS": 3_000,
    "MAX_POLLS": 20_000,
    "MAX_SLOW_POLLS": 200_000,
    "MAX_FAST_POLLS": 5_000_000,
    "MAX_STEP_ATTEMPTS": 30_000,
}

DROP = object()  #: a mutation that removes the key or the item


def nested(depth: int) -> list:
    """An array nested ``depth`` levels deep, built without recursion."""
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


#: values put in place of a key's; containers are made afresh each time (a function),
#: since a later mutation may reach inside them
HOSTILE_VALUES = [
    DROP, "", "x", "²", "\u0661", "\uff11", "-1", "-5m", "20", "1e999", "99999999999h",
    "nan", "inf", "1h30m", "20000/h", "0/s", "unlimited", True, False, list, dict,
    lambda: [1, "a"], lambda: {"dist": "lognormal", "median": 0, "p95": 0},
    lambda: {"dist": "empirical", "samples": []}, -1, 0, 1, 2**63 - 1, 10**30, -(2**63),
    1e300, -1e-300, 5e-324, 1e-9, math.nan, math.inf, -math.inf, lambda: nested(40),
    "fixed(0)", "celery-get",
]  # fmt: skip


def fresh(value: object) -> object:
    return value() if callable(value) else value


hostile = st.one_of(
    st.sampled_from(HOSTILE_VALUES).map(fresh),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
)
#: arrays nested past the bound (33 levels), far past it, and past Python's recursion
deep = st.sampled_from([33, 60, 5_000]).map(nested)
#: values a user may well write: many mutated scenarios stay valid, and then run
plausible = st.one_of(
    st.integers(0, 50),
    st.floats(0, 100),
    st.sampled_from(["10s", "1m", "2h", "600/h", "5/s", "unlimited", "fixed(5)", "ordo-js"]),
)


def paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every key or index in a parsed TOML document, down to six levels (a deeply
    nested value put there before is mutated whole, not level by level)."""
    out: list[tuple] = []
    stack = [(value, prefix)]
    while stack:
        node, at = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            out.append((*at, k))
            if isinstance(v, dict | list) and len(at) < 5:
                stack.append((v, (*at, k)))
    return out


def mutate(doc: dict, path: tuple, kind: str, value: object) -> None:
    """Drop, replace or add next to the item at ``path`` of ``doc``, in place."""
    *outer, last = path
    node = doc
    for k in outer:
        node = node[k]
    if kind == "unknown" and isinstance(node, dict):
        node[f"{last}x" if isinstance(last, str) else "unknown_key"] = (
            "x" if value is DROP else value
        )
    elif value is DROP:
        del node[last]
    else:
        node[last] = value


@st.composite
def scenarios(draw) -> dict:
    """An example scenario with up to three mutations."""
    doc = json.loads(json.dumps(draw(st.sampled_from(SCENARIOS))))  # a deep copy
    for _ in range(draw(st.integers(0, 3))):
        where = paths(doc)
        if not where:
            break
        path = draw(st.sampled_from(where))
        kind = draw(st.sampled_from(["replace"] * 4 + ["unknown"]))
        which = draw(st.integers(0, 9))  # a tenth nested deep, four hostile, five plausible
        value = draw(deep if which == 0 else hostile if which < 5 else plausible)
        mutate(doc, path, kind, value)
    return doc


def toml(value: object) -> str:
    """A TOML value, inline (tables too), as the reader will see it again."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if value != value
            else {math.inf: "inf", -math.inf: "-inf"}.get(value, repr(value))
        )
    if isinstance(value, str):
        return json.dumps(value)
    parts = []  # arrays and tables: without recursion, for the deeply nested ones
    if isinstance(value, list):
        depth = 0
        while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
            value, depth = value[0], depth + 1
        if not value:
            return "[" * (depth + 1) + "]" * (depth + 1)
        parts = [toml(v) for v in value]
        return "[" * depth + "[" + ", ".join(parts) + "]" + "]" * depth
    body = ", ".join(f"{json.dumps(k)} = {toml(v)}" for k, v in value.items())
    return "{ " + body + " }"


def document(doc: dict) -> str:
    return "".join(f"{json.dumps(k)} = {toml(v)}\n" for k, v in doc.items())


# --- strategy texts -------------------------------------------------------------------

ARGS = st.one_of(
    st.sampled_from(
        [
            "0",
            "1",
            "5",
            "-1",
            "1e308",
            "9" * 400,
            "inf",
            "nan",
            "'1h'",
            "'99999999999h'",
            "'x'",
            "'20'",
            "True",
            "1000",
            "1e-9",
            "0.5",
            "10**400",
            "''",
            "max=20",
            "retry_wait=fixed(30)",
            "min=2",
            "first=0",
            "long_poll=20",
            "stop=after_polls(3)",
        ]
    ),
    st.integers().map(str),
    st.floats().map(repr),
    st.integers(1, 30).map(str),
    st.floats(0.1, 60).map("{:.2f}".format),
)
NAMES = st.sampled_from([*CALLS, *PRESETS, "nope", "__import__", "fixd"])


@st.composite
def calls(draw) -> str:
    name = draw(NAMES)
    if name in PRESETS and draw(st.booleans()):
        return name
    return f"{name}({', '.join(draw(st.lists(ARGS, max_size=3)))})"


def combine(inner):
    joined = st.tuples(inner, st.sampled_from([" + ", " | ", " & "]), inner)
    wrapped = st.tuples(st.sampled_from(["full_jitter", "equal_jitter", "retry_after"]), inner)
    return st.one_of(
        joined.map("".join),
        wrapped.map(lambda t: f"{t[0]}({t[1]})"),
    )


strategy_texts = st.one_of(
    st.recursive(calls(), combine, max_leaves=6),
    st.text(max_size=40),
    st.integers(1, 3_000).map(lambda n: " + ".join(["fixed(1)"] * n)),
    st.integers(1, 3_000).map(lambda n: "|".join(["fixed(1)"] + ["after_polls(3)"] * n)),
    st.integers(1, 200).map(lambda n: "full_jitter(" * n + "fixed(1)" + ")" * n),
)


# --- the property ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Where the mutated files go, beside the example scenarios' replay CSV."""
    path = tmp_path_factory.mktemp("hostile")
    for csv in (ROOT / "scenarios").glob("*.csv"):
        shutil.copy(csv, path / csv.name)
    return path


@pytest.fixture(scope="module", autouse=True)
def small_bounds():
    with pytest.MonkeyPatch.context() as mp:
        for name, value in SMALL.items():
            mp.setattr(limits, name, value)
        yield


def run(argv: list[str]) -> tuple[int, str, str, list]:
    """``pollsim`` in process: exit status, stdout, stderr, and the warnings raised."""
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors: one line, exit status 2
            code = exc.code
    return code, out.getvalue(), err.getvalue(), caught


def check(argv: list[str]) -> None:
    code, out, err, caught = run(argv)
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err, err
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not numeric, [str(w.message) for w in numeric]
    if code == 2:
        assert err.startswith("pollsim") and err.count("\n") == 1, err
        assert "internal error" not in err
    else:
        assert out and not err, err


SETTINGS = settings(
    max_examples=RUNS,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(doc=scenarios(), horizon=st.sampled_from(["1m", "5m", None]))
def test_a_mutated_scenario_runs_or_is_one_line(folder, doc, horizon):
    path = folder / "s.toml"
    path.write_text(document(doc), encoding="utf-8")
    check(["simulate", str(path), "--quiet", *(["--horizon", horizon] if horizon else [])])


@SETTINGS
@given(text=strategy_texts)
def test_a_strategy_text_runs_or_is_one_line(text):
    check(["simulate", "--quiet", "--horizon", "1m", "--strategy", text])


def test_the_writer_reads_back_as_the_examples():
    for doc in SCENARIOS:
        assert tomllib.loads(document(doc)) == doc
    deep = {"x": nested(5_000), "y": [1.5, math.inf, "a\nb", {"k": [True]}]}
    assert document(deep).count("[") == 5_003
    assert tomllib.loads(document({"y": deep["y"]})) == {"y": deep["y"]}
