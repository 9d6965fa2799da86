"""A Script answered over HTTP to the two SDKs that send their requests with ``requests``
(google-api-core's REST transport, azure-core's RequestsTransport): either through a
loopback server on 127.0.0.1 or through a requests transport adapter mounted on the
library's own session, so that thousands of runs take seconds.

Either way the answer is the runner's ``respond(method, path, t)`` at ``t``, the fake
clock's seconds since the watch started, and every request is logged with that time:
the library's code above the socket (or the adapter) is not touched.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

from tests.conformance.harness import FakeTime

#: (HTTP status, headers, body) for a request's method and path at fake time t
Respond = Callable[[str, str, float], tuple[int, dict[str, str], bytes]]


@dataclass(frozen=True)
class Sent:
    """One request the library made: when (fake seconds since the start), what, the
    status it was answered."""

    t: float
    method: str
    path: str
    http: int


class Answering:
    """Answers each request with ``respond`` at the clock's time and logs it (a hook
    above HTTP may have ``respond`` give a decoded body instead of bytes)."""

    def __init__(self, clock: FakeTime, respond: Callable[[str, str, float], tuple]) -> None:
        self.clock = clock
        self.respond = respond
        self.log: list[Sent] = []
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str) -> tuple:
        with self._lock:
            t = self.clock.elapsed
            status, headers, body = self.respond(method, path, t)
            self.log.append(Sent(t, method, path, status))
        return status, headers, body


class ScriptedAdapter(HTTPAdapter):
    """A requests transport adapter that answers from ``Answering`` instead of a socket;
    the response is built by requests' own ``HTTPAdapter.build_response`` from a urllib3
    response, as a real one is."""

    def __init__(self, answering: Answering) -> None:
        super().__init__()
        self.answering = answering

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        status, headers, body = self.answering(request.method, urlsplit(request.url).path)
        raw = HTTPResponse(
            body=io.BytesIO(body),
            headers={**headers, "Content-Length": str(len(body))},
            status=status,
            preload_content=False,
            decode_content=False,
        )
        return self.build_response(request, raw)


def scripted_session(answering: Answering, session: requests.Session | None = None):
    """``session`` (a new one if None) with every http and https request answered by
    ``answering``. It stops reading the environment (proxies, .netrc, CA bundles), which
    nothing here sends through and which costs 40% of each request's time."""
    session = session if session is not None else requests.Session()
    session.trust_env = False
    adapter = ScriptedAdapter(answering)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@contextmanager
def loopback(answering: Answering) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (a free port) answering from ``answering``; yields
    its base URL, and is shut down on exit."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # headers and body in one write, flushed per answer
        disable_nagle_algorithm = True

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, headers, body = answering(self.command, urlsplit(self.path).path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format, *args):  # quiet: the tests read the log instead
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
