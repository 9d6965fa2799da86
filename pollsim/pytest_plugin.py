"""pytest fixtures that start a real ``pollsim serve`` for a polling client's tests.

Installed with pollsim (the ``pytest11`` entry point ``pollsim``), so pytest loads it in
every run: it imports nothing but pytest until a test asks for one of its fixtures, and
its options all start with ``pollsim``.

- ``pollsim_server``: a server of the test's own, stopped after it. Options from the
  marker ``@pytest.mark.pollsim(scenario=..., faults={...}, speed=..., tokens={...},
  admin_token=..., args=[...])`` (on the test, its class or its module; the nearest
  wins, key by key).
- ``pollsim_shared_server``: a server kept for the whole session (one per set of
  ``scenario``, ``speed``, ``tokens``, ``admin_token``, ``args``), reset before each
  test (``POST /_admin/reset``) and given the marker's faults: faster where many tests
  share a scenario, and each still sees no trace of the last.
- ``pollsim_server_factory``: ``start(**options)`` for tests that want several servers
  or to start one late; every one started is stopped after the test.

Each is a ``pollsim.live_server.LiveServer``: ``.url``, ``.tokens`` (tenant -> token),
``.token``, ``.admin_token``, ``.client`` (``submit``, ``reset``, ``faults``,
``report``, ``requests``, ``jobs``), ``.check("retry_after_violations == 0")``
(``pollsim report --assert``), ``.pid``, ``.output()``.

Speed: the marker's, else ``--pollsim-speed``, else the ini option ``pollsim_speed``,
else the scenario's (60). The ini option ``pollsim_start_timeout`` (seconds, default
60) bounds the wait for a server to listen; past it, or if the server exits first, the
test errors with what the server wrote on stderr.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pollsim.live_server import LiveServer

#: the marker's keywords, all optional
OPTIONS = ("scenario", "faults", "speed", "tokens", "admin_token", "args")
#: those a shared server is started with (faults are set per test, after the reset)
SHARED_KEY = ("scenario", "speed", "tokens", "admin_token", "args")

#: a server's exit status on a stop, not a crash: SIGTERM's (0), and Ctrl-C's (130, or
#: -2 for SIGINT itself), which the terminal sends the server as it does pytest
STOPPED = (0, 130, -2)
#: seconds a shared server that failed its reset is given to be seen dead (killed, its
#: threads still ending) before it counts as alive and broken
DYING = 2.0
#: a run's Ctrl-C: set by pytest_keyboard_interrupt, before the fixtures' teardown
_interrupted = {"now": False}

MARKER = (
    "pollsim(scenario=None, faults=None, speed=None, tokens=None, admin_token=None, "
    "args=()): how the pollsim_server fixtures start pollsim serve: a scenario file or "
    "TOML text, faults as in [faults] (e.g. {'rate_limit': {'rate': 1, 'burst': 1}}), "
    "simulated seconds per wall second, {tenant: token}, the admin token, more serve flags"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pollsim", "pollsim: a real mock status server (pollsim_server)")
    group.addoption(
        "--pollsim-speed",
        type=float,
        metavar="X",
        help="simulated seconds per wall second for pollsim_server where the test's "
        "pollsim marker names none (e.g. --pollsim-speed 10 on a slow CI machine)",
    )
    parser.addini("pollsim_speed", "pollsim_server's speed where neither marker nor flag names one")
    parser.addini(
        "pollsim_start_timeout",
        "seconds pollsim_server waits for pollsim serve to listen (default 60)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


def pytest_sessionstart(session: pytest.Session) -> None:
    _interrupted["now"] = False


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo) -> None:
    _interrupted["now"] = True


@pytest.fixture
def pollsim_server_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """``start(**options) -> LiveServer``: a server per call (options as the marker's),
    each stopped after the test."""
    started: list[LiveServer] = []

    def start(**options: Any) -> LiveServer:
        __tracebackhide__ = True
        server = _start(request.config, tmp_path_factory, _checked(options, "start"))
        started.append(server)
        return server

    yield start
    _stop_all(started, request.node)


@pytest.fixture
def pollsim_server(request: pytest.FixtureRequest, pollsim_server_factory) -> Any:
    """A ``pollsim serve`` of this test's own, as its ``pollsim`` marker says."""
    __tracebackhide__ = True
    return pollsim_server_factory(**_marker_options(request.node))


@pytest.fixture(scope="session")
def _pollsim_shared_servers(request: pytest.FixtureRequest) -> Iterator[dict]:
    """The session's shared servers, by what they were started with; stopped at its end."""
    servers: dict[str, LiveServer] = {}
    yield servers
    _stop_all(list(servers.values()), request.node)


@pytest.fixture
def pollsim_shared_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _pollsim_shared_servers: dict,
) -> Any:
    """A session's ``pollsim serve`` for this test's scenario, speed and tokens, reset
    before the test and given its marker's faults (else the scenario's)."""
    __tracebackhide__ = True
    options = _marker_options(request.node)
    key = repr([options.get(k) for k in SHARED_KEY])
    server = _pollsim_shared_servers.get(key)
    if server is not None and not server.running:  # it died: say so, start another
        _stop_all([server], request.node)
        server = None
    started = {k: v for k, v in options.items() if k != "faults"}
    if server is None:
        server = _start(request.config, tmp_path_factory, started)
        _pollsim_shared_servers[key] = server
    try:
        return _prepared(server, options.get("faults"))
    except Exception as exc:  # an HTTP error, a refused connection, a timeout
        problem = str(exc)
    code = _exit_status(server, DYING)
    if code is None:  # alive, yet it would not reset: not one to hand on
        pytest.fail(
            f"pollsim_shared_server: pollsim serve (pid {server.pid}, {server.url}) is "
            f"running but could not be reset for this test: {problem}",
            pytrace=False,
        )
    server.stop()  # it died between the tests (killed under the last one): another
    request.node.warn(
        pytest.PytestWarning(
            f"pollsim_shared_server: pollsim serve (pid {server.pid}, {server.url}) had "
            f"exited with status {code} before this test's reset ({problem}); started "
            f"another. It wrote: {server.output()[-2000:]}"
        )
    )
    server = _start(request.config, tmp_path_factory, started)
    _pollsim_shared_servers[key] = server
    try:
        return _prepared(server, options.get("faults"))
    except Exception as exc:
        problem = str(exc)
    pytest.fail(
        f"pollsim_shared_server: could not reset the restarted server for this test: {problem}",
        pytrace=False,
    )


