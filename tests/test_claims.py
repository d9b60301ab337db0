"""Claim verification: verdicts against passes computed independently with Skyfield, time zones,
claims files (line-numbered errors), maneuvers between bracketing element sets, the KCNA example.

Expected values come from Skyfield (passes, elevations, Sun altitude), plain arithmetic on the
TLE fields, or hand-worked time-zone conversions, never from overflight.claims itself.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from _claims_reference import (
    destination,
    elevation_deg,
    passes,
    sun_elevation_deg,
)
from overflight.catalog import Catalog
from overflight.catalog.formats import read_path
from overflight.claims import (
    CANNOT_VERIFY,
    CONSISTENT,
    ERROR,
    INCONSISTENT,
    Claim,
    ClaimError,
    ClaimProblem,
    ClaimResult,
    ClaimsFileError,
    VerifyOptions,
    check_maneuver,
    claim_from_fields,
    data_needed_summary,
    parse_claims_text,
    read_claims,
    render_html,
    render_markdown,
    stale_report,
    verify_claim,
    verify_claims,
)
from overflight.geometry import Site

REPO = Path(__file__).resolve().parents[1]
KCNA = REPO / "examples" / "claims" / "kcna-2023-11.yaml"
WV3 = 40115  # WorldView-3: optical, 45° reach in the sensor table; epoch 2026-05-30T13:56Z
EPOCH_WV3 = datetime(2026, 5, 30, 13, 56, 31, 889760, tzinfo=UTC)  # TLE epoch 26150.58092465
WH = (38.8977, -77.0365)  # White House, as in the shipped site list


@pytest.fixture(scope="module")
def snapshot_tle(shared_data: Path) -> Path:
    return shared_data / "celestrak-2026-05-30" / "resource.tle"


@pytest.fixture(scope="module")
def catalog(snapshot_tle: Path) -> Catalog:
    cat = Catalog.memory()
    cat.add(read_path(snapshot_tle).records, group="resource")
    return cat


@pytest.fixture(scope="module")
def wv3_passes(snapshot_tle: Path) -> dict[str, object]:
    """High WorldView-3 passes over the White House, one in daylight, one at night (Skyfield)."""
    found = passes(snapshot_tle, WV3, *WH, datetime(2026, 5, 29, 12, tzinfo=UTC),
                   datetime(2026, 6, 1, 12, tzinfo=UTC), 60.0)
    day = next(p for p in found if p.sun_deg > 20)
    night = next(p for p in found if p.sun_deg < -12)
    return {"day": day, "night": night}


def claim(t: datetime | str, target: str = "White House", sat: str = str(WV3),
          **extra: str) -> Claim:
    text = t if isinstance(t, str) else t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return claim_from_fields({"satellite": sat, "target": target, "time": text, **extra})


# ---- verdicts against independent passes -------------------------------------------------


def test_claim_at_skyfield_culmination_is_consistent(catalog: Catalog, wv3_passes: dict) -> None:
    day = wv3_passes["day"]
    r = verify_claim(claim(day.culmination), catalog)
    assert r.verdict == CONSISTENT, r.reasons
    assert r.confidence == "normal" and "night" not in r.codes
    # Closest approach (minimum ground distance) of a 74° pass is within seconds of Skyfield's
    # maximum elevation.
    assert abs(r.time_offset_s) < 3.0
    assert r.closest is not None and r.closest.off_nadir_deg < 45.0
    at = r.at_claimed_time
    assert at is not None
    assert at.elevation_deg == pytest.approx(day.elevation_deg, abs=0.05)
    assert at.sun_elevation_deg == pytest.approx(day.sun_deg, abs=0.05)
    # Ground distance of the nadir point, from Skyfield's subpoint on a 6371 km sphere.
    d = r.to_dict()
    for key in ("claim_id", "verdict", "reasons", "closest_approach_time", "time_offset_s",
                "ground_distance_km", "off_nadir_deg", "sun_elevation_deg", "elset_epoch",
                "elset_age_days"):
        assert key in d
    assert d["elset_epoch"].startswith("2026-05-30T13:56:31")
    expected_age = (day.culmination - EPOCH_WV3).total_seconds() / 86400.0
    assert d["elset_age_days"] == pytest.approx(expected_age, abs=0.001)
    assert d["gsd_m"] > 0.31
    assert any("within reach" in x for x in r.reasons)
    assert any(x.startswith("Daylight") for x in r.reasons)


def test_ground_distance_against_skyfield_subpoint(
    catalog: Catalog, wv3_passes: dict, snapshot_tle: Path
) -> None:
    from skyfield.api import EarthSatellite, wgs84

    from _claims_reference import tle_lines, ts_eph

    day = wv3_passes["day"]
    r = verify_claim(claim(day.culmination), catalog)
    ts, _ = ts_eph()
    sat = EarthSatellite(*tle_lines(snapshot_tle, WV3), ts=ts)
    sub = wgs84.subpoint_of(sat.at(ts.from_datetime(day.culmination)))
    p1, p2 = math.radians(sub.latitude.degrees), math.radians(WH[0])
    dl = math.radians(sub.longitude.degrees - WH[1])
    central = math.acos(math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl))
    assert r.at_claimed_time is not None
    assert r.at_claimed_time.ground_distance_km == pytest.approx(central * 6371.0088, abs=0.5)


def test_shifted_twenty_minutes_is_inconsistent(catalog: Catalog, wv3_passes: dict) -> None:
    day = wv3_passes["day"]
    r = verify_claim(claim(day.culmination + timedelta(minutes=20)), catalog)
    assert r.verdict == INCONSISTENT, r.reasons
    assert r.time_offset_s == pytest.approx(-1200.0, abs=3.0)
    assert r.nearest_opportunity is not None
    assert r.nearest_opportunity.offset_s < -15 * 60
    assert any("never had White House within 45° off-nadir" in x for x in r.reasons)
    assert any("nearest opportunity" in x and "earlier than the claimed time" in x
               for x in r.reasons)


def test_wide_claimed_tolerance_accepts_the_shift(catalog: Catalog, wv3_passes: dict) -> None:
    day = wv3_passes["day"]
    r = verify_claim(claim(day.culmination + timedelta(minutes=20), tolerance_s="1300"), catalog)
    assert r.verdict == CONSISTENT


def test_moved_two_thousand_km_is_inconsistent(
    catalog: Catalog, wv3_passes: dict, snapshot_tle: Path
) -> None:
    day = wv3_passes["day"]
    lat, lon = destination(*WH, 90.0, 2000.0)
    r = verify_claim(claim(day.culmination, target=f"{lat:.5f},{lon:.5f}"), catalog)
    assert r.verdict == INCONSISTENT, r.reasons
    assert r.at_claimed_time is not None
    # The nadir point is near the White House at that time, so ~2,000 km from the moved target.
    assert 1700 < r.at_claimed_time.ground_distance_km < 2300
    # Skyfield: seen from the moved target the satellite is low at the claimed time.
    assert elevation_deg(snapshot_tle, WV3, lat, lon, day.culmination) < 25


def test_night_pass_carries_the_night_finding(catalog: Catalog, wv3_passes: dict) -> None:
    night = wv3_passes["night"]
    assert sun_elevation_deg(*WH, night.culmination) < -12  # Skyfield: dark at the target
    r = verify_claim(claim(night.culmination), catalog)
    assert "night" in r.codes
    assert r.verdict == INCONSISTENT
    assert any(x.startswith("Night:") and "geometry allowed it" in x for x in r.reasons)
    assert r.best_in_tolerance is not None  # the geometry itself was fine
    # A radar satellite images at night: same pass, claimed as SAR, is consistent.
    sar = verify_claim(claim(night.culmination, sensor="sar"), catalog)
    assert sar.verdict == CONSISTENT and "night" not in sar.codes


def test_thirty_days_from_any_element_set_cannot_be_verified(
    catalog: Catalog, wv3_passes: dict
) -> None:
    t = wv3_passes["day"].culmination + timedelta(days=30)
    r = verify_claim(claim(t), catalog)
    assert r.verdict == CANNOT_VERIFY
    assert r.elset is None and r.before is not None and r.after is None
    assert r.data_needed is not None and r.data_needed.satellite == str(WV3)
    assert r.data_needed.start == (t - timedelta(days=3)).date()
    assert f"covering {(t - timedelta(days=3)).date()}" in r.to_dict()["data_needed"]
    age = (t - EPOCH_WV3).total_seconds() / 86400.0
    assert any("2026-05-30T13:56:32Z" in x and f"{age:.2f} days before" in x for x in r.reasons)
    before = verify_claim(claim(wv3_passes["day"].culmination - timedelta(days=30)), catalog)
    assert before.verdict == CANNOT_VERIFY and before.after is not None


def test_unknown_satellite_cannot_be_verified(catalog: Catalog) -> None:
    r = verify_claim(claim("2026-05-30T12:00:00Z", sat="99999"), catalog)
    assert r.verdict == CANNOT_VERIFY and "not in" in r.reasons[0]
    assert r.data_needed and "99999" in str(r.data_needed)


def test_interval_claim(catalog: Catalog, wv3_passes: dict) -> None:
    day = wv3_passes["day"]
    t0 = day.culmination - timedelta(minutes=30)
    t1 = day.culmination + timedelta(minutes=10)
    c = claim(t0, time_end=t1.strftime("%Y-%m-%dT%H:%M:%SZ"))
    r = verify_claim(c, catalog)
    assert r.verdict == CONSISTENT and r.time_offset_s == 0.0
    assert r.at_claimed_time is None
    late = claim(day.culmination + timedelta(minutes=10),
                 time_end=(day.culmination + timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%MZ"))
    assert verify_claim(late, catalog).verdict == INCONSISTENT


def test_sensor_assumed_for_unknown_satellite(catalog: Catalog, snapshot_tle: Path) -> None:
    # SENTINEL-1A is in the table as SAR; pick a resource satellite absent from the table.
    from overflight.sensors import shipped_sensors

    ids = [r.norad_id for r in read_path(snapshot_tle).records
           if r.norad_id not in shipped_sensors() and r.mean_motion_rev_day > 14]
    r = verify_claim(claim("2026-05-30T16:00:00Z", sat=str(ids[0])), catalog)
    assert "sensor-assumed" in r.codes and r.max_off_nadir_deg == 30.0
    assert any("No sensor is known" in x for x in r.reasons)


# ---- element sets around the claim and maneuvers -----------------------------------------


@pytest.fixture(scope="module")
def wv1_history(shared_data: Path) -> list:
    recs = read_path(shared_data / "celestrak-history-2026-05-24-to-30" / "resource.tle").records
    return sorted((r for r in recs if r.norad_id == 32060), key=lambda r: r.epoch)


def _mean_a_km(n_rev_day: float) -> float:
    n = n_rev_day * 2 * math.pi / 86400.0
    return (398600.8 / n**2) ** (1 / 3)


def test_check_maneuver_on_real_history(wv1_history: list) -> None:
    pairs = list(itertools.pairwise(wv1_history))
    jumps = [abs(_mean_a_km(b.mean_motion_rev_day) - _mean_a_km(a.mean_motion_rev_day))
             for a, b in pairs]
    # Plain arithmetic on the mean motions: one ~2 km orbit raise, the rest below 0.05 km.
    big = [i for i, j in enumerate(jumps) if j > 1.5]
    assert len(big) == 1
    for i, (a, b) in enumerate(pairs):
        m = check_maneuver(a, b)
        assert m.detected == (i in big), (a.epoch, b.epoch, m.delta_a_km)
    a, b = pairs[big[0]]
    assert check_maneuver(a, b).delta_a_km == pytest.approx(
        _mean_a_km(b.mean_motion_rev_day) - _mean_a_km(a.mean_motion_rev_day), abs=0.3)


def test_maneuver_between_bracketing_sets(wv1_history: list) -> None:
    a, b = next((a, b) for a, b in itertools.pairwise(wv1_history)
                if abs(_mean_a_km(b.mean_motion_rev_day) - _mean_a_km(a.mean_motion_rev_day)) > 1)
    cat = Catalog.memory()
    cat.add(wv1_history, group="wv1")
    t = a.epoch + (b.epoch - a.epoch) / 3  # nearer the earlier set
    r = verify_claim(claim(t, sat="32060", target="Rome"), cat)
    assert r.verdict in (CONSISTENT, INCONSISTENT)
    assert r.before == a and r.after == b
    m = r.maneuver
    assert m is not None and m.detected and "maneuver" in r.codes
    assert m.delta_a_km == pytest.approx(
        _mean_a_km(b.mean_motion_rev_day) - _mean_a_km(a.mean_motion_rev_day), abs=0.3)
    assert any(x.startswith("Maneuver:") for x in r.reasons)
    d = r.to_dict()
    assert d["maneuver_between_elsets"] is True
    assert d["elset_before_age_days"] > 0 > d["elset_after_age_days"]
    if m.estimated_time is not None and t - m.estimated_time > timedelta(minutes=10):
        # The burn is estimated well before the claim: the set after it describes the claimed
        # time, although the set before is nearer; confidence is not lowered for that.
        assert r.elset == b and r.confidence == "normal"
        assert any("on the claim's side of the burn" in x for x in r.reasons)
        # A claim at the estimated burn time itself is uncertain.
        at_burn = verify_claim(claim(m.estimated_time, sat="32060", target="Rome"), cat)
        assert at_burn.confidence == "lowered" and "maneuver" in at_burn.codes
    else:
        assert r.elset == a and r.confidence == "lowered"


def test_maneuver_fallback_without_history_detector(
    wv1_history: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "overflight.maneuvers", None)  # import fails
    a, b = next((a, b) for a, b in itertools.pairwise(wv1_history)
                if abs(_mean_a_km(b.mean_motion_rev_day) - _mean_a_km(a.mean_motion_rev_day)) > 1)
    cat = Catalog.memory()
    cat.add(wv1_history, group="wv1")
    r = verify_claim(claim(a.epoch + (b.epoch - a.epoch) / 3, sat="32060"), cat)
    assert r.maneuver is not None and r.maneuver.method == "semi-major axis"
    assert r.maneuver.detected and r.elset == a and r.confidence == "lowered"
    assert any("differ in semi-major axis by +2.0" in x for x in r.reasons)


def test_quiet_bracket_reports_no_maneuver_and_nearest_set(wv1_history: list) -> None:
    cat = Catalog.memory()
    cat.add(wv1_history, group="wv1")
    a, b = wv1_history[-2], wv1_history[-1]
    t = b.epoch - (b.epoch - a.epoch) / 4  # nearer the later set
    r = verify_claim(claim(t, sat="32060"), cat)
    assert r.elset == b and r.before == a and r.after == b
    assert r.maneuver is not None and not r.maneuver.detected
    assert any("No maneuver detected" in x for x in r.reasons)


# ---- time zones ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time", "zone", "utc"),
    [
        ("2023-11-27T23:36:25", "Asia/Pyongyang", datetime(2023, 11, 27, 14, 36, 25, tzinfo=UTC)),
        ("2023-11-27T23:36:25+09:00", None, datetime(2023, 11, 27, 14, 36, 25, tzinfo=UTC)),
        ("2023-11-27T14:36:25Z", None, datetime(2023, 11, 27, 14, 36, 25, tzinfo=UTC)),
        ("2023-11-27T09:36:25-05:00", None, datetime(2023, 11, 27, 14, 36, 25, tzinfo=UTC)),
        # New York: EST (UTC-5) in November, EDT (UTC-4) in July.
        ("2023-11-27T09:36:25", "America/New_York", datetime(2023, 11, 27, 14, 36, 25, tzinfo=UTC)),
        ("2023-07-04T12:00:00", "America/New_York", datetime(2023, 7, 4, 16, 0, tzinfo=UTC)),
        # Rome: CET (UTC+1) in November.
        ("2023-11-25 09:56:28", "Europe/Rome", datetime(2023, 11, 25, 8, 56, 28, tzinfo=UTC)),
    ],
)
def test_time_zones(time: str, zone: str | None, utc: datetime) -> None:
    fields = {"satellite": "58400", "target": "White House", "time": time}
    if zone:
        fields["zone"] = zone
    c = claim_from_fields(fields)
    assert c.time == utc and c.time.tzinfo is not None


@pytest.mark.parametrize(
    ("time", "zone", "message"),
    [
        ("2023-11-05T01:30:00", "America/New_York", "ambiguous"),
        ("2023-03-12T02:30:00", "America/New_York", "does not exist"),
        ("2023-11-27T23:36:25", None, "no offset"),
        ("2023-11-27T23:36:25+09:00", "Asia/Pyongyang", "give one"),
        ("2023-11-27T23:36:25", "Asia/Nowhere", "unknown time zone"),
        ("27 Nov 2023 23:36", None, "not an ISO 8601 time"),
    ],
)
def test_bad_times_rejected(time: str, zone: str | None, message: str) -> None:
    fields = {"id": "x", "satellite": "58400", "target": "White House", "time": time}
    if zone:
        fields["zone"] = zone
    with pytest.raises(ClaimError) as info:
        claim_from_fields(fields, source="c.yaml", line=7)
    text = str(info.value)
    assert message in text and text.startswith("c.yaml:7: claim 'x': time:")
    assert "\n" not in text


def test_ambiguous_time_in_a_file_names_its_line() -> None:
    text = (
        "claims:\n"
        "  - id: a\n"
        "    satellite: 40115\n"
        "    target: White House\n"
        "    zone: America/New_York\n"
        "    time: 2023-11-05T01:30:00\n"
    )
    f = parse_claims_text(text, "dst.yaml")
    (p,) = f.problems
    assert p.message.startswith("dst.yaml:6: claim 'a': time:") and "ambiguous" in p.message


# ---- claims files -------------------------------------------------------------------------


GOOD_AND_BAD = """\
# two good claims around one bad one
defaults:
  satellite: 40115
