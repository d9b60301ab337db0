"""Look geometry between ground sites and satellites, in the Earth-fixed ITRS frame (km).

Every function takes plain numpy arrays: satellite positions ``(..., 3)`` in km and velocities
``(..., 3)`` in km/s, both Earth-fixed (ITRS, as Skyfield's ``frame_xyz(itrs)`` or overflight's
propagator gives them). Sites are WGS-84 geodetic (latitude, longitude, height above the
ellipsoid). Elevation is geometric (no refraction); "up" is the ellipsoid normal (geodetic).
The ellipsoid and the geodetic conversions are :mod:`overflight.frames`' (re-exported here as
``WGS84`` and ``Ellipsoid``). Definitions and formulas: docs/geometry.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from overflight.frames import WGS84, Ellipsoid, _vermeille, itrs_from_geodetic

__all__ = [
    "WGS84",
    "Ellipsoid",
    "LookAngles",
    "NadirPoint",
    "Site",
    "Sites",
    "ViewGeometry",
    "elevation_deg",
    "enu_matrices",
    "look_angles",
    "look_angles_arrays",
    "look_angles_pairs",
    "nadir_point",
    "off_nadir_arrays",
    "sites_itrs_km",
    "up_vectors",
    "view_geometry",
    "view_geometry_arrays",
    "view_geometry_pairs",
]

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.ArrayLike

# Rows processed at a time in the one-site kernels: the ~8 float64 temporaries of a chunk
# (128 kB each) stay in L2 cache; 2**14 was fastest of 2**12..2**18 (benchmarks/geometry.py).
_CHUNK = 1 << 14


def _as_float(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def sites_itrs_km(
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    alt_m: npt.ArrayLike = 0.0,
    *,
    ellipsoid: Ellipsoid = WGS84,
) -> FloatArray:
    """ITRS positions ``(..., 3)`` in km of geodetic sites (degrees; height above ellipsoid, m).

    :func:`overflight.frames.itrs_from_geodetic` with the height in metres.
    """
    return itrs_from_geodetic(lat_deg, lon_deg, _as_float(alt_m) / 1000.0, ellipsoid=ellipsoid)


def up_vectors(lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> FloatArray:
    """Local geodetic up (ellipsoid normal) unit vectors ``(..., 3)`` in ITRS."""
    return enu_matrices(lat_deg, lon_deg)[..., 2, :]


def enu_matrices(lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> FloatArray:
    """Rotations ``(..., 3, 3)`` from ITRS to local east-north-up; rows are E, N, U unit vectors."""
    lat = np.radians(_as_float(lat_deg))
    lon = np.radians(_as_float(lon_deg))
    lat, lon = np.broadcast_arrays(lat, lon)
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    zero = np.zeros_like(lat)
    east = np.stack([-so, co, zero], axis=-1)
    north = np.stack([-sl * co, -sl * so, cl], axis=-1)
    up = np.stack([cl * co, cl * so, sl], axis=-1)
    return np.stack([east, north, up], axis=-2)


@dataclass(frozen=True, slots=True)
class Site:
    """A ground site: WGS-84 geodetic latitude/longitude (deg), height above the ellipsoid (m)."""

    name: str
    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0

    def __post_init__(self) -> None:
        for label, value in (
            ("lat_deg", self.lat_deg),
            ("lon_deg", self.lon_deg),
            ("alt_m", self.alt_m),
        ):
            if not math.isfinite(value):
                raise ValueError(f"site {self.name!r}: {label} must be finite, got {value}")
        if not -90.0 <= self.lat_deg <= 90.0:
            raise ValueError(f"site {self.name!r}: lat_deg {self.lat_deg} is outside -90..90")
        if not -360.0 <= self.lon_deg <= 360.0:
            raise ValueError(f"site {self.name!r}: lon_deg {self.lon_deg} is outside -360..360")
        if self.alt_m < -12_000.0:
            raise ValueError(f"site {self.name!r}: alt_m {self.alt_m} is below -12000 m")

    def __reduce__(self) -> tuple[type[Site], tuple[str, float, float, float]]:
        # Pickled as a plain tuple: the dataclass's generic state (slots) looks its fields up
        # for every object, ~20 µs each: 4.8 s to send a 1-km grid's 224,510 points to a cluster.
        return (Site, (self.name, self.lat_deg, self.lon_deg, self.alt_m))

    @property
    def itrs_km(self) -> FloatArray:
        """ITRS position ``(3,)``, km."""
        return sites_itrs_km(self.lat_deg, self.lon_deg, self.alt_m)

    @property
    def up(self) -> FloatArray:
        """Geodetic up unit vector ``(3,)`` in ITRS."""
        return up_vectors(self.lat_deg, self.lon_deg)

    @property
    def enu(self) -> FloatArray:
        """ITRS→ENU rotation ``(3, 3)``; rows east, north, up."""
        return enu_matrices(self.lat_deg, self.lon_deg)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "lat_deg": self.lat_deg,
            "lon_deg": self.lon_deg,
            "alt_m": self.alt_m,
        }


@dataclass(frozen=True, eq=False)
class Sites:
    """Many sites as arrays (for vectorized geometry): ``M`` names, latitudes, longitudes, heights.

    Build with :meth:`from_sites` or :meth:`from_arrays`; ``itrs_km`` ``(M, 3)`` and ``enu``
    ``(M, 3, 3)`` are computed once.
    """

    names: tuple[str, ...]
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_m: FloatArray
    itrs_km: FloatArray = field(repr=False)
    enu: FloatArray = field(repr=False)

    @classmethod
    def from_sites(cls, sites: Sequence[Site]) -> Sites:
        """From a sequence of :class:`Site`."""
        return cls.from_arrays(
            [s.lat_deg for s in sites],
            [s.lon_deg for s in sites],
            [s.alt_m for s in sites],
            names=[s.name for s in sites],
        )

    @classmethod
    def from_arrays(
        cls,
        lat_deg: npt.ArrayLike,
        lon_deg: npt.ArrayLike,
        alt_m: npt.ArrayLike = 0.0,
        *,
        names: Sequence[str] | None = None,
    ) -> Sites:
        """From 1-D arrays of geodetic latitude/longitude (deg) and height (m)."""
        lat, lon, alt = np.broadcast_arrays(
            np.atleast_1d(_as_float(lat_deg)),
            np.atleast_1d(_as_float(lon_deg)),
            np.atleast_1d(_as_float(alt_m)),
        )
        if lat.ndim != 1:
            raise ValueError("sites: latitude/longitude/height must be 1-D arrays")
        bad = ~(np.isfinite(lat) & np.isfinite(lon) & np.isfinite(alt)) | (np.abs(lat) > 90.0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"sites: site {i} has an invalid latitude/longitude/height "
                f"({lat[i]}, {lon[i]}, {alt[i]})"
            )
        if names is None:
            names = [f"site-{i}" for i in range(lat.size)]
        if len(names) != lat.size:
            raise ValueError(f"sites: {len(names)} names for {lat.size} sites")
        lat, lon, alt = lat.copy(), lon.copy(), alt.copy()
        return cls(
            tuple(names), lat, lon, alt, sites_itrs_km(lat, lon, alt), enu_matrices(lat, lon)
        )

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> Site:
        return Site(
            self.names[i], float(self.lat_deg[i]), float(self.lon_deg[i]), float(self.alt_m[i])
        )


@dataclass(frozen=True, eq=False)
class LookAngles:
    """Topocentric look angles from a site to a satellite (arrays of one shape).

    ``azimuth_deg`` 0..360 clockwise from geodetic north, ``elevation_deg`` geometric above the
    plane normal to the geodetic up (no refraction), ``range_km`` slant range, and
    ``range_rate_km_s`` (positive when receding; None when no velocity was given).
    """

    azimuth_deg: FloatArray
    elevation_deg: FloatArray
    range_km: FloatArray
    range_rate_km_s: FloatArray | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "azimuth_deg": self.azimuth_deg.tolist(),
            "elevation_deg": self.elevation_deg.tolist(),
            "range_km": self.range_km.tolist(),
        }
        if self.range_rate_km_s is not None:
            out["range_rate_km_s"] = self.range_rate_km_s.tolist()
        return out


@dataclass(frozen=True, eq=False)
class NadirPoint:
    """Geodetic sub-satellite point: latitude (deg), longitude (deg, -180..180], height (km)."""

    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_km: FloatArray

    def to_dict(self) -> dict[str, Any]:
        return {
            "lat_deg": self.lat_deg.tolist(),
            "lon_deg": self.lon_deg.tolist(),
            "alt_km": self.alt_km.tolist(),
        }


@dataclass(frozen=True, eq=False)
class ViewGeometry:
    """Satellite-side view of a site (arrays of one shape), all angles in degrees.

    ``off_nadir_deg``: at the satellite, between the geodetic nadir and the line of sight to the
    site. ``incidence_deg``: at the site, between geodetic up and the line to the satellite
    (90 − elevation). ``central_angle_deg``: at Earth's centre, between the nadir point and the
    site. ``nadir_lat_deg``/``nadir_lon_deg``: geodetic sub-satellite point.
    """

    off_nadir_deg: FloatArray
    incidence_deg: FloatArray
    central_angle_deg: FloatArray
    elevation_deg: FloatArray
    range_km: FloatArray
    nadir_lat_deg: FloatArray
    nadir_lon_deg: FloatArray

    def to_dict(self) -> dict[str, Any]:
        return {
            "off_nadir_deg": self.off_nadir_deg.tolist(),
            "incidence_deg": self.incidence_deg.tolist(),
            "central_angle_deg": self.central_angle_deg.tolist(),
            "elevation_deg": self.elevation_deg.tolist(),
            "range_km": self.range_km.tolist(),
            "nadir_lat_deg": self.nadir_lat_deg.tolist(),
            "nadir_lon_deg": self.nadir_lon_deg.tolist(),
        }


def _check_xyz(name: str, arr: npt.ArrayLike) -> FloatArray:
    a = _as_float(arr)
    if a.ndim == 0 or a.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (..., 3), got {a.shape}")
    return a


# ---------------------------------------------------------------------------------------------
# Kernels on flat (N, 3) arrays against one site.


def _look_flat(
    sat: FloatArray,
    vel: FloatArray | None,
    site_xyz: FloatArray,
    enu: FloatArray,
    az: FloatArray | None,
    el: FloatArray,
    rng: FloatArray,
    rr: FloatArray | None,
) -> None:
    """Fill az/el/range/range-rate for flat ``sat`` (N, 3) against one site, in chunks.

    Written component by component with in-place operations: a (N, 3) @ (3, 3) matmul and
    ``np.hypot`` were each several times slower than the whole kernel (benchmarks/geometry.py).
    """
    n = sat.shape[0]
    (e0, e1, _), (n0, n1, n2), (u0, u1, u2) = enu.tolist()
    sx, sy, sz = site_xyz.tolist()
    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        blk = sat[lo:hi]
        dx = blk[:, 0] - sx
        dy = blk[:, 1] - sy
        dz = blk[:, 2] - sz
        e = e0 * dx
        e += e1 * dy
        no = n0 * dx
        no += n1 * dy
        no += n2 * dz
        u = u0 * dx
        u += u1 * dy
        u += u2 * dz
        horiz = e * e
        horiz += no * no
        r = u * u
        r += horiz
        np.sqrt(r, out=r)
        rng[lo:hi] = r
        np.sqrt(horiz, out=horiz)
        # atan2 keeps full precision near the zenith where arcsin(u/range) would not.
        np.arctan2(u, horiz, out=u)
        np.degrees(u, out=el[lo:hi])
        if az is not None:
            np.arctan2(e, no, out=e)
            np.degrees(e, out=e)
            az[lo:hi] = _wrap360(e)
        if rr is not None and vel is not None:
            v = vel[lo:hi]
            dx *= v[:, 0]
            dy *= v[:, 1]
            dz *= v[:, 2]
            dx += dy
            dx += dz
            np.divide(dx, r, out=rr[lo:hi])


def _wrap360(a: FloatArray) -> FloatArray:
    """Degrees from atan2 (-180..180] into [0, 360)."""
    a = np.where(a < 0.0, a + 360.0, a)
    a[a >= 360.0] = 0.0  # a tiny negative angle plus 360 rounds to 360
    return a


def _flat(a: FloatArray) -> FloatArray:
    return np.ascontiguousarray(a.reshape(-1, 3))


def look_angles_arrays(
    sat_itrs_km: npt.ArrayLike,
    site_itrs_km: npt.ArrayLike,
    site_enu: npt.ArrayLike,
    sat_vel_itrs_km_s: npt.ArrayLike | None = None,
) -> LookAngles:
    """Look angles with full numpy broadcasting: satellites ``(..., 3)``, sites ``(..., 3)`` and
    their ITRS→ENU rotations ``(..., 3, 3)`` (see :func:`enu_matrices`). Returns arrays of the
    broadcast shape. Use :func:`look_angles` for the fast (S, T) one-site form."""
    sat = _check_xyz("sat_itrs_km", sat_itrs_km)
    site = _check_xyz("site_itrs_km", site_itrs_km)
    enu = _as_float(site_enu)
    d = sat - site
    local = np.einsum("...ij,...j->...i", enu, d)
    e, no, u = local[..., 0], local[..., 1], local[..., 2]
    horiz = np.hypot(e, no)
    el = np.degrees(np.arctan2(u, horiz))
    az = _wrap360(np.degrees(np.arctan2(e, no)))
    rng = np.sqrt(horiz * horiz + u * u)
    rr = None
    if sat_vel_itrs_km_s is not None:
        vel = _check_xyz("sat_vel_itrs_km_s", sat_vel_itrs_km_s)
        rr = np.einsum("...i,...i->...", d, vel) / rng
    return LookAngles(az, el, rng, rr)


def look_angles(
    sat_itrs_km: npt.ArrayLike,
    site: Site | Sites,
    sat_vel_itrs_km_s: npt.ArrayLike | None = None,
) -> LookAngles:
    """Azimuth, elevation (deg), slant range (km) and range rate (km/s) of satellites from a site.

    ``sat_itrs_km`` is ``(..., 3)`` (typically ``(S, T, 3)``); with one :class:`Site` the results
    have shape ``(...)``, with :class:`Sites` of M sites ``(M, ...)`` (mind the memory: M × S × T
    floats per array). Range rate only when ``sat_vel_itrs_km_s`` (same shape) is given.
    """
    sat = _check_xyz("sat_itrs_km", sat_itrs_km)
    vel = None
    if sat_vel_itrs_km_s is not None:
        vel = _check_xyz("sat_vel_itrs_km_s", sat_vel_itrs_km_s)
        if vel.shape != sat.shape:
            raise ValueError(f"velocities {vel.shape} do not match positions {sat.shape}")
    shape = sat.shape[:-1]
    flat = _flat(sat)
    vflat = None if vel is None else _flat(vel)
    if isinstance(site, Site):
        xyz, enu = site.itrs_km[None], site.enu[None]
        lead: tuple[int, ...] = ()
    else:
        xyz, enu = site.itrs_km, site.enu
        lead = (len(site),)
    m = xyz.shape[0]
    n = flat.shape[0]
    az = np.empty((m, n))
    el = np.empty((m, n))
    rng = np.empty((m, n))
    rr = np.empty((m, n)) if vflat is not None else None
    for k in range(m):  # sites are few; each call is vectorized over all satellites × times
        _look_flat(flat, vflat, xyz[k], enu[k], az[k], el[k], rng[k], None if rr is None else rr[k])
    out_shape = lead + shape
    return LookAngles(
        az.reshape(out_shape),
        el.reshape(out_shape),
        rng.reshape(out_shape),
        None if rr is None else rr.reshape(out_shape),
    )


def elevation_deg(sat_itrs_km: npt.ArrayLike, site: Site | Sites) -> FloatArray:
    """Geometric elevation (deg) only: the fast path for visibility screening.

    Shapes as :func:`look_angles`: ``(...)`` for one site, ``(M, ...)`` for M sites.
    """
    sat = _check_xyz("sat_itrs_km", sat_itrs_km)
    shape = sat.shape[:-1]
    flat = _flat(sat)
    if isinstance(site, Site):
        xyz, ups = site.itrs_km[None], site.up[None]
        lead: tuple[int, ...] = ()
    else:
        xyz, ups = site.itrs_km, site.enu[:, 2, :]
        lead = (len(site),)
    n = flat.shape[0]
    out = np.empty((xyz.shape[0], n))
    for k in range(xyz.shape[0]):
        u0, u1, u2 = ups[k].tolist()
        sx, sy, sz = xyz[k].tolist()
        for lo in range(0, n, _CHUNK):
            hi = min(lo + _CHUNK, n)
            blk = flat[lo:hi]
            dx = blk[:, 0] - sx
            dy = blk[:, 1] - sy
            dz = blk[:, 2] - sz
            u = u0 * dx
            u += u1 * dy
            u += u2 * dz
            dx *= dx
            dy *= dy
            dz *= dz
            dx += dy
            dx += dz
            np.sqrt(dx, out=dx)
            u /= dx
            np.clip(u, -1.0, 1.0, out=u)
            np.arcsin(u, out=u)
            np.degrees(u, out=out[k, lo:hi])
    return out.reshape(lead + shape)


def _gather(
    sat_itrs_km: npt.ArrayLike,
    sat_index: IndexArray,
    time_index: IndexArray,
) -> FloatArray:
    sat = _check_xyz("sat_itrs_km", sat_itrs_km)
    if sat.ndim != 3:
        raise ValueError(f"sat_itrs_km must have shape (S, T, 3), got {sat.shape}")
    return sat[np.asarray(sat_index, dtype=np.intp), np.asarray(time_index, dtype=np.intp)]


def look_angles_pairs(
    sat_itrs_km: npt.ArrayLike,
    sites: Sites,
    sat_index: IndexArray,
    time_index: IndexArray,
    site_index: IndexArray,
    sat_vel_itrs_km_s: npt.ArrayLike | None = None,
) -> LookAngles:
    """Look angles for N (satellite, time, site) triples picked by index arrays ``(N,)`` from
    ``sat_itrs_km`` ``(S, T, 3)`` and ``sites``; results have shape ``(N,)``."""
    sat = _gather(sat_itrs_km, sat_index, time_index)
    vel = None
    if sat_vel_itrs_km_s is not None:
        vel = _gather(sat_vel_itrs_km_s, sat_index, time_index)
    k = np.asarray(site_index, dtype=np.intp)
    return look_angles_arrays(sat, sites.itrs_km[k], sites.enu[k], vel)


def nadir_point(sat_itrs_km: npt.ArrayLike, *, ellipsoid: Ellipsoid = WGS84) -> NadirPoint:
    """Geodetic sub-satellite point of ITRS positions ``(..., 3)`` km: the foot of the ellipsoid
    normal through the satellite (latitude, longitude in degrees, height in km)."""
    sat = _check_xyz("sat_itrs_km", sat_itrs_km)
    g = _Geodetic(sat, ellipsoid)
    return NadirPoint(g.lat_deg(), g.lon_deg(), g.height_km())


class _Geodetic:
    """Geodetic coordinates of ITRS points ``(..., 3)`` and their ellipsoid normals, from the
    closed-form inversion of :mod:`overflight.frames` (the normal without trigonometric calls)."""

    def __init__(self, xyz: FloatArray, ell: Ellipsoid) -> None:
        self._xyz = xyz
        self._sol = _vermeille(xyz[..., 0], xyz[..., 1], xyz[..., 2], ell)
        self._e2 = ell.e2
        self._normal: FloatArray | None = None

    def lat_deg(self) -> FloatArray:
        out: FloatArray = np.degrees(self._sol.lat_rad)
        return out

    def lon_deg(self) -> FloatArray:
        out: FloatArray = np.degrees(np.arctan2(self._xyz[..., 1], self._xyz[..., 0]))
        return out

    def height_km(self) -> FloatArray:
        return self._sol.alt_km

    def normal(self) -> FloatArray:
        """Ellipsoid normal (geodetic up) unit vectors ``(..., 3)``."""
        if self._normal is None:
            k, dz = self._sol.k, self._sol.dz
            # (cos lat cos lon, cos lat sin lon, sin lat) with cos lat = d / dz, sin lat = z / dz
            # and d = k rho / (k + e2): no division by rho, so the polar axis needs no care.
            horiz = k / ((k + self._e2) * dz)
            xyz = self._xyz
            self._normal = np.stack(
                [xyz[..., 0] * horiz, xyz[..., 1] * horiz, xyz[..., 2] / dz], axis=-1
            )
        return self._normal

    def surface(self) -> FloatArray:
        """The sub-point on the ellipsoid surface (height 0), ITRS km ``(..., 3)``."""
        out: FloatArray = self._xyz - self._sol.alt_km[..., None] * self.normal()
        return out


def view_geometry_arrays(
    sat_itrs_km: npt.ArrayLike,
    site_itrs_km: npt.ArrayLike,
    site_up: npt.ArrayLike,
    *,
    ellipsoid: Ellipsoid = WGS84,
) -> ViewGeometry:
    """:class:`ViewGeometry` with full broadcasting: satellites ``(..., 3)``, sites ``(..., 3)``
    and their geodetic up unit vectors ``(..., 3)`` (see :func:`up_vectors`)."""
    sat = _check_xyz("sat_itrs_km", sat_itrs_km)
    site = _check_xyz("site_itrs_km", site_itrs_km)
    up = _check_xyz("site_up", site_up)
    g = _Geodetic(sat, ellipsoid)
    los = site - sat
    rng = np.sqrt(_dot(los, los))
    # Off-nadir: geodetic nadir (minus the ellipsoid normal at the sub-satellite point) against
    # the line of sight; the normal through the satellite points at the satellite.
    off_nadir = _angle_between(-g.normal(), los)
    # Incidence at the site: the line site→satellite against geodetic up (atan2 form, exact
    # near the zenith).
    incidence = _angle_between(up, -los)
    el = 90.0 - incidence
    central = _angle_between(g.surface(), site)
    shape = rng.shape
    return ViewGeometry(
        off_nadir_deg=off_nadir,
        incidence_deg=incidence,
        central_angle_deg=central,
        elevation_deg=el,
        range_km=rng,
        nadir_lat_deg=np.broadcast_to(g.lat_deg(), shape).copy(),
        nadir_lon_deg=np.broadcast_to(g.lon_deg(), shape).copy(),
    )


def off_nadir_arrays(
    sat_itrs_km: npt.ArrayLike,
    site_itrs_km: npt.ArrayLike,
    *,
    ellipsoid: Ellipsoid = WGS84,
) -> FloatArray:
    """The off-nadir angle (deg) of :func:`view_geometry_arrays` alone, the same values: what
    the window engine's search evaluates millions of times."""
    sat = _check_xyz("sat_itrs_km", sat_itrs_km)
    site = _check_xyz("site_itrs_km", site_itrs_km)
    return _angle_between(-_Geodetic(sat, ellipsoid).normal(), site - sat)


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    out: FloatArray = a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]
    return out


