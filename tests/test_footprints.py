"""Footprints (field of regard) checked with Skyfield: the strip's side vertices are seen at the
reach off-nadir angle, its track is Skyfield's sub-satellite point, and the target of the window
lies inside it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from skyfield.api import wgs84
from skyfield.framelib import itrs

from _access_reference import read_tle_file, satellite, times
from overflight.access import Constraints, find_windows
from overflight.catalog.formats import read_path
from overflight.footprints import FootprintError, footprint, reach_off_nadir_deg, window_footprints
from overflight.sites import resolve_site

T0 = datetime(2026, 5, 31, tzinfo=UTC)


def ring_ok(ring: np.ndarray) -> None:
    """Closed, counter-clockwise, no two non-adjacent edges crossing (independent check)."""
    assert np.array_equal(ring[0], ring[-1])
    x, y = ring[:, 0], ring[:, 1]
    assert float(np.dot(x[:-1], y[1:]) - np.dot(y[:-1], x[1:])) > 0
    p, q = ring[:-1], ring[1:]
    n = len(p)

    def orient(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        return (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (
            (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0]))

    a, b = p[:, None], q[:, None]
    c, d = p[None, :], q[None, :]
    crosses = ((orient(a, b, c) * orient(a, b, d) < 0) & (orient(c, d, a) * orient(c, d, b) < 0))
    i, j = np.indices((n, n))
    near = (abs(i - j) <= 1) | (abs(i - j) == n - 1)
    assert not (crosses & ~near).any()


def inside(ring: np.ndarray, x: float, y: float) -> bool:
    hit = False
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


@pytest.fixture(scope="module")
def worldview(shared_data: Path) -> tuple[object, object]:
    path = shared_data / "celestrak-2026-05-30" / "resource.tle"
    rec = next(r for r in read_path(path).records if r.name == "WORLDVIEW-3 (WV-3)")
    line = next(t for t in read_tle_file(path) if t[0] == "WORLDVIEW-3 (WV-3)")
    return rec, satellite(*line)


def test_strip_edges_are_at_the_reach_angle(worldview: tuple[object, object]) -> None:
    rec, sky = worldview
    fp = footprint(rec, T0, T0 + timedelta(seconds=120), 25.0, step_s=10.0)  # type: ignore[arg-type]
    ring = np.column_stack((fp.lon_deg, fp.lat_deg))
    ring_ok(ring)
    # The ring is the envelope of the reach: every vertex, over the window, comes within
    # exactly 25° of nadir and no nearer (Skyfield positions every second).
    t_s = np.arange(0.0, 121.0, 1.0)
    geo = sky.at(times(T0, t_s))  # type: ignore[attr-defined]
    s = geo.frame_xyz(itrs).km.T  # (T, 3)
    nadir = wgs84.subpoint_of(geo).itrs_xyz.km.T - s
    g = wgs84.latlon(ring[:-1, 1], ring[:-1, 0]).itrs_xyz.km.T  # (V, 3)
    los = g[:, None, :] - s[None]
    cos = np.einsum("tk,vtk->vt", nadir, los) / (
        np.linalg.norm(nadir, axis=1)[None] * np.linalg.norm(los, axis=2))
    closest = np.degrees(np.arccos(np.clip(cos, -1, 1))).min(axis=1)
    assert np.allclose(closest, 25.0, atol=0.01), closest
    geo = sky.at(times(T0, np.arange(0.0, 121.0, 10.0)))  # type: ignore[attr-defined]
    # the track is Skyfield's sub-satellite point (WGS-84), to about 10 m
    sub = wgs84.subpoint_of(geo)
    assert np.allclose(fp.track_lat_deg, sub.latitude.degrees, atol=1e-4)
    assert np.allclose(fp.track_lon_deg, sub.longitude.degrees, atol=1e-4)
    assert fp.max_off_nadir_deg == pytest.approx(25.0)


def test_window_target_lies_inside_its_footprint(worldview: tuple[object, object]) -> None:
    rec, _ = worldview
    site = resolve_site("Sohae")
    c = Constraints(max_off_nadir_deg=30.0)
    wins = find_windows([rec], [site], T0, T0 + timedelta(days=3), c)  # type: ignore[list-item]
    assert wins
    fps = window_footprints(wins, [rec], c)  # type: ignore[list-item]
    for fp in fps:
        ring = np.column_stack((fp.lon_deg, fp.lat_deg))
        ring_ok(ring)
        assert inside(ring, site.lon_deg, site.lat_deg)
        assert fp.max_off_nadir_deg == pytest.approx(30.0)


def test_reach_and_errors(worldview: tuple[object, object]) -> None:
    rec, _ = worldview

    class S:
        max_off_nadir_deg = 20.0

    assert reach_off_nadir_deg(Constraints(max_off_nadir_deg=30.0), S()) == 20.0
    assert reach_off_nadir_deg(None) == 90.0
    # no off-nadir limit: the elevation limit bounds the strip (a 10° horizon)
    fp = footprint(rec, T0, T0 + timedelta(seconds=60), 90.0, min_elevation_deg=10.0)  # type: ignore[arg-type]
    assert 55.0 < fp.max_off_nadir_deg < 65.0
    with pytest.raises(FootprintError, match="before start"):
        footprint(rec, T0, T0 - timedelta(seconds=1), 20.0)  # type: ignore[arg-type]
