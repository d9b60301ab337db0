"""How far element sets are from the times they are used for: one check for every frontend.

SGP4 predictions degrade by kilometres per day of element-set age, so overflight windows more
than a week from the element sets' epochs deserve a warning (the CLI prints it, the service
returns it in ``warnings``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overflight.elements import ElementSet

__all__ = ["STALE_AFTER_DAYS", "StaleElementSet", "StaleReport", "stale_elements"]

STALE_AFTER_DAYS = 7.0
"""Element sets further than this from a requested time are reported, days."""


@dataclass(frozen=True)
class StaleElementSet:
    """One satellite whose element set is ``age_days`` from the farther end of the interval."""

    norad_id: int
    name: str
    epoch: datetime
    age_days: float

    def to_dict(self) -> dict[str, Any]:
        from overflight.times import format_utc

        return {"norad_id": self.norad_id, "name": self.name, "epoch": format_utc(self.epoch),
                "age_days": round(self.age_days, 2)}


@dataclass(frozen=True)
class StaleReport:
    """The satellites whose element sets are more than ``max_age_days`` from the interval,
    oldest first; false when there are none."""

    max_age_days: float
    satellites: tuple[StaleElementSet, ...]

    def __bool__(self) -> bool:
        return bool(self.satellites)

    @property
    def worst_age_days(self) -> float:
        """The largest age among the reported element sets (0 when none), days."""
        return max((s.age_days for s in self.satellites), default=0.0)

    def message(self, how: str | None = None) -> str:
        """One warning line; ``how`` tells how to get fresh data (a frontend's hint)."""
        fresh = f"import fresh data: {how}" if how else "import fresh data"
        return (f"element sets are up to {self.worst_age_days:.0f} days from the requested times; "
                f"predictions degrade by kilometres per day of age ({fresh})")

    def to_dict(self) -> dict[str, Any]:
        return {"max_age_days": self.max_age_days,
                "satellites": [s.to_dict() for s in self.satellites]}


def stale_elements(
    elsets: Sequence[ElementSet], start: datetime, end: datetime, *,
    max_age_days: float = STALE_AFTER_DAYS,
) -> StaleReport:
    """Element sets whose epoch is more than ``max_age_days`` from ``start`` or ``end``."""
    found = []
    for e in elsets:
        age = max(abs(e.age_days(start)), abs(e.age_days(end)))
        if age > max_age_days:
            found.append(StaleElementSet(e.norad_id, e.name, e.epoch, age))
    found.sort(key=lambda s: (-s.age_days, s.norad_id))
    return StaleReport(max_age_days, tuple(found))
