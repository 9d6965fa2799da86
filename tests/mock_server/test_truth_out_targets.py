"""--truth-out's target checked at start: special files written directly (not replaced
by a rename), an empty or too long name refused, a dead server's temporary file removed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from types import SimpleNamespace

import pytest

import mock_server.admin_report
from mock_server import truth_out
from tests.mock_server.server import QA

DEAD_PID = 2**22 + 1  # above Linux's largest pid: never running


@pytest.fixture
def core(monkeypatch):
    monkeypatch.setattr(mock_server.admin_report, "builder", lambda core, until: lambda _: b"{}")
    return SimpleNamespace(model=SimpleNamespace(advance=lambda: 5.0))


@pytest.mark.skipif(not os.access("/dev/null", os.W_OK), reason="no writable /dev/null")
def test_dev_null_stays_a_character_device(core):
    assert truth_out.writable("/dev/null") is None
    assert truth_out.write(core, "/dev/null") == {}
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_regular_file_is_still_written(core, tmp_path):
    target = tmp_path / "truth.json"
    assert truth_out.writable(target) is None
    truth_out.write(core, target)
    assert target.read_text() == "{}" and os.listdir(tmp_path) == ["truth.json"]


@pytest.mark.parametrize("name, says", [("", "empty"), ("x" * 250, "cannot write in")])
def test_an_empty_or_too_long_name_is_a_problem_found_at_start(tmp_path, name, says):
    path = name if not name else str(tmp_path / name)
    assert says in truth_out.writable(path)


def test_serve_refuses_an_empty_truth_out_in_one_line():
    args = ["serve", str(QA), "--port", "0", "--truth-out", ""]
    done = subprocess.run(
        [sys.executable, "-m", "pollsim", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "--truth-out" in done.stderr and "empty" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_dead_servers_temporary_file_is_removed_at_start(tmp_path):
    stale = tmp_path / f".truth.json.{DEAD_PID}.tmp"
    alive = tmp_path / f".truth.json.{os.getppid()}.tmp"
    other = tmp_path / f".other.json.{DEAD_PID}.tmp"
    for f in (stale, alive, other):
        f.write_text("half")
    assert truth_out.writable(tmp_path / "truth.json") is None
    assert not stale.exists() and alive.exists() and other.exists()
