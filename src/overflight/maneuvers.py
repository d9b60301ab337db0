"""Maneuver forensics from element-set history: detection, Δv, time of burn, decay estimate.

Method (details, thresholds and limits in ``docs/history.md``):

1. *Natural motion.* For each pair of consecutive element sets of an object, the earlier set is
   propagated with SGP4 to the later epoch. SGP4's secular mean elements at that moment (drag
   through B*, J2/J4 drift of node and perigee, lunisolar terms for deep-space orbits) are what
   natural motion predicts; the later set's own mean elements are what was observed.
2. *Change needed.* The differences are expressed as the smallest impulse that explains them
   (near-circular Gauss/vis-viva): tangential ``(v/2) Δa/a``, eccentricity ``(v/2)|Δe|`` (the
   eccentricity vector), plane ``2 v sin(Δθ/2)`` (angle between orbit normals).
3. *Normal scatter.* Each component is divided by a gap factor (errors grow with the time
   between epochs) and by the object's robust scatter (median absolute deviation over its own
   pairs; a pooled or default scale for objects with few pairs). A pair is a maneuver when a
   component exceeds ``threshold`` robust sigmas and the Δv is at least ``min_delta_v_m_s``.
4. *When.* The before and after trajectories are propagated across the bracket; the burn is where
   they come closest (distance weighted by the object's radial / along / cross-track scatter),
   with the span of near-minimal times as the uncertainty.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from overflight.constants import DAY_S, WGS72_MU_KM3_S2, WGS72_RADIUS_KM
from overflight.elements import ElementSet, apsis_altitudes_km
from overflight.history import OrbitTable
from overflight.times import format_uncertainty, format_utc

if TYPE_CHECKING:
    from overflight.access import Window
    from overflight.geometry import Site

__all__ = [
    "DECAY_HORIZON_DAYS",
    "DEFAULT_CONFIG",
    "MAX_BRACKET_DAYS",
    "MIN_DECAY_SETS",
    "MIN_DECAY_SPAN_DAYS",
    "MIN_MANEUVER_SETS",
    "NON_MANEUVERING_TYPES",
    "DataGap",
    "DecayAssessment",
    "DecayEstimate",
    "DetectionConfig",
    "DetectionResult",
    "HistoryStatus",
    "Maneuver",
    "PassNote",
    "Status",
    "assess_decay",
    "detect_maneuvers",
    "estimate_decay",
    "format_decay_rate",
    "history_document",
    "object_type_of",
    "with_passes",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_JD_UNIX = 2440587.5
_ORIGIN = datetime(1970, 1, 1, tzinfo=UTC)
_MAD_TO_SIGMA = 1.4826
_MIN_DRIFT_GAP_DAYS = 2.0 / 24.0
_SETTLING = 0.1

Status = Literal["ok", "not-enough-history", "data-gap"]
"""What a history answer rests on: ``ok`` (every bracket could be examined),
``not-enough-history`` (too few element sets: no maneuver or decay found means nothing),
``data-gap`` (some consecutive element sets are too far apart to bracket a maneuver)."""

MIN_MANEUVER_SETS = 2
"""Element sets an object needs for maneuver detection: one pair to compare."""

MAX_BRACKET_DAYS = 10.0
"""Longest gap between consecutive element sets the detector examines, days; longer gaps are
reported as data gaps, never as a delta-v. Why 10 days: docs/history.md ("Data gaps")."""

NON_MANEUVERING_TYPES = frozenset({"debris", "rocket body"})
"""SATCAT object types (normalized) of objects without propulsion: their orbit changes are
never maneuvers."""

MIN_DECAY_SETS = 4
"""Element sets (after the last maneuver and the last data gap) a decay estimate needs."""

MIN_DECAY_SPAN_DAYS = 1.5
"""Span, days, those sets must cover for a decay estimate."""

DECAY_HORIZON_DAYS = 5 * 365.25
"""Farthest decay date given, days after the last element set: about half the 11-year solar
cycle, after which the thermosphere's density no longer resembles the drag measured today
(docs/history.md, "Decay estimate"). Farther estimates are ``beyond-horizon``, without a
date."""


@dataclass(frozen=True)
class DetectionConfig:
    """Detector settings.

    ``threshold``: robust sigmas a Δv component must exceed; ``min_delta_v_m_s``: smaller
    changes are never reported; ``gap_ref_days``: errors are modelled as growing like
    ``gap + gap_ref_days``; ``min_pairs``: pairs an object needs for its own scatter (else the
    run's pooled scale, or the defaults); ``min_gap_s``: closer epochs are not compared;
    ``gap_threshold_days``: farther epochs are not compared either but reported as a data gap;
    ``estimate_times``: search the burn time (costs two propagations per maneuver).
    """

    threshold: float = 7.0
    min_delta_v_m_s: float = 0.02
    gap_ref_days: float = 0.25
    min_pairs: int = 8
    min_gap_s: float = 60.0
    gap_threshold_days: float = MAX_BRACKET_DAYS
    estimate_times: bool = True
    # Per-component scales (m/s at a 1-day gap; radial / along / cross-track km) used when
    # neither the object nor the run has enough pairs: the medians of the per-object scales of
    # the 'resource' group in the real week of history (docs/history.md).
    default_sigma_m_s: tuple[float, float, float] = (0.0025, 0.02, 0.034)  # t, e, plane
    default_position_km: tuple[float, float, float] = (0.04, 0.3, 0.03)
    floor_sigma_m_s: float = 2e-4
    floor_position_km: float = 0.02


DEFAULT_CONFIG = DetectionConfig()


@dataclass(frozen=True)
class PassNote:
    """A pass of the satellite over a station inside a maneuver's bracket."""

    station: str
    start: datetime
    peak: datetime
    end: datetime
    max_elevation_deg: float
    contains_estimate: bool
    within_uncertainty: bool
    offset_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``offset_s``: estimated time minus the nearer pass edge (0 inside);
        ``contains_estimate``: the estimated time is inside the pass; ``within_uncertainty``:
        the pass overlaps estimated time ± uncertainty."""
        return {
            "station": self.station,
            "start": _iso(self.start),
            "peak": _iso(self.peak),
            "end": _iso(self.end),
            "max_elevation_deg": round(self.max_elevation_deg, 2),
            "contains_estimate": self.contains_estimate,
            "within_uncertainty": self.within_uncertainty,
            "offset_s": round(self.offset_s, 1),
        }


@dataclass(frozen=True)
class Maneuver:
    """One detected maneuver: the change between two consecutive element sets.

    Deltas are after minus what natural motion predicts from the before set (mean elements at
    ``after_epoch``). ``estimated_time`` is where the before and after trajectories come
    closest, ``time_uncertainty_s`` the half-width of the near-closest span, ``closest_km`` the
    distance there (near zero for one impulsive burn). ``delta_v_m_s`` is the smallest impulse
    that explains the change (near-circular model); ``significance`` the largest component in
    robust sigmas. ``confirmed`` is False when no later element set exists to show that the
    change persists (the last bracket of a history: it may be a bad last fit).
    ``lat_deg``/``lon_deg``: the sub-satellite point (geodetic, WGS-84) at ``estimated_time``,
    along-track uncertain by the ground distance covered in ``time_uncertainty_s``.
    ``object_type``: ``debris`` or ``rocket body`` (SATCAT, else the name's ``DEB``/``R/B``),
    other SATCAT types, or None when unknown; for debris and rocket bodies the change is not
    a maneuver (:attr:`is_maneuver`), but element-set noise or a fragmentation.
    """

    norad_id: int
    name: str
    before_epoch: datetime
    after_epoch: datetime
    estimated_time: datetime | None
    time_uncertainty_s: float | None
    delta_a_km: float
    delta_perigee_km: float
    delta_apogee_km: float
    delta_inclination_deg: float
    delta_v_m_s: float
    kind: str
    delta_v_tangential_m_s: float
    delta_v_eccentricity_m_s: float
    delta_v_plane_m_s: float
    significance: float
    closest_km: float | None = None
    confirmed: bool = True
    passes: tuple[PassNote, ...] | None = field(default=None, compare=False)
    lat_deg: float | None = None
    lon_deg: float | None = None
    object_type: str | None = None

    @property
    def bracket_s(self) -> float:
        """Length of the bracket in seconds."""
        return (self.after_epoch - self.before_epoch).total_seconds()

    @property
    def is_maneuver(self) -> bool:
        """False for debris and rocket bodies: objects without propulsion do not maneuver."""
        return self.object_type not in NON_MANEUVERING_TYPES

    @property
    def event(self) -> str:
        """``maneuver``, or for debris and rocket bodies ``not a maneuver (debris): element-set
        noise or fragmentation``."""
        if self.is_maneuver:
            return "maneuver"
        return f"not a maneuver ({self.object_type}): element-set noise or fragmentation"

    @property
    def place(self) -> str | None:
        """Over which place the burn was estimated (:func:`overflight.basemap.describe_place`
        of the sub-satellite point), None without an estimated time."""
        if self.lat_deg is None or self.lon_deg is None:
            return None
        from overflight.basemap import describe_place

        return describe_place(self.lat_deg, self.lon_deg)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times ISO 8601 UTC with ``Z``; ``time_uncertainty`` the
        uncertainty written out with its unit, e.g. ``±14 min``)."""
        out: dict[str, Any] = {
            "norad_id": self.norad_id,
            "name": self.name,
            "before_epoch": _iso(self.before_epoch),
            "after_epoch": _iso(self.after_epoch),
            "estimated_time": None if self.estimated_time is None else _iso(self.estimated_time),
            "time_uncertainty_s": _round(self.time_uncertainty_s, 0),
            "time_uncertainty": (None if self.time_uncertainty_s is None
                                 else format_uncertainty(self.time_uncertainty_s)),
            "delta_a_km": round(self.delta_a_km, 4),
            "delta_perigee_km": round(self.delta_perigee_km, 4),
            "delta_apogee_km": round(self.delta_apogee_km, 4),
            "delta_inclination_deg": round(self.delta_inclination_deg, 5),
            "delta_v_m_s": round(self.delta_v_m_s, 4),
            "kind": self.kind,
            "delta_v_tangential_m_s": round(self.delta_v_tangential_m_s, 4),
            "delta_v_eccentricity_m_s": round(self.delta_v_eccentricity_m_s, 4),
            "delta_v_plane_m_s": round(self.delta_v_plane_m_s, 4),
            "significance": round(self.significance, 1),
            "closest_km": _round(self.closest_km, 3),
            "confirmed": self.confirmed,
            "lat_deg": _round(self.lat_deg, 3),
            "lon_deg": _round(self.lon_deg, 3),
            "place": self.place,
            "object_type": self.object_type,
            "event": self.event,
        }
        if self.passes is not None:
            out["passes"] = [p.to_dict() for p in self.passes]
            out["estimate_in_pass"] = any(p.contains_estimate for p in self.passes)
            out["pass_within_uncertainty"] = any(p.within_uncertainty for p in self.passes)
        return out


@dataclass(frozen=True)
class DataGap:
    """Two consecutive element sets of an object too far apart (more than the detector's
    ``gap_threshold_days``) to bracket a maneuver: nothing is known about maneuvers in between."""

    norad_id: int
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        """Length of the gap, days."""
        return (self.end - self.start).total_seconds() / DAY_S

    def to_dict(self) -> dict[str, Any]:
        return {"norad_id": self.norad_id, "start": _iso(self.start), "end": _iso(self.end),
                "days": round(self.days, 2)}

    def describe(self) -> str:
        """``data gap 2024-07-07T21:39:32Z … 2025-01-16T10:05:11Z (192.5 d)``."""
        return f"data gap {_iso(self.start)} … {_iso(self.end)} ({self.days:.1f} d)"


@dataclass(frozen=True)
class HistoryStatus:
    """What one object's history answer rests on (``status``, see :data:`Status`), with the
    counts and span that led to it."""

    norad_id: int
    name: str
    status: Status
    element_sets: int
    pairs_compared: int
    first_epoch: datetime | None
    last_epoch: datetime | None
    gaps: tuple[DataGap, ...] = ()
    gap_threshold_days: float = MAX_BRACKET_DAYS
    largest_gap_days: float = 0.0
    close_pairs: int = 0
    min_gap_s: float = 60.0

    @property
    def span_days(self) -> float:
        """Days from the first to the last element set (0 for one or none)."""
        if self.first_epoch is None or self.last_epoch is None:
            return 0.0
        return (self.last_epoch - self.first_epoch).total_seconds() / DAY_S

    @property
    def reason(self) -> str:
        """One sentence: why the status is what it is."""
        n, span = self.element_sets, self.span_days
        sets = f"{n} element set{'' if n == 1 else 's'}"
        if self.status == "not-enough-history":
            why = (f"{sets} spanning {span:.1f} d" if n != 1 else
                   "1 element set, nothing to compare it with")
            if n > 1 and self.close_pairs:
                why += f" (epochs within {self.min_gap_s:g} s of each other are not compared)"
            return (f"not enough history: {why}; maneuver detection needs at least "
                    f"{MIN_MANEUVER_SETS} sets more than {self.min_gap_s:g} s and less than "
                    f"{self.gap_threshold_days:g} d apart")
        if self.status == "data-gap":
            longest = max(g.days for g in self.gaps)
            return (f"data gap: {len(self.gaps)} gap{'' if len(self.gaps) == 1 else 's'} longer "
                    f"than {self.gap_threshold_days:g} d between element sets (longest "
                    f"{longest:.1f} d): maneuvers there cannot be bracketed; {sets}, "
                    f"{self.pairs_compared} pairs compared")
        return f"ok: {sets} spanning {span:.1f} d, {self.pairs_compared} pairs compared"

    def to_dict(self) -> dict[str, Any]:
        return {
            "norad_id": self.norad_id,
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "element_sets": self.element_sets,
            "pairs_compared": self.pairs_compared,
            "first_epoch": None if self.first_epoch is None else _iso(self.first_epoch),
            "last_epoch": None if self.last_epoch is None else _iso(self.last_epoch),
            "span_days": round(self.span_days, 3),
            "largest_gap_days": round(self.largest_gap_days, 3),
            "data_gaps": [g.to_dict() for g in self.gaps],
        }


def _overall(statuses: Sequence[HistoryStatus]) -> Status:
    """The whole run's status: ``ok`` when every object's is; else ``not-enough-history`` when
    any object could not be examined at all; else ``data-gap``."""
    codes = {s.status for s in statuses}
    if not statuses or "not-enough-history" in codes:
        return "not-enough-history"
    return "data-gap" if "data-gap" in codes else "ok"


@dataclass(frozen=True)
class DetectionResult:
    """Maneuvers (by object, then time), what was looked at, and per object what the answer
    rests on (``statuses``: an empty ``maneuvers`` list means "none found" only for objects
    whose status is ``ok``)."""

    maneuvers: list[Maneuver]
    objects: int
    element_sets: int
    pairs: int
    pairs_compared: int
    sgp4_failures: int
    glitches: int
    table: OrbitTable = field(repr=False, compare=False)
    statuses: list[HistoryStatus] = field(default_factory=list)
    gap_threshold_days: float = MAX_BRACKET_DAYS

    @property
    def status(self) -> Status:
        """The run's status (:func:`_overall` of the objects')."""
        return _overall(self.statuses)

    @property
    def largest_gap_days(self) -> float:
        """Longest time between consecutive element sets of any object, days (observed; the
        threshold is ``gap_threshold_days``)."""
        return max((st.largest_gap_days for st in self.statuses), default=0.0)

    @property
    def data_gaps(self) -> list[DataGap]:
        """Every data gap, by object then time."""
        return [g for st in self.statuses for g in st.gaps]

    def status_of(self, norad_id: int) -> HistoryStatus | None:
        """One object's status (None when it was not in the input)."""
        return next((st for st in self.statuses if st.norad_id == norad_id), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: counts, ``status`` with ``status_counts``, the objects whose status is
        not ``ok`` (``objects_not_ok``, with reasons), ``data_gaps`` and ``maneuvers``."""
        counts = {code: 0 for code in ("ok", "not-enough-history", "data-gap")}
        for st in self.statuses:
            counts[st.status] += 1
        return {
            "status": self.status,
            "status_counts": counts,
            "objects": self.objects,
            "element_sets": self.element_sets,
            "pairs": self.pairs,
            "pairs_compared": self.pairs_compared,
            "sgp4_failures": self.sgp4_failures,
            "glitches": self.glitches,
            "gap_threshold_days": self.gap_threshold_days,
            "largest_gap_days": round(self.largest_gap_days, 3),
            "objects_not_ok": [st.to_dict() for st in self.statuses if st.status != "ok"],
            "data_gaps": [g.to_dict() for g in self.data_gaps],
            "maneuvers": [m.to_dict() for m in self.maneuvers],
        }


@dataclass(frozen=True)
class DecayEstimate:
    """An *estimate* of when an object's perigee falls below ``threshold_alt_km``.

    Fitted decay of the mean semi-major axis over the history since the last maneuver
    (``fit_start``..``epoch``, ``fit_points`` sets), extrapolated through an exponential
    atmosphere with today's drag (no solar-activity change, no further maneuvers).
    ``uncertainty_days`` combines the fit's 1-sigma with a stated ±25 % model allowance.
    """

    norad_id: int
    name: str
    epoch: datetime
    perigee_alt_km: float
    decay_rate_km_day: float
    decay_rate_sigma_km_day: float
    threshold_alt_km: float
    estimated_date: datetime
    uncertainty_days: float
    fit_start: datetime
    fit_points: int
    label: str = "estimate"

    @property
    def days_left(self) -> float:
        return (self.estimated_date - self.epoch).total_seconds() / DAY_S

    @property
    def decay_rate_m_day(self) -> float:
        """Fitted change of the mean semi-major axis, m/day (negative: decaying)."""
        return self.decay_rate_km_day * 1000.0

    @property
    def decay_rate_sigma_m_day(self) -> float:
        """1-sigma of :attr:`decay_rate_m_day`, m/day."""
        return self.decay_rate_sigma_km_day * 1000.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the rate in m/day (km/day rounds to zero for most objects)."""
        return {
            "norad_id": self.norad_id,
            "name": self.name,
            "epoch": _iso(self.epoch),
            "perigee_alt_km": round(self.perigee_alt_km, 3),
            "decay_rate_m_day": round(self.decay_rate_m_day, 3),
            "decay_rate_sigma_m_day": round(self.decay_rate_sigma_m_day, 3),
            "threshold_alt_km": self.threshold_alt_km,
            "estimated_date": _iso(self.estimated_date),
            "days_left": round(self.days_left, 1),
            "uncertainty_days": round(self.uncertainty_days, 1),
            "fit_start": _iso(self.fit_start),
            "fit_points": self.fit_points,
            "label": self.label,
        }


def _iso(t: datetime) -> str:
    return format_utc(t)


def _round(x: float | None, nd: int) -> float | None:
    return None if x is None else round(x, nd)


# --------------------------------------------------------------------------------------------
# Pair residuals


@dataclass(frozen=True)
class _Pairs:
    """Per consecutive pair (index ``i`` = earlier row, ``i + 1`` = later row)."""

    i: I64
    obj: I64  # object index of the pair
    gap_days: F64
    ok: npt.NDArray[np.bool_]
    comp: F64  # (P, 5): signed tangential, eccentricity (2), plane (2) components, m/s
    speed_m_s: F64  # circular speed at the later set's mean semi-major axis
    da_km: F64
    dhp_km: F64
    dha_km: F64
    di_deg: F64
    rtn_km: F64  # (P, 3) later state minus the propagated earlier state, in the later's RTN


def _unit(x: F64) -> F64:
    out: F64 = x / np.linalg.norm(x, axis=-1, keepdims=True)
    return out


def _normal(inc: F64, raan: F64) -> F64:
    si = np.sin(inc)
    return np.stack([si * np.sin(raan), -si * np.cos(raan), np.cos(inc)], axis=-1)


def _ecc_vector(e: F64, inc: F64, raan: F64, argp: F64) -> F64:
    """Eccentricity vector (inertial TEME), magnitude e, towards perigee."""
    co, so = np.cos(raan), np.sin(raan)
    cw, sw = np.cos(argp), np.sin(argp)
    ci = np.cos(inc)
    p = np.stack([co * cw - so * sw * ci, so * cw + co * sw * ci, sw * np.sin(inc)], axis=-1)
    out: F64 = e[:, None] * p
    return out


def _cross(a: F64, b: F64) -> F64:
    """Cross product along the last axis (np.cross has a large per-call overhead)."""
    out: F64 = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def _rtn(r: F64, v: F64) -> tuple[F64, F64, F64]:
    rh = _unit(r)
    nh = _unit(_cross(r, v))
    th = _cross(nh, rh)
    return rh, th, nh


@dataclass(frozen=True)
class _Own:
    """Each set's own SGP4 mean elements (a in earth radii, e, i, node, perigee) and state."""

    mean: F64
    r: F64
    v: F64
    err: I64


def _own_states(table: OrbitTable) -> _Own:
    n = len(table)
    mean = np.empty((n, 5))
    rr = np.empty((n, 3))
    vv = np.empty((n, 3))
    err = np.zeros(n, dtype=np.int64)
    jd, fr = table.jd, table.fr
    for k, s in enumerate(table.satrecs):
        e, r, v = s.sgp4(jd[k], fr[k])
        err[k] = e
        mean[k] = (s.am, s.em, s.im, s.Om, s.om)
        rr[k] = r
        vv[k] = v
    return _Own(mean, rr, vv, err)


def _pair_residuals(table: OrbitTable, own: _Own, early: I64, late: I64) -> _Pairs:
    """Residuals of the later sets against the earlier sets propagated to their epochs."""
    p = early.size
    obj = np.searchsorted(table.start, early, side="right").astype(np.int64) - 1
    sats = table.satrecs
    jd, fr = table.jd, table.fr
    pred = np.empty((p, 5))
    pred_r = np.empty((p, 3))
    pred_err = np.zeros(p, dtype=np.int64)
    for k, (i, j) in enumerate(zip(early.tolist(), late.tolist(), strict=True)):
        s = sats[i]
        e, r, _v = s.sgp4(jd[j], fr[j])
        pred_err[k] = e
        pred[k] = (s.am, s.em, s.im, s.Om, s.om)
        pred_r[k] = r
    gap = (jd[late] - jd[early]) + (fr[late] - fr[early])
    ok = (pred_err == 0) & (own.err[late] == 0) & (own.err[early] == 0)
    m1 = own.mean[late]
    with np.errstate(invalid="ignore", divide="ignore"):
        a1 = m1[:, 0] * WGS72_RADIUS_KM
        a0 = pred[:, 0] * WGS72_RADIUS_KM
        e1, e0 = m1[:, 1], pred[:, 1]
        v = np.sqrt(WGS72_MU_KM3_S2 / a1) * 1000.0  # circular speed, m/s
        da = a1 - a0
        dv_t = 0.5 * v * da / a1
        ev1 = _ecc_vector(e1, m1[:, 2], m1[:, 3], m1[:, 4])
        ev0 = _ecc_vector(e0, pred[:, 2], pred[:, 3], pred[:, 4])
        w1 = _normal(m1[:, 2], m1[:, 3])
        w0 = _normal(pred[:, 2], pred[:, 3])
        # Signed components in the later orbit's node frame (line of nodes, its in-plane
        # normal), so that scatter can differ between directions (e.g. inclination vs node).
        # |w1 - w0| = 2 sin(theta/2): v times it is the plane-change impulse.
        node = np.stack([np.cos(m1[:, 3]), np.sin(m1[:, 3]), np.zeros(p)], axis=-1)
        q = np.cross(w1, node)
        de, dw = ev1 - ev0, w1 - w0
        comp = np.stack([
            dv_t,
            0.5 * v * np.sum(de * node, -1), 0.5 * v * np.sum(de * q, -1),
            v * np.sum(dw * node, -1), v * np.sum(dw * q, -1),
        ], axis=-1).reshape(p, 5)
        rh, th, nh = _rtn(own.r[late], own.v[late])
        d = own.r[late] - pred_r
        rtn = np.stack([np.sum(d * rh, -1), np.sum(d * th, -1), np.sum(d * nh, -1)], axis=-1)
    rtn = rtn.reshape(p, 3)
    ok &= np.all(np.isfinite(comp), axis=-1) & np.all(np.isfinite(rtn), axis=-1)
    return _Pairs(
        i=early,
        obj=obj,
        gap_days=gap,
        ok=ok,
        comp=comp,
        speed_m_s=v.reshape(p),
        da_km=da,
        dhp_km=apsis_altitudes_km(a1, e1)[0] - apsis_altitudes_km(a0, e0)[0],
        dha_km=apsis_altitudes_km(a1, e1)[1] - apsis_altitudes_km(a0, e0)[1],
        di_deg=np.degrees(m1[:, 2] - pred[:, 2]),
        rtn_km=rtn,
    )


# --------------------------------------------------------------------------------------------
# Robust scales


def _gap_factor(gap_days: F64, cfg: DetectionConfig) -> F64:
    out: F64 = (gap_days + cfg.gap_ref_days) / (1.0 + cfg.gap_ref_days)
    return out


@dataclass(frozen=True)
class _Scales:
    """Per object: drift (n_obj, 5) in m/s per day of each signed Δv component (the object's
    typical, unmodelled change: e.g. the long-period motion of the eccentricity vector, drag
    that B* misses, continuous thrust), scatter (n_obj, 5) in m/s at a 1-day gap, and the
    radial / along / cross-track position scatter (n_obj, 3) in km (median |x| at 1 day)."""

    drift: F64
    sigma: F64
    position: F64


def _object_scales(pairs: _Pairs, n_obj: int, cfg: DetectionConfig) -> _Scales:
    f = _gap_factor(pairs.gap_days, cfg)
    usable = (pairs.ok & (pairs.gap_days * DAY_S >= cfg.min_gap_s)
              & (pairs.gap_days <= cfg.gap_threshold_days))
    drift = np.zeros((n_obj, 5))
    sig = np.full((n_obj, 5), np.nan)
    pos = np.full((n_obj, 3), np.nan)
    count = np.zeros(n_obj, dtype=np.int64)
    sel = np.flatnonzero(usable)
    order = sel[np.argsort(pairs.obj[sel], kind="stable")]
    objs = pairs.obj[order]
    bounds = np.flatnonzero(np.diff(objs)) + 1
    comp = pairs.comp[order]
    gap = pairs.gap_days[order]
    fo = f[order]
    q_all = np.abs(pairs.rtn_km[order]) / fo[:, None]
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, order.size], strict=True):
        if hi <= lo:
            continue
        k = int(objs[lo])
        count[k] = hi - lo
        x, g = comp[lo:hi], gap[lo:hi]
        if count[k] >= cfg.min_pairs:
            long = g >= _MIN_DRIFT_GAP_DAYS
            if np.count_nonzero(long) >= cfg.min_pairs // 2:
                drift[k] = np.median(x[long] / g[long, None], axis=0)
        y = (x - drift[k] * g[:, None]) / fo[lo:hi, None]
        sig[k] = _MAD_TO_SIGMA * np.median(np.abs(y - np.median(y, axis=0)), axis=0)
        # Position residuals include the maneuvers of the object; the median keeps them out
        # as long as most brackets are quiet.
        pos[k] = np.median(q_all[lo:hi], axis=0)
    enough = count >= cfg.min_pairs
    if np.count_nonzero(enough) >= 5:
        pooled_sig = np.median(sig[enough], axis=0)
        pooled_pos = np.median(pos[enough], axis=0)
    else:
        t_, e_, p_ = cfg.default_sigma_m_s
        pooled_sig = np.array([t_, e_, e_, p_, p_])
        pooled_pos = np.array(cfg.default_position_km)
    few = ~enough
    # Objects with few pairs: their own scatter where it is larger than the pooled one.
    own_sig = np.where(count[:, None] >= 3, np.nan_to_num(sig), 0.0)
    own_pos = np.where(count[:, None] >= 3, np.nan_to_num(pos), 0.0)
    sig[few] = np.maximum(pooled_sig, own_sig[few])
    pos[few] = np.maximum(pooled_pos, own_pos[few])
    sig = np.maximum(sig, cfg.floor_sigma_m_s)
    pos = np.maximum(pos, cfg.floor_position_km)
    return _Scales(drift, sig, pos)


def _corrected(pairs: _Pairs, scales: _Scales) -> tuple[F64, F64]:
    """Signed components minus the object's drift over the gap (P, 5), and the Δv triple
    (P, 3): tangential (signed), eccentricity, plane, m/s."""
    c: F64 = pairs.comp - scales.drift[pairs.obj] * pairs.gap_days[:, None]
    dv: F64 = np.stack([c[:, 0], np.hypot(c[:, 1], c[:, 2]), np.hypot(c[:, 3], c[:, 4])], -1)
    return c, dv


# --------------------------------------------------------------------------------------------
# Detection


_NAME_TYPES = (
    (re.compile(r"(?:^|[\s(])DEB(?:$|[\s)(])", re.IGNORECASE), "debris"),
    (re.compile(r"(?:^|[\s(])R/B(?:$|[\s)(\d])", re.IGNORECASE), "rocket body"),
)


def object_type_of(name: str, satcat_type: str | None = None) -> str | None:
    """The object type that decides whether an orbit change can be a maneuver: the SATCAT
    type when known (``payload``, ``rocket body``, ``debris``, ``unknown``), else ``debris``
    or ``rocket body`` when the name says so (CelesTrak's ``FREGAT DEB``, ``SL-16 R/B``),
    else None."""
    if satcat_type and satcat_type != "unknown":
        return satcat_type
    for pattern, kind in _NAME_TYPES:
        if pattern.search(name):
            return kind
    return satcat_type or None


def detect_maneuvers(
    histories: Mapping[int, Sequence[ElementSet]] | Iterable[ElementSet] | OrbitTable,
    *,
    config: DetectionConfig = DEFAULT_CONFIG,
    object_types: Mapping[int, str] | None = None,
) -> DetectionResult:
    """Maneuvers in the element-set histories of one or many objects.

    ``histories``: NORAD id → element sets, loose element sets (grouped by NORAD id and sorted
    by epoch here), or an :class:`~overflight.history.OrbitTable`. ``object_types``: SATCAT
    object types by NORAD id (e.g. from :func:`overflight.selection.object_owner_type`); the
    changes of debris and rocket bodies (by type, else by name: :func:`object_type_of`) are
    marked as not maneuvers (:attr:`Maneuver.is_maneuver`).
    """
    table = histories if isinstance(histories, OrbitTable) else OrbitTable.from_histories(
        histories
    )
    own = _own_states(table)
    n = len(table)
    idx = np.flatnonzero(table.norad[1:] == table.norad[:-1]).astype(np.int64) if n > 1 else (
        np.zeros(0, dtype=np.int64)
    )
    pairs = _pair_residuals(table, own, idx, idx + 1)
    n_obj = table.objects
    long_gap = pairs.gap_days > config.gap_threshold_days
    # Runs of an object's sets without a data gap: nothing is compared across a gap.
    new_run = np.ones(n, dtype=np.int64)
    new_run[idx + 1] = long_gap.astype(np.int64)
    segment: I64 = np.cumsum(new_run).astype(np.int64)
    scales = _object_scales(pairs, n_obj, config)
    sc = _scores(pairs, scales, config)
    z, dv, total = sc.z, sc.dv, sc.total
    compared = pairs.ok & (pairs.gap_days * DAY_S >= config.min_gap_s) & ~long_gap
    flagged = compared & (np.max(z, axis=1, initial=0.0) >= config.threshold) & (
        total >= config.min_delta_v_m_s
    )
    candidates = flagged.copy()
    keep_c = _persistent(table, own, pairs, dv, flagged, z >= config.threshold, scales, segment)
    flagged &= np.any(keep_c, axis=1)
    # Components that were flagged but did not persist are fit glitches: no part of the Δv.
    glitch = (z >= config.threshold) & ~keep_c & flagged[:, None]
    dv_used = np.where(glitch, 0.0, dv)
    events = [_Event(pairs, k, dv_used[k], float(np.max(z[k])), int(pairs.i[k]),
                     int(pairs.i[k]) + 1, comp=sc.comp[k], y=sc.y[k])
              for k in np.flatnonzero(flagged).tolist()]
    events = _merge_refits(table, own, events, scales, config)
    out: list[Maneuver] = []
    for ev in events:
        est: datetime | None = None
        unc: float | None = None
        closest: float | None = None
        if config.estimate_times:
            gap = ev.rec.gap_days[ev.n]
            # Position scale of the object (median |residual|) as a 1-sigma, at this gap.
            scale = (scales.position[ev.rec.obj[ev.n]] * _gap_factor(np.array([gap]), config)[0]
                     / 0.6745)
            est, unc, closest = _estimate_time(table, ev.early, ev.late, ev.b0, ev.b1, scale)
        out.append(ev.maneuver(table, segment, est, unc, closest))
    out = _with_points(table, [ev.early for ev in events], out)
    types = object_types or {}
    out = [replace(m, object_type=object_type_of(m.name, types.get(m.norad_id))) for m in out]
    return DetectionResult(
        maneuvers=out,
        objects=n_obj,
        element_sets=len(table),
        pairs=int(pairs.i.size),
        pairs_compared=int(np.count_nonzero(compared)),
        sgp4_failures=int(np.count_nonzero(~pairs.ok)),
        glitches=int(np.count_nonzero(candidates & ~flagged)),
        table=table,
        statuses=_statuses(table, pairs, compared, long_gap, config),
        gap_threshold_days=config.gap_threshold_days,
    )


def _with_points(table: OrbitTable, early: Sequence[int], found: list[Maneuver]
                 ) -> list[Maneuver]:
    """The maneuvers with the sub-satellite point (geodetic, WGS-84) at the estimated time,
    from the trajectory of the set before (row ``early``): the trajectories meet there."""
    from overflight.frames import geodetic_from_itrs, teme_to_itrs_matrices

    k = [i for i, m in enumerate(found) if m.estimated_time is not None]
    if not k:
        return found
    times = [found[i].estimated_time for i in k]
    r = np.full((len(k), 3), np.nan)
    for j, i in enumerate(k):
        t = times[j]
        assert t is not None
        jd = (t - _ORIGIN).total_seconds() / DAY_S + _JD_UNIX
        err, pos, _v = table.satrecs[early[i]].sgp4(math.floor(jd), jd - math.floor(jd))
        if err == 0:
            r[j] = pos
    rot, _rate = teme_to_itrs_matrices(np.array([np.datetime64(t.replace(tzinfo=None), "us")
                                                 for t in times if t is not None]))
    geo = geodetic_from_itrs(np.einsum("tij,tj->ti", rot, r))
    out = list(found)
    for j, i in enumerate(k):
        if np.isfinite(geo.lat_deg[j]):
            out[i] = replace(out[i], lat_deg=float(geo.lat_deg[j]),
                             lon_deg=float(geo.lon_deg[j]))
    return out


def _statuses(
    table: OrbitTable, pairs: _Pairs, compared: npt.NDArray[np.bool_],
    gap: npt.NDArray[np.bool_], config: DetectionConfig,
) -> list[HistoryStatus]:
    """Per object: ``not-enough-history`` when no pair could be compared and there is no data
    gap (fewer than two sets, or all within ``min_gap_s``), ``data-gap`` when consecutive sets
    are more than ``gap_threshold_days`` apart, else ``ok``."""
    n_obj = table.objects
    n_compared = np.bincount(pairs.obj[compared], minlength=n_obj)
    gaps: list[list[DataGap]] = [[] for _ in range(n_obj)]
    for k in np.flatnonzero(gap).tolist():
        i = int(pairs.i[k])
        a, b = table.elsets[i], table.elsets[i + 1]
        gaps[int(pairs.obj[k])].append(DataGap(a.norad_id, a.epoch, b.epoch))
    largest = np.zeros(n_obj)
    np.maximum.at(largest, pairs.obj, np.nan_to_num(pairs.gap_days))
    close = np.bincount(pairs.obj[pairs.gap_days * DAY_S < config.min_gap_s], minlength=n_obj)
    out = []
    for k in range(n_obj):
        rows = table.elsets[table.rows(k)]
        status: Status = ("data-gap" if gaps[k] else
                          "ok" if n_compared[k] > 0 else "not-enough-history")
        out.append(HistoryStatus(
            norad_id=int(table.norad[int(table.start[k])]),
            name=rows[-1].name,
            status=status,
            element_sets=len(rows),
            pairs_compared=int(n_compared[k]),
            first_epoch=rows[0].epoch,
            last_epoch=rows[-1].epoch,
            gaps=tuple(gaps[k]),
            gap_threshold_days=config.gap_threshold_days,
            largest_gap_days=float(largest[k]),
            close_pairs=int(close[k]),
            min_gap_s=config.min_gap_s,
        ))
    return out


@dataclass(frozen=True)
class _Score:
    """Per pair: ``z`` tangential / eccentricity / plane change in robust sigmas (P, 3),
    ``dv`` the drift-corrected Δv triple (P, 3) and ``total`` (P,) in m/s, ``comp`` the
    drift-corrected signed components (P, 5) in m/s and ``y`` the same in sigmas."""

    z: F64
    dv: F64
    total: F64
    comp: F64
    y: F64


def _scores(pairs: _Pairs, scales: _Scales, config: DetectionConfig) -> _Score:
    """Score each pair; two-dimensional changes combine their components' sigmas."""
    f = _gap_factor(pairs.gap_days, config)
    c, dv = _corrected(pairs, scales)
    scale = np.maximum(scales.sigma[pairs.obj] * f[:, None], _quantization_m_s(pairs))
    y = c / scale
    z: F64 = np.stack(
        [np.abs(y[:, 0]), np.hypot(y[:, 1], y[:, 2]), np.hypot(y[:, 3], y[:, 4])], axis=-1
    )
    total: F64 = np.hypot(np.maximum(np.abs(dv[:, 0]), dv[:, 1]), dv[:, 2])
    return _Score(z, dv, total, c, y)


def _quantization_m_s(pairs: _Pairs) -> F64:
    """(P, 5) smallest believable scatter: a TLE prints inclination and node to 1e-4 degree
    and eccentricity to 1e-7, so two sets cannot agree better than that rounding."""
    v = pairs.speed_m_s
    plane = v * math.radians(1e-4) / math.sqrt(6.0)  # difference of two uniform roundings
    ecc = 0.5 * v * 1e-7 / math.sqrt(6.0)
    out: F64 = np.stack([np.full_like(v, 1e-4), ecc, ecc, plane, plane], axis=-1)
    return out


@dataclass
class _Event:
    """A maneuver before it is written out: values from residual ``rec[n]``, bracket rows
    ``b0``/``b1``, trajectories for the time search from rows ``early``/``late``."""

    rec: _Pairs
    n: int
    dv: F64
    significance: float
    b0: int
    b1: int
    early: int = -1
    late: int = -1
    comp: F64 = field(default_factory=lambda: np.zeros(5))
    y: F64 = field(default_factory=lambda: np.zeros(5))

    def __post_init__(self) -> None:
        if self.early < 0:
            self.early, self.late = self.b0, self.b1

    @property
    def total(self) -> float:
        dv_t, dv_e, dv_p = (float(x) for x in self.dv)
        return math.hypot(max(abs(dv_t), dv_e), dv_p)

    def maneuver(
        self, table: OrbitTable, segment: I64, est: datetime | None, unc: float | None,
        closest: float | None,
    ) -> Maneuver:
        before, after = table.elsets[self.b0], table.elsets[self.b1]
        nxt = max(self.b1, self.late) + 1
        # A later set across a data gap shows nothing about this bracket.
        confirmed = nxt < len(table) and int(segment[nxt]) == int(segment[self.b1])
        dv_t, dv_e, dv_p = (float(x) for x in self.dv)
        r, n = self.rec, self.n
        return Maneuver(
            norad_id=before.norad_id,
            name=after.name or before.name,
            before_epoch=before.epoch,
            after_epoch=after.epoch,
            estimated_time=est,
            time_uncertainty_s=unc,
            delta_a_km=float(r.da_km[n]),
            delta_perigee_km=float(r.dhp_km[n]),
            delta_apogee_km=float(r.dha_km[n]),
            delta_inclination_deg=float(r.di_deg[n]),
            delta_v_m_s=self.total,
            kind=_kind(dv_t, dv_e, dv_p),
            delta_v_tangential_m_s=dv_t,
            delta_v_eccentricity_m_s=dv_e,
            delta_v_plane_m_s=dv_p,
            significance=self.significance,
            closest_km=closest,
            confirmed=confirmed or self.late > self.b1,
        )


def _merge_refits(
    table: OrbitTable,
    own: _Own,
    events: list[_Event],
    scales: _Scales,
    config: DetectionConfig,
) -> list[_Event]:
    """One maneuver, not two, where a poorly fitted set sits next to it.

    Two flagged pairs sharing set j (j-1→j, j→j+1) are one maneuver in the larger pair's
    bracket, measured from j-1 to j+1 (set j is a short-arc refit), when the smaller change
    partly undoes the larger one (in the smaller change's most significant component the two
    have opposite signs and the change from j-1 to j+1 is smaller than the larger one's) or is
    under a tenth of it (the fit settling after a large burn; a real touch-up burn that small,
    right after, is merged too).
    """
    if len(events) < 2:
        return events
    firsts = [k for k in range(len(events) - 1) if events[k + 1].b0 == events[k].b1]
    if not firsts:
        return events
    mid = np.array([events[k].b1 for k in firsts], dtype=np.int64)
    skip = _pair_residuals(table, own, mid - 1, mid + 1)
    sk = _scores(skip, scales, config)
    dropped: set[int] = set()
    for m, k in enumerate(firsts):
        if k in dropped or k + 1 in dropped or not skip.ok[m]:
            continue
        if np.max(sk.z[m]) < config.threshold:
            continue
        big, small = (k, k + 1) if events[k].total >= events[k + 1].total else (k + 1, k)
        c = int(np.argmax(np.abs(events[small].y)))
        undoes = (np.sign(events[small].comp[c]) == -np.sign(events[big].comp[c])
                  and abs(sk.comp[m, c]) < abs(events[big].comp[c]))
        if not (undoes or events[small].total < _SETTLING * events[big].total):
            continue
        ev = events[big]
        events[big] = _Event(skip, m, sk.dv[m], float(np.max(sk.z[m])), ev.b0, ev.b1,
                             int(mid[m]) - 1, int(mid[m]) + 1, comp=sk.comp[m], y=sk.y[m])
        dropped.add(small)
    return [ev for k, ev in enumerate(events) if k not in dropped]


def _persistent(
    table: OrbitTable,
    own: _Own,
    pairs: _Pairs,
    dv: F64,
    flagged: npt.NDArray[np.bool_],
    over: npt.NDArray[np.bool_],
    scales: _Scales,
    segment: I64,
) -> npt.NDArray[np.bool_]:
    """Which flagged components (P, 3) persist: a real change between sets i and i+1 is also
    seen, at least half as large (same sign for a), from each of sets i-1, i to each of sets
    i+1, i+2 (where they exist on this side of a data gap: ``segment`` numbers the runs of
    an object's sets without one).

    A change that the neighbouring sets undo is a bad fit (an outlier set), not a maneuver.
    """
    keep = over & flagged[:, None]
    k = np.flatnonzero(flagged)
    if k.size == 0:
        return keep
    i = pairs.i[k]
    n = len(table)
    for early, late in ((i, i + 2), (i - 1, i + 1), (i - 1, i + 2)):
        valid = (early >= 0) & (late < n)
        valid[valid] &= segment[early[valid]] == segment[late[valid]]
        kv = k[valid]
        if kv.size == 0:
            continue
        skip = _pair_residuals(table, own, early[valid], late[valid])
        _, skip_dv = _corrected(skip, scales)
        base = dv[kv]
        seen = np.abs(skip_dv) >= 0.5 * np.abs(base)
        seen[:, 0] &= np.sign(skip_dv[:, 0]) == np.sign(base[:, 0])
        seen &= skip.ok[:, None]
        keep[kv] &= seen
    return keep


def _kind(dv_t: float, dv_e: float, dv_p: float) -> str:
    """Dominant change: plane, eccentricity (not explained by a tangential burn), raise/lower."""
    if dv_p > max(abs(dv_t), dv_e):
        return "plane change"
    if dv_e > 1.5 * abs(dv_t):
        return "eccentricity"
    return "raise" if dv_t > 0 else "lower"


def _jd_to_datetime(jd: float, fr: float) -> datetime:
    seconds = ((jd - _JD_UNIX) + fr) * DAY_S
    return _ORIGIN + timedelta(microseconds=round(seconds * 1e6))


def _estimate_time(
    table: OrbitTable, early: int, late: int, b0: int, b1: int, sigma_km: F64
) -> tuple[datetime | None, float | None, float | None]:
    """Closest approach of the trajectories of rows ``early`` and ``late`` between the epochs
    of rows ``b0`` and ``b1`` (the bracket); returns (time, uncertainty s, distance km).

    Closeness is the separation in radial / along-track / cross-track units of the object's
    scatter ``sigma_km``. The uncertainty is twice the least-squares standard error of the
    crossing time (how fast the separation grows against the scatter), widened to every other
    local minimum that is nearly as close (a pure plane change crosses every half orbit).
    """
    sb, sa = table.satrecs[early], table.satrecs[late]
    jd0, fr0 = float(table.jd[b0]), float(table.fr[b0])
    gap_s = ((float(table.jd[b1]) - jd0) + (float(table.fr[b1]) - fr0)) * DAY_S
    period_s = 2.0 * math.pi * math.sqrt(float(table.a_km[late]) ** 3 / WGS72_MU_KM3_S2)
    step = float(np.clip(period_s / 40.0, 10.0, 600.0))
    step = max(step, gap_s / 5000.0)
    t = np.linspace(0.0, gap_s, max(3, math.ceil(gap_s / step) + 1))

    def separation(ts: F64) -> tuple[F64, F64]:
        """(T, 3) radial/along/cross separation in sigmas, and the distance in km."""
        jd = np.full(ts.size, jd0)
        fr = fr0 + ts / DAY_S
        eb, rb, _vb = sb.sgp4_array(jd, fr)
        ea, ra, va = sa.sgp4_array(jd, fr)
        rh, th, nh = _rtn(ra, va)
        d = ra - rb
        comp = np.stack([np.sum(d * rh, -1), np.sum(d * th, -1), np.sum(d * nh, -1)], -1)
        comp = comp / sigma_km
        bad = (eb != 0) | (ea != 0) | ~np.all(np.isfinite(comp), axis=-1)
        comp[bad] = np.inf
        return comp, np.linalg.norm(d, axis=-1)

    comp, _ = separation(t)
    m = np.sqrt(np.sum(comp**2, axis=-1))
    if not np.isfinite(m).any():
        return None, None, None
    k = int(np.argmin(m))
    h = float(t[1] - t[0])
    lo, hi = max(0.0, t[k] - h), min(gap_s, t[k] + h)
    fine = np.linspace(lo, hi, max(3, math.ceil((hi - lo) / 2.0) + 1))
    cf, df = separation(fine)
    mf = np.sqrt(np.sum(cf**2, axis=-1))
    j = int(np.argmin(mf))
    best_t, best_m = float(fine[j]), float(mf[j])
    # Standard error of the crossing time: the separation's rate in sigmas per second.
    j0, j1 = max(j - 1, 0), min(j + 1, fine.size - 1)
    rate = (cf[j1] - cf[j0]) / max(float(fine[j1] - fine[j0]), 1e-3)
    speed = float(np.sqrt(np.sum(rate**2))) if np.all(np.isfinite(rate)) else 0.0
    se = 1.0 / speed if speed > 0 else gap_s
    # Other local minima that are nearly as close: the crossing could be there instead.
    interior = (m[1:-1] <= m[:-2]) & (m[1:-1] <= m[2:])
    local = np.flatnonzero(np.r_[m[0] <= m[1], interior, m[-1] <= m[-2]])
    rival = local[m[local] <= max(3.0 * best_m, best_m + 3.0)]
    spread = float(np.max(np.abs(t[rival] - best_t))) if rival.size else 0.0
    unc = min(max(2.0 * se + spread, 0.5 * h if spread else 0.0, 1.0), gap_s)
    when = _jd_to_datetime(jd0, fr0 + best_t / DAY_S)
    return when, unc, float(df[j])


# --------------------------------------------------------------------------------------------
# Passes over a station within the bracket


def with_passes(
    maneuvers: Sequence[Maneuver],
    table: OrbitTable,
    site: Site,
    *,
    min_elevation_deg: float = 0.0,
) -> list[Maneuver]:
    """The maneuvers with the satellite's passes over ``site`` inside each bracket.

    Passes are computed from the element set before the maneuver (``access.find_windows``).
    """
    from overflight.access import Constraints, find_windows

    by_key = {(es.norad_id, es.epoch): es for es in table.elsets}
    out = []
    for m in maneuvers:
        before = by_key[(m.norad_id, m.before_epoch)]
        windows = find_windows(
            [before], [site], m.before_epoch, m.after_epoch,
            Constraints(min_elevation_deg=min_elevation_deg),
        )
        out.append(replace(m, passes=tuple(_note(w, m, site.name) for w in windows)))
    return out


def _note(w: Window, m: Maneuver, station: str) -> PassNote:
    offset = math.nan
    near = False
    if m.estimated_time is not None:
        t = m.estimated_time
        if t < w.start:
            offset = (t - w.start).total_seconds()
        elif t > w.end:
            offset = (t - w.end).total_seconds()
        else:
            offset = 0.0
        near = abs(offset) <= (m.time_uncertainty_s or 0.0)
    return PassNote(station, w.start, w.peak, w.end, w.max_elevation_deg, offset == 0.0, near,
                    offset)


# --------------------------------------------------------------------------------------------
# Decay

# Exponential atmosphere (Vallado, Fundamentals of Astrodynamics, 4th ed., Table 8-4, from
# CIRA-72): base altitude km, nominal density kg/m^3, scale height km. Only ratios are used.
_ATMOSPHERE = np.array([
    (100, 5.297e-7, 5.877), (110, 9.661e-8, 7.263), (120, 2.438e-8, 9.473),
    (130, 8.484e-9, 12.636), (140, 3.845e-9, 16.149), (150, 2.070e-9, 22.523),
    (180, 5.464e-10, 29.740), (200, 2.789e-10, 37.105), (250, 7.248e-11, 45.546),
    (300, 2.418e-11, 53.628), (350, 9.518e-12, 53.298), (400, 3.725e-12, 58.515),
    (450, 1.585e-12, 60.828), (500, 6.967e-13, 63.822), (600, 1.454e-13, 71.835),
    (700, 3.614e-14, 88.667), (800, 1.170e-14, 124.64), (900, 5.245e-15, 181.05),
    (1000, 3.019e-15, 268.00),
])
_MODEL_ALLOWANCE = 0.25
_MAX_DECAY_ECC = 0.01


def density_kg_m3(alt_km: npt.ArrayLike) -> F64:
    """Nominal density of the exponential atmosphere (100-1000+ km), kg/m^3."""
    h = np.asarray(alt_km, dtype=float)
    k = np.clip(np.searchsorted(_ATMOSPHERE[:, 0], h, side="right") - 1, 0, len(_ATMOSPHERE) - 1)
    base, rho0, scale = _ATMOSPHERE[k].T
    out: F64 = rho0 * np.exp(-(h - base) / scale)
    return out


def _days_to_fall(h0_km: float, rate_km_day: float, floor_km: float) -> float:
    """Days for a circular orbit decaying at ``rate_km_day`` now to reach ``floor_km``.

    da/dt is proportional to rho(h) sqrt(a) (circular orbit, constant ballistic coefficient).
    """
    h = np.linspace(floor_km, h0_km, max(50, int((h0_km - floor_km) * 2) + 1))
    rel = density_kg_m3(h) * np.sqrt(WGS72_RADIUS_KM + h)
    rel0 = float(density_kg_m3(h0_km) * math.sqrt(WGS72_RADIUS_KM + h0_km))
    inv = rel0 / (abs(rate_km_day) * rel)
    return float(np.sum(0.5 * (inv[1:] + inv[:-1]) * np.diff(h)))


DecayOutcome = Literal["ok", "not-enough-history", "data-gap", "no-significant-decay",
                       "beyond-horizon", "eccentric", "below-threshold"]


@dataclass(frozen=True)
class DecayAssessment:
    """The answer of :func:`assess_decay` for one object: ``status`` and, when ``ok``, the
    ``estimate``. ``not-enough-history``: fewer than ``min_points`` sets over
    ``min_span_days`` since the last maneuver (``data-gap`` when an older part of the history
    lies beyond a data gap); ``no-significant-decay``: enough sets, no decay beyond
    ``significance`` standard errors; ``beyond-horizon``: decaying, but the perigee would fall
    below the threshold only more than ``horizon_days`` after the last set, farther than
    today's drag can tell (no date); ``eccentric``: e > 0.01; ``below-threshold``: already
    below. ``fit_points``/``fit_span_days``: the sets the answer rests on;
    ``decay_rate_m_day``/``decay_rate_sigma_m_day``: the fitted change of the mean
    semi-major axis and its 1-sigma (None without a fit)."""

    norad_id: int
    name: str
    status: DecayOutcome
    element_sets: int
    fit_points: int
    fit_span_days: float
    min_points: int
    min_span_days: float
    estimate: DecayEstimate | None = None
    gaps: tuple[DataGap, ...] = ()
    after_maneuver: bool = False
    decay_rate_m_day: float | None = None
    decay_rate_sigma_m_day: float | None = None
    horizon_days: float = DECAY_HORIZON_DAYS
    significance: float = 3.0
    threshold_alt_km: float = 150.0

    @property
    def rate_text(self) -> str:
        """``−3.1 ± 0.4 m/day`` (the fitted change of the mean semi-major axis, 1-sigma)."""
        if self.decay_rate_m_day is None or self.decay_rate_sigma_m_day is None:
            return ""
        return format_decay_rate(self.decay_rate_m_day, self.decay_rate_sigma_m_day)

    @property
    def reason(self) -> str:
        """One sentence for tables."""
        need = f"needs {self.min_points} sets over {self.min_span_days:g} d"
        have = f"{self.fit_points} usable set{'' if self.fit_points == 1 else 's'} over " \
               f"{self.fit_span_days:.2f} d"
        if self.status == "not-enough-history":
            since = " since the last maneuver" if self.after_maneuver else ""
            return f"not enough history: {have}{since} (a decay fit {need})"
        if self.status == "data-gap":
            g = self.gaps[-1]
            return (f"{g.describe()}: {have} after it (a decay fit {need})")
        if self.status == "no-significant-decay":
            return (f"no significant decay: semi-major axis {self.rate_text} ({have}; not "
                    f"{self.significance:g}σ below zero)")
        if self.status == "beyond-horizon":
            return (f"no decay date: semi-major axis {self.rate_text} ({have}); at today's "
                    f"drag the perigee stays above {self.threshold_alt_km:g} km beyond the "
                    f"{self.horizon_days / 365.25:g}-year horizon")
        if self.status == "eccentric":
            return "eccentric orbit (e > 0.01): the decay model does not apply"
        if self.status == "below-threshold":
            return "perigee already below the threshold"
        return f"decay estimate from {have}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "norad_id": self.norad_id,
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "element_sets": self.element_sets,
            "fit_points": self.fit_points,
            "fit_span_days": round(self.fit_span_days, 3),
            "min_points": self.min_points,
            "min_span_days": self.min_span_days,
            "decay_rate_m_day": _round(self.decay_rate_m_day, 3),
            "decay_rate_sigma_m_day": _round(self.decay_rate_sigma_m_day, 3),
            "horizon_days": self.horizon_days,
            "data_gaps": [g.to_dict() for g in self.gaps],
            "estimate": None if self.estimate is None else self.estimate.to_dict(),
        }


