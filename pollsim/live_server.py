"""A real ``pollsim serve`` in a child process, as a test starts it: on a free loopback
port, its address read from the banner it prints, its tokens kept in files (not on the
command line, where ``ps`` shows them), started within a bounded time or failed with the
server's own words, and always stopped by its pid.

The pytest plugin (``pollsim.pytest_plugin``) hands these out; they work without pytest
too::

    server = start_server(faults={"rate_limit": {"rate": 1, "burst": 1}}, speed=20)
    try:
        ...  # point the client under test at server.url with server.token
        server.check("retry_after_violations == 0")
    finally:
        server.stop()
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pollsim.admin_client import PollsimClient, PollsimHTTPError

START_TIMEOUT = 60.0  #: seconds for the server to listen (it imports numpy, pandas...)
STOP_TIMEOUT = 10.0  #: seconds after SIGTERM before SIGKILL
BANNER = "pollsim serve: listening on "


class ServerStartError(RuntimeError):
    """The server did not start: what went wrong, with what it wrote on stderr."""


class GateFailed(AssertionError):
    """``pollsim report --assert`` found a check failing: its output, a line a check."""


@dataclass
class LiveServer:
    """A running ``pollsim serve``: where it listens, its credentials, a client of it."""

    url: str
    tokens: dict[str, str]  #: tenant -> bearer token
    admin_token: str
    process: subprocess.Popen = field(repr=False)
    workdir: Path = field(repr=False)  #: its stdout.txt, stderr.txt and token files
    client: PollsimClient = field(init=False, repr=False)
    stopped: bool = field(default=False, init=False, repr=False)  #: stop() was called

    def __post_init__(self) -> None:
        self.client = PollsimClient(self.url, self.tokens, self.admin_token)

    @property
    def token(self) -> str:
        """The first tenant's token (the only one, unless ``tokens`` named more)."""
        return next(iter(self.tokens.values()))

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """What the server has written so far, stdout then stderr."""
        return _read(self.workdir / "stdout.txt") + _read(self.workdir / "stderr.txt")

    def report_command(
        self, *asserts: str, junit: str | os.PathLike | None = None, client: Sequence[str] = ()
    ) -> list[str]:
        """``pollsim report`` for this server with ``--assert`` each of ``asserts``, as a
        CI job would run it (the admin token in a file, not on the command line)."""
        argv = [sys.executable, "-m", "pollsim", "report", "--server", self.url]
        argv += ["--admin-token-file", str(self.workdir / "admin-token.txt")]
        for expr in asserts:
            argv += ["--assert", expr]
        for name in [client] if isinstance(client, str) else client:
            argv += ["--client", name]
        if junit is not None:
            argv += ["--junit", os.fspath(junit)]
        return argv

    def check(
        self, *asserts: str, junit: str | os.PathLike | None = None, client: Sequence[str] = ()
    ) -> str:
        """Run ``pollsim report --assert ...`` on this server's ground truth: its output
        if every check passes; ``GateFailed`` (an AssertionError, so a test fails) with
        the PASS/FAIL lines if one fails; ``ValueError`` for an assertion it cannot read.

        ``server.check("retry_after_violations == 0", "p95(detection_latency) < 10s")``
        """
        __tracebackhide__ = True
        done = subprocess.run(
            self.report_command(*asserts, junit=junit, client=client),
            capture_output=True,
            text=True,
            timeout=300,
        )
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith(("PASS", "FAIL"))]
        if done.returncode == 1:
            raise GateFailed("pollsim report exited 1:\n" + "\n".join(lines or [done.stdout]))
        if done.returncode != 0:
            raise ValueError(f"pollsim report exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    def stop(self, timeout: float = STOP_TIMEOUT, *, own_exit: float = 0.0) -> int:
        """SIGTERM, wait, SIGKILL if it has not gone by then; its exit status (0 when
        it stopped on SIGTERM, as it does). Stopping it again is harmless. ``own_exit``:
        seconds to wait first for it to exit of its own accord (it was sent Ctrl-C's
        SIGINT, and a SIGTERM would be a second signal, a forced stop)."""
        self.stopped = True
        if own_exit > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(own_exit)
        return stop_process(self.process, timeout)

    @property
    def running(self) -> bool:
        return self.process.poll() is None


def start_server(
    scenario: str | os.PathLike | None = None,
    *,
    faults: Mapping | None = None,
    speed: float | None = None,
    tokens: Mapping[str, str] | None = None,
    admin_token: str | None = None,
    args: Sequence[str] = (),
    workdir: str | os.PathLike | None = None,
    timeout: float = START_TIMEOUT,
) -> LiveServer:
    """Start ``pollsim serve`` on 127.0.0.1 and a free port and return it listening.

    ``scenario``: a TOML file's path, or TOML text (anything with a newline), or None
    for the embedded default scenario. ``faults``: the keys of ``[faults]`` (and
    ``outages``), put in force before this returns. ``speed``: simulated seconds per
    wall second (default: the scenario's, 60). ``tokens``: tenant -> token (default: one
    tenant ``qa`` with a random token); ``admin_token``: default a random one. ``args``:
    more ``pollsim serve`` flags (``["--background"]``). Raises ``ServerStartError``
    with the server's stderr if it exits, or does not listen within ``timeout``.

    The server also ends itself (as on SIGTERM) once the process that started it is
    gone (the test run killed outright), whichever thread started it."""
    work = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="pollsim-"))
    work.mkdir(parents=True, exist_ok=True)
    tokens = dict(tokens) if tokens else {"qa": "qa-" + secrets.token_hex(8)}
    admin = admin_token or "admin-" + secrets.token_hex(8)
    argv = [sys.executable, "-c", GUARDED, str(os.getpid()), "serve"]
    if scenario is not None:
        argv.append(str(_scenario_path(scenario, work)))
    argv += ["--host", "127.0.0.1", "--port", "0"]
    argv += ["--token-file", str(_secret(work / "tokens.txt", _token_lines(tokens)))]
    argv += ["--admin-token-file", str(_secret(work / "admin-token.txt", admin + "\n"))]
    if speed is not None:
        argv += ["--speed", repr(float(speed))]
    argv += _own_flags_refused([str(a) for a in args])
    with open(work / "stdout.txt", "wb") as out, open(work / "stderr.txt", "wb") as err:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    try:
        url = _await_banner(process, work, timeout)
        server = LiveServer(url, tokens, admin, process, work)
        if faults:
            server.client.faults(dict(faults))
    except PollsimHTTPError as exc:
        stop_process(process)
        raise ServerStartError(f"pollsim serve refused the faults {dict(faults)}: {exc}") from None
    except BaseException:
        stop_process(process)
        raise
    return server


