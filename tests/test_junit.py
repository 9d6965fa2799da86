"""The JUnit XML that --junit writes, read back as a CI system reads it: one testsuite in
testsuites, a testcase per check and group, failures carrying the measured value, and
counts that agree with the cases."""

from __future__ import annotations

import argparse
import io
import xml.etree.ElementTree as ET

import pytest

from pollsim.assertions import Measures, gate, parse_all


def report(client: str = "alpha:token#1") -> dict:
    row = {"client": client, "detection_latency_s": 14.2, "polls": 4, "wasted_polls": 3}
    row |= {"retry_after_violations": 3, "gave_up": False, "errored": False, "unfinished": False}
    other = {**row, "client": "beta", "retry_after_violations": 0, "detection_latency_s": 2.0}
    return {"now": 60.0, "jobs": [row, other]}


def write(tmp_path, truth: dict, *asserts: str, clients=("*",)) -> tuple[int, ET.Element]:
    path = tmp_path / "out.xml"
    args = argparse.Namespace(asserts=list(asserts), clients=list(clients), junit=str(path))
    code = gate(parse_all(args), Measures.from_report(truth), args, out=io.StringIO())
    return code, ET.parse(path).getroot()


def test_one_suite_one_case_per_check_and_client_and_the_failure_names_the_value(tmp_path):
    code, root = write(
        tmp_path, report(), "retry_after_violations == 0", "p95(detection_latency) < 10s"
    )
    assert code == 1
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 4
    assert suite.get("tests") == "4" and suite.get("failures") == "2" and suite.get("errors") == "0"
    assert root.get("tests") == "4" and root.get("failures") == "2"
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failed) == {
        "retry_after_violations == 0 [alpha:token#1]",
        "p95(detection_latency) < 10s [alpha:token#1]",
    }
    message = failed["retry_after_violations == 0 [alpha:token#1]"].get("message")
    assert message == ("FAIL retry_after_violations == 0: measured 3 (client alpha:token#1, 1 job)")
    assert "measured 14.2s" in failed["p95(detection_latency) < 10s [alpha:token#1]"].get("message")
    for case in cases:  # what CI systems need of every case
        assert case.get("classname") and case.get("name") and case.get("time") == "0"


def test_a_passing_run_has_no_failure_elements(tmp_path):
    code, root = write(tmp_path, report(), "gave_up == 0", clients=())
    assert code == 0
    assert root.find("testsuite").get("failures") == "0"
    assert root.find(".//failure") is None
    assert root.find(".//testcase").get("name") == "gave_up == 0 [(all)]"


def test_client_ids_that_xml_cannot_carry_are_replaced_and_markup_escaped(tmp_path):
    hostile = 'c<"&>\x1b[31m\x00é'
    code, root = write(tmp_path, report(hostile), "retry_after_violations == 0")
    assert code == 1  # it parsed back: nothing broke the document
    names = [c.get("name") for c in root.iter("testcase")]
    assert 'retry_after_violations == 0 [c<"&>?[31m?é]' in names


def test_no_checks_write_an_empty_suite(tmp_path):
    code, root = write(tmp_path, report(), clients=())
    assert code == 0 and root.find("testsuite").get("tests") == "0"


def test_no_asserts_still_writes_an_empty_suite(tmp_path):
    code, root = write(tmp_path, report(), clients=())
    assert code == 0
    assert root.find("testsuite").get("tests") == "0"
    assert root.find(".//testcase") is None


def test_a_client_named_all_and_the_totals_are_told_apart_and_classnames_have_no_dots(
    tmp_path,
):
    path = tmp_path / "out.xml"
    args = argparse.Namespace(asserts=["gave_up == 0"], clients=["all"], junit=str(path))
    gate(parse_all(args), Measures.from_report(report("all")), args, out=io.StringIO())
    args = argparse.Namespace(asserts=["gave_up == 0"], clients=[], junit=str(path))
    gate(parse_all(args), Measures.from_report(report("all")), args, out=io.StringIO())
    total = ET.parse(path).getroot().find(".//testcase")
    assert total.get("name") == "gave_up == 0 [(all)]"
    assert "." not in total.get("classname")


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("missing/out.xml", "does not exist"),
        ("", "empty"),
        (".", "a folder"),
    ],
)
def test_check_path_refuses_before_the_run(tmp_path, monkeypatch, where, says):
    from pollsim.junit import check_path

    monkeypatch.chdir(tmp_path)
    line = check_path(where)
    assert line is not None and says in line and "\n" not in line
    assert not (tmp_path / "missing").exists()


def test_check_path_refuses_proc_and_a_read_only_folder(tmp_path):
    import os

    from pollsim.junit import check_path

    if os.path.isdir("/proc"):
        assert "cannot write: the folder '/proc' takes no new file" in (
            check_path("/proc/x.xml") or ""
        )
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root writes anyway
            pytest.skip("running as root")
        assert "permission denied" in (check_path(str(ro / "x.xml")) or "")
    finally:
        ro.chmod(0o700)
    assert check_path(str(tmp_path / "ok.xml")) is None
    assert not (tmp_path / "ok.xml").exists()  # the probe leaves nothing behind
    assert check_path("-") is None


def test_junit_dash_writes_the_xml_to_stdout(capfdbinary):
    args = argparse.Namespace(asserts=["gave_up == 0"], clients=[], junit="-")
    code = gate(parse_all(args), Measures.from_report(report()), args, out=io.StringIO())
    assert code == 0
    root = ET.fromstring(capfdbinary.readouterr().out)
    assert root.find(".//testcase").get("name") == "gave_up == 0 [(all)]"
    assert not __import__("os").path.exists("-")


def test_junit_dash_keeps_the_pass_fail_lines_off_stdout(capfd):
    args = argparse.Namespace(asserts=["gave_up == 0"], clients=[], junit="-")
    gate(parse_all(args), Measures.from_report(report()), args)
    out, err = capfd.readouterr()
    assert ET.fromstring(out).tag == "testsuites"
    assert err.startswith("PASS gave_up == 0")


def test_a_write_that_fails_after_the_run_is_one_line_after_the_verdict(tmp_path, capsys):
    path = tmp_path / "gone" / "out.xml"
    (tmp_path / "gone").mkdir()
    args = argparse.Namespace(asserts=["gave_up == 0"], clients=[], junit=str(path))
    checks = parse_all(args)
    (tmp_path / "gone").rmdir()  # the folder goes during the run
    out = io.StringIO()
    assert gate(checks, Measures.from_report(report()), args, out=out) == 2
    assert out.getvalue().startswith("PASS gave_up == 0")
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "cannot write after the run" in err and str(path) in err
