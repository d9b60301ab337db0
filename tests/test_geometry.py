"""Look geometry against Skyfield (the reference) and against closed-form spherical trigonometry.

Satellite ITRS states come from Skyfield's own ``EarthSatellite.at(t).frame_xyz(itrs)``, so these
tests check overflight's geometry alone, independent of its propagator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from skyfield.api import wgs84

from _geometry_support import itrs_states, load_satellites, random_times
from overflight.geometry import (
    WGS84,
    Ellipsoid,
    Site,
    Sites,
    elevation_deg,
    enu_matrices,
    look_angles,
    look_angles_arrays,
    look_angles_pairs,
    nadir_point,
    off_nadir_arrays,
    sites_itrs_km,
    up_vectors,
    view_geometry,
    view_geometry_arrays,
    view_geometry_pairs,
)
from overflight.times import skyfield_time

SITES = [
    Site("north pole", 90.0, 0.0, 0.0),
    Site("near south pole", -89.9999, 123.0, 2835.0),
    Site("antimeridian east", 12.5, 180.0, 0.0),
    Site("antimeridian west", -17.2, -179.9999, 10.0),
    Site("Pyongyang", 39.0392, 125.7625, 38.0),
    Site("Chajnantor", -23.0229, -67.7552, 5060.0),
    Site("Everest", 27.9881, 86.925, 8848.86),
    Site("stratospheric balloon", 45.0, -100.0, 35_000.0),
    Site("Dead Sea shore", 31.5, 35.5, -430.0),
    Site("equator", 0.0, 0.0, 0.0),
]


@pytest.fixture(scope="module")
def states(shared_data: Path) -> dict[str, Any]:
    sats = load_satellites(shared_data)
    t64 = random_times(300, seed=7)
    pos, vel = itrs_states(sats, t64)
    good = np.isfinite(pos).all(axis=(1, 2))  # drop any object SGP4 cannot propagate
    assert good.sum() >= 40
    return {
        "sats": [s for s, g in zip(sats, good, strict=True) if g],
        "t64": t64,
        "t": skyfield_time(t64),
        "pos": pos[good],
        "vel": vel[good],
    }


def _wrap(deg: Any) -> Any:
    return (np.asarray(deg) + 180.0) % 360.0 - 180.0


@pytest.mark.parametrize("site", SITES, ids=[s.name for s in SITES])
def test_look_angles_match_skyfield(states: dict[str, Any], site: Site) -> None:
    topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    t = states["t"]
    ref_alt, ref_az, ref_range, ref_rate = [], [], [], []
    for sat in states["sats"]:
        rel = (sat - topos).at(t)
        alt, az, dist = rel.altaz()
        rate = rel.frame_latlon_and_rates(topos)[5]
        ref_alt.append(alt.degrees)
        ref_az.append(az.degrees)
        ref_range.append(dist.km)
        ref_rate.append(rate.km_per_s)

    got = look_angles(states["pos"], site, states["vel"])
    assert got.elevation_deg.shape == states["pos"].shape[:2]
    assert np.abs(got.elevation_deg - np.array(ref_alt)).max() < 1e-6
    # Azimuth is undefined at the zenith; compare where the satellite is not within 1e-6° of it.
    off_zenith = np.array(ref_alt) < 90.0 - 1e-6
    assert np.abs(_wrap(got.azimuth_deg - np.array(ref_az)))[off_zenith].max() < 1e-6
    assert ((got.azimuth_deg >= 0.0) & (got.azimuth_deg < 360.0)).all()
    assert np.abs(got.range_km - np.array(ref_range)).max() < 1e-6  # 1 mm
    assert got.range_rate_km_s is not None
    assert np.abs(got.range_rate_km_s - np.array(ref_rate)).max() < 1e-6  # 1 mm/s

    fast = elevation_deg(states["pos"], site)
    assert np.abs(fast - np.array(ref_alt)).max() < 1e-6


def test_sites_many_and_pairs_agree_with_one_site(states: dict[str, Any]) -> None:
    pos, vel = states["pos"], states["vel"]
    sites = Sites.from_sites(SITES)
    many = look_angles(pos, sites, vel)
    assert many.elevation_deg.shape == (len(SITES), *pos.shape[:2])
    fast = elevation_deg(pos, sites)
    rng = np.random.default_rng(3)
    n = 500
    si = rng.integers(0, pos.shape[0], n)
    ti = rng.integers(0, pos.shape[1], n)
    ki = rng.integers(0, len(SITES), n)
    pairs = look_angles_pairs(pos, sites, si, ti, ki, vel)
    assert pairs.elevation_deg.shape == (n,)
    for k, site in enumerate(SITES):
        one = look_angles(pos, site, vel)
        assert one.range_rate_km_s is not None and many.range_rate_km_s is not None
        np.testing.assert_allclose(many.elevation_deg[k], one.elevation_deg, atol=1e-12)
        np.testing.assert_allclose(many.range_km[k], one.range_km, rtol=1e-14)
        np.testing.assert_allclose(many.range_rate_km_s[k], one.range_rate_km_s, atol=1e-12)
        np.testing.assert_allclose(fast[k], one.elevation_deg, atol=1e-9)
        sel = ki == k
        np.testing.assert_allclose(pairs.elevation_deg[sel], one.elevation_deg[si[sel], ti[sel]],
                                   atol=1e-12)
        np.testing.assert_allclose(_wrap(pairs.azimuth_deg[sel]
                                         - one.azimuth_deg[si[sel], ti[sel]]), 0.0, atol=1e-9)
    # The broadcasting core with explicit arrays gives the same as the Site form.
    arr = look_angles_arrays(pos, SITES[4].itrs_km, SITES[4].enu, vel)
    np.testing.assert_allclose(arr.elevation_deg, many.elevation_deg[4], atol=1e-12)


def test_sites_and_local_frame_match_wgs84(states: dict[str, Any]) -> None:
    lat = np.array([s.lat_deg for s in SITES])
    lon = np.array([s.lon_deg for s in SITES])
    alt = np.array([s.alt_m for s in SITES])
    ref = np.array([wgs84.latlon(a, o, elevation_m=h).itrs_xyz.km
                    for a, o, h in zip(lat, lon, alt, strict=True)])
    np.testing.assert_allclose(sites_itrs_km(lat, lon, alt), ref, atol=1e-9)
    for site, r in zip(SITES, ref, strict=True):
        np.testing.assert_allclose(site.itrs_km, r, atol=1e-9)
    # Local axes by finite differences of the WGS-84 position (Skyfield): up = d/dh, etc.
    for a, o, h in zip(lat[1:], lon[1:], alt[1:], strict=True):  # skip the pole (no east)
        p0 = wgs84.latlon(a, o, elevation_m=h).itrs_xyz.km
        d_up = wgs84.latlon(a, o, elevation_m=h + 1.0).itrs_xyz.km - p0
        d_east = wgs84.latlon(a, o + 1e-6, elevation_m=h).itrs_xyz.km - p0
        d_north = wgs84.latlon(a - 1e-6, o, elevation_m=h).itrs_xyz.km - p0
        d_north = -d_north
        enu = enu_matrices(a, o)
        for row, d in zip(enu, (d_east, d_north, d_up), strict=True):
            np.testing.assert_allclose(row, d / np.linalg.norm(d), atol=1e-6)
        np.testing.assert_allclose(up_vectors(a, o), enu[2], atol=0)


def test_nadir_point_matches_skyfield(states: dict[str, Any]) -> None:
    t = states["t"]
    got = nadir_point(states["pos"])
    for k, sat in enumerate(states["sats"]):
        ref = wgs84.geographic_position_of(sat.at(t))
        assert np.abs(got.lat_deg[k] - ref.latitude.degrees).max() < 1e-6
        assert np.abs(_wrap(got.lon_deg[k] - ref.longitude.degrees)).max() < 1e-9
        assert np.abs(got.alt_km[k] - ref.elevation.km).max() < 1e-3
    # And it inverts the WGS-84 forward formula exactly (to < 1 micrometre).
    back = np.array([wgs84.latlon(a, o, elevation_m=h * 1000).itrs_xyz.km
                     for a, o, h in zip(got.lat_deg[:, :5].ravel(), got.lon_deg[:, :5].ravel(),
                                        got.alt_km[:, :5].ravel(), strict=True)])
    np.testing.assert_allclose(back, states["pos"][:, :5].reshape(-1, 3), atol=1e-9)


def test_view_geometry_against_skyfield_wgs84(states: dict[str, Any]) -> None:
    """Off-nadir, incidence and central angle from Skyfield's sub-point and altaz, by hand."""
    t = states["t"]
    pos = states["pos"]
    for site in SITES[:6]:
        topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
        site_xyz = topos.itrs_xyz.km
        got = view_geometry(pos, site)
        for k, sat in enumerate(states["sats"]):
            sub = wgs84.geographic_position_of(sat.at(t))
            foot = wgs84.latlon(sub.latitude.degrees, sub.longitude.degrees).itrs_xyz.km.T
            to_foot = foot - pos[k]
            to_site = site_xyz - pos[k]
            cos_eta = np.sum(to_foot * to_site, axis=1) / (
                np.linalg.norm(to_foot, axis=1) * np.linalg.norm(to_site, axis=1))
            eta = np.degrees(np.arccos(np.clip(cos_eta, -1, 1)))
            cos_lam = foot @ site_xyz / (np.linalg.norm(foot, axis=1) * np.linalg.norm(site_xyz))
            lam = np.degrees(np.arccos(np.clip(cos_lam, -1, 1)))
            alt = (sat - topos).at(t).altaz()[0].degrees
            # arccos loses digits near 0°; 1e-5° is still 1 m at 6000 km.
            assert np.abs(got.off_nadir_deg[k] - eta).max() < 1e-5
            assert np.abs(got.central_angle_deg[k] - lam).max() < 1e-5
            assert np.abs(got.incidence_deg[k] - (90.0 - alt)).max() < 1e-6
            assert np.abs(got.elevation_deg[k] - alt).max() < 1e-6
            assert np.abs(got.nadir_lat_deg[k] - sub.latitude.degrees).max() < 1e-6


