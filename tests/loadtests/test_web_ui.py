"""Locust's web UI with the Polling tab, as a user opens it: a real Locust process with
its web UI on a loopback port, driving a real ``pollsim serve``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from loadtests.runner import free_port
from tests.loadtests.test_locust import LOCUSTFILE
from tests.mock_server.server import start

pytestmark = pytest.mark.live


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read()


def test_the_web_ui_has_a_polling_tab_with_per_strategy_metrics_and_a_csv(tmp_path):
    server = start(20)
    port = free_port()
    locust = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", server.url,
         "--web-host", "127.0.0.1", "--web-port", str(port), "--autostart", "-u", "4",
         "-r", "4", "-t", "20s", "--strategy", "fixed(3)", "--token", "tok-a",
         "--template", "chain", "--job-duration", "5s"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )  # fmt: skip
    ui = f"http://127.0.0.1:{port}"
    try:
        rows = []
        for _ in range(240):  # until some jobs have ended (bounded: a minute at most)
            time.sleep(0.25)
            try:
                stats = json.loads(get(ui + "/stats/requests"))
            except OSError:
                continue
            (ext,) = stats.get("extended_stats", [{"data": []}])
            rows = ext["data"]
            if rows and rows[0]["jobs"] >= 4:
                break
        assert rows and rows[0]["name"] == "fixed(3)" and rows[0]["polls_per_job"] == "4.0"
        for path in ("/", "/pollsim"):  # the main page has the tab; /pollsim opens it
            page = get(ui + path).decode()
            assert '"extended_tabs"' in page and "Polling" in page
        csv_text = get(ui + "/pollsim/csv").decode()
        assert csv_text.startswith("Strategy,Jobs,Polls per job") and "fixed(3)" in csv_text
        # the HTTP rows are Locust's own, and no metric row among them
        names = {s["name"] for s in stats["stats"]}
        ours = {"/ordo/jobs · fixed(3)", "/ordo/jobs/[id] · fixed(3)"}
        assert names <= {"/healthz", *ours, "Aggregated"}
    finally:
        locust.terminate()
        locust.wait(20)
        server.stop()
