"""Regions of interest and the grids of points that sample them.

A region is one or more polygons in longitude/latitude degrees (WGS-84), given as a named region
shipped with the package (``data/regions/*.geojson``, each with its source), a box
``S,W,N,E`` in degrees, or a GeoJSON file (Polygon/MultiPolygon geometries, features or a
feature collection; holes are honoured). :func:`grid` lays points about ``spacing_km`` apart
inside it: rows every ``spacing_km`` of latitude, points along each row every ``spacing_km`` of
longitude (the step in degrees scaled by 1/cos(latitude)), so every point stands for about the
same area, ``spacing_km²``.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from overflight.constants import MEAN_EARTH_RADIUS_KM
from overflight.errors import OverflightError
from overflight.geometry import Site

__all__ = [
    "MAX_GRID_POINTS",
    "Grid",
    "Polygon",
    "Region",
    "RegionError",
    "box_region",
    "grid",
    "named_regions",
    "read_region_file",
    "resolve_region",
]

F64 = npt.NDArray[np.float64]

MAX_GRID_POINTS = 250_000
"""Largest grid :func:`grid` builds (a 10 km grid of a 2.5 million km² region)."""


class RegionError(OverflightError):
    """Unknown region, malformed region file or impossible grid (one-line message)."""


@dataclass(frozen=True, eq=False)
class Polygon:
    """An outer ring and its holes, each an ``(N, 2)`` array of lon/lat degrees (closed)."""

    exterior: F64
    holes: tuple[F64, ...] = ()

    def contains(self, lon_deg: F64, lat_deg: F64) -> npt.NDArray[np.bool_]:
        """Which points lie inside the outer ring and outside every hole."""
        from matplotlib.path import Path as MplPath

        pts = np.column_stack((lon_deg, lat_deg))
        inside: npt.NDArray[np.bool_] = MplPath(self.exterior).contains_points(pts)
        for hole in self.holes:
            inside &= ~MplPath(hole).contains_points(pts)
        return inside


@dataclass(frozen=True, eq=False)
class Region:
    """A named area: polygons in lon/lat degrees, where the outline comes from, how exact it is."""

    name: str
    polygons: tuple[Polygon, ...]
    title: str = ""
    source: str = ""
    approximate: bool = False

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """``(lon_min, lat_min, lon_max, lat_max)`` in degrees."""
        pts = np.concatenate([p.exterior for p in self.polygons])
        return (float(pts[:, 0].min()), float(pts[:, 1].min()),
                float(pts[:, 0].max()), float(pts[:, 1].max()))

    def contains(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Which points (degrees) lie in the region."""
        lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
        out = np.zeros(lat.shape, dtype=bool)
        for poly in self.polygons:
            out |= poly.contains(lon, lat)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (name, title, source, approximate, bbox)."""
        return {"name": self.name, "title": self.title or self.name, "source": self.source,
                "approximate": self.approximate, "bbox": list(self.bbox)}


@dataclass(frozen=True, eq=False)
class Grid:
    """Points sampling a region about ``spacing_km`` apart (lat/lon degrees, WGS-84)."""

    region: Region
    spacing_km: float
    lat_deg: F64
    lon_deg: F64

    def __len__(self) -> int:
        return int(self.lat_deg.size)

    @property
    def dlat_deg(self) -> float:
        """Row spacing, degrees of latitude."""
        return math.degrees(self.spacing_km / MEAN_EARTH_RADIUS_KM)

    def dlon_deg(self) -> F64:
        """Spacing along each point's row, degrees of longitude."""
        out: F64 = self.dlat_deg / np.maximum(np.cos(np.radians(self.lat_deg)), 1e-3)
        return out

    def sites(self) -> list[Site]:
        """The points as :class:`~overflight.geometry.Site` objects at zero height."""
        return [
            Site(f"{self.region.name}#{i}", float(lat), float(lon))
            for i, (lat, lon) in enumerate(zip(self.lat_deg.tolist(), self.lon_deg.tolist(),
                                               strict=True))
        ]

    def cells(self) -> F64:
        """Each point's grid cell as a lon/lat quadrilateral ``(M, 4, 2)`` (for maps)."""
        hy = self.dlat_deg / 2.0
        hx = self.dlon_deg() / 2.0
        x, y = self.lon_deg, self.lat_deg
        out: F64 = np.stack(
            [np.column_stack((x - hx, y - hy)), np.column_stack((x + hx, y - hy)),
             np.column_stack((x + hx, y + hy)), np.column_stack((x - hx, y + hy))], axis=1)
        return out


def _centred(lo: float, hi: float, step: float) -> F64:
    """Points ``step`` apart centred in [lo, hi] (at least one, the middle)."""
    n = max(1, math.floor((hi - lo) / step + 1e-9))
    first = lo + ((hi - lo) - (n - 1) * step) / 2.0
    out: F64 = first + step * np.arange(n, dtype=np.float64)
    return out


