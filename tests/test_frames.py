"""TEME→ITRS rotation and WGS-84 geodetic conversion against Skyfield (computed here)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sgp4.propagation import gstime
from skyfield.api import load, wgs84
from skyfield.framelib import itrs
from skyfield.sgp4lib import TEME
from skyfield.toposlib import ITRSPosition
from skyfield.units import Distance

from overflight.constants import WGS84_A_KM
from overflight.frames import (
    Ellipsoid,
    _matrices_from_skyfield_time,
    earth_rotation_angle_rad,
    geodetic_from_itrs,
    gmst82_rad,
    gmst82_rate_rad_s,
    itrs_from_geodetic,
    rotate_teme_to_itrs,
    teme_to_itrs_matrices,
)
from overflight.times import skyfield_time, timescale


def _times(n: int = 64) -> np.ndarray:
    rng = np.random.default_rng(3)
    start = np.datetime64("1995-01-01T00:00:00", "ns").astype(np.int64)
    end = np.datetime64("2040-01-01T00:00:00", "ns").astype(np.int64)
    ns = np.sort(rng.integers(start, end, n))
    return ns.astype("datetime64[ns]")


def _skyfield_teme_to_itrs(t: object) -> np.ndarray:
    """Skyfield's TEME→ITRS: GCRS→ITRS times (GCRS→TEME) transposed, as (T, 3, 3)."""
    r_itrs = itrs.rotation_at(t)
    r_teme = TEME.rotation_at(t)
    m = np.einsum("ijt,kjt->tik", r_itrs, r_teme)
    return np.asarray(m)


def test_rotation_matches_skyfield_composition() -> None:
    times = _times()
    rot, rate = teme_to_itrs_matrices(times)
    assert rot.shape == rate.shape == (64, 3, 3)
    expected = _skyfield_teme_to_itrs(skyfield_time(times))
    # Skyfield goes through GCRS (precession-nutation and back): equal to rounding.
    assert np.abs(rot - expected).max() < 1e-14
    assert np.allclose(np.einsum("tij,tkj->tik", rot, rot), np.eye(3), atol=1e-15)
    assert np.allclose(np.linalg.det(rot), 1.0)


def test_rotation_with_polar_motion_matches_skyfield() -> None:
    ts = load.timescale()  # a separate (builtin, offline) timescale we may modify
    ts.polar_motion_table = [0.0], [0.25], [0.40]  # arcseconds, as Skyfield's own tests do
    t = ts.utc(2026, 5, 30, np.arange(0, 48, 3.7))
    rot, _ = _matrices_from_skyfield_time(t)
    expected = _skyfield_teme_to_itrs(t)
    assert np.abs(rot - expected).max() < 1e-14
    # The polar-motion part is really there (about 2e-6 rad).
    plain = load.timescale()
    rot0, _ = _matrices_from_skyfield_time(plain.utc(2026, 5, 30, np.arange(0, 48, 3.7)))
    assert 1e-6 < np.abs(rot - rot0).max() < 1e-5


def _finals_pole(date: str) -> tuple[float, float]:
    """Pole x, y (arcsec) of one day, read straight from skyfield-data's finals2000A.all."""
    from skyfield_data import get_skyfield_data_path

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the table's nominal expiry
        path = Path(get_skyfield_data_path()) / "finals2000A.all"
    y, m, d = (int(p) for p in date.split("-"))
    key = f"{y % 100:2d}{m:2d}{d:2d}"
    for line in path.read_text().splitlines():
        if line[:6] == key:
            return float(line[18:27]), float(line[37:46])
    raise LookupError(date)


def test_default_timescale_applies_the_shipped_pole() -> None:
    assert timescale().polar_motion_table is not None
    day = np.array(["2024-06-15T00:00:00"], dtype="datetime64[ns]")
    _, x, y = skyfield_time(day).polar_motion_angles()
    want_x, want_y = _finals_pole("2024-06-15")
    assert (want_x, want_y) == (0.053587, 0.468945)
    assert float(x[0]) == pytest.approx(want_x, abs=1e-9)
    assert float(y[0]) == pytest.approx(want_y, abs=1e-9)
    rot, _ = teme_to_itrs_matrices(day)
    expected = _skyfield_teme_to_itrs(skyfield_time(day))
    assert np.abs(rot - expected).max() < 1e-14
    # W tilts the z axis by the pole offset: sqrt(x² + y²) arcsec.
    tilt = np.arcsin(np.hypot(rot[0, 2, 0], rot[0, 2, 1]))
    assert tilt == pytest.approx(np.hypot(want_x, want_y) * np.pi / 648000.0, rel=1e-6)


