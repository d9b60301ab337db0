"""The Sun: its Earth-fixed (ITRS) position, its elevation at sites, and Earth's shadow.

The Sun is the apparent geocentric Sun of Skyfield (DE421, light time, aberration and deflection)
rotated into ITRS, in km. Over dense time grids it is computed exactly on a coarse grid (every
``step_s`` seconds) and interpolated with the Earth's rotation taken out (error below 1e-6°,
see docs/geometry.md). Shadow: a spherical Earth (radius ``WGS84_A_KM``) and either a point Sun
(:func:`is_sunlit`, Skyfield's test) or the Sun's disc (:func:`sunlit_fraction`, conical
umbra/penumbra model).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from overflight.constants import WGS84_A_KM
from overflight.frames import _polar_motion_matrices, earth_rotation_angle_rad
from overflight.geometry import Site, Sites
from overflight.times import ephemeris, skyfield_time, to_datetime64

__all__ = [
    "SUN_RADIUS_KM",
    "SunTrack",
    "is_sunlit",
    "sun_elevation_deg",
    "sun_itrs_km",
    "sun_unit_itrs",
    "sunlit_fraction",
]

FloatArray = npt.NDArray[np.float64]

SUN_RADIUS_KM = 695_700.0  # IAU 2015 nominal solar radius
DEFAULT_STEP_S = 3600.0


def _times(times: Any) -> npt.NDArray[np.datetime64]:
    t64 = to_datetime64(times)
    if np.isnat(t64).any():
        raise ValueError("times contain NaT (not a time)")
    return t64


def _sun_exact(t64: npt.NDArray[np.datetime64]) -> FloatArray:
    """Apparent geocentric Sun, ITRS km, ``(N, 3)`` for a 1-D time array."""
    from skyfield.errors import EphemerisRangeError
    from skyfield.framelib import itrs

    eph = ephemeris()
    t = skyfield_time(t64)
    try:
        apparent = eph["earth"].at(t).observe(eph["sun"]).apparent()
    except EphemerisRangeError:
        raise ValueError(
            f"Sun position: times {t64.min()}..{t64.max()} are outside the DE421 ephemeris "
            "(1900-2053)"
        ) from None
    xyz: FloatArray = np.asarray(apparent.frame_xyz(itrs).km, dtype=np.float64)
    return np.ascontiguousarray(xyz.T)


def _pole_matrices(t64: npt.NDArray[np.datetime64]) -> FloatArray:
    """Polar-motion matrices W (TIRS → ITRS) ``(N, 3, 3)`` (identity without a table)."""
    pm = _polar_motion_matrices(skyfield_time(t64))
    if pm is None:
        return np.broadcast_to(np.eye(3), (t64.size, 3, 3)).copy()
    return np.broadcast_to(pm, (t64.size, 3, 3)).copy()


def _spin(xyz: FloatArray, angle_rad: FloatArray) -> FloatArray:
    """Rotate vectors ``(N, 3)`` by ``angle_rad`` ``(N,)`` about the z axis (counter-clockwise)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    out = np.empty_like(xyz)
    out[:, 0] = c * xyz[:, 0] - s * xyz[:, 1]
    out[:, 1] = s * xyz[:, 0] + c * xyz[:, 1]
    out[:, 2] = xyz[:, 2]
    return out


def sun_itrs_km(times: Any, *, step_s: float | None = DEFAULT_STEP_S) -> FloatArray:
    """Apparent geocentric Sun position in ITRS, km, shape ``(*times.shape, 3)``.

    ``times``: UTC datetimes or a ``datetime64`` array. With ``step_s`` (default 3600 s) the
    Sun is computed exactly every ``step_s`` seconds and interpolated in between (linearly, in
    a frame that does not spin with the Earth; measured error 1.4e-7° for 3600 s, 4e-9° for
    600 s); ``step_s=None`` computes every time exactly (0.1-0.3 ms per time).
    """
    t64 = _times(times)
    shape = t64.shape
    flat = t64.reshape(-1)
    if flat.size == 0:
        return np.empty((*shape, 3))
    if step_s is not None and step_s <= 0:
        raise ValueError(f"step_s must be positive, got {step_s}")
    ns = flat.astype(np.int64)
    lo, hi = int(ns.min()), int(ns.max())
    if step_s is None or (hi - lo) // round(step_s * 1e9) + 2 >= flat.size:
        return _sun_exact(flat).reshape((*shape, 3))
    return SunTrack(flat.min(), flat.max(), step_s=step_s).itrs_km(flat).reshape((*shape, 3))


