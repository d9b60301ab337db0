"""The public Python API (``import overflight as ovf``) on the bundled snapshot.

Windows are checked against Skyfield's ``find_events``, ground tracks against Skyfield's
subpoints and maneuvers against the synthetic burns of ``_maneuver_synth`` (independent routes);
the rest checks the API's contract: argument forms, result types, pandas/Arrow/HTML exports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from skyfield.api import EarthSatellite, wgs84

import overflight as ovf
from overflight.access import Window
from overflight.catalog import Catalog
from overflight.errors import OverflightError
from overflight.geometry import Site
from overflight.results import HTML_ROWS, Coverage, History, Maneuvers, Passes, Track
from overflight.sites import named_sites
from overflight.times import timescale

SRC = Path(__file__).resolve().parents[1] / "src"
T0 = datetime(2026, 5, 31, tzinfo=UTC)
HEAVY = ("numpy", "sgp4", "skyfield", "pandas", "matplotlib", "pyarrow", "yaml")


# ---- the package root -------------------------------------------------------------------------
def test_import_is_instant_and_light() -> None:
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "import overflight as ovf\n"
        "dt = time.perf_counter() - t\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(dt, ','.join(heavy), ovf.__version__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(SRC)}).stdout.split()
    assert out[1] == ovf.__version__  # nothing heavy: the middle field is empty
    assert len(out) == 2, f"heavy modules imported by 'import overflight': {out[1]}"
    assert float(out[0]) < 0.3


def test_names_are_lazy_and_not_shadowed_by_submodules() -> None:
    assert dir(ovf) == sorted(ovf.__all__)
    import overflight.coverage
    import overflight.history
    import overflight.track  # noqa: F401  (the submodules of the same names)

    for name in ("history", "track", "coverage", "passes", "verify", "maneuvers", "site",
                 "open_catalog"):
        assert callable(getattr(ovf, name)), name
        assert getattr(ovf, name).__module__ == "overflight.api"
    from overflight.history import OrbitTable  # the library modules stay importable

    assert OrbitTable.__module__ == "overflight.history"
    assert ovf.plot.__name__ == "overflight.plot"
    with pytest.raises(AttributeError):
        _ = ovf.no_such_name  # type: ignore[attr-defined]


def test_version_on_the_command_line() -> None:
    out = subprocess.run([sys.executable, "-m", "overflight", "--version"], capture_output=True,
                         text=True, env={"PYTHONPATH": str(SRC)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ovf.__version__


# ---- catalog and sites ------------------------------------------------------------------------
def test_open_catalog_serves_the_snapshot_without_a_database() -> None:
    with ovf.open_catalog() as cat:
        assert isinstance(cat, Catalog) and cat.snapshot
        resource = cat.select(group="resource")
        assert len(resource) == 167
        two = cat.select(sats=["WORLDVIEW-3", 58400])
        assert [e.norad_id for e in two][1] == 58400
        both = cat.select(group=["resource", "malligyong-1"], sats=[58400])
        assert len(both) == 168
        with pytest.raises(OverflightError, match="unknown group"):
            cat.select(group="nope")


def test_site_forms() -> None:
    wh = ovf.site("white house")
    assert wh.name == "White House"
    assert ovf.site((38.8977, -77.0365)) == Site("38.8977,-77.0365", 38.8977, -77.0365, 0.0)
    assert ovf.site((39.0, 125.7, 30)).alt_m == 30.0
    assert ovf.site(wh) is wh
    assert ovf.site(named_sites()[0]) == named_sites()[0].site
    assert ovf.site("39.0,125.7").lat_deg == 39.0
    with pytest.raises(OverflightError, match="latitude"):
        ovf.site((95.0, 0.0))
    with pytest.raises(OverflightError, match="unknown site"):
        ovf.site("Atlantis")
    with pytest.raises(OverflightError, match="site: expected"):
        ovf.site((1.0,))  # type: ignore[arg-type]


# ---- passes -----------------------------------------------------------------------------------
def _skyfield_passes(es: object, site: Site, start: datetime, end: datetime,
                     min_el: float) -> list[tuple[datetime, float, datetime]]:
    """Complete passes (rise, culmination elevation in degrees, set) above ``min_el`` by
    Skyfield's find_events."""
    ts = timescale()
    sat = EarthSatellite.from_satrec(es.to_satrec(), ts)  # type: ignore[attr-defined]
    topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    t, ev = sat.find_events(topos, ts.from_datetime(start), ts.from_datetime(end),
                            altitude_degrees=min_el)
    out = []
    dts = t.utc_datetime()
    alt = (sat - topos).at(t).altaz()[0].degrees
    for k in range(len(ev) - 2):
        if ev[k] == 0 and ev[k + 1] == 1 and ev[k + 2] == 2:
            out.append((dts[k], float(alt[k + 1]), dts[k + 2]))
    return out


