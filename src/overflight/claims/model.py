"""The data of claim checking: claims, options, evidence, findings and results.

Nothing here computes geometry or decides a verdict: :mod:`.evidence` measures,
:mod:`.rules` judges (one :class:`Finding` per observation), :mod:`.report` words it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from overflight.errors import OverflightError
from overflight.freshness import MAX_AGE_DAYS as FRESHNESS_MAX_AGE_DAYS
from overflight.geometry import Site

if TYPE_CHECKING:
    from overflight.elements import ElementSet

__all__ = [
    "CANNOT_VERIFY",
    "CONSISTENT",
    "ERROR",
    "INCONSISTENT",
    "LEGACY_FLAGS",
    "Claim",
    "ClaimError",
    "ClaimProblem",
    "ClaimResult",
    "ClaimsFile",
    "ClaimsFileError",
    "DataNeeded",
    "Finding",
    "Geometry",
    "ManeuverCheck",
    "Opportunity",
    "Outcome",
    "VerifyOptions",
]

CONSISTENT = "consistent"
INCONSISTENT = "inconsistent"
CANNOT_VERIFY = "cannot-verify"
ERROR = "error"  # the claim itself could not be read (not a verdict about the satellite)


MAX_TOLERANCE_S = 86_400.0
"""Largest claimed-time tolerance, seconds (one day)."""
MAX_AGE_DAYS = FRESHNESS_MAX_AGE_DAYS
"""Largest ``max_age_days`` (element sets farther from a claim are not used), days: the one
bound of :data:`overflight.freshness.MAX_AGE_DAYS`."""


class ClaimError(OverflightError):
    """One malformed claim: ``file:line: claim 'id': field: problem`` on one line."""


class ClaimsFileError(OverflightError):
    """A claims file that cannot be used at all (unreadable, not YAML/CSV, wrong shape)."""


# ---- claims ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """An imaging claim. Times aware UTC; ``time_end`` set for a claimed interval.

    ``tolerance_s``: how far (s) the real imaging time may be from the claimed one (None: the
    verification default). ``max_off_nadir_deg`` / ``nadir_gsd_m`` / ``sensor`` ('optical' or
    'sar'): sensor limits claimed or known (None: the sensor table, then defaults).
    """

    id: str
    satellite: str
    target: Site
    time: datetime
    time_end: datetime | None = None
    time_text: str = ""
    zone: str | None = None
    tolerance_s: float | None = None
    max_off_nadir_deg: float | None = None
    nadir_gsd_m: float | None = None
    sensor: str | None = None
    source: str = ""
    notes: str = ""
    origin: str = ""  # file:line (or "command line")

    @property
    def end(self) -> datetime:
        """End of the claimed interval (= ``time`` for an instant)."""
        return self.time_end or self.time

    @property
    def midpoint(self) -> datetime:
        """Middle of the claimed interval."""
        return self.time + (self.end - self.time) / 2

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times ISO 8601 UTC)."""
        from overflight.times import format_utc

        return {
            "id": self.id,
            "satellite": self.satellite,
            "target": self.target.name,
            "target_lat_deg": self.target.lat_deg,
            "target_lon_deg": self.target.lon_deg,
            "time": format_utc(self.time, decimals=3),
            "time_end": None if self.time_end is None else format_utc(self.time_end, decimals=3),
            "time_as_given": self.time_text,
            "zone": self.zone,
            "tolerance_s": self.tolerance_s,
            "max_off_nadir_deg": self.max_off_nadir_deg,
            "nadir_gsd_m": self.nadir_gsd_m,
            "sensor": self.sensor,
            "source": self.source,
            "notes": self.notes,
            "origin": self.origin,
        }


@dataclass(frozen=True)
class ClaimProblem:
    """A claim that could not be read; ``message`` already names file, line and field."""

    claim_id: str | None
    origin: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ClaimsFile:
    """Claims and unreadable claims of one file, in file order."""

    path: str
    entries: tuple[Claim | ClaimProblem, ...]

    @property
    def claims(self) -> list[Claim]:
        return [e for e in self.entries if isinstance(e, Claim)]

    @property
    def problems(self) -> list[ClaimProblem]:
        return [e for e in self.entries if isinstance(e, ClaimProblem)]


FieldValue = str | dict[str, str | None] | None

# ---- verification options and results ---------------------------------------------------


