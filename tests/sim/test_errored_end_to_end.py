"""End to end: a strategy that stops on an error answer (``on_error='stop'``) meets a 503
outage of the status API, and ``pollsim simulate --json`` counts its clients errored,
apart from give-ups; the same strategy riding through errors (the default) counts none."""

from __future__ import annotations

import json
import subprocess
import sys

STOPS = "poll(fixed(5), first=0, on_error='stop')"
RIDES = "poll(fixed(5), first=0)"
SCENARIO = f"""
name = "outage_errored"
seed = 3
horizon = 1
[arrivals]
kind = "none"
bursts = [{{ at = 0, count = 200 }}]
[workers]
capacity = "unlimited"
[reporting]
lag = 0
[[templates]]
name = "long"
[[templates.steps]]
id = "work"
duration = "6m"
[clients]
strategies = [{{ strategy = "{STOPS}", weight = 1 }}, {{ strategy = "{RIDES}", weight = 1 }}]
start_delay = {{ dist = "uniform", low = 0, high = 5 }}
[server]
retry_after = "5s"
[[server.outages]]
start = "2m"
duration = "60s"
mode = "503"
"""


def test_clients_that_stop_on_the_outages_first_503_are_errored_not_given_up(tmp_path):
    path = tmp_path / "outage.toml"
    path.write_text(SCENARIO)
    r = subprocess.run(
        [sys.executable, "-m", "pollsim", "simulate", str(path), "--json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    strategies = json.loads(r.stdout)["strategies"]
    stops, rides = strategies[STOPS], strategies[RIDES]
    # every job runs past the outage's start (2 min into its 6): each stopping client
    # meets a 503 and stops there, none sees an end, none gives up
    assert stops["errored"] == stops["jobs"] > 50
    assert stops["gave_up"] == stops["false_give_ups"] == 0
    assert stops["detection_latency_s"]["mean"] is None
    # polls at its start (0-5 s) and every 5 s (and a round trip) to the first at or
    # after 120 s: 24 or 25 requests, the last of them the 503 it stopped on
    assert 24 <= stops["polls_per_job"]["mean"] <= 25
    assert stops["errors"] == stops["jobs"]
    assert rides["errored"] == rides["gave_up"] == 0 and rides["jobs"] > 50
    assert rides["errors"] > 10 * rides["jobs"]  # it asked on through the minute of 503s
