"""Sensor footprints: the ground a satellite could image during a window (field of regard).

For a window [start, end] the satellite's SGP4 positions (ITRS) are taken every ``step_s``; at
each the look directions at the reach off-nadir angle η (from the ellipsoid nadir, as
:mod:`overflight.geometry` measures off-nadir) are intersected with the WGS-84 ellipsoid:
straight across-track on both sides along the whole window, and all round the nadir at the
first and last moment. The ring through those ground points is the strip the sensor could point
at: the sub-satellite track buffered by the off-nadir reach, with round ends. Limits:
``docs/areas.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from overflight.constants import WGS84_A_KM, WGS84_B_KM
from overflight.errors import OverflightError

if TYPE_CHECKING:
    from overflight.access import Constraints, Window
    from overflight.elements import ElementSet

__all__ = [
    "DEFAULT_STEP_S",
    "Footprint",
    "FootprintError",
    "footprint",
    "reach_off_nadir_deg",
    "window_footprints",
]

F64 = npt.NDArray[np.float64]

DEFAULT_STEP_S = 5.0
"""Time between the strip's edge points, s (about 35 km of LEO ground track)."""
_MAX_EDGE_POINTS = 241  # per side: long (high-orbit) windows get a coarser step
_CAP_POINTS = 12  # points on each round end, between the two side edges
_HORIZON_MARGIN_DEG = 0.5  # look no closer to the limb than this (the ray must hit the ground)


class FootprintError(OverflightError):
    """A footprint that cannot be computed (SGP4 failed, empty window)."""


@dataclass(frozen=True, eq=False)
class Footprint:
    """Field of regard of one window: a closed, counter-clockwise lon/lat ring (degrees,
    WGS-84; longitudes continuous, so they may pass ±180) and the sub-satellite track."""

    norad_id: int
    start: datetime
    end: datetime
    max_off_nadir_deg: float
    lon_deg: F64
    lat_deg: F64
    track_lon_deg: F64
    track_lat_deg: F64

    def ring(self) -> list[list[float]]:
        """``[[lon, lat], ...]`` closed (last = first), counter-clockwise."""
        return [[round(x, 6), round(y, 6)] for x, y in zip(self.lon_deg.tolist(),
                                                          self.lat_deg.tolist(), strict=True)]

    def geometry(self) -> dict[str, Any]:
        """GeoJSON Polygon geometry."""
        return {"type": "Polygon", "coordinates": [self.ring()]}


def reach_off_nadir_deg(constraints: Constraints | None, sensor: Any | None = None) -> float:
    """The off-nadir reach of a window, degrees: the tightest of the constraint's
    ``max_off_nadir_deg`` and the sensor's ``max_off_nadir_deg``; 90 (the horizon, limited
    further by the elevation limit in :func:`footprint`) where neither is given."""
    values = [v for v in (None if constraints is None else constraints.max_off_nadir_deg,
                          None if sensor is None else getattr(sensor, "max_off_nadir_deg", None))
              if v is not None and math.isfinite(v)]
    return min(values) if values else 90.0


def _unit(v: F64) -> F64:
    out: F64 = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return out


def _hit_ellipsoid(r: F64, d: F64) -> F64:
    """First intersection of rays ``r + s d`` (s > 0) with the WGS-84 ellipsoid; NaN on a miss."""
    scale = np.array([1.0 / WGS84_A_KM, 1.0 / WGS84_A_KM, 1.0 / WGS84_B_KM])
    rs, ds = r * scale, d * scale
    qa = np.sum(ds * ds, axis=-1)
    qb = 2.0 * np.sum(rs * ds, axis=-1)
    qc = np.sum(rs * rs, axis=-1) - 1.0
    disc = qb * qb - 4.0 * qa * qc
    s = (-qb - np.sqrt(np.where(disc >= 0, disc, np.nan))) / (2.0 * qa)
    out: F64 = r + s[..., None] * d
    return out