@dataclass(frozen=True)
class VerifyOptions:
    """Verification settings (see ``docs/claims.md``).

    ``tolerance_s``: default claimed-time tolerance; ``max_age_days``: element sets farther than
    this from the claim are not used; ``search_hours``: opportunities are searched this far
    either side of the claim; ``default_max_off_nadir_deg``: sensor reach when neither the claim
    nor the sensor table gives one; ``along_track_km_per_day`` and ``along_track_km_per_day2``:
    the along-track uncertainty of an element set ``t`` days from its epoch, ``rate × t`` plus
    (near-Earth orbits, where drag is mismodelled) ``growth × t²`` km, turned into extra time
    tolerance, and beyond the claim's own tolerance a ``cannot-verify`` (docs/claims.md, "How
    old an element set may be"); ``night_sun_deg``: Sun
    elevation at the target below which an optical image is impossible (night);
    ``twilight_sun_deg``: below this (and above night) an optical image is doubtful;
    ``maneuver_km`` + ``maneuver_km_per_day`` × gap: semi-major-axis jump between bracketing
    element sets that counts as a maneuver.
    """

    tolerance_s: float = 120.0
    max_age_days: float = 3.0
    search_hours: float = 3.0
    default_max_off_nadir_deg: float = 30.0
    along_track_km_per_day: float = 3.0
    along_track_km_per_day2: float = 1.0
    night_sun_deg: float = -6.0
    twilight_sun_deg: float = 0.0
    maneuver_km: float = 0.25
    maneuver_km_per_day: float = 0.05

    def validate(self) -> None:
        """Raise ValueError for impossible settings."""
        from overflight.errors import check_number

        check_number(self.tolerance_s, "tolerance_s", 0.0, MAX_TOLERANCE_S)
        check_number(self.max_age_days, "max_age_days (max age)", 0.0, MAX_AGE_DAYS,
                     low_open=True)
        check_number(self.search_hours, "search_hours (search span)", 0.0, 48.0,
                     low_open=True)
        check_number(self.along_track_km_per_day, "along_track_km_per_day", 0.0, 1e3)
        check_number(self.along_track_km_per_day2, "along_track_km_per_day2", 0.0, 1e3)
        if not 0 < self.default_max_off_nadir_deg < 90:
            raise ValueError("default max off-nadir must be in (0, 90) degrees")
        if self.night_sun_deg > self.twilight_sun_deg:
            raise ValueError("night Sun elevation must not be above the twilight one")


@dataclass(frozen=True)
class Geometry:
    """Satellite-target geometry at one time: ground distance of the nadir point (km, sphere),
    off-nadir and elevation (deg), slant range (km), Sun elevation at the target (deg), satellite
    sunlit, nadir point (deg) and estimated GSD (m; None when no sensor is known or the target
    is below the horizon)."""

    time: datetime
    ground_distance_km: float
    off_nadir_deg: float
    elevation_deg: float
    range_km: float
    sun_elevation_deg: float
    satellite_sunlit: bool
    nadir_lat_deg: float
    nadir_lon_deg: float
    gsd_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        from overflight.times import format_utc

        return {
            "time": format_utc(self.time, decimals=1),
            "ground_distance_km": round(self.ground_distance_km, 1),
            "off_nadir_deg": round(self.off_nadir_deg, 2),
            "elevation_deg": round(self.elevation_deg, 2),
            "range_km": round(self.range_km, 1),
            "sun_elevation_deg": round(self.sun_elevation_deg, 2),
            "satellite_sunlit": self.satellite_sunlit,
            "nadir_lat_deg": round(self.nadir_lat_deg, 4),
            "nadir_lon_deg": round(self.nadir_lon_deg, 4),
            "gsd_m": None if self.gsd_m is None else round(self.gsd_m, 2),
        }


@dataclass(frozen=True)
class Opportunity:
    """A window in which the target was within the sensor's reach (or, for ``visible``, above
    the horizon): times UTC, ``offset_s`` from the claimed interval (0 when they overlap,
    negative before), best off-nadir (deg) and Sun elevation at the peak (deg)."""

    start: datetime
    peak: datetime
    end: datetime
    offset_s: float
    off_nadir_deg: float
    max_elevation_deg: float
    sun_elevation_deg: float

    def to_dict(self) -> dict[str, Any]:
        from overflight.times import format_utc

        return {
            "start": format_utc(self.start, decimals=1),
            "peak": format_utc(self.peak, decimals=1),
            "end": format_utc(self.end, decimals=1),
            "offset_s": round(self.offset_s, 1),
            "off_nadir_deg": round(self.off_nadir_deg, 2),
            "max_elevation_deg": round(self.max_elevation_deg, 2),
            "sun_elevation_deg": round(self.sun_elevation_deg, 2),
        }


