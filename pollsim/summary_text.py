"""The summary of ``pollsim simulate`` as text a person reads at a terminal."""

from __future__ import annotations

from sim.durations import format_duration

_STATS = ("mean", "p50", "p95", "p99", "max")


def _row(label: str, stats: dict, fmt=format_duration) -> str:
    cells = [fmt(stats[k]) if stats[k] is not None else "-" for k in _STATS]
    return f"  {label:<16}" + "".join(f"{c:>9}" for c in cells)


def format_summary(s: dict) -> str:
    jobs = s["jobs"]
    workers = s["workers"] if s["workers"] is not None else "unlimited"
    lines = [
        f"pollsim simulate: {s['scenario']} ({s['source']}), seed {s['seed']}, "
        f"dialect {s['dialect']}, {workers} workers",
        f"jobs arrived for {format_duration(s['horizon_s'])}; the run ended at "
        f"{format_duration(s['simulated_s'])} of simulated time, "
        f"{s['state_changes']:,} state changes",
        "",
        f"  {jobs['submitted']:,} jobs submitted, {jobs['ended']:,} ended, "
        f"{jobs['unfinished']:,} unfinished at the end",
        "",
        f"  {'outcome':<16}{'jobs':>9}{'share':>9}",
    ]
    for name, o in s["outcomes"].items():
        share = f"{o['share']:.1%}" if o["share"] is not None else "-"
        lines.append(f"  {name:<16}{o['jobs']:>9,}{share:>9}")
    lines += ["", f"  {'time per job':<16}" + "".join(f"{k:>9}" for k in _STATS)]
    lines.append(_row("duration", s["duration_s"]))
    lines.append(_row("queued", s["queued_s"]))
    lines.append(_row("in retry_wait", s["retry_wait_s"]))
    r = s["retries_per_job"]
    if r["mean"] is not None:
        lines += [
            "",
            f"  retries per job: mean {r['mean']:.2f}, max {r['max']}; "
            f"{r['share_with_retry']:.1%} of jobs retried at least once",
        ]
    for action, a in sorted(s["actions"].items()):
        lines.append(f"  {action}: {a['asked']:,} asked, {a['refused']:,} refused by the dialect")
    return "\n".join(lines)