claims:
  - id: ok-1
    target: White House
    time: 2026-05-30T16:11:21Z
  - id: bad-site
    target: Atlantis
    time: 2026-05-30T16:11:21Z
  - id: ok-2
    target: {name: somewhere, lat: 38.9, lon: -77.0}
    time: "2026-05-30T12:11:21"
    zone: America/New_York
    tolerance_s: 60
  - just a string
  - id: bad-number
    target: Rome
    time: 2026-05-30T16:11:21Z
    max_off_nadir_deg: ninety
  - id: typo
    target: Rome
    tim: 2026-05-30T16:11:21Z
  - id: ok-1
    target: Rome
    time: 2026-05-30T16:11:21Z
"""


def test_yaml_file_good_and_bad_claims(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(GOOD_AND_BAD)
    f = read_claims(path)
    kinds = [type(e).__name__ for e in f.entries]
    assert kinds == ["Claim", "ClaimProblem", "Claim", "ClaimProblem", "ClaimProblem",
                     "ClaimProblem", "ClaimProblem"]
    ok1, ok2 = f.claims
    assert ok1.satellite == "40115" and ok1.origin == "claims.yaml:5"
    assert ok2.time == datetime(2026, 5, 30, 16, 11, 21, tzinfo=UTC)  # EDT = UTC-4
    assert ok2.target.lat_deg == 38.9 and ok2.tolerance_s == 60.0
    msgs = [p.message for p in f.problems]
    assert msgs[0].startswith("claims.yaml:9: claim 'bad-site': target: unknown site 'Atlantis'")
    assert msgs[1].startswith("claims.yaml:16:") and "expected a claim" in msgs[1]
    assert msgs[2].startswith("claims.yaml:20: claim 'bad-number': max_off_nadir_deg: not a")
    assert msgs[3].startswith("claims.yaml:23: claim 'typo': unknown field 'tim'")
    assert msgs[4].startswith("claims.yaml:24: claim 'ok-1': id: duplicate (first at "
                              "claims.yaml:5)")
    assert all("\n" not in m for m in msgs)


def test_one_bad_claim_does_not_stop_the_others(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(GOOD_AND_BAD)
    results = verify_claims(read_claims(path).entries, catalog)
    assert [r.verdict for r in results][:3] == [CONSISTENT, ERROR, CONSISTENT]
    assert results[1].reasons[0].startswith("claims.yaml:9:")
    assert results[1].to_dict()["verdict"] == "error"


def test_yaml_times_are_read_as_written() -> None:
    # Unquoted YAML 1.1 timestamps would become naive datetimes; the raw text is kept, so a
    # time without offset still needs a zone.
    f = parse_claims_text("- {satellite: 1, target: Rome, time: 2023-11-27 23:36:25}\n", "t.yaml")
    (p,) = f.problems
    assert "no offset" in p.message and p.message.startswith("t.yaml:1:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("claims: [\n", "t.yaml:2: not valid YAML"),
        ("", "no claims"),
        ("just text\n", "expected a list of claims"),
        ("claim:\n  - {}\n", "t.yaml:1: unknown top-level key 'claim'"),
        ("defaults: {zone: UTC}\n", "no 'claims' list"),
    ],
)
def test_unusable_yaml_files(text: str, message: str) -> None:
    with pytest.raises(ClaimsFileError) as info:
        parse_claims_text(text, "t.yaml")
    assert message in str(info.value)


def test_csv_claims_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "id,satellite,target,time,zone,tolerance_s,source\n"
        "a,40115,White House,2023-11-27T23:36:25,Asia/Pyongyang,,KCNA\n"
        "\n"
        "# a comment line\n"
        'b,40115,"38.9,-77.0",2023-11-27T14:36:25Z,,30,"quoted, with comma"\n'
        "c,40115,White House,not a time,,,\n"
        "d,40115,White House\n"
        "e,,White House,2023-11-27T14:36:25Z,,,\n"
    )
    f = read_claims(path)
    a, b = f.claims
    assert a.time == datetime(2023, 11, 27, 14, 36, 25, tzinfo=UTC) and a.origin == "c.csv:2"
    assert b.target.lat_deg == 38.9 and b.tolerance_s == 30.0 and b.source == "quoted, with comma"
    msgs = [p.message for p in f.problems]
    assert msgs[0].startswith("c.csv:6: claim 'c': time: not an ISO 8601 time")
    assert msgs[1] == "c.csv:7: 3 values for 7 columns"
    assert msgs[2] == "c.csv:8: claim 'e': satellite: missing"


def test_csv_lat_lon_columns_and_bad_header(tmp_path: Path) -> None:
    f = parse_claims_text("satellite,lat,lon,time\n40115,10,20,2026-05-30T00:00Z\n", "x.csv",
                          kind="csv")
    (c,) = f.claims
    assert (c.target.lat_deg, c.target.lon_deg) == (10.0, 20.0)
    with pytest.raises(ClaimsFileError, match=r"x.csv:1: unknown column 'when'"):
        parse_claims_text("satellite,target,when\n", "x.csv", kind="csv")
    with pytest.raises(ClaimsFileError, match="header has no 'time' column"):
        parse_claims_text("satellite,target\n", "x.csv", kind="csv")


def test_claim_field_checks() -> None:
    base = {"id": "k", "satellite": "1", "target": "Rome", "time": "2026-01-01T00:00Z"}
    for extra, message in [
        ({"time_end": "2025-12-31T00:00Z"}, "time_end: before time"),
        ({"time_end": "2026-01-09T00:00Z"}, "longer than 7 days"),
        ({"max_off_nadir_deg": "95"}, "max_off_nadir_deg: must be < 90"),
        ({"nadir_gsd_m": "0"}, "nadir_gsd_m: must be > 0"),
        ({"tolerance_s": "-1"}, "tolerance_s: must be >= 0"),
        ({"sensor": "lidar"}, "sensor: must be optical or sar"),
        ({"target": {"lat": "95", "lon": "0"}}, "out of range"),
        ({"target": {"lat": "1"}}, "needs lat and lon"),
    ]:
        with pytest.raises(ClaimError, match=message):
            claim_from_fields({**base, **extra})


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(ClaimsFileError, match="no such claims file"):
        read_claims(tmp_path / "none.yaml")
    other = tmp_path / "claims.xlsx"
    other.write_text("x")
    with pytest.raises(ClaimsFileError, match="unknown claims file type"):
        read_claims(other)


# ---- the KCNA example and reports ---------------------------------------------------------


def test_kcna_example_cannot_be_verified_with_bundled_data() -> None:
    f = read_claims(KCNA)
    assert not f.problems and len(f.claims) == 12
    white_house = next(c for c in f.claims if c.id == "white-house-2023-11-27")
    assert white_house.time == datetime(2023, 11, 27, 14, 36, 25, tzinfo=UTC)
    assert all(c.source for c in f.claims)
    with Catalog.bundled() as cat:
        results = verify_claims(f.entries, cat)
    assert {r.verdict for r in results} == {CANNOT_VERIFY}
    for r in results:
        assert r.norad_id == 58400 and r.before is None
        assert r.after is not None and r.after.epoch.date().isoformat() == "2024-06-07"
        assert "2024-06-07T23:19:06Z" in r.reasons[0]
        assert r.data_needed is not None and r.data_needed.satellite == "58400"
        assert r.data_needed.start <= r.claim.time.date() <= r.data_needed.end
    # One line for the whole file: 3 days before the first claim to 3 days after the last.
    (need,) = data_needed_summary(results)
    assert need.claims == 12 and str(need.start) == "2023-11-18" and str(need.end) == "2023-11-30"


# ---- how old an element set may be -----------------------------------------------------------

MU_WGS72_KM3_S2 = 398600.8
WH_CLAIM = {"satellite": "58400", "target": "White House", "time": "2023-11-27T23:36:25+09:00"}


def ground_speed_km_s(mean_motion_rev_day: float) -> float:
    """Nadir speed of a circular orbit of this mean motion (Kepler's third law), km/s."""
    n_rad_s = mean_motion_rev_day * 2 * math.pi / 86400.0
    a = (MU_WGS72_KM3_S2 / n_rad_s**2) ** (1 / 3)
    return math.sqrt(MU_WGS72_KM3_S2 / a) * 6371.0088 / a


def test_age_model_bounds_the_real_error_of_malligyong_sets(shared_data: Path) -> None:
    """The three public 2024 Malligyong-1 sets, each propagated with plain sgp4 to the others'
    epochs: the along-track miss is within the age model (3 km/day + 1 km/day²), and the old
    linear 3 km/day was not (330 km after 25.6 days)."""
    from sgp4.api import Satrec

    lines = (shared_data / "malligyong-1-2024.tle").read_text().splitlines()
    sats = [Satrec.twoline2rv(lines[i + 1], lines[i + 2]) for i in range(0, 9, 3)]
    worst_linear_miss = 0.0
    for a, b in itertools.permutations(sats, 2):
        _, ra, _ = a.sgp4(b.jdsatepoch, b.jdsatepochF)
        _, rb, vb = b.sgp4(b.jdsatepoch, b.jdsatepochF)
        speed = math.sqrt(sum(v * v for v in vb))
        along_km = abs(sum((x - y) * v / speed for x, y, v in zip(ra, rb, vb, strict=True)))
        days = abs((b.jdsatepoch + b.jdsatepochF) - (a.jdsatepoch + a.jdsatepochF))
        assert along_km <= 3.0 * days + 1.0 * days**2
        worst_linear_miss = max(worst_linear_miss, along_km - 3.0 * days)
    assert worst_linear_miss > 200.0


def test_claim_far_from_its_element_set_cannot_be_verified() -> None:
    """The new-user reproduction: a 2023 claim against the bundled 2024 sets, max age 300 days.
    193 days of age is about 3 × 193 + 193² km along-track, an hour and a half of timing."""
    with Catalog.bundled() as cat:
        r = verify_claim(claim_from_fields(WH_CLAIM), cat,
                         options=VerifyOptions(max_age_days=300.0))
    assert r.verdict == CANNOT_VERIFY and r.confidence is None
    assert r.to_dict()["findings"] == ["elset-too-old"]
    (f,) = r.findings
    age = (datetime(2023, 11, 27, 14, 36, 25, tzinfo=UTC) - r.after.epoch).total_seconds() / 86400
    assert f.elset_age_days == pytest.approx(age, abs=1e-6) and age == pytest.approx(-193.36,
                                                                                     abs=0.01)
    assert f.along_track_km == pytest.approx(3 * 193.36 + 193.36**2, rel=1e-4)
    speed = ground_speed_km_s(r.after.mean_motion_rev_day)
    assert f.allowance_s == pytest.approx(f.along_track_km / speed, rel=2e-3)
    assert f.allowance_s > 3600 and f.tolerance_s == 120.0
    assert "193.36 days after the claimed time" in r.reasons[0]
    # What would settle it: fresh sets (within 7 days), not "any within 300 days".
    need = r.data_needed
    assert need is not None and need.max_age_days == 7.0
    assert (str(need.start), str(need.end)) == ("2023-11-20", "2023-12-04")
    report = stale_report([r])
    assert report and report.satellites[0].norad_id == 58400
    assert "up to 193 days" in report.message()


def test_kcna_claims_with_a_year_of_age_limit_cannot_be_verified() -> None:
    """With the bundled 2024 sets and max age 366 days, every KCNA claim used to get a
    confident verdict from sets 190–200 days away; none does now."""
    with Catalog.bundled() as cat:
        results = verify_claims(read_claims(KCNA).entries, cat,
                                options=VerifyOptions(max_age_days=366.0))
    assert [r.codes for r in results] == [("elset-too-old",)] * 12
    assert {r.verdict for r in results} == {CANNOT_VERIFY}


def test_stale_element_set_lowers_confidence(snapshot_tle: Path, catalog: Catalog) -> None:
    """A WorldView-3 pass 10 days after the epoch (Skyfield, same TLE): still within reach,
    with confidence lowered and the tolerance grown by (3 × 10 + 10²) km of along-track."""
    start = EPOCH_WV3 + timedelta(days=10)
    p = next(x for x in passes(snapshot_tle, WV3, *WH, start, start + timedelta(days=3), 60.0)
             if x.sun_deg > 0)
    r = verify_claim(claim(p.culmination), catalog, options=VerifyOptions(max_age_days=14.0))
    assert r.verdict == CONSISTENT and r.confidence == "lowered"
    assert r.codes[:2] == ("elset-recent", "elset-stale")
    assert r.to_dict()["findings"] == ["elset-stale"]
    age = (p.culmination - EPOCH_WV3).total_seconds() / 86400
    km = 3 * age + age**2
    assert r.tolerance_s == pytest.approx(120 + km / ground_speed_km_s(r.elset.mean_motion_rev_day),
                                          rel=1e-3)
    assert stale_report([r]).worst_age_days == pytest.approx(age, abs=1e-3)
    # A fresh set (the same pass's day, under a day old) gives no stale finding nor warning.
    fresh = verify_claim(claim(next(iter(
        passes(snapshot_tle, WV3, *WH, EPOCH_WV3, EPOCH_WV3 + timedelta(days=2), 60.0)
    )).culmination), catalog)
    assert "elset-stale" not in fresh.codes and not stale_report([fresh])


def test_reports_render(catalog: Catalog, wv3_passes: dict) -> None:
    results = [
        verify_claim(claim(wv3_passes["day"].culmination), catalog),
        ClaimResult.from_problem(ClaimProblem("bad", "f.yaml:3", "f.yaml:3: claim 'bad': x")),
    ]
    md = render_markdown(results, maps={"claim": "claim.png"})
    assert "## claim: consistent" in md and "![ground track" in md and "(claim.png)" in md
    assert "| claim | satellite |" in md and "## bad: error" in md
    html = render_html(results, maps={"claim": "claim.png"})
    assert "<img src='claim.png'" in html and "class='consistent'" in html


def test_site_from_claim_keeps_given_name() -> None:
    c = claim_from_fields({"satellite": "1", "target": {"name": "Pier 7", "lat": "36.95",
                                                        "lon": "-76.33"},
                           "time": "2026-01-01T00:00Z"})
    assert c.target == Site("Pier 7", 36.95, -76.33, 0.0)
