"""The bounds that let the field method drop unsure (mostly grazing) pairs without the engine.

``_curvature`` bounds |m''| of each constraint margin; ``_proven_out`` uses it to prove a pass
segment holds no window. Both are checked against SGP4 sampled densely (the positions straight
from ``overflight.propagation``, margins from ``overflight.geometry.view_geometry_arrays``, no
interpolation): second differences of the margins stay within the bound, and every pair proven
out has no time in its segment where all margins hold — over passes made to graze the limits.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from overflight.access import Constraints
from overflight.catalog.formats import read_path
from overflight.coverage_field import (
    _curvature,
    _Margins,
    _Pairs,
    _proven_out,
    _Track,
)
from overflight.geometry import nadir_point, sites_itrs_km, up_vectors, view_geometry_arrays
from overflight.hypothetical import sso, walker
from overflight.propagation import Propagator

T0 = datetime(2026, 5, 31, tzinfo=UTC)
T0_64 = np.datetime64("2026-05-31T00:00:00", "ns")


def _fleet(shared_data: Path, rng: random.Random) -> list:
    cat = list(read_path(shared_data / "celestrak-2026-05-30" / "resource.tle").records)
    leo = [e for e in cat if e.apogee_alt_km < 2000.0]
    return (rng.sample(leo, 4) + sso(rng.uniform(350.0, 500.0), 10.5, T0)
            + walker(1200.0, 53.0, 1, 1, 0, T0, first_id=900_200))


def _states(e: object, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ITRS positions and velocities straight from SGP4 at seconds ``t_s`` from T0."""
    t64 = T0_64 + np.round(t_s * 1e9).astype(np.int64).astype("timedelta64[ns]")
    eph = Propagator([e]).propagate(t64, workers=1)
    assert (eph.error == 0).all()
    return eph.position_km[0], eph.velocity_km_s[0]


def _dense_margins(r: np.ndarray, xyz: np.ndarray, up: np.ndarray, c: Constraints
                   ) -> dict[str, np.ndarray]:
    """Margins (T, N) in the field method's units: sin(elevation) − sin(limit),
    cos(off-nadir) − cos(limit), range limit − range (km)."""
    g = view_geometry_arrays(r[:, None, :], xyz[None, :, :], up[None, :, :])
    out = {"el": np.sin(np.radians(g.elevation_deg))
           - math.sin(math.radians(c.effective_min_elevation_deg()))}
    if c.max_off_nadir_deg is not None:
        out["on"] = (np.cos(np.radians(g.off_nadir_deg))
                     - math.cos(math.radians(c.max_off_nadir_deg)))
    if c.max_range_km is not None:
        out["rng"] = c.max_range_km - g.range_km
    return out


