"""The element-set record shared by every module: one mean-element set (TLE or OMM) of one object.

Values are stored exactly as published (TLE or OMM units), so that exporting and re-importing
yields the identical record. Derived quantities (period, perigee altitude...) are properties.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from overflight.constants import DAY_S, WGS72_J2, WGS72_MU_KM3_S2, WGS72_RADIUS_KM, XKE_PER_MIN
from overflight.times import format_utc

if TYPE_CHECKING:
    from sgp4.api import Satrec

__all__ = [
    "EARTH_RADIUS_KM",
    "MU_KM3_S2",
    "ElementError",
    "ElementSet",
    "apsis_altitudes_km",
    "epoch_from_tle",
    "epoch_to_tle",
    "kozai_mean_motion_rev_day",
    "sgp4_semi_major_axis_km",
]

# Re-exported from overflight.constants (WGS-72, as SGP4) for code that imports them from here.
MU_KM3_S2 = WGS72_MU_KM3_S2
EARTH_RADIUS_KM = WGS72_RADIUS_KM
_SGP4_EPOCH0 = datetime(1949, 12, 31, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ElementError:
    """One rejected record: where it came from and what was wrong, as one readable line."""

    source: str
    line: int | None
    field: str
    message: str
    record_index: int | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where = f"{where}:{self.line}"
        elif self.record_index is not None:
            where = f"{where}: record {self.record_index}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ElementSet:
    """A mean-element set in published units (TLE/OMM conventions).

    ``epoch`` is timezone-aware UTC (microsecond precision). Angles in degrees,
    ``mean_motion_rev_day`` in revolutions per day (Kozai, as in a TLE),
    ``mean_motion_dot`` in rev/day² divided by 2 and ``mean_motion_ddot`` in rev/day³ divided
    by 6 (the TLE convention), ``bstar`` in 1/earth radii.
    """

    norad_id: int
    epoch: datetime
    mean_motion_rev_day: float
    eccentricity: float
    inclination_deg: float
    raan_deg: float
    arg_perigee_deg: float
    mean_anomaly_deg: float
    bstar: float = 0.0
    mean_motion_dot: float = 0.0
    mean_motion_ddot: float = 0.0
    name: str = ""
    intl_designator: str = ""
    classification: str = "U"
    element_set_no: int = 999
    rev_at_epoch: int = 0
    ephemeris_type: int = 0
    _key: str = field(default="", compare=False, repr=False)

    # ---- identity -------------------------------------------------------------------------
    @property
    def key(self) -> str:
        """Content hash of the orbital values: equal keys mean the same element set.

        The name, designator and counters do not take part, so a record re-published under a
        new name is still the same element set.
        """
        if self._key:
            return self._key
        parts = (
            self.norad_id,
            self.epoch.isoformat(),
            repr(self.mean_motion_rev_day),
            repr(self.eccentricity),
            repr(self.inclination_deg),
            repr(self.raan_deg),
            repr(self.arg_perigee_deg),
            repr(self.mean_anomaly_deg),
            repr(self.bstar),
            repr(self.mean_motion_dot),
            repr(self.mean_motion_ddot),
        )
        digest = hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:20]
        object.__setattr__(self, "_key", digest)
        return digest

    # ---- derived values -------------------------------------------------------------------
    @property
    def period_min(self) -> float:
        """Orbital period in minutes."""
        return 1440.0 / self.mean_motion_rev_day

    @property
    def semi_major_axis_km(self) -> float:
        """SGP4's mean semi-major axis, km (:func:`sgp4_semi_major_axis_km`: from the
        un-Kozai'd mean motion, as ``Satrec.a`` × 6378.135 km)."""
        return sgp4_semi_major_axis_km(self.mean_motion_rev_day, self.eccentricity,
                                       self.inclination_deg)

    @property
    def perigee_alt_km(self) -> float:
        """Mean perigee altitude, km: :func:`apsis_altitudes_km` of SGP4's mean semi-major
        axis (above the WGS-72 equatorial radius, a sphere)."""
        return float(apsis_altitudes_km(self.semi_major_axis_km, self.eccentricity)[0])

    @property
    def apogee_alt_km(self) -> float:
        """Mean apogee altitude, km (as :attr:`perigee_alt_km`)."""
        return float(apsis_altitudes_km(self.semi_major_axis_km, self.eccentricity)[1])

    def age_days(self, at: datetime | None = None) -> float:
        """Days from the epoch to ``at`` (default: now, UTC)."""
        at = at or datetime.now(UTC)
        return (at - self.epoch).total_seconds() / DAY_S

    @property
    def orbit_class(self) -> str:
        """A coarse orbit class: LEO, MEO, GEO, HEO (highly elliptical)."""
        if self.eccentricity >= 0.25:
            return "HEO"
        if 0.9 <= self.mean_motion_rev_day <= 1.1:
            return "GEO"
        if self.mean_motion_rev_day >= 11.25:
            return "LEO"
        return "MEO"

    # ---- SGP4 -----------------------------------------------------------------------------
    def to_satrec(self) -> Satrec:
        """An initialized ``sgp4`` Satrec (WGS-72, improved mode), as Skyfield would build."""
        from sgp4.api import WGS72, Satrec

        sat = Satrec()
        deg = math.pi / 180.0
        minutes_per_day = 1440.0
        days = (self.epoch - _SGP4_EPOCH0).total_seconds() / DAY_S
        sat.sgp4init(
            WGS72,
            "i",
            self.norad_id if self.norad_id < 340000 else 0,
            days,
            self.bstar,
            self.mean_motion_dot / (minutes_per_day**2 / (2.0 * math.pi)),
            self.mean_motion_ddot / (minutes_per_day**3 / (2.0 * math.pi)),
            self.eccentricity,
            self.arg_perigee_deg * deg,
            self.inclination_deg * deg,
            self.mean_anomaly_deg * deg,
            self.mean_motion_rev_day / (minutes_per_day / (2.0 * math.pi)),
            self.raan_deg * deg,
        )
        # One float of days since 1949 rounds the epoch by up to 0.4 µs; set the two-part Julian
        # date exactly, as twoline2rv does (midnight + fraction of day).
        midnight = self.epoch.replace(hour=0, minute=0, second=0, microsecond=0)
        since_midnight = self.epoch - midnight
        sat.jdsatepoch = (midnight - _SGP4_EPOCH0).days + 2433281.5
        sat.jdsatepochF = (since_midnight.seconds + since_midnight.microseconds / 1e6) / DAY_S
        return sat

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (epoch as ISO 8601 with ``Z``), including derived values."""
        return {
            "norad_id": self.norad_id,
            "name": self.name,
            "intl_designator": self.intl_designator,
            "epoch": format_utc(self.epoch, decimals=6),
            "mean_motion_rev_day": self.mean_motion_rev_day,
            "eccentricity": self.eccentricity,
            "inclination_deg": self.inclination_deg,
            "raan_deg": self.raan_deg,
            "arg_perigee_deg": self.arg_perigee_deg,
            "mean_anomaly_deg": self.mean_anomaly_deg,
            "bstar": self.bstar,
            "mean_motion_dot": self.mean_motion_dot,
            "mean_motion_ddot": self.mean_motion_ddot,
            "classification": self.classification,
            "element_set_no": self.element_set_no,
            "rev_at_epoch": self.rev_at_epoch,
            "ephemeris_type": self.ephemeris_type,
            "period_min": self.period_min,
            "semi_major_axis_km": self.semi_major_axis_km,
            "perigee_alt_km": self.perigee_alt_km,
            "apogee_alt_km": self.apogee_alt_km,
        }


# ---- the one definition of semi-major axis, perigee and apogee ---------------------------------
def _unkozai_ratio(n_kozai_rad_min: float, eccentricity: float, inclination_deg: float) -> float:
    """SGP4's initialisation (``initl``): un-Kozai'd over published (Kozai) mean motion."""
    cosio = math.cos(math.radians(inclination_deg))
    omeosq = 1.0 - eccentricity * eccentricity
    ak = (XKE_PER_MIN / n_kozai_rad_min) ** (2.0 / 3.0)
    d1 = 0.75 * WGS72_J2 * (3.0 * cosio * cosio - 1.0) / (math.sqrt(omeosq) * omeosq)
    de = d1 / (ak * ak)
    adel = ak * (1.0 - de * de - de * (1.0 / 3.0 + 134.0 * de * de / 81.0))
    de = d1 / (adel * adel)
    return float(1.0 / (1.0 + de))


def sgp4_semi_major_axis_km(
    mean_motion_rev_day: float, eccentricity: float, inclination_deg: float
) -> float:
    """SGP4's mean semi-major axis, km: ``(ke / n)^(2/3)`` earth radii with ``n`` the mean
    motion SGP4 un-Kozai's at initialisation (``Satrec.a`` × 6378.135 km, WGS-72). A few km
    from the two-body value of the published (Kozai) mean motion, by inclination."""
    n_kozai = mean_motion_rev_day * 2.0 * math.pi / 1440.0
    n = n_kozai * _unkozai_ratio(n_kozai, eccentricity, inclination_deg)
    return float((XKE_PER_MIN / n) ** (2.0 / 3.0) * WGS72_RADIUS_KM)


def kozai_mean_motion_rev_day(
    semi_major_axis_km: float, eccentricity: float, inclination_deg: float
) -> float:
    """The published (Kozai) mean motion, rev/day, whose :func:`sgp4_semi_major_axis_km` is
    ``semi_major_axis_km`` (inverse, by fixed-point iteration to 1e-15 relative)."""
    n_unkozai = XKE_PER_MIN / (semi_major_axis_km / WGS72_RADIUS_KM) ** 1.5
    n = n_unkozai
    for _ in range(50):
        nxt = n_unkozai / _unkozai_ratio(n, eccentricity, inclination_deg)
        if abs(nxt - n) <= 1e-15 * n:
            n = nxt
            break
        n = nxt
    return float(n * 1440.0 / (2.0 * math.pi))


def apsis_altitudes_km(semi_major_axis_km: Any, eccentricity: Any) -> tuple[Any, Any]:
    """Mean perigee and apogee altitudes ``a (1 ∓ e) − 6378.135 km``: above the WGS-72
    equatorial radius (a sphere, as SGP4), of SGP4's *mean* elements. Scalars or numpy arrays.
    The one definition used by the catalog, history, maneuvers and the server
    (docs/history.md, "Perigee and apogee")."""
    return (semi_major_axis_km * (1.0 - eccentricity) - WGS72_RADIUS_KM,
            semi_major_axis_km * (1.0 + eccentricity) - WGS72_RADIUS_KM)


def epoch_from_tle(year2: int, day_of_year: float) -> datetime:
    """TLE epoch (two-digit year, fractional day of year, day 1.0 = Jan 1 00:00) to UTC datetime.

    Rounded to the microsecond; the TLE's 8 decimals of a day are 864 µs, so this is exact
    enough to print back the same digits.
    """
    year = year2 + (1900 if year2 >= 57 else 2000)
    start = datetime(year, 1, 1, tzinfo=UTC)
    micros = round((day_of_year - 1.0) * 86400e6)
    return start + timedelta(microseconds=micros)


def epoch_to_tle(epoch: datetime) -> tuple[int, float]:
    """UTC datetime to (two-digit year, fractional day of year) as a TLE prints it."""
    epoch = epoch.astimezone(UTC)
    start = datetime(epoch.year, 1, 1, tzinfo=UTC)
    delta = epoch - start
    day = 1.0 + (delta.days * 86400e6 + delta.seconds * 1e6 + delta.microseconds) / 86400e6
    return epoch.year % 100, day
