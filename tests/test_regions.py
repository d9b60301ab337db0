"""Regions and grids: shipped regions, boxes, GeoJSON files, spacing and area checked by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from overflight.regions import (
    RegionError,
    box_region,
    grid,
    named_regions,
    read_region_file,
    resolve_region,
)

R_KM = 6371.0088


def _haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
                  lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * R_KM * np.arcsin(np.sqrt(h))


def _equal_area_km2(ring: np.ndarray) -> float:
    """Shoelace area in Lambert's cylindrical equal-area projection (x = Rλ, y = R sin φ)."""
    x = R_KM * np.radians(ring[:, 0])
    y = R_KM * np.sin(np.radians(ring[:, 1]))
    return 0.5 * abs(float(np.dot(x[:-1], y[1:]) - np.dot(y[:-1], x[1:])))


def test_shipped_regions_and_aliases() -> None:
    names = set(named_regions())
    assert {"korean-peninsula", "russia-dprk-border", "north-korea", "south-korea"} <= names
    for r in named_regions().values():
        assert r.source and r.approximate
    assert resolve_region("Korea").name == "korean-peninsula"
    assert resolve_region("korean peninsula").name == "korean-peninsula"
    assert resolve_region("TUMEN").name == "russia-dprk-border"
    assert resolve_region("dprk").name == "north-korea"


@pytest.mark.parametrize(
    ("region", "lat", "lon", "inside"),
    [
        ("korean-peninsula", 39.03, 125.75, True),   # Pyongyang
        ("korean-peninsula", 37.57, 126.98, True),   # Seoul
        ("korean-peninsula", 35.18, 129.07, True),   # Busan
        ("korean-peninsula", 39.90, 116.40, False),  # Beijing
        ("korean-peninsula", 35.68, 139.69, False),  # Tokyo
        ("north-korea", 37.57, 126.98, False),
        ("south-korea", 37.57, 126.98, True),
        ("russia-dprk-border", 42.42, 130.64, True),   # Friendship Bridge over the Tumen
        ("russia-dprk-border", 42.43, 130.78, True),   # Khasan
        ("russia-dprk-border", 43.12, 131.89, False),  # Vladivostok
    ],
)
def test_contains(region: str, lat: float, lon: float, inside: bool) -> None:
    assert bool(resolve_region(region).contains(lat, lon)[0]) is inside


def test_grid_spacing_and_area_of_the_korean_peninsula() -> None:
    region = resolve_region("korean-peninsula")
    g = grid(region, 10.0)
    assert region.contains(g.lat_deg, g.lon_deg).all()
    # Nearest neighbours about 10 km apart (great circle, computed here).
    d = _haversine_km(g.lat_deg[:, None], g.lon_deg[:, None], g.lat_deg[None, :],
                      g.lon_deg[None, :])
    np.fill_diagonal(d, np.inf)
    nearest = d.min(axis=1)
    assert np.median(nearest) == pytest.approx(10.0, rel=0.01)
    assert nearest.min() > 7.0 and nearest.max() < 15.0
    # Each point stands for ~100 km²: the count matches the polygons' equal-area area.
    area = sum(_equal_area_km2(p.exterior) for p in region.polygons)
    assert 200_000 < area < 240_000
    assert len(g) * 100.0 == pytest.approx(area, rel=0.03)
    sites = g.sites()
    assert len(sites) == len(g) and sites[0].name == "korean-peninsula#0"
    assert g.cells().shape == (len(g), 4, 2)


def test_box_grid_and_antimeridian() -> None:
    r = resolve_region("42,129.8,43,131.2")
    g = grid(r, 10.0)
    assert (g.lat_deg > 42).all() and (g.lat_deg < 43).all()
    assert (g.lon_deg > 129.8).all() and (g.lon_deg < 131.2).all()
    # 111 km × 115 km box: 11 rows of ~11 points.
    assert 110 <= len(g) <= 132
    wrap = grid(box_region(-5, 175, 5, -175), 50.0)
    assert len(wrap) > 0
    assert ((wrap.lon_deg >= 175) | (wrap.lon_deg <= -175)).all()
    assert (wrap.lon_deg >= -180).all() and (wrap.lon_deg < 180).all()


def test_geojson_file_with_hole(tmp_path: Path) -> None:
    outer = [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]
    hole = [[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 1.5], [0.5, 0.5]]
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "square"},
         "geometry": {"type": "Polygon", "coordinates": [outer, hole]}},
        {"type": "Feature", "properties": {},
         "geometry": {"type": "MultiPolygon",
                      "coordinates": [[[[10, 0], [11, 0], [11, 1], [10, 1]]]]}},
    ]}
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps(doc))
    r = resolve_region(str(path))
    assert r.name == "square" and len(r.polygons) == 2
    assert r.contains([0.25, 1.0, 0.5], [0.25, 1.0, 10.5]).tolist() == [True, False, True]
    g = grid(r, 20.0)
    inside_hole = (g.lat_deg > 0.5) & (g.lat_deg < 1.5) & (g.lon_deg > 0.5) & (g.lon_deg < 1.5)
    assert len(g) > 0 and not inside_hole.any()
    assert read_region_file(path).name == "square"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"type": "Point", "coordinates": [1, 2]}', "not a GeoJSON Polygon"),
        ('{"type": "Feature", "properties": {}, "geometry": {"type": "LineString", '
         '"coordinates": [[0, 0], [1, 1]]}}', "expected a Polygon or MultiPolygon"),
        ('{"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}', "at least 3"),
        ('{"type": "Polygon", "coordinates": [[[0, 0], [1, 95], [1, 1], [0, 0]]]}',
         "latitude outside"),
        ('{"type": "Polygon", "coordinates": [[["a", 0], [1, 0], [1, 1], [0, 0]]]}',
         "number pairs"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null}]}',
         "no geometry"),
        ('{"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]}',
         "non-zero area"),
    ],
)
def test_malformed_geojson_names_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(RegionError, match=message) as exc:
        resolve_region(str(path))
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("atlantis", "unknown region 'atlantis'.*korean-peninsula"),
        ("43,129,42,131", "south 43.0 must be less than north"),
        ("42,190,43,191", "outside -180..180"),
        ("/no/such/area.geojson", "region file not found"),
    ],
)
def test_bad_region_text(text: str, message: str) -> None:
    with pytest.raises(RegionError, match=message):
        resolve_region(text)


@pytest.mark.parametrize("km", [0.0, -5.0, math.nan, math.inf])
def test_bad_spacing(km: float) -> None:
    with pytest.raises(RegionError, match="grid spacing"):
        grid(resolve_region("tumen"), km)


def test_grid_limits() -> None:
    with pytest.raises(RegionError, match="larger spacing_km"):
        grid(box_region(-60, -180, 60, 179.9), 1.0)
    # A region smaller than the spacing keeps its centre when that lies inside it...
    tiny = grid(box_region(42.0, 130.0, 42.01, 130.01), 10.0)
    assert len(tiny) == 1 and tiny.lat_deg[0] == pytest.approx(42.005)
    # ... and is refused when it does not (a thin ring around an empty middle).
    ring = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    hole = [[0.01, 0.01], [0.99, 0.01], [0.99, 0.99], [0.01, 0.99], [0.01, 0.01]]
    from overflight.regions import Polygon, Region

    frame = Region("frame", (Polygon(np.array(ring, float), (np.array(hole, float),)),))
    with pytest.raises(RegionError, match="smaller spacing_km"):
        grid(frame, 200.0)