@dataclass(frozen=True)
class ManeuverCheck:
    """Whether a maneuver separates two element sets. ``delta_a_km``: semi-major-axis change
    beyond natural motion; ``method``: ``maneuvers`` (the history detector,
    :func:`overflight.maneuvers.detect_maneuvers`, with ``delta_v_m_s`` and ``estimated_time``)
    or ``semi-major axis`` (:func:`check_maneuver`, with ``threshold_km``)."""

    earlier_epoch: datetime
    later_epoch: datetime
    detected: bool
    delta_a_km: float
    method: str
    threshold_km: float | None = None
    delta_v_m_s: float | None = None
    estimated_time: datetime | None = None
    time_uncertainty_s: float | None = None

    def describe(self, *, lowers: bool = True) -> str:
        """One sentence for the report; ``lowers``: whether the maneuver lowers confidence."""
        from overflight.claims.report import describe_maneuver

        return describe_maneuver(self, lowers=lowers)


@dataclass(frozen=True)
class DataNeeded:
    """Element sets that would settle a ``cannot-verify`` claim: ``satellite`` (NORAD id or the
    claim's reference) with epochs covering ``start`` … ``end`` (UTC dates)."""

    satellite: str
    start: date
    end: date
    max_age_days: float = 3.0
    claims: int = 1

    def __str__(self) -> str:
        return (f"import element sets for {self.satellite} covering {self.start.isoformat()} … "
                f"{self.end.isoformat()} (any within {self.max_age_days:g} days of a claimed "
                "time will do; one before and one after is best): overflight catalog import FILE")


def _iso(t: datetime | None, decimals: int = 0) -> str | None:
    from overflight.times import format_utc

    return None if t is None else format_utc(t, decimals=decimals)


#: How a finding bears on the claim: ``supports`` (the claim passes this rule), ``contradicts``
#: (the claim cannot be true), ``undetermined`` (the data cannot settle it) or ``note`` (evidence
#: that does not decide, possibly lowering confidence).
Outcome = Literal["supports", "contradicts", "undetermined", "note"]

#: The finding codes reported as ``findings`` by :meth:`ClaimResult.to_dict` (the short tags of
#: ``docs/claims.md``), in the order they are listed there.
LEGACY_FLAGS = (
    "satellite-unknown", "no-recent-elements", "elset-too-old", "elset-stale",
    "propagation-failed", "sensor-assumed", "imaging-ended", "night", "twilight", "maneuver",
    "elements-disagree",
)


