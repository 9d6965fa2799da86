"""Request bodies read as JSON objects, refusing what would make the parser or the code
after it fail instead of answering: deep nesting, non-JSON constants, bytes that are not
UTF-8. Integers too long for 64 bits are read as floats (``inf`` past the largest), so
that validation refuses them as out of range, as it would a float.

>>> json_object(b'{"duration": 20}')
{'duration': 20}
>>> json_object(b'{"duration": ' + b"9" * 500 + b"}")
{'duration': inf}
>>> json_object(b"[" * 40 + b"]" * 40).status
400
"""

from __future__ import annotations

import json
import re

from mock_server.responses import Response, error

MAX_DEPTH = 32  #: arrays and objects nested deeper are refused before parsing
_ESCAPES = re.compile(rb"\\.", re.DOTALL)
_STRINGS = re.compile(rb'"[^"]*"')
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")
_OTHERS = bytes(b for b in range(256) if b not in b"[]{}")


def json_object(body: bytes) -> dict | Response:
    """The body as a JSON object ({} when empty), or the 400/422 answer saying why not."""
    if not body.strip():
        return {}
    if too_deep(body, MAX_DEPTH):
        return error(
            400, "bad_json", f"request body nests arrays and objects deeper than {MAX_DEPTH}"
        )
    try:
        value = json.loads(body, parse_int=_integer, parse_constant=_constant)
    except RecursionError:  # not reached past too_deep; kept as the last guard
        return error(400, "bad_json", "request body nests too deep")
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return error(400, "bad_json", f"request body is not JSON: {_short(exc)}")
    if not isinstance(value, dict):
        return error(422, "invalid", "request body: expected a JSON object")
    return value


def too_deep(body: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays and objects deeper than ``limit``, found in linear
    time without parsing it (the parser recurses once per level)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the usual body: too few brackets to be deep
    bare = _STRINGS.sub(b"", _ESCAPES.sub(b"", body))  # brackets inside strings do not count
    depth = 0
    for byte in bare.translate(None, _OTHERS):
        if byte in _OPEN:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _integer(text: str) -> int | float:
    """JSON integers past 64 bits as floats: no 4,300-digit limit, no overflow later."""
    return int(text) if len(text) < 20 else float(text)


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _short(exc: ValueError) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:197] + "..."