def test_view_geometry_site_at_nadir_point(states: dict[str, Any]) -> None:
    """A site at the sub-satellite point sees the satellite at the zenith, on the nadir."""
    pos = states["pos"][:, ::10].reshape(-1, 3)
    got_sub = nadir_point(pos)
    lat, lon = got_sub.lat_deg, got_sub.lon_deg
    site_xyz = np.array([wgs84.latlon(a, o).itrs_xyz.km for a, o in zip(lat, lon, strict=True)])
    got = view_geometry_arrays(pos, site_xyz, up_vectors(lat, lon))
    assert np.abs(got.off_nadir_deg).max() < 1e-6
    assert np.abs(got.central_angle_deg).max() < 1e-6
    assert np.abs(got.elevation_deg - 90.0).max() < 1e-6
    assert np.abs(got.incidence_deg).max() < 1e-6
    np.testing.assert_allclose(got.range_km, got_sub.alt_km, atol=1e-6)


SPHERE = Ellipsoid("sphere", 6371.0, 0.0)


def test_view_geometry_spherical_trigonometry() -> None:
    """On a spherical Earth every angle has a closed form: compare with it."""
    rng = np.random.default_rng(11)
    n = 20_000
    # Satellites from 200 km to beyond GEO, sites from -400 m to 9 km, anywhere.
    r_sat = SPHERE.a_km + rng.uniform(200.0, 40_000.0, n)
    sat_lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    sat_lon = rng.uniform(-180, 180, n)
    site_lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    site_lon = rng.uniform(-180, 180, n)
    r_site = SPHERE.a_km + rng.uniform(-0.4, 9.0, n)

    def unit(lat: Any, lon: Any) -> Any:
        la, lo = np.radians(lat), np.radians(lon)
        return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)

    sat = r_sat[:, None] * unit(sat_lat, sat_lon)
    site_up = unit(site_lat, site_lon)
    site = r_site[:, None] * site_up
    # Haversine central angle, law of cosines range, and the triangle's angles.
    p1, p2 = np.radians(sat_lat), np.radians(site_lat)
    dl = np.radians(site_lon - sat_lon)
    hav = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    lam = 2 * np.arcsin(np.sqrt(hav))
    rho = np.sqrt(r_sat**2 + r_site**2 - 2 * r_sat * r_site * np.cos(lam))
    eta = np.arctan2(r_site * np.sin(lam), r_sat - r_site * np.cos(lam))
    eps = np.pi / 2 - eta - lam

    got = view_geometry_arrays(sat, site, site_up, ellipsoid=SPHERE)
    np.testing.assert_allclose(got.central_angle_deg, np.degrees(lam), atol=1e-8)
    np.testing.assert_allclose(got.range_km, rho, rtol=1e-10)
    np.testing.assert_allclose(got.off_nadir_deg, np.degrees(eta), atol=1e-8)
    np.testing.assert_allclose(got.elevation_deg, np.degrees(eps), atol=1e-7)
    np.testing.assert_allclose(got.incidence_deg, 90 - np.degrees(eps), atol=1e-7)
    np.testing.assert_allclose(got.nadir_lat_deg, sat_lat, atol=1e-9)
    np.testing.assert_allclose(_wrap(got.nadir_lon_deg - sat_lon), 0.0, atol=1e-9)
    # Law of sines: |site| / sin(off-nadir) = |sat| / cos(elevation).
    np.testing.assert_allclose(
        r_site * np.cos(np.radians(got.elevation_deg)),
        r_sat * np.sin(np.radians(got.off_nadir_deg)),
        rtol=1e-7, atol=1e-7,
    )
    # Elevation from the look-angle code agrees with the view geometry on the sphere too.
    la = look_angles_arrays(sat, site, enu_matrices(site_lat, site_lon))
    np.testing.assert_allclose(la.elevation_deg, got.elevation_deg, atol=1e-9)


