"""``pollsim simulate --junit``: a file a CI system reads, even with no ``--assert``
(an empty suite); with ``-`` the XML alone on stdout, the summary on stderr."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import xml.etree.ElementTree as ET

from pollsim.cli import main

SHORT = ["simulate", "--horizon", "10m", "--quiet"]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([*SHORT, *argv])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_junit_without_assert_writes_an_empty_suite(tmp_path):
    junit = tmp_path / "sim.xml"
    code, out, err = run("--junit", str(junit))
    assert code == 0, err
    assert "detection latency" in out.lower()  # the summary, as without --junit
    root = ET.parse(junit).getroot()
    assert root.findall(".//testcase") == []


def test_junit_to_stdout_keeps_the_summary_off_it():
    """Run as a user runs it: the XML goes to the process's own stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "pollsim", *SHORT, "--junit", "-", "--assert", "gave_up == 0"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out, err = done.stdout, done.stderr
    assert done.returncode in (0, 1), err
    root = ET.fromstring(out)  # stdout is the XML alone
    assert len(root.findall(".//testcase")) >= 1
    assert "detection latency" in err.lower()
