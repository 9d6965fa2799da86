"""``pollsim report --truth FILE``: the ground truth a ``pollsim serve --truth-out``
wrote, read and gated as one fetched from a server."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from pollsim.cli import main
from tests.test_report_gate import full_report


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["report", *argv])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def truth(tmp_path):
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(full_report()))
    return path


def test_a_truth_file_is_gated_per_client_with_junit_and_csv(truth, tmp_path):
    junit, rows = tmp_path / "r.xml", tmp_path / "rows.csv"
    code, out, err = run(
        "--truth", str(truth), "--client", "good", "--client", "rude",
        "--assert", "retry_after_violations == 0", "--junit", str(junit), "--csv", str(rows),
    )  # fmt: skip
    assert code == 1, err
    assert "FAIL retry_after_violations == 0: measured 4 (client rude, 1 job)" in out
    assert "measured 4" in ET.parse(junit).getroot().find(".//failure").get("message")
    assert len(rows.read_text().splitlines()) == 4  # header and three jobs
    code, out, err = run("--truth", str(truth), "--json", "--client", "good")
    assert code == 0, err
    assert json.loads(out)["totals"]["jobs"] == 2


def test_an_unknown_client_in_a_truth_file_is_one_line_and_exit_2(truth):
    code, _, err = run("--truth", str(truth), "--client", "godo")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "good" in err


@pytest.mark.parametrize(
    "text, said",
    [
        ('{"jobs": [', "not JSON"),
        ("[]", "not a ground truth report"),
        ('{"jobs": [], "clients": [], "totals": {}}', "not a ground truth report"),
    ],
)
def test_a_file_that_is_not_a_report_is_one_line_and_exit_2(tmp_path, text, said):
    path = tmp_path / "t.json"
    path.write_text(text)
    code, _, err = run("--truth", str(path), "--assert", "gave_up == 0")
    assert code == 2
    assert err.count("\n") == 1 and said in err and "Traceback" not in err


def test_server_and_truth_are_one_or_the_other(truth):
    code, _, err = run("--truth", str(truth), "--server", "http://127.0.0.1:9")
    assert code == 2 and "not allowed with" in err
    code, _, err = run("--assert", "gave_up == 0")
    assert code == 2 and "--server" in err and "--truth" in err


def test_junit_to_stdout_keeps_stdout_for_the_xml_alone(truth):
    argv = ["report", "--truth", str(truth), "--assert", "max(polls) <= 9", "--junit", "-"]
    done = subprocess.run(
        [sys.executable, "-m", "pollsim", *argv], capture_output=True, text=True, timeout=120
    )
    code, out, err = done.returncode, done.stdout, done.stderr
    assert code == 0, err
    assert ET.fromstring(out).tag in ("testsuite", "testsuites")
    assert "ground truth at" in err and "PASS max(polls) <= 9" in err