def test_passes_agree_with_skyfield_find_events() -> None:
    site = ovf.site("Rajin port")
    with ovf.open_catalog() as cat:
        sats = cat.select(group="resource")[::20]
        win = ovf.passes(sats, "Rajin port", start=T0, days=1, min_elevation_deg=10.0,
                         catalog=cat)
    assert isinstance(win, Passes) and len(win) > 0
    matched = 0
    for es in sats:
        mine = [w for w in win if w.norad_id == es.norad_id]
        ref = _skyfield_passes(es, site, T0, T0 + timedelta(days=1), 10.0)
        assert len(mine) >= len(ref)
        for rise, top_deg, set_ in ref:
            near = [w for w in mine if abs((w.start - rise).total_seconds()) < 1.0]
            assert len(near) == 1, f"{es.name}: no window rising at {rise}"
            assert abs((near[0].end - set_).total_seconds()) < 1.0
            assert top_deg - 1e-4 <= near[0].max_elevation_deg <= top_deg + 0.1
            matched += 1
    assert matched >= 5


def test_passes_argument_forms_agree() -> None:
    a = ovf.passes([58400], [(38.8977, -77.0365)], start="2024-06-09T00:00Z",
                   end="2024-06-10T00:00:00+00:00")
    b = ovf.passes("MALLIGYONG-1", (38.8977, -77.0365),
                   start=datetime(2024, 6, 9, 9, tzinfo=__import__("zoneinfo").ZoneInfo(
                       "Asia/Seoul")), days=1)
    assert a.to_dict() == b.to_dict()
    assert a.start == datetime(2024, 6, 9, tzinfo=UTC)
    assert all(isinstance(w, Window) for w in a)
    # The named satellite gets the element set nearest the start (June 2024, not the newest).
    assert abs(a.satellites[0].age_days(a.start)) < 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"start": "2026-05-31"}, "no offset"),
    ({"start": datetime(2026, 5, 31)}, "no time zone"),
    ({"start": T0, "end": T0, "days": 1}, "end or days, not both"),
    ({"start": T0, "end": T0 - timedelta(hours=1)}, "is not before end"),
    ({"start": T0, "days": -1}, "days: must be a positive"),
    ({"start": T0, "max_off_nadir_deg": 120}, r"max_off_nadir_deg: 120° must be in \(0, 90\)"),
    ({"start": 5}, "start: expected a datetime"),
])
def test_passes_bad_arguments_are_one_line_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(OverflightError, match=message) as info:
        ovf.passes([58400], "Seoul", **kwargs)
    assert "\n" not in str(info.value)


def test_passes_unknown_satellite() -> None:
    with pytest.raises(OverflightError, match="no satellite matching"):
        ovf.passes(["NO-SUCH-SAT"], "Seoul", start=T0)