def format_decay_rate(rate_m_day: float, sigma_m_day: float) -> str:
    """``-3.41 ± 0.04 m/day``: a rate and its 1-sigma in m/day, to the sigma's second
    significant digit (whole metres from 10 m/day, at most three decimals)."""
    digits = 0 if sigma_m_day >= 10 else min(3, max(0, 1 - math.floor(math.log10(
        max(sigma_m_day, 1e-9)))))
    return f"{rate_m_day:+.{digits}f} ± {sigma_m_day:.{digits}f} m/day"


def assess_decay(
    history: Sequence[ElementSet] | OrbitTable,
    *,
    maneuvers: Sequence[Maneuver] = (),
    threshold_alt_km: float = 150.0,
    min_points: int = MIN_DECAY_SETS,
    min_span_days: float = MIN_DECAY_SPAN_DAYS,
    significance: float = 3.0,
    gap_threshold_days: float = MAX_BRACKET_DAYS,
    horizon_days: float = DECAY_HORIZON_DAYS,
) -> DecayAssessment:
    """When the perigee of one near-circular object falls below ``threshold_alt_km``, with the
    status the answer rests on (:class:`DecayAssessment`).

    Fits the mean semi-major axis (least squares, linear in time) over the sets after the last
    maneuver and after the last data gap (consecutive sets more than ``gap_threshold_days`` apart),
    and extrapolates through an exponential atmosphere; no date beyond ``horizon_days``
    after the last set (``beyond-horizon``).
    """
    table = history if isinstance(history, OrbitTable) else OrbitTable.from_histories(history)
    if table.objects > 1:
        raise ValueError("assess_decay takes the history of one object")
    n = len(table)
    nid = table.elsets[0].norad_id if n else 0
    name = table.elsets[-1].name if n else ""

    rate: tuple[float, float] | None = None  # km/day and its 1-sigma, once fitted

    def answer(status: DecayOutcome, rows: Sequence[int] = (),
               est: DecayEstimate | None = None) -> DecayAssessment:
        span = float(table.days[rows[-1]] - table.days[rows[0]]) if len(rows) else 0.0
        return DecayAssessment(nid, name, status, n, len(rows), span, min_points,
                               min_span_days, est, tuple(gaps), last_burn is not None,
                               None if rate is None else rate[0] * 1000.0,
                               None if rate is None else rate[1] * 1000.0,
                               horizon_days, significance, threshold_alt_km)

    days = table.days
    gaps = [DataGap(nid, table.elsets[k].epoch, table.elsets[k + 1].epoch)
            for k in range(n - 1) if days[k + 1] - days[k] > gap_threshold_days]
    last_burn = max((m.after_epoch for m in maneuvers if m.norad_id == nid), default=None)
    first = gaps[-1].end if gaps else None
    if last_burn is not None and (first is None or last_burn > first):
        first = last_burn
    rows = [k for k, es in enumerate(table.elsets) if first is None or es.epoch >= first]
    span = float(days[rows[-1]] - days[rows[0]]) if rows else 0.0
    if len(rows) < min_points or span < min_span_days:
        after_gap = bool(gaps) and (last_burn is None or last_burn <= gaps[-1].end)
        return answer("data-gap" if after_gap else "not-enough-history", rows)
    sel = np.array(rows)
    if float(np.max(table.ecc[sel])) > _MAX_DECAY_ECC:
        return answer("eccentric", rows)
    a = table.a_km[sel]
    x = days[sel] - days[sel].mean()
    slope = float(np.sum(x * (a - a.mean())) / np.sum(x * x))
    resid = a - (a.mean() + slope * x)
    dof = max(1, sel.size - 2)
    slope_sigma = float(math.sqrt(np.sum(resid**2) / dof / np.sum(x * x)))
    rate = (slope, slope_sigma)
    if slope >= 0 or -slope < significance * slope_sigma:
        return answer("no-significant-decay", rows)
    last = int(sel[-1])
    hp = float(table.perigee_alt_km[last])
    if hp <= threshold_alt_km:
        return answer("below-threshold", rows)
    days_left = _days_to_fall(hp, slope, threshold_alt_km)
    if days_left > horizon_days:
        return answer("beyond-horizon", rows)
    fit_rel = slope_sigma / abs(slope)
    unc = days_left * math.hypot(fit_rel, _MODEL_ALLOWANCE)
    es = table.elsets[last]
    est = DecayEstimate(
        norad_id=es.norad_id,
        name=es.name,
        epoch=es.epoch,
        perigee_alt_km=hp,
        decay_rate_km_day=slope,
        decay_rate_sigma_km_day=slope_sigma,
        threshold_alt_km=threshold_alt_km,
        estimated_date=es.epoch + timedelta(days=days_left),
        uncertainty_days=unc,
        fit_start=table.elsets[int(sel[0])].epoch,
        fit_points=int(sel.size),
    )
    return answer("ok", rows, est)


