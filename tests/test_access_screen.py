"""The screen may only drop time where no window can be: check its spans against dense SGP4.

Every orbit class (LEO, sun-synchronous, ISS, MEO, GEO, Molniya-type HEO and a decaying
object) against random sites incl. the poles and the antimeridian, for several constraints.
The truth is sgp4's own ``Satrec.sgp4_array`` every 10 s, rotated to ITRS with Skyfield's frames
and looked at from a geodetic up vector built here; nothing of the engine's geometry is used.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from overflight.access import Constraints, window_table
from overflight.access.fleet import Fleet
from overflight.access.screen import screen_spans, site_set
from overflight.catalog.formats import parse_bytes, read_path
from overflight.geometry import Site

SNAPSHOT = "celestrak-2026-05-30"
T0 = datetime(2026, 5, 31, tzinfo=UTC)
STEP_S = 10.0
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563

EXTRA = b"""MOLNIYA TEST
1 99001U 26999A   26150.50000000  .00000000  00000-0  00000-0 0  9993
2 99001  63.4000 100.0000 7200000 270.0000   0.0000  2.00600000    12
DECAY TEST
1 99002U 26999A   26150.50000000  .00500000  00000-0  20000-2 0  9993
2 99002  51.6000  40.0000 0010000  90.0000   0.0000 16.35000000    14
"""


def _satellites(shared_data: Path) -> list:  # type: ignore[type-arg]
    snap = shared_data / SNAPSHOT
    rng = np.random.default_rng(11)
    recs = []
    for group, count in (("resource", 12), ("stations", 6), ("science", 10), ("geo", 6),
                         ("weather", 6), ("starlink", 6)):
        pool = read_path(snap / f"{group}.tle").records
        recs += [pool[i] for i in rng.choice(len(pool), min(count, len(pool)), replace=False)]
    recs += parse_bytes(EXTRA, "extra.tle", "tle").records
    return recs


def _sites(count: int = 40) -> list[Site]:
    rng = np.random.default_rng(5)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, count)))
    lon = rng.uniform(-180, 180, count)
    sites = [Site(f"r{i}", float(a), float(o), 0.0) for i, (a, o) in enumerate(zip(lat, lon,
                                                                                 strict=True))]
    sites += [Site("north pole", 90.0, 0.0, 0.0), Site("south pole", -90.0, 0.0, 2800.0),
              Site("antimeridian", 10.0, 180.0, 0.0), Site("antimeridian w", -35.0, -179.99, 0.0),
              Site("high", 30.0, 90.0, 5000.0)]
    return sites


def _geodetic(site: Site) -> tuple[np.ndarray, np.ndarray]:
    """ITRS position (km) and geodetic up of a site, WGS-84, written out here."""
    lat, lon = math.radians(site.lat_deg), math.radians(site.lon_deg)
    e2 = WGS84_F * (2 - WGS84_F)
    n = WGS84_A_KM / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    h = site.alt_m / 1000.0
    xyz = np.array([
        (n + h) * math.cos(lat) * math.cos(lon),
        (n + h) * math.cos(lat) * math.sin(lon),
        (n * (1 - e2) + h) * math.sin(lat),
    ])
    up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    return xyz, up


def _truth(recs: list, times: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    """ITRS positions ``(S, T, 3)`` (NaN where SGP4 fails) from sgp4 and Skyfield's frames."""
    from skyfield.framelib import itrs
    from skyfield.sgp4lib import TEME

    from overflight.times import skyfield_time

    sky_t = skyfield_time(times)
    rot = np.einsum("ijn,kjn->nik", itrs.rotation_at(sky_t), TEME.rotation_at(sky_t))
    days = (times - np.datetime64("1970-01-01T00:00:00", "ns")) / np.timedelta64(1, "D")
    jd = np.floor(days) + 2440587.5
    fr = days - np.floor(days)
    out = np.full((len(recs), times.size, 3), np.nan)
    for i, rec in enumerate(recs):
        err, r, _ = rec.to_satrec().sgp4_array(jd, fr)
        good = err == 0
        out[i, good] = np.einsum("nij,nj->ni", rot[good], r[good])
    return out


