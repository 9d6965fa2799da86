"""The README's "Testing an SDK client" snippets, run as a reader runs them: each in its
own Python process, against a real ``pollsim serve``, with only the server's address
and token put in. Each must print what its client returned for the scripted outcome,
and the server's ground truth must have seen that client watch its job to the end."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mock_server.server import ADMIN, call, start

pytestmark = pytest.mark.live

README = Path(__file__).resolve().parents[2] / "README.md"
#: what the snippet's last line prints for its scripted outcome, in README order
PRINTS = (r"^SUCCESS$", r"^Succeeded$", r'string_value: "\d+"')


def snippets() -> list[str]:
    """The Python blocks of the README's section on SDK clients."""
    text = README.read_text()
    section = text.split("\n## Testing an SDK client\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_section_shows_each_client():
    found = snippets()
    assert len(found) == len(PRINTS)
    for code, module in zip(found, ("fiddler", "azure.core", "google.api_core"), strict=True):
        assert f"import {module}" in code or f"from {module}" in code


@pytest.fixture(scope="module")
def server():
    srv = start(20)
    yield srv
    srv.stop()


@pytest.mark.parametrize("index", range(len(PRINTS)))
def test_a_readme_snippet_runs_against_a_real_server(server, index):
    before = {r["job_id"] for r in call(server, "GET", "/_admin/report", token=ADMIN).json["jobs"]}
    code = snippets()[index]
    code = code.replace("http://127.0.0.1:8080", server.url).replace('"s3cret"', '"tok-a"')
    code = code.replace("/projects/qa/", "/projects/alpha/")  # tok-a is tenant alpha's
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(PRINTS[index], done.stdout.strip(), re.M), done.stdout[-1000:]
    report = call(server, "GET", "/_admin/report", token=ADMIN).json
    new = [r for r in report["jobs"] if r["job_id"] not in before]
    assert len(new) == 1, "the snippet watches one job of its own"
    assert new[0]["client"].startswith("alpha:") and new[0]["polls"] >= 1
    assert new[0]["t_seen"] is not None, "the client saw its job end, by the server's count"