def _exit_status(server: LiveServer, within: float) -> int | None:
    """Its exit status if it exits within ``within`` seconds, else None: a process being
    killed is not yet reaped while its threads are still ending."""
    import subprocess

    try:
        return server.process.wait(within)
    except subprocess.TimeoutExpired:
        return None


def _prepared(server: LiveServer, faults: dict | None) -> LiveServer:
    """The server reset, and given the test's faults (if any)."""
    server.client.reset()
    if faults:
        server.client.faults(dict(faults))
    return server


def _stop_all(servers: list[LiveServer], node: pytest.Item | pytest.Session) -> None:
    """Stop each server, the last started first; one that had exited before (a crash
    the test may have failed on) or did not stop cleanly is a warning with the end of
    what it wrote. After Ctrl-C each is first given time to finish its own stop (it got
    the SIGINT too): a SIGTERM then would be a second signal, and cut its --truth-out."""
    from pollsim.live_server import STOP_TIMEOUT

    for server in reversed(servers):
        own = STOP_TIMEOUT if _interrupted["now"] and not server.stopped else 0.0
        died = None if server.stopped else server.process.poll()  # not by server.stop()
        code = server.stop(own_exit=own)
        if died not in (None, *STOPPED) or code not in STOPPED:
            what = (
                f"had exited before its test's end, with status {died}"
                if died not in (None, *STOPPED)
                else f"exited with status {code} when stopped"
            )
            node.warn(
                pytest.PytestWarning(
                    f"pollsim serve (pid {server.pid}, {server.url}) {what}; it wrote: "
                    f"{server.output()[-2000:]}"
                )
            )


def _start(config: pytest.Config, tmp: pytest.TempPathFactory, options: dict) -> LiveServer:
    """Start a server with the options (and the run's defaults); one clear failure line
    with the server's stderr if it does not start."""
    __tracebackhide__ = True
    from pollsim.live_server import START_TIMEOUT, ServerStartError, start_server

    options = dict(options)
    if options.get("speed") is None:
        options["speed"] = _speed(config)
    timeout = _float_ini(config, "pollsim_start_timeout", START_TIMEOUT)
    try:
        return start_server(**options, workdir=tmp.mktemp("pollsim-serve"), timeout=timeout)
    except (ServerStartError, ValueError) as exc:
        problem = str(exc)
    pytest.fail(f"pollsim_server: {problem}", pytrace=False)  # outside: no exception chain


def _marker_options(node: pytest.Item) -> dict:
    """The ``pollsim`` markers' options, the nearest marker's first, key by key."""
    __tracebackhide__ = True
    options: dict = {}
    for mark in node.iter_markers("pollsim"):
        if len(mark.args) > 1:
            pytest.fail(
                f"@pytest.mark.pollsim{mark.args}: expected at most one positional "
                "argument, the scenario; the others by name",
                pytrace=False,
            )
        given = dict(mark.kwargs)
        if mark.args:
            given.setdefault("scenario", mark.args[0])
        for key, value in _checked(given, "@pytest.mark.pollsim").items():
            options.setdefault(key, value)
    return options


def _checked(options: dict, where: str) -> dict:
    __tracebackhide__ = True
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        pytest.fail(
            f"{where}: unknown option {', '.join(unknown)}; expected {', '.join(OPTIONS)}",
            pytrace=False,
        )
    if isinstance(options.get("args"), str):
        pytest.fail(f"{where}: args={options['args']!r}: expected a list of flags", pytrace=False)
    return options


def _speed(config: pytest.Config) -> float | None:
    flag = config.getoption("pollsim_speed", None)
    return flag if flag is not None else _float_ini(config, "pollsim_speed", None)


def _float_ini(config: pytest.Config, name: str, default: float | None) -> float | None:
    __tracebackhide__ = True
    raw = config.getini(name)
    if raw in (None, "", []):
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0:
        pytest.fail(f"ini option {name} = {raw!r}: expected a number above 0", pytrace=False)
    return value
