"""Text tables whose columns are as wide as their contents.

Every table pollsim prints at a terminal goes through :func:`render`: cells come in
already formatted (the caller knows a duration from a share), and each column takes the
width of its widest cell or title, so that a four-digit count or a long strategy name
widens its column instead of pushing the row out of line. A title may sit over several
columns (``group``), as "load (req/s)" over mean, p99 and max.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GAP = 2  #: spaces between columns


@dataclass(frozen=True)
class Column:
    """A column: its title (words, with units where it has them), how its cells align
    (``"<"`` left, ``">"`` right) and the title of the group it belongs to, if any
    (adjacent columns with the same group share one title above theirs)."""

    title: str
    align: str = ">"
    group: str = ""

    def __post_init__(self) -> None:
        if self.align not in ("<", ">"):
            raise ValueError(f"align: found {self.align!r}, expected '<' or '>'")


def render(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], indent: str = "  "
) -> list[str]:
    """The table's lines: the group titles (when any column has a group), the titles,
    then one line per row. Trailing spaces are stripped."""
    n = len(columns)
    for i, row in enumerate(rows):
        if len(row) != n:
            raise ValueError(f"row {i}: found {len(row)} cells, expected {n}")
    widths = [max([len(c.title), *(len(r[j]) for r in rows)]) for j, c in enumerate(columns)]
    spans = _spans(columns)
    for group, first, last in spans:  # a group title wider than its columns widens the last
        inner = sum(widths[first : last + 1]) + GAP * (last - first)
        if group and len(group) > inner:
            widths[last] += len(group) - inner
    lines = []
    if any(c.group for c in columns):
        cells = []
        for group, first, last in spans:
            inner = sum(widths[first : last + 1]) + GAP * (last - first)
            cells.append(f"{group:^{inner}}" if group else " " * inner)
        lines.append(indent + (" " * GAP).join(cells))
    lines.append(indent + _line([c.title for c in columns], columns, widths))
    lines += [indent + _line(list(r), columns, widths) for r in rows]
    return [line.rstrip() for line in lines]


def _line(cells: list[str], columns: Sequence[Column], widths: list[int]) -> str:
    return (" " * GAP).join(
        f"{cell:{c.align}{w}}" for cell, c, w in zip(cells, columns, widths, strict=True)
    )


def _spans(columns: Sequence[Column]) -> list[tuple[str, int, int]]:
    """Runs of adjacent columns with the same group: (group, first index, last index)."""
    spans: list[tuple[str, int, int]] = []
    for j, c in enumerate(columns):
        if spans and c.group and spans[-1][0] == c.group and spans[-1][2] == j - 1:
            spans[-1] = (c.group, spans[-1][1], j)
        else:
            spans.append((c.group, j, j))
    return spans
