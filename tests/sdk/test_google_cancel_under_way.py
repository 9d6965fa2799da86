"""google's CancelOperation is best-effort and idempotent on an operation that is not
done: google-api-core's ``Operation.cancel()`` on an operation already being cancelled
(``JOB_STATE_CANCELLING``, cancelled through a dialect that shows cancelling) gets
``{}``, not 409, and the model is asked nothing more (the job stays cancelling for the
scenario's whole ``cancel_delay``, where a second cancel would end it at once). A done
operation stays refused (tests/sdk/test_google_api_core.py)."""

from __future__ import annotations

import grpc  # noqa: F401 -- the operations client imports it even for REST
import pytest
from google.protobuf import json_format

from sim import load_scenario
from sim.dialects import DIALECTS, GOOGLE_LRO, Action, Kind
from tests.mock_server.helpers import QA
from tests.mock_server.server import call, start
from tests.sdk.test_google_api_core import Client, job_id

pytestmark = pytest.mark.live

#: the dialects whose cancel passes through a visible cancelling state
SHOWS_CANCELLING = [
    d for d in DIALECTS.values() if d.shows_cancelling and Action.CANCEL in d.actions
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The QA scenario with cancelling lasting 600 simulated seconds (30 wall seconds at
    speed 20): longer than the test, so that a job being cancelled stays so throughout."""
    scenario = tmp_path_factory.mktemp("cancel") / "scenario.toml"
    scenario.write_text('cancel_delay = "600s"\n' + QA.read_text())
    s = start(20, scenario=scenario)
    try:
        yield s
    finally:
        s.stop()


def cancel_route(dialect):
    return next(r for r in dialect.routes if r.kind is Kind.ACTION and r.action is Action.CANCEL)


def test_there_is_a_dialect_that_shows_cancelling():
    assert SHOWS_CANCELLING and not GOOGLE_LRO.shows_cancelling


@pytest.mark.parametrize("other", SHOWS_CANCELLING, ids=lambda d: d.name)
def test_cancel_of_an_operation_being_cancelled_is_acknowledged(server, other):
    client = Client(server)
    op = client.submit(outcome="succeed", duration="1h")
    shown = other.show_id(int(job_id(op)), load_scenario(QA).seed)
    where = cancel_route(other).path.replace("{id}", shown)
    assert call(server, "POST", where).status < 300  # through the other dialect
    fut = client.future(op)
    assert fut.cancel() is True  # GetOperation (not done: cancelling), then CancelOperation
    posts = [(s.path, s.status) for s in client.sent if s.method == "POST"]
    assert posts == [(f"/v1/{op.name}:cancel", 200)]
    again = client.ops.cancel_operation(op.name)  # idempotent: once more, still {}
    assert again is None
    now = client.ops.get_operation(op.name)
    meta = json_format.MessageToDict(now)["metadata"]["value"]
    assert (now.done, meta["state"]) == (False, "JOB_STATE_CANCELLING")  # no second cancel