@pytest.mark.parametrize(
    ("constraints", "n_sites"),
    [
        (Constraints(min_elevation_deg=0.0), 40),
        (Constraints(min_elevation_deg=30.0), 40),
        (Constraints(min_elevation_deg=75.0), 40),
        (Constraints(max_off_nadir_deg=20.0), 40),
        (Constraints(min_elevation_deg=-5.0), 40),
        (Constraints(min_elevation_deg=20.0), 400),  # sites grouped in spatial cells
    ],
    ids=["el0", "el30", "el75", "offnadir20", "el-5", "el20-cells"],
)
def test_screen_spans_cover_every_visible_sample(
    shared_data: Path, constraints: Constraints, n_sites: int
) -> None:
    recs = _satellites(shared_data)
    sites = _sites(n_sites)
    duration = 86400.0
    t0 = np.datetime64(T0.replace(tzinfo=None), "ns")
    fleet = Fleet(recs, t0, duration, workers=1)
    ss = site_set(sites)
    assert (ss.cell_radius.max() > 1e-3) == (n_sites > 48)
    spans: list[tuple[np.ndarray, ...]] = []
    for coarse in np.unique(fleet.coarse_s):
        group = np.flatnonzero(fleet.coarse_s == coarse)
        spans.append(screen_spans(fleet, ss, group, duration, constraints))
    sat, site, a, b = (np.concatenate([s[i] for s in spans]) for i in range(4))

    t_s = np.arange(0.0, duration + 1e-9, STEP_S)
    times = t0 + (t_s * 1e9).astype("timedelta64[ns]")
    pos = _truth(recs, times)
    missed = []
    covered_s = 0.0
    visible_s = 0.0
    for j, s in enumerate(sites):
        xyz, up = _geodetic(s)
        d = pos - xyz
        rng = np.linalg.norm(d, axis=-1)
        ok = np.isfinite(rng)
        with np.errstate(invalid="ignore"):
            if constraints.max_off_nadir_deg is not None:
                cos_off = np.einsum("stk,stk->st", -pos, -d) / (np.linalg.norm(pos, axis=-1) * rng)
                off = np.degrees(np.arccos(np.clip(cos_off, -1, 1)))
                vis = off <= constraints.max_off_nadir_deg
                vis &= np.einsum("stk,k->st", d, up) > 0
            else:
                el = np.degrees(np.arcsin(np.einsum("stk,k->st", d, up) / rng))
                vis = el >= constraints.effective_min_elevation_deg()
        vis &= ok
        for i in range(len(recs)):
            tv = t_s[vis[i]]
            if tv.size == 0:
                continue
            m = (sat == i) & (site == j)
            inside = ((tv[:, None] >= a[m][None, :]) & (tv[:, None] <= b[m][None, :])).any(axis=1)
            visible_s += tv.size * STEP_S
            if not inside.all():
                missed.append((recs[i].name, s.name, tv[~inside][:3].tolist()))
        covered_s += float((b[site == j] - a[site == j]).sum())
    assert not missed, missed[:10]
    assert visible_s > 0
    # Not a proof of anything, but the screen should stay tight (it was ~1.5-3× when written).
    assert covered_s < 20.0 * visible_s, (covered_s, visible_s)


def test_fine_samples_are_computed_only_where_asked(shared_data: Path) -> None:
    recs = read_path(shared_data / SNAPSHOT / "resource.tle").records[:3]
    t0 = np.datetime64(T0.replace(tzinfo=None), "ns")
    fleet = Fleet(recs, t0, 86400.0, workers=1)
    assert fleet.keys.size == 0
    fleet.add_fine(np.array([0, 0, 2]), np.array([100.0, 150.0, 1000.0]), np.array([200.0, 260.0,
                                                                                     1000.0]))
    sat = fleet.keys // fleet._base
    k = fleet.keys % fleet._base
    assert set(sat.tolist()) == {0, 2}
    assert k[sat == 0].tolist() == list(range(1, 6))  # 60 s steps covering 100-260 s
    # Asking again adds nothing; states outside the samples still come from SGP4.
    before = fleet.keys.size
    fleet.add_fine(np.array([0]), np.array([120.0]), np.array([130.0]))
    assert fleet.keys.size == before
    r, _, ok = fleet.states(np.array([1]), np.array([5000.0]))
    assert ok.all() and np.isfinite(r).all()


