"""The summary of ``pollsim simulate`` as text a person reads at a terminal.

Every table goes through :func:`pollsim.tables.render`, so that its columns take the
width of their contents: a four-digit count of give-ups or a long strategy name widens
its column instead of pushing the rest of the row out of line. The answers of the
status API are printed as the clients got them and as the server gave them, every kind
that ``summary.json`` counts (``server.answers`` and ``server.by_http_status``), so an
outage that timed requests out shows in the text as it does in the JSON.
"""

from __future__ import annotations

from pollsim.tables import Column, render
from sim.durations import format_duration

_STATS = ("mean", "p50", "p95", "p99", "max")
#: strategy names longer than this are shown as S1, S2... with the full name below the table
LONGEST_NAME = 28
#: words for the answers that are not an HTTP status (``sim.polling_summary``)
ANSWER_WORDS = {"timeout": "timed out", "no_answer": "none (dropped)"}


def _sec(x: float | None) -> str:
    return format_duration(x) if x is not None else "-"


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
    ]
    outcomes = [
        [name, f"{o['jobs']:,}", f"{o['share']:.1%}" if o["share"] is not None else "-"]
        for name, o in s["outcomes"].items()
    ]
    lines += render([Column("outcome", "<"), Column("jobs"), Column("share of ended")], outcomes)
    times = [
        [label, *(_sec(s[key][k]) for k in _STATS)]
        for label, key in (
            ("duration", "duration_s"),
            ("queued", "queued_s"),
            ("in retry_wait", "retry_wait_s"),
        )
    ]
    lines += ["", *render([Column("time per job", "<"), *map(Column, _STATS)], times)]
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


def answer_name(key: str) -> str:
    """How the text names an answer counted in ``summary.json``: ``http_503`` is "503",
    ``timeout`` "timed out", ``no_answer`` "none (dropped)"."""
    return ANSWER_WORDS.get(key, key.removeprefix("http_"))


def format_answers(server: dict) -> list[str]:
    """The answers as the clients got them (``answers``) and as the server gave them
    (``by_http_status``): one line when the two agree, else one each, the server's 200s
    saying how many came too late, after their clients had timed out."""
    gave = {k: v for k, v in server["by_http_status"].items() if v}
    gave = dict(sorted(gave.items(), key=lambda kv: (kv[0] == "no_answer", kv[0])))
    got = server.get("answers", gave)  # a summary written before clients' answers counted
    if got == gave:
        return [f"  answers: {_counts(got)}"]
    late = got.get("timeout", 0) - gave.get("no_answer", 0)
    notes = {"http_200": f" ({late:,} too late)"} if late > 0 else {}
    return [
        f"  answers the clients got: {_counts(got)}",
        f"  answers the server gave: {_counts(gave, notes)}",
    ]


def _counts(counts: dict[str, int], notes: dict[str, str] | None = None) -> str:
    notes = notes or {}
    return "; ".join(f"{answer_name(k)}: {v:,}{notes.get(k, '')}" for k, v in counts.items())


def format_polling(s: dict) -> list[str]:
    """What the status API took and answered, then two tables per strategy: the load it
    put on the API and its detection latency; what its clients did (requests and error
    answers, jobs whose client gave up, of them in brackets the false give-ups whose job
    went on to succeed, jobs whose client *errored*, stopping on an error answer, apart
    from those, and requests sent before a Retry-After allowed)."""
    server = s["server"]
    load = server["requests_per_second"]
    lines = [
        f"  status API: {server['requests']:,} requests, {load['mean']:.1f}/s mean, "
        f"{load['p99']:.0f}/s p99, {load['max']:.0f}/s max (1 s bins)",
        *format_answers(server),
    ]
    if "queue_max" in server:
        lines.append(
            f"  queue: max {server['queue_max']:,}; workers {server['utilisation_mean']:.0%} busy"
        )
    names = list(s["strategies"])
    short = {n: (n if len(n) <= LONGEST_NAME else f"S{i + 1}") for i, n in enumerate(names)}
    lines += ["", *strategy_tables(s["strategies"], short)]
    lines += [f"  {short[n]}: {n}" for n in names if short[n] != n]
    return lines


def strategy_tables(strategies: dict, short: dict[str, str]) -> list[str]:
    """The two per-strategy tables, a blank line between them."""
    load, lat = "load (req/s)", "detection latency"
    first = [
        Column("strategy", "<"),
        Column("jobs"),
        *(Column(k, group=load) for k in ("mean", "p99", "max")),
        *(Column(k, group=lat) for k in ("mean", "p50", "p95", "p99")),
    ]
    req, whose = "requests", "jobs whose client"
    second = [
        Column("strategy", "<"),
        Column("per job", group=req),
        Column("error answers", group=req),
        Column("gave up (false)", group=whose),
        Column("errored", group=whose),
        Column("violations", group="Retry-After"),
    ]
    rows1, rows2 = [], []
    for name, m in strategies.items():
        rps, latency = m["requests_per_second"], m["detection_latency_s"]
        rows1.append(
            [
                short[name],
                f"{m['jobs']:,}",
                f"{rps['mean']:.1f}",
                f"{rps['p99']:.0f}",
                f"{rps['max']:.0f}",
                *(_sec(latency[k]) for k in ("mean", "p50", "p95", "p99")),
            ]
        )
        rows2.append(
            [
                short[name],
                f"{m['polls_per_job']['mean']:.1f}",
                f"{m.get('errors', 0):,}",
                f"{m['gave_up']:,} ({m['false_give_ups']:,})",
                f"{m.get('errored', 0):,}",
                f"{m['retry_after_violations']:,}",
            ]
        )
    return [*render(first, rows1), "", *render(second, rows2)]
