"""A submission (``Kind.SUBMIT``) in every dialect: what its body asks, and the job made
as it asks, answered as the dialect answers one (``Dialect.submitted``).

The body names a template (the scenario's first when absent), a forced outcome, and how
long the job's steps take, in one of two ways that say different things:

- ``"job_duration": "60s"``: the whole job, its first step's start to its last step's
  end. It is spread over the template's steps in proportion to their default mean
  durations, so that the longest chain of dependent steps takes it
  (``sim.templates.JobTemplate.spread``); a retried attempt takes its step's share
  again, and the retry's wait comes on top.
- ``"duration": "20s"`` sets every step's duration (a two-step chain then takes 40 s),
  and ``"durations": {"<step id>": "20s", "*": ...}`` each step's.

``job_duration`` beside either of the others is a 422 naming both: the job's length and
its steps' cannot both be kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.bodies import json_object
from mock_server.collection import _full
from mock_server.core import SUBMIT_FIELDS
from mock_server.model import RetryBudget, SubmitError, short
from mock_server.responses import Request, Response, error
from sim.dialects import Dialect
from sim.durations import parse_duration

if TYPE_CHECKING:
    from mock_server.core import Core

#: the fields that say how long a job's steps take, the job-level one first
TIMINGS = ("job_duration", "duration", "durations")
_DURATION = 'expected seconds or a duration text such as 60, "60s" or "1m30s"'


def submit(core: Core, req: Request, dialect: Dialect, tenant: str) -> Response:
    """A job made as the body asks, answered as the dialect answers a submission (by
    default 201, its status and Location, with the status document's ETag where that
    is the answer's body); 429 past the caps, 400/422 for a body the server cannot act
    on."""
    full = _full(core, tenant)
    if full is not None:
        return full
    fields = json_object(req.body)
    if isinstance(fields, Response):
        return fields
    asked = read(core, fields)
    if isinstance(asked, Response):
        return asked
    template, outcome, durations = asked
    try:
        rec = core.model.submit(
            template,
            tenant,
            outcome,
            durations,
            core.config.max_scripted_retries,
            core.config.max_scripted_retries_total,
        )
    except RetryBudget as exc:  # what the server holds, like max_jobs: 429
        return error(429, "too_many_retries", str(exc))
    except SubmitError as exc:
        return error(422, "invalid", str(exc))
    return core.answer_with(rec, dialect, dialect.submitted)


def read(core: Core, fields: dict) -> tuple[str | None, str | None, dict] | Response:
    """The template, outcome and step durations (step id or ``*`` -> a duration as sent,
    checked by the model) a submission's fields ask for, or the 422 saying what is
    wrong. A field given as null is a field not given."""
    unknown = sorted(set(fields) - SUBMIT_FIELDS)
    if unknown:
        expected = ", ".join(sorted(SUBMIT_FIELDS))
        return _invalid(f"unknown field {short(unknown[0])}; expected {expected}")
    for key in ("template", "outcome"):
        if fields.get(key) is not None and not isinstance(fields[key], str):
            return _invalid(f"{key}: expected a string")
    given = [key for key in TIMINGS if fields.get(key) is not None]
    if "job_duration" in given and len(given) > 1:
        other = given[1]
        return _invalid(
            f"job_duration and {other} conflict: job_duration is the whole job's, spread "
            f"over its steps; {other} sets {_SETS[other]}; send one of them"
        )
    template = fields.get("template")
    if "job_duration" in given:
        spread = _spread(core, template, fields["job_duration"])
        if isinstance(spread, Response):
            return spread
        return template, fields.get("outcome"), spread
    durations = fields.get("durations")
    if durations is None:
        durations = {}
    elif not isinstance(durations, dict):  # false, [], "" are not "no durations"
        return _invalid("durations: expected an object of step id -> duration")
    duration = fields.get("duration")
    if duration is not None:
        if not _duration_like(duration):
            return _invalid(f"duration: {_DURATION}")
        durations = {"*": duration, **durations}
    return template, fields.get("outcome"), durations


_SETS = {"duration": "each step's duration", "durations": "the duration of the steps it names"}


def _spread(core: Core, template: str | None, raw: object) -> dict | Response:
    """``job_duration`` as each step's duration, or the 422 saying why it is none. An
    unknown template is left to the model to refuse, naming the templates there are."""
    if not _duration_like(raw):
        return _invalid(f"job_duration: {_DURATION}")
    try:
        total = parse_duration(raw)
    except (ValueError, TypeError, OverflowError) as exc:
        return _invalid(f"job_duration: {exc}")
    model = core.model
    spec = model.scenario.templates[0] if template is None else model.templates.get(template)
    return {} if spec is None else spec.spread(total)


def _duration_like(value: object) -> bool:
    """A number or text, which ``parse_duration`` may read (true and false are no number)."""
    return not isinstance(value, bool) and isinstance(value, (str, int, float))


def _invalid(message: str) -> Response:
    return error(422, "invalid", message)