def _angle_between(a: FloatArray, b: FloatArray) -> FloatArray:
    """Angle (deg) between vectors along the last axis; atan2 form, accurate near 0 and 180."""
    ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
    bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
    cx = ay * bz - az * by
    cy = az * bx - ax * bz
    cz = ax * by - ay * bx
    sin_part = np.sqrt(cx * cx + cy * cy + cz * cz)
    out: FloatArray = np.degrees(np.arctan2(sin_part, _dot(a, b)))
    return out


def view_geometry(
    sat_itrs_km: npt.ArrayLike,
    site: Site | Sites,
    *,
    ellipsoid: Ellipsoid = WGS84,
) -> ViewGeometry:
    """Off-nadir, incidence and Earth-central angles (deg), elevation, range and nadir point of
    satellites ``(..., 3)`` against one site (results ``(...)``) or M sites (``(M, ...)``)."""
    sat = _check_xyz("sat_itrs_km", sat_itrs_km)
    if isinstance(site, Site):
        return view_geometry_arrays(sat, site.itrs_km, site.up, ellipsoid=ellipsoid)
    extra = (1,) * (sat.ndim - 1)
    xyz = site.itrs_km.reshape((len(site), *extra, 3))
    up = site.enu[:, 2, :].reshape((len(site), *extra, 3))
    return view_geometry_arrays(sat[None], xyz, up, ellipsoid=ellipsoid)


def view_geometry_pairs(
    sat_itrs_km: npt.ArrayLike,
    sites: Sites,
    sat_index: IndexArray,
    time_index: IndexArray,
    site_index: IndexArray,
    *,
    ellipsoid: Ellipsoid = WGS84,
) -> ViewGeometry:
    """:func:`view_geometry` for N (satellite, time, site) triples picked by index arrays."""
    sat = _gather(sat_itrs_km, sat_index, time_index)
    k = np.asarray(site_index, dtype=np.intp)
    return view_geometry_arrays(sat, sites.itrs_km[k], sites.enu[k, 2, :], ellipsoid=ellipsoid)
