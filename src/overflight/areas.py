"""Area targets: places (a port, a bridge, a launch complex) rather than points, and their windows.

An :class:`Area` is one or more polygons in longitude/latitude degrees (WGS-84) with its source
and how precise its outline is. Shipped areas live in ``data/areas/*.geojson``; users give a
GeoJSON Polygon/MultiPolygon geometry, Feature or FeatureCollection.

Area windows (``docs/areas.md``) come from the point window engine run over a sample of the
area: its boundary, densified to the sample spacing, plus an interior grid
(:func:`overflight.regions.grid`). ``mode="any"``: a window is when at least one sample point is
in reach (the union of the points' windows, per satellite); ``"all"``: when every sample point
is (their intersection). ``area_fraction`` is the area-weighted share of sample points in reach
at the window's best moment.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from overflight.access import Constraints, Window
from overflight.constants import MEAN_EARTH_RADIUS_KM
from overflight.errors import OverflightError
from overflight.geometry import Site
from overflight.regions import Polygon, Region, RegionError, grid, load_geojson_file

if TYPE_CHECKING:
    from overflight.access import WindowTable
    from overflight.elements import ElementSet

__all__ = [
    "AREA_MODES",
    "Area",
    "AreaError",
    "AreaSample",
    "AreaWindow",
    "area_from_geojson",
    "area_windows",
    "combine_point_windows",
    "default_spacing_km",
    "named_areas",
    "read_area_file",
    "resolve_area",
    "sample_area",
]

F64 = npt.NDArray[np.float64]

AREA_MODES = ("any", "all")
"""``any``: some part of the area is in reach; ``all``: all of it is."""

# Sample spacing: about a twelfth of the area's size, between these bounds (km); the cap on the
# interior grid keeps the engine's work bounded for large user areas.
_MIN_SPACING_KM = 0.05
_MAX_SPACING_KM = 10.0
_SPACING_FRACTION = 1.0 / 12.0
_MAX_INTERIOR_POINTS = 400


class AreaError(OverflightError):
    """Unknown area, malformed area file or impossible area request (one-line message)."""


@dataclass(frozen=True, eq=False)
class Area:
    """A named place as polygons in lon/lat degrees (WGS-84), its source and its precision."""

    name: str
    polygons: tuple[Polygon, ...]
    title: str = ""
    source: str = ""
    precision: str = ""
    aliases: tuple[str, ...] = ()

    def region(self) -> Region:
        """The same polygons as a :class:`~overflight.regions.Region` (for grids, maps)."""
        return Region(self.name, self.polygons, title=self.title or self.name,
                      source=self.source, approximate=bool(self.precision))

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """``(lon_min, lat_min, lon_max, lat_max)`` in degrees."""
        return self.region().bbox

    @property
    def centroid(self) -> tuple[float, float]:
        """``(lat_deg, lon_deg)`` of the area-weighted centroid of the outer rings."""
        total, cx, cy = 0.0, 0.0, 0.0
        for p in self.polygons:
            a, x, y = _ring_moments(p.exterior)
            total += a
            cx += a * x
            cy += a * y
        if total == 0:
            lon0, lat0, lon1, lat1 = self.bbox
            return (lat0 + lat1) / 2.0, (lon0 + lon1) / 2.0
        return cy / total, cx / total

    @property
    def area_km2(self) -> float:
        """Surface area in km² (local equirectangular projection: exact enough below ~100 km)."""
        lat0 = math.radians(self.centroid[0])
        scale = math.radians(1.0) * MEAN_EARTH_RADIUS_KM
        total = 0.0
        for p in self.polygons:
            for j, ring in enumerate((p.exterior, *p.holes)):
                a = abs(_signed_area(ring)) * scale * scale * math.cos(lat0)
                total += a if j == 0 else -a
        return total

    def contains(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Which points (degrees) lie in the area."""
        return self.region().contains(lat_deg, lon_deg)

    def geometry(self) -> dict[str, Any]:
        """The outline as a GeoJSON MultiPolygon geometry (exteriors counter-clockwise)."""
        polys = []
        for p in self.polygons:
            rings = [_oriented(p.exterior, ccw=True)]
            rings += [_oriented(h, ccw=False) for h in p.holes]
            polys.append([r.tolist() for r in rings])
        return {"type": "MultiPolygon", "coordinates": polys}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (name, title, source, precision, centroid, area, bbox)."""
        lat, lon = self.centroid
        return {"name": self.name, "title": self.title or self.name, "source": self.source,
                "precision": self.precision, "aliases": list(self.aliases),
                "centroid_lat_deg": round(lat, 6), "centroid_lon_deg": round(lon, 6),
                "area_km2": round(self.area_km2, 3), "bbox": list(self.bbox)}


# --------------------------------------------------------------------------------------------
# Polygon arithmetic (planar, in lon/lat degrees: the areas are small)


def _signed_area(ring: F64) -> float:
    """Shoelace area of a closed ring, deg²; positive when counter-clockwise."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(y[:-1], x[1:]))


