"""Area targets: shipped areas, GeoJSON input, sampling, and area windows against Skyfield.

The reference is independent of overflight's window engine: Skyfield propagates the element
sets (read as text) and the off-nadir angle of every point of a dense sample of the area is
evaluated every 0.1 s; the union (any) / intersection (all) of the points' in-reach times is
compared with overflight's area windows, and the largest share of a uniform grid in reach with
``area_fraction``.
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from skyfield.api import wgs84
from skyfield.framelib import itrs

from _access_reference import read_tle_file, satellite, times
from overflight.access import Constraints
from overflight.areas import (
    Area,
    AreaError,
    AreaWindow,
    area_from_geojson,
    area_windows,
    named_areas,
    read_area_file,
    resolve_area,
    sample_area,
)
from overflight.catalog.formats import read_path

SNAPSHOT = "celestrak-2026-05-30"
T0 = datetime(2026, 5, 31, tzinfo=UTC)


# ---- independent helpers ---------------------------------------------------------------------
def inside(ring: list[list[float]], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Even-odd ray casting (written here, independent of matplotlib/regions)."""
    out = np.zeros(x.shape, dtype=bool)
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        out ^= crosses & (x < xc)
    return out


def dense_points(ring: list[list[float]], n: int, edge_step_deg: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A uniform n × n lon/lat grid inside the ring plus the ring every ``edge_step_deg``."""
    r = np.asarray(ring)
    xs = np.linspace(r[:, 0].min(), r[:, 0].max(), n)
    ys = np.linspace(r[:, 1].min(), r[:, 1].max(), n)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    keep = inside(ring, gx, gy)
    ex, ey = [], []
    for (x0, y0), (x1, y1) in itertools.pairwise(r):
        k = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / edge_step_deg))
        f = np.arange(k) / k
        ex.append(x0 + f * (x1 - x0))
        ey.append(y0 + f * (y1 - y0))
    return np.r_[gx[keep], np.concatenate(ex)], np.r_[gy[keep], np.concatenate(ey)]


class SkyPoints:
    """Off-nadir (deg) of ground points seen from a Skyfield satellite, vectorized; 180 where
    the point is below the horizon (the engine's default elevation limit is 0°)."""

    def __init__(self, lon: np.ndarray, lat: np.ndarray) -> None:
        self.xyz = wgs84.latlon(lat, lon).itrs_xyz.km.T  # (P, 3)
        la, lo = np.radians(lat), np.radians(lon)
        self.up = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)

    def off_nadir(self, sat: Any, t0: datetime, t_s: np.ndarray) -> np.ndarray:
        geo = sat.at(times(t0, t_s))
        s = geo.frame_xyz(itrs).km.T  # (T, 3)
        sub = wgs84.subpoint_of(geo).itrs_xyz.km.T
        nadir = sub - s
        los = self.xyz[:, None, :] - s[None, :, :]  # (P, T, 3)
        cross = np.cross(nadir[None], los)
        off = np.degrees(np.arctan2(np.linalg.norm(cross, axis=-1),
                                    np.einsum("tk,ptk->pt", nadir, los)))
        above = np.einsum("pk,ptk->pt", self.up, los) < 0  # satellite above the horizon
        return np.where(above, off, 180.0)


def runs(t: np.ndarray, ok: np.ndarray) -> list[tuple[float, float]]:
    out, start = [], None
    for ti, v in zip(t.tolist(), ok.tolist(), strict=True):
        if v and start is None:
            start = ti
        elif not v and start is not None:
            out.append((start, ti))
            start = None
    if start is not None:
        out.append((start, float(t[-1])))
    return out


# ---- shipped areas and input ---------------------------------------------------------------
def test_shipped_areas_have_sources_and_valid_outlines() -> None:
    areas = named_areas()
    assert len(areas) == 6
    for key in ("najin", "rajin port", "Tumangang-Khasan bridge", "vostochny 1s", "sohae",
                "gscc", "yongbyon"):
        try:
            a = resolve_area(key)
        except AreaError:
            pytest.fail(f"{key} did not resolve")
        assert a.source and a.precision.startswith("outline approximate to ±")
        assert 0.3 < a.area_km2 < 15
        for poly in a.geometry()["coordinates"]:
            ring = np.asarray(poly[0])
            x, y = ring[:, 0], ring[:, 1]
            assert np.array_equal(ring[0], ring[-1])
            assert float(np.dot(x[:-1], y[1:]) - np.dot(y[:-1], x[1:])) > 0  # CCW
    # each shipped polygon holds the shipped point it was drawn around
    from overflight.sites import resolve_site

    for area, site in (("Najin port", "Rajin port"), ("sohae", "Sohae"),
                       ("gscc", "Pyongyang General Satellite Control Center"),
                       ("Vostochny launch complex", "Vostochny"),
                       ("Tumangang-Khasan rail bridge", "Tumangang")):
        s = resolve_site(site)
        ring = resolve_area(area).geometry()["coordinates"][0][0]
        assert inside(ring, np.array([s.lon_deg]), np.array([s.lat_deg]))[0], area


def test_area_file_and_errors(tmp_path: Path) -> None:
    good = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "yard", "precision": "±50 m"},
        "geometry": {"type": "MultiPolygon", "coordinates": [
            [[[10, 50], [10.01, 50], [10.01, 50.01], [10, 50.01], [10, 50]]],
            [[[10.02, 50], [10.03, 50], [10.03, 50.01], [10.02, 50]]]]}}]}
    p = tmp_path / "yard.geojson"
    p.write_text(json.dumps(good))
    a = resolve_area(str(p))
    assert a.name == "yard" and len(a.polygons) == 2 and a.precision == "±50 m"
    assert read_area_file(p).area_km2 == pytest.approx(a.area_km2)

    def err(doc: Any) -> str:
        with pytest.raises(AreaError) as exc:
            area_from_geojson(doc, "f.geojson")
        assert "\n" not in str(exc.value)
        return str(exc.value)

    point = {"type": "FeatureCollection", "features": [
        good["features"][0],
        {"type": "Feature", "properties": {"name": "mast"},
         "geometry": {"type": "Point", "coordinates": [10, 50]}}]}
    assert err(point).startswith("f.geojson: feature 2 (mast): expected a Polygon")
    open_ring = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}
    assert "not closed" in err(open_ring)
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    assert "intersects itself" in err(bowtie)
    assert "latitude" in err({"type": "Polygon",
                              "coordinates": [[[0, 0], [1, 95], [1, 0], [0, 0]]]})
    with pytest.raises(AreaError, match=r"unknown area 'Sohaee'.*did you mean"):
        resolve_area("Sohaee")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{nope")
    with pytest.raises(AreaError, match=r"bad.geojson:1: not valid JSON"):
        resolve_area(str(bad))


def test_sample_covers_the_area() -> None:
    a = resolve_area("Yongbyon")
    s = sample_area(a)
    assert s.weight.sum() == pytest.approx(1.0)
    assert s.boundary > 20 and len(s) - s.boundary > 50
    ring = a.geometry()["coordinates"][0][0]
    assert inside(ring, s.lon_deg[s.boundary:], s.lat_deg[s.boundary:]).all()
    # no point of a fine independent grid is farther than one spacing from a sample point
    gx, gy = dense_points(ring, 60, 1e-3)
    km = 111.2
    dx = (gx[:, None] - s.lon_deg[None]) * km * math.cos(math.radians(39.8))
    dy = (gy[:, None] - s.lat_deg[None]) * km
    assert np.hypot(dx, dy).min(axis=1).max() <= s.spacing_km
    assert s.edge_error_s(7.0) == pytest.approx(s.spacing_km / 7.0)


# ---- windows against Skyfield --------------------------------------------------------------
def _sats(shared_data: Path, names: tuple[str, ...]) -> tuple[list[Any], dict[int, Any]]:
    path = shared_data / SNAPSHOT / "resource.tle"
    recs = [r for r in read_path(path).records if r.name in names]
    sky = {}
    for name, l1, l2 in read_tle_file(path):
        if name in names:
            sky[int(l1[2:7])] = satellite(name, l1, l2)
    assert len(recs) == len(names)
    return recs, sky


NAMES = ("SKYSAT-A", "CARTOSAT-2A", "VNREDSAT 1", "YAOGAN-7", "WORLDVIEW-3 (WV-3)",
         "SENTINEL-2A")


@pytest.mark.parametrize("mode", ["any", "all"])
def test_area_windows_match_skyfield_union(shared_data: Path, mode: str) -> None:
    area = resolve_area("Najin port")
    ring = area.geometry()["coordinates"][0][0]
    recs, sky = _sats(shared_data, NAMES)
    duration = timedelta(hours=36)
    c = Constraints(max_off_nadir_deg=30.0)
    got = area_windows(recs, area, T0, T0 + duration, c, mode=mode)
    assert got and all(isinstance(w, AreaWindow) and w.area == "Najin port" for w in got)
    lon, lat = dense_points(ring, 16, 0.0005)  # ~50 m along the outline
    pts = SkyPoints(lon, lat)
    centre = SkyPoints(np.array([area.centroid[1]]), np.array([area.centroid[0]]))
    step = 0.1
    for norad, sat in sky.items():
        mine = [w for w in got if w.norad_id == norad]
        # candidate spans: the centroid within 33° off nadir (5 s scan), widened by 60 s
        t = np.arange(0.0, duration.total_seconds(), 5.0)
        near = runs(t, centre.off_nadir(sat, T0, t)[0] < 33.0)
        ref: list[tuple[float, float]] = []
        for a, b in near:
            tt = np.arange(a - 60.0, b + 60.0, step)
            inreach = pts.off_nadir(sat, T0, tt) <= 30.0
            ok = inreach.any(axis=0) if mode == "any" else inreach.all(axis=0)
            ref += runs(tt, ok)
        assert len(mine) == len(ref), (norad, mine, ref)
        for w, (a, b) in zip(mine, ref, strict=True):
            s = (w.start - T0).total_seconds()
            e = (w.end - T0).total_seconds()
            assert abs(s - a) <= 1.0 and abs(e - b) <= 1.0, (norad, s, a, e, b)


def test_area_fraction_matches_skyfield_grid(shared_data: Path) -> None:
    # A 100 × 100 km area and a 6° off-nadir reach (a field of regard about 120 km wide):
    # the area is often only partly in reach.
    ring = [[124.0, 39.3], [125.2, 39.3], [125.2, 40.1], [124.6, 40.2], [124.0, 40.1],
            [124.0, 39.3]]
    area = area_from_geojson({"type": "Polygon", "coordinates": [ring]}, "test", "box")
    recs, sky = _sats(shared_data, NAMES)
    got = area_windows(recs, area, T0, T0 + timedelta(days=2),
                       Constraints(max_off_nadir_deg=6.0))
    assert len(got) >= 3
    lon, lat = dense_points(ring, 40, 1.0)  # the uniform grid only (edge step > ring)
    grid_n = int(inside(ring, *np.meshgrid(np.linspace(124.0, 125.2, 40),
                                           np.linspace(39.3, 40.2, 40))).sum())
    lon, lat = lon[:grid_n], lat[:grid_n]
    pts = SkyPoints(lon, lat)
    partial = 0
    for w in got:
        a = (w.start - T0).total_seconds()
        b = (w.end - T0).total_seconds()
        tt = np.linspace(a, b, 200)
        share = (pts.off_nadir(sky[w.norad_id], T0, tt) <= 6.0).mean(axis=0).max()
        assert abs(w.area_fraction - share) <= 0.05, (w.name, w.area_fraction, share)
        partial += w.area_fraction < 0.9
    assert partial >= 1


def test_api_area_passes(shared_data: Path) -> None:
    import overflight.api as api

    recs, _ = _sats(shared_data, NAMES[:3])
    res = api.area_passes(recs, "sohae", start=T0, days=1, max_off_nadir_deg=30, mode="all")
    assert len(res) and all(w.area_mode == "all" for w in res)
    df = res.to_pandas()
    assert {"area", "area_fraction"} <= set(df.columns)
    mixed = api.passes(recs, [resolve_area("sohae"), "Rajin port"], start=T0, days=1,
                       max_off_nadir_deg=30)
    assert {w.site for w in mixed} == {"Sohae launching station", "Rajin port"}
    with pytest.raises(AreaError, match="area_mode"):
        api.area_passes(recs, "sohae", start=T0, days=1, mode="some")
    assert isinstance(resolve_area(area := resolve_area("sohae")), Area) and area.name
