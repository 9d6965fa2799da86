"""A scripted status API on 127.0.0.1 that answers by a fake clock: each request is
answered as the Script says at the fake time it arrives, and that time is logged. The
client under test sleeps on the same FakeTime, so the server needs no clock of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sim.status_server import Response
from tests.conformance.aws_answers import http_answer
from tests.conformance.harness import FakeTime


class ScriptedAPI:
    """``with ScriptedAPI(answer, clock) as api:`` serves ``api.url`` until the block
    ends; ``api.times`` holds each request's fake time since the clock started."""

    def __init__(self, answer: Callable[[float], Response], clock: FakeTime) -> None:
        self.answer = answer
        self.clock = clock
        self.times: list[float] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pool expects

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                t = api.clock.elapsed
                api.times.append(t)
                status, headers, body = http_answer(api.answer(t))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, *args) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ScriptedAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