def _ring_moments(ring: F64) -> tuple[float, float, float]:
    """Unsigned area and centroid ``(x, y)`` of a closed ring."""
    x, y = ring[:, 0], ring[:, 1]
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    a = 0.5 * float(cross.sum())
    if a == 0:
        return 0.0, float(x.mean()), float(y.mean())
    cx = float(((x[:-1] + x[1:]) * cross).sum()) / (6.0 * a)
    cy = float(((y[:-1] + y[1:]) * cross).sum()) / (6.0 * a)
    return abs(a), cx, cy


def _oriented(ring: F64, *, ccw: bool) -> F64:
    return ring if (_signed_area(ring) > 0) == ccw else ring[::-1].copy()


def _segments_cross(p: F64, q: F64, r: F64, s: F64) -> bool:
    """Whether segments pq and rs properly intersect (touching at shared ends does not count)."""
    def orient(a: F64, b: F64, c: F64) -> float:
        return float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))

    d1, d2 = orient(p, q, r), orient(p, q, s)
    d3, d4 = orient(r, s, p), orient(r, s, q)
    return d1 * d2 < 0 and d3 * d4 < 0


def _self_intersects(ring: F64) -> bool:
    n = ring.shape[0] - 1
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # neighbours through the closing vertex
            if _segments_cross(ring[i], ring[i + 1], ring[j], ring[j + 1]):
                return True
    return False


def _ring(coords: Any, where: str) -> F64:
    try:
        arr = np.asarray(coords, dtype=np.float64)
    except (TypeError, ValueError):
        raise AreaError(f"{where}: coordinates must be [lon, lat] number pairs") from None
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise AreaError(f"{where}: coordinates must be [lon, lat] number pairs")
    arr = arr[:, :2]
    if not np.isfinite(arr).all():
        raise AreaError(f"{where}: coordinates must be finite numbers")
    if (np.abs(arr[:, 1]) > 90).any():
        raise AreaError(f"{where}: latitude outside -90..90 (GeoJSON order is [lon, lat])")
    if (np.abs(arr[:, 0]) > 180).any():
        raise AreaError(f"{where}: longitude outside -180..180")
    if arr.shape[0] < 4:
        raise AreaError(f"{where}: a ring needs at least 4 positions (closed: last = first)")
    if not np.array_equal(arr[0], arr[-1]):
        raise AreaError(f"{where}: ring is not closed (its last position must equal the first)")
    if (np.abs(np.diff(arr[:, 0])) > 180).any():
        raise AreaError(f"{where}: ring crosses the antimeridian; split it into two polygons")
    if _self_intersects(arr):
        raise AreaError(f"{where}: ring intersects itself")
    if _signed_area(arr) == 0:
        raise AreaError(f"{where}: ring has zero area")
    return arr