@dataclass(frozen=True)
class Finding:
    """One rule's observation about a claim, with the numbers it rests on.

    ``rule``: the rule that made it (``satellite``, ``elset-age``, ``propagation``, ``reach``,
    ``lighting``, ``sensor``, ``resolution``, ``maneuver``, ``cross-check``); ``code``: short
    machine-readable tag (``docs/claims.md`` lists them); ``lowers_confidence``: the verdict
    stands but is less certain. Evidence fields are None where the rule does not use them.
    """

    rule: str
    outcome: Outcome
    code: str
    lowers_confidence: bool = False
    time: datetime | None = None  # UTC instant the finding is about
    offset_s: float | None = None  # from the claimed time or interval (negative: before)
    off_nadir_deg: float | None = None
    max_off_nadir_deg: float | None = None  # the sensor's reach used
    elevation_deg: float | None = None
    ground_distance_km: float | None = None
    sun_elevation_deg: float | None = None
    sun_threshold_deg: float | None = None  # the night or twilight limit crossed
    tolerance_s: float | None = None
    allowance_s: float | None = None  # timing uncertainty from the element set's age
    along_track_km: float | None = None  # along-track uncertainty at that age
    elset_age_days: float | None = None  # claimed time minus epoch (signed) or distance
    max_age_days: float | None = None
    delta_a_km: float | None = None
    threshold_km: float | None = None
    delta_v_m_s: float | None = None
    gsd_m: float | None = None
    sensor_kind: str | None = None  # 'optical' or 'sar'
    detail: str | None = None  # a short machine-readable qualifier (e.g. an error message)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields that are set (times ISO 8601 UTC)."""
        from overflight.times import format_utc

        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None or (name == "lowers_confidence" and not value):
                continue
            out[name] = format_utc(value, decimals=1) if isinstance(value, datetime) else value
        return out


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claim with its reasons (sentences) and evidence.

    ``closest``: geometry at the closest approach (minimum ground distance of the nadir point)
    nearest the claimed time; ``time_offset_s`` its offset from the claimed interval (positive
    after). ``at_claimed_time``: geometry at the claimed instant; ``best_in_tolerance``: the
    best reachable geometry within the tolerance (None when there is none).
    ``elset_age_days``: claimed time minus epoch (positive: the element set is older).
    ``findings``: what each rule observed (:mod:`overflight.claims.rules`); the verdict and
    the reasons are derived from them.
    """

    claim_id: str
    verdict: str
    reasons: tuple[str, ...]
    claim: Claim | None = None
    findings: tuple[Finding, ...] = ()
    confidence: str | None = None
    norad_id: int | None = None
    satellite_name: str | None = None
    tolerance_s: float | None = None
    max_off_nadir_deg: float | None = None
    max_off_nadir_source: str | None = None
    sensor_kind: str | None = None
    closest: Geometry | None = None
    time_offset_s: float | None = None
    at_claimed_time: Geometry | None = None
    best_in_tolerance: Geometry | None = None
    nearest_opportunity: Opportunity | None = None
    nearest_visible: Opportunity | None = None
    elset: ElementSet | None = None
    before: ElementSet | None = None
    after: ElementSet | None = None
    maneuver: ManeuverCheck | None = None
    data_needed: DataNeeded | None = None
    origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_problem(cls, problem: ClaimProblem) -> ClaimResult:
        """An error row for a claim that could not be read."""
        return cls(claim_id=problem.claim_id or problem.origin, verdict=ERROR,
                   reasons=(problem.message,), origin=problem.origin)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of all findings, in rule order."""
        return tuple(f.code for f in self.findings)

    @property
    def flags(self) -> tuple[str, ...]:
        """The short tags of ``to_dict()['findings']`` (:data:`LEGACY_FLAGS`), in their order."""
        codes = set(self.codes)
        return tuple(c for c in LEGACY_FLAGS if c in codes)

    def _age(self, es: ElementSet | None) -> float | None:
        if es is None or self.claim is None:
            return None
        return round(es.age_days(self.claim.midpoint), 3)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the same keys for every verdict (None where not known)."""
        c = self.claim
        g = self.closest
        return {
            "claim_id": self.claim_id,
            "verdict": self.verdict,
            "confidence": self.confidence,
            "reasons": list(self.reasons),
            "findings": list(self.flags),
            "satellite": c.satellite if c else None,
            "norad_id": self.norad_id,
            "satellite_name": self.satellite_name,
            "target": c.target.name if c else None,
            "target_lat_deg": c.target.lat_deg if c else None,
            "target_lon_deg": c.target.lon_deg if c else None,
            "claimed_time": _iso(c.time) if c else None,
            "claimed_time_end": _iso(c.time_end) if c else None,
            "claimed_time_as_given": c.time_text if c else None,
            "tolerance_s": None if self.tolerance_s is None else round(self.tolerance_s, 1),
            "max_off_nadir_deg": self.max_off_nadir_deg,
            "max_off_nadir_source": self.max_off_nadir_source,
            "sensor_kind": self.sensor_kind,
            "closest_approach_time": _iso(g.time, 1) if g else None,
            "time_offset_s": None if self.time_offset_s is None else round(self.time_offset_s, 1),
            "ground_distance_km": round(g.ground_distance_km, 1) if g else None,
            "off_nadir_deg": round(g.off_nadir_deg, 2) if g else None,
            "elevation_deg": round(g.elevation_deg, 2) if g else None,
            "sun_elevation_deg": round(g.sun_elevation_deg, 2) if g else None,
            "satellite_sunlit": g.satellite_sunlit if g else None,
            "gsd_m": round(g.gsd_m, 2) if g and g.gsd_m is not None else None,
            "at_claimed_time": self.at_claimed_time.to_dict() if self.at_claimed_time else None,
            "best_in_tolerance": (
                self.best_in_tolerance.to_dict() if self.best_in_tolerance else None
            ),
            "nearest_opportunity": (
                self.nearest_opportunity.to_dict() if self.nearest_opportunity else None
            ),
            "nearest_visible_pass": (
                self.nearest_visible.to_dict() if self.nearest_visible else None
            ),
            "elset_epoch": _iso(self.elset.epoch, 3) if self.elset else None,
            "elset_age_days": self._age(self.elset),
            "elset_before_epoch": _iso(self.before.epoch, 3) if self.before else None,
            "elset_before_age_days": self._age(self.before),
            "elset_after_epoch": _iso(self.after.epoch, 3) if self.after else None,
            "elset_after_age_days": self._age(self.after),
            # None when not known: no pair of sets, or a data gap between them.
            "maneuver_between_elsets": (
                self.maneuver.detected if self.maneuver and self.maneuver.method != "data gap"
                else None
            ),
            "maneuver_delta_a_km": (
                round(self.maneuver.delta_a_km, 3)
                if self.maneuver and self.maneuver.method != "data gap" else None
            ),
            "data_needed": None if self.data_needed is None else str(self.data_needed),
            "source": c.source if c else None,
            "notes": c.notes if c else None,
            "origin": self.origin,
        }