def test_screen_margins_cover_sgp4_with_headroom(shared_data: Path) -> None:
    """Within one coarse step, SGP4's angular momentum and orbit plane move far less than the
    screen's margins allow (measured: 1.6e-4 relative and 1.1e-4 rad when written)."""
    from overflight.access.screen import _H_MARGIN, _PLANE_RAD

    recs = _satellites(shared_data)
    t0 = np.datetime64(T0.replace(tzinfo=None), "ns")
    fleet = Fleet(recs, t0, 86400.0, workers=1)
    days = (t0 - np.datetime64("1970-01-01T00:00:00", "ns")) / np.timedelta64(1, "D")
    tt = np.arange(0.0, 86400.0, 1.0)
    jd = np.full(tt.size, math.floor(days) + 2440587.5)
    fr = days - math.floor(days) + tt / 86400.0
    worst_h = worst_plane = 0.0
    for i, rec in enumerate(recs):
        n = int(fleet.coarse_s[i])
        err, r, v = rec.to_satrec().sgp4_array(jd, fr)  # TEME: a non-rotating frame
        good = err == 0
        h = np.linalg.norm(np.cross(r, v), axis=1)
        u = r / np.linalg.norm(r, axis=1)[:, None]
        for k in range(0, tt.size - n, n):
            seg = slice(k, k + n + 1)
            if not good[seg].all():
                continue
            hi, lo = max(h[k], h[k + n]), min(h[k], h[k + n])
            worst_h = max(worst_h, h[seg].max() / hi - 1.0, 1.0 - h[seg].min() / lo)
            normal = np.cross(u[k], u[k + n])
            normal /= np.linalg.norm(normal)
            worst_plane = max(worst_plane, float(np.abs(u[seg] @ normal).max()))
    assert 5.0 * worst_h < _H_MARGIN, worst_h
    assert 5.0 * worst_plane < _PLANE_RAD, worst_plane


def test_second_order_elevation_bounds_hold(shared_data: Path) -> None:
    """Where the search's second-order bounds call a gap below (above) the limit, SGP4 sampled
    every 0.25 s agrees: no sample at or above (below) it."""
    from overflight.access.search import Evaluator, _elevation_bounds

    recs = _satellites(shared_data)
    sites = _sites(12)
    duration = 86400.0
    t0 = np.datetime64(T0.replace(tzinfo=None), "ns")
    fleet = Fleet(recs, t0, duration, workers=1)
    ss = site_set(sites)
    rng = np.random.default_rng(17)
    n = 6000
    sat = rng.integers(0, len(recs), n)
    site = rng.integers(0, len(sites), n)
    length = rng.uniform(1.0, 120.0, n)
    a = rng.uniform(0.0, duration - 120.0, n)
    checked = {"below": 0, "above": 0, "around windows": 0}
    for limit in (0.0, 30.0, 60.0):
        c = Constraints(min_elevation_deg=limit)
        ev = Evaluator(fleet, ss, c)
        # Gaps where the satellite is above the horizon, and gaps around whole windows (both
        # ends below the limit, the middle above it: what a too-weak bound would lose).
        el0 = np.degrees(ev.raw(sat, site, a, exact=True).elevation_rad)
        pick = np.flatnonzero(el0 > limit - 20.0)
        wins = window_table(recs, sites, T0, T0 + timedelta(seconds=duration), c)
        w0 = (wins.start - t0) / np.timedelta64(1, "s")
        w1 = (wins.end - t0) / np.timedelta64(1, "s")
        whole = ~((w0 <= 1.0) | (w1 >= duration - 1.0)) & (w1 - w0 < 100.0)
        pad0 = rng.uniform(0.2, 300.0, int(whole.sum()))
        pad1 = rng.uniform(0.2, 300.0, int(whole.sum()))
        s = np.concatenate((sat[pick], wins.sat_index[whole]))
        si = np.concatenate((site[pick], wins.site_index[whole]))
        lo = np.concatenate((a[pick], w0[whole] - pad0))
        ln = np.concatenate((length[pick], (w1 - w0)[whole] + pad0 + pad1))
        fleet.add_fine(s, lo, lo + ln)
        left = ev.points(np.arange(pick.size), s, si, lo)
        right = ev.points(np.arange(pick.size), s, si, lo + ln)
        v_max = fleet.bounds.v_max_km_s[s]
        rho_min = np.minimum(left.range_km, right.range_km) - v_max * ln / 2.0
        below, above = _elevation_bounds(math.radians(limit), left, right, ln, v_max, rho_min)
        for kind, mask in (("below", below), ("above", above)):
            idx = np.flatnonzero(mask)
            steps = np.ceil(ln[idx] / 0.25).astype(int) + 1
            owner = np.repeat(np.arange(idx.size), steps)
            frac = (np.arange(owner.size) - np.repeat(np.cumsum(steps) - steps, steps)) / (
                steps[owner] - 1
            )
            tt = lo[idx][owner] + frac * ln[idx][owner]
            el = np.degrees(ev.raw(s[idx][owner], si[idx][owner], tt, exact=True).elevation_rad)
            bad = (el >= limit) if kind == "below" else (el < limit)
            assert not bad.any(), (kind, limit, el[bad][:5])
            checked[kind] += idx.size
        checked["around windows"] += int(whole.sum())
    assert checked["below"] > 100 and checked["above"] > 100, checked
    assert checked["around windows"] > 300, checked


