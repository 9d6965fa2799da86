"""JUnit XML for the checks of one run, as CI systems read it (Jenkins, GitLab, GitHub
Actions' test reporters): one ``<testsuite>`` inside ``<testsuites>``, one ``<testcase>``
per check and group, a ``<failure>`` whose ``message`` carries the measured value.

Written with :mod:`xml.etree.ElementTree`, which escapes what a client id may hold; the
characters XML 1.0 cannot carry at all (control characters) are replaced with ``?``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("?", text)


def junit_tree(results: Sequence, suite: str) -> ET.ElementTree:
    """The document for ``results`` (:class:`pollsim.assertion_measures.Result`)."""
    failures = sum(not r.passed for r in results)
    root = ET.Element(
        "testsuites", name="pollsim", tests=str(len(results)), failures=str(failures), errors="0"
    )
    ts = ET.SubElement(
        root,
        "testsuite",
        name=_clean(suite),
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        skipped="0",
        time="0",
    )
    for r in results:
        group = "all" if r.group == "*" else r.group
        case = ET.SubElement(
            ts,
            "testcase",
            name=_clean(f"{r.check.name} [{group}]"),
            classname=_clean(f"{suite}.{group}"),
            time="0",
        )
        if not r.passed:
            failure = ET.SubElement(case, "failure", message=_clean(r.line), type="AssertionFailed")
            failure.text = _clean(f"{r.line}\nas written: {r.check.text}")
        else:
            out = ET.SubElement(case, "system-out")
            out.text = _clean(r.line)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(path: Path, results: Sequence, suite: str) -> None:
    """Write the JUnit XML for ``results`` to ``path`` (OSError when it cannot)."""
    junit_tree(results, suite).write(path, encoding="utf-8", xml_declaration=True)
