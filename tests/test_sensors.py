"""The sensor table (data/sensors.yaml) and its loader (overflight.sensors)."""

from __future__ import annotations

import json
import math
import re
import time
from importlib import resources
from pathlib import Path

import pytest

from overflight import sensors as sensors_mod
from overflight.sensors import (
    CONFIDENCE_LEVELS,
    KINDS,
    LOOK_SIDES,
    Sensor,
    SensorError,
    load_sensors,
    load_table,
    sensor_rows,
    shipped_sensors,
    shipped_table,
)

SNAPSHOT = Path(__file__).resolve().parents[1] / "src" / "overflight" / "data" / "snapshot"

# Names that deliberately differ from the snapshot's (none today); id -> name in the table.
NAME_DIFFERENCES: dict[int, str] = {}


def _snapshot_names() -> dict[int, str]:
    """NORAD id -> name from the bundled TLE files, by a plain parse of line 1."""
    names: dict[int, str] = {}
    for path in sorted(SNAPSHOT.glob("*.tle")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for prev, line in zip(["", *lines], lines, strict=False):
            if line.startswith("1 ") and len(line) >= 7:
                nid = int(line[2:7])
                if prev and not prev.startswith(("1 ", "2 ")):
                    names.setdefault(nid, prev.strip())
                else:
                    names.setdefault(nid, "")
    return names


@pytest.fixture(scope="module")
def snapshot() -> dict[int, str]:
    names = _snapshot_names()
    assert len(names) > 800  # the groups of the 2026-05-30 snapshot plus Malligyong-1
    return names


@pytest.fixture(scope="module")
def table() -> dict[int, Sensor]:
    return shipped_table()


def _write(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ---- the shipped table ----------------------------------------------------------------------


def test_shipped_table_validates_and_splits_imagers(table: dict[int, Sensor]) -> None:
    imagers = shipped_sensors()
    assert set(imagers) == {k for k, s in table.items() if s.images}
    assert all(s.is_imager for s in imagers.values())
    assert len(imagers) >= 150
    assert sum(not s.images for s in table.values()) >= 50
    # Cached: the file is parsed once.
    assert shipped_table() is table and shipped_sensors() is shipped_sensors()


def test_every_imaging_entry_is_complete(table: dict[int, Sensor]) -> None:
    for s in table.values():
        if not s.images:
            continue
        where = f"{s.norad_id} {s.name}"
        assert s.kind in KINDS, where
        assert s.modes, where
        assert all(m.gsd_m > 0 and m.ref_alt_km > 0 and m.kind in KINDS for m in s.modes), where
        assert s.nadir_gsd_m == min(m.gsd_m for m in s.modes if m.kind == s.kind), where
        assert s.sources and all(x.strip() for x in s.sources), where
        assert s.source == s.sources[0], where
        assert s.confidence in CONFIDENCE_LEVELS, where
        assert s.operator and s.country, where
        if s.kind == "sar":
            assert s.incidence_min_deg is not None and s.incidence_max_deg is not None, where
            assert 0 <= s.incidence_min_deg < s.incidence_max_deg <= 90, where
            assert s.look_side in LOOK_SIDES, where
            assert s.max_off_nadir_deg is not None  # derived for older callers
            assert s.max_off_nadir_deg < s.incidence_max_deg, where
            assert s.sun_min_deg is None and not s.needs_daylight, where
        else:
            assert s.max_off_nadir_deg is not None, where
            assert 0 < s.max_off_nadir_deg <= 70, where
        if s.kind in ("optical", "video", "hyperspectral"):
            assert s.sun_min_deg is not None and s.needs_daylight, where
        if s.confidence != "official":
            assert s.note, f"{where}: an estimate or unverified figure needs a note"


def test_non_imaging_entries_give_a_reason_and_source(table: dict[int, Sensor]) -> None:
    for s in table.values():
        if s.images:
            continue
        assert s.reason and s.sources, f"{s.norad_id} {s.name}"
        assert not s.is_imager and not s.needs_daylight
        assert not s.within_reach(0.0, 30.0)
        assert s.gsd_m(500.0, 10.0) is None
        assert s.norad_id not in shipped_sensors()


def test_at_least_150_imaging_entries_are_in_the_snapshot(
    table: dict[int, Sensor], snapshot: dict[int, str]
) -> None:
    in_snap = [s for s in table.values() if s.images and s.norad_id in snapshot]
    assert len(in_snap) >= 150
    assert sum(1 for s in table.values() if s.norad_id in snapshot) >= 250


def test_every_id_is_in_the_snapshot_or_marked(
    table: dict[int, Sensor], snapshot: dict[int, str]
) -> None:
    for s in table.values():
        assert s.in_snapshot == (s.norad_id in snapshot), f"{s.norad_id} {s.name}"


def test_names_match_the_snapshot(table: dict[int, Sensor], snapshot: dict[int, str]) -> None:
    for s in table.values():
        if s.norad_id in snapshot:
            expected = NAME_DIFFERENCES.get(s.norad_id, snapshot[s.norad_id])
            assert s.name == expected, f"{s.norad_id}: {s.name!r} vs snapshot {expected!r}"


def test_requested_families_are_covered(table: dict[int, Sensor]) -> None:
    names = " ".join(s.name for s in table.values())
    for family in ("WORLDVIEW", "GEOEYE", "LEGION", "SKYSAT-C11", "PLEIADES NEO", "SPOT 7",
                   "SENTINEL-1A", "SENTINEL-2C", "SENTINEL-3B", "LANDSAT 7", "LANDSAT 9",
                   "CARTOSAT-3", "CARTOSAT-2F", "GAOFEN-1", "GAOFEN-11", "GAOFEN-3", "YAOGAN",
                   "RESURS-P", "KOMPSAT-5", "CAS500-2", "ALOS-4", "TANDEM-X", "PAZ",
                   "COSMO-SKYMED 4", "CSG-3", "SAR-LUPE", "RCM-1", "NOVASAR", "MALLIGYONG-1",
                   "IONOSFERA-M"):
        assert family in names, family
    definitions = sensors_mod.shipped_definitions()
    for d in ("iceye", "capella", "umbra", "blacksky-gen2", "satellogic-newsat",
              "jilin-1-kuanfu", "kanopus-v", "kondor-fka", "bars-m", "sarah", "ofeq-optical",
              "ofeq-sar", "gaofen-6", "rcm"):
        assert d in definitions, d


def test_countries_follow_the_convention(table: dict[int, Sensor]) -> None:
    for s in table.values():
        if s.country:
            assert re.fullmatch(r"[A-Z]{3}(/[A-Z]{3})*|ESA|EUMETSAT", s.country), s.country


def test_to_dict_is_strict_json(table: dict[int, Sensor]) -> None:
    docs = [s.to_dict() for s in table.values()]
    json.dumps(docs, allow_nan=False)
    ref = table[40536].to_dict()
    assert ref["nadir_gsd_m"] == 0.55 and ref["modes"][2]["kind"] == "infrared"


def test_sensor_rows_have_unit_suffixed_keys(table: dict[int, Sensor]) -> None:
    rows = sensor_rows(table)
    assert len(rows) == len(table)
    assert [r["norad_id"] for r in rows] == sorted(table)
    for key in ("best_gsd_m", "ref_alt_km", "max_off_nadir_deg", "incidence_min_deg",
                "incidence_max_deg", "sun_min_deg"):
        assert key in rows[0]
    row = next(r for r in rows if r["norad_id"] == 39634)
    assert row["kind"] == "sar" and row["sun_min_deg"] is None and row["look_side"] == "right"
    json.dumps(rows, allow_nan=False)


def test_parse_time_is_bounded() -> None:
    text = resources.files("overflight").joinpath("data/sensors.yaml").read_text("utf-8")
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        sensors_mod._parse(text, "sensors.yaml")
        best = min(best, time.perf_counter() - t0)
    assert best < 0.5  # about 30 ms with libyaml; loose for slow machines


# ---- helpers --------------------------------------------------------------------------------


def test_landsat_reach_and_daylight(table: dict[int, Sensor]) -> None:
    landsat8 = table[39084]
    assert landsat8.max_off_nadir_deg == 7.5
    assert landsat8.within_reach(7.0) and landsat8.within_reach(-7.5)
    assert not landsat8.within_reach(8.0)
    assert not landsat8.within_reach(None)
    assert landsat8.needs_daylight and landsat8.sun_rule_deg == 10.0
    assert any(m.kind == "infrared" for m in landsat8.modes)  # TIRS


def test_sar_reach_and_no_sun_rule(table: dict[int, Sensor]) -> None:
    s1 = table[39634]
    assert s1.kind == "sar" and not s1.needs_daylight
    assert s1.sun_min_deg is None and s1.sun_rule_deg is None
    assert s1.within_reach(incidence_deg=30.0)
    assert not s1.within_reach(incidence_deg=10.0)
    assert not s1.within_reach(incidence_deg=50.0)
    assert not s1.within_reach(off_nadir_deg=20.0)  # radar reach needs the incidence
    # Older callers read an off-nadir limit: derived from the far incidence at ref_alt_km.
    assert s1.max_off_nadir_deg == pytest.approx(
        sensors_mod.off_nadir_for_incidence(47.0, 693.0), abs=0.05)


def test_thermal_imager_needs_no_daylight() -> None:
    s = Sensor(norad_id=1, name="THERMAL", nadir_gsd_m=100.0, ref_alt_km=700.0,
               max_off_nadir_deg=20.0, kind="infrared", source="test")
    assert not s.needs_daylight and s.sun_rule_deg is None and s.within_reach(20.0)


def test_old_constructor_and_gsd_still_work() -> None:
    s = Sensor(norad_id=25544, name="X", nadir_gsd_m=0.5, ref_alt_km=500.0,
               max_off_nadir_deg=30.0, kind="optical", source="somewhere")
    assert s.gsd_m(500.0, 0.0) == pytest.approx(0.5)
    assert s.gsd_m(1000.0, 60.0) == pytest.approx(0.5 * 2 * math.sqrt(2))
    assert s.gsd_m(1000.0, 95.0) is None
    assert s.is_imager and s.within_reach(29.0) and not s.within_reach(31.0)
    assert s.to_dict()["source"] == "somewhere"
    positional = Sensor(1, "Y", 1.0, 600.0)
    assert positional.max_off_nadir_deg is None and positional.within_reach(60.0)


def test_sar_resolution_model(table: dict[int, Sensor]) -> None:
    tsx = table[31698]
    steep, shallow = tsx.resolution_m(600.0, 20.0), tsx.resolution_m(700.0, 55.0)
    assert steep is not None and shallow is not None and steep > shallow
    mid = ((tsx.incidence_min_deg or 0) + (tsx.incidence_max_deg or 0)) / 2
    assert tsx.resolution_m(650.0, mid) == pytest.approx(tsx.nadir_gsd_m)
    # Range does not change SAR resolution; it does for an optical sensor.
    assert tsx.resolution_m(500.0, 40.0) == tsx.resolution_m(900.0, 40.0)
    wv3 = table[40115]
    assert wv3.resolution_m(900.0, 40.0) == wv3.gsd_m(900.0, 40.0)


# ---- user files and the old form ------------------------------------------------------------

OLD_FORM = """\
# the pre-format-2 flat form
sensors:
  - {norad_id: 32060, name: WORLDVIEW-1, nadir_gsd_m: 0.50, ref_alt_km: 496,
     max_off_nadir_deg: 45, kind: optical, source: "DigitalGlobe"}
  - {norad_id: 39634, name: SENTINEL-1A, nadir_gsd_m: 5.0, ref_alt_km: 693,
     max_off_nadir_deg: 46, kind: sar, source: "ESA"}
  - {norad_id: 99999, name: MY SAT, nadir_gsd_m: 2.0, ref_alt_km: 600}
"""


def test_old_flat_form_still_loads(tmp_path: Path) -> None:
    table = load_sensors(_write(tmp_path, OLD_FORM))
    assert table[32060].nadir_gsd_m == 0.5 and table[32060].source == "DigitalGlobe"
    assert table[39634].kind == "sar" and table[39634].max_off_nadir_deg == 46.0
    mine = table[99999]
    assert mine.kind == "optical" and mine.max_off_nadir_deg is None and mine.source == ""
    assert mine.confidence == "unverified" and mine.modes[0].gsd_m == 2.0
    assert 40115 in table  # the shipped entries stay
    # A bare list is the old form too.
    bare = sensors_mod._parse("- {norad_id: 5, nadir_gsd_m: 1, ref_alt_km: 500}\n", "bare.yaml")
    assert bare[5].nadir_gsd_m == 1.0


def test_user_file_overrides_and_uses_shipped_definitions(tmp_path: Path) -> None:
    text = """\
format: 2
satellites:
  - {norad_id: 90001, name: ICEYE-TEST, sensor: iceye, in_snapshot: false}
  - {norad_id: 40115, name: "WORLDVIEW-3 (WV-3)", sensor: worldview-3, max_off_nadir_deg: 30}
  - {norad_id: 39084, name: LANDSAT 8, images: false,
     reason: "switched off in this scenario", sources: ["test"]}
"""
    path = _write(tmp_path, text)
    table = load_sensors(path)
    assert table[90001].kind == "sar" and table[90001].operator == "ICEYE"
    assert table[40115].max_off_nadir_deg == 30.0 and table[40115].nadir_gsd_m == 0.31
    assert 39084 not in table  # images: false removes it from the imagers
    full = load_table(path)
    assert full[39084].reason == "switched off in this scenario"
    assert shipped_table()[40115].max_off_nadir_deg == 45.0  # the cached table is untouched


NEW = "format: 2\nsatellites:\n"
GOOD_OPTICAL = ("{norad_id: 7, name: SAT, kind: optical, operator: o, country: FRA, "
                "max_off_nadir_deg: 30, modes: [{name: pan, gsd_m: 1, ref_alt_km: 500}], "
                "sources: [s]")
GOOD_SAR = ("{norad_id: 8, name: RADAR, kind: sar, operator: o, country: ITA, "
            "incidence_min_deg: 20, incidence_max_deg: 50, look_side: right, "
            "modes: [{name: strip, gsd_m: 3, ref_alt_km: 600}], sources: [s]")


@pytest.mark.parametrize(("row", "field"), [
    (GOOD_OPTICAL.replace("kind: optical", "kind: lidar") + "}", "kind"),
    (GOOD_OPTICAL.replace("gsd_m: 1", "gsd_m: -1") + "}", "gsd_m"),
    (GOOD_OPTICAL.replace("ref_alt_km: 500", "ref_alt_km: 0") + "}", "ref_alt_km"),
    (GOOD_OPTICAL.replace("max_off_nadir_deg: 30", "max_off_nadir_deg: 80") + "}",
     "max_off_nadir_deg"),
    (GOOD_OPTICAL.replace("max_off_nadir_deg: 30, ", "") + "}", "max_off_nadir_deg"),
    (GOOD_OPTICAL.replace("sources: [s]", "sources: []") + "}", "sources"),
    (GOOD_OPTICAL.replace("country: FRA", "country: France") + "}", "country"),
    (GOOD_OPTICAL + ", confidence: sure}", "confidence"),
    (GOOD_OPTICAL + ", colour: red}", "colour"),
    (GOOD_OPTICAL + ", sensor: nothing-like-this}", "sensor"),
    (GOOD_OPTICAL.replace("norad_id: 7", "norad_id: seven") + "}", "norad_id"),
    (GOOD_SAR.replace("incidence_min_deg: 20", "incidence_min_deg: 55") + "}",
     "incidence_min_deg"),
    (GOOD_SAR.replace("incidence_max_deg: 50", "incidence_max_deg: 95") + "}",
     "incidence_max_deg"),
    (GOOD_SAR.replace("look_side: right", "look_side: up") + "}", "look_side"),
    (GOOD_SAR.replace("look_side: right, ", "") + "}", "look_side"),
    (GOOD_SAR + ", sun_min_deg: 10}", "sun_min_deg"),
    ("{norad_id: 9, name: X, images: false, sources: [s]}", "reason"),
    ("{norad_id: 9, name: X, images: maybe, reason: r, sources: [s]}", "images"),
    (GOOD_OPTICAL + ", imaging_ended: '2019-13-01'}", "imaging_ended"),
    (GOOD_OPTICAL + ", imaging_ended: 2019}", "imaging_ended"),
    (GOOD_OPTICAL + ", imaging_ended: 2019-01-07T12:00:00Z}", "imaging_ended"),
    (GOOD_OPTICAL + ", imaging_ended: true}", "imaging_ended"),
    ("{norad_id: 9, name: X, images: false, reason: r, sources: [s], "
     "imaging_ended: 2019-01-07}", "imaging_ended"),
])
def test_bad_entries_give_one_line_errors_naming_the_field(
    tmp_path: Path, row: str, field: str
) -> None:
    path = _write(tmp_path, NEW + f"  - {row}\n")
    with pytest.raises(SensorError) as err:
        load_table(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("mine.yaml: entry 1")
    assert f": {field}: " in message, message


def test_good_entries_parse(tmp_path: Path) -> None:
    table = load_table(_write(tmp_path, NEW + f"  - {GOOD_OPTICAL}}}\n  - {GOOD_SAR}}}\n"))
    assert table[7].sun_min_deg == 10.0 and table[8].max_off_nadir_deg is not None


def test_imaging_ended_is_a_utc_day_shown_everywhere(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    path = _write(tmp_path, NEW + f"  - {GOOD_OPTICAL}, imaging_ended: 2019-01-07}}\n"
                  f"  - {GOOD_SAR}, imaging_ended: '2021-12-24'}}\n")
    table = load_table(path)
    assert table[7].imaging_ended == datetime(2019, 1, 7, tzinfo=UTC)
    assert table[8].imaging_ended == datetime(2021, 12, 24, tzinfo=UTC)
    assert table[7].is_imager  # an ended imager keeps its sensor: history still uses it
    assert table[7].to_dict()["imaging_ended"] == "2019-01-07"
    rows = {r["norad_id"]: r for r in sensor_rows(table)}
    assert rows[8]["imaging_ended"] == "2021-12-24" and rows[40115]["imaging_ended"] is None


def test_shipped_ended_missions(table: dict[int, Sensor]) -> None:
    from datetime import UTC, datetime

    ended = {nid: s.imaging_ended for nid, s in table.items() if s.imaging_ended is not None}
    assert ended == {
        41848: datetime(2019, 1, 7, tzinfo=UTC),    # WORLDVIEW-4 (Maxar, 2019-01-07)
        41456: datetime(2021, 12, 24, tzinfo=UTC),  # SENTINEL-1B (anomaly 2021-12-23)
        33320: datetime(2023, 3, 1, tzinfo=UTC),    # HJ-1A (eoPortal end of life)
        33321: datetime(2023, 3, 1, tzinfo=UTC),    # HJ-1B
        25682: datetime(2024, 1, 20, tzinfo=UTC),   # LANDSAT 7 (USGS: data until 01-19)
    }
    assert table[41848].is_imager and table[41848].nadir_gsd_m == 0.31
    assert table[41456].kind == "sar" and table[41456].modes == table[39634].modes
    for nid in ended:  # the end has a source that names it
        assert any(word in " ".join(table[nid].sources) for word in
                   ("end of life", "Mission ends", "Failure", "until January 19, 2024")), nid


def test_an_impossible_yaml_date_is_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, NEW + f"  - {GOOD_OPTICAL}, imaging_ended: 2019-13-01}}\n")
    with pytest.raises(SensorError, match=r"^mine\.yaml: not valid YAML \(month must be"):
        load_table(path)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    text = NEW + f"  - {GOOD_OPTICAL}}}\n  - {GOOD_OPTICAL.replace('SAT', 'AGAIN')}}}\n"
    with pytest.raises(SensorError, match=r"entry 2 \(7 AGAIN\): norad_id: duplicate"):
        load_table(_write(tmp_path, text))
    old = "sensors:\n" + "  - {norad_id: 3, nadir_gsd_m: 1, ref_alt_km: 5}\n" * 2
    with pytest.raises(SensorError, match="duplicate"):
        load_table(_write(tmp_path, old, "old.yaml"))


@pytest.mark.parametrize(("text", "pattern"), [
    ("sensors: [\n", r"^bad\.yaml: not valid YAML"),
    ("just a string\n", r"^bad\.yaml: expected a list"),
    ("sensors:\n  - 5\n", r"^bad\.yaml: entry 1: expected a mapping"),
    ("sensors:\n  - {norad_id: 3, ref_alt_km: 500}\n", r"entry 1 \(3\): nadir_gsd_m: is missing"),
    ("sensors:\n  - {norad_id: 3, nadir_gsd_m: 1, ref_alt_km: 500, max_off_nadir_deg: 75}\n",
     r"max_off_nadir_deg: must be within 0–70°"),
    ("format: 2\ndefinitions: {x: {kind: optical, wings: 2}}\nsatellites: []\n",
     r"definition 'x': wings: unknown field"),
])
def test_bad_files_give_one_line_errors(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(SensorError) as err:
        load_sensors(_write(tmp_path, text, "bad.yaml"))
    assert "\n" not in str(err.value)
    assert re.search(pattern, str(err.value)), str(err.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SensorError, match="cannot read sensors file"):
        load_sensors(tmp_path / "missing.yaml")