def test_passes_exports() -> None:
    win = ovf.passes(ovf.open_catalog().select(group="resource"), "Rajin port", start=T0,
                     days=1, max_off_nadir_deg=30, sun_min_deg=10)
    df = win.to_pandas()
    assert len(df) == len(win) > HTML_ROWS
    for col in ("norad_id", "name", "site", "start", "peak", "end", "duration_s",
                "max_elevation_deg", "min_off_nadir_deg", "sun_elevation_deg", "gsd_m"):
        assert col in df.columns
    for col in ("start", "peak", "end"):
        assert str(df[col].dtype) == "datetime64[ns, UTC]"
    assert df["norad_id"].dtype == np.int64
    assert df["start"].iloc[0].to_pydatetime() == win[0].start
    assert (df["sun_elevation_deg"] >= 10 - 1e-6).all()
    assert (df["min_off_nadir_deg"] <= 30 + 1e-6).all()
    table = win.to_arrow()
    assert table.num_rows == len(win)
    assert str(table.schema.field("start").type) == "timestamp[ns, tz=UTC]"
    html = win._repr_html_()
    assert html.count("<tr>") == HTML_ROWS + 1
    assert f"{len(win)} windows" in html and "more" in html
    doc = json.loads(win.to_json())
    assert doc["count"] == len(win) and doc["rows"][0]["start"].endswith("Z")
    assert doc["rows"][0] == {**win[0].to_dict(), **win[0].extra}


def test_empty_passes_still_have_columns() -> None:
    win = ovf.passes([58400], "Seoul", start="2024-06-09T00:00Z", days=0.01,
                     min_elevation_deg=80)
    df = win.to_pandas()
    assert len(df) == 0 and "max_elevation_deg" in df.columns
    assert str(df["start"].dtype) == "datetime64[ns, UTC]"
    assert "0 windows" in win._repr_html_()


# ---- verify -----------------------------------------------------------------------------------
def test_verify_kcna_claim_cannot_be_verified_on_the_snapshot() -> None:
    v = ovf.verify("MALLIGYONG-1", "White House", "2023-11-27T23:36:25+09:00")
    assert v.verdict == "cannot-verify"
    assert v.reasons and "193" in v.reasons[0]
    local = ovf.verify(58400, "White House", "2023-11-27 23:36:25", zone="Asia/Pyongyang")
    assert (local.verdict, local.reasons) == (v.verdict, v.reasons)
    assert v.evidence["target"] == "White House"
    assert "cannot-verify" in v._repr_html_()
    assert v.to_pandas().loc[0, "verdict"] == "cannot-verify"


def test_verify_with_coordinates_and_datetime() -> None:
    when = datetime(2024, 6, 9, 12, tzinfo=UTC)
    v = ovf.verify(58400, (38.8977, -77.0365), when)
    assert v.verdict in ("consistent", "inconsistent")
    # At the claimed time the satellite was below the target's horizon (Skyfield says so).
    with ovf.open_catalog() as cat:
        es = cat.select(sats=[58400], as_of=when)[0]
    ts = timescale()
    sat = EarthSatellite.from_satrec(es.to_satrec(), ts)
    alt = (sat - wgs84.latlon(38.8977, -77.0365)).at(ts.from_datetime(when)).altaz()[0].degrees
    assert alt < 0
    assert v.verdict == "inconsistent"
    json.loads(v.to_json())
    with pytest.raises(OverflightError, match="no time zone"):
        ovf.verify(58400, "Seoul", datetime(2024, 6, 9, 12))


# ---- track ------------------------------------------------------------------------------------
def test_track_agrees_with_skyfield_subpoints() -> None:
    tr = ovf.track(58400, start="2024-06-09T12:00Z", end="2024-06-09T12:30Z", step_s=300)
    assert isinstance(tr, Track) and len(tr) == 7
    assert tr[0].time == datetime(2024, 6, 9, 12, tzinfo=UTC)
    ts = timescale()
    sat = EarthSatellite.from_satrec(tr.satellite.to_satrec(), ts)
    for p in tr:
        sub = wgs84.geographic_position_of(sat.at(ts.from_datetime(p.time)))
        assert p.lat_deg == pytest.approx(sub.latitude.degrees, abs=0.01)
        assert p.lon_deg == pytest.approx(sub.longitude.degrees, abs=0.01)
        assert p.alt_km == pytest.approx(sub.elevation.km, abs=0.5)
    df = tr.to_pandas()
    assert list(df.columns) == ["norad_id", "name", "time", "lat_deg", "lon_deg", "alt_km",
                                "speed_km_s", "sunlit", "error"]
    assert str(df["time"].dtype) == "datetime64[ns, UTC]"
    assert str(tr.to_arrow().schema.field("time").type) == "timestamp[ns, tz=UTC]"
    assert "ground track" in tr._repr_html_()


