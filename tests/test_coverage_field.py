"""Grid-aware (field) coverage against the per-point window engine, the reference.

Random regions (boxes anywhere, poles and the antimeridian included), random fleets (real
imaging satellites, a geostationary one the field method hands to the engine, hypothetical
sun-synchronous and Walker satellites) and random constraints (elevation, off-nadir, range,
Sun elevation, sunlit/shadow, minimum duration): the windows per point and the merged accesses
must be the same in number, their edges within 10 ms, the statistics within what 10 ms per edge
allows, the GSD at closest approach within 0.1 %.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from _support import random_constraints
from overflight.access import Constraints
from overflight.catalog.formats import read_path
from overflight.coverage import (
    FIELD_PLAN,
    CoverageError,
    CoverageResult,
    ShardPlan,
    compare_coverage,
    coverage,
    resolve_method,
)
from overflight.coverage_field import field_windows
from overflight.geometry import Site
from overflight.hypothetical import sso, walker
from overflight.regions import box_region, grid
from overflight.sensors import shipped_sensors

T0 = datetime(2026, 5, 31, tzinfo=UTC)
EDGE_MS = 10.0


@pytest.fixture(scope="module")
def catalog(shared_data: Path) -> list:
    return list(read_path(shared_data / "celestrak-2026-05-30" / "resource.tle").records)


def _box(rng: random.Random) -> list[Site]:
    lat = rng.uniform(-80.0, 80.0)
    lon = rng.uniform(-180.0, 180.0)
    h = rng.uniform(2.0, 5.0)
    w = h / max(np.cos(np.radians(lat)), 0.2)
    west = (lon + 180.0) % 360.0 - 180.0
    east = (lon + w + 180.0) % 360.0 - 180.0  # may cross the antimeridian (west > east)
    region = box_region(lat, west, min(lat + h, 89.0), east)
    return grid(region, rng.choice([15.0, 20.0, 30.0])).sites()


def _fleet(rng: random.Random, catalog: list) -> list:
    leo = [e for e in catalog if e.apogee_alt_km < 2000.0]
    geo = [e for e in catalog if e.apogee_alt_km >= 30000.0]
    fleet = rng.sample(leo, 8) + (geo[:1] if rng.random() < 0.5 else [])
    hyp = sso(rng.uniform(350.0, 900.0), rng.uniform(6.0, 18.0), T0, count=2)
    hyp += walker(rng.uniform(500.0, 1200.0), rng.uniform(40.0, 98.0), 4, 2, 1, T0,
                  first_id=900_100)
    return fleet + hyp


def assert_same(field: CoverageResult, ref: CoverageResult) -> None:
    """Equal counts, edges within 10 ms, statistics within what that allows."""
    assert field.windows.tolist() == ref.windows.tolist()
    assert field.accesses.tolist() == ref.accesses.tolist()
    assert field.interval_offsets.tolist() == ref.interval_offsets.tolist()
    for a, b in ((field.interval_start, ref.interval_start),
                 (field.interval_end, ref.interval_end)):
        diff = np.abs((a - b) / np.timedelta64(1, "ms")) if a.size else np.zeros(1)
        assert diff.max() <= EDGE_MS
    tol = 2 * EDGE_MS / 1e3
    assert np.allclose(field.covered_s, ref.covered_s, atol=tol * (ref.accesses + 1), rtol=0)
    for k in ("first_access_s", "max_gap_s", "revisit_max_s", "revisit_mean_s"):
        assert np.allclose(getattr(field, k), getattr(ref, k), atol=tol, rtol=0, equal_nan=True)
    assert np.allclose(field.best_gsd_m, ref.best_gsd_m, rtol=1e-3, atol=0, equal_nan=True)


@pytest.mark.parametrize("seed", range(8))
def test_field_equals_engine_on_random_regions_fleets_constraints(seed: int,
                                                                  catalog: list) -> None:
    rng = random.Random(seed)
    points = _box(rng)
    fleet = _fleet(rng, catalog)
    c = random_constraints(rng, seed)
    start = T0 + timedelta(hours=rng.uniform(0.0, 48.0))
    end = start + timedelta(hours=rng.choice([12.0, 24.0]))
    sensors = shipped_sensors()
    ref = coverage(fleet, points, start, end, c, sensors=sensors, method="points")
    got = coverage(fleet, points, start, end, c, sensors=sensors, method="field")
    assert_same(got, ref)


def test_field_on_a_dense_grid_with_lighting_and_gsd(catalog: list) -> None:
    """A 15-km grid of a 4° box with daylight and a GSD limit: thousands of windows."""
    sensors = shipped_sensors()
    leo = [e for e in catalog if e.apogee_alt_km < 2000.0]
    imagers = [e for e in leo if e.norad_id in sensors][:16]
    others = [e for e in leo if e not in imagers][:8]  # one element set per satellite
    fleet = imagers + others + sso(500.0, 10.5, T0)
    points = grid(box_region(38.0, 125.0, 42.0, 130.0), 15.0).sites()
    c = Constraints(max_off_nadir_deg=30.0, sun_min_deg=10.0)
    end = T0 + timedelta(days=1)
    kw = {"sensors": sensors, "max_gsd_m": 3.0}
    ref = coverage(fleet, points, T0, end, c, method="points", **kw)
    got = coverage(fleet, points, T0, end, c, method="field", **kw)
    assert ref.windows.sum() > 1000
    assert_same(got, ref)


def test_field_method_leaves_to_the_engine_what_it_cannot_settle(catalog: list) -> None:
    leo = [e for e in catalog if e.apogee_alt_km < 2000.0][:12]
    geo = [e for e in catalog if e.apogee_alt_km >= 30000.0][:1]
    points = grid(box_region(37.0, 126.0, 40.0, 129.0), 20.0).sites()
    c = Constraints(max_off_nadir_deg=30.0)
    fw = field_windows(leo + geo, points, T0, T0 + timedelta(days=1), c)
    assert fw.engine_sats.size == 0
    # The geostationary imager sees every point all day: one window each, from the field.
    assert (fw.sat == len(leo)).sum() == len(points)
    # What it cannot settle the engine searches, only inside those pairs' pass segments.
    assert fw.sat.size > 100 and 0 < fw.span_sat.size < fw.sat.size / 5
    assert 0 < fw.by_engine.sum() <= fw.span_sat.size * 2
    assert (fw.span_end_s - fw.span_start_s).max() <= 1800.0 + 1e-6
    # With a lighting limit it goes to the engine for every point.
    lit = field_windows(leo + geo, points, T0, T0 + timedelta(days=1),
                        Constraints(max_off_nadir_deg=30.0, sun_min_deg=0.0))
    assert lit.engine_sats.tolist() == [len(leo)]
    # Engine windows lie inside a span of their pair; field windows outside every one.
    t0 = np.datetime64(T0.replace(tzinfo=None), "ns").astype(np.int64)
    a = (fw.start_ns - t0) / 1e9
    b = (fw.end_ns - t0) / 1e9
    for i in range(fw.sat.size):
        mine = (fw.span_sat == fw.sat[i]) & (fw.span_site == fw.site[i])
        within = mine & (fw.span_start_s <= a[i]) & (b[i] <= fw.span_end_s)
        overlap = mine & (fw.span_start_s < b[i]) & (a[i] < fw.span_end_s)
        assert within.any() if fw.by_engine[i] else not overlap.any()


def test_comparison_and_dask_with_the_field_method(catalog: list) -> None:
    distributed = pytest.importorskip("distributed")
    fleet = [e for e in catalog if e.apogee_alt_km < 2000.0][:10]
    added = sso(500.0, 10.5, T0, count=2)
    points = grid(box_region(38.0, 125.0, 41.0, 129.0), 25.0).sites()
    c = Constraints(max_off_nadir_deg=40.0, sunlit=True)
    end = T0 + timedelta(hours=18)
    plan = ShardPlan(sat_batch=4, tile_points=64)
    local = compare_coverage(fleet, added, points, T0, end, c, plan=plan, method="field")
    ref = compare_coverage(fleet, added, points, T0, end, c, method="points")
    assert_same(local.baseline, ref.baseline)
    assert_same(local.combined, ref.combined)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = compare_coverage(fleet, added, points, T0, end, c, plan=plan, client=client,
                                  method="field")
    assert remote == local


def test_method_choice(catalog: list) -> None:
    points = grid(box_region(38.0, 125.0, 41.0, 129.0), 25.0).sites()
    few = points[:5]
    assert resolve_method("auto", points) == "field"
    assert resolve_method("auto", few) == "points"
    spread = [Site("a", 0.0, 0.0), Site("b", 60.0, 90.0)] * 40  # not one region
    assert resolve_method("auto", spread) == "points"
    assert resolve_method("field", few) == "field"
    assert FIELD_PLAN.tile_points > ShardPlan().tile_points
    with pytest.raises(CoverageError, match="method"):
        coverage(catalog[:1], few, T0, T0 + timedelta(hours=1), method="grid")  # type: ignore[arg-type]


def _sweep(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of closed intervals, plain Python: overlapping or touching ones join."""
    out: list[list[int]] = []
    for a, b in sorted(windows):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def test_merge_by_running_end_matches_a_plain_sweep() -> None:
    from overflight.coverage import _merge_point_stats

    rng = np.random.default_rng(7)
    for _ in range(200):
        n, n_pts, t1 = int(rng.integers(0, 120)), int(rng.integers(1, 6)), 10**6
        site = rng.integers(0, n_pts, n)
        a = rng.integers(0, t1, n)
        b = np.minimum(a + rng.integers(0, 4000, n) * rng.integers(0, 3, n), t1)
        st = _merge_point_stats(site, a, b, np.full(n, np.nan), n_pts, 0, t1)
        offs = np.concatenate(([0], np.cumsum(st["accesses"])))
        for p in range(n_pts):
            want = _sweep([(int(x), int(y)) for x, y, s in zip(a, b, site, strict=True)
                           if s == p])
            lo, hi = offs[p], offs[p + 1]
            got = list(zip(st["interval_start"][lo:hi].tolist(),
                           st["interval_end"][lo:hi].tolist(), strict=True))
            assert got == want
