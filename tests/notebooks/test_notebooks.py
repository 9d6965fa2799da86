"""Every notebook, top to bottom, in quick mode, by a real Jupyter kernel: it must run
without an error, draw at least one figure, every figure with a title, axis labels with
units and a legend (``sim.plots.figure_problems``, checked as each one is drawn), and be
stored without outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.live, pytest.mark.slow]  # a real Jupyter kernel

#: run before the notebook's first cell: every figure drawn is checked as it is drawn
CHECK_FIGURES = """
import matplotlib.backend_bases as _backend
from sim.plots import figure_problems as _problems

_pollsim_problems = []
_pollsim_draw = _backend.FigureCanvasBase.print_figure


def _pollsim_checked(self, *args, **kwargs):
    _pollsim_problems.extend(_problems(self.figure))
    return _pollsim_draw(self, *args, **kwargs)


_backend.FigureCanvasBase.print_figure = _pollsim_checked
"""
REPORT_FIGURES = 'import json; print("POLLSIM-FIGURES", json.dumps(_pollsim_problems))'

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_notebook_is_stored_without_outputs(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_notebook_runs_in_quick_mode_and_draws(path, monkeypatch, tmp_path):
    monkeypatch.setenv("POLLSIM_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.chdir(tmp_path)  # whatever a notebook writes lands here
    nb = nbformat.read(path, as_version=4)
    first, last = (
        nbformat.v4.new_code_cell(CHECK_FIGURES),
        nbformat.v4.new_code_cell(REPORT_FIGURES),
    )
    first["id"], last["id"] = "pollsim-check-figures", "pollsim-report-figures"
    nb.cells = [first, *nb.cells, last]
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on any error, with the cell and traceback
    figures = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if "image/png" in out.get("data", {})
    ]
    assert figures, f"{path.name} drew no figure"
    report = "".join(out.get("text", "") for out in nb.cells[-1].outputs)
    problems = json.loads(report.partition("POLLSIM-FIGURES ")[2])
    assert not problems, f"{path.name}: " + "; ".join(problems)
    assert os.environ["POLLSIM_QUICK"] == "1"