class SunTrack:
    """The Sun between two times, for many later look-ups: exact every ``step_s`` seconds
    (computed once, here) and interpolated in between as :func:`sun_itrs_km` does."""

    def __init__(self, start: Any, end: Any, *, step_s: float = DEFAULT_STEP_S) -> None:
        if step_s <= 0:
            raise ValueError(f"step_s must be positive, got {step_s}")
        step_ns = round(step_s * 1e9)
        lo = int(_times(start).reshape(-1).astype(np.int64).min())
        hi = int(_times(end).reshape(-1).astype(np.int64).max())
        first = lo - lo % step_ns
        count = (hi - first) // step_ns + 1
        if first + (count - 1) * step_ns < hi:
            count += 1
        count = max(count, 2)
        self._first = first
        self._last = first + (count - 1) * step_ns
        nodes_ns = first + step_ns * np.arange(count, dtype=np.int64)
        nodes = nodes_ns.astype("datetime64[ns]")
        # Take the Earth's rotation (polar motion W, then the spin) out so the interpolated
        # vector moves ~1°/day, not 360°/day; W (milliarcseconds a day) is interpolated apart.
        self._pole = _pole_matrices(nodes)
        tilted = np.einsum("nji,nj->ni", self._pole, _sun_exact(nodes))
        inertial = _spin(tilted, earth_rotation_angle_rad(nodes))
        # Direction and distance separately: a linearly interpolated vector would come out
        # short by the chord's sagitta (~10 km for hourly nodes).
        self._xp = (nodes_ns - first).astype(np.float64)
        self._dist = np.linalg.norm(inertial, axis=1)
        self._unit = inertial / self._dist[:, None]

    def itrs_km(self, times: Any) -> FloatArray:
        """Sun positions (km, ITRS) ``(N, 3)`` for N times inside the track's span."""
        flat = _times(times).reshape(-1)
        ns = flat.astype(np.int64)
        if flat.size and (int(ns.min()) < self._first or int(ns.max()) > self._last):
            raise ValueError("times outside the Sun track's span")
        x = (ns - self._first).astype(np.float64)
        interp = np.stack([np.interp(x, self._xp, self._unit[:, k]) for k in range(3)], axis=-1)
        interp *= (np.interp(x, self._xp, self._dist) / np.linalg.norm(interp, axis=1))[:, None]
        spun = _spin(interp, -earth_rotation_angle_rad(flat))
        pole = self._pole.reshape(-1, 9)
        w = np.stack([np.interp(x, self._xp, pole[:, k]) for k in range(9)], axis=-1)
        out: FloatArray = np.einsum("nij,nj->ni", w.reshape(-1, 3, 3), spun)
        return out


_sun_itrs_km = sun_itrs_km  # for functions whose parameter of that name shadows it


def sun_unit_itrs(times: Any, *, step_s: float | None = DEFAULT_STEP_S) -> FloatArray:
    """Unit vector towards the apparent Sun from Earth's centre, ITRS, ``(*times.shape, 3)``."""
    xyz = sun_itrs_km(times, step_s=step_s)
    unit: FloatArray = xyz / np.linalg.norm(xyz, axis=-1, keepdims=True)
    return unit


def sun_elevation_deg(
    site: Site | Sites,
    times: Any = None,
    *,
    sun_itrs_km: npt.ArrayLike | None = None,
    step_s: float | None = DEFAULT_STEP_S,
) -> FloatArray:
    """Topocentric elevation of the Sun's centre, degrees (geodetic up, no refraction).

    Give ``times`` (shape ``(T,)``) or precomputed ``sun_itrs_km`` ``(T, 3)`` from
    :func:`sun_itrs_km`. Returns ``(T,)`` for one :class:`Site`, ``(M, T)`` for M
    :class:`Sites`.
    """
    if sun_itrs_km is None:
        if times is None:
            raise ValueError("sun_elevation_deg needs times or sun_itrs_km")
        sun = _sun_itrs_km(times, step_s=step_s)
    else:
        sun = np.asarray(sun_itrs_km, dtype=np.float64)
    if isinstance(site, Site):
        xyz, up = site.itrs_km, site.up
    else:
        lead = (len(site),) + (1,) * (sun.ndim - 1)
        xyz = site.itrs_km.reshape((*lead, 3))
        up = site.enu[:, 2, :].reshape((*lead, 3))
    d = sun - xyz
    s = np.einsum("...i,...i->...", d, up) / np.linalg.norm(d, axis=-1)
    el: FloatArray = np.degrees(np.arcsin(np.clip(s, -1.0, 1.0)))
    return el


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    out: FloatArray = a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]
    return out


# Elements per chunk in the shadow kernels: keeps their temporaries in L2 cache.
_CHUNK = 1 << 14


