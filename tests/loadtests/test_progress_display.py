"""The progress display, driven by hand: how often it shows a line on a terminal and
elsewhere, in the elapsed times it is given (no clock, no swarm), and what a line says."""

from __future__ import annotations

import io
import json

from loadtests.progress import LIVE_EVERY, QUIET_EVERY, Display, line

DOC = {"users": 3, "peak_users": 4, "target_users": 4, "requests": 1234, "failures": 2,
       "requests_per_s": 41.26, "watching": 3, "finished": 17, "seen_ended": 15}  # fmt: skip


def drive(tmp_path, live: bool, until: float, step: float = 0.5):
    path = tmp_path / "progress.json"
    stream = io.StringIO()
    display = Display(path, 60, stream, live=live)
    t = 0.0
    while t <= until:
        if t >= 3:  # Locust is up
            path.write_text(json.dumps(DOC))
        display(t)
        t += step
    display.close()
    return display, stream.getvalue()


def test_a_terminal_gets_the_line_redrawn_every_second_and_a_last_one(tmp_path):
    display, text = drive(tmp_path, live=True, until=20)
    draws = text.split("\r")[1:]
    assert len(draws) == display.updates == 20 / LIVE_EVERY + 1 + 1  # 0, 1, ... 20, the last
    assert draws[0] == "loadtest: 0 s of 60 s  starting Locust\x1b[K"
    assert draws[5].startswith("loadtest: 5 s of 60 s  users 3/4  41.3 requests/s  ")
    assert draws[-1].startswith("loadtest: done after 20 s  users 4 at most  1,234 requests")
    assert text.endswith("\n") and text.count("\n") == 1


def test_elsewhere_a_line_every_ten_seconds_at_most_and_a_last_one(tmp_path):
    _, text = drive(tmp_path, live=False, until=35)
    lines = text.splitlines()
    assert len(lines) == 35 // QUIET_EVERY + 1 == 4, lines
    assert [x.split(" s ", 1)[0] for x in lines[:-1]] == [f"loadtest: {t}" for t in (10, 20, 30)]
    assert "\r" not in text and "\x1b" not in text
    # a run shorter than ten seconds: the last line alone
    _, text = drive(tmp_path, live=False, until=6)
    assert text.count("\n") == 1 and text.startswith("loadtest: done after 6 s ")


def test_a_note_clears_the_live_line_and_stands_on_its_own(tmp_path):
    stream = io.StringIO()
    display = Display(tmp_path / "none.json", 10, stream, live=True)
    display(0.0)
    display.note("Locust's web UI: http://127.0.0.1:1/")
    assert stream.getvalue().endswith("\r\x1b[KLocust's web UI: http://127.0.0.1:1/\n")


def test_the_line_says_each_figure_with_its_unit():
    text = line(12.4, 60, DOC)
    assert text == (
        "loadtest: 12 s of 60 s  users 3/4  41.3 requests/s  jobs watched 20 (3 now), "
        "15 seen ended  errors 2"
    )
    assert line(0, 60, None) == "loadtest: 0 s of 60 s  starting Locust"
    assert line(70.2, 60, DOC, final=True) == (
        "loadtest: done after 70 s  users 4 at most  1,234 requests  jobs watched 20, "
        "15 seen ended  errors 2"
    )