def estimate_decay(
    history: Sequence[ElementSet] | OrbitTable,
    *,
    maneuvers: Sequence[Maneuver] = (),
    threshold_alt_km: float = 150.0,
    min_points: int = MIN_DECAY_SETS,
    min_span_days: float = MIN_DECAY_SPAN_DAYS,
    significance: float = 3.0,
    horizon_days: float = DECAY_HORIZON_DAYS,
) -> DecayEstimate | None:
    """The estimate of :func:`assess_decay`, or None whatever the reason (too short a history,
    a data gap, no significant decay, beyond the horizon, eccentric, already below): use
    :func:`assess_decay` to tell those apart."""
    table = history if isinstance(history, OrbitTable) else OrbitTable.from_histories(history)
    if table.objects != 1:
        return None
    return assess_decay(table, maneuvers=maneuvers, threshold_alt_km=threshold_alt_km,
                        min_points=min_points, min_span_days=min_span_days,
                        significance=significance, horizon_days=horizon_days).estimate


def history_document(
    table: OrbitTable, result: DetectionResult, decay: DecayAssessment
) -> dict[str, Any]:
    """``overflight history SAT --format json`` (and the server's ``/api/history``) for the
    one object of ``table``: what the answer rests on (``status``, ``reason``,
    ``data_gaps``), the derived orbit per set, maneuvers and decay (``decay``: the estimate or
    None; ``decay_status``/``decay_reason``: why)."""
    states = table.states()
    st = result.statuses[0]
    return {
        "norad_id": st.norad_id,
        "name": st.name or str(st.norad_id),
        "element_sets": len(states),
        "status": st.status,
        "reason": st.reason,
        "span_days": round(st.span_days, 3),
        "pairs_compared": st.pairs_compared,
        "gap_threshold_days": result.gap_threshold_days,
        "largest_gap_days": round(st.largest_gap_days, 3),
        "data_gaps": [g.to_dict() for g in st.gaps],
        "history": [s.to_dict() for s in states],
        "maneuvers": [m.to_dict() for m in result.maneuvers],
        "decay": decay.estimate.to_dict() if decay.estimate else None,
        "decay_status": decay.status,
        "decay_reason": decay.reason,
        "decay_rate_m_day": _round(decay.decay_rate_m_day, 3),
        "decay_rate_sigma_m_day": _round(decay.decay_rate_sigma_m_day, 3),
    }