def test_view_geometry_many_sites_and_pairs(states: dict[str, Any]) -> None:
    pos = states["pos"]
    sites = Sites.from_sites(SITES[:4])
    many = view_geometry(pos, sites)
    assert many.off_nadir_deg.shape == (4, *pos.shape[:2])
    rng = np.random.default_rng(5)
    si = rng.integers(0, pos.shape[0], 300)
    ti = rng.integers(0, pos.shape[1], 300)
    ki = rng.integers(0, 4, 300)
    pairs = view_geometry_pairs(pos, sites, si, ti, ki)
    for k in range(4):
        one = view_geometry(pos, SITES[k])
        np.testing.assert_allclose(many.off_nadir_deg[k], one.off_nadir_deg, atol=1e-12)
        np.testing.assert_allclose(many.central_angle_deg[k], one.central_angle_deg, atol=1e-12)
        sel = ki == k
        np.testing.assert_allclose(pairs.incidence_deg[sel],
                                   one.incidence_deg[si[sel], ti[sel]], atol=1e-12)


def test_off_nadir_alone_is_the_view_geometry_off_nadir(states: dict[str, Any]) -> None:
    """The engine's search evaluates the off-nadir angle alone: the very same values."""
    pos = states["pos"]
    for site in SITES:
        xyz = np.broadcast_to(site.itrs_km, pos.shape)
        up = np.broadcast_to(site.up, pos.shape)
        want = view_geometry_arrays(pos, xyz, up).off_nadir_deg
        assert np.array_equal(off_nadir_arrays(pos, xyz), want)


