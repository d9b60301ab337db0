"""Evidence for a claim: which element set, the sensor, the tolerance, and the geometry
(look angles, Sun, closest approach, nearest opportunities, maneuver between element sets).

Only measurements here; :mod:`overflight.claims.rules` judges them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from overflight.claims.model import (
    Claim,
    Geometry,
    ManeuverCheck,
    Opportunity,
    VerifyOptions,
)
from overflight.claims.rules import DATA_GAP
from overflight.constants import MEAN_EARTH_RADIUS_KM, WGS72_MU_KM3_S2, WGS84_A_KM
from overflight.elements import ElementSet
from overflight.geometry import Site

if TYPE_CHECKING:
    from overflight.access import Window
    from overflight.catalog import Catalog
    from overflight.sensors import Sensor

__all__ = [
    "Elements",
    "Evidence",
    "GsdModel",
    "SensorChoice",
    "Sight",
    "Tolerance",
    "along_track_error_km",
    "check_maneuver",
    "choose_elements",
    "choose_sensor",
    "offset_s",
    "propagation_error",
    "sight",
    "tolerance",
]


# ---- geometry ----------------------------------------------------------------------------


def _grid(start: datetime, end: datetime, step_s: float) -> npt.NDArray[Any]:
    from overflight.times import time_grid

    return time_grid(start, end, step_s)


def _states(es: ElementSet, t64: npt.NDArray[Any]) -> tuple[npt.NDArray[np.float64],
                                                             npt.NDArray[np.uint8]]:
    from overflight.propagation import propagate

    eph = propagate([es], t64, frame="itrs", workers=1)
    return eph.position_km[0], eph.error[0]


@dataclass(frozen=True)
class GsdModel:
    """First-order GSD model: nadir GSD (m) at a reference altitude (km), and where it is from."""

    nadir_gsd_m: float
    ref_alt_km: float
    source: str


def _geometries(
    es: ElementSet, site: Site, t64: npt.NDArray[Any], gsd_model: GsdModel | None
) -> dict[str, npt.NDArray[Any]]:
    from overflight.geometry import view_geometry
    from overflight.gsd import gsd
    from overflight.sun import is_sunlit, sun_elevation_deg, sun_itrs_km

    pos, err = _states(es, t64)
    vg = view_geometry(pos, site)
    sun = sun_itrs_km(t64)
    out: dict[str, npt.NDArray[Any]] = {
        "t": t64,
        "err": err,
        # Great circle on the mean sphere: a ground distance for people, within ~0.5 % of the
        # ellipsoid (docs/claims.md); not used for any geodetic position.
        "ground_km": np.radians(vg.central_angle_deg) * MEAN_EARTH_RADIUS_KM,
        "off_nadir": vg.off_nadir_deg,
        "elevation": vg.elevation_deg,
        "range": vg.range_km,
        "incidence": vg.incidence_deg,
        "sun": sun_elevation_deg(site, sun_itrs_km=sun),
        "lit": is_sunlit(pos, sun),
        "nadir_lat": vg.nadir_lat_deg,
        "nadir_lon": vg.nadir_lon_deg,
    }
    if gsd_model is not None:
        with np.errstate(invalid="ignore"):
            out["gsd"] = gsd(gsd_model.nadir_gsd_m, gsd_model.ref_alt_km, np.nan_to_num(vg.range_km,
                             nan=1.0), np.nan_to_num(vg.incidence_deg, nan=90.0)).mean_m
    return out


def _geometry_at(g: dict[str, npt.NDArray[Any]], i: int) -> Geometry:
    from overflight.times import datetime64_to_utc

    gsd_m = None
    if "gsd" in g and math.isfinite(float(g["gsd"][i])):
        gsd_m = float(g["gsd"][i])
    return Geometry(
        time=datetime64_to_utc(g["t"][i]),
        ground_distance_km=float(g["ground_km"][i]),
        off_nadir_deg=float(g["off_nadir"][i]),
        elevation_deg=float(g["elevation"][i]),
        range_km=float(g["range"][i]),
        sun_elevation_deg=float(g["sun"][i]),
        satellite_sunlit=bool(g["lit"][i]),
        nadir_lat_deg=float(g["nadir_lat"][i]),
        nadir_lon_deg=float(g["nadir_lon"][i]),
        gsd_m=gsd_m,
    )


def offset_s(start: datetime, end: datetime, claim: Claim) -> float:
    """Signed seconds from the claimed interval to [start, end]: 0 if they overlap."""
    if end < claim.time:
        return (end - claim.time).total_seconds()
    if start > claim.end:
        return (start - claim.end).total_seconds()
    return 0.0


def _opportunity(w: Window, claim: Claim) -> Opportunity:
    return Opportunity(
        start=w.start, peak=w.peak, end=w.end, offset_s=offset_s(w.start, w.end, claim),
        off_nadir_deg=w.min_off_nadir_deg, max_elevation_deg=w.max_elevation_deg,
        sun_elevation_deg=w.sun_elevation_deg,
    )


def _nearest(windows: Sequence[Window], claim: Claim) -> Window | None:
    if not windows:
        return None
    return min(windows, key=lambda w: (abs(offset_s(w.start, w.end, claim)), w.start))


def _view(es: ElementSet, site: Site, t64: npt.NDArray[Any]) -> dict[str, npt.NDArray[Any]]:
    """Geometry without the Sun (cheap): ground distance, off-nadir, elevation; NaN on error."""
    from overflight.geometry import view_geometry

    pos, err = _states(es, t64)
    vg = view_geometry(pos, site)
    bad = err != 0
    return {
        "ground_km": np.where(bad, np.nan, np.radians(vg.central_angle_deg) * MEAN_EARTH_RADIUS_KM),
        "off_nadir": np.where(bad, np.nan, vg.off_nadir_deg),
        "elevation": np.where(bad, np.nan, vg.elevation_deg),
    }


def _closest_time(
    es: ElementSet, site: Site, claim: Claim, s0: datetime, s1: datetime
) -> np.datetime64 | None:
    """Time of the minimum ground distance of the nadir point nearest the claimed interval:
    local minima on a 20 s grid, refined on 1 s then 20 ms grids."""
    from overflight.times import datetime64_to_utc

    coarse = _grid(s0, s1, 20.0)
    ground = _view(es, site, coarse)["ground_km"]
    if not np.isfinite(ground).any():
        return None
    inner = np.flatnonzero(
        (ground[1:-1] <= ground[:-2]) & (ground[1:-1] <= ground[2:]) & np.isfinite(ground[1:-1])
    ) + 1
    candidates = inner if inner.size else np.array([int(np.nanargmin(ground))])
    dists = [abs(offset_s(t, t, claim))
             for t in (datetime64_to_utc(coarse[i]) for i in candidates.tolist())]
    best: Any = coarse[int(candidates[int(np.argmin(dists))])]
    for half_s, step_ms in ((20, 1000), (1, 20)):
        half = np.timedelta64(half_s * 1000, "ms")
        fine = np.arange(best - half, best + half + np.timedelta64(1, "ns"),
                         np.timedelta64(step_ms, "ms")).astype("datetime64[ns]")
        g = _view(es, site, fine)["ground_km"]
        if not np.isfinite(g).any():
            break
        best = fine[int(np.nanargmin(g))]
    out: np.datetime64 = best
    return out


def _ground_speed_km_s(es: ElementSet) -> float:
    """Speed of the nadir point, km/s: circular orbital speed scaled down to the ground."""
    a = es.semi_major_axis_km
    # WGS-72 mu: the semi-major axis comes from SGP4's mean motion, which is defined with it.
    # Mean radius: the allowance is a rough along-track figure on a spherical Earth.
    return math.sqrt(WGS72_MU_KM3_S2 / a) * MEAN_EARTH_RADIUS_KM / a


def check_maneuver(
    earlier: ElementSet, later: ElementSet, *, options: VerifyOptions | None = None
) -> ManeuverCheck:
    """Propagate ``earlier`` to ``later``'s epoch and compare osculating semi-major axes.

    Both states are at the same instant, so SGP4's short-period terms cancel; what remains is
    drag mismodelling (metres to tens of metres per day for LEO) or a maneuver. The threshold is
    ``maneuver_km + maneuver_km_per_day × gap``; on the week of resource-satellite history in the
    shared data 99 % of consecutive pairs differ by < 0.07 km (see ``docs/claims.md``).
    """
    from overflight.propagation import propagate

    opts = options or VerifyOptions()
    at = np.array([np.datetime64(later.epoch.astimezone(UTC).replace(tzinfo=None), "ns")])
    eph = propagate([earlier, later], at, frame="teme", workers=1)
    r = eph.position_km[:, 0, :]
    v = eph.velocity_km_s[:, 0, :]
    rn = np.linalg.norm(r, axis=1)
    # Vis-viva with WGS-72 mu: SGP4's TEME states come from a WGS-72 gravity model, so the
    # osculating semi-major axis of its states is consistent only with that mu.
    a = 1.0 / (2.0 / rn - np.einsum("ij,ij->i", v, v) / WGS72_MU_KM3_S2)
    gap = abs((later.epoch - earlier.epoch).total_seconds()) / 86400.0
    delta = float(a[1] - a[0])
    threshold = opts.maneuver_km + opts.maneuver_km_per_day * gap
    return ManeuverCheck(
        earlier_epoch=earlier.epoch,
        later_epoch=later.epoch,
        detected=abs(delta) > threshold,
        delta_a_km=delta,
        method="semi-major axis",
        threshold_km=threshold,
    )


_CONTEXT_DAYS = 10.0  # history either side of the bracket the maneuver detector learns from
_MAX_BRACKET_DAYS = 10.0  # overflight.maneuvers.MAX_BRACKET_DAYS, when that module is absent


def _gap_days(before: ElementSet, after: ElementSet) -> float:
    return abs((after.epoch - before.epoch).total_seconds()) / 86400.0


def _maneuver(
    catalog: Catalog, before: ElementSet, after: ElementSet, opts: VerifyOptions
) -> ManeuverCheck:
    """The history detector of ``overflight.maneuvers`` on the object's element sets around the
    bracket (it learns the object's own scatter from them); the simple semi-major-axis check
    when that module is not installed."""
    try:
        from overflight.maneuvers import MAX_BRACKET_DAYS, detect_maneuvers
    except ImportError:
        if _gap_days(before, after) > _MAX_BRACKET_DAYS:
            return ManeuverCheck(before.epoch, after.epoch, False, 0.0, DATA_GAP)
        return check_maneuver(before, after, options=opts)
    if _gap_days(before, after) > MAX_BRACKET_DAYS:
        # Too far apart for any detector to bracket a burn: undetermined, never a delta-v.
        return ManeuverCheck(before.epoch, after.epoch, False, 0.0, DATA_GAP)
    context = timedelta(days=_CONTEXT_DAYS)
    history = catalog.history(before.norad_id, start=before.epoch - context,
                              end=after.epoch + context)
    found = [m for m in detect_maneuvers(history).maneuvers
             if m.before_epoch >= before.epoch and m.after_epoch <= after.epoch]
    if not found:
        simple = check_maneuver(before, after, options=opts)
        return ManeuverCheck(before.epoch, after.epoch, False, simple.delta_a_km, "maneuvers")
    big = max(found, key=lambda m: m.delta_v_m_s)
    return ManeuverCheck(
        earlier_epoch=before.epoch,
        later_epoch=after.epoch,
        detected=True,
        delta_a_km=sum(m.delta_a_km for m in found),
        method="maneuvers",
        delta_v_m_s=sum(m.delta_v_m_s for m in found),
        estimated_time=big.estimated_time,
        time_uncertainty_s=(
            None if big.time_uncertainty_s is None else float(big.time_uncertainty_s)
        ),
    )


# ---- reach ---------------------------------------------------------------------------------


@dataclass
class _Reach:
    windows: list[Window]
    in_tolerance: list[Window]


def _reach(
    es: ElementSet, site: Site, s0: datetime, s1: datetime, t0: datetime, t1: datetime,
    limit_deg: float,
) -> _Reach:
    from overflight.access import Constraints, find_windows

    windows = find_windows([es], [site], s0, s1,
                           Constraints(min_elevation_deg=0.0, max_off_nadir_deg=limit_deg))
    inside = [w for w in windows if w.start <= t1 and w.end >= t0]
    return _Reach(windows, inside)


def _best_time(
    es: ElementSet, site: Site, windows: Sequence[Window], t0: datetime, t1: datetime,
    prefer_light: bool, night_sun_deg: float,
) -> np.datetime64:
    """The reachable time within [t0, t1] with the smallest off-nadir angle (for an optical
    sensor, in light if any reachable time is)."""
    from overflight.sun import sun_elevation_deg

    parts = []
    for w in windows:
        a, b = max(w.start, t0), min(w.end, t1)
        parts.append(_grid(a, b, max(0.25, (b - a).total_seconds() / 400.0)))
    t64 = np.unique(np.concatenate(parts))
    score = _view(es, site, t64)["off_nadir"]
    score = np.where(np.isfinite(score), score, np.inf)
    if prefer_light:
        # The Sun moves 0.25° a minute: the chosen time's Sun decides; the whole grid is looked
        # at only when that one is dark.
        k = int(np.argmin(score))
        if float(sun_elevation_deg(site, t64[k : k + 1])[0]) < night_sun_deg:
            score = score + np.where(sun_elevation_deg(site, t64) >= night_sun_deg, 0.0, 1000.0)
    out: np.datetime64 = t64[int(np.argmin(score))]
    return out


# ---- the evidence of one claim ---------------------------------------------------------------


@dataclass(frozen=True)
class Elements:
    """The satellite's element sets around the claim.

    ``nearest_days``: distance (days) from the claimed interval to the nearer of ``before`` /
    ``after`` (None: the catalog has none); ``elset``: the set used (None when none is within
    the age limit); ``other``: the other usable set, for the cross-check; ``switched_for_burn``:
    the set used is the farther one, because it lies on the claim's side of an estimated burn.
    """

    norad_id: int
    name: str | None
    before: ElementSet | None
    after: ElementSet | None
    nearest_days: float | None
    elset: ElementSet | None = None
    other: ElementSet | None = None
    maneuver: ManeuverCheck | None = None
    switched_for_burn: bool = False

    @property
    def label(self) -> str:
        """``NAME (id)`` or ``NORAD id``."""
        return f"{self.name} ({self.norad_id})" if self.name else f"NORAD {self.norad_id}"


@dataclass(frozen=True)
class SensorChoice:
    """Sensor kind ('optical'/'sar'), reach (deg) and GSD model, each with where it came from
    ('from the claim', 'from the sensor table', 'default'/'assumed')."""

    kind: str
    kind_source: str
    max_off_nadir_deg: float
    max_off_nadir_source: str
    gsd: GsdModel | None


@dataclass(frozen=True)
class Tolerance:
    """Claimed-time tolerance: ``base_s`` (claim or option) plus ``allowance_s`` for the element
    set's age: ``along_track_km`` of along-track uncertainty (:func:`along_track_error_km`) at
    ``age_days`` (the claimed time or interval end farthest from the epoch), at
    ``along_track_km_per_day`` and ``along_track_km_per_day2``."""

    base_s: float
    allowance_s: float
    along_track_km_per_day: float
    along_track_km_per_day2: float = 0.0
    along_track_km: float = 0.0
    age_days: float = 0.0

    @property
    def total_s(self) -> float:
        return self.base_s + self.allowance_s


@dataclass(frozen=True)
class Sight:
    """What the element set says about the target around the claim.

    ``reachable``: the target was within reach somewhere in the tolerance span; ``best``: the
    best reachable geometry there; ``at_claim``: geometry at the claimed instant (not for
    intervals); ``closest``: at the closest approach nearest the claim, ``offset_s`` its offset;
    ``nearest``: the nearest window within reach (±search hours); ``nearest_visible``: for an
    unreachable claim, the nearest pass above the horizon never within reach;
    ``other_reachable``: what the other usable element set says (None: there is none).
    """

    reachable: bool
    best: Geometry | None
    at_claim: Geometry | None
    closest: Geometry | None
    offset_s: float | None
    nearest: Opportunity | None
    nearest_visible: Opportunity | None
    other_reachable: bool | None


@dataclass(frozen=True)
class Evidence:
    """Everything measured for one claim, as far as the checks got (None: not reached)."""

    claim: Claim
    options: VerifyOptions
    catalog_description: str
    elements: Elements | None = None
    sensor: SensorChoice | None = None
    tolerance: Tolerance | None = None
    propagation_error: int = 0
    sight: Sight | None = None


def choose_elements(
    catalog: Catalog, claim: Claim, norad_id: int, name: str | None, opts: VerifyOptions
) -> Elements:
    """The bracketing element sets and the one to use (see ``docs/claims.md``): the nearer in
    time within ``max_age_days`` (the one before on a tie), or the one on the claim's side of a
    burn the maneuver detector dates."""
    before, after = catalog.bracket(norad_id, claim.midpoint)

    def distance_days(es: ElementSet) -> float:
        return abs(offset_s(es.epoch, es.epoch, claim)) / 86400.0

    present = [es for es in (before, after) if es is not None]
    nearest = min((distance_days(es) for es in present), default=None)
    usable = [es for es in present if distance_days(es) <= opts.max_age_days]
    if not usable:
        return Elements(norad_id, name, before, after, nearest)
    es = min(usable, key=lambda e: (distance_days(e), e is after))
    man = _maneuver(catalog, before, after, opts) if before and after else None
    switched = False
    if man is not None and man.detected and man.estimated_time is not None and len(usable) == 2:
        # Use the element set on the claim's side of the estimated burn.
        chosen = after if claim.midpoint >= man.estimated_time else before
        assert chosen is not None
        switched = chosen is not es
        es = chosen
    other = next((e for e in usable if e is not es), None)
    return Elements(norad_id, name, before, after, nearest, es, other, man, switched)


def choose_sensor(
    claim: Claim, sensor: Sensor | None, es: ElementSet, opts: VerifyOptions
) -> SensorChoice:
    """Reach, kind and GSD model: the claim's, else the sensor table's, else the defaults."""
    if claim.max_off_nadir_deg is not None:
        limit, limit_src = claim.max_off_nadir_deg, "from the claim"
    elif sensor is not None and sensor.max_off_nadir_deg is not None:
        limit, limit_src = sensor.max_off_nadir_deg, "from the sensor table"
    else:
        limit, limit_src = opts.default_max_off_nadir_deg, "default"
    if claim.sensor:
        kind, kind_src = claim.sensor, "from the claim"
    elif sensor is not None:
        kind, kind_src = sensor.kind, "from the sensor table"
    else:
        kind, kind_src = "optical", "assumed"
    gsd_model: GsdModel | None = None
    if claim.nadir_gsd_m is not None:
        # Height above the WGS-84 equatorial radius: a geodetic height, as the sensor table's
        # reference altitudes are.
        gsd_model = GsdModel(claim.nadir_gsd_m, es.semi_major_axis_km - WGS84_A_KM,
                             "nadir GSD from the claim, at the satellite's mean altitude")
    elif sensor is not None:
        gsd_model = GsdModel(sensor.nadir_gsd_m, sensor.ref_alt_km,
                             f"sensor table: {sensor.source}" if sensor.source else "sensor table")
    return SensorChoice(kind, kind_src, limit, limit_src, gsd_model)


NEAR_EARTH_PERIOD_MIN = 225.0
"""SGP4's near-Earth regime (period below this, minutes): drag is modelled there, and its
mismodelling makes the along-track error grow with the square of the age."""


def along_track_error_km(age_days: float, es: ElementSet, opts: VerifyOptions) -> float:
    """Along-track uncertainty of ``es`` propagated ``age_days`` (either sign) from its epoch,
    km: ``along_track_km_per_day × |t|`` plus, in the near-Earth regime, ``along_track_km_per_day2
    × t²`` (an error in the modelled decay of the mean motion shifts the satellite along its
    orbit by an amount that grows with the square of the time; docs/claims.md)."""
    t = abs(age_days)
    growth = opts.along_track_km_per_day2 if es.period_min < NEAR_EARTH_PERIOD_MIN else 0.0
    return opts.along_track_km_per_day * t + growth * t * t


def tolerance(claim: Claim, es: ElementSet, opts: VerifyOptions) -> Tolerance:
    """The claimed-time tolerance, grown with the element set's age: the along-track
    uncertainty (:func:`along_track_error_km`) divided by the ground-track speed."""
    base = opts.tolerance_s if claim.tolerance_s is None else claim.tolerance_s
    worst_age = max(abs((claim.time - es.epoch).total_seconds()),
                    abs((claim.end - es.epoch).total_seconds())) / 86400.0
    along_km = along_track_error_km(worst_age, es, opts)
    allowance = along_km / _ground_speed_km_s(es)
    return Tolerance(base, allowance, opts.along_track_km_per_day, opts.along_track_km_per_day2,
                     along_km, worst_age)


def _span_of(claim: Claim, tol: Tolerance) -> tuple[datetime, datetime]:
    return (claim.time - timedelta(seconds=tol.total_s),
            claim.end + timedelta(seconds=tol.total_s))


def propagation_error(es: ElementSet, claim: Claim, tol: Tolerance) -> int:
    """SGP4's first error code over the tolerance span (0: it carries the set there)."""
    t0, t1 = _span_of(claim, tol)
    probe = _grid(t0, t1, max(1.0, (t1 - t0).total_seconds() / 200.0))
    _, err = _states(es, probe)
    return int(err[err != 0][0]) if err.any() else 0


def sight(
    elements: Elements, claim: Claim, sensor: SensorChoice, tol: Tolerance, opts: VerifyOptions
) -> Sight:
    """Reach, geometry at the instants that matter, nearest opportunities, cross-check."""
    from overflight.access import Constraints, find_windows

    es = elements.elset
    assert es is not None
    site = claim.target
    limit = sensor.max_off_nadir_deg
    t0, t1 = _span_of(claim, tol)
    s0 = claim.time - timedelta(hours=opts.search_hours)
    s1 = claim.end + timedelta(hours=opts.search_hours)
    reach = _reach(es, site, s0, s1, t0, t1, limit)
    possible = bool(reach.in_tolerance)
    # The instants that matter, then their full geometry (Sun included) in one evaluation.
    instants: dict[str, Any] = {"closest": _closest_time(es, site, claim, s0, s1)}
    if claim.time_end is None:
        instants["at_claim"] = _grid(claim.time, claim.time, 1.0)[0]
    if possible:
        instants["best"] = _best_time(es, site, reach.in_tolerance, t0, t1,
                                      sensor.kind == "optical", opts.night_sun_deg)
    keys = [k for k, v in instants.items() if v is not None]
    geo = _geometries(es, site, np.array([instants[k] for k in keys], dtype="datetime64[ns]"),
                      sensor.gsd)
    found = {k: _geometry_at(geo, i) for i, k in enumerate(keys)}
    closest, best = found.get("closest"), found.get("best")
    nearest = _nearest(reach.windows, claim)
    nearest_vis = None
    if not (possible and best is not None):
        # A pass above the horizon that never came within reach, nearer than any opportunity.
        visible = find_windows([es], [site], s0, s1, Constraints(min_elevation_deg=0.0))
        out_of_reach = [w for w in visible
                        if not any(r.start <= w.end and r.end >= w.start for r in reach.windows)]
        nearest_vis = _nearest(out_of_reach, claim)
    other_reachable = None
    if elements.other is not None:
        other_reachable = bool(_reach(elements.other, site, t0, t1, t0, t1, limit).in_tolerance)
    return Sight(
        reachable=possible,
        best=best,
        at_claim=found.get("at_claim"),
        closest=closest,
        offset_s=None if closest is None else offset_s(closest.time, closest.time, claim),
        nearest=None if nearest is None else _opportunity(nearest, claim),
        nearest_visible=None if nearest_vis is None else _opportunity(nearest_vis, claim),
        other_reachable=other_reachable,
    )
