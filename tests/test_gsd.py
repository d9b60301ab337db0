"""The first-order GSD model: nadir identity, hand-computed cases, monotonicity, flat limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from overflight.gsd import gsd, gsd_at_off_nadir, spherical_slant_geometry


def test_nadir_at_reference_altitude_is_the_nadir_gsd() -> None:
    g = gsd(0.5, 500.0, 500.0, 0.0)
    assert float(g.in_plane_m) == pytest.approx(0.5, rel=1e-15)
    assert float(g.cross_plane_m) == pytest.approx(0.5, rel=1e-15)
    assert float(g.mean_m) == pytest.approx(0.5, rel=1e-15)
    at = gsd_at_off_nadir(0.5, 500.0, 500.0, 0.0)
    assert float(at.mean_m) == pytest.approx(0.5, rel=1e-12)
    # Higher orbit at nadir: GSD scales with altitude.
    assert float(gsd_at_off_nadir(0.5, 500.0, 600.0, 0.0).mean_m) == pytest.approx(0.6)


def test_hand_computed_case() -> None:
    # 1 m at 500 km, seen from 1000 km slant range at 60° incidence:
    # cross = 1 × 1000/500 = 2 m; in-plane = 2 / cos 60° = 4 m; mean = sqrt(8) m.
    g = gsd(1.0, 500.0, 1000.0, 60.0)
    assert float(g.cross_plane_m) == pytest.approx(2.0)
    assert float(g.in_plane_m) == pytest.approx(4.0)
    assert float(g.mean_m) == pytest.approx(math.sqrt(8.0))
    assert g.to_dict() == {"in_plane_m": pytest.approx(4.0), "cross_plane_m": pytest.approx(2.0),
                           "mean_m": pytest.approx(math.sqrt(8.0))}


def test_monotone_in_off_nadir() -> None:
    off = np.linspace(0.0, 64.0, 200)
    g = gsd_at_off_nadir(0.3, 620.0, 620.0, off)
    for arr in (g.in_plane_m, g.cross_plane_m, g.mean_m):
        assert (np.diff(arr) > 0).all()
    assert (g.in_plane_m >= g.cross_plane_m).all()


def test_flat_earth_limit_is_the_textbook_formula() -> None:
    """With a huge Earth radius: in-plane = g / cos²θ, cross = g / cosθ, mean = g / cos^1.5 θ."""
    theta = np.array([0.0, 10.0, 25.0, 40.0, 55.0])
    c = np.cos(np.radians(theta))
    g = gsd_at_off_nadir(0.5, 500.0, 500.0, theta, earth_radius_km=1e9)
    np.testing.assert_allclose(g.in_plane_m, 0.5 / c**2, rtol=1e-5)
    np.testing.assert_allclose(g.cross_plane_m, 0.5 / c, rtol=1e-5)
    np.testing.assert_allclose(g.mean_m, 0.5 / c**1.5, rtol=1e-5)


def test_spherical_slant_geometry_by_ray_casting() -> None:
    """Independent check: cast the ray from the satellite and intersect it with the sphere."""
    r_e, h = 6371.0, 700.0
    for off_deg in (0.0, 5.0, 20.0, 45.0, 60.0):
        eta = math.radians(off_deg)
        sat = np.array([0.0, 0.0, r_e + h])
        d = np.array([math.sin(eta), 0.0, -math.cos(eta)])
        b = d @ sat
        t = -b - math.sqrt(b * b - (sat @ sat - r_e * r_e))  # nearest intersection
        hit = sat + t * d
        incidence = math.degrees(math.acos((-d) @ (hit / r_e)))
        central = math.degrees(math.acos(hit[2] / r_e))
        geo = spherical_slant_geometry(h, off_deg, earth_radius_km=r_e)
        assert float(geo.range_km) == pytest.approx(t, rel=1e-12, abs=1e-9)
        assert float(geo.incidence_deg) == pytest.approx(incidence, abs=1e-9)
        assert float(geo.central_angle_deg) == pytest.approx(central, abs=1e-9)


def test_out_of_view_is_nan_and_bad_inputs_raise() -> None:
    horizon = math.degrees(math.asin(6371.0088 / (6371.0088 + 500.0)))
    g = gsd_at_off_nadir(0.5, 500.0, 500.0, [horizon - 0.1, horizon + 0.1])
    assert np.isfinite(g.mean_m[0]) and np.isnan(g.mean_m[1])
    assert np.isnan(gsd(0.5, 500.0, 800.0, 95.0).mean_m)
    with pytest.raises(ValueError, match="nadir_gsd_m"):
        gsd(0.0, 500.0, 500.0, 0.0)
    with pytest.raises(ValueError, match="reference_altitude_km"):
        gsd(0.5, -1.0, 500.0, 0.0)


@pytest.mark.parametrize(
    ("nadir_m", "altitude_km", "published_20deg_m"),
    [
        (0.31, 617.0, 0.34),  # WorldView-3 panchromatic
        (1.24, 617.0, 1.38),  # WorldView-3 multispectral
        (0.50, 496.0, 0.55),  # WorldView-1 panchromatic
    ],
)
def test_reproduces_vendor_figures_at_20_degrees_off_nadir(
    nadir_m: float, altitude_km: float, published_20deg_m: float
) -> None:
    """Vendor data sheets (DigitalGlobe/Maxar) quote GSD at nadir and at 20° off-nadir, rounded
    to the digits shown; the geometric-mean GSD of the model matches them to that rounding."""
    g = gsd_at_off_nadir(nadir_m, altitude_km, altitude_km, 20.0)
    assert abs(float(g.mean_m) - published_20deg_m) <= 0.005
