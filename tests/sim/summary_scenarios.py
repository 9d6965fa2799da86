"""Small scenarios with failures for the summary's tests: outage_herd cut to a tenth of
its clients (the same stall, strategies and timeout), and one with every fault the server
model injects (a full queue's 429s, a 503 outage, dropped requests, a stall) and a
request timeout that a queued request can outlast."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERD_CLIENTS = 200
#: seconds a faults client waits for an answer
FAULTS_TIMEOUT = 4.0


def small_herd() -> str:
    text = (ROOT / "scenarios" / "outage_herd.toml").read_text()
    assert "count = 2000" in text  # the scenario as shipped
    return text.replace("count = 2000", f"count = {HERD_CLIENTS}")


FAULTS = f"""
name = "faults"
seed = 3
horizon = "3m"

[arrivals]
kind = "none"
bursts = [{{ at = 0, count = 60 }}, {{ at = 100, count = 60 }}]

[workers]
capacity = "unlimited"

[[templates]]
name = "short"
[[templates.steps]]
id = "work"
duration = "4m"

[clients]
strategies = [
  {{ strategy = "fixed(2)", weight = 1 }},
  {{ strategy = "full_jitter(fixed(4))", weight = 1 }},
]
start_delay = {{ dist = "uniform", low = 0, high = 3 }}
request_timeout = "{FAULTS_TIMEOUT:g}s"

[server]
workers = 2
service_time = "0.05s"
queue_limit = 8
retry_after = "1s"

[[server.outages]]
start = "1m"
duration = "20s"
mode = "503"

[[server.outages]]
start = "2m"
duration = "15s"
mode = "no_answer"

[[server.outages]]
start = "3m"
duration = "10s"
mode = "stall"
"""
