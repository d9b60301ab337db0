"""Physical ranges of element-set values: the one check every parser and the store reader use.

A value outside these ranges is either a typo or an attack (``MEAN_MOTION 1e300`` makes every
derived quantity overflow); such a record is rejected at import and skipped at read. The
ranges are wide enough for every object in the public catalogs (see docs/security.md):

- mean motion in [0.01, 20] rev/day: 0.01 rev/day is a 100-day orbit with a semi-major axis of
  ~910,000 km, inside the Earth's Hill sphere (~1.5 million km); above ~17 rev/day even a
  circular orbit is below the surface, 20 leaves margin. Published objects: 0.28 to 16.5.
- eccentricity in [0, 1) (bound orbits), inclination in [0, 180] deg, RAAN, argument of
  perigee and mean anomaly in [0, 360) deg;
- B* finite with |B*| <= 10 per earth radius (published: |B*| < 0.3); the mean-motion
  derivatives finite with magnitude < 1 (what a TLE can hold);
- epoch from 1957-01-01 (Sputnik) to before 2101-01-01 UTC;
- NORAD catalog number in [0, 999999999] (nine digits, Space-Track's planned extension);
- name at most :data:`MAX_NAME_CHARS` characters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from overflight.elements import ElementSet

__all__ = [
    "BSTAR_MAX",
    "EPOCH_MAX",
    "EPOCH_MIN",
    "MAX_NAME_CHARS",
    "MEAN_MOTION_MAX_REV_DAY",
    "MEAN_MOTION_MIN_REV_DAY",
    "NORAD_ID_MAX",
    "Problem",
    "check_element_set",
]

MEAN_MOTION_MIN_REV_DAY = 0.01
MEAN_MOTION_MAX_REV_DAY = 20.0
BSTAR_MAX = 10.0
MEAN_MOTION_DERIVATIVE_MAX = 1.0
EPOCH_MIN = datetime(1957, 1, 1, tzinfo=UTC)
EPOCH_MAX = datetime(2101, 1, 1, tzinfo=UTC)  # exclusive
NORAD_ID_MAX = 999_999_999
MAX_NAME_CHARS = 200


@dataclass(frozen=True, slots=True)
class Problem:
    """The first value of a record out of its range: the :class:`ElementSet` attribute, the
    value and the reason (``is out of range [0, 180]``), to be prefixed by a label."""

    attribute: str
    value: object
    reason: str

    def message(self, labels: Mapping[str, str] | None = None, shown: str | None = None) -> str:
        """``LABEL VALUE REASON``: ``labels`` maps attributes to the format's own names
        (``MEAN_MOTION``, ``line 2 mean motion``); ``shown`` replaces the value's repr."""
        label = (labels or {}).get(self.attribute, self.attribute)
        value = shown if shown is not None else _show(self.value)
        return f"{label} {value} {self.reason}"


def _show(value: object) -> str:
    if isinstance(value, str):
        return f"({len(value)} characters)"
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)


def _out(attribute: str, value: object, low: float, high: float, closed: bool) -> Problem:
    lo, hi = (f"{x}" if isinstance(x, int) else f"{x:g}" for x in (low, high))
    return Problem(attribute, value, f"is out of range [{lo}, {hi}{']' if closed else ')'}")


def check_element_set(es: ElementSet) -> Problem | None:
    """The first value of ``es`` outside its physical range (see the module doc), else None."""
    if not isinstance(es.norad_id, int) or not 0 <= es.norad_id <= NORAD_ID_MAX:
        return _out("norad_id", es.norad_id, 0, NORAD_ID_MAX, True)
    epoch = es.epoch
    if (
        not isinstance(epoch, datetime)
        or epoch.tzinfo is None
        or not EPOCH_MIN <= epoch < EPOCH_MAX
    ):
        return Problem("epoch", epoch, "is out of range [1957-01-01, 2101-01-01) UTC")
    mm = es.mean_motion_rev_day
    if not mm > 0.0:  # also NaN
        return Problem("mean_motion_rev_day", mm, "must be > 0")
    if not MEAN_MOTION_MIN_REV_DAY <= mm <= MEAN_MOTION_MAX_REV_DAY:
        return Problem(
            "mean_motion_rev_day",
            mm,
            f"is out of range [{MEAN_MOTION_MIN_REV_DAY:g}, {MEAN_MOTION_MAX_REV_DAY:g}] rev/day",
        )
    if not 0.0 <= es.eccentricity < 1.0:
        return _out("eccentricity", es.eccentricity, 0, 1, False)
    if not 0.0 <= es.inclination_deg <= 180.0:
        return _out("inclination_deg", es.inclination_deg, 0, 180, True)
    for attribute in ("raan_deg", "arg_perigee_deg", "mean_anomaly_deg"):
        angle = getattr(es, attribute)
        if not 0.0 <= angle < 360.0:
            return _out(attribute, angle, 0, 360, False)
    if not (math.isfinite(es.bstar) and abs(es.bstar) <= BSTAR_MAX):
        return _out("bstar", es.bstar, -BSTAR_MAX, BSTAR_MAX, True)
    for attribute in ("mean_motion_dot", "mean_motion_ddot"):
        value = getattr(es, attribute)
        if not (math.isfinite(value) and abs(value) < MEAN_MOTION_DERIVATIVE_MAX):
            return Problem(attribute, value, "is out of range (-1, 1)")
    if not isinstance(es.name, str) or len(es.name) > MAX_NAME_CHARS:
        return Problem("name", es.name, f"is longer than {MAX_NAME_CHARS} characters")
    return None