def _polygons(geom: Any, where: str) -> list[Polygon]:
    if not isinstance(geom, dict):
        raise AreaError(f"{where}: geometry must be an object")
    kind = geom.get("type")
    coords = geom.get("coordinates")
    if kind == "Polygon":
        polys, labels = [coords], [where]
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise AreaError(f"{where}: MultiPolygon 'coordinates' must be a non-empty list")
        polys = coords
        labels = [f"{where}: polygon {i}" for i in range(1, len(coords) + 1)]
    else:
        raise AreaError(f"{where}: expected a Polygon or MultiPolygon geometry, got {kind!r}")
    out: list[Polygon] = []
    for poly, pw in zip(polys, labels, strict=True):
        if not isinstance(poly, list) or not poly:
            raise AreaError(f"{pw}: polygon 'coordinates' must be a list of rings")
        rings = [_ring(r, f"{pw}: ring {j}") for j, r in enumerate(poly, start=1)]
        out.append(Polygon(rings[0], tuple(rings[1:])))
    return out


def area_from_geojson(doc: Any, source: str, default_name: str = "area") -> Area:
    """An area from a parsed GeoJSON geometry, Feature or FeatureCollection of (Multi)Polygons.

    ``source`` names the file in errors. Name, title, source, precision and aliases come from
    the first feature's properties where given.
    """
    if not isinstance(doc, dict):
        raise AreaError(f"{source}: expected a GeoJSON object")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list) or not feats:
            raise AreaError(f"{source}: FeatureCollection without features")
    elif kind == "Feature":
        feats = [doc]
    elif kind in ("Polygon", "MultiPolygon"):
        feats = [{"type": "Feature", "properties": {}, "geometry": doc}]
    else:
        raise AreaError(f"{source}: not a GeoJSON Polygon, MultiPolygon, Feature or "
                        f"FeatureCollection (type {kind!r})")
    polys: list[Polygon] = []
    props: dict[str, Any] = {}
    for i, feat in enumerate(feats, start=1):
        where = f"{source}: feature {i}"
        if not isinstance(feat, dict):
            raise AreaError(f"{where}: a feature must be an object")
        fprops = feat.get("properties")
        if isinstance(fprops, dict) and fprops.get("name"):
            where += f" ({fprops['name']})"
        if feat.get("geometry") is None:
            raise AreaError(f"{where}: feature has no geometry")
        polys += _polygons(feat["geometry"], where)
        if not props and isinstance(fprops, dict):
            props = fprops
    aliases = props.get("aliases") or []
    return Area(
        name=str(props.get("name") or default_name),
        polygons=tuple(polys),
        title=str(props.get("title") or props.get("name") or default_name),
        source=str(props.get("source") or source),
        precision=str(props.get("precision") or ""),
        aliases=tuple(str(a) for a in aliases) if isinstance(aliases, list) else (),
    )


def read_area_file(path: str | Path) -> Area:
    """An area from a GeoJSON file (AreaError naming the file for any problem)."""
    p = Path(path)
    return area_from_geojson(load_geojson_file(p, AreaError, "area file"), str(p), p.stem)


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower().replace("–", "-") if ch.isalnum())


@functools.cache
def _named() -> tuple[dict[str, Area], dict[str, str]]:
    folder = resources.files("overflight").joinpath("data/areas")
    areas: dict[str, Area] = {}
    aliases: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".geojson"):
            continue
        doc = json.loads(entry.read_text(encoding="utf-8"))
        for feat in doc["features"]:
            area = area_from_geojson(feat, entry.name)
            areas[area.name] = area
            for alias in (area.name, *area.aliases):
                aliases[_slug(alias)] = area.name
    return areas, aliases


def named_areas() -> dict[str, Area]:
    """The areas shipped with overflight, by name."""
    return dict(_named()[0])