def footprint(
    elset: ElementSet,
    start: datetime,
    end: datetime,
    max_off_nadir_deg: float,
    *,
    min_elevation_deg: float = 0.0,
    step_s: float = DEFAULT_STEP_S,
) -> Footprint:
    """The ground ``elset`` could image between ``start`` and ``end``: every point it sees at
    most ``max_off_nadir_deg`` off nadir (and, on a spherical Earth of the local radius, at
    least ``min_elevation_deg`` above the horizon), as a :class:`Footprint`. Positions every
    ``step_s`` seconds (at most 241 per side: longer windows get a coarser step)."""
    from overflight.frames import geodetic_from_itrs
    from overflight.geometry import nadir_point, up_vectors
    from overflight.propagation import propagate
    from overflight.times import utc

    t0, t1 = utc(start), utc(end)
    duration = (t1 - t0).total_seconds()
    if not duration >= 0:
        raise FootprintError(f"footprint: end {t1.isoformat()} is before start {t0.isoformat()}")
    if not step_s > 0:
        raise FootprintError(f"footprint: step_s must be positive, got {step_s}")
    n = min(_MAX_EDGE_POINTS, max(2, math.ceil(duration / step_s) + 1))
    times = [t0 + timedelta(seconds=duration * k / (n - 1)) for k in range(n)]
    eph = propagate(elset, times, frame="itrs", workers=1)
    if not eph.ok.all():
        raise FootprintError(f"footprint: SGP4 failed for {elset.norad_id} between "
                             f"{t0.isoformat()} and {t1.isoformat()}")
    r = eph.position_km[0]
    v = eph.velocity_km_s[0]
    nad = nadir_point(r)
    down = -up_vectors(nad.lat_deg, nad.lon_deg)
    along = _unit(v - np.sum(v * down, axis=-1, keepdims=True) * down)
    cross = np.cross(down, along)
    # Reach per moment: the given off-nadir limit, the elevation limit (sin η = R cos e / |r|,
    # R the local geocentric radius of the sub-point) and a margin inside the limb.
    ground = r + nad.alt_km[:, None] * down
    ratio = np.linalg.norm(ground, axis=-1) / np.linalg.norm(r, axis=-1)
    el = math.radians(min_elevation_deg)
    eta_el = np.degrees(np.arcsin(np.clip(ratio * math.cos(el), -1.0, 1.0)))
    eta_limb = np.degrees(np.arcsin(np.clip(ratio, -1.0, 1.0))) - _HORIZON_MARGIN_DEG
    eta = np.radians(np.minimum(np.minimum(eta_el, eta_limb), max_off_nadir_deg))

    def look(k: npt.NDArray[np.int64], az: F64) -> F64:
        """Ground points seen from moments ``k`` at azimuths ``az`` (0 = +cross, π/2 = along)."""
        e = eta[k][:, None]
        d = (np.cos(e)[..., None] * down[k][:, None, :]
             + np.sin(e)[..., None] * (np.cos(az)[None, :, None] * cross[k][:, None, :]
                                       + np.sin(az)[None, :, None] * along[k][:, None, :]))
        return _hit_ellipsoid(np.broadcast_to(r[k][:, None, :], d.shape), d).reshape(-1, 3)

    idx = np.arange(n)
    caps = np.linspace(0.0, math.pi, _CAP_POINTS + 2)[1:-1]
    pts = np.concatenate([
        look(idx, np.array([0.0])),                          # one side, forward in time
        look(idx[-1:], caps),                                # round end at the last moment
        look(idx[::-1], np.array([math.pi])),                # other side, backward in time
        look(idx[:1], caps + math.pi),                       # round end at the first moment
    ])
    g = geodetic_from_itrs(pts)
    lon = np.degrees(np.unwrap(np.radians(g.lon_deg)))
    lat = g.lat_deg
    shift = 360.0 * np.round(float(lon.mean()) / 360.0)
    lon = lon - shift
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise FootprintError(f"footprint: the look rays of {elset.norad_id} miss the Earth")
    lon, lat = np.r_[lon, lon[:1]], np.r_[lat, lat[:1]]
    area2 = float(np.dot(lon[:-1], lat[1:]) - np.dot(lat[:-1], lon[1:]))
    if area2 < 0:
        lon, lat = lon[::-1].copy(), lat[::-1].copy()
    track_lon = np.degrees(np.unwrap(np.radians(nad.lon_deg))) - shift
    return Footprint(elset.norad_id, t0, t1, float(np.degrees(eta.max())), lon, lat, track_lon,
                     np.asarray(nad.lat_deg, dtype=np.float64))


def window_footprints(
    windows: Sequence[Window],
    elsets: Sequence[ElementSet],
    constraints: Constraints | None = None,
    *,
    sensors: dict[int, Any] | None = None,
    step_s: float = DEFAULT_STEP_S,
) -> list[Footprint]:
    """One :class:`Footprint` per window (same order), reach from :func:`reach_off_nadir_deg`
    with the window's constraints and the satellite's sensor, and the constraints' elevation
    limit."""
    by_id = {e.norad_id: e for e in elsets}
    el = 0.0 if constraints is None else constraints.effective_min_elevation_deg()
    out = []
    for w in windows:
        es = by_id.get(w.norad_id)
        if es is None:
            raise FootprintError(f"footprint: no element set for NORAD {w.norad_id}")
        reach = reach_off_nadir_deg(constraints, (sensors or {}).get(w.norad_id))
        out.append(footprint(es, w.start, w.end, reach, min_elevation_deg=el, step_s=step_s))
    return out
