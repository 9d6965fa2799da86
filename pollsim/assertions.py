"""Assertions that gate a build: ``--assert 'p95(detection_latency) < 10s'`` on
``pollsim report``, ``pollsim simulate`` and ``pollsim loadtest``.

How a command uses it::

    from pollsim.assertions import add_assert_arguments, parse_all, Measures, gate

    add_assert_arguments(parser)          # --assert EXPR, --client NAME, --junit FILE
    checks = parse_all(args)              # before any long work; AssertionSyntax -> exit 2
    ...                                   # the run
    measures = Measures.from_report(truth)   # or Measures(jobs=..., load=..., source=...)
    return gate(checks, measures, args)   # a line per check; 0 all passed, 1 one failed,
                                          # 2 the measures cannot answer a check

The grammar lives in :mod:`pollsim.assertion_grammar`, the measures in
:mod:`pollsim.assertion_measures`, the JUnit XML in :mod:`pollsim.junit`.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from pollsim.assertion_grammar import (
    AGGREGATES,
    METRICS,
    AssertionSyntax,
    Check,
    parse_assertion,
    suggest,
)
from pollsim.assertion_measures import (
    ALL,
    Measures,
    Result,
    evaluate,
    load_frame,
    quoted,
    require,
    resolve_groups,
)

__all__ = [
    "AGGREGATES",
    "ALL",
    "ASSERT_HELP",
    "METRICS",
    "AssertionSyntax",
    "Check",
    "Measures",
    "Result",
    "add_assert_arguments",
    "check_all",
    "gate",
    "load_frame",
    "parse_all",
    "parse_assertion",
    "quoted",
    "suggest",
]

ASSERT_HELP = (
    "fail (exit 1) unless this holds, e.g. 'p95(detection_latency) < 10s', "
    "'retry_after_violations == 0', 'mean(gave_up) <= 1%%', "
    "'mean(requests_per_second) <= 50' (repeatable; see the README's "
    '"Gating a build")'
)


def add_assert_arguments(parser: argparse.ArgumentParser, noun: str = "client") -> None:
    """``--assert EXPR`` (repeatable), ``--client NAME`` (repeatable; a client or strategy
    label, ``'*'`` for each on its own) and ``--junit FILE``."""
    g = parser.add_argument_group("assertions (exit 1 when one fails)")
    g.add_argument(
        "--assert",
        dest="asserts",
        action="append",
        default=[],
        metavar="EXPR",
        help=ASSERT_HELP + f"; metrics: {', '.join(METRICS)}; aggregates: {', '.join(AGGREGATES)}",
    )
    g.add_argument(
        "--client",
        dest="clients",
        action="append",
        default=[],
        metavar="NAME",
        help=f"check the assertions on this {noun} alone (repeatable: each on its own; "
        f"'*' for every {noun} on its own; default: all together)",
    )
    g.add_argument(
        "--junit",
        metavar="FILE",
        help="also write the checks as JUnit XML to FILE (one testcase per check and "
        f"{noun}), for CI systems",
    )


def parse_all(args: argparse.Namespace) -> list[Check]:
    """Every ``--assert`` of ``args``, read; :class:`AssertionSyntax` for the first bad
    one (its message is the one line to print before exiting 2), or for a ``--junit``
    file that could not be written (a folder that does not exist, a folder itself)."""
    from pollsim.junit import check_path

    checks = [parse_assertion(text) for text in getattr(args, "asserts", None) or []]
    problem = check_path(getattr(args, "junit", None))
    if problem:
        raise AssertionSyntax(problem)
    return checks


def check_all(
    checks: list[Check], measures: Measures, clients: list[str] | None = None
) -> list[Result]:
    """Each check over each group asked for; :class:`AssertionSyntax` when the measures
    cannot answer (a metric the source lacks, an unknown ``--client``)."""
    require(checks, measures)
    groups = resolve_groups(measures, clients)
    return [evaluate(c, measures, g) for c in checks for g in groups]


def gate(
    checks: list[Check],
    measures: Measures,
    args: argparse.Namespace,
    out: TextIO | None = None,
) -> int:
    """Print a PASS/FAIL line per check and group to ``out`` (stdout), write ``--junit``,
    and return 0 when every check passed, 1 when one failed, 2 (after one line on stderr)
    when the measures cannot answer a check or the JUnit file cannot be written. No
    checks: nothing printed, 0 (an empty suite written for --junit)."""
    out = sys.stdout if out is None else out
    if getattr(args, "junit", None) == "-" and out is sys.stdout:
        out = sys.stderr  # stdout carries the XML alone
    try:
        results = check_all(checks, measures, getattr(args, "clients", None))
    except AssertionSyntax as exc:
        print(f"pollsim: {exc}", file=sys.stderr)
        return 2
    for r in results:
        print(r.line, file=out)
    junit = getattr(args, "junit", None)
    if junit is not None:
        from pollsim.junit import write_junit

        try:
            write_junit(junit, results, f"pollsim.{measures.source}")
        except OSError as exc:
            why = exc.strerror or str(exc)
            print(f"pollsim: --junit {junit!r}: cannot write after the run: {why}", file=sys.stderr)
            return 2
    return 1 if any(not r.passed for r in results) else 0
