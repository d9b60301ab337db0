"""Independent reference for the claims tests: passes, elevations and Sun altitudes from Skyfield,
with TLE lines read by plain Python (no overflight code)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from skyfield.api import EarthSatellite, wgs84
from skyfield_data import get_skyfield_data_path


@dataclass(frozen=True)
class Pass:
    norad_id: int
    site_lat: float
    site_lon: float
    culmination: datetime  # UTC, time of maximum elevation (Skyfield find_events)
    elevation_deg: float
    sun_deg: float  # Sun altitude at the site at culmination (no refraction)


def tle_lines(path: Path, norad_id: int) -> tuple[str, str]:
    """Line 1 and line 2 of one satellite's (first) TLE in a three-line file."""
    lines = [ln.rstrip() for ln in path.read_text().splitlines() if ln.strip()]
    for i, ln in enumerate(lines):
        if ln.startswith("1 ") and int(ln[2:7]) == norad_id:
            return ln, lines[i + 1]
    raise LookupError(norad_id)


def _ts_eph():  # type: ignore[no-untyped-def]
    from skyfield.api import Loader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skyfield-data's Earth-orientation table is past expiry
        path = get_skyfield_data_path()
    load = Loader(path, expire=False, verbose=False)
    return load.timescale(builtin=False), load("de421.bsp")


_CACHE: dict[str, object] = {}


def ts_eph():  # type: ignore[no-untyped-def]
    if "v" not in _CACHE:
        _CACHE["v"] = _ts_eph()
    return _CACHE["v"]


def passes(
    path: Path, norad_id: int, lat: float, lon: float, start: datetime, end: datetime,
    min_elevation_deg: float,
) -> list[Pass]:
    """Culminations above ``min_elevation_deg`` with the Sun's altitude at the site."""
    ts, eph = ts_eph()
    l1, l2 = tle_lines(path, norad_id)
    sat = EarthSatellite(l1, l2, ts=ts)
    topos = wgs84.latlon(lat, lon)
    t, events = sat.find_events(topos, ts.from_datetime(start), ts.from_datetime(end),
                                altitude_degrees=0.0)
    out = []
    observer = eph["earth"] + topos
    for ti, ev in zip(t, events, strict=True):
        if ev != 1:
            continue
        alt = (sat - topos).at(ti).altaz()[0].degrees
        if alt < min_elevation_deg:
            continue
        sun_alt = observer.at(ti).observe(eph["sun"]).apparent().altaz()[0].degrees
        out.append(Pass(norad_id, lat, lon, ti.utc_datetime().astimezone(UTC), float(alt),
                        float(sun_alt)))
    return out


def elevation_deg(path: Path, norad_id: int, lat: float, lon: float, when: datetime) -> float:
    ts, _ = ts_eph()
    l1, l2 = tle_lines(path, norad_id)
    sat = EarthSatellite(l1, l2, ts=ts)
    return float((sat - wgs84.latlon(lat, lon)).at(ts.from_datetime(when)).altaz()[0].degrees)


def sun_elevation_deg(lat: float, lon: float, when: datetime) -> float:
    ts, eph = ts_eph()
    obs = eph["earth"] + wgs84.latlon(lat, lon)
    return float(obs.at(ts.from_datetime(when)).observe(eph["sun"]).apparent().altaz()[0].degrees)


def destination(lat: float, lon: float, bearing_deg: float, distance_km: float) -> tuple[float,
                                                                                          float]:
    """Point ``distance_km`` from (lat, lon) along a great circle (sphere of 6371 km)."""
    d = distance_km / 6371.0
    p1, l1, b = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1),
                         math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0
