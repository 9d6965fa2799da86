"""A server run, start to end: the core built for the scenario, served on its address
until SIGINT or SIGTERM (``mock_server.stopping``), the request log flushed every second
meanwhile; then the run's ground truth written (``--truth-out``) and summed up on one
screen (``mock_server.truth_out``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time

from mock_server.app import SHUTDOWN, admission_for, banner, build_core, make_server
from mock_server.core import Core
from mock_server.journal import Journal
from mock_server.protocol import Watch, factory
from mock_server.stopping import Stopper
from sim.scenario import Scenario


async def serve(scenario: Scenario, host: str, port: int, stopper: Stopper) -> int:
    """Serve the scenario (its ``[serve]`` and ``[faults]`` as given) until ``stopper``
    says stop (SIGINT or SIGTERM); then the run's summary, and its ground truth written
    where ``truth_out`` says (``mock_server.truth_out``). The exit status: 1 when the
    ground truth could not be written, else 0."""
    stopper.attach()
    spec = scenario.mock
    core = build_core(scenario, spec)
    journal = core.truth.journal
    if journal is not None:
        stopper.on_force = journal.flush
    # requests it cannot parse are the client's fault, answered 400: no traceback
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    admission = admission_for(spec)
    web_server = make_server(core, spec, admission)
    loop = asyncio.get_running_loop()
    watch = Watch(spec.request_deadline)
    core.metrics.attach(admission, watch)
    watch.start()
    server = await loop.create_server(
        factory(web_server, watch),
        host=host,
        port=port,
        backlog=1024,
    )
    started = time.monotonic()
    bound = server.sockets[0].getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    url = f"http://{shown}:{bound[1]}"
    core.config.base_url = url  # for the absolute links some dialects send
    print(banner(core, url, spec), flush=True)
    # What exists now (the model, the imported libraries: millions of objects) lives as
    # long as the server: out of the cyclic collector's sight, so that a full collection
    # does not stall requests for a fraction of a second. The sweep freezes again as
    # jobs accumulate.
    gc.freeze()
    flusher = loop.create_task(_flush_every(journal, JOURNAL_FLUSH)) if journal else None
    try:
        await stopper.stopped.wait()
    finally:
        stopper.finishing(FINISHING, "writing the ground truth")
        if flusher is not None:
            flusher.cancel()
        watch.stop()
        server.close()
        # requests in progress (held long-polls, dribbled answers) are cut, not waited for
        await web_server.shutdown(SHUTDOWN)
        if journal is not None:
            journal.flush()
    return finish(core, spec.truth_out, time.monotonic() - started)


#: wall seconds the server may take to write the ground truth once asked to stop
FINISHING = 120.0


def finish(core: Core, truth_out: str | None, wall: float) -> int:
    """The run's ground truth to ``truth_out`` (if given) and its summary on stderr."""
    from mock_server.admin_report import report
    from mock_server.truth_out import summary, write

    status, written = 0, None
    try:
        if truth_out is not None:
            truth = write(core, truth_out)
            written = truth_out
        else:
            truth = report(core, core.model.advance())
    except OSError as exc:
        print(
            f"pollsim serve: --truth-out {truth_out}: cannot write: {exc.strerror or exc}",
            file=sys.stderr,
            flush=True,
        )
        truth, status = report(core, core.model.advance()), 1
    print(summary(truth, wall, len(core.model.records), written), file=sys.stderr, flush=True)
    return status


#: wall seconds between flushes of the request log, so that a client's requests can be
#: read (``pollsim fit --request-log``) while the server runs
JOURNAL_FLUSH = 1.0


async def _flush_every(journal: Journal, seconds: float) -> None:
    """Flush the request log every ``seconds`` (a write a second at most; the buffer
    keeps the many requests between off the disk)."""
    while True:
        await asyncio.sleep(seconds)
        journal.flush()


def run(scenario: Scenario, host: str = "127.0.0.1", port: int = 8080) -> int:
    """Run the server in this process, on uvloop where it is installed, until SIGINT or
    SIGTERM (see ``mock_server.stopping``): its exit status (``serve``'s)."""
    stopper = Stopper()
    stopper.install()
    try:
        try:
            import uvloop
        except ImportError:
            return asyncio.run(serve(scenario, host, port, stopper))
        else:
            return uvloop.run(serve(scenario, host, port, stopper))
    finally:
        stopper.uninstall()
