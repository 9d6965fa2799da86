"""No dialect is named outside its object (issue 12): the server, the OpenAPI document,
the live client and the command line read every dialect from ``sim.dialects``, so that
adding a dialect is one module there. The check: no string constant in the project's
Python outside ``sim/dialects/`` is a dialect's name. Prose that mentions one (a
docstring, a help text, a message) is no such constant and passes."""

from __future__ import annotations

import ast
from pathlib import Path

from sim.dialects import DIALECTS

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "mock_server", "loadtests", "pollsim")
#: where the dialects are defined and registered: the one place their names belong
HOME = ROOT / "sim" / "dialects"
#: issue 12's names, checked even before a dialect of that name is registered
NAMED = {"ordo", "fiddler", "workflow", "generic", "fiddler-v3", "azure-lro", "google-lro"}
NAMES = NAMED | set(DIALECTS)
#: strategy presets named after the SDK pollers they copy: a strategy's name, not a
#: dialect's, each in the one file that names the presets
PRESETS = {("sim/strategies/presets.py", "azure-lro"), ("sim/strategies/presets.py", "google-lro")}


def sources() -> list[Path]:
    """The project's Python modules, the dialects' own aside."""
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if HOME not in path.parents
    )


def named_dialects(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line: 'name'`` of each string constant in ``path`` that is a dialect's
    name, a preset strategy's own name aside (see ``PRESETS``)."""
    where = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=where)
    return [
        f"{where}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in NAMES
        and (where, node.value) not in PRESETS
    ]


def test_the_check_finds_a_name_as_a_value_and_passes_it_in_prose(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""The ordo dialect, in prose."""\n'
        'HELP = "speak ordo or google-lro"\n'
        'WHICH = {"ordo": 1}\n'
        'if WHICH == "google-lro":\n'
        "    pass\n"
    )
    assert sorted(named_dialects(probe, tmp_path)) == [
        "probe.py:3: 'ordo'",
        "probe.py:4: 'google-lro'",
    ]


def test_the_check_covers_the_projects_modules_and_every_registered_name():
    files = {p.relative_to(ROOT).as_posix() for p in sources()}
    assert {"loadtests/live.py", "mock_server/core.py", "pollsim/cli.py"} <= files
    assert "sim/scenario.py" in files and "sim/strategies/presets.py" in files
    assert not any(f.startswith("sim/dialects/") for f in files)
    assert set(DIALECTS) >= NAMED  # the names are all registered: none is stale


def test_no_dialect_is_named_outside_its_object():
    found = [hit for path in sources() for hit in named_dialects(path)]
    assert not found, "dialect names as values outside sim/dialects/:\n" + "\n".join(found)
