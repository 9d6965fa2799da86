"""JSON Schema pieces the dialects' document models share."""

from __future__ import annotations

from collections.abc import Iterable

NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_TEXT = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
TEXT = {"type": "string"}
PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
OUTPUTS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["artifact_name", "path"],
        "properties": {"artifact_name": {"type": "string"}, "path": {"type": "string"}},
        "additionalProperties": False,
    },
}


def obj(properties: dict, required: Iterable[str] | None = None) -> dict:
    """A closed object: these properties (all required unless told), no others."""
    return {
        "type": "object",
        "required": list(properties) if required is None else list(required),
        "properties": properties,
        "additionalProperties": False,
    }


def enum(words: Iterable[str | None]) -> dict:
    return {"type": "string", "enum": sorted({w for w in words if w is not None})}


def page(key: str, item: dict) -> dict:
    """A page of documents under ``key``, as the list routes answer."""
    return obj(
        {
            key: {"type": "array", "items": item},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1},
            "offset": {"type": "integer", "minimum": 0},
        }
    )