def test_track_defaults_to_one_orbit() -> None:
    tr = ovf.track(58400, start="2024-06-09T12:00Z")
    span = (tr[-1].time - tr[0].time).total_seconds() / 60.0
    assert span == pytest.approx(tr.satellite.period_min, abs=1e-6)
    with pytest.raises(OverflightError, match="step_s"):
        ovf.track(58400, start="2024-06-09T12:00Z", step_s=0)
    with pytest.raises(OverflightError, match="give one"):
        ovf.track([58400, 40115], start="2024-06-09T12:00Z")  # type: ignore[arg-type]


# ---- history and maneuvers --------------------------------------------------------------------
def test_history_from_the_catalog() -> None:
    h = ovf.history("MALLIGYONG-1")
    assert isinstance(h, History) and len(h) == 3
    assert [s.epoch for s in h] == sorted(s.epoch for s in h)
    df = h.to_pandas()
    assert str(df["epoch"].dtype) == "datetime64[ns, UTC]"
    assert {"perigee_alt_km", "apogee_alt_km", "inclination_deg"} <= set(df.columns)
    assert isinstance(h.maneuvers, Maneuvers)
    assert len(ovf.history(58400, start="2024-06-10T00:00Z")) < 3
    with pytest.raises(OverflightError, match="unknown group"):
        ovf.history(group="nope")


def test_maneuvers_find_the_synthetic_burns() -> None:
    from _maneuver_synth import malligyong_february

    sets, burns, _ = malligyong_february()
    m = ovf.maneuvers(list(sets))
    assert isinstance(m, Maneuvers) and len(m) == len(burns) == 5
    for found, burn in zip(m, burns, strict=True):
        assert found.before_epoch <= burn.time <= found.after_epoch
    df = m.to_pandas()
    assert str(df["before_epoch"].dtype) == "datetime64[ns, UTC]"
    assert (df["delta_v_m_s"] > 0.3).all()
    assert m.to_arrow().num_rows == 5
    h = ovf.history(list(sets))
    assert len(h) == len(sets) and len(h.maneuvers) == 5


def test_maneuvers_of_a_group() -> None:
    m = ovf.maneuvers(group="malligyong-1")
    assert m.detection.objects == 1 and m.detection.element_sets == 3
    assert json.loads(m.to_json())["count"] == len(m)
    assert len(m.to_pandas().columns) == 23  # with lat_deg, lon_deg, place, object_type, event


# ---- coverage ---------------------------------------------------------------------------------
def test_coverage_of_a_small_box() -> None:
    sats = ovf.open_catalog().select(group="resource")[:12]
    cov = ovf.coverage(sats, "38,125,40,128", start=T0, days=1, grid_km=100)
    assert isinstance(cov, Coverage) and len(cov) == len(cov.grid) > 0
    df = cov.to_pandas()
    assert list(df.columns) == ["lat_deg", "lon_deg", "windows", "accesses", "first_access_s",
                                "max_gap_s", "revisit_mean_s", "revisit_max_s",
                                "coverage_fraction", "best_gsd_m"]
    assert (df["max_gap_s"] <= 86400.0).all()
    assert cov.summary()["points"] == len(cov)
    doc = json.loads(cov.to_json())
    assert doc["count"] == len(cov) and doc["region"]["name"]
    assert "coverage of" in cov._repr_html_()
    with pytest.raises(OverflightError, match="region"):
        ovf.coverage(sats, "atlantis", start=T0)


def test_results_are_sequences_of_records() -> None:
    win = ovf.passes([58400], "Seoul", start="2024-06-09T00:00Z", days=1)
    assert list(win) == win.records and (len(win) == 0 or win[0] is win.records[0])
    assert isinstance(win.to_pandas(), pd.DataFrame)
    assert repr(win).startswith("<Passes:")
