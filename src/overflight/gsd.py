"""First-order ground-sample-distance (GSD) model for an imaging sensor looking off nadir.

A detector pixel subtends a fixed angle (IFOV = nadir GSD / reference altitude). At slant range
``R`` its footprint normal to the line of sight is ``IFOV × R``; projected on the local
horizontal plane at the target it is stretched by ``1 / cos(incidence)`` in the plane of
incidence (the vertical plane containing the line of sight) and unchanged across it. The single
figure usually quoted is the geometric mean of the two (as in the General Image Quality
Equation). Assumptions and caveats: docs/geometry.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from overflight.constants import MEAN_EARTH_RADIUS_KM

__all__ = [
    "GroundSampleDistance",
    "SlantGeometry",
    "gsd",
    "gsd_at_off_nadir",
    "spherical_slant_geometry",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class GroundSampleDistance:
    """Ground sample distance in metres (arrays of one shape; NaN where the target is not in
    view, i.e. incidence ≥ 90°).

    ``in_plane_m``: along the ground in the plane of incidence (across-track for a roll-only
    look). ``cross_plane_m``: perpendicular to it. ``mean_m``: their geometric mean.
    """

    in_plane_m: FloatArray
    cross_plane_m: FloatArray
    mean_m: FloatArray

    def to_dict(self) -> dict[str, Any]:
        return {"in_plane_m": self.in_plane_m.tolist(),
                "cross_plane_m": self.cross_plane_m.tolist(),
                "mean_m": self.mean_m.tolist()}


def _positive(name: str, value: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr) & (arr > 0)):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return arr


def gsd(
    nadir_gsd_m: npt.ArrayLike,
    reference_altitude_km: npt.ArrayLike,
    range_km: npt.ArrayLike,
    incidence_deg: npt.ArrayLike,
) -> GroundSampleDistance:
    """GSD (m) at slant ``range_km`` and ground ``incidence_deg`` (90 − elevation) for a sensor
    whose nadir GSD is ``nadir_gsd_m`` at ``reference_altitude_km``. Inputs broadcast.

    ``cross_plane = nadir_gsd × range / ref_alt``; ``in_plane = cross_plane / cos(incidence)``;
    ``mean = sqrt(in_plane × cross_plane)``.
    """
    g0 = _positive("nadir_gsd_m", nadir_gsd_m)
    h0 = _positive("reference_altitude_km", reference_altitude_km)
    rng = np.asarray(range_km, dtype=np.float64)
    inc = np.asarray(incidence_deg, dtype=np.float64)
    cos_i = np.cos(np.radians(inc))
    visible = (inc >= 0.0) & (inc < 90.0) & (rng > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.where(visible, g0 * rng / h0, np.nan)
        in_plane = np.where(visible, cross / cos_i, np.nan)
        mean = np.sqrt(in_plane * cross)
    cross, in_plane, mean = np.broadcast_arrays(cross, in_plane, mean)
    return GroundSampleDistance(np.array(in_plane), np.array(cross), np.array(mean))


@dataclass(frozen=True, eq=False)
class SlantGeometry:
    """Spherical-Earth geometry of a look at ``off_nadir_deg`` from ``altitude_km`` (NaN past
    the horizon): slant range (km), incidence and Earth-central angles (deg)."""

    range_km: FloatArray
    incidence_deg: FloatArray
    central_angle_deg: FloatArray


def spherical_slant_geometry(
    altitude_km: npt.ArrayLike,
    off_nadir_deg: npt.ArrayLike,
    *,
    earth_radius_km: float = MEAN_EARTH_RADIUS_KM,
) -> SlantGeometry:
    """Slant range, incidence and central angle for a look ``off_nadir_deg`` from a satellite at
    ``altitude_km`` above a spherical Earth: ``sin(incidence) = (R + h) / R × sin(off_nadir)``,
    ``central = incidence − off_nadir``, range by the law of cosines."""
    h = np.asarray(altitude_km, dtype=np.float64)
    eta = np.radians(np.asarray(off_nadir_deg, dtype=np.float64))
    r = earth_radius_km
    s = (r + h) / r * np.sin(eta)
    with np.errstate(invalid="ignore"):
        inc = np.where((s < 1.0) & (eta >= 0.0), np.arcsin(np.minimum(s, 1.0)), np.nan)
    central = inc - eta
    # Law of cosines in its half-angle form: exact at nadir (where the sine form is 0/0) and
    # free of cancellation for small central angles.
    rng = np.sqrt(h * h + 4.0 * r * (r + h) * np.sin(central / 2.0) ** 2)
    return SlantGeometry(rng, np.degrees(inc), np.degrees(central))


def gsd_at_off_nadir(
    nadir_gsd_m: npt.ArrayLike,
    reference_altitude_km: npt.ArrayLike,
    altitude_km: npt.ArrayLike,
    off_nadir_deg: npt.ArrayLike,
    *,
    earth_radius_km: float = MEAN_EARTH_RADIUS_KM,
) -> GroundSampleDistance:
    """GSD (m) of a sensor at ``altitude_km`` looking ``off_nadir_deg`` over a spherical Earth
    (range and incidence from :func:`spherical_slant_geometry`, then :func:`gsd`)."""
    geo = spherical_slant_geometry(altitude_km, off_nadir_deg, earth_radius_km=earth_radius_km)
    return gsd(nadir_gsd_m, reference_altitude_km, geo.range_km, geo.incidence_deg)