def grid(region: Region, spacing_km: float) -> Grid:
    """Points inside ``region`` about ``spacing_km`` apart (see the module docstring).

    Rows and points are centred in the region's bounding box; a region smaller than one
    spacing gets no point unless the box centre lies inside it (RegionError then).
    """
    if not (isinstance(spacing_km, int | float) and math.isfinite(spacing_km)
            and spacing_km > 0):
        raise RegionError(f"spacing_km: grid spacing must be a positive number of km, got "
                          f"{spacing_km}")
    lon_min, lat_min, lon_max, lat_max = region.bbox
    dlat = math.degrees(spacing_km / MEAN_EARTH_RADIUS_KM)
    rows = _centred(lat_min, lat_max, dlat)
    est = rows.size * (lon_max - lon_min) / dlat * 1.0 / max(
        1e-3, math.cos(math.radians(min(abs(lat_min), abs(lat_max), 89.0)))
    )
    if est > 4 * MAX_GRID_POINTS:
        raise RegionError(
            f"a {spacing_km:g} km grid of {region.name} would have about {est:,.0f} points "
            f"(at most {MAX_GRID_POINTS:,}, a bound on memory, not on time); use a larger "
            "spacing_km"
        )
    lats: list[F64] = []
    lons: list[F64] = []
    for lat in rows.tolist():
        dlon = dlat / max(math.cos(math.radians(lat)), 1e-3)
        row = _centred(lon_min, lon_max, dlon)
        lats.append(np.full(row.size, lat))
        lons.append(row)
    lat_all = np.concatenate(lats)
    lon_all = np.concatenate(lons)
    keep = region.contains(lat_all, lon_all)
    lat_in, lon_in = lat_all[keep], lon_all[keep]
    if lat_in.size > MAX_GRID_POINTS:
        raise RegionError(
            f"a {spacing_km:g} km grid of {region.name} has {lat_in.size:,} points "
            f"(at most {MAX_GRID_POINTS:,}, a bound on memory, not on time); use a larger "
            "spacing_km"
        )
    if lat_in.size == 0:
        clat, clon = (lat_min + lat_max) / 2.0, (lon_min + lon_max) / 2.0
        if not region.contains(clat, clon)[0]:
            raise RegionError(
                f"no {spacing_km:g} km grid point falls inside {region.name}; use a smaller "
                "spacing_km"
            )
        lat_in, lon_in = np.array([clat]), np.array([clon])
    # Longitudes back into [-180, 180) for regions given across the antimeridian.
    lon_in = (lon_in + 180.0) % 360.0 - 180.0
    return Grid(region, float(spacing_km), lat_in, lon_in)


# --------------------------------------------------------------------------------------------
# Regions from boxes, files and the shipped set


def box_region(south: float, west: float, north: float, east: float,
               name: str | None = None) -> Region:
    """A lat/lon box in degrees; ``west > east`` means it crosses the antimeridian."""
    for label, v, lim in (("south", south, 90), ("north", north, 90), ("west", west, 180),
                          ("east", east, 180)):
        if not (math.isfinite(v) and -lim <= v <= lim):
            raise RegionError(f"box {label} {v} is outside -{lim}..{lim} degrees")
    if south >= north:
        raise RegionError(f"box south {south} must be less than north {north}")
    if west == east:
        raise RegionError(f"box west and east are both {west}")
    e = east + 360.0 if west > east else east
    ring = np.array([[west, south], [e, south], [e, north], [west, north], [west, south]])
    label = name or f"box {south:g},{west:g},{north:g},{east:g}"
    return Region(label, (Polygon(ring),), title=label, source="box given by the user")


def _ring(coords: Any, where: str) -> F64:
    try:
        arr = np.asarray(coords, dtype=np.float64)
    except (TypeError, ValueError):
        raise RegionError(f"{where}: coordinates must be [lon, lat] number pairs") from None
    if arr.ndim != 2 or arr.shape[1] < 2 or arr.shape[0] < 3:
        raise RegionError(f"{where}: a ring needs at least 3 [lon, lat] positions")
    arr = arr[:, :2]
    if not np.isfinite(arr).all():
        raise RegionError(f"{where}: coordinates must be finite numbers")
    if (np.abs(arr[:, 1]) > 90).any():
        raise RegionError(f"{where}: latitude outside -90..90 (GeoJSON order is [lon, lat])")
    if (np.abs(arr[:, 0]) > 360).any():
        raise RegionError(f"{where}: longitude outside -360..360")
    if not np.array_equal(arr[0], arr[-1]):
        arr = np.vstack((arr, arr[:1]))
    return arr


def _area(ring: F64) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * abs(float(np.dot(x[:-1], y[1:]) - np.dot(y[:-1], x[1:])))