def resolve_area(text: str | Area, *, files: bool = True) -> Area:
    """A shipped area by name or alias (case and punctuation ignored), or a GeoJSON file path
    (unless ``files`` is False: a service reads no files named by its clients)."""
    if isinstance(text, Area):
        return text
    spec = text.strip()
    areas, aliases = _named()
    key = aliases.get(_slug(spec))
    if key is not None:
        return areas[key]
    if files and (spec.lower().endswith((".geojson", ".json")) or Path(spec).is_file()):
        return read_area_file(spec)
    import difflib

    close = [aliases[k] for k in difflib.get_close_matches(_slug(spec), list(aliases), n=6,
                                                           cutoff=0.6)]
    close = list(dict.fromkeys(close))[:3]
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    what = "a name from 'overflight areas' or a GeoJSON file" if files else "a shipped area"
    raise AreaError(f"unknown area {spec!r}{hint} (give {what})")


# --------------------------------------------------------------------------------------------
# Sampling


@dataclass(frozen=True, eq=False)
class AreaSample:
    """Points sampling an area: the boundary every ``spacing_km`` then an interior grid.

    ``weight``: the share of the area each point stands for (boundary points half a grid cell,
    interior points a whole one), normalized to sum to 1.
    """

    area: Area
    spacing_km: float
    lat_deg: F64
    lon_deg: F64
    weight: F64
    boundary: int

    def __len__(self) -> int:
        return int(self.lat_deg.size)

    def sites(self) -> list[Site]:
        """The points as sites at zero height (named ``AREA#i``)."""
        return [Site(f"{self.area.name}#{i}", float(la), float(lo))
                for i, (la, lo) in enumerate(zip(self.lat_deg.tolist(), self.lon_deg.tolist(),
                                                 strict=True))]

    def edge_error_s(self, ground_speed_km_s: float) -> float:
        """Bound (s) on how late an ``any`` window can start (or how early it can end) because
        only sample points are tested: the time a footprint edge moving at
        ``ground_speed_km_s`` over the ground takes to cross one sample spacing. ``all`` windows
        of a convex footprint need no bound from the interior (a convex footprint holds the area
        when it holds its boundary) and get the same one from the boundary spacing."""
        return self.spacing_km / ground_speed_km_s


def default_spacing_km(area: Area) -> float:
    """Sample spacing for ``area``: a twelfth of its size (square root of its area), at least
    50 m, at most 10 km, and coarse enough for at most about 400 interior points."""
    size = math.sqrt(max(area.area_km2, 1e-6))
    s = max(size * _SPACING_FRACTION, size / math.sqrt(_MAX_INTERIOR_POINTS))
    return min(max(s, _MIN_SPACING_KM), _MAX_SPACING_KM)


def _densify(ring: F64, spacing_km: float) -> F64:
    """Points along a closed ring at most ``spacing_km`` apart (the closing vertex dropped)."""
    lat0 = math.radians(float(ring[:, 1].mean()))
    km_per_deg = math.radians(1.0) * MEAN_EARTH_RADIUS_KM
    out: list[F64] = []
    for a, b in itertools.pairwise(ring):
        dx = (b[0] - a[0]) * km_per_deg * math.cos(lat0)
        dy = (b[1] - a[1]) * km_per_deg
        n = max(1, math.ceil(math.hypot(dx, dy) / spacing_km))
        f = np.arange(n, dtype=np.float64)[:, None] / n
        out.append(a[None, :] + f * (b - a)[None, :])
    return np.concatenate(out)


def sample_area(area: Area, spacing_km: float | None = None) -> AreaSample:
    """Sample points of ``area``: its rings every ``spacing_km`` (default
    :func:`default_spacing_km`), then the interior grid of :func:`overflight.regions.grid`."""
    s = default_spacing_km(area) if spacing_km is None else float(spacing_km)
    if not (math.isfinite(s) and s > 0):
        raise AreaError(f"spacing_km must be a positive number of km, got {spacing_km}")
    edge = np.concatenate([_densify(r, s) for p in area.polygons for r in (p.exterior, *p.holes)])
    try:
        g = grid(area.region(), s)
        inner_lat, inner_lon = g.lat_deg, g.lon_deg
    except RegionError:
        inner_lat = inner_lon = np.empty(0)
    if inner_lat.size > 4 * _MAX_INTERIOR_POINTS * 25:
        raise AreaError(f"a {s:g} km sample of {area.name} has {inner_lat.size:,} points; "
                        "use a larger spacing_km")
    lat = np.concatenate([edge[:, 1], inner_lat])
    lon = np.concatenate([edge[:, 0], inner_lon])
    w = np.concatenate([np.full(edge.shape[0], 0.5), np.ones(inner_lat.size)])
    return AreaSample(area, s, lat, lon, w / w.sum(), int(edge.shape[0]))