def _points_across(r: np.ndarray, v: np.ndarray, gammas: np.ndarray, rng: random.Random
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Points across the track from the sub-satellite point of ``r`` at central angles
    ``gammas`` (rad, either side), at random heights: ITRS positions and geodetic ups."""
    rh = r / np.linalg.norm(r)
    side = np.cross(r, v)
    side /= np.linalg.norm(side)
    sign = np.array([rng.choice([-1.0, 1.0]) for _ in gammas])
    d = np.cos(gammas)[:, None] * rh + (sign * np.sin(gammas))[:, None] * side
    g = nadir_point(d * 7000.0)
    alt_m = np.array([rng.uniform(0.0, 2000.0) for _ in gammas])
    return sites_itrs_km(g.lat_deg, g.lon_deg, alt_m), up_vectors(g.lat_deg, g.lon_deg)


CONSTRAINTS = [
    (Constraints(max_off_nadir_deg=30.0), ("on", [])),
    (Constraints(max_off_nadir_deg=15.0), ("on", [])),
    (Constraints(min_elevation_deg=20.0), ("el", [])),
    (Constraints(min_elevation_deg=5.0, max_range_km=1500.0), ("el", ["rng"])),
    (Constraints(min_elevation_deg=10.0, max_off_nadir_deg=55.0), ("on", ["el"])),
]


def test_curvature_bounds_hold_on_dense_sgp4(shared_data: Path) -> None:
    """Second differences of every margin (the second derivative somewhere in between) within
    the bound, for points anywhere from under the track to 2,500 km aside."""
    rng = random.Random(3)
    worst = 0.0
    for e in _fleet(shared_data, rng):
        t_c = rng.uniform(0.0, 80000.0)
        h = 0.5
        t = np.arange(t_c - 600.0, t_c + 600.0 + 1e-9, h)
        r, v = _states(e, t)
        k = t.size // 2
        xyz, up = _points_across(r[k], v[k], np.array([rng.uniform(0.0, 0.4)
                                                       for _ in range(60)]), rng)
        c = Constraints(min_elevation_deg=10.0, max_off_nadir_deg=40.0, max_range_km=3000.0)
        m = _dense_margins(r, xyz, up, c)
        rho = view_geometry_arrays(r[:, None, :], xyz[None, :, :], up[None, :, :]).range_km
        speed = float(np.linalg.norm(v, axis=1).max())
        radius = float(np.linalg.norm(r, axis=1).min())
        rho_lo = np.minimum(np.minimum(rho[:-2], rho[1:-1]), rho[2:])
        for kind, mk in m.items():
            second = np.abs(mk[2:] - 2.0 * mk[1:-1] + mk[:-2]) / (h * h)
            bound = _curvature(kind, np.full(rho_lo.shape, speed),
                               np.full(rho_lo.shape, radius), rho_lo)
            ratio = float((second / bound).max())
            assert ratio <= 1.0, (e.name, kind, ratio)
            worst = max(worst, ratio)
    assert worst > 0.1  # the bound is not vacuous either


@pytest.mark.parametrize("case", range(len(CONSTRAINTS)))
def test_pairs_proven_out_have_no_window_in_dense_sgp4(case: int, shared_data: Path) -> None:
    """Passes made to graze the limits (points across the track around the reach, so that the
    best margin spans −0.005…+0.002): a pair proven out never has a time, in SGP4 sampled
    every 0.1 s, where all margins hold; and most pairs that miss by 1e-4 are proven out."""
    c, kinds = CONSTRAINTS[case]
    rng = random.Random(100 + case)
    seg_t, seg_r, seg_v = [], [], []
    pts_p, pts_u, pts_seg, pts_guess, best = [], [], [], [], []
    for e in _fleet(shared_data, rng):
        t_c = round(rng.uniform(0.0, 80000.0) / 15.0) * 15.0
        nodes = np.arange(t_c - 240.0, t_c + 240.0 + 1e-9, 15.0)
        r, v = _states(e, nodes)
        k = nodes.size // 2
        # The central angle where the best margin crosses 0, from a coarse dense scan.
        scan = np.linspace(0.0, 0.5, 2001)
        xyz, up = _points_across(r[k], v[k], scan, random.Random(0))
        t_d = np.arange(nodes[0], nodes[-1] + 1e-9, 1.0)
        rd, _ = _states(e, t_d)
        md = _dense_margins(rd, xyz, up, c)
        g = np.min(np.stack([md[x] for x in (kinds[0], *kinds[1])]), axis=0).max(axis=0)
        inside = np.flatnonzero(g >= 0.0)
        if inside.size == 0 or inside[-1] == scan.size - 1:
            continue
        edge = scan[inside[-1]]
        gam = edge + np.array([rng.uniform(-0.0004, 0.002) for _ in range(300)])
        xyz, up = _points_across(r[k], v[k], gam, rng)
        rd, _ = _states(e, np.arange(nodes[0], nodes[-1] + 1e-9, 0.1))
        md = _dense_margins(rd, xyz, up, c)
        # (Range in 1000 km, near the angle margins' scale: 1e-4 is 100 m.)
        md = {x: y / 1000.0 if x == "rng" else y for x, y in md.items()}
        best.append(np.min(np.stack([md[x] for x in (kinds[0], *kinds[1])]), axis=0)
                    .max(axis=0))
        seg_t.append(nodes)
        seg_r.append(r)
        seg_v.append(v)
        pts_p.append(xyz)
        pts_u.append(up)
        pts_seg.append(np.full(gam.size, len(seg_t) - 1))
        pts_guess.append(np.full(gam.size, t_c + rng.uniform(-20.0, 20.0)))
    assert len(seg_t) >= 4
    track = _Track(seg_t, seg_r, seg_v)
    seg = np.concatenate(pts_seg).astype(np.int64)
    pr = _Pairs(seg, np.concatenate(pts_p).T.copy(), np.concatenate(pts_u).T.copy())
    lo = np.array([x[0] for x in seg_t])[seg]
    hi = np.array([x[-1] for x in seg_t])[seg]
    v_max = np.array([np.linalg.norm(x, axis=1).max() for x in seg_v])[seg]
    r_min = np.array([np.linalg.norm(x, axis=1).min() for x in seg_r])[seg]
    out = _proven_out(_Margins(track, c), kinds, pr, np.concatenate(pts_guess), lo, hi,
                      v_max, r_min)
    top = np.concatenate(best)
    assert (top >= 0.0).sum() > 20 and (top < -1e-4).sum() > 200  # grazing both ways
    assert (top[out] < 0.0).all()
    assert out[top < -1e-4].mean() > 0.95
