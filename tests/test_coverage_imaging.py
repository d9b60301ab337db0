"""Coverage in imaging mode (issue 16): each satellite contributes only the windows its own
sensor can image. The reference is the passes plan's imaging windows (``plan_elements``,
checked against Skyfield in ``test_imaging.py``), merged per point here by plain Python."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from tests._claims_reference import ts_eph
from tests._cli import run

from overflight.access import Constraints
from overflight.catalog import Catalog
from overflight.coverage import CoverageError, compare_coverage, coverage
from overflight.freshness import StaleElementsError
from overflight.passes import plan_elements
from overflight.plot import constraint_text
from overflight.regions import box_region, grid

T0 = datetime(2026, 5, 31, tzinfo=UTC)
EDGE_NS = 10_000_000  # the field method's edge agreement with the engine
# Landsat 8 (reach 7.5°), Sentinel-2A (10.3°), Sentinel-1A (SAR, 18.3–47° right-looking),
# COSMO-SkyMed 1 (SAR, 20–60° both sides), IONOSFERA-M 1 (no imager), ISS (not in the table)
FLEET = (39084, 40697, 39634, 31598, 61735, 25544)


def _elsets(*ids: int) -> list[Any]:
    with Catalog.bundled() as cat:
        found = {e.norad_id: e for e in cat.latest(norad_ids=list(ids))}
    return [found[i] for i in ids]


def _union(table: Any, n_points: int) -> list[list[tuple[int, int]]]:
    """Per point, the union of the windows (ns), overlapping or touching ones joined."""
    spans: list[list[tuple[int, int]]] = [[] for _ in range(n_points)]
    a = table.start.astype("datetime64[ns]").view(np.int64).tolist()
    b = table.end.astype("datetime64[ns]").view(np.int64).tolist()
    for j, s, e in sorted(zip(table.site_index.tolist(), a, b, strict=True)):
        if spans[j] and s <= spans[j][-1][1]:
            spans[j][-1] = (spans[j][-1][0], max(spans[j][-1][1], e))
        else:
            spans[j].append((s, e))
    return spans


@pytest.fixture(scope="module")
def case() -> tuple[list[Any], list[Any], datetime, Any]:
    fleet = _elsets(*FLEET)
    points = grid(box_region(38.0, 125.0, 40.0, 128.0), 20.0).sites()
    end = T0 + timedelta(days=3)
    plan = plan_elements(fleet, points, T0, end, Constraints(), imaging=True)
    return fleet, points, end, plan


@pytest.mark.parametrize("method", ["points", "field"])
def test_imaging_coverage_is_the_union_of_imaging_passes(case: Any, method: str) -> None:
    fleet, points, end, plan = case
    table = plan.table()
    radar = {39634, 31598}
    sat_ids = np.array([e.norad_id for e in plan.elsets])[table.sat_index]
    # the fleet exercises every rule: both SARs image, one over the top of its band (a cut
    # window peaks at its highest elevation, 90° − 20°)
    assert radar <= set(sat_ids.tolist()) and {39084, 40697} <= set(sat_ids.tolist())
    assert np.isclose(table.max_elevation_deg[sat_ids == 31598], 70.0, atol=1e-3).any()
    r = coverage(fleet, points, T0, end, Constraints(), imaging=True, method=method)
    assert r.imaging and [s.norad_id for s in r.satellites] == [39084, 40697, 39634, 31598]
    assert constraint_text(r) == "imaging: each satellite's own sensor rule"
    assert {k.norad_id for k in r.skipped} == {61735, 25544}
    assert r.skipped_note is not None and "does not image" in r.skipped_note
    assert r.windows.tolist() == np.bincount(table.site_index, minlength=len(points)).tolist()
    ref = _union(table, len(points))
    assert r.accesses.tolist() == [len(s) for s in ref]
    got_a = r.interval_start.view(np.int64)
    got_b = r.interval_end.view(np.int64)
    want = np.array([x for spans in ref for x in spans], dtype=np.int64).reshape(-1, 2)
    assert np.abs(got_a - want[:, 0]).max() <= EDGE_NS
    assert np.abs(got_b - want[:, 1]).max() <= EDGE_NS
    # best resolution per point from each satellite's own sensor (radar: its own model)
    res = np.array([w.extra["resolution_m"] for w in plan.to_windows(table)], dtype=float)
    best = np.full(len(points), np.nan)
    np.fmin.at(best, table.site_index, res)
    assert np.allclose(r.best_gsd_m, best, rtol=2e-3, equal_nan=True)
    doc = r.to_dict(points=False)
    assert doc["imaging"] is True
    assert sorted(k["norad_id"] for k in doc["skipped"]) == [25544, 61735]


def test_imaging_changes_nothing_unless_asked(case: Any) -> None:
    fleet, points, end, _ = case
    c = Constraints(max_off_nadir_deg=30.0)
    plain = coverage(fleet, points, T0, T0 + timedelta(hours=12), c)
    again = coverage(fleet, points, T0, T0 + timedelta(hours=12), c, imaging=False)
    assert plain == again and not plain.imaging and not plain.skipped
    assert "imaging" not in plain.to_dict(points=False)
    assert "skipped" not in plain.to_dict(points=False)
    with pytest.raises(CoverageError, match="include_unknown: only with imaging"):
        coverage(fleet, points, T0, end, c, include_unknown=True)


def _sun_deg(lat: float, lon: float, when: list[datetime]) -> np.ndarray:
    """Skyfield: topocentric Sun elevation (DE421)."""
    from skyfield.api import wgs84

    ts, eph = ts_eph()
    topos = eph["earth"] + wgs84.latlon(lat, lon)
    alt, _, _ = topos.at(ts.from_datetimes(when)).observe(eph["sun"]).apparent().altaz()
    return np.atleast_1d(alt.degrees)


def test_radar_adds_night_coverage() -> None:
    opt, sar = _elsets(40115, 31598)  # WORLDVIEW-3, COSMO-SKYMED 1
    points = grid(box_region(-34.5, 18.0, -33.5, 19.0), 25.0).sites()
    end = T0 + timedelta(days=3)
    cmp = compare_coverage([opt], [sar], points, T0, end, imaging=True, method="points")
    assert (cmp.combined.accesses >= cmp.baseline.accesses).all()
    assert cmp.combined.accesses.sum() > cmp.baseline.accesses.sum()

    def sun_at_middles(res: Any) -> np.ndarray:
        out = []
        for i in range(len(res)):
            mids = [a + (b - a) / 2 for a, b in res.intervals(i)]
            if mids:
                out.append(_sun_deg(float(res.lat_deg[i]), float(res.lon_deg[i]), mids))
        return np.concatenate(out)

    assert (sun_at_middles(cmp.baseline) >= 10.0 - 0.05).all()  # optical: daylight only
    assert (sun_at_middles(cmp.combined) < -6.0).any()  # the SAR images at night


def test_stale_satellites_refused() -> None:
    (l8,) = _elsets(39084)
    points = grid(box_region(38.0, 125.0, 39.0, 126.0), 25.0).sites()
    late = l8.epoch + timedelta(days=20)
    with pytest.raises(StaleElementsError, match=r"older than 14 days.*\(start=.*max_age_days 21$"):
        coverage([l8], points, late, late + timedelta(days=1), imaging=True)
    # without imaging too, as in passes (tests/test_coverage_stale.py)
    with pytest.raises(StaleElementsError, match=r"20\.\d days before the start"):
        coverage([l8], points, late, late + timedelta(hours=3), Constraints(max_off_nadir_deg=30.0))


def test_max_gsd_reports_satellites_without_a_sensor() -> None:
    fleet = _elsets(40697, 25544)
    points = grid(box_region(38.0, 125.0, 39.0, 126.0), 25.0).sites()
    end = T0 + timedelta(days=1)
    from overflight.sensors import load_sensors

    plain = coverage(fleet, points, T0, end, Constraints(max_off_nadir_deg=30.0),
                     max_gsd_m=20.0, sensors=load_sensors())
    assert [k.norad_id for k in plain.skipped] == [25544]
    assert plain.skipped_note is not None and "count for nothing" in plain.skipped_note
    img = coverage(fleet, points, T0, end, imaging=True, include_unknown=True, max_gsd_m=20.0)
    assert [s.norad_id for s in img.satellites] == [40697]
    assert [(k.norad_id, k.reason) for k in img.skipped] == [
        (25544, "filtered out: no sensor entry")]


def test_cli_imaging_note_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["coverage", "--region", "38,125,39,126", "--grid-km", "25", "--imaging",
            "--include-unknown", "--max-gsd", "20", "--sat", "40697", "--sat", "25544",
            "--sat", "61735", "--start", "2026-05-31T00:00Z", "--days", "1", "-f", "json"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["imaging"] is True and doc["norad_ids"] == [40697]
    assert sorted(k["norad_id"] for k in doc["skipped"]) == [25544, 61735]
    assert "left out" in err and "25544" in err and "no sensor entry" in err
    code, _, err = run([*args[:5], "--kind", "sar", *args[7:]], capsys)
    assert code == 2 and "need --imaging" in err


def test_library_api_imaging() -> None:
    import overflight as ovf

    fleet = _elsets(39084, 40697, 61735)
    end = T0 + timedelta(days=1)
    cov = ovf.coverage(fleet, "38,125,39,126", start=T0, end=end, grid_km=25.0, imaging=True)
    assert [k.norad_id for k in cov.skipped] == [61735]
    # the 30° default is not applied in imaging mode: the sensors' own reach decides
    points = grid(box_region(38.0, 125.0, 39.0, 126.0), 25.0).sites()
    assert cov.result == coverage(fleet, points, T0, end, Constraints(), imaging=True)
    assert cov.to_dict()["imaging"] is True
    with pytest.raises(CoverageError, match="kinds: only with imaging"):
        ovf.coverage(fleet, "38,125,39,126", start=T0, days=1, kinds=["sar"])


def test_shards_and_dask_keep_each_satellites_rule(case: Any) -> None:
    """Rules travel with their satellites through any shard plan and to Dask workers."""
    from overflight.coverage import ShardPlan

    fleet, points, _, _ = case
    end = T0 + timedelta(days=1)
    one = coverage(fleet, points, T0, end, imaging=True, method="field")
    small = ShardPlan(sat_batch=1, tile_points=40)
    cut = coverage(fleet, points, T0, end, imaging=True, method="field", plan=small)
    assert cut.accesses.tolist() == one.accesses.tolist()
    assert np.abs(cut.interval_start.view(np.int64)
                  - one.interval_start.view(np.int64)).max() <= EDGE_NS
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = coverage(fleet, points, T0, end, imaging=True, method="field", plan=small,
                          client=client)
    assert remote == cut


def test_engine_chunks_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine searches spans in chunks of a bounded number of evaluated points (a GEO
    imager's whole-day spans held 5.6 GB over the Korean 10-km grid): tiny chunks and one chunk
    give identical imaging coverage, every per-point array and interval to the nanosecond."""
    import overflight.access.engine as engine

    # GAOFEN-4 (staring imager in GEO, Sun ≥ 10°: the engine over every point), Landsat 8,
    # Sentinel-1A (radar: cut over the top of its band, one look side)
    fleet = _elsets(41194, 39084, 39634)
    points = grid(box_region(38.0, 125.0, 39.0, 126.5), 25.0).sites()
    end = T0 + timedelta(days=1)
    calls: list[int] = []
    search = engine.search_spans

    def counted(ev: Any, spans: Any) -> Any:
        calls.append(int(spans.sat_index.size))
        return search(ev, spans)

    monkeypatch.setattr(engine, "search_spans", counted)
    runs = {}
    for budget in (10**12, 300):
        monkeypatch.setattr(engine, "SEARCH_CHUNK_POINTS", budget)
        calls.clear()
        runs[budget] = coverage(fleet, points, T0, end, imaging=True, method="points")
        runs[budget, "calls"] = len(calls)
    one, cut = runs[10**12], runs[300]
    assert runs[300, "calls"] > 2 * runs[10**12, "calls"]  # the small budget did cut
    assert one == cut
    assert [s.norad_id for s in one.satellites] == [41194, 39084, 39634]
    assert (one.covered_s > 0).all()  # GAOFEN-4's daylight windows everywhere