# --------------------------------------------------------------------------------------------
# Area windows


@dataclass(frozen=True)
class AreaWindow(Window):
    """A window over an area: ``site`` is the area's name, ``site_lat_deg``/``site_lon_deg`` its
    centroid, ``peak`` the best moment (most of the area in reach), ``max_elevation_deg`` /
    ``min_off_nadir_deg`` / ``min_range_km`` / ``gsd_m`` the best over the area,
    ``area_fraction`` the share of the area in reach at the best moment."""

    area: str = ""
    area_mode: str = "any"
    area_fraction: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """:meth:`Window.to_dict` plus ``area``, ``area_mode`` and ``area_fraction``."""
        d = super().to_dict()
        d.update({"area": self.area, "area_mode": self.area_mode,
                  "area_fraction": round(self.area_fraction, 4)})
        return d


def _check_mode(mode: str) -> str:
    if mode not in AREA_MODES:
        raise AreaError(f"area_mode must be one of {', '.join(AREA_MODES)}, not {mode!r}")
    return mode


def area_windows(
    elsets: Sequence[ElementSet],
    area: Area,
    start: datetime,
    end: datetime,
    constraints: Constraints | None = None,
    *,
    mode: str = "any",
    sensors: dict[int, Any] | None = None,
    spacing_km: float | None = None,
    workers: int | None = 1,
) -> list[AreaWindow]:
    """Windows of ``elsets`` over ``area`` in [start, end] (``mode`` "any" or "all").

    The point engine (:func:`overflight.access.window_table`) runs over
    :func:`sample_area`'s points; ``constraints.min_duration_s`` applies to the area windows.
    GSD where ``sensors`` knows the satellite.
    """
    from overflight.access import window_table

    _check_mode(mode)
    c = constraints or Constraints()
    c.validate()
    sample = sample_area(area, spacing_km)
    table = window_table(elsets, sample.sites(), start, end, replace(c, min_duration_s=0.0),
                         workers=workers)
    return combine_point_windows(table, elsets, sample, mode=mode, sensors=sensors,
                                 min_duration_s=c.min_duration_s)


def combine_point_windows(
    table: WindowTable,
    elsets: Sequence[ElementSet],
    sample: AreaSample,
    *,
    mode: str = "any",
    sensors: dict[int, Any] | None = None,
    min_duration_s: float = 0.0,
    extras: Sequence[dict[str, Any]] | None = None,
) -> list[AreaWindow]:
    """Area windows from the windows of ``sample``'s points (``table.site_index`` indexes the
    sample), per satellite: the union (``any``) or intersection (``all``) of the point windows,
    each with its best moment and area fraction. Sorted by start, then NORAD id. ``extras``
    (one per row of ``table``): the ``extra`` fields of the area window are those of its
    point window seen highest."""
    _check_mode(mode)
    out: list[AreaWindow] = []
    n_points = len(sample)
    for sat in np.unique(table.sat_index).tolist():
        rows = np.flatnonzero(table.sat_index == sat)
        out += _satellite_runs(table, rows, elsets[sat], sample, mode, n_points, sensors,
                               min_duration_s, extras)
    out.sort(key=lambda w: (w.start, w.norad_id))
    return out


