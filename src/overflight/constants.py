"""Physical constants, one home each, with units in every name.

SGP4 runs on WGS-72 (its gravity model and Earth radius are part of the element sets' definition);
geodesy (sites, sub-satellite points, heights) uses the WGS-84 ellipsoid. Mixing them is a bug:
import the one you mean from here.
"""

from __future__ import annotations

import math

__all__ = [
    "DAY_S",
    "EARTH_ROTATION_RAD_S",
    "MEAN_EARTH_RADIUS_KM",
    "SUN_MEAN_MOTION_DEG_DAY",
    "WGS72_J2",
    "WGS72_MU_KM3_S2",
    "WGS72_RADIUS_KM",
    "WGS84_A_KM",
    "WGS84_B_KM",
    "WGS84_E2",
    "WGS84_F",
    "XKE_PER_MIN",
]

DAY_S = 86400.0

# WGS-72, as SGP4 (Vallado et al. 2006, "Revisiting Spacetrack Report #3", sgp4's wgs72).
WGS72_MU_KM3_S2 = 398600.8
WGS72_RADIUS_KM = 6378.135
WGS72_J2 = 0.001082616
# sqrt(mu) in Earth radii^1.5 per minute, SGP4's ``xke``.
XKE_PER_MIN = 60.0 / math.sqrt(WGS72_RADIUS_KM**3 / WGS72_MU_KM3_S2)

# WGS-84 ellipsoid (NIMA TR8350.2): the geodetic datum of sites and sub-satellite points.
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
WGS84_B_KM = WGS84_A_KM * (1.0 - WGS84_F)

# Mean rotation rate of the Earth (IERS conventions, nominal), rad/s.
EARTH_ROTATION_RAD_S = 7.2921158553e-5
# IUGG mean radius, for spherical approximations only (grid spacing, rough GSD helpers).
MEAN_EARTH_RADIUS_KM = 6371.0088
# Mean motion of the Sun along the ecliptic (360° per tropical year), deg/day.
SUN_MEAN_MOTION_DEG_DAY = 360.0 / 365.2421897
