"""A submission's ``job_duration`` (issue 14): the whole job's length, spread over the
template's steps in proportion to their default durations along the longest chain, in
every dialect's submission; beside ``duration`` or ``durations`` a 422 naming both; the
old per-step ``duration`` unchanged. Times are the model's, in simulated seconds."""

from __future__ import annotations

import json
import math
import re

import pytest

from mock_server.clock import ScaledClock
from mock_server.core import Config, Core, Request, Response
from mock_server.model import LiveModel
from sim import default_scenario
from sim.dialects import DIALECTS, Dialect, Kind
from sim.distributions import Constant, Distribution
from sim.templates import JobTemplate, StepSpec
from tests.mock_server.helpers import Harness

# --- the spread, on templates -------------------------------------------------------------


class _NoMean(Distribution):
    @property
    def mean(self) -> float:
        return math.inf


def test_a_chain_is_spread_in_proportion_to_its_steps_means():
    chain = JobTemplate("c", (StepSpec("a", Constant(10)), StepSpec("b", Constant(30), ("a",))))
    assert chain.spread(60) == {"a": 15.0, "b": 45.0}
    assert chain.spread(0) == {"a": 0.0, "b": 0.0}


def test_parallel_steps_end_within_the_longest_chain_which_takes_the_whole():
    steps = (
        StepSpec("split", Constant(5)),
        StepSpec("tile", Constant(15), ("split",)),
        StepSpec("thumbs", Constant(10), ("split",)),
        StepSpec("merge", Constant(20), ("tile", "thumbs")),
    )
    got = JobTemplate("fan", steps).spread(80)
    assert got == {"split": 10.0, "tile": 30.0, "thumbs": 20.0, "merge": 40.0}
    longest = got["split"] + got["tile"] + got["merge"]
    assert longest == pytest.approx(80) and got["thumbs"] < got["tile"]


@pytest.mark.parametrize("odd", [Constant(0), _NoMean()])
def test_means_that_cannot_say_spread_evenly_over_the_longest_chain(odd):
    steps = (StepSpec("a", odd), StepSpec("b", odd, ("a",)), StepSpec("c", odd, ("a",)))
    if isinstance(odd, _NoMean):
        steps = (StepSpec("a", Constant(3)), *steps[1:])  # one mean not finite is enough
    assert JobTemplate("t", steps).spread(60) == {"a": 30.0, "b": 30.0, "c": 30.0}


# --- submissions, in every dialect --------------------------------------------------------


def submit(h: Harness, dialect: Dialect, body: dict) -> tuple[int, dict | None]:
    """The status of a submission through ``dialect`` and, when made, the job's truth."""
    r = h.call("POST", dialect.path(Kind.SUBMIT, project="alpha"), body)
    assert isinstance(r, Response)
    if r.status >= 300:
        return r.status, json.loads(r.body)
    headers = {k.lower(): v for k, v in r.headers.items()}
    shown = dialect.new_job(r.status, headers, json.loads(r.body))
    return r.status, {"id": dialect.read_id(shown, h.core.seed)}


def ended_at(h: Harness, job_id: int, horizon: float = 600) -> float:
    """How long after its submission the job truly ended, simulated seconds."""
    for _ in range(int(horizon)):
        h.sleep(1)
        h.core.model.advance()
        t_end, _ = h.core.model.truth(job_id)
        if t_end is not None:
            return t_end - h.core.model.records[job_id].created
    raise AssertionError(f"job {job_id} did not end within {horizon} s")


@pytest.mark.parametrize("name", list(DIALECTS))
def test_every_dialects_submission_takes_job_duration_as_the_whole_jobs(name):
    dialect = DIALECTS[name]
    h = Harness()
    status, made = submit(h, dialect, {"template": "chain", "job_duration": "60s"})
    assert status < 300, made
    assert ended_at(h, made["id"]) == pytest.approx(60)


def test_a_fan_out_takes_job_duration_along_its_longest_chain():
    h = Harness()
    dialect = next(iter(DIALECTS.values()))
    body = {"template": "fanout", "job_duration": "40s", "outcome": "succeed"}
    assert ended_at(h, submit(h, dialect, body)[1]["id"]) == pytest.approx(40)
    # duration keeps its meaning: each step's, so the two-step chain takes twice it
    assert ended_at(h, submit(h, dialect, {"template": "chain", "duration": "30s"})[1]["id"]) == (
        pytest.approx(60)
    )


def test_a_retried_attempt_takes_its_steps_share_again():
    h = Harness()
    dialect = next(iter(DIALECTS.values()))
    body = {"template": "chain", "job_duration": "60s", "outcome": "transient_failures:1"}
    assert ended_at(h, submit(h, dialect, body)[1]["id"]) > 60


@pytest.mark.parametrize("other", [{"duration": "5s"}, {"durations": {"build": "5s"}}])
def test_job_duration_beside_a_step_duration_is_a_422_naming_both(other):
    (field,) = other
    h = Harness()
    for dialect in DIALECTS.values():
        status, doc = submit(h, dialect, {"job_duration": "60s", **other})
        assert status == 422, doc
        message = json.dumps(doc)
        assert "job_duration and " + field + " conflict" in message
        assert dialect.error_kind(doc) == "invalid"
    # null is absent: either one alone, the other null, is taken
    dialect = next(iter(DIALECTS.values()))
    assert submit(h, dialect, {"job_duration": None, **other})[0] < 300
    assert submit(h, dialect, {"job_duration": "6s", field: None})[0] < 300


@pytest.mark.parametrize(
    "value", [True, [], {}, "-5s", "11y", "\u0661\u0660s", "1e999", "60 s s", ""]
)
def test_a_job_duration_that_is_no_duration_is_a_422_saying_so(value):
    h = Harness()
    for dialect in DIALECTS.values():
        status, doc = submit(h, dialect, {"template": "chain", "job_duration": value})
        assert status == 422, (value, doc)
        assert "job_duration" in json.dumps(doc)
    assert not h.core.model.records


def test_an_unknown_template_with_job_duration_names_the_templates():
    h = Harness()
    status, doc = submit(h, next(iter(DIALECTS.values())), {"template": "x", "job_duration": 9})
    assert status == 422 and "expected one of chain, fanout" in json.dumps(doc)


def test_the_serve_help_example_does_what_it_says():
    """``pollsim serve --help``'s submission: a job that ends the stated time after it
    starts, on the default scenario's first template."""
    from pollsim.serving import EPILOG_SERVE

    line = next(x for x in EPILOG_SERVE.splitlines() if "job_duration" in x and " -d " in x)
    body = json.loads(re.search(r"-d '(\{.*\})'", line)[1])
    path = re.search(r"localhost:\d+(/\S*)", line)[1]
    said = re.search(r"(\d+) simulated seconds", EPILOG_SERVE)
    assert said, "the example says how long its job takes"
    wall = [0.0]
    clock = ScaledClock(60, wall=lambda: wall[0], epoch=0.0)
    core = Core(LiveModel(default_scenario(), clock), Config(tokens={"t": "qa"}))
    r = core.handle(Request("POST", path, {}, {}, json.dumps(body).encode()))
    assert r.status < 300, r.body
    job_id = max(core.model.records)
    while core.model.truth(job_id)[0] is None:
        wall[0] += 0.25
        core.model.advance()
    assert core.model.truth(job_id)[0] == pytest.approx(float(said[1]))
