"""Coverage statistics against an independent brute force, and Dask against one process.

The reference samples every second with Skyfield (element sets read as plain text lines,
``EarthSatellite``, ITRS positions, ``wgs84`` sub-points for the geodetic nadir, the apparent
Sun every minute), finds each satellite's windows per point, merges them with a plain Python
sweep and computes the statistics in plain Python. Nothing from overflight's window engine or
coverage module is used for the expected values.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from overflight.access import Constraints
from overflight.catalog.formats import read_path
from overflight.coverage import (
    CoverageError,
    ShardPlan,
    _merge_point_stats,
    compare_coverage,
    coverage,
)
from overflight.geometry import Site
from overflight.hypothetical import sso
from overflight.sensors import shipped_sensors

T0 = datetime(2026, 5, 31, tzinfo=UTC)
DAY_S = 86400
# WORLDVIEW-3 and KOMPSAT-3A (sensor entries), TERRA (none): sun-synchronous at 617, 528, 705 km;
# GPM-CORE (none): 65° inclination, 400 km, so daylight passes come at other times of day;
# TERRASAR-X and TANDEM-X fly in close formation, so their windows overlap and must merge.
FLEET = (40115, 40536, 25994, 39574, 31698, 36605)
POINTS = (
    Site("Pyongyang", 39.03, 125.75),
    Site("Seoul", 37.57, 126.98),
    Site("Rason", 42.26, 130.30),
    Site("Sohae", 39.66, 124.70),
    Site("Busan", 35.10, 129.04),
)
CASES = {
    "elevation": Constraints(min_elevation_deg=20.0),
    "off-nadir+sun": Constraints(max_off_nadir_deg=45.0, sun_min_deg=5.0),
}


def _tle_lines(path: Path, ids: tuple[int, ...]) -> list[tuple[str, str]]:
    lines = [ln.rstrip() for ln in path.read_text(encoding="ascii").splitlines()]
    out = {}
    for a, b in itertools.pairwise(lines):
        if a.startswith("1 ") and b.startswith("2 ") and int(a[2:7]) in ids:
            out[int(a[2:7])] = (a, b)
    return [out[i] for i in ids]


def _up(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


@dataclass
class Truth:
    windows: list[int]
    intervals: list[list[tuple[float, float]]]  # merged, seconds from T0


@pytest.fixture(scope="module")
def sampled(shared_data: Path) -> dict[str, np.ndarray]:
    """Skyfield states every second for a day: satellites' ITRS positions, nadir normals, Sun."""
    from skyfield.api import EarthSatellite, wgs84
    from skyfield.framelib import itrs
    from skyfield.nutationlib import iau2000b_radians

    from overflight.times import ephemeris, timescale

    ts = timescale()
    t = ts.utc(2026, 5, 31, 0, 0, np.arange(DAY_S + 1, dtype=float))
    # IAU 2000B nutation (1 mas from 2000A, Skyfield's documented shortcut): 0.1 s, not 12 s.
    t._nutation_angles_radians = iau2000b_radians(t)
    pos, nadir = [], []
    for l1, l2 in _tle_lines(shared_data / "celestrak-2026-05-30" / "resource.tle", FLEET):
        geo = EarthSatellite(l1, l2, ts=ts).at(t)
        pos.append(geo.frame_xyz(itrs).km.T)
        sub = wgs84.subpoint_of(geo)
        nadir.append(-_up(sub.latitude.degrees, sub.longitude.degrees))
    eph = ephemeris()
    t_min = ts.utc(2026, 5, 31, 0, np.arange(0, DAY_S // 60 + 1, dtype=float))
    sun_min = eph["earth"].at(t_min).observe(eph["sun"]).apparent().frame_xyz(itrs).km.T
    secs = np.arange(DAY_S + 1, dtype=float)
    sun = np.stack([np.interp(secs, np.arange(t_min.shape[0]) * 60.0, sun_min[:, k])
                    for k in range(3)], -1)
    sites = np.array([wgs84.latlon(p.lat_deg, p.lon_deg).itrs_xyz.km for p in POINTS])
    return {"pos": np.array(pos), "nadir": np.array(nadir), "sun": sun, "sites": sites}


def _runs(g: np.ndarray) -> list[tuple[float, float]]:
    """Intervals where g >= 0, edges by linear interpolation between 1 s samples."""
    inside = g >= 0
    out = []
    edges = np.flatnonzero(np.diff(inside.astype(int)))
    starts = [0.0] if inside[0] else []
    ends = []
    for k in edges.tolist():
        tc = k + g[k] / (g[k] - g[k + 1])
        (starts if not inside[k] else ends).append(tc)
    if inside[-1]:
        ends.append(float(g.size - 1))
    out = list(zip(starts, ends, strict=True))
    return out


def _truth(s: dict[str, np.ndarray], c: Constraints) -> Truth:
    windows = [0] * len(POINTS)
    intervals = []
    for j, p in enumerate(POINTS):
        up = _up(np.array(p.lat_deg), np.array(p.lon_deg))
        site = s["sites"][j]
        sun_d = s["sun"] - site
        sun_el = np.degrees(np.arcsin(sun_d @ up / np.linalg.norm(sun_d, axis=1)))
        spans: list[tuple[float, float]] = []
        for i in range(len(FLEET)):
            los = s["pos"][i] - site
            rng = np.linalg.norm(los, axis=1)
            # Above the horizon at least, also when only off-nadir is limited.
            min_el = c.min_elevation_deg if c.min_elevation_deg is not None else 0.0
            g = np.degrees(np.arcsin(los @ up / rng)) - min_el
            if c.max_off_nadir_deg is not None:
                cos_on = np.einsum("ij,ij->i", -los, s["nadir"][i]) / rng
                g = np.minimum(g, c.max_off_nadir_deg - np.degrees(np.arccos(cos_on)))
            if c.sun_min_deg is not None:
                g = np.minimum(g, sun_el - c.sun_min_deg)
            found = _runs(g)
            windows[j] += len(found)
            spans += found
        merged: list[tuple[float, float]] = []
        for a, b in sorted(spans):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        intervals.append(merged)
    return Truth(windows, intervals)


@pytest.fixture(scope="module")
def fleet(shared_data: Path) -> list:
    recs = {e.norad_id: e for e in read_path(
        shared_data / "celestrak-2026-05-30" / "resource.tle").records}
    return [recs[i] for i in FLEET]


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_brute_force(case: str, fleet: list, sampled: dict[str, np.ndarray]) -> None:
    c = CASES[case]
    truth = _truth(sampled, c)
    r = coverage(fleet, POINTS, T0, T0 + timedelta(days=1), c, plan=ShardPlan(2, 3))
    assert r.windows.tolist() == truth.windows
    assert sum(truth.windows) > 2 * len(POINTS)
    assert sum(len(m) >= 2 for m in truth.intervals) >= 3  # gaps to compare
    assert sum(map(len, truth.intervals)) < sum(truth.windows)  # some windows merged
    for i, merged in enumerate(truth.intervals):
        got = [((a - T0).total_seconds(), (b - T0).total_seconds()) for a, b in r.intervals(i)]
        assert len(got) == len(merged) == r.accesses[i]
        assert np.allclose(np.array(got), np.array(merged), atol=0.5, rtol=0)
        # Statistics from the reference intervals, plain Python.
        gaps = [b[0] - a[1] for a, b in itertools.pairwise(merged)]
        edges = [merged[0][0], DAY_S - merged[-1][1]] if merged else [DAY_S]
        assert r.max_gap_s[i] == pytest.approx(max(gaps + edges), abs=1.0)
        assert r.first_access_s[i] == pytest.approx(merged[0][0], abs=1.0)
        if len(merged) >= 2:
            assert r.revisit_max_s[i] == pytest.approx(max(gaps), abs=1.0)
            assert r.revisit_mean_s[i] == pytest.approx(sum(gaps) / len(gaps), abs=1.0)
        else:
            assert math.isnan(r.revisit_max_s[i]) and math.isnan(r.revisit_mean_s[i])
        covered = sum(b - a for a, b in merged)
        assert r.covered_s[i] == pytest.approx(covered, abs=len(merged) * 1.0)
        assert r.coverage_fraction[i] == pytest.approx(covered / DAY_S, abs=1e-4)


def test_dask_cluster_gives_identical_results(fleet: list) -> None:
    distributed = pytest.importorskip("distributed")
    c = Constraints(max_off_nadir_deg=45.0, sun_min_deg=0.0)
    end = T0 + timedelta(days=1)
    plan = ShardPlan(sat_batch=2, tile_points=2)
    added = sso(500.0, 10.5, T0, count=2)
    sensors = shipped_sensors()
    local = coverage(fleet, POINTS, T0, end, c, sensors=sensors, plan=plan)
    local_cmp = compare_coverage(fleet, added, POINTS, T0, end, c, plan=plan)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = coverage(fleet, POINTS, T0, end, c, sensors=sensors, plan=plan, client=client)
        remote_cmp = compare_coverage(fleet, added, POINTS, T0, end, c, plan=plan,
                                      client=client)
        assert len(client.scheduler_info()["workers"]) == 2
    assert remote == local
    assert remote_cmp == local_cmp
    assert local.windows.sum() > 0 and np.isfinite(local.best_gsd_m).any()


def test_shard_plan_does_not_change_results_beyond_a_millisecond(fleet: list) -> None:
    c = Constraints(max_off_nadir_deg=30.0)
    end = T0 + timedelta(hours=12)
    one = coverage(fleet, POINTS, T0, end, c, plan=ShardPlan(100, 100))
    many = coverage(fleet, POINTS, T0, end, c, plan=ShardPlan(1, 1))
    assert many.windows.tolist() == one.windows.tolist()
    assert many.accesses.tolist() == one.accesses.tolist()
    diff = np.abs((many.interval_start - one.interval_start) / np.timedelta64(1, "ms"))
    assert diff.max() <= 1.0
    assert np.allclose(many.max_gap_s, one.max_gap_s, atol=1e-3, rtol=0)


def test_merge_rules_on_hand_made_windows() -> None:
    s = 10**9
    # Point 0: windows [10,20] and [15,30] overlap, [30,40] touches, [50,60] apart; nested
    # [52,55]. Point 1: nothing. Point 2: one window from the start.
    site = np.array([0, 0, 0, 0, 0, 2])
    start = np.array([10, 15, 30, 50, 52, 0]) * s
    end = np.array([20, 30, 40, 60, 55, 5]) * s
    gsd = np.array([1.0, np.nan, 0.5, 2.0, np.nan, np.nan])
    st = _merge_point_stats(site, start, end, gsd, 3, 0, 100 * s)
    assert st["windows"].tolist() == [5, 0, 1]
    assert st["accesses"].tolist() == [2, 0, 1]
    assert (st["interval_start"] // s).tolist() == [10, 50, 0]
    assert (st["interval_end"] // s).tolist() == [40, 60, 5]
    assert st["covered_s"].tolist() == [40.0, 0.0, 5.0]
    assert st["first_access_s"][0] == 10.0 and math.isnan(st["first_access_s"][1])
    assert st["first_access_s"][2] == 0.0
    # Gaps of point 0: lead 10, interior 10, trail 40 → max incl. edges 40, revisit 10.
    assert st["max_gap_s"].tolist() == [40.0, 100.0, 95.0]
    assert st["revisit_max_s"][0] == 10.0 and st["revisit_mean_s"][0] == 10.0
    assert math.isnan(st["revisit_max_s"][2]) and math.isnan(st["revisit_mean_s"][1])
    assert st["best_gsd_m"][0] == 0.5 and math.isnan(st["best_gsd_m"][2])


def test_compare_adds_hypothetical_satellites_and_labels_them(fleet: list) -> None:
    c = Constraints(max_off_nadir_deg=30.0)
    end = T0 + timedelta(days=1)
    added = sso(520.0, 13.5, T0, count=3, first_id=900_010)
    cmp = compare_coverage(fleet, added, POINTS, T0, end, c)
    alone = coverage(fleet, POINTS, T0, end, c)
    assert cmp.baseline.windows.tolist() == alone.windows.tolist()
    assert np.allclose(cmp.baseline.max_gap_s, alone.max_gap_s, atol=1e-3)
    assert (cmp.combined.windows >= cmp.baseline.windows).all()
    assert (cmp.combined.max_gap_s <= cmp.baseline.max_gap_s + 1e-9).all()
    assert (cmp.combined.covered_s >= cmp.baseline.covered_s - 1e-9).all()
    assert cmp.combined.windows.sum() > cmp.baseline.windows.sum()
    assert [s.norad_id for s in cmp.combined.hypothetical] == [900_010, 900_011, 900_012]
    assert not cmp.baseline.hypothetical
    doc = cmp.to_dict()
    assert all(h["name"].startswith("HYPOTHETICAL-") for h in doc["with_added"]["hypothetical"])
    assert doc["baseline"]["hypothetical"] == []
    assert doc["difference"]["hypothetical_satellites"] == 3


def test_max_gsd_keeps_only_fine_enough_windows(fleet: list) -> None:
    c = Constraints(max_off_nadir_deg=45.0)
    end = T0 + timedelta(days=1)
    sensors = shipped_sensors()
    everything = coverage(fleet, POINTS, T0, end, c, sensors=sensors)
    known = [e for e in fleet if e.norad_id in sensors]
    assert 0 < len(known) < len(fleet)
    with_sensor = coverage(known, POINTS, T0, end, c, sensors=sensors)
    loose = coverage(fleet, POINTS, T0, end, c, sensors=sensors, max_gsd_m=1e6)
    assert loose.windows.tolist() == with_sensor.windows.tolist()
    assert everything.windows.sum() > loose.windows.sum()
    best = float(np.nanmin(everything.best_gsd_m))
    strict = coverage(fleet, POINTS, T0, end, c, sensors=sensors, max_gsd_m=best * 1.01)
    assert 0 < strict.windows.sum() < loose.windows.sum()
    assert np.nanmax(strict.best_gsd_m) <= best * 1.01


def test_outputs_are_json_ready_and_geojson(fleet: list) -> None:
    import json

    r = coverage(fleet, POINTS, T0, T0 + timedelta(hours=6), Constraints(max_off_nadir_deg=30))
    doc = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert doc["summary"]["points"] == 5 and len(doc["points"]) == 5
    assert doc["start"] == "2026-05-31T00:00:00Z" and doc["hypothetical"] == []
    gj = json.loads(json.dumps(r.to_geojson(), allow_nan=False))
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 5
    assert gj["features"][1]["geometry"]["coordinates"] == [126.98, 37.57]


def test_bad_requests(fleet: list) -> None:
    end = T0 + timedelta(hours=1)
    with pytest.raises(CoverageError, match="no grid points"):
        coverage(fleet, [], T0, end)
    with pytest.raises(CoverageError, match="twice"):
        coverage(fleet + fleet[:1], POINTS, T0, end)
    for bad in (0, float("inf"), float("nan")):
        with pytest.raises(CoverageError, match="max_gsd_m: must be a finite positive number"):
            coverage(fleet, POINTS, T0, end, max_gsd_m=bad)
    with pytest.raises(CoverageError, match="added"):
        compare_coverage(fleet, [], POINTS, T0, end)
    with pytest.raises(CoverageError, match="shard"):
        ShardPlan(0, 1)
