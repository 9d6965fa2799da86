import pytest

from sim.scripts import Script
from tests.helpers import step, template

T = template(step("a"), step("b", 60, "a"), step("c", 60, "a", optional=True))


def test_forced_outcomes_as_clients_write_them():
    assert Script.parse("succeed", T).outcome("b", 1) == "success"
    assert Script.parse("fail_step:b", T).outcome("b", 1) == "permanent"
    assert Script.parse("transient_failures:3", T).outcomes == {"a": ("transient",) * 3}
    assert Script.parse("partial", T).outcome("c", 1) == "permanent"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("explode", "expected one of succeed, fail_step:<id>"),
        ("fail_step:z", r"fail_step:z: expected a step of 't'"),
        ("transient_failures:x", "expected one of"),
    ],
)
def test_bad_forced_outcomes(text, message):
    with pytest.raises(ValueError, match=message):
        Script.parse(text, T)


def test_partial_needs_an_optional_step():
    with pytest.raises(ValueError, match="no optional step"):
        Script.parse("partial", template(step("a")))


def test_bad_scripts_are_refused():
    with pytest.raises(ValueError, match="outcome 'boom' for step 'a'"):
        Script({"a": ("boom",)})
