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
    if "strategies" in s:
        lines += ["", *format_polling(s)]
    return "\n".join(lines)


def _sec(x: float | None) -> str:
    return format_duration(x) if x is not None else "-"


def format_polling(s: dict) -> list[str]:
    """Load and detection latency per strategy, and what the server took. ``gave up``
    counts the jobs a client's stop ended (in brackets, those that went on to succeed);
    ``errored`` the jobs it stopped watching on an error answer, apart from those."""
    server = s["server"]
    load = server["requests_per_second"]
    lines = [
        f"  status API: {server['requests']:,} requests, {load['mean']:.1f}/s mean, "
        f"{load['p99']:.0f}/s p99, {load['max']:.0f}/s max (1 s bins)",
    ]
    codes = ", ".join(
        f"{k.removeprefix('http_')}: {v:,}" for k, v in server["by_http_status"].items()
    )
    lines.append(f"  answers: {codes}")
    if "queue_max" in server:
        lines.append(
            f"  queue: max {server['queue_max']:,}; workers {server['utilisation_mean']:.0%} busy"
        )
    names = list(s["strategies"])
    short = {n: (n if len(n) <= 24 else f"S{i + 1}") for i, n in enumerate(names)}
    lines += [
        "",
        f"  {'':<24}{'':>6}{'load (req/s)':>21}{'detection latency':>29}{'polls':>9}"
        f"{'gave up':>10}{'errored':>9}{'Retry-After':>13}",
        f"  {'strategy':<24}{'jobs':>6}{'mean':>7}{'p99':>7}{'max':>7}"
        f"{'mean':>8}{'p50':>7}{'p95':>7}{'p99':>7}{'/job':>9}{'(false)':>10}{'':>9}"
        f"{'violations':>13}",
    ]
    for name, m in s["strategies"].items():
        rps, lat = m["requests_per_second"], m["detection_latency_s"]
        gave = f"{m['gave_up']} ({m['false_give_ups']})"
        lines.append(
            f"  {short[name]:<24}{m['jobs']:>6,}{rps['mean']:>7.1f}{rps['p99']:>7.0f}"
            f"{rps['max']:>7.0f}{_sec(lat['mean']):>8}{_sec(lat['p50']):>7}{_sec(lat['p95']):>7}"
            f"{_sec(lat['p99']):>7}{m['polls_per_job']['mean']:>9.1f}{gave:>10}"
            f"{m.get('errored', 0):>9,}{m['retry_after_violations']:>13,}"
        )
    lines += [f"  {short[n]}: {n}" for n in names if short[n] != n]
    return lines
