"""The claim rules one by one: findings (rule, outcome, code, numbers) and the verdict's
precedence, on hand-made evidence; then the same findings from real verifications. No test here
matches a sentence: the wording is the report's business."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from overflight.catalog import Catalog
from overflight.claims import (
    CANNOT_VERIFY,
    CONSISTENT,
    INCONSISTENT,
    Finding,
    Geometry,
    ManeuverCheck,
    claim_from_fields,
    rules,
    verdict,
    verify_claim,
)

T = datetime(2026, 5, 30, 15, 0, tzinfo=UTC)
NIGHT, TWILIGHT = -6.0, 0.0


def geom(sun_deg: float, *, off_nadir_deg: float = 10.0, elevation_deg: float = 70.0,
         gsd_m: float | None = None) -> Geometry:
    return Geometry(time=T, ground_distance_km=120.0, off_nadir_deg=off_nadir_deg,
                    elevation_deg=elevation_deg, range_km=650.0, sun_elevation_deg=sun_deg,
                    satellite_sunlit=sun_deg > -18, nadir_lat_deg=38.0, nadir_lon_deg=-76.0,
                    gsd_m=gsd_m)


def only(findings: list[Finding], rule: str) -> Finding:
    found = [f for f in findings if f.rule == rule]
    assert len(found) == 1, findings
    return found[0]


# ---- verdict precedence ------------------------------------------------------------------------


def F(outcome: str, code: str = "x", lowers: bool = False) -> Finding:
    return Finding("test", outcome, code, lowers_confidence=lowers)  # type: ignore[arg-type]


@pytest.mark.parametrize(("outcomes", "expected"), [
    (["supports", "contradicts", "undetermined", "note"], INCONSISTENT),
    (["supports", "undetermined", "note"], CANNOT_VERIFY),
    (["supports", "note"], CONSISTENT),
    (["note"], CANNOT_VERIFY),
    ([], CANNOT_VERIFY),
    (["contradicts"], INCONSISTENT),
])
def test_verdict_precedence(outcomes: list[str], expected: str) -> None:
    assert verdict([F(o) for o in outcomes]) == expected


def test_confidence_from_findings() -> None:
    assert rules.confidence([F("supports"), F("note", lowers=True)], CONSISTENT) == "lowered"
    assert rules.confidence([F("supports"), F("note")], CONSISTENT) == "normal"
    assert rules.confidence([F("undetermined", lowers=True)], CANNOT_VERIFY) is None


# ---- lighting ------------------------------------------------------------------------------------


def test_night_contradicts_optical_but_not_radar() -> None:
    reach = rules.reach(True, geom(-20.0), 0.0, 30.0, 120.0)
    assert only(reach, "reach").outcome == "supports"
    optical = rules.lighting("optical", geom(-20.0), "best", True, NIGHT, TWILIGHT)
    f = only(optical, "lighting")
    assert (f.outcome, f.code, f.sun_elevation_deg, f.sun_threshold_deg) == (
        "contradicts", "night", -20.0, NIGHT)
    assert verdict(reach + optical) == INCONSISTENT
    radar = rules.lighting("sar", geom(-20.0), "best", True, NIGHT, TWILIGHT)
    f = only(radar, "lighting")
    assert (f.outcome, f.code, f.sensor_kind) == ("note", "radar-any-light", "sar")
    assert verdict(reach + radar) == CONSISTENT


@pytest.mark.parametrize(("sun", "code", "outcome"), [
    (12.0, "daylight", "supports"), (0.0, "daylight", "supports"),
    (-3.0, "twilight", "note"), (-6.0, "twilight", "note"), (-6.01, "night", "contradicts"),
])
def test_lighting_thresholds(sun: float, code: str, outcome: str) -> None:
    f = only(rules.lighting("optical", geom(sun), "best", True, NIGHT, TWILIGHT), "lighting")
    assert (f.code, f.outcome) == (code, outcome)


def test_twilight_lowers_confidence_only_when_reachable() -> None:
    seen = rules.lighting("optical", geom(-3.0), "best", True, NIGHT, TWILIGHT)
    unseen = rules.lighting("optical", geom(-3.0), "claimed time", False, NIGHT, TWILIGHT)
    assert only(seen, "lighting").lowers_confidence
    assert not only(unseen, "lighting").lowers_confidence
    assert rules.lighting("optical", None, "best", True, NIGHT, TWILIGHT) == []


# ---- data rules ----------------------------------------------------------------------------------


def test_element_set_older_than_limit_cannot_be_verified() -> None:
    old = rules.elset_age(4.5, None, 3.0)
    f = only(old, "elset-age")
    assert (f.outcome, f.code, f.elset_age_days, f.max_age_days) == (
        "undetermined", "no-recent-elements", 4.5, 3.0)
    assert rules.blocks(old) and verdict(old) == CANNOT_VERIFY
    none = only(rules.elset_age(None, None, 3.0), "elset-age")
    assert none.code == "no-recent-elements" and none.elset_age_days is None
    ok = only(rules.elset_age(2.9, -2.9, 3.0), "elset-age")
    assert (ok.outcome, ok.code, ok.elset_age_days) == ("supports", "elset-recent", -2.9)


def test_element_set_age_tiers() -> None:
    """Fresh (<= 7 days): supports, whatever the allowance. Older: lowered confidence while the
    age's timing uncertainty fits in the claim's tolerance, else undetermined."""
    fresh = rules.elset_age(5.0, 5.0, 30.0, allowance_s=200.0, tolerance_s=120.0,
                            along_track_km=1400.0)
    assert [f.code for f in fresh] == ["elset-recent"] and verdict(fresh) == CONSISTENT
    stale = rules.elset_age(10.0, -10.0, 30.0, allowance_s=19.0, tolerance_s=120.0,
                            along_track_km=130.0)
    assert [(f.outcome, f.code) for f in stale] == [("supports", "elset-recent"),
                                                    ("note", "elset-stale")]
    f = stale[1]
    assert f.lowers_confidence and (f.elset_age_days, f.allowance_s, f.tolerance_s,
                                    f.along_track_km, f.max_age_days) == (
        -10.0, 19.0, 120.0, 130.0, 7.0)
    assert not rules.blocks(stale) and rules.confidence(stale, CONSISTENT) == "lowered"
    old = rules.elset_age(30.0, 30.0, 300.0, allowance_s=140.0, tolerance_s=120.0,
                          along_track_km=990.0)
    (f,) = old
    assert (f.outcome, f.code, f.lowers_confidence, f.allowance_s) == (
        "undetermined", "elset-too-old", False, 140.0)
    assert rules.blocks(old) and verdict(old) == CANNOT_VERIFY
    assert rules.confidence(old, verdict(old)) is None
    # The fresh limit is a parameter (freshness.STALE_AFTER_DAYS by default).
    assert [x.code for x in rules.elset_age(5.0, 5.0, 30.0, allowance_s=1.0, tolerance_s=120.0,
                                            stale_after_days=2.0)] == [
        "elset-recent", "elset-stale"]


def test_unknown_satellite_and_propagation_failure_are_undetermined() -> None:
    assert rules.satellite(True) == []
    assert only(rules.satellite(False), "satellite").code == "satellite-unknown"
    assert rules.propagation(0) == []
    f = only(rules.propagation(6, "decayed"), "propagation")
    assert (f.outcome, f.code, f.detail) == ("undetermined", "propagation-failed", "decayed")


# ---- reach, sensor, resolution -------------------------------------------------------------------


def test_reach_supports_with_best_geometry() -> None:
    f = only(rules.reach(True, geom(30.0, off_nadir_deg=12.5), -40.0, 30.0, 130.0), "reach")
    assert (f.outcome, f.code, f.off_nadir_deg, f.max_off_nadir_deg, f.offset_s,
            f.tolerance_s) == ("supports", "in-reach", 12.5, 30.0, -40.0, 130.0)


def test_reach_contradicts_with_notes() -> None:
    from overflight.claims import Opportunity

    opp = Opportunity(T - timedelta(minutes=30), T - timedelta(minutes=27),
                      T - timedelta(minutes=25), -1500.0, 14.5, 60.0, 20.0)
    vis = Opportunity(T + timedelta(minutes=10), T + timedelta(minutes=13),
                      T + timedelta(minutes=16), 600.0, 51.0, 30.0, 20.0)
    out = rules.reach(False, None, None, 30.0, 120.0, at_claim=geom(30.0, elevation_deg=-5.0),
                      nearest=opp, nearest_visible=vis, closest=geom(30.0), closest_offset_s=-1600)
    assert [(f.outcome, f.code) for f in out] == [
        ("contradicts", "out-of-reach"), ("note", "geometry-at-claim"),
        ("note", "nearest-opportunity"), ("note", "nearest-visible-pass"),
        ("note", "closest-approach"),
    ]
    assert out[2].offset_s == -1500.0 and out[3].off_nadir_deg == 51.0
    # A visible pass farther than the nearest opportunity is not a finding.
    far = rules.reach(False, None, None, 30.0, 120.0, nearest=opp,
                      nearest_visible=vis.__class__(*[getattr(vis, n) for n in (
                          "start", "peak", "end")], 4000.0, 51.0, 30.0, 20.0))
    assert [f.code for f in far] == ["out-of-reach", "nearest-opportunity"]
    assert [f.code for f in rules.reach(False, None, None, 30.0, 120.0)] == [
        "out-of-reach", "no-opportunity"]


def test_sensor_assumed_and_gsd_notes() -> None:
    assert rules.sensor("from the sensor table", "optical", 45.0) == []
    f = only(rules.sensor("assumed", "optical", 30.0), "sensor")
    assert (f.outcome, f.code, f.max_off_nadir_deg) == ("note", "sensor-assumed", 30.0)
    g = only(rules.resolution(True, geom(30.0, gsd_m=0.42), "best"), "resolution")
    assert (g.outcome, g.code, g.gsd_m) == ("note", "gsd-estimate", 0.42)
    assert rules.resolution(False, geom(30.0, gsd_m=0.42), "best") == []


# ---- maneuver and cross-check --------------------------------------------------------------------


def _claim_at(t: datetime):  # type: ignore[no-untyped-def]
    return claim_from_fields({"satellite": "32060", "target": "Rome",
                              "time": t.strftime("%Y-%m-%dT%H:%M:%SZ")})


def test_maneuver_lowers_confidence_unless_burn_clearly_on_far_side() -> None:
    e0, e1 = T - timedelta(hours=12), T + timedelta(hours=12)
    burn = T - timedelta(hours=3)
    man = ManeuverCheck(e0, e1, True, 2.0, "maneuvers", delta_v_m_s=1.1, estimated_time=burn,
                        time_uncertainty_s=600.0)
    # Set after the burn, claim 3 h after it: the set describes the claimed time.
    clear = only(rules.maneuver(man, e1, _claim_at(T), 120.0), "maneuver")
    assert (clear.outcome, clear.code, clear.lowers_confidence) == ("note", "maneuver", False)
    assert (clear.delta_a_km, clear.delta_v_m_s) == (2.0, 1.1)
    # Set before the burn: the claim lies across it.
    across = only(rules.maneuver(man, e0, _claim_at(T), 120.0), "maneuver")
    assert across.lowers_confidence
    # Claim within the burn time's uncertainty: lowered whatever the set.
    near = only(rules.maneuver(man, e1, _claim_at(burn + timedelta(minutes=5)), 120.0),
                "maneuver")
    assert near.lowers_confidence
    quiet = ManeuverCheck(e0, e1, False, 0.01, "semi-major axis", threshold_km=0.3)
    q = only(rules.maneuver(quiet, e0, _claim_at(T), 120.0), "maneuver")
    assert (q.outcome, q.code, q.threshold_km) == ("supports", "no-maneuver", 0.3)
    switched = rules.maneuver(man, e1, _claim_at(T), 120.0, switched_for_burn=True,
                              used_after=True)
    assert [f.code for f in switched] == ["maneuver", "elset-across-burn"]
    assert switched[1].time == burn and switched[1].detail == "after"


def test_cross_check() -> None:
    assert rules.cross_check(True, None, None, "after") == []
    f = only(rules.cross_check(True, False, T, "after"), "cross-check")
    assert (f.outcome, f.code, f.lowers_confidence, f.detail) == (
        "note", "elements-disagree", True, "after")
    assert only(rules.cross_check(False, False, T, "before"), "cross-check").code == \
        "elements-agree"


# ---- the findings of real verifications ----------------------------------------------------------

WV3 = 40115
EPOCH_WV3 = datetime(2026, 5, 30, 13, 56, 31, 889760, tzinfo=UTC)  # TLE epoch 26150.58092465
WH = (38.8977, -77.0365)


@pytest.fixture(scope="module")
def catalog(resource_catalog: Catalog) -> Catalog:
    return resource_catalog


@pytest.fixture(scope="module")
def night_pass(shared_data: Path):  # type: ignore[no-untyped-def]
    from _claims_reference import passes

    found = passes(shared_data / "celestrak-2026-05-30" / "resource.tle", WV3, *WH,
                   datetime(2026, 5, 29, 12, tzinfo=UTC), datetime(2026, 6, 1, 12, tzinfo=UTC),
                   60.0)
    return next(p for p in found if p.sun_deg < -12)


def test_night_pass_findings(catalog: Catalog, night_pass) -> None:  # type: ignore[no-untyped-def]
    t = night_pass.culmination.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    r = verify_claim(claim_from_fields({"satellite": str(WV3), "target": "White House",
                                        "time": t}), catalog)
    assert r.verdict == INCONSISTENT and verdict(r.findings) == r.verdict
    assert "in-reach" in r.codes  # the geometry was fine
    light = only(list(r.findings), "lighting")
    assert (light.outcome, light.code) == ("contradicts", "night")
    # Skyfield's Sun altitude at the culmination; the best instant is within seconds of it.
    assert light.sun_elevation_deg == pytest.approx(night_pass.sun_deg, abs=0.5)
    assert r.to_dict()["findings"] == ["night"]
    sar = verify_claim(claim_from_fields({"satellite": str(WV3), "target": "White House",
                                          "time": t, "sensor": "sar"}), catalog)
    assert sar.verdict == CONSISTENT
    assert only(list(sar.findings), "lighting").code == "radar-any-light"
    assert sar.to_dict()["findings"] == []


def test_old_element_set_cannot_be_verified_by_age_rule(catalog: Catalog) -> None:
    t = EPOCH_WV3 + timedelta(days=30)
    r = verify_claim(claim_from_fields({"satellite": str(WV3), "target": "White House",
                                        "time": t.strftime("%Y-%m-%dT%H:%M:%SZ")}), catalog)
    assert r.verdict == CANNOT_VERIFY and r.confidence is None
    f = only(list(r.findings), "elset-age")
    assert (f.outcome, f.code, f.max_age_days) == ("undetermined", "no-recent-elements", 3.0)
    # Distance to the TLE epoch (the claimed time drops the epoch's fraction of a second).
    assert f.elset_age_days == pytest.approx(30.0, abs=2e-5)
    assert [x.rule for x in r.findings] == ["elset-age"]
    assert r.to_dict()["findings"] == ["no-recent-elements"]
    d = f.to_dict()
    assert d["code"] == "no-recent-elements" and "sun_elevation_deg" not in d


def test_findings_and_reasons_line_up(catalog: Catalog) -> None:
    """One reason per finding, in rule order."""
    r = verify_claim(claim_from_fields({"satellite": str(WV3), "target": "Rome",
                                        "time": "2026-05-30T16:00:00Z"}), catalog)
    assert len(r.reasons) == len(r.findings)
    order = ["satellite", "elset-age", "propagation", "reach", "lighting", "sensor",
             "resolution", "maneuver", "cross-check"]
    ranks = [order.index(f.rule) for f in r.findings]
    assert ranks == sorted(ranks)
