"""Reference frames: TEME (SGP4's output) to the Earth-fixed ITRS, Earth rotation, and geodetic
coordinates on WGS-84 (or any :class:`Ellipsoid`).

The TEME→ITRS rotation is the one Skyfield applies in ``EarthSatellite.at(t).frame_xyz(itrs)``:
a rotation about the z axis by Greenwich mean sidereal time (IAU 1982 formula, from UT1, AIAA
2006-6753 appendix C), to the pseudo-Earth-fixed frame, followed by polar motion ``W`` (IERS
2010 eq. 5.3: the pole coordinates ``x``, ``y`` and the TIO locator ``s'``) to the ITRF. UT1 and
the pole both come from the offline Earth-orientation table of ``skyfield-data``, installed in
:func:`overflight.times.timescale` (outside the table the pole is held at its first or last
value). Polar motion moves Earth-fixed positions by about 10 m on the ground, 16 m at low-orbit
radius and 100 m at GEO. The rate matrix ``dR`` neglects the pole's drift (milliarcseconds per
day), as Skyfield does. Sites stay WGS-84 coordinates on this ITRF.

This is the TEME of AIAA 2006-6753: its pole is the true pole the pole coordinates refer to,
i.e. Orekit's TEME on the EOP-corrected true-of-date frame (0.3 m from Orekit's IERS 2010 ITRF
at GEO), not Orekit's ``FramesFactory.getTEME()``, which leaves out the frame bias and the
celestial-pole offsets (31 mas, 6.5 m at GEO); docs/propagation.md has the decomposition.

This module is the one home of the Earth's rotation (:func:`gmst82_rad`, the angle SGP4's TEME
needs, and :func:`earth_rotation_angle_rad`, the IAU 2000 angle) and of the geodetic conversions
(:func:`geodetic_from_itrs`, :func:`itrs_from_geodetic`); the constants are in
:mod:`overflight.constants`.

Array conventions: times are ``datetime64[ns]`` UTC arrays of shape ``(T,)``; vectors are
``(..., 3)`` float64 arrays in km and km/s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt

from overflight.constants import DAY_S, WGS84_A_KM, WGS84_F
from overflight.times import skyfield_time, to_datetime64

if TYPE_CHECKING:
    from datetime import datetime

    from skyfield.timelib import Time

__all__ = [
    "WGS84",
    "Ellipsoid",
    "Geodetic",
    "earth_rotation_angle_rad",
    "geodetic_from_itrs",
    "gmst82_rad",
    "gmst82_rate_rad_s",
    "itrs_from_geodetic",
    "rotate_teme_to_itrs",
    "teme_to_itrs_matrices",
]

FloatArray = npt.NDArray[np.float64]
# Up to this many vector components (satellite-times x 3) the rotation uses einsum.
_SMALL_KERNEL_MAX = 768


@dataclass(frozen=True, slots=True)
class Ellipsoid:
    """A reference ellipsoid: equatorial radius ``a_km`` and flattening ``f`` (0 for a sphere)."""

    name: str
    a_km: float
    f: float

    @property
    def b_km(self) -> float:
        """Polar radius, km."""
        return self.a_km * (1.0 - self.f)

    @property
    def e2(self) -> float:
        """First eccentricity squared."""
        return self.f * (2.0 - self.f)


WGS84 = Ellipsoid("WGS-84", WGS84_A_KM, WGS84_F)
"""The WGS-84 ellipsoid (values from :mod:`overflight.constants`)."""


class Geodetic(NamedTuple):
    """Geodetic coordinates: latitude and longitude in degrees, altitude in km."""

    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_km: FloatArray


# ---------------------------------------------------------------------------------------------
# Earth rotation


def _gmst82(
    jd_ut1: npt.ArrayLike, fraction_ut1: npt.ArrayLike = 0.0
) -> tuple[FloatArray, FloatArray]:
    """GMST (IAU 1982) in radians and its rate in rad per second of UT1 (broadcast shape).

    Skyfield's ``theta_GMST1982`` (AIAA 2006-6753 appendix C, the angle of SGP4's TEME): using
    it keeps the TEME→ITRS rotation identical to Skyfield's.
    """
    from skyfield.sgp4lib import theta_GMST1982

    whole = np.asarray(jd_ut1, dtype=np.float64)
    fraction = np.asarray(fraction_ut1, dtype=np.float64)
    theta, theta_dot_per_day = theta_GMST1982(whole, fraction)
    return (
        np.asarray(theta, dtype=np.float64),
        np.asarray(theta_dot_per_day, dtype=np.float64) / DAY_S,
    )


def gmst82_rad(jd_ut1: npt.ArrayLike, fraction_ut1: npt.ArrayLike = 0.0) -> FloatArray:
    """Greenwich mean sidereal time, IAU 1982 formula (the angle of SGP4's TEME), radians in
    [0, 2π), for Julian dates of UT1 given as ``jd_ut1 + fraction_ut1`` (two parts for precision;
    UTC for UT1 is within a second, 0.004°). Arrays broadcast."""
    return _gmst82(jd_ut1, fraction_ut1)[0]


def gmst82_rate_rad_s(jd_ut1: npt.ArrayLike, fraction_ut1: npt.ArrayLike = 0.0) -> FloatArray:
    """Rate of :func:`gmst82_rad`, radians per second of UT1 (about 7.2921158e-5)."""
    return _gmst82(jd_ut1, fraction_ut1)[1]


def earth_rotation_angle_rad(times: datetime | npt.ArrayLike) -> FloatArray:
    """Earth rotation angle (IAU 2000, from UT1), radians in [0, 2π), one per time.

    ``times`` are ``datetime64`` UTC or aware datetimes; the result has their shape (a single
    datetime gives shape ``(1,)``). UT1 from the offline Earth-orientation data.
    """
    from skyfield.earthlib import earth_rotation_angle

    t64 = to_datetime64(times)
    t = skyfield_time(t64.reshape(-1))
    turns = np.asarray(earth_rotation_angle(t.whole, t.ut1_fraction), dtype=np.float64)
    out: FloatArray = (turns * (2.0 * np.pi)).reshape(t64.shape)
    return out


def teme_to_itrs_matrices(
    times: datetime | npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Rotation from TEME to ITRS for each time, and its time derivative.

    Returns ``(R, dR)``, each of shape ``(T, 3, 3)``: ``r_itrs = R @ r_teme`` and
    ``v_itrs = R @ v_teme + dR @ r_teme`` (``dR`` in 1/s, so km and km/s in, km and km/s out).
    ``times`` are ``datetime64`` UTC or aware datetimes.
    """
    return _matrices_from_skyfield_time(skyfield_time(to_datetime64(times).reshape(-1)))


def _matrices_from_skyfield_time(t: Time) -> tuple[FloatArray, FloatArray]:
    """``(R, dR)`` for a Skyfield ``Time`` array, exactly as Skyfield rotates TEME to ITRS."""
    # d(theta)/dt in rad per second of UT1 (Skyfield's TEME_to_ITRF uses the same rate).
    theta_any, w_any = _gmst82(t.whole, t.ut1_fraction)
    theta = np.atleast_1d(theta_any)
    w = np.atleast_1d(w_any)
    n = theta.shape[0]
    c = np.cos(theta)
    s = np.sin(theta)
    zero = np.zeros(n)
    rot = np.stack([c, s, zero, -s, c, zero, zero, zero, zero + 1.0], axis=-1).reshape(n, 3, 3)
    ws = w * s
    wc = w * c
    rate = np.stack([-ws, wc, zero, -wc, -ws, zero, zero, zero, zero], axis=-1).reshape(n, 3, 3)
    pm = _polar_motion_matrices(t)
    if pm is not None:
        # Skyfield's itrs frame applies polar motion W after the Earth rotation. W · Rz and
        # W · dRz written out element by element (no matmul, whose kernel depends on the
        # array size): every time gets the same bits however the grid is split.
        pm = np.broadcast_to(pm, (n, 3, 3))
        w0, w1 = pm[:, :, 0], pm[:, :, 1]
        rot = np.empty((n, 3, 3))
        rot[:, :, 0] = w0 * c[:, None] - w1 * s[:, None]
        rot[:, :, 1] = w0 * s[:, None] + w1 * c[:, None]
        rot[:, :, 2] = pm[:, :, 2]
        rate = np.zeros((n, 3, 3))
        rate[:, :, 0] = -(w0 * ws[:, None] + w1 * wc[:, None])
        rate[:, :, 1] = w0 * wc[:, None] - w1 * ws[:, None]
    return rot, rate


def _polar_motion_matrices(t: Time) -> FloatArray | None:
    """Polar motion W = R1(-y) · R2(-x) · R3(s') (TIRS → ITRS), ``(T, 3, 3)``, as Skyfield's
    ``Time.polar_motion_matrix`` but element by element; None without a polar-motion table."""
    if t.ts.polar_motion_table is None:
        return None
    from skyfield.constants import ASEC2RAD, T0

    # Time.polar_motion_angles, with TT for TDB in s' (-47 µas a century: the 1.7 ms between
    # them is 1e-20 rad) to skip the TDB series, ~half the cost of a small call.
    table_tt, table_x, table_y = t.ts.polar_motion_table
    tt = np.atleast_1d(np.asarray(t.tt, dtype=np.float64))
    a = np.interp(tt, table_tt, table_y) * ASEC2RAD
    b = np.interp(tt, table_tt, table_x) * ASEC2RAD
    g = 47.0e-6 * (tt - T0) / 36525.0 * ASEC2RAD
    ca, sa, cb, sb, cg, sg = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(g), np.sin(g)
    zero = np.zeros(a.shape)
    # rot_x(a) · rot_y(b), then times rot_z(g) (Skyfield's rotation conventions).
    p = ((cb, zero, sb), (sa * sb, ca, -sa * cb), (-ca * sb, sa, ca * cb))
    out = np.empty((a.size, 3, 3))
    for i in range(3):
        out[:, i, 0] = p[i][0] * cg + p[i][1] * sg
        out[:, i, 1] = p[i][1] * cg - p[i][0] * sg
        out[:, i, 2] = p[i][2]
    return out


def rotate_teme_to_itrs(
    position_km: FloatArray,
    velocity_km_s: FloatArray,
    rotation: FloatArray,
    rotation_rate: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Rotate TEME position/velocity of shape ``(..., T, 3)`` to ITRS with ``(T, 3, 3)`` matrices.

    ``rotation`` and ``rotation_rate`` come from :func:`teme_to_itrs_matrices` for the same
    ``T`` times. Returns new arrays of the input shape (km, km/s).
    """
    pos = np.asarray(position_km, dtype=np.float64)
    vel = np.asarray(velocity_km_s, dtype=np.float64)
    if pos.shape != vel.shape or pos.shape[-2:] != (rotation.shape[0], 3):
        raise ValueError(
            f"position {pos.shape} and velocity {vel.shape} must both be (..., T, 3) "
            f"with T = {rotation.shape[0]}"
        )
    out_r = np.empty(pos.shape)
    out_v = np.empty(vel.shape)
    _rotate_into(pos, vel, rotation, rotation_rate, out_r, out_v)
    return out_r, out_v


def _rotate_into(
    r: FloatArray,
    v: FloatArray,
    rot: FloatArray,
    rate: FloatArray,
    out_r: FloatArray,
    out_v: FloatArray,
) -> None:
    """``out_r = rot @ r``, ``out_v = rot @ v + rate @ r`` for ``(..., T, 3)`` and ``(T, 3, 3)``.

    Each output component is summed in the same order (``x*m0 + y*m1 + z*m2``, then
    ``rot @ v`` plus ``rate @ r``) by both kernels, so results do not depend on how a job is
    chunked: every path, serial or parallel, gives bit-identical numbers.
    """
    if r.size <= _SMALL_KERNEL_MAX:
        # Small arrays: call overhead dominates; all nine products at once (~10 calls instead
        # of ~40), summed in the large kernel's order (einsum's order is its own, and with
        # polar motion the z terms are not zero).
        p = r[..., None, :] * rot
        np.add(p[..., 0], p[..., 1], out=out_r)
        out_r += p[..., 2]
        p = v[..., None, :] * rot
        np.add(p[..., 0], p[..., 1], out=out_v)
        out_v += p[..., 2]
        q = r[..., None, :2] * rate[..., :2]
        out_v += q[..., 0] + q[..., 1]
        return
    # Large arrays: plain ufuncs on cache-sized chunks, 3-4x faster than einsum per element.
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    vx, vy, vz = v[..., 0], v[..., 1], v[..., 2]
    tmp = np.empty(x.shape)
    acc = np.empty(x.shape)
    for i in range(3):
        ri = out_r[..., i]
        np.multiply(x, rot[:, i, 0], out=ri)
        np.multiply(y, rot[:, i, 1], out=tmp)
        ri += tmp
        np.multiply(z, rot[:, i, 2], out=tmp)
        ri += tmp
        vi = out_v[..., i]
        np.multiply(vx, rot[:, i, 0], out=vi)
        np.multiply(vy, rot[:, i, 1], out=tmp)
        vi += tmp
        np.multiply(vz, rot[:, i, 2], out=tmp)
        vi += tmp
        # Earth-rotation term. The rate matrix has a zero third column (rotation about z;
        # the slow drift of polar motion is neglected, as Skyfield does), so z drops out.
        np.multiply(x, rate[:, i, 0], out=acc)
        np.multiply(y, rate[:, i, 1], out=tmp)
        acc += tmp
        vi += acc


class _Vermeille(NamedTuple):
    """Intermediate results of the closed-form inversion (Vermeille 2004), for callers that need
    more than latitude and height (the ellipsoid normal) without trigonometric calls."""

    lat_rad: FloatArray
    alt_km: FloatArray
    # The normal's direction is (x * k / (k + e2), y * k / (k + e2), z) / dz.
    k: FloatArray
    dz: FloatArray


def _vermeille(x: FloatArray, y: FloatArray, z: FloatArray, ellipsoid: Ellipsoid) -> _Vermeille:
    """Geodetic latitude (rad) and height (km) of ITRS points, closed form (Vermeille 2004)."""
    a2 = ellipsoid.a_km * ellipsoid.a_km
    e2 = ellipsoid.e2
    e4 = e2 * e2
    rho2 = x * x + y * y
    rho = np.sqrt(rho2)
    p = rho2 / a2
    q = (1.0 - e2) / a2 * (z * z)
    r = (p + q - e4) / 6.0
    s = e4 * p * q / (4.0 * r * r * r)
    t = np.cbrt(1.0 + s + np.sqrt(s * (2.0 + s)))
    u = r * (1.0 + t + 1.0 / t)
    v = np.sqrt(u * u + e4 * q)
    w = e2 * (u + v - q) / (2.0 * v)
    k = np.sqrt(u + v + w * w) - w
    d = k * rho / (k + e2)
    dz = np.hypot(d, z)
    lat = 2.0 * np.arctan2(z, d + dz)
    alt = (k + e2 - 1.0) / k * dz
    return _Vermeille(lat, np.asarray(alt, dtype=np.float64), k, dz)


def geodetic_from_itrs(xyz_km: npt.ArrayLike, *, ellipsoid: Ellipsoid = WGS84) -> Geodetic:
    """Geodetic latitude, longitude (degrees, east positive, [-180, 180)) and altitude (km).

    ``xyz_km`` has shape ``(..., 3)`` in ITRS; each output has shape ``(...)``. Closed form
    (Vermeille 2004), exact to well below a millimetre for any point above the Earth's centre
    region; NaN in gives NaN out. WGS-84 unless another ``ellipsoid`` is given.
    """
    xyz = np.asarray(xyz_km, dtype=np.float64)
    if xyz.shape[-1:] != (3,):
        raise ValueError(f"expected an array of shape (..., 3), got {xyz.shape}")
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    sol = _vermeille(x, y, z, ellipsoid)
    lon = np.arctan2(y, x)
    lat_deg: FloatArray = np.degrees(sol.lat_rad)
    lon_deg: FloatArray = np.degrees(lon)
    # arctan2 gives (-180, 180]; fold +180 onto -180 so longitudes are in [-180, 180).
    lon_deg = np.where(lon_deg >= 180.0, lon_deg - 360.0, lon_deg)
    return Geodetic(lat_deg, lon_deg, sol.alt_km)


def itrs_from_geodetic(
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    alt_km: npt.ArrayLike = 0.0,
    *,
    ellipsoid: Ellipsoid = WGS84,
) -> FloatArray:
    """ITRS position (km, shape ``(..., 3)``) of geodetic latitude, longitude (deg) and altitude
    (km) on WGS-84, or on another ``ellipsoid``."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    alt = np.asarray(alt_km, dtype=np.float64)
    e2 = ellipsoid.e2
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    n = ellipsoid.a_km / np.sqrt(1.0 - e2 * sin_lat * sin_lat)
    xy = (n + alt) * cos_lat
    out: FloatArray = np.stack(
        np.broadcast_arrays(xy * np.cos(lon), xy * np.sin(lon), (n * (1.0 - e2) + alt) * sin_lat),
        axis=-1,
    )
    return out
