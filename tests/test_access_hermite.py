"""The window engine interpolates SGP4 between samples: check that against direct SGP4.

The reference is sgp4's own Satrec.sgp4_array plus Skyfield's TEME→ITRS rotation, computed here
independently of overflight's propagation module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from overflight.access.fleet import _HERMITE_KM, Fleet
from overflight.catalog.formats import parse_bytes, read_path

MOLNIYA = b"""MOLNIYA TEST
1 99001U 24001A   26150.50000000  .00000000  00000-0  00000-0 0  9995
2 99001  63.4000 100.0000 7200000 270.0000  10.0000  2.00600000    13
"""
# Measured worst cases (m): LEO 3.3, GEO 4.7, HEO (MMS, e = 0.83) 11.8; asserted with headroom.
TOLERANCE_M = {"LEO": 10.0, "MEO": 20.0, "GEO": 10.0, "HEO": 25.0}


def test_interpolated_states_match_sgp4(shared_data: Path) -> None:
    from overflight.times import skyfield_time

    snap = shared_data / "celestrak-2026-05-30"
    recs = []
    for group in ("resource", "geo", "science", "stations"):
        recs += read_path(snap / f"{group}.tle").records
    recs += parse_bytes(MOLNIYA, "molniya", "tle").records
    t0 = np.datetime64("2026-05-31T00:00:00", "ns")
    duration = 86400.0
    fleet = Fleet(recs, t0, duration, workers=1)
    rng = np.random.default_rng(7)
    n = 4000
    sat = rng.integers(0, len(recs), n)
    t = rng.uniform(0.0, duration, n)
    fleet.add_fine(sat, t, t)
    # Every time now lies between two fine samples: states() interpolates and does not fall
    # back to SGP4 (except next to a failed sample).
    calls: list[int] = []
    direct = fleet.direct

    def counting(s: np.ndarray, tt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        calls.append(s.size)
        return direct(s, tt)

    fleet.direct = counting  # type: ignore[method-assign]
    r, _, ok = fleet.states(sat, t)
    assert sum(calls) < 0.05 * n
    times = fleet.times64(t)
    sky_t = skyfield_time(times)
    exact = np.full((n, 3), np.nan)
    for s in np.unique(sat):
        m = sat == s
        jd = np.full(int(m.sum()), fleet.jd_whole)
        err, rr, _ = recs[int(s)].to_satrec().sgp4_array(jd, fleet.jd_frac + t[m] / 86400.0)
        exact[m] = np.where(err[:, None] == 0, rr, np.nan)
    # TEME -> ITRS with Skyfield's own frame objects.
    rot = np.moveaxis(_teme_to_itrs(sky_t), -1, 0)
    ref = np.einsum("nij,nj->ni", rot, exact)
    good = ok & np.isfinite(ref).all(axis=1)
    err_m = np.linalg.norm(r - ref, axis=1) * 1000.0
    classes = np.array([recs[int(s)].orbit_class for s in sat])
    assert good.sum() > 0.95 * n
    for cls, tol in TOLERANCE_M.items():
        m = good & (classes == cls)
        if m.any():
            assert err_m[m].max() < tol, (cls, err_m[m].max())
    assert _HERMITE_KM * 1000.0 <= 10.0


def _teme_to_itrs(sky_t: object) -> np.ndarray:
    """(3, 3, N) rotation TEME→ITRS from Skyfield's frames (independent of overflight.frames)."""
    from skyfield.framelib import itrs
    from skyfield.sgp4lib import TEME

    r_itrs = itrs.rotation_at(sky_t)  # GCRS→ITRS
    r_teme = TEME.rotation_at(sky_t)  # GCRS→TEME
    return np.einsum("ijn,kjn->ikn", r_itrs, r_teme)


def test_no_candidates_in_any_chunk_gives_no_windows() -> None:
    """Every screening chunk empty (a satellite far from a few sites for a short time)."""
    from datetime import UTC, datetime, timedelta

    from overflight.access import Constraints, window_table
    from overflight.geometry import Site

    recs = parse_bytes(MOLNIYA, "molniya", "tle").records
    t0 = datetime(2026, 5, 31, tzinfo=UTC)
    sites = [Site(f"s{i}", -60.0 - 0.1 * i, 0.0, 0.0) for i in range(60)]
    table = window_table(recs, sites, t0, t0 + timedelta(minutes=20),
                         Constraints(max_off_nadir_deg=1.0))
    assert len(table) == 0


def test_rotation_written_out_matches_the_matrices(shared_data: Path) -> None:
    """Fleet._to_itrs (the Earth rotation angle interpolated between hourly nodes, the
    rotation about the pole written out) against the (N, 3, 3) matrices of overflight.frames."""
    from overflight.frames import teme_to_itrs_matrices

    recs = read_path(shared_data / "celestrak-2026-05-30" / "resource.tle").records[:1]
    fleet = Fleet(recs, np.datetime64("2026-05-31T00:00:00", "ns"), 86400.0, workers=1)
    rng = np.random.default_rng(4)
    t = rng.uniform(0.0, 86400.0, 500)
    r = rng.normal(0.0, 7000.0, (500, 3))
    v = rng.normal(0.0, 7.0, (500, 3))
    r_i, v_i = fleet._to_itrs(r, v, t)
    rot, rate = teme_to_itrs_matrices(fleet.times64(t))
    assert np.abs(r_i - np.einsum("nij,nj->ni", rot, r)).max() < 1e-6  # km (measured 1e-9)
    v_ref = np.einsum("nij,nj->ni", rot, v) + np.einsum("nij,nj->ni", rate, r)
    assert np.abs(v_i - v_ref).max() < 1e-9  # km/s
