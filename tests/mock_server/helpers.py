"""An in-process server core on a clock the test moves by hand."""

from __future__ import annotations

import json
from pathlib import Path

from mock_server.clock import ScaledClock
from mock_server.core import Config, Core, Hold, Request, Response
from mock_server.model import LiveModel
from sim import load_scenario

QA = Path(__file__).resolve().parents[2] / "scenarios" / "mock_qa.toml"
TOKENS = {"tok-a": "alpha", "tok-b": "beta"}
ADMIN = "tok-admin"


class Harness:
    """A Core over the QA scenario whose wall clock stands still until ``sleep``."""

    def __init__(self, speed: float = 1.0, background: bool = False, **config) -> None:
        self.wall = 100.0
        clock = ScaledClock(speed, wall=lambda: self.wall, epoch=0.0)
        model = LiveModel(load_scenario(QA), clock, background=background)
        self.core = Core(model, Config(tokens=TOKENS, admin_token=ADMIN, **config))

    def sleep(self, wall_seconds: float) -> None:
        self.wall += wall_seconds

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        token: str | None = "tok-a",
        query: dict | None = None,
        headers: dict | None = None,
        held: bool = False,
        decision=None,
    ) -> Response | Hold:
        h = {k.lower(): v for k, v in (headers or {}).items()}
        if token is not None:
            h["authorization"] = f"Bearer {token}"
        raw = (
            body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        )
        return self.core.handle(
            Request(method, path, query or {}, h, raw), held=held, decision=decision
        )

    def doc(self, method: str, path: str, body: object = None, **kw) -> tuple[int, dict]:
        r = self.call(method, path, body, **kw)
        assert isinstance(r, Response)
        return r.status, json.loads(r.body) if r.body else {}