def test_geodetic_nadir_differs_from_geocentric() -> None:
    """Sanity of the chosen convention: at 45° latitude the two nadirs differ by ~0.19°·R/r."""
    sat = sites_itrs_km(45.0, 10.0, 500_000.0)
    foot = nadir_point(sat)
    assert abs(foot.lat_deg - 45.0) < 1e-9 and abs(foot.alt_km - 500.0) < 1e-9
    site = Site("below", 45.0, 10.0)
    v = view_geometry(sat, site)
    assert abs(v.off_nadir_deg) < 1e-9
    # Geocentric direction at the same point is off by the angle between normal and radius.
    geocentric_lat = np.degrees(np.arctan2(sat[2], np.hypot(sat[0], sat[1])))
    assert 0.17 < 45.0 - geocentric_lat < 0.20


def test_site_validation_and_to_dict() -> None:
    with pytest.raises(ValueError, match="lat_deg"):
        Site("bad", 91.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        Site("bad", float("nan"), 0.0)
    with pytest.raises(ValueError, match="site 1"):
        Sites.from_arrays([0.0, 95.0], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        look_angles(np.zeros((4, 2)), SITES[0])
    s = Site("x", 1.0, 2.0, 3.0)
    assert s.to_dict() == {"name": "x", "lat_deg": 1.0, "lon_deg": 2.0, "alt_m": 3.0}
    sites = Sites.from_sites([s, SITES[1]])
    assert len(sites) == 2 and sites[0] == s
    assert WGS84.b_km == pytest.approx(6356.752314245)
    la = look_angles(sites_itrs_km(0.0, 0.0, 1_000_000.0), Site("eq", 0.0, 0.0))
    assert la.to_dict()["elevation_deg"] == pytest.approx(90.0)


def test_nadir_point_inverts_the_forward_formula_everywhere() -> None:
    """From 1 km below the ellipsoid to the Moon's distance, poles and equator included."""
    rng = np.random.default_rng(13)
    n = 50_000
    lat = np.concatenate([np.degrees(np.arcsin(rng.uniform(-1, 1, n))), [90.0, -90.0, 0.0]])
    lon = np.concatenate([rng.uniform(-180, 180, n), [0.0, 0.0, 180.0 - 1e-9]])
    alt_km = np.concatenate([10 ** rng.uniform(-3, 5.6, n) - 1.0, [400.0, 35786.0, 0.0]])
    xyz = sites_itrs_km(lat, lon, alt_km * 1000.0)
    got = nadir_point(xyz)
    np.testing.assert_allclose(got.lat_deg, lat, atol=1e-10)
    np.testing.assert_allclose(got.alt_km, alt_km, atol=1e-8)
    on_axis = np.abs(lat) == 90.0
    np.testing.assert_allclose(_wrap(got.lon_deg - lon)[~on_axis], 0.0, atol=1e-10)


def test_nadir_point_is_the_frames_conversion() -> None:
    """One geodetic inversion: the nadir point is :func:`overflight.frames.geodetic_from_itrs`
    (longitudes here in (-180, 180], there in [-180, 180))."""
    from overflight.frames import geodetic_from_itrs

    rng = np.random.default_rng(21)
    xyz = rng.normal(size=(2000, 3))
    xyz *= ((6500.0 + rng.uniform(0.0, 40_000.0, 2000)) / np.linalg.norm(xyz, axis=1))[:, None]
    got = nadir_point(xyz)
    ref = geodetic_from_itrs(xyz)
    assert np.array_equal(got.lat_deg, ref.lat_deg)
    assert np.array_equal(got.alt_km, ref.alt_km)
    np.testing.assert_allclose(_wrap(got.lon_deg - ref.lon_deg), 0.0, atol=0)
    edge = nadir_point(np.array([-7000.0, 0.0, 0.0]))
    assert edge.lon_deg == 180.0 and geodetic_from_itrs([-7000.0, 0.0, 0.0]).lon_deg == -180.0


def test_site_pickles_as_itself() -> None:
    import pickle

    s = Site("Najin port", 42.2447, 130.3072, 12.5)
    back = pickle.loads(pickle.dumps(s))
    assert back == s and type(back) is Site
