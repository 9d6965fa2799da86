"""pollsim.tables: columns as wide as their contents, group titles over their columns."""

import pytest

from pollsim.tables import Column, render


def test_columns_widen_to_their_widest_cell():
    cols = [Column("strategy", "<"), Column("gave up")]
    lines = render(cols, [["fixed(5)", "3"], ["a-much-longer-name", "30.04277 (4129)"]])
    # every line's cells end where the title's do: the right-aligned column lines up
    ends = {len(line) for line in lines}
    assert ends == {len(lines[0])}
    assert lines[0].split() == ["strategy", "gave", "up"]
    assert lines[2].startswith("  a-much-longer-name  30.04277 (4129)")
    assert lines[1].index("3") == lines[2].index(")")


def test_group_title_spans_its_columns_and_widens_them_when_longer():
    cols = [
        Column("name", "<"),
        Column("mean", group="load (req/s)"),
        Column("max", group="load (req/s)"),
    ]
    lines = render(cols, [["a", "1.0", "2"]], indent="")
    assert len(lines) == 3
    group, titles, row = lines
    start = titles.index("mean")
    assert group.strip() == "load (req/s)"
    # the group's title lies over its two columns only
    assert group.index("load") >= start - 1
    assert len(titles) >= len(group)
    assert row.endswith("2") and titles.endswith("max")


def test_rows_with_the_wrong_number_of_cells_are_refused():
    with pytest.raises(ValueError, match="row 0: found 1 cells, expected 2"):
        render([Column("a"), Column("b")], [["x"]])


def test_bad_alignment_is_refused():
    with pytest.raises(ValueError, match="align"):
        Column("a", "^")
