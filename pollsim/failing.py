"""How every ``pollsim`` command reports bad input: one line on stderr, exit status 2."""

from __future__ import annotations

import sys


def fail(message: str) -> int:
    """Print ``pollsim: message`` to stderr; the exit status to return (2)."""
    print(f"pollsim: {message}", file=sys.stderr)
    return 2
