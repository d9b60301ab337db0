"""World base map shipped with the package: Natural Earth 1:110m countries and capital cities.

Public-domain Natural Earth data (taken from geopandas 0.14's ``naturalearth_lowres`` and
``naturalearth_cities``), stored as GeoJSON in ``overflight/data``. Used for map figures and
to say over which place a satellite is; nothing is downloaded.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from overflight.constants import MEAN_EARTH_RADIUS_KM

__all__ = ["Country", "countries", "country_at", "describe_place", "draw_world", "nearest_city"]


@dataclass(frozen=True)
class Country:
    """A country outline: ``rings`` are (N, 2) arrays of lon/lat degrees (outer rings only)."""

    name: str
    iso_a3: str
    rings: tuple[npt.NDArray[np.float64], ...]
    bbox: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max


def _load(name: str) -> dict[str, Any]:
    text = resources.files("overflight").joinpath(f"data/{name}").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@functools.cache
def countries() -> tuple[Country, ...]:
    """All country outlines."""
    out = []
    for feat in _load("ne_110m_countries.geojson")["features"]:
        geom = feat["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        rings = tuple(np.asarray(poly[0], dtype=np.float64) for poly in polys)
        allpts = np.concatenate(rings)
        bbox = (
            float(allpts[:, 0].min()),
            float(allpts[:, 1].min()),
            float(allpts[:, 0].max()),
            float(allpts[:, 1].max()),
        )
        props = feat["properties"]
        out.append(Country(props["name"], props.get("iso_a3", ""), rings, bbox))
    return tuple(out)


@functools.cache
def _cities() -> tuple[tuple[str, float, float], ...]:
    return tuple(
        (f["properties"]["name"], f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0])
        for f in _load("ne_cities.geojson")["features"]
    )


def country_at(lat_deg: float, lon_deg: float) -> str | None:
    """Name of the country containing the point (1:110m outlines, so coasts are coarse)."""
    from matplotlib.path import Path

    for c in countries():
        lon_min, lat_min, lon_max, lat_max = c.bbox
        if not (lon_min <= lon_deg <= lon_max and lat_min <= lat_deg <= lat_max):
            continue
        for ring in c.rings:
            if Path(ring).contains_point((lon_deg, lat_deg)):
                return c.name
    return None


def _central_angle_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    cos_c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos_c))))


def nearest_city(lat_deg: float, lon_deg: float) -> tuple[str, float]:
    """Nearest capital/large city and its great-circle distance in km (mean Earth radius)."""
    best = min(_cities(), key=lambda c: _central_angle_deg(lat_deg, lon_deg, c[1], c[2]))
    angle_deg = _central_angle_deg(lat_deg, lon_deg, best[1], best[2])
    dist_km = math.radians(angle_deg) * MEAN_EARTH_RADIUS_KM
    return best[0], dist_km


def describe_place(lat_deg: float, lon_deg: float) -> str:
    """A short human description: ``over North Korea, 45 km from Pyongyang``."""
    country = country_at(lat_deg, lon_deg)
    city, dist = nearest_city(lat_deg, lon_deg)
    where = f"over {country}" if country else "over water"
    return f"{where}, {dist:,.0f} km from {city}"


def draw_world(ax: Any, *, color: str = "0.55", linewidth: float = 0.6) -> None:
    """Draw country outlines on a matplotlib axes in lon/lat degrees."""
    for c in countries():
        for ring in c.rings:
            ax.plot(ring[:, 0], ring[:, 1], color=color, linewidth=linewidth, zorder=1)
