"""Raw HTTP/1.1 over a socket, for what a client library will not send: a body in pieces
with pauses between them, a request never finished, a connection left idle; and what the
server process holds (RSS, descriptors), read from /proc."""

from __future__ import annotations

import json
import os
import selectors
import socket
import time
from dataclasses import dataclass

from tests.mock_server.server import Server


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  #: lower-case names
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


def address(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def connect(server: Server, timeout: float = 30) -> socket.socket:
    sock = socket.create_connection(address(server), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def head(method: str, path: str, **headers: str) -> bytes:
    """A request's head; header names given with ``_`` for ``-``."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def send(sock: socket.socket, *parts: bytes, pause: float = 0.0) -> None:
    """Each part in its own write, ``pause`` seconds apart."""
    for i, part in enumerate(parts):
        if i and pause:
            time.sleep(pause)
        sock.sendall(part)


def receive(sock: socket.socket) -> Reply:
    """One whole answer (the server always sends a Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a whole answer: {data!r}")
        data += chunk
    top, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = top.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
    length = int(headers.get("content-length", 0))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the middle of the body")
        body += chunk
    return Reply(int(status_line.split()[1]), headers, body[:length])


def exchange(server: Server, *parts: bytes, pause: float = 0.0) -> Reply:
    """One request sent in parts on a new connection, and its answer."""
    with connect(server) as sock:
        send(sock, *parts, pause=pause)
        return receive(sock)


def chunked(*pieces: bytes) -> list[bytes]:
    """The pieces of a chunked body, each its own chunk, and the last chunk."""
    return [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] + [b"0\r\n\r\n"]


def closed_by_peer(socks: list[socket.socket], within: float) -> int:
    """How many of ``socks`` the other end closed (FIN or reset) within ``within`` s."""
    closed = 0
    end = time.monotonic() + within
    with selectors.DefaultSelector() as sel:  # select() stops at descriptor 1024
        for sock in socks:
            sel.register(sock, selectors.EVENT_READ)
        while sel.get_map() and (wait := end - time.monotonic()) > 0:
            for key, _ in sel.select(min(wait, 0.5)):
                try:
                    gone = key.fileobj.recv(1) == b""
                except OSError:
                    gone = True
                if gone:
                    sel.unregister(key.fileobj)
                    closed += 1
    return closed


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        line = next(x for x in f if x.startswith("VmRSS:"))
    return int(line.split()[1])


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def gauge(text: str, name: str) -> float | None:
    """A metric's value in Prometheus text (the first sample named ``name``)."""
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def total(text: str, name: str) -> float:
    """The sum of a metric's samples in Prometheus text, over all its labels."""
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + " ") or line.startswith(name + "{")
    ]
    return sum(values)
