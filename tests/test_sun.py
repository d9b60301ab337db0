"""The Sun against Skyfield: elevation at sites over a year, and Earth's shadow on satellites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from skyfield.api import wgs84
from skyfield.constants import ERAD

from _geometry_support import itrs_states, load_satellites, random_times
from overflight.geometry import Site, Sites
from overflight.sun import (
    SUN_RADIUS_KM,
    is_sunlit,
    sun_elevation_deg,
    sun_itrs_km,
    sun_unit_itrs,
    sunlit_fraction,
)
from overflight.times import ephemeris, skyfield_time

SITES = [
    Site("north pole", 90.0, 0.0),
    Site("south pole", -90.0, 0.0, 2835.0),
    Site("Svalbard", 78.23, 15.39, 500.0),
    Site("antimeridian", -16.5, 180.0),
    Site("Pyongyang", 39.0392, 125.7625, 38.0),
    Site("Quito", -0.18, -78.47, 2850.0),
    Site("Everest", 27.9881, 86.925, 8848.86),
    Site("Cape Town", -33.92, 18.42),
    Site("Greenwich", 51.4769, 0.0),
    Site("Honolulu", 21.31, -157.86),
    Site("McMurdo", -77.85, 166.67, 10.0),
    Site("Alert", 82.5, -62.35, 30.0),
]


def _year_times(n: int, seed: int) -> Any:
    return random_times(n, seed, start="2026-01-01", days=365.0)


def _angle_deg(a: Any, b: Any) -> Any:
    """Angle between vectors (last axis), by the chord: accurate for tiny angles."""
    ua = a / np.linalg.norm(a, axis=-1, keepdims=True)
    ub = b / np.linalg.norm(b, axis=-1, keepdims=True)
    chord = np.linalg.norm(ua - ub, axis=-1)
    return np.degrees(2 * np.arcsin(chord / 2))


@pytest.mark.parametrize("step_s", [None, 3600.0], ids=["exact", "interpolated"])
def test_sun_elevation_matches_skyfield_over_a_year(step_s: float | None) -> None:
    # Ours on a dense year-long grid (20,000 times: the interpolated path really interpolates,
    # from 8,761 hourly nodes), Skyfield on 600 of them.
    dense = _year_times(20_000, seed=1)
    pick = np.sort(np.random.default_rng(1).choice(dense.size, 600, replace=False))
    t64 = dense[pick]
    t = skyfield_time(t64)
    eph = ephemeris()
    earth, sun = eph["earth"], eph["sun"]
    sites = Sites.from_sites(SITES)
    got_dense = sun_elevation_deg(sites, dense, step_s=step_s)
    assert got_dense.shape == (len(SITES), dense.size)
    got = got_dense[:, pick]
    worst = 0.0
    for k, site in enumerate(SITES):
        topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
        ref = (earth + topos).at(t).observe(sun).apparent().altaz()[0].degrees
        worst = max(worst, float(np.abs(got[k] - ref).max()))
    for k in (0, 4):
        one = sun_elevation_deg(SITES[k], t64, step_s=None)
        np.testing.assert_allclose(one, got[k], atol=1e-6)
    # Requirement: 0.01°. Measured: ~1e-7° (apparent geocentric Sun + exact topocentric parallax).
    assert worst < 1e-4


def test_sun_interpolation_error_is_tiny() -> None:
    """Interpolated Sun directions against exact ones (both ours; the exact path is checked
    against Skyfield above), on a dense grid around perihelion (fastest apparent motion)."""
    t64 = np.arange(np.datetime64("2026-12-20", "ns"), np.datetime64("2027-01-20", "ns"),
                    np.timedelta64(97, "s"))
    pick = np.random.default_rng(2).choice(t64.size, 1500, replace=False)
    exact = sun_itrs_km(t64[pick], step_s=None)
    for step_s, bound_deg in ((600.0, 1e-8), (3600.0, 1e-6), (21600.0, 2e-5)):
        interp = sun_itrs_km(t64, step_s=step_s)[pick]
        assert _angle_deg(interp, exact).max() < bound_deg
        np.testing.assert_allclose(np.linalg.norm(interp, axis=1),
                                   np.linalg.norm(exact, axis=1), rtol=1e-7)


def test_sun_shapes_unsorted_times_and_errors() -> None:
    t64 = _year_times(200, seed=3)[::-1].reshape(20, 10)  # unsorted, 2-D
    got = sun_itrs_km(t64, step_s=600.0)
    assert got.shape == (20, 10, 3)
    exact = sun_itrs_km(t64, step_s=None)
    assert _angle_deg(got, exact).max() < 1e-7
    unit = sun_unit_itrs(t64)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=-1), 1.0, rtol=1e-15)
    dist_au = np.linalg.norm(exact, axis=-1) / 149_597_870.7
    assert ((dist_au > 0.983) & (dist_au < 1.017)).all()
    assert sun_itrs_km(np.array([], dtype="datetime64[ns]")).shape == (0, 3)
    with pytest.raises(ValueError, match="DE421"):
        sun_itrs_km(np.array(["1850-01-01"], dtype="datetime64[ns]"))
    with pytest.raises(ValueError, match="NaT"):
        sun_itrs_km(np.array(["NaT"], dtype="datetime64[ns]"))
    with pytest.raises(ValueError, match="step_s"):
        sun_itrs_km(t64, step_s=0.0)


def test_sun_elevation_at_solstice_noon_by_hand() -> None:
    """Independent of any ephemeris: at the June solstice the Sun stands ~23.44° north, so at
    local noon its elevation is 90 − |lat − 23.44|; on the equator at 12:00 UTC, 0° E, within
    the equation of time (~ -1.8 min → 0.45°) and declination slop."""
    t = np.array(["2026-06-21T12:00:00"], dtype="datetime64[ns]")
    el = sun_elevation_deg(Site("equator", 0.0, 0.0), t)
    assert abs(el[0] - (90.0 - 23.44)) < 0.6
    pole = sun_elevation_deg(Site("north pole", 90.0, 0.0), t)
    assert abs(pole[0] - 23.44) < 0.05


@pytest.fixture(scope="module")
def shadow_cases(shared_data: Path) -> dict[str, Any]:
    sats = load_satellites(shared_data)
    t64 = random_times(250, seed=21, days=2.0)
    t = skyfield_time(t64)
    pos, _ = itrs_states(sats, t64)
    good = np.isfinite(pos).all(axis=(1, 2))
    sats = [s for s, g in zip(sats, good, strict=True) if g]
    eph = ephemeris()
    lit, grazing = [], []
    sun_gcrs = (eph["sun"] - eph["earth"]).at(t).xyz.km.T  # Skyfield's own (geometric) Sun
    for sat in sats:
        g = sat.at(t)
        lit.append(g.is_sunlit(eph))
        # Distance of the satellite→Sun ray from Earth's centre where it passes Earth (else inf)
        r = g.xyz.km.T
        u = sun_gcrs - r
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        along = -np.sum(r * u, axis=1)
        miss = np.sqrt(np.maximum(np.sum(r * r, axis=1) - along**2, 0.0))
        grazing.append(np.where(along > 0, miss - ERAD / 1000.0, np.inf))
    return {"t64": t64, "pos": pos[good], "lit": np.array(lit), "grazing_km": np.array(grazing)}


def test_is_sunlit_matches_skyfield(shadow_cases: dict[str, Any]) -> None:
    """Agreement on every satellite-time except those whose line to the Sun passes within 5 km
    of Skyfield's Earth sphere (where Skyfield's geometric Sun and our apparent Sun, 20″ apart,
    and the 0.4 m radius difference may legitimately disagree)."""
    sun = sun_itrs_km(shadow_cases["t64"])
    got = is_sunlit(shadow_cases["pos"], sun)
    ref = shadow_cases["lit"]
    assert got.shape == ref.shape
    clear = np.abs(shadow_cases["grazing_km"]) > 5.0
    assert clear.sum() > 10_000
    assert (~ref[clear]).sum() > 1000 and ref[clear].sum() > 1000  # both states well sampled
    assert (got[clear] == ref[clear]).all()
    # Near the boundary, disagreements are rare and only within it.
    assert (got != ref).sum() <= (~clear).sum()


def test_sunlit_fraction_consistent_with_point_sun(shadow_cases: dict[str, Any]) -> None:
    sun = sun_itrs_km(shadow_cases["t64"])
    frac = sunlit_fraction(shadow_cases["pos"], sun)
    lit = is_sunlit(shadow_cases["pos"], sun)
    assert ((frac >= 0.0) & (frac <= 1.0)).all()
    assert lit[frac == 1.0].all()
    assert (~lit[frac == 0.0]).all()
    partial = (frac > 0.0) & (frac < 1.0)
    # Penumbra is a thin shell: a few tens of km wide at LEO; few samples fall in it.
    assert partial.mean() < 0.02
    # Mid-penumbra: the Sun's centre is on the limb (a straight edge on the tiny solar disc).
    assert (lit[frac > 0.55]).all() and (~lit[frac < 0.45]).all()


def _brute_force_fraction(sat: Any, sun: Any, earth_radius_km: float, n: int = 40_000) -> float:
    """Share of points of the solar disc (facing the satellite) whose ray misses Earth."""
    rng = np.random.default_rng(0)
    axis = (sun - sat) / np.linalg.norm(sun - sat)
    e1 = np.cross(axis, [0.0, 0.0, 1.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(axis, e1)
    rad = SUN_RADIUS_KM * np.sqrt(rng.uniform(0, 1, n))
    ang = rng.uniform(0, 2 * np.pi, n)
    pts = sun + rad[:, None] * (np.cos(ang)[:, None] * e1 + np.sin(ang)[:, None] * e2)
    d = pts - sat
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    along = -(d @ sat)
    miss2 = sat @ sat - along**2
    blocked = (along > 0) & (miss2 < earth_radius_km**2)
    return float(1.0 - blocked.mean())


def test_sunlit_fraction_against_brute_force() -> None:
    """Penumbra geometry from sampling rays to the solar disc, for LEO, MEO and GEO radii."""
    r_e = 6378.137
    sun = np.array([149_597_870.7, 0.0, 0.0])
    for r in (6878.0, 20_000.0, 42_164.0):
        # Offsets across the shadow edge (y = distance from the Sun–Earth axis), behind Earth.
        width = 0.01 * r + 60.0
        for y in np.linspace(r_e - width, r_e + width, 9):
            sat = np.array([-np.sqrt(max(r * r - y * y, 0.0)), y, 0.0])
            got = float(sunlit_fraction(sat, sun, earth_radius_km=r_e))
            ref = _brute_force_fraction(sat, sun, r_e)
            assert abs(got - ref) < 0.01, (r, y, got, ref)
    # Deep shadow and full sunlight.
    assert sunlit_fraction(np.array([-7000.0, 0.0, 0.0]), sun) == 0.0
    assert sunlit_fraction(np.array([7000.0, 0.0, 0.0]), sun) == 1.0
    assert is_sunlit(np.array([-7000.0, 6378.0, 0.0]), sun) == np.False_
    assert is_sunlit(np.array([-7000.0, 6380.0, 0.0]), sun) == np.True_
