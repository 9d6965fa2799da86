"""What every plot of the model shares: the time unit of its x axis and the note an empty
plot carries."""

from __future__ import annotations


def time_unit(span: float) -> tuple[float, str]:
    """Seconds per unit, and the unit's name, for an axis spanning ``span`` seconds."""
    if span > 3 * 3600:
        return 3600.0, "h"
    if span > 3 * 60:
        return 60.0, "min"
    return 1.0, "s"


def nothing(ax, text: str = "no jobs in this run") -> None:
    """Say in the middle of an empty plot why it is empty."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
