"""A real ``pollsim serve`` on a loopback port, started as users start it, and a small
HTTP client for the tests (the standard library's: what any client could use)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

QA = Path(__file__).resolve().parents[2] / "scenarios" / "mock_qa.toml"
TOKENS = ("alpha=tok-a", "beta=tok-b")
ADMIN = "tok-admin"


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start(speed: float, *extra: str, scenario: Path = QA) -> Server:
    """``pollsim serve`` on a free loopback port; its URL read from the first line."""
    tokens = [a for t in TOKENS for a in ("--token", t)]
    args = ["serve", str(scenario), "--port", "0", "--speed", str(speed), *tokens]
    args += ["--admin-token", ADMIN, *extra]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pollsim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()
    if "listening on" not in first:
        proc.kill()
        raise RuntimeError(f"the server did not start: {first}{proc.stderr.read()}")
    return Server(first.split("listening on ")[1].strip(), proc)


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


def with_tables(tmp_path: Path, text: str) -> Path:
    """The QA scenario with more tables (``[serve]``, ``[faults]``, ``[server]``)."""
    path = tmp_path / "scenario.toml"
    path.write_text(QA.read_text() + "\n" + text)
    return path


def call(
    server: Server,
    method: str,
    path: str,
    body: object = None,
    token: str | None = "tok-a",
    headers: dict | None = None,
    timeout: float = 30,
) -> Answer:
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, data=raw, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Answer(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers), exc.read())
