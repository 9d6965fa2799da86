"""The README's "Gating a build in CI", end to end and taken from the README itself, so
that it cannot drift: its example test, run as a user's test file (the plugin loaded
from its entry point), passes with the client as written and fails with the client made
to ignore Retry-After, ``out.xml`` naming the failure with the measured count; and its
``pollsim report --assert ... --junit out.xml`` line, run against a server the fixture
started, exits 1 after the client that ignores Retry-After and 0 after the one that
honours it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.plugin.helpers import alive

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.live

README = Path(__file__).resolve().parents[2] / "README.md"
CHECK = "retry_after_violations == 0"
#: what the example's client does on a 429 or 503, and what the one ignoring it does
HONOURS = 'time.sleep(float(error.headers["Retry-After"]))'
IGNORES = "time.sleep(interval)"


def section() -> str:
    text = README.read_text()
    return text.split("\n## Gating a build in CI\n", 1)[1].split("\n## ", 1)[0]


def example(honours: bool = True) -> str:
    """The section's one Python block: a complete test file; its client made to ignore
    Retry-After where asked."""
    (code,) = re.findall(r"```python\n(.*?)```", section(), re.S)
    assert code.count(HONOURS) == 1, "the example's client no longer reads Retry-After so"
    return code if honours else code.replace(HONOURS, IGNORES)


def shell() -> str:
    """The section's shell lines."""
    (sh,) = re.findall(r"```sh\n(.*?)```", section(), re.S)
    return sh


def report_line() -> str:
    """The section's ``pollsim report`` command, its continuation lines joined."""
    joined = shell().replace("\\\n", " ")
    (line,) = [ln for ln in joined.splitlines() if ln.lstrip().startswith("pollsim report")]
    return " ".join(line.split())


def failures(xml: Path) -> dict[str, str]:
    """The JUnit file's test cases: name -> the failure's message, or '' for a pass."""
    cases = ET.parse(xml).getroot().iter("testcase")
    return {
        c.get("name"): (c.find("failure").get("message") if c.find("failure") is not None else "")
        for c in cases
    }


def test_the_section_shows_the_ci_line_and_a_test_with_an_injected_429():
    assert report_line() == (
        "pollsim report --server http://127.0.0.1:8080 --admin-token adm1n --final "
        f"--assert '{CHECK}' --assert 'gave_up == 0' --junit out.xml"
    )  # --final: the client has returned, so a job it did not see end was given up
    code = example()
    assert '"rate_limit": {"rate": 1, "burst": 1}' in code  # the 429 with Retry-After
    assert "def test_" in code and "pollsim_server" in code
    assert f'pollsim_server.check("{CHECK}"' in code and 'junit="out.xml"' in code


def test_the_example_passes_with_a_client_that_honours_retry_after(run_user_suite, pytester):
    result = run_user_suite(example(), name="test_polling")
    result.assert_outcomes(passed=1)
    cases = failures(pytester.path / "out.xml")
    assert cases[f"{CHECK} [(all)]"] == ""


def test_the_example_fails_with_a_client_that_ignores_retry_after(run_user_suite, pytester):
    result = run_user_suite(example(honours=False), name="test_polling")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "pollsim report exited 1" in out
    found = re.search(rf"FAIL {re.escape(CHECK)}: measured (\d+)", out)
    assert found, out[-3000:]
    count = int(found.group(1))
    assert count >= 1
    message = failures(pytester.path / "out.xml")[f"{CHECK} [(all)]"]
    assert f"FAIL {CHECK}: measured {count} " in message