def _satellite_runs(table: WindowTable, rows: npt.NDArray[np.int64], es: ElementSet,
                    sample: AreaSample, mode: str, n_points: int,
                    sensors: dict[int, Any] | None, min_duration_s: float,
                    extras: Sequence[dict[str, Any]] | None) -> list[AreaWindow]:
    a = table.start[rows].astype("datetime64[ns]").astype(np.int64)
    b = table.end[rows].astype("datetime64[ns]").astype(np.int64)
    w = sample.weight[table.site_index[rows]]
    t = np.concatenate([a, b])
    dc = np.concatenate([np.ones(a.size), -np.ones(b.size)])
    dw = np.concatenate([w, -w])
    order = np.argsort(t, kind="stable")
    t, dc, dw = t[order], np.cumsum(dc[order]), np.cumsum(dw[order])
    # State after the last event at each distinct time holds until the next distinct time.
    last = np.r_[np.flatnonzero(np.diff(t)), t.size - 1]
    times, count, weight = t[last], np.rint(dc[last]), dw[last]
    active = count >= 1 if mode == "any" else count >= n_points
    seg_active = active[:-1]
    out: list[AreaWindow] = []
    i = 0
    while i < seg_active.size:
        if not seg_active[i]:
            i += 1
            continue
        j = i
        while j + 1 < seg_active.size and seg_active[j + 1]:
            j += 1
        t0, t1 = int(times[i]), int(times[j + 1])
        if (t1 - t0) / 1e9 >= max(min_duration_s, 0.0) and t1 > t0:
            best = i + int(np.argmax(weight[i : j + 1]))
            moment = (int(times[best]) + int(times[best + 1])) // 2
            fraction = float(min(1.0, weight[best]))
            out.append(_area_window(table, rows, a, b, t0, t1, moment, fraction, es, sample,
                                    mode, sensors, extras))
        i = j + 1
    return out


def _area_window(table: WindowTable, rows: npt.NDArray[np.int64], a: npt.NDArray[np.int64],
                 b: npt.NDArray[np.int64], t0: int, t1: int, moment: int, fraction: float,
                 es: ElementSet, sample: AreaSample, mode: str,
                 sensors: dict[int, Any] | None,
                 extras: Sequence[dict[str, Any]] | None = None) -> AreaWindow:
    from overflight.times import datetime64_to_utc

    def utc(ns: int) -> datetime:
        return datetime64_to_utc(np.datetime64(ns, "ns"))

    clip_names = {0: None, 1: "interval", 2: "sun", 3: "sunlit"}
    over = rows[(a < t1) & (b > t0)]
    rep = over[int(np.argmax(table.max_elevation_deg[over]))]
    gsd: float | None = None
    sensor = (sensors or {}).get(es.norad_id)
    if sensor is not None:  # the best over the point windows, in one call
        values = sensor.gsd_m_array(table.peak_range_km[over], table.peak_incidence_deg[over])
        finite = values[np.isfinite(values)]
        gsd = float(finite.min()) if finite.size else None
    starts = over[a[np.searchsorted(rows, over)] == t0]
    ends = over[b[np.searchsorted(rows, over)] == t1]
    lat, lon = sample.area.centroid
    return AreaWindow(
        norad_id=es.norad_id, name=es.name, site=sample.area.name, site_lat_deg=lat,
        site_lon_deg=lon, start=utc(t0), peak=utc(moment), end=utc(t1),
        max_elevation_deg=float(table.max_elevation_deg[over].max()),
        min_off_nadir_deg=float(table.min_off_nadir_deg[over].min()),
        min_range_km=float(table.min_range_km[over].min()),
        sun_elevation_deg=float(table.sun_elevation_deg[rep]),
        satellite_sunlit=bool(table.satellite_sunlit[rep]),
        direction="ascending" if table.ascending[rep] else "descending",
        gsd_m=gsd,
        start_clipped=clip_names[int(table.start_clip[starts[0]])] if starts.size else None,
        end_clipped=clip_names[int(table.end_clip[ends[0]])] if ends.size else None,
        area=sample.area.name, area_mode=mode, area_fraction=fraction,
        extra=dict(extras[int(rep)]) if extras is not None else {},
    )