def test_pole_outside_the_table_is_held_without_error() -> None:
    # Before 1973-01-02 and after the predictions end the pole stays at the table's end values.
    times = np.array(
        ["1965-01-01T00:00:00", "1972-06-01T00:00:00", "2045-01-01T00:00:00", "2052-01-01"],
        dtype="datetime64[ns]",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rot, rate = teme_to_itrs_matrices(times)
        _, x, y = skyfield_time(times).polar_motion_angles()
    assert np.isfinite(rot).all() and np.isfinite(rate).all()
    assert x[0] == x[1] and y[0] == y[1] and x[2] == x[3] and y[2] == y[3]
    assert np.allclose(np.einsum("tij,tkj->tik", rot, rot), np.eye(3), atol=1e-15)


def test_rotation_rate_is_the_time_derivative() -> None:
    base = np.datetime64("2026-05-30T22:50:00", "ns") + np.arange(5) * np.timedelta64(5, "h")
    h = np.timedelta64(1, "s")
    _, rate = teme_to_itrs_matrices(base)
    plus, _ = teme_to_itrs_matrices(base + h)
    minus, _ = teme_to_itrs_matrices(base - h)
    numeric = (plus - minus) / 2.0
    # Per UT1 second (as Skyfield's TEME_to_ITRF) vs per UTC second here: they differ by the
    # excess length of day (about 1 ms/day, 1e-8 relative).
    assert np.abs(rate - numeric).max() < 3e-8 * 7.3e-5
    assert np.hypot(rate[:, 0, 0], rate[:, 0, 1]) == pytest.approx(7.2921158e-5, rel=1e-7)


def test_accepts_datetimes_and_scalars() -> None:
    when = datetime(2026, 5, 30, 22, 50, tzinfo=UTC)
    rot1, _ = teme_to_itrs_matrices(when)
    rot2, _ = teme_to_itrs_matrices(np.array([np.datetime64("2026-05-30T22:50:00")]))
    assert rot1.shape == (1, 3, 3) and np.array_equal(rot1, rot2)


def test_rotate_teme_to_itrs_is_rot_times_vectors() -> None:
    rng = np.random.default_rng(0)
    times = _times(7)
    rot, rate = teme_to_itrs_matrices(times)
    r = rng.normal(size=(4, 7, 3)) * 7000.0
    v = rng.normal(size=(4, 7, 3)) * 7.0
    out_r, out_v = rotate_teme_to_itrs(r, v, rot, rate)
    assert np.allclose(out_r, np.einsum("tij,stj->sti", rot, r), rtol=0, atol=1e-9)
    want_v = np.einsum("tij,stj->sti", rot, v) + np.einsum("tij,stj->sti", rate, r)
    assert np.allclose(out_v, want_v, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"\(\.\.\., T, 3\)"):
        rotate_teme_to_itrs(r[:, :5], v[:, :5], rot, rate)


def _skyfield_geodetic(xyz_km: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = timescale().utc(2026, 5, 30)
    pos = ITRSPosition(Distance(km=xyz_km.T)).at(t)
    geo = wgs84.geographic_position_of(pos)
    return geo.latitude.degrees, geo.longitude.degrees, geo.elevation.km


def _points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    n = 4000
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    alt = np.concatenate(
        [
            rng.uniform(-5, 10, n // 4),  # ground sites
            rng.uniform(150, 2000, n // 4),  # LEO
            rng.uniform(2000, 36000, n // 4),  # MEO..GEO
            rng.uniform(36000, 150000, n - 3 * (n // 4)),  # HEO apogees
        ]
    )
    special_lat = np.array([90.0, -90.0, 0.0, 0.0, 89.9999, -45.0])
    special_lon = np.array([0.0, 123.0, 180.0, -180.0, 10.0, 179.9999999])
    special_alt = np.array([500.0, 0.0, 35786.0, 0.0, 7.0, 1.0])
    return (
        np.concatenate([lat, special_lat]),
        np.concatenate([lon, special_lon]),
        np.concatenate([alt, special_alt]),
    )


def test_geodetic_matches_skyfield_wgs84() -> None:
    lat, lon, alt = _points()
    xyz = np.stack(
        [
            wgs84.latlon(a, b, elevation_m=c * 1000.0).itrs_xyz.km
            for a, b, c in zip(lat, lon, alt, strict=True)
        ]
    )
    # Forward conversion against Skyfield's.
    assert np.abs(itrs_from_geodetic(lat, lon, alt) - xyz).max() < 1e-9
    got = geodetic_from_itrs(xyz)
    sky = _skyfield_geodetic(xyz)
    assert np.abs(got.lat_deg - sky[0]).max() < 1e-7
    dlon = (got.lon_deg - sky[1] + 180.0) % 360.0 - 180.0
    assert np.abs(dlon * np.cos(np.radians(lat))).max() < 1e-7
    assert np.abs(got.alt_km - sky[2]).max() < 1e-6  # 1 mm
    # And against the values the points were built from (exactness of the closed form).
    assert np.abs(got.lat_deg - lat).max() < 1e-10
    assert np.abs(got.alt_km - alt).max() < 1e-8
    assert np.all((got.lon_deg >= -180.0) & (got.lon_deg < 180.0))


def test_geodetic_shapes_nan_and_errors() -> None:
    xyz = np.full((2, 3, 3), np.nan)
    xyz[0, 0] = [WGS84_A_KM + 500.0, 0.0, 0.0]
    xyz[1, 2] = [-7000.0, 0.0, 0.0]
    lat, lon, alt = geodetic_from_itrs(xyz)
    assert lat.shape == lon.shape == alt.shape == (2, 3)
    assert lat[0, 0] == 0.0 and lon[0, 0] == 0.0 and alt[0, 0] == pytest.approx(500.0, abs=1e-12)
    assert lon[1, 2] == -180.0
    assert np.isnan(lat[0, 1]) and np.isnan(alt[1, 0])
    pole = geodetic_from_itrs([0.0, 0.0, 6356.752314245 + 100.0])
    assert pole.lat_deg == pytest.approx(90.0, abs=1e-12)
    assert pole.alt_km == pytest.approx(100.0, abs=1e-8)
    with pytest.raises(ValueError, match="shape"):
        geodetic_from_itrs(np.zeros((4, 2)))


def test_geodetic_sub_millimetre_against_skyfield() -> None:
    """Both directions against Skyfield's WGS-84, from the ground to beyond GEO.

    Skyfield's forward formula (``wgs84.latlon``) is inverted to a micrometre; Skyfield's own
    inverse (``geographic_position_of``, a fixed number of iterations) agrees on the height to
    well under a millimetre. Its latitude is off by up to 3 mm near the ground (measured
    against its own forward formula), so it is checked against the forward formula instead.
    """
    lat, lon, alt = _points()
    keep = alt < 40_000.0
    lat, lon, alt = lat[keep][::4], lon[keep][::4], alt[keep][::4]
    xyz = np.stack([wgs84.latlon(a, b, elevation_m=c * 1000.0).itrs_xyz.km
                    for a, b, c in zip(lat, lon, alt, strict=True)])
    got = geodetic_from_itrs(xyz)
    back = np.stack([wgs84.latlon(a, b, elevation_m=c * 1000.0).itrs_xyz.km
                     for a, b, c in zip(got.lat_deg, got.lon_deg, got.alt_km, strict=True)])
    assert np.abs(back - xyz).max() < 1e-9  # km: a micrometre
    sky = _skyfield_geodetic(xyz)
    assert np.abs(got.alt_km - sky[2]).max() < 1e-7  # 0.1 mm
    # Our forward formula equals Skyfield's, so the round trip is closed on both sides.
    assert np.abs(itrs_from_geodetic(got.lat_deg, got.lon_deg, got.alt_km) - xyz).max() < 1e-9


def test_geodetic_on_a_sphere_is_geocentric() -> None:
    sphere = Ellipsoid("sphere", 6371.0, 0.0)
    rng = np.random.default_rng(2)
    xyz = rng.normal(size=(500, 3))
    xyz *= ((6371.0 + rng.uniform(0.0, 40_000.0, 500)) / np.linalg.norm(xyz, axis=1))[:, None]
    got = geodetic_from_itrs(xyz, ellipsoid=sphere)
    r = np.linalg.norm(xyz, axis=1)
    np.testing.assert_allclose(got.lat_deg, np.degrees(np.arcsin(xyz[:, 2] / r)), atol=1e-10)
    np.testing.assert_allclose(got.alt_km, r - 6371.0, atol=1e-9)
    np.testing.assert_allclose(itrs_from_geodetic(*got, ellipsoid=sphere), xyz, atol=1e-9)


def test_gmst82_matches_sgp4_and_skyfield_teme() -> None:
    """GMST (IAU 1982) against sgp4's own ``gstime`` and against the angle of Skyfield's
    TEME→ITRS rotation (composed through GCRS)."""
    jd = np.linspace(2440000.5, 2470000.5, 301) + 0.3712
    expected = np.array([gstime(x) for x in jd])
    got = gmst82_rad(jd)
    assert got.shape == jd.shape and np.all((got >= 0.0) & (got < 2.0 * np.pi))
    # gstime sums ~1e9 s of sidereal time in one float: its own rounding is ~3e-11 rad.
    assert np.abs((got - expected + np.pi) % (2.0 * np.pi) - np.pi).max() < 1e-10
    # Two-part dates: the same angle.
    whole = np.floor(jd)
    np.testing.assert_allclose(gmst82_rad(whole, jd - whole), got, rtol=0, atol=1e-12)
    t = skyfield_time(_times())
    # Skyfield's rotation to its pseudo-Earth-fixed frame: polar motion W taken off again.
    w = np.moveaxis(np.asarray(t.polar_motion_matrix()), -1, 0)
    m = np.einsum("tki,tkj->tij", w, _skyfield_teme_to_itrs(t))
    theta_sky = np.arctan2(m[:, 0, 1], m[:, 0, 0]) % (2.0 * np.pi)
    theta = gmst82_rad(t.whole, t.ut1_fraction)
    assert np.abs((theta - theta_sky + np.pi) % (2.0 * np.pi) - np.pi).max() < 1e-13
    # Its rate, by central differences over one day (one turn plus ~1°; the cubic term of the
    # polynomial is negligible).
    rate = gmst82_rate_rad_s(jd)
    turn_plus = (gmst82_rad(jd + 0.5) - gmst82_rad(jd - 0.5)) % (2.0 * np.pi) + 2.0 * np.pi
    np.testing.assert_allclose(rate, turn_plus / 86400.0, rtol=1e-12)
    assert float(gmst82_rate_rad_s(2451545.0)) == pytest.approx(7.2921158553e-5, rel=1e-9)


def test_earth_rotation_angle_is_the_iau2000_formula() -> None:
    """ERA = 2π (0.7790572732640 + 1.00273781191135448 (JD_UT1 − 2451545)), and Skyfield's
    IAU 2006 GMST is ERA plus the precession polynomial in TT."""
    times = _times()
    era = earth_rotation_angle_rad(times)
    assert era.shape == times.shape and np.all((era >= 0.0) & (era < 2.0 * np.pi))
    t = skyfield_time(times)
    du = (t.whole - 2451545.0) + t.ut1_fraction
    turns = (0.7790572732640 + 0.00273781191135448 * du + du % 1.0) % 1.0
    assert np.abs((era - 2.0 * np.pi * turns + np.pi) % (2.0 * np.pi) - np.pi).max() < 1e-9
    tc = (t.tt - 2451545.0) / 36525.0
    poly_arcsec = (0.014506 + (4612.156534 + (1.3915817 + (-0.00000044 + (-0.000029956
                   - 0.0000000368 * tc) * tc) * tc) * tc) * tc)
    gmst06 = np.radians(15.0 * np.asarray(t.gmst))
    expected = era + np.radians(poly_arcsec / 3600.0)
    assert np.abs((gmst06 - expected + np.pi) % (2.0 * np.pi) - np.pi).max() < 1e-9
    when = datetime(2026, 5, 30, 22, 50, tzinfo=UTC)
    assert earth_rotation_angle_rad(when).shape == (1,)
    assert earth_rotation_angle_rad(when)[0] == _era_at(when)


def _era_at(when: datetime) -> float:
    """ERA at one time through a one-element datetime64 array (same path, other input type)."""
    return float(earth_rotation_angle_rad(np.array([np.datetime64(when.replace(tzinfo=None))]))[0])
