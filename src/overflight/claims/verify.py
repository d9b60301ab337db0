"""Imaging-claim verification: could this satellite have imaged this place at this time?

:func:`verify_claim` gathers the evidence (:mod:`.evidence`), lets each rule turn it into
findings (:mod:`.rules`), takes the verdict from the findings (:func:`.rules.verdict`) and words
them (:mod:`.report`). The rules are in ``docs/claims.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from overflight.claims import evidence, rules
from overflight.claims.evidence import Evidence, check_maneuver
from overflight.claims.model import (
    CANNOT_VERIFY,
    ERROR,
    Claim,
    ClaimProblem,
    ClaimResult,
    DataNeeded,
    Finding,
    Geometry,
    VerifyOptions,
)
from overflight.claims.report import reasons

if TYPE_CHECKING:
    from overflight.catalog import Catalog
    from overflight.sensors import Sensor

__all__ = ["check_maneuver", "verify_claim", "verify_claims"]


def _needed(ref: str, claim: Claim, opts: VerifyOptions, findings: list[Finding]
            ) -> DataNeeded:
    days = opts.max_age_days
    too_old = next((f for f in findings if f.code == "elset-too-old"), None)
    if too_old is not None and too_old.max_age_days is not None:
        # A set within max_age_days was there but too old to judge with: ask for fresh ones.
        days = min(days, too_old.max_age_days)
    return DataNeeded(ref, (claim.time - timedelta(days=days)).date(),
                      (claim.end + timedelta(days=days)).date(), days)


def _result(ev: Evidence, findings: list[Finding]) -> ClaimResult:
    """The result of the rules so far: verdict, confidence and reasons from the findings."""
    claim, el, sensor, sight = ev.claim, ev.elements, ev.sensor, ev.sight
    decided = rules.verdict(findings)
    needed = None
    if decided == CANNOT_VERIFY:
        needed = _needed(claim.satellite if el is None else str(el.norad_id), claim, ev.options,
                         findings)
    return ClaimResult(
        claim_id=claim.id,
        verdict=decided,
        reasons=tuple(reasons(findings, ev)),
        claim=claim,
        findings=tuple(findings),
        confidence=rules.confidence(findings, decided),
        norad_id=None if el is None else el.norad_id,
        satellite_name=None if el is None else el.name,
        tolerance_s=None if ev.tolerance is None else ev.tolerance.total_s,
        max_off_nadir_deg=None if sensor is None else sensor.max_off_nadir_deg,
        max_off_nadir_source=None if sensor is None else sensor.max_off_nadir_source,
        sensor_kind=None if sensor is None else sensor.kind,
        closest=None if sight is None else sight.closest,
        time_offset_s=None if sight is None else sight.offset_s,
        at_claimed_time=None if sight is None else sight.at_claim,
        best_in_tolerance=None if sight is None else sight.best,
        nearest_opportunity=None if sight is None else sight.nearest,
        nearest_visible=None if sight is None else sight.nearest_visible,
        elset=None if el is None else el.elset,
        before=None if el is None else el.before,
        after=None if el is None else el.after,
        maneuver=None if el is None or sight is None else el.maneuver,
        data_needed=needed,
        origin=claim.origin,
    )


def verify_claim(
    claim: Claim,
    catalog: Catalog,
    *,
    options: VerifyOptions | None = None,
    sensors: Mapping[int, Sensor] | None = None,
) -> ClaimResult:
    """Verdict and evidence for one claim against the element sets in ``catalog``.

    ``sensors``: the sensor table (default: the shipped one). Rules: ``docs/claims.md``.
    """
    from dataclasses import replace

    from overflight.catalog import AmbiguousSatellite, SatelliteNotFound
    from overflight.sensors import shipped_sensors

    opts = options or VerifyOptions()
    opts.validate()
    table = shipped_sensors() if sensors is None else sensors
    # Reasons go into reports to publish: the catalog by name, never by a local path (the
    # report's preamble describes its data: Catalog.public_description).
    ev = Evidence(claim, opts, "the bundled snapshot" if catalog.snapshot else "the catalog")

    # 1. Data good enough to judge: the satellite, a recent element set, SGP4 reaching it.
    try:
        obj = catalog.resolve(claim.satellite)
    except AmbiguousSatellite as exc:
        # Not a verdict about the satellite: the claim itself names no single one.
        return ClaimResult(claim_id=claim.id, verdict=ERROR, claim=claim, origin=claim.origin,
                           reasons=(f"{claim.origin}: claim {claim.id!r}: satellite: {exc}",))
    except SatelliteNotFound:
        return _result(ev, rules.satellite(False))
    findings = rules.satellite(True)
    entry = table.get(obj.norad_id)
    ended = rules.imaging_ended(None if entry is None else entry.imaging_ended, claim)
    el = evidence.choose_elements(catalog, claim, obj.norad_id, obj.name, opts)
    ev = replace(ev, elements=el)
    es = el.elset
    tol = None if es is None else evidence.tolerance(claim, es, opts)
    findings += rules.elset_age(
        el.nearest_days, None if es is None else es.age_days(claim.midpoint), opts.max_age_days,
        allowance_s=None if tol is None else tol.allowance_s,
        tolerance_s=None if tol is None else tol.base_s,
        along_track_km=None if tol is None else tol.along_track_km)
    if rules.blocks(findings) or es is None or tol is None:
        # An ended mission still decides (the sensor table alone: no picture after it),
        # whatever the element sets near the claim.
        return _result(ev, findings + ended)
    sensor = evidence.choose_sensor(claim, entry, es, opts)
    ev = replace(ev, sensor=sensor, tolerance=tol)
    code = evidence.propagation_error(es, claim, tol)
    if code:
        from overflight.propagation import error_message

        findings += rules.propagation(code, error_message(code))
        return _result(ev, findings)

    # 2.–5. Geometry, lighting, sensor, resolution, maneuver, cross-check.
    sight = evidence.sight(el, claim, sensor, tol, opts)
    ev = replace(ev, sight=sight)
    best = sight.best
    findings += rules.reach(
        sight.reachable, best,
        None if best is None else evidence.offset_s(best.time, best.time, claim),
        sensor.max_off_nadir_deg, tol.total_s,
        at_claim=sight.at_claim, nearest=sight.nearest, nearest_visible=sight.nearest_visible,
        closest=sight.closest, closest_offset_s=sight.offset_s,
    )
    light: Geometry | None
    if best is not None:
        light, instant = best, "best"
    elif sight.at_claim is not None:
        light, instant = sight.at_claim, "claimed time"
    else:
        light, instant = sight.closest, "closest approach"
    findings += rules.lighting(sensor.kind, light, instant, sight.reachable, opts.night_sun_deg,
                               opts.twilight_sun_deg)
    findings += rules.sensor(sensor.kind_source, sensor.kind, sensor.max_off_nadir_deg)
    findings += ended
    findings += rules.resolution(sensor.gsd is not None, best or sight.closest,
                                 "best" if best is not None else "closest approach")
    findings += rules.maneuver(el.maneuver, es.epoch, claim, tol.base_s,
                               switched_for_burn=el.switched_for_burn,
                               used_after=es is el.after)
    other = el.other
    findings += rules.cross_check(sight.reachable, sight.other_reachable,
                                  None if other is None else other.epoch,
                                  "before" if other is el.before else "after")
    return _result(ev, findings)


def verify_claims(
    entries: Iterable[Claim | ClaimProblem],
    catalog: Catalog,
    *,
    options: VerifyOptions | None = None,
    sensors: Mapping[int, Sensor] | None = None,
) -> list[ClaimResult]:
    """:func:`verify_claim` for each claim; unreadable claims become ``error`` rows."""
    out = []
    for entry in entries:
        if isinstance(entry, ClaimProblem):
            out.append(ClaimResult.from_problem(entry))
        else:
            out.append(verify_claim(entry, catalog, options=options, sensors=sensors))
    return out
