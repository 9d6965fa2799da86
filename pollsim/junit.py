"""JUnit XML for the checks of one run, as CI systems read it (Jenkins, GitLab, GitHub
Actions' test reporters): one ``<testsuite>`` inside ``<testsuites>``, one ``<testcase>``
per check and group, a ``<failure>`` whose ``message`` carries the measured value.

Written with :mod:`xml.etree.ElementTree`, which escapes what a client id may hold; the
characters XML 1.0 cannot carry at all (control characters) are replaced with ``?``.
"""

from __future__ import annotations

import errno
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

#: the totals' group, named so that no client or strategy label can be taken for it
TOTALS = "(all)"

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
        group = TOTALS if r.group == "*" else r.group
        case = ET.SubElement(
            ts,
            "testcase",
            name=_clean(f"{r.check.name} [{group}]"),
            classname=_clean(suite.replace(".", "_")),
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


def check_path(path: str | os.PathLike | None) -> str | None:
    """Before the run: why ``--junit PATH`` cannot be written (one line, for exit 2), or
    None. ``-`` is stdout; ``''`` is refused; a folder, a missing folder, a folder or
    file without write permission, a special file (/proc) are found here, not after."""
    if path is None:
        return None
    text = os.fspath(path)
    if text == "-":
        return None
    if not text.strip():
        return "--junit '': empty; expected a file to write (or - for stdout)"
    p = Path(text)
    where = f"--junit {text!r}"
    if p.is_dir():
        return f"{where}: a folder; expected a file to write"
    folder = p.parent
    if not folder.is_dir():
        return f"{where}: the folder {str(folder)!r} does not exist"
    if p.exists():
        if not p.is_file():
            return f"{where}: not a regular file; expected a file to write"
        if not os.access(p, os.W_OK):
            return f"{where}: cannot write: permission denied"
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{where}: cannot write in the folder {str(folder)!r}: permission denied"
    try:  # a folder that says yes and refuses anyway (/proc, a read-only mount)
        with open(p, "xb"):
            pass
    except OSError as exc:
        why = exc.strerror or str(exc)
        if exc.errno == errno.ENOENT:  # the folder is there but takes no new file
            why = f"the folder {str(folder)!r} takes no new file ({why})"
        return f"{where}: cannot write: {why}"
    p.unlink()
    return None


def write_junit(path: str | os.PathLike, results: Sequence, suite: str) -> None:
    """Write the JUnit XML for ``results`` to ``path``, ``-`` for stdout (OSError when
    it cannot). No results: a valid suite with no test case."""
    tree = junit_tree(results, suite)
    if os.fspath(path) == "-":
        sys.stdout.flush()
        tree.write(sys.stdout.buffer, encoding="utf-8", xml_declaration=True)
        sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
        return
    tree.write(path, encoding="utf-8", xml_declaration=True)