def _chunked(
    kernel: Callable[[FloatArray, FloatArray], npt.NDArray[Any]],
    sat_itrs_km: npt.ArrayLike,
    sun_itrs_km: npt.ArrayLike,
    dtype: type[np.generic],
) -> npt.NDArray[Any]:
    """Apply ``kernel`` to broadcast satellite/Sun positions in blocks along the first axis."""
    sat = np.asarray(sat_itrs_km, dtype=np.float64)
    sun = np.asarray(sun_itrs_km, dtype=np.float64)
    if sat.ndim == 0 or sat.shape[-1] != 3 or sun.ndim == 0 or sun.shape[-1] != 3:
        raise ValueError(f"positions must have shape (..., 3), got {sat.shape} and {sun.shape}")
    full = np.broadcast_shapes(sat.shape, sun.shape)
    shape = full[:-1]
    if len(shape) == 0:
        return kernel(sat, sun)
    sat_b = np.broadcast_to(sat, full)
    sun_b = np.broadcast_to(sun, full)
    out = np.empty(shape, dtype=dtype)
    step = max(1, _CHUNK // max(1, math.prod(shape[1:])))
    for lo in range(0, shape[0], step):
        out[lo : lo + step] = kernel(sat_b[lo : lo + step], sun_b[lo : lo + step])
    return out


def is_sunlit(
    sat_itrs_km: npt.ArrayLike,
    sun_itrs_km: npt.ArrayLike,
    *,
    earth_radius_km: float = WGS84_A_KM,
) -> npt.NDArray[np.bool_]:
    """Whether the Sun's centre is visible from each satellite (point Sun, spherical Earth).

    ``sat_itrs_km`` ``(..., 3)`` and ``sun_itrs_km`` (from :func:`sun_itrs_km`) broadcast, e.g.
    ``(S, T, 3)`` with ``(T, 3)``. Same test as Skyfield's ``is_sunlit``: the segment from the
    satellite to the Sun misses a sphere of ``earth_radius_km``.
    """
    r_e2 = earth_radius_km * earth_radius_km

    def kernel(sat: FloatArray, sun: FloatArray) -> npt.NDArray[np.bool_]:
        to_sun = sun - sat
        st = _dot(sat, to_sun)
        t2 = _dot(to_sun, to_sun)
        r2 = _dot(sat, sat)
        # Lit if the Sun is on the satellite's side (st >= 0: the nearest approach of the ray
        # to Earth's centre is behind the satellite) or the ray's miss distance,
        # |sat × to_sun|² / |to_sun|² = r2 - st²/t2, exceeds the radius. No square roots.
        lit: npt.NDArray[np.bool_] = (r2 >= r_e2) & ((st >= 0.0) | (r2 * t2 - st * st > r_e2 * t2))
        return lit

    return _chunked(kernel, sat_itrs_km, sun_itrs_km, np.bool_)


def sunlit_fraction(
    sat_itrs_km: npt.ArrayLike,
    sun_itrs_km: npt.ArrayLike,
    *,
    earth_radius_km: float = WGS84_A_KM,
    sun_radius_km: float = SUN_RADIUS_KM,
) -> FloatArray:
    """Fraction of the solar disc's area visible from each satellite: 1 sunlit, 0 umbra, between
    in penumbra (conical shadow of a spherical Earth; discs overlapped in the tangent plane).

    Shapes broadcast as in :func:`is_sunlit`.
    """
    def kernel(sat: FloatArray, sun: FloatArray) -> FloatArray:
        to_sun = sun - sat
        r_sat = np.sqrt(_dot(sat, sat))
        r_sun = np.sqrt(_dot(to_sun, to_sun))
        a = np.arcsin(np.clip(sun_radius_km / r_sun, 0.0, 1.0))  # Sun's apparent radius
        b = np.arcsin(np.clip(earth_radius_km / r_sat, 0.0, 1.0))  # Earth's apparent radius
        cos_c = -_dot(sat, to_sun) / (r_sat * r_sun)
        c = np.arccos(np.clip(cos_c, -1.0, 1.0))  # separation of the two centres
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.clip((c * c + a * a - b * b) / (2.0 * c * a), -1.0, 1.0)
            y = np.clip((c * c + b * b - a * a) / (2.0 * c * b), -1.0, 1.0)
            k = (-c + a + b) * (c + a - b) * (c - a + b) * (c + a + b)
            overlap = (a * a * np.arccos(x) + b * b * np.arccos(y)
                       - 0.5 * np.sqrt(np.maximum(k, 0.0)))
        frac = 1.0 - overlap / (np.pi * a * a)
        frac = np.where(c >= a + b, 1.0, frac)
        frac = np.where(c <= b - a, 0.0, frac)  # Sun wholly behind Earth: umbra
        frac = np.where(c <= a - b, 1.0 - (b / a) ** 2, frac)  # Earth inside the Sun's disc
        frac = np.where(r_sat < earth_radius_km, 0.0, frac)
        out: FloatArray = np.clip(frac, 0.0, 1.0)
        return out

    result: FloatArray = _chunked(kernel, sat_itrs_km, sun_itrs_km, np.float64)
    return result
