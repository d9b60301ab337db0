"""The rules of claim checking: one function per rule, each turning evidence into
:class:`~overflight.claims.model.Finding` s, and :func:`verdict` deciding from findings alone.

Rules, in report order (``docs/claims.md``): ``satellite``, ``elset-age``, ``propagation`` (is
there data good enough to judge?), ``reach``, ``lighting``, ``sensor``, ``resolution``,
``maneuver``, ``cross-check``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from overflight.claims.model import (
    CANNOT_VERIFY,
    CONSISTENT,
    INCONSISTENT,
    Claim,
    Finding,
    Geometry,
    ManeuverCheck,
    Opportunity,
)
from overflight.freshness import STALE_AFTER_DAYS

__all__ = [
    "blocks",
    "burn_clear_of_claim",
    "confidence",
    "cross_check",
    "elset_age",
    "imaging_ended",
    "lighting",
    "maneuver",
    "propagation",
    "reach",
    "resolution",
    "satellite",
    "sensor",
    "verdict",
]


def verdict(findings: Iterable[Finding]) -> str:
    """The verdict from findings alone, by precedence:

    1. any ``contradicts`` → ``inconsistent`` (one impossibility is enough);
    2. else any ``undetermined`` → ``cannot-verify`` (the data cannot settle the claim);
    3. else any ``supports`` → ``consistent``;
    4. else (nothing established) → ``cannot-verify``.

    ``note`` findings never decide; they may lower the confidence (:func:`confidence`).
    """
    outcomes = {f.outcome for f in findings}
    if "contradicts" in outcomes:
        return INCONSISTENT
    if "undetermined" in outcomes:
        return CANNOT_VERIFY
    if "supports" in outcomes:
        return CONSISTENT
    return CANNOT_VERIFY


def confidence(findings: Iterable[Finding], decided: str) -> str | None:
    """``lowered`` when a finding lowers it, else ``normal``; None unless ``decided`` is
    ``consistent`` or ``inconsistent``."""
    if decided not in (CONSISTENT, INCONSISTENT):
        return None
    return "lowered" if any(f.lowers_confidence for f in findings) else "normal"


def blocks(findings: Sequence[Finding]) -> bool:
    """True when a data rule found the claim undecidable: later rules cannot run."""
    return any(f.outcome == "undetermined" for f in findings)


# ---- 1. data good enough to judge --------------------------------------------------------------


def satellite(known: bool) -> list[Finding]:
    """The satellite must be in the catalog."""
    return [] if known else [Finding("satellite", "undetermined", "satellite-unknown")]


def elset_age(
    nearest_days: float | None, used_age_days: float | None, max_age_days: float, *,
    allowance_s: float | None = None, tolerance_s: float | None = None,
    along_track_km: float | None = None, stale_after_days: float = STALE_AFTER_DAYS,
) -> list[Finding]:
    """An element set within ``max_age_days`` of the claimed time (interval), fresh enough to
    place the satellite within the claim's timing.

    ``nearest_days``: distance to the nearest set (None: there is none); ``used_age_days``:
    claimed time minus the epoch of the set used (signed); ``allowance_s``: the timing
    uncertainty of that set at that age (``along_track_km`` along track: the age model of
    :func:`overflight.claims.evidence.along_track_error_km`); ``tolerance_s``: the claim's own
    tolerance. Up to ``stale_after_days`` a set is fresh (``elset-recent``). Beyond it, a set
    whose allowance exceeds the tolerance cannot say where the satellite was within it
    (``elset-too-old``, undetermined); else it is used with lowered confidence
    (``elset-recent`` and ``elset-stale``).
    """
    if nearest_days is None or nearest_days > max_age_days:
        return [Finding("elset-age", "undetermined", "no-recent-elements",
                        elset_age_days=nearest_days, max_age_days=max_age_days)]
    recent = Finding("elset-age", "supports", "elset-recent", elset_age_days=used_age_days,
                     max_age_days=max_age_days)
    if used_age_days is None or abs(used_age_days) <= stale_after_days:
        return [recent]
    stale = Finding("elset-age", "note", "elset-stale", lowers_confidence=True,
                    elset_age_days=used_age_days, max_age_days=stale_after_days,
                    tolerance_s=tolerance_s, allowance_s=allowance_s,
                    along_track_km=along_track_km)
    if allowance_s is not None and tolerance_s is not None and allowance_s > tolerance_s:
        return [replace(stale, outcome="undetermined", code="elset-too-old",
                        lowers_confidence=False)]
    return [recent, stale]


def propagation(error_code: int, message: str = "") -> list[Finding]:
    """SGP4 must carry the element set to the claimed time (``error_code`` 0)."""
    if error_code == 0:
        return []
    return [Finding("propagation", "undetermined", "propagation-failed",
                    detail=message or f"SGP4 error {error_code}")]


# ---- 2. geometry -------------------------------------------------------------------------------


def reach(
    reachable: bool,
    best: Geometry | None,
    best_offset_s: float | None,
    max_off_nadir_deg: float,
    tolerance_s: float,
    *,
    at_claim: Geometry | None = None,
    nearest: Opportunity | None = None,
    nearest_visible: Opportunity | None = None,
    closest: Geometry | None = None,
    closest_offset_s: float | None = None,
) -> list[Finding]:
    """Was the target within reach (above the horizon, at most ``max_off_nadir_deg`` off-nadir)
    at some instant within the tolerance span? ``supports`` (``in-reach``, with the best
    geometry) or ``contradicts`` (``out-of-reach``, with notes: the geometry at the claimed
    time, the nearest opportunity or none, a nearer pass that stayed out of reach); then the
    closest approach as a note."""
    out: list[Finding] = []
    if reachable and best is not None:
        out.append(Finding(
            "reach", "supports", "in-reach", time=best.time, offset_s=best_offset_s,
            off_nadir_deg=best.off_nadir_deg, max_off_nadir_deg=max_off_nadir_deg,
            elevation_deg=best.elevation_deg, ground_distance_km=best.ground_distance_km,
            tolerance_s=tolerance_s,
        ))
    else:
        out.append(Finding("reach", "contradicts", "out-of-reach",
                           max_off_nadir_deg=max_off_nadir_deg, tolerance_s=tolerance_s))
        if at_claim is not None:
            out.append(Finding(
                "reach", "note", "geometry-at-claim", time=at_claim.time,
                ground_distance_km=at_claim.ground_distance_km,
                elevation_deg=at_claim.elevation_deg, off_nadir_deg=at_claim.off_nadir_deg,
            ))
        if nearest is not None:
            out.append(Finding("reach", "note", "nearest-opportunity", time=nearest.start,
                               offset_s=nearest.offset_s, off_nadir_deg=nearest.off_nadir_deg,
                               max_off_nadir_deg=max_off_nadir_deg))
        else:
            out.append(Finding("reach", "note", "no-opportunity",
                               max_off_nadir_deg=max_off_nadir_deg))
        if nearest_visible is not None and (
            nearest is None or abs(nearest_visible.offset_s) < abs(nearest.offset_s)
        ):
            out.append(Finding("reach", "note", "nearest-visible-pass",
                               time=nearest_visible.start, offset_s=nearest_visible.offset_s,
                               off_nadir_deg=nearest_visible.off_nadir_deg,
                               max_off_nadir_deg=max_off_nadir_deg))
    if closest is not None and closest_offset_s is not None:
        out.append(Finding(
            "reach", "note", "closest-approach", time=closest.time, offset_s=closest_offset_s,
            ground_distance_km=closest.ground_distance_km, off_nadir_deg=closest.off_nadir_deg,
            elevation_deg=closest.elevation_deg,
        ))
    return out


# ---- 3. lighting -------------------------------------------------------------------------------


def lighting(
    sensor_kind: str,
    light: Geometry | None,
    instant: str,
    reachable: bool,
    night_sun_deg: float,
    twilight_sun_deg: float,
) -> list[Finding]:
    """Sun at the target at ``light`` (``instant``: 'best', 'claimed time' or 'closest
    approach'). Radar (``sar``) images day and night: a note. Optical: Sun below
    ``night_sun_deg`` → ``contradicts`` (``night``), even when the geometry allowed the
    picture; below ``twilight_sun_deg`` → ``twilight``, lowering the confidence of a reachable
    claim; else ``daylight`` supports."""
    if light is None:
        return []
    sun = light.sun_elevation_deg
    base = Finding("lighting", "supports", "daylight", sun_elevation_deg=sun,
                   sensor_kind=sensor_kind, time=light.time, detail=instant)
    if sensor_kind == "sar":
        return [replace(base, outcome="note", code="radar-any-light")]
    if sun < night_sun_deg:
        return [replace(base, outcome="contradicts", code="night",
                        sun_threshold_deg=night_sun_deg)]
    if sun < twilight_sun_deg:
        return [replace(base, outcome="note", code="twilight", lowers_confidence=reachable,
                        sun_threshold_deg=twilight_sun_deg)]
    return [base]


# ---- 4. sensor and resolution ------------------------------------------------------------------


def sensor(kind_source: str, sensor_kind: str, max_off_nadir_deg: float) -> list[Finding]:
    """A note when no sensor is known and an optical imager with the default reach is assumed."""
    if kind_source != "assumed":
        return []
    return [Finding("sensor", "note", "sensor-assumed", sensor_kind=sensor_kind,
                    max_off_nadir_deg=max_off_nadir_deg)]


def imaging_ended(ended: datetime | None, claim: Claim) -> list[Finding]:
    """The satellite's imaging mission must not have ended by the claimed time (``ended``:
    the sensor table's ``imaging_ended``, None: not ended). A claim wholly after it
    contradicts (no picture was taken then); an interval it falls inside is a note that
    lowers confidence (only the part before it counts)."""
    if ended is None or claim.end < ended:
        return []
    if claim.time >= ended:
        return [Finding("sensor", "contradicts", "imaging-ended", time=ended)]
    return [Finding("sensor", "note", "imaging-ended-during", lowers_confidence=True,
                    time=ended)]


def resolution(gsd_known: bool, geometry: Geometry | None, instant: str) -> list[Finding]:
    """The estimated GSD at ``geometry`` (``instant``: 'best' or 'closest approach'), as a note
    (claims carry no claimed resolution to compare it with yet)."""
    if not gsd_known or geometry is None or geometry.gsd_m is None:
        return []
    return [Finding("resolution", "note", "gsd-estimate", gsd_m=geometry.gsd_m,
                    time=geometry.time, detail=instant)]


# ---- 5. maneuver and cross-check ---------------------------------------------------------------

DATA_GAP = "data gap"
"""``ManeuverCheck.method`` when the bracketing sets are too far apart to bracket a burn
(``overflight.maneuvers.MAX_BRACKET_DAYS``; docs/history.md, "Data gaps"): whether the
satellite maneuvered in between is undetermined."""


def burn_clear_of_claim(
    man: ManeuverCheck, elset_epoch: datetime, claim: Claim, tolerance_s: float
) -> bool:
    """True when the estimated burn is clearly (beyond its uncertainty and the tolerance) on the
    far side of the claim from the element set used: the set then describes the claimed time."""
    burn = man.estimated_time
    if burn is None:
        return False
    margin = timedelta(seconds=(man.time_uncertainty_s or 0.0) + tolerance_s)
    if elset_epoch >= burn:
        return claim.time - burn > margin
    return burn - claim.end > margin


def maneuver(
    man: ManeuverCheck | None,
    elset_epoch: datetime,
    claim: Claim,
    tolerance_s: float,
    *,
    switched_for_burn: bool = False,
    used_after: bool = False,
) -> list[Finding]:
    """A maneuver between the bracketing sets lowers confidence unless the burn is clearly on
    the far side of the claim from the set used (``maneuver``); none found supports the set
    (``no-maneuver``); ``elset-across-burn`` notes that the farther set was used because of the
    burn (``used_after``: it is the set after the claim)."""
    if man is None:
        return []
    if man.method == DATA_GAP:
        # Undetermined, as when there is no later set at all: the verdict rests on the set
        # used and its age (elset-age), not on a delta-v the gap cannot give.
        return [Finding("maneuver", "note", "data-gap", time=man.earlier_epoch,
                        detail="undetermined")]
    found = Finding("maneuver", "supports", "no-maneuver", delta_a_km=man.delta_a_km,
                    threshold_km=man.threshold_km, delta_v_m_s=man.delta_v_m_s,
                    time=man.estimated_time, detail=man.method)
    if man.detected:
        lowers = not burn_clear_of_claim(man, elset_epoch, claim, tolerance_s)
        found = replace(found, outcome="note", code="maneuver", lowers_confidence=lowers)
    out = [found]
    if switched_for_burn:
        out.append(Finding("maneuver", "note", "elset-across-burn", time=man.estimated_time,
                           detail="after" if used_after else "before"))
    return out


def cross_check(
    reachable: bool, other_reachable: bool | None, other_epoch: datetime | None, which: str
) -> list[Finding]:
    """The other usable element set (``which``: 'before'/'after' the claim) must agree on
    whether the target was within reach; disagreement lowers confidence."""
    if other_reachable is None or other_epoch is None:
        return []
    if other_reachable != reachable:
        return [Finding("cross-check", "note", "elements-disagree", lowers_confidence=True,
                        time=other_epoch, detail=which)]
    return [Finding("cross-check", "supports", "elements-agree", time=other_epoch, detail=which)]