def test_shadow_distance_is_the_distance_to_the_shadow_edge() -> None:
    """Against brute force: the nearest point whose sunlit state differs, on a dense grid."""
    from overflight.access.lighting import _shadow_distance_km
    from overflight.sun import is_sunlit

    rng = np.random.default_rng(8)
    sun = np.array([1.496e8, 0.0, 0.0])
    pts = rng.uniform(-15000.0, 15000.0, (60, 3))
    pts = pts[np.linalg.norm(pts, axis=1) > 6600.0]
    dist = _shadow_distance_km(pts, np.broadcast_to(sun, pts.shape))
    axis = np.linspace(-16000.0, 16000.0, 161)  # 200 km grid
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    grid = grid[np.linalg.norm(grid, axis=1) > 6400.0]
    lit_grid = is_sunlit(grid, sun)
    lit_pts = is_sunlit(pts, np.broadcast_to(sun, pts.shape))
    for p, d, lit in zip(pts, dist, lit_pts, strict=True):
        other = grid[lit_grid != lit]
        brute = np.linalg.norm(other - p, axis=1).min()
        assert d <= brute + 1.0  # never more than the true distance (a safe stride)
        # ...and not much less (the shadow starts at Earth's disc here, not at its surface).
        assert d >= 0.5 * brute - 200.0 * math.sqrt(3)


def test_lighting_strides_over_long_windows(shared_data: Path) -> None:
    """GEO windows lasting the whole interval are sampled where the Sun could cross a limit,
    not every 15 s: a month costs a few thousand lighting samples per satellite, not 170,000."""
    from overflight.access.lighting import Lighting

    recs = read_path(shared_data / SNAPSHOT / "geo.tle").records[:4]
    counted: list[int] = []
    original = Lighting._failing

    def counting(self: Lighting, sat: np.ndarray, site: np.ndarray, t: np.ndarray):  # type: ignore[no-untyped-def]
        counted.append(t.size)
        return original(self, sat, site, t)

    site = Site("Pyongyang", 39.02, 125.75, 0.0)
    try:
        Lighting._failing = counting  # type: ignore[method-assign]
        table = window_table(recs, [site], T0, T0 + timedelta(days=30),
                             Constraints(min_elevation_deg=5.0, sun_min_deg=10.0))
    finally:
        Lighting._failing = original  # type: ignore[method-assign]
    assert len(table) > 40
    assert sum(counted) < 4 * 8000, sum(counted)


def test_far_side_sites_get_no_spans_from_geo_at_the_horizon(shared_data: Path) -> None:
    """GEO at 0° minimum elevation reaches ~81° of arc: too wide for times along the arc, but a
    site on the other side of the Earth must still get no candidate span."""
    recs = read_path(shared_data / SNAPSHOT / "geo.tle").records[:6]
    t0 = np.datetime64(T0.replace(tzinfo=None), "ns")
    fleet = Fleet(recs, t0, 86400.0, workers=1)
    pos, _, _, _ = fleet.grid(np.array([0]))
    lon = math.degrees(math.atan2(pos[0, 0, 1], pos[0, 0, 0]))
    sites = [Site("below", 0.0, lon, 0.0), Site("far side", 0.0, lon + 180.0, 0.0)]
    ss = site_set(sites)
    sat, site, a, b = screen_spans(fleet, ss, np.flatnonzero(fleet.coarse_s == fleet.coarse_s[0]),
                              86400.0, Constraints(min_elevation_deg=0.0))
    mine = sat == 0
    assert set(site[mine].tolist()) == {0}
    assert (b[mine] - a[mine]).sum() >= 86400.0 - 1.0
