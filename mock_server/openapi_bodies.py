"""What the server takes, as JSON schemas of the OpenAPI document (``mock_server.openapi``):
a submission's body and ``PUT /_admin/faults``. Where the server's rule is one JSON Schema
cannot say (a sum of parts under a bound), the schema states a subset the server always
takes, and its description the whole rule, so that every value the document admits is
accepted."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sim.dialects.schema import obj
from sim.durations import MAX_RATE
from sim.limits import MAX_COUNT, MAX_DURATION
from sim.templates import JobTemplate

PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}

#: a duration as text, each unit's whole part short enough that three parts stay under
#: 10 years: "250ms", "40s", "1h30m", "20" (seconds)
_UNIT_DIGITS = {"ms": 10, "min": 5, "s": 7, "m": 5, "h": 4, "d": 3}
_FRACTION = r"(\.[0-9]{0,3})?"
_PART = "|".join(
    rf"([0-9]{{1,{n}}}{_FRACTION}|\.[0-9]{{1,3}}){unit}" for unit, n in _UNIT_DIGITS.items()
)
DURATION_TEXT = rf"^(([0-9]{{1,8}}{_FRACTION}|\.[0-9]{{1,3}})|({_PART}){{1,3}})$"
DURATION = {
    "type": ["number", "string"],
    "minimum": 0,
    "maximum": MAX_DURATION,
    "pattern": DURATION_TEXT,
    "description": "seconds, or text with units (ms, s, m or min, h, d) such as 250ms, "
    "1h30m or 20; at most 10 years. The server also takes spaces around the parts and "
    "plain numbers with an exponent; the pattern is a subset it always takes",
    "examples": [30, "1h30m"],
}
RATE = {
    "type": ["number", "string"],
    "exclusiveMinimum": 0,
    "maximum": MAX_RATE,
    "pattern": r"^0*[1-9][0-9]{0,5}(\.[0-9]{0,3})?(/(s|m|min|h|d))?$",
    "description": 'per second, or per unit as "20000/h"; more than 0, at most 1,000,000/s. '
    "The server also takes fractions under 1 and /ms as text; the pattern is a subset it "
    "always takes",
}


def up_to(n: int) -> str:
    """A regex of the decimal integers 0..n written in at most as many digits as n (leading
    zeros allowed within that), as the server reads a count."""
    digits = str(n)
    alts = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        left = len(digits) - i - 1
        if d != "0":
            alts.append(digits[:i] + f"[0-{int(d) - 1}]" + (f"[0-9]{{{left}}}" if left else ""))
    return "(" + "|".join([*alts, digits]) + ")"


def submission(templates: list[JobTemplate], max_retries: int | None) -> dict:
    """A submission's body: per template (the first when none is named), its step ids and
    outcomes, in two closed objects: one that says the job's length (``job_duration``),
    one its steps' (``duration``, ``durations``); a body with both is a 422."""
    retries = up_to(max_retries) if max_retries is not None else "[0-9]+"
    return {
        "anyOf": [
            _submit_for(t, retries, first=i == 0, whole=whole)
            for i, t in enumerate(templates)
            for whole in (True, False)
        ],
        "description": "the template (the first when absent), a forced outcome, and how "
        "long the job takes: job_duration, the whole job's, spread over its steps in "
        "proportion to their default durations so that the longest chain of dependent "
        "steps takes it; or duration, every step's, and durations, per step id (* for "
        "every step). job_duration beside either of the others (not null) is a 422",
        "examples": [
            {"template": templates[0].name, "outcome": "succeed", "job_duration": "60s"},
            {"template": templates[0].name, "outcome": "succeed", "duration": "30s"},
        ],
    }


def _submit_for(template: JobTemplate, retries: str, first: bool, whole: bool) -> dict:
    """One template's submission: the job's length (``whole``) or its steps' (else)."""
    ids = [s.id for s in template.steps]
    outcomes = [
        "succeed",
        f"transient_failures:{retries}",
        *(f"fail_step:{_literal(i)}" for i in ids),
    ]
    if any(s.optional for s in template.steps):
        outcomes.append("partial")
    name = {"enum": [template.name, None]} if first else {"const": template.name}
    none = {"type": "null"}
    properties = {
        "template": name,
        "outcome": {"type": ["string", "null"], "pattern": f"^({'|'.join(outcomes)})$"},
        "job_duration": {**DURATION, "type": ["number", "string", "null"]} if whole else none,
        "durations": none
        if whole
        else {
            "type": ["object", "null"],
            "propertyNames": {"enum": ["*", *ids]},
            "additionalProperties": DURATION,
        },
        "duration": none if whole else {**DURATION, "type": ["number", "string", "null"]},
    }
    return obj(properties, [] if first else ["template"])


def faults_body(codes: Iterable[int], outage_modes: Iterable[str]) -> dict:
    """``PUT /_admin/faults``: the keys of a scenario's ``[faults]``, plus ``outages``."""
    latency = {
        "oneOf": [
            DURATION,
            *(
                obj({"dist": {"const": dist}, **dict.fromkeys(keys, DURATION)}, ["dist", *keys])
                for dist, keys in _DISTS.items()
            ),
            obj(
                {
                    "dist": {"const": "empirical"},
                    "samples": {"type": "array", "minItems": 1, "items": DURATION},
                }
            ),
        ],
        "description": "wall seconds of injected latency: a duration, or a distribution "
        "(uniform needs low <= high; lognormal 0 < median <= p95)",
    }
    outage = obj(
        {"start": DURATION, "duration": DURATION, "mode": {"enum": list(outage_modes)}},
        ["start", "duration"],
    )
    return {
        **obj(
            {
                "errors": {
                    "type": "object",
                    "propertyNames": {"enum": [str(c) for c in codes]},
                    "additionalProperties": PROBABILITY,
                },
                "reset": PROBABILITY,
                "empty": PROBABILITY,
                "malformed": PROBABILITY,
                "dribble": obj({"probability": PROBABILITY, "rate": BYTE_RATE}, []),
                "latency": latency,
                "latency_probability": PROBABILITY,
                "rate_limit": {
                    **obj(
                        {
                            "rate": RATE,
                            "burst": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
                        },
                        ["rate"],
                    ),
                    "description": "requests per second and burst of each client's bucket "
                    "(an empty object: none)",
                },
                "outages": {
                    "type": ["array", "null"],
                    "items": outage,
                    "description": "simulated seconds; null keeps those in force",
                },
            },
            [],
        ),
        "description": "replaces the faults in force. The exclusive faults' probabilities "
        "(errors, reset, empty, malformed, dribble) add up to at most 1: a body past that "
        "is answered 422",
        "examples": [{"errors": {"503": 0.1}, "reset": 0.05, "outages": []}],
    }


_DISTS = {
    "constant": ("value",),
    "uniform": ("low", "high"),
    "exponential": ("mean",),
    "lognormal": ("median", "p95"),
}
BYTE_RATE = {
    "type": ["number", "string"],
    "minimum": 1,
    "maximum": MAX_RATE,
    "pattern": r"^0*[1-9][0-9]{0,5}(\.[0-9]{0,3})?(/s)?$",
    "description": 'bytes per second, at least 1, or per unit as "200/s"; the pattern is a '
    "subset of what the server takes",
}


def _literal(text: str) -> str:
    """Text matched as itself by a regex, in the ECMA dialect JSON Schema patterns use
    (``re.escape`` also escapes characters that ECMA's unicode mode refuses escaped)."""
    return re.sub(r"[\\^$.|?*+()\[\]{}/]", lambda m: "\\" + m.group(), text)