def _polygons(geom: Any, where: str) -> list[Polygon]:
    if not isinstance(geom, dict):
        raise RegionError(f"{where}: geometry must be an object")
    kind = geom.get("type")
    coords = geom.get("coordinates")
    if kind == "GeometryCollection":
        parts = geom.get("geometries")
        if not isinstance(parts, list):
            raise RegionError(f"{where}: GeometryCollection without 'geometries'")
        out: list[Polygon] = []
        for i, g in enumerate(parts, start=1):
            out += _polygons(g, f"{where}: geometry {i}")
        return out
    if kind == "Polygon":
        polys = [coords]
    elif kind == "MultiPolygon":
        if not isinstance(coords, list):
            raise RegionError(f"{where}: MultiPolygon 'coordinates' must be a list")
        polys = coords
    else:
        raise RegionError(f"{where}: expected a Polygon or MultiPolygon geometry, got {kind!r}")
    out = []
    for i, poly in enumerate(polys, start=1):
        pw = where if kind == "Polygon" else f"{where}: polygon {i}"
        if not isinstance(poly, list) or not poly:
            raise RegionError(f"{pw}: polygon 'coordinates' must be a list of rings")
        rings = [_ring(r, f"{pw}: ring {j}") for j, r in enumerate(poly, start=1)]
        if _area(rings[0]) > 0:  # skip degenerate slivers (Natural Earth has some)
            out.append(Polygon(rings[0], tuple(rings[1:])))
    return out


def _region_from_geojson(doc: Any, source: str, default_name: str) -> Region:
    if not isinstance(doc, dict):
        raise RegionError(f"{source}: expected a GeoJSON object")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list):
            raise RegionError(f"{source}: FeatureCollection without a 'features' list")
    elif kind == "Feature":
        feats = [doc]
    elif kind in ("Polygon", "MultiPolygon", "GeometryCollection"):
        feats = [{"type": "Feature", "properties": {}, "geometry": doc}]
    else:
        raise RegionError(f"{source}: not a GeoJSON Polygon, Feature or FeatureCollection "
                          f"(type {kind!r})")
    polys: list[Polygon] = []
    props: dict[str, Any] = {}
    for i, feat in enumerate(feats, start=1):
        where = f"{source}: feature {i}" if len(feats) > 1 else source
        if not isinstance(feat, dict):
            raise RegionError(f"{where}: a feature must be an object")
        if feat.get("geometry") is None:
            raise RegionError(f"{where}: feature has no geometry")
        polys += _polygons(feat["geometry"], where)
        if not props and isinstance(feat.get("properties"), dict):
            props = feat["properties"]
    if not polys:
        raise RegionError(f"{source}: no polygon with a non-zero area")
    return Region(
        name=str(props.get("name") or default_name),
        polygons=tuple(polys),
        title=str(props.get("title") or props.get("name") or default_name),
        source=str(props.get("source") or source),
        approximate=bool(props.get("approximate", False)),
    )


def load_geojson_file(path: str | Path, error: type[OverflightError], what: str) -> Any:
    """The JSON document in ``path``; ``error`` (one line naming the file, and the line for
    bad JSON) if it cannot be read or parsed. ``what``: e.g. "region file" for the message."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{p}: cannot read {what} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise error(f"{p}: not a UTF-8 text file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{p}:{exc.lineno}: not valid JSON ({exc.msg})") from None


def read_region_file(path: str | Path) -> Region:
    """A region from a GeoJSON file (RegionError naming the file for any problem)."""
    p = Path(path)
    return _region_from_geojson(load_geojson_file(p, RegionError, "region file"), str(p), p.stem)


def _slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


@functools.cache
def _named() -> tuple[dict[str, Region], dict[str, str]]:
    folder = resources.files("overflight").joinpath("data/regions")
    regions: dict[str, Region] = {}
    aliases: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".geojson"):
            continue
        doc = json.loads(entry.read_text(encoding="utf-8"))
        region = _region_from_geojson(doc, entry.name, entry.name.removesuffix(".geojson"))
        regions[region.name] = region
        aliases[_slug(region.name)] = region.name
        props = doc["features"][0].get("properties", {})
        for alias in props.get("aliases", []):
            aliases[_slug(alias)] = region.name
    return regions, aliases


def named_regions() -> dict[str, Region]:
    """The regions shipped with overflight, by name."""
    return dict(_named()[0])


def _parse_box(text: str) -> tuple[float, float, float, float] | None:
    parts = text.split(",")
    if len(parts) != 4:
        return None
    try:
        s, w, n, e = (float(p) for p in parts)
    except ValueError:
        return None
    return s, w, n, e


def resolve_region(text: str) -> Region:
    """A named region, a box ``S,W,N,E`` (degrees) or a GeoJSON file path."""
    spec = text.strip()
    regions, aliases = _named()
    key = aliases.get(_slug(spec))
    if key is not None:
        return regions[key]
    box = _parse_box(spec)
    if box is not None:
        return box_region(*box)
    p = Path(spec)
    if p.suffix.lower() in (".geojson", ".json") or p.exists():
        if not p.exists():
            raise RegionError(f"{p}: region file not found")
        return read_region_file(p)
    names = ", ".join(sorted(regions))
    raise RegionError(
        f"unknown region {spec!r}: give a named region ({names}), a box S,W,N,E in degrees, "
        "or a GeoJSON file"
    )

