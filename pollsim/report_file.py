"""``pollsim report --truth FILE``: the ground truth a ``pollsim serve --truth-out``
wrote (the report's JSON), read and checked to have a report's shape."""

from __future__ import annotations

import json
from pathlib import Path

from pollsim.failing import fail as _fail


def load_truth(path: Path) -> dict | int:
    """The report in the file, or the exit status after one line saying why not."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return _fail(f"--truth {path}: cannot read: {exc.strerror or exc}")
    except (ValueError, UnicodeDecodeError) as exc:
        return _fail(f"--truth {path}: not JSON (truncated?): {str(exc)[:80]}")
    if not _is_report(report):
        return _fail(
            f"--truth {path}: not a ground truth report (expected the JSON pollsim serve "
            "--truth-out writes: jobs, clients and totals)"
        )
    return report


def _is_report(report: object) -> bool:
    """Whether a JSON value has a report's shape, as far as the table and gate read it."""
    if not isinstance(report, dict):
        return False
    jobs, clients, totals = report.get("jobs"), report.get("clients"), report.get("totals")
    return (
        isinstance(jobs, list)
        and isinstance(clients, list)
        and isinstance(totals, dict)
        and all(isinstance(r, dict) for r in [*jobs, *clients])
        and isinstance(report.get("now"), int | float)
        and isinstance(report.get("speed"), int | float)
        and all(k in r for r in [*clients, totals] for k in _SUMMARY_KEYS)
    )


#: what format_report reads from each client's row and from the totals
_SUMMARY_KEYS = (
    "jobs",
    "polls",
    "polls_per_job",
    "wasted_polls",
    "requests_after_seen",
    "retry_after_violations",
    "gave_up",
    "detection_latency_s",
)