@pytest.mark.parametrize("honours", [False, True], ids=["ignores", "honours"])
def test_the_ci_line_gates_on_a_server_the_fixture_started(
    pollsim_server_factory, tmp_path, honours
):
    """The README's client run in this process against a server started by the fixture
    with the example's marker, then the README's ``pollsim report`` line as CI runs it."""
    names: dict = {}
    exec(compile(example(honours), "README.md: Gating a build in CI", "exec"), names)
    (marker,) = names["test_the_client_honours_retry_after"].pytestmark
    server = pollsim_server_factory(**marker.kwargs)
    made = server.client.submit(outcome="succeed", duration="10s")
    assert names["wait_for_job"](server.url, server.token, made["job"]["id"]) == "success"
    violations = server.client.report()["totals"]["retry_after_violations"]
    assert (violations == 0) == honours, violations

    line = report_line().replace("http://127.0.0.1:8080", server.url)
    line = line.replace("adm1n", server.admin_token).replace("out.xml", str(tmp_path / "out.xml"))
    argv = shlex.split(line)
    assert argv[:2] == ["pollsim", "report"]
    done = subprocess.run(
        [sys.executable, "-m", "pollsim", *argv[1:]], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == (0 if honours else 1), done.stdout + done.stderr
    message = failures(tmp_path / "out.xml")[f"{CHECK} [(all)]"]
    if honours:
        assert message == "" and f"PASS {CHECK}: measured 0 " in done.stdout
    else:
        assert message.startswith(f"FAIL {CHECK}: measured {violations} ")
        assert message in done.stdout


#: the README's "./my-client": its example's client, against a job of its own
MY_CLIENT = """
import json, sys, urllib.request
names = {}
exec(open(sys.argv[1]).read(), names)
url, token = sys.argv[2], sys.argv[3]
made = urllib.request.Request(
    f"{url}/ordo/jobs",
    data=json.dumps({"outcome": "succeed", "duration": "10s"}).encode(),
    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
)
with urllib.request.urlopen(made) as answer:
    job = json.load(answer)["job"]["id"]
print(names["wait_for_job"](url, token, job))
"""


@pytest.mark.skipif(not (shutil.which("bash") and shutil.which("curl")), reason="bash, curl")
def test_the_shell_lines_as_a_ci_job_runs_them(tmp_path):
    """The section's shell lines whole, with a free port for 8080 and the example's
    client made to ignore Retry-After for ./my-client: the job fails (exit 1, the FAIL
    line, out.xml), and the server it started is stopped."""
    (tmp_path / "example.py").write_text(example(honours=False))
    (tmp_path / "my_client.py").write_text(MY_CLIENT)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = shell()
    mine = "./my-client --url http://127.0.0.1:8080 --token s3cret"
    assert script.count(mine) == 1
    script = script.replace(
        mine, f"{sys.executable} my_client.py example.py http://127.0.0.1:8080 s3cret"
    )
    script = script.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    script = script.replace("--port 8080", f"--port {port}")
    script = script.replace("scenarios/mock_qa.toml", str(README.parent / "scenarios/mock_qa.toml"))
    assert script.count("server=$!\n") == 1
    script = script.replace("server=$!\n", "server=$!\necho $server > server.pid\n")
    (tmp_path / "ci.sh").write_text(script)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    try:
        done = subprocess.run(
            ["bash", "ci.sh"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
        )
    finally:  # a script cut short must not leave its server behind: ended by its pid
        pid = tmp_path / "server.pid"
        if pid.exists() and alive(int(pid.read_text())):
            os.kill(int(pid.read_text()), signal.SIGTERM)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "success" in done.stdout  # the client saw its job end
    count = int(re.search(rf"FAIL {re.escape(CHECK)}: measured (\d+)", done.stdout).group(1))
    assert count >= 1
    assert failures(tmp_path / "out.xml")[f"{CHECK} [(all)]"].startswith(
        f"FAIL {CHECK}: measured {count} "
    )
    deadline = time.monotonic() + 30  # the kill is SIGTERM: the server stops in a moment
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.1)
    else:
        pytest.fail(f"the server on port {port} still answers after the script's kill")


def report_assertion() -> str:
    """The example's lines that check the report, from its ``client.report()`` on."""
    lines = example().splitlines()
    (start,) = [i for i, ln in enumerate(lines) if "pollsim_server.client.report()" in ln]
    return "\n".join(ln.strip() for ln in lines[start : start + 2])


#: a client that quits before its job ends (its deadline shorter than the job) and
#: returns quietly, as a fire-and-forget worker does; then the example's report check
GIVES_UP = """
import json, time, urllib.request


def poll_until(url, token, job_id, deadline_s):
    headers = {{"Authorization": f"Bearer {{token}}"}}
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        request = urllib.request.Request(f"{{url}}/ordo/jobs/{{job_id}}", headers=headers)
        with urllib.request.urlopen(request, timeout=10) as answer:
            json.load(answer)
        time.sleep(0.1)
    return None  # gave up, quietly


def test_a_client_that_gives_up(pollsim_server):
    made = pollsim_server.client.submit(outcome="succeed", duration="1h")
    poll_until(pollsim_server.url, pollsim_server.token, made["job"]["id"], 0.5)
    peek = pollsim_server.client.report(final=False)["totals"]
    print("PEEK", peek["gave_up"], peek["unfinished"])
{check}
"""


def test_the_example_report_check_fails_for_a_client_that_gives_up(run_user_suite):
    check = "\n".join("    " + ln for ln in report_assertion().splitlines())
    result = run_user_suite(GIVES_UP.format(check=check), "-s", name="test_gives_up")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    # without final the job reads as unfinished, not given up: why the example uses final
    assert "PEEK 0 1" in out, out[-3000:]
    # with it the example's assertion fails on gave_up: 1 (the left of its "and")
    assert 'assert totals["gave_up"] == 0' in out and "assert (1 == 0)" in out, out[-3000:]


def test_the_section_links_to_the_grammar_instead_of_repeating_it():
    text = section()
    assert "[the grammar](#gating-a-build-assertions-and-exit-codes)" in text
    assert "\n## Gating a build: assertions and exit codes\n" in README.read_text()
    # the list of aggregates and units is the grammar's own, not repeated here
    assert "`p99`" not in text and "`count`" not in text and "`ms`" not in text