def stop_process(process: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> int:
    """End a child we started, by its pid: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout)


def _await_banner(process: subprocess.Popen, work: Path, timeout: float) -> str:
    """The URL from the banner's first line, polling the server's stdout file (no pipe
    to block on, no thread); it failing or taking too long is ``ServerStartError``."""
    deadline = time.monotonic() + timeout
    stdout = work / "stdout.txt"
    while True:
        first = _read(stdout).partition("\n")
        if first[1] and BANNER in first[0]:
            return first[0].split(BANNER, 1)[1].strip()
        code = process.poll()
        if code is not None:
            raise ServerStartError(
                f"pollsim serve exited with status {code} before listening: "
                + (_read(work / "stderr.txt").strip() or _read(stdout).strip() or "(no output)")
            )
        if time.monotonic() > deadline:
            stop_process(process)
            said = _read(work / "stderr.txt").strip()
            raise ServerStartError(
                f"pollsim serve did not listen within {timeout:g} s (stopped it)"
                + (f"; it wrote: {said}" if said else "")
            )
        time.sleep(0.02)


def _scenario_path(scenario: str | os.PathLike, work: Path) -> Path:
    """A scenario given as TOML text is written to a file beside the server's output."""
    if isinstance(scenario, str) and "\n" in scenario:
        path = work / "scenario.toml"
        path.write_text(scenario)
        return path
    return Path(scenario).resolve()


#: the serve flags start_server sets itself -> what to use instead of giving them in args
OWN_FLAGS = {
    "--host": "it always listens on 127.0.0.1",
    "--port": "it takes a free port; read the server's .url",
    "--speed": "use speed=",
    "--token": "use tokens={tenant: token}",
    "--token-file": "use tokens={tenant: token}",
    "--admin-token": "use admin_token=",
    "--admin-token-file": "use admin_token=",
}


def _own_flags_refused(args: list[str]) -> list[str]:
    """``args`` as given, unless one names a flag set here (argparse's abbreviations
    too: ``--po``): ``ValueError``, one line saying which and what to use instead."""
    for arg in args:
        name = arg.split("=", 1)[0]
        if not name.startswith("--") or len(name) < 4:
            continue
        hits = [flag for flag in OWN_FLAGS if flag == name or flag.startswith(name)]
        if hits:
            flag = name if name in OWN_FLAGS else hits[0]
            raise ValueError(
                f"args: {arg!r}: pollsim serve's {flag} is set by start_server itself "
                f"({OWN_FLAGS[flag]}); expected other flags"
            )
    return args


def _token_lines(tokens: Mapping[str, str]) -> str:
    for tenant, token in tokens.items():
        for what, text in (("tenant", tenant), ("token", token)):
            if not isinstance(text, str) or not text or any(c.isspace() for c in text):
                raise ValueError(f"tokens: {what} {text!r}: expected text without spaces")
        if "=" in tenant:
            raise ValueError(f"tokens: tenant {tenant!r}: expected a name without '='")
    return "".join(f"{tenant}={token}\n" for tenant, token in tokens.items())


def _secret(path: Path, text: str) -> Path:
    """A file only its owner may read, holding ``text``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


#: how the server is run: ``pollsim serve`` with a thread that ends it (SIGTERM, as
#: ``stop`` does) once the process that started it is gone (its parent pid changes), so
#: that no server outlives a test run killed outright. A process-level guard: Linux's
#: PR_SET_PDEATHSIG fires when the starting *thread* ends, which killed a server
#: started from a worker thread while it was still in use.
GUARDED = """\
import os, signal, sys, threading, time
parent = int(sys.argv[1])
def watch():
    while os.getppid() == parent:
        time.sleep(0.25)
    os.kill(os.getpid(), signal.SIGTERM)
threading.Thread(target=watch, name="pollsim-parent-watch", daemon=True).start()
from pollsim.cli import main
sys.exit(main(sys.argv[2:]))
"""
