"""Reference frames: TEME (SGP4's output) to the Earth-fixed ITRS, and WGS-84 geodetic coordinates.

The TEME→ITRS rotation is the one Skyfield applies in ``EarthSatellite.at(t).frame_xyz(itrs)``:
a rotation about the z axis by Greenwich mean sidereal time (IAU 1982 formula, from UT1, AIAA
2006-6753 appendix C), followed by polar motion when the timescale carries a polar-motion table.
The timescale from :func:`overflight.times.timescale` has none, so, like Skyfield by default,
polar motion (about 10 m on the ground) is neglected. UT1 comes from Skyfield's timescale with
the offline Earth-orientation data of ``skyfield-data``.

Array conventions: times are ``datetime64[ns]`` UTC arrays of shape ``(T,)``; vectors are
``(..., 3)`` float64 arrays in km and km/s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt

from overflight.times import skyfield_time, to_datetime64

if TYPE_CHECKING:
    from datetime import datetime

    from skyfield.timelib import Time

__all__ = [
    "WGS84_A_KM",
    "WGS84_E2",
    "WGS84_F",
    "Geodetic",
    "geodetic_from_itrs",
    "itrs_from_geodetic",
    "rotate_teme_to_itrs",
    "teme_to_itrs_matrices",
]

FloatArray = npt.NDArray[np.float64]

# WGS-84 ellipsoid (the geodetic datum; SGP4 itself uses WGS-72 internally).
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

_DAY_S = 86400.0
# Up to this many vector components (satellite-times x 3) the rotation uses einsum.
_SMALL_KERNEL_MAX = 768


class Geodetic(NamedTuple):
    """Geodetic coordinates on WGS-84: latitude and longitude in degrees, altitude in km."""

    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_km: FloatArray


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
    from skyfield.sgp4lib import theta_GMST1982

    whole = np.atleast_1d(np.asarray(t.whole, dtype=np.float64))
    ut1_fraction = np.atleast_1d(np.asarray(t.ut1_fraction, dtype=np.float64))
    theta, theta_dot_per_day = theta_GMST1982(whole, ut1_fraction)
    theta = np.asarray(theta, dtype=np.float64)
    n = theta.shape[0]
    # d(theta)/dt in rad per second of UT1 (Skyfield's TEME_to_ITRF uses the same rate).
    w = np.asarray(theta_dot_per_day, dtype=np.float64) / _DAY_S
    c = np.cos(theta)
    s = np.sin(theta)
    zero = np.zeros(n)
    rot = np.stack([c, s, zero, -s, c, zero, zero, zero, zero + 1.0], axis=-1).reshape(n, 3, 3)
    ws = w * s
    wc = w * c
    rate = np.stack([-ws, wc, zero, -wc, -ws, zero, zero, zero, zero], axis=-1).reshape(n, 3, 3)
    if t.ts.polar_motion_table is not None:
        # Skyfield's itrs frame applies polar motion W after the Earth rotation.
        pm = np.asarray(t.polar_motion_matrix(), dtype=np.float64)
        pm = np.moveaxis(pm.reshape(3, 3, -1), -1, 0)
        pm = np.broadcast_to(pm, (n, 3, 3))
        rot = np.matmul(pm, rot)
        rate = np.matmul(pm, rate)
    return rot, rate


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
        # Small arrays: call overhead dominates, einsum needs three calls instead of ~40.
        np.einsum("tij,...tj->...ti", rot, r, out=out_r)
        np.einsum("tij,...tj->...ti", rot, v, out=out_v)
        out_v += np.einsum("tij,...tj->...ti", rate, r)
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


def geodetic_from_itrs(xyz_km: npt.ArrayLike) -> Geodetic:
    """WGS-84 geodetic latitude, longitude (degrees, east positive, [-180, 180)) and altitude (km).

    ``xyz_km`` has shape ``(..., 3)`` in ITRS; each output has shape ``(...)``. Closed form
    (Vermeille 2004), exact to well below a millimetre for any point above the Earth's centre
    region; NaN in gives NaN out.
    """
    xyz = np.asarray(xyz_km, dtype=np.float64)
    if xyz.shape[-1:] != (3,):
        raise ValueError(f"expected an array of shape (..., 3), got {xyz.shape}")
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    a2 = WGS84_A_KM * WGS84_A_KM
    e2 = WGS84_E2
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
    lon = np.arctan2(y, x)
    lat_deg: FloatArray = np.degrees(lat)
    lon_deg: FloatArray = np.degrees(lon)
    # arctan2 gives (-180, 180]; fold +180 onto -180 so longitudes are in [-180, 180).
    lon_deg = np.where(lon_deg >= 180.0, lon_deg - 360.0, lon_deg)
    return Geodetic(lat_deg, lon_deg, np.asarray(alt, dtype=np.float64))


def itrs_from_geodetic(
    lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike, alt_km: npt.ArrayLike = 0.0
) -> FloatArray:
    """ITRS position (km, shape ``(..., 3)``) of WGS-84 latitude, longitude (deg), altitude (km)."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    alt = np.asarray(alt_km, dtype=np.float64)
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    xy = (n + alt) * cos_lat
    out: FloatArray = np.stack(
        np.broadcast_arrays(
            xy * np.cos(lon), xy * np.sin(lon), (n * (1.0 - WGS84_E2) + alt) * sin_lat
        ),
        axis=-1,
    )
    return out
