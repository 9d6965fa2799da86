"""``pollsim simulate`` prints every kind of answer that its ``summary.json`` counts, with
the same numbers: the answers as the clients got them (timeouts included) and as the
server gave them, for the outage_herd scenario (cut to a tenth of its clients) and for a
scenario with every fault the server model injects. A real process, as users run it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from pollsim.summary_text import answer_name, format_answers
from tests.sim.summary_scenarios import FAULTS, ROOT, small_herd


def printed_answers(text: str) -> dict[str, dict[str, int]]:
    """The answers lines of a summary: {"clients" | "server" | "both": {name: count}}."""
    found = {}
    for line in text.splitlines():
        m = re.fullmatch(r"  answers(?: the (clients) got| the (server) gave)?: (.*)", line)
        if m:
            counts = {}
            for part in m[3].split("; "):
                name, count = re.fullmatch(r"(.+): ([\d,]+)(?: \(.*\))?", part).groups()
                counts[name] = int(count.replace(",", ""))
            found[m[1] or m[2] or "both"] = counts
    return found


def named(counts: dict[str, int]) -> dict[str, int]:
    return {answer_name(k): v for k, v in counts.items() if v}


@pytest.mark.parametrize(("name", "scenario"), [("herd", small_herd()), ("faults", FAULTS)])
def test_the_text_shows_every_answer_summary_json_counts(tmp_path, name, scenario):
    path = tmp_path / f"{name}.toml"
    path.write_text(scenario)
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "pollsim", "simulate", str(path), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    server = json.loads((out / "summary.json").read_text())["server"]
    shown = printed_answers(r.stdout)
    assert shown == {"clients": named(server["answers"]), "server": named(server["by_http_status"])}
    assert shown["clients"]["timed out"] > 0


def test_one_line_when_the_clients_got_what_the_server_gave():
    server = {"by_http_status": {"http_200": 1200}, "answers": {"http_200": 1200}}
    assert format_answers(server) == ["  answers: 200: 1,200"]
    assert printed_answers("\n".join(format_answers(server))) == {"both": {"200": 1200}}


def test_the_servers_late_answers_and_dropped_requests_are_named():
    server = {
        "by_http_status": {"no_answer": 7, "http_200": 100, "http_503": 3},
        "answers": {"http_200": 95, "http_503": 3, "timeout": 12},
    }
    assert format_answers(server) == [
        "  answers the clients got: 200: 95; 503: 3; timed out: 12",
        "  answers the server gave: 200: 100 (5 too late); 503: 3; none (dropped): 7",
    ]
