"""Geometry benchmark: look angles, view geometry, Sun and shadow, against Skyfield in the same run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/geometry.py

Inputs: the first 10,000 Starlink element sets of the shared snapshot, propagated with sgp4's
SatrecArray over 1,440 one-minute times and rotated TEME→ITRS with Skyfield's frame matrices
(input preparation is not timed). Timings are medians of several runs; Skyfield is timed on a
subset of satellites and compared per satellite-time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _timing import median_time
from sgp4.api import Satrec, SatrecArray
from skyfield.api import EarthSatellite, wgs84
from skyfield.framelib import itrs
from skyfield.sgp4lib import TEME

from overflight.geometry import Site, elevation_deg, look_angles, view_geometry
from overflight.sun import is_sunlit, sun_elevation_deg, sun_itrs_km, sunlit_fraction
from overflight.times import ephemeris, skyfield_time, timescale

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "celestrak-2026-05-30" / "starlink.tle"
SITE = Site("Sohae", 39.66, 124.705, 30.0)
OMEGA = 7.292115e-5  # rad/s, for the ITRS velocity of the benchmark inputs only


def load_tles(n: int) -> list[tuple[str, str, str]]:
    lines = DATA.read_text().splitlines()
    out = [(lines[i].strip(), lines[i + 1], lines[i + 2]) for i in range(0, len(lines) - 2, 3)]
    return out[:n]


def itrs_inputs(tles: list[tuple[str, str, str]], t64: Any) -> tuple[Any, Any]:
    t = skyfield_time(t64)
    sats = SatrecArray([Satrec.twoline2rv(a, b) for _, a, b in tles])
    # UTC Julian date as Skyfield hands it to SGP4.
    _, r, v = sats.sgp4(t.whole, t.tai_fraction - t._leap_seconds() / 86400.0)
    # TEME -> GCRS -> ITRS, one matrix per time.
    m = np.einsum("ijt,kjt->tik", itrs.rotation_at(t), TEME.rotation_at(t))
    pos = np.einsum("tij,stj->sti", m, r)
    vel = np.einsum("tij,stj->sti", m, v)
    vel[..., 0] += OMEGA * pos[..., 1]
    vel[..., 1] -= OMEGA * pos[..., 0]
    keep = np.isfinite(pos).all(axis=(1, 2))
    return np.ascontiguousarray(pos[keep]), np.ascontiguousarray(vel[keep])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--satellites", type=int, default=10_000)
    ap.add_argument("--times", type=int, default=1_440)
    ap.add_argument("--skyfield-satellites", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if not DATA.is_file():
        sys.exit(f"shared data not found: {DATA}")

    t64 = np.datetime64("2026-05-31T00:00", "ns") + np.arange(args.times) * np.timedelta64(60, "s")
    tles = load_tles(args.satellites)
    pos, vel = itrs_inputs(tles, t64)
    s, n_t = pos.shape[:2]
    n = s * n_t
    print(f"inputs: {s} satellites x {n_t} times = {n:,} satellite-times (Starlink, ITRS)")
    print(f"numpy {np.__version__}")

    rows: list[tuple[str, float, int]] = []

    def bench(label: str, fn: Callable[[], Any], count: int, repeat: int = args.repeat) -> float:
        sec = median_time(fn, repeat)
        rows.append((label, sec, count))
        print(f"{label:58s} {sec:9.3f} s  {sec / count * 1e9:9.1f} ns/item")
        return sec

    ours_la = bench("overflight look_angles az/el/range/rate (S,T)",
                    lambda: look_angles(pos, SITE, vel), n)
    bench("overflight look_angles az/el/range (no rate)", lambda: look_angles(pos, SITE), n)
    ours_el = bench("overflight elevation_deg (S,T)", lambda: elevation_deg(pos, SITE), n)
    sub = pos[:1000]
    bench("overflight view_geometry (1000 x T)", lambda: view_geometry(sub, SITE),
          sub.shape[0] * n_t, repeat=3)

    # Skyfield on a subset: full altaz (SGP4 + frames + topocentric) and altaz alone.
    ts = timescale()
    t = skyfield_time(t64)
    topos = wgs84.latlon(SITE.lat_deg, SITE.lon_deg, elevation_m=SITE.alt_m)
    k = args.skyfield_satellites
    sky = [EarthSatellite(a, b, name, ts) for name, a, b in tles[:k]]

    def skyfield_full() -> None:
        for sat in sky:
            (sat - topos).at(t).altaz()

    rel = [(sat - topos).at(t) for sat in sky]

    def skyfield_altaz_only() -> None:
        for p in rel:
            p.altaz()

    sky_full = bench(f"skyfield (sat - topos).at(t).altaz() ({k} sats)", skyfield_full, k * n_t,
                     repeat=3)
    sky_altaz = bench(f"skyfield .altaz() on precomputed positions ({k} sats)",
                      skyfield_altaz_only, k * n_t)
    per_ours = ours_la / n
    print(f"ratio look_angles vs skyfield full altaz, per satellite-time: "
          f"{(sky_full / (k * n_t)) / per_ours:,.1f}x faster")
    print(f"ratio look_angles vs skyfield altaz() alone, per satellite-time: "
          f"{(sky_altaz / (k * n_t)) / per_ours:,.1f}x faster")
    print(f"ratio elevation_deg vs skyfield altaz() alone, per satellite-time: "
          f"{(sky_altaz / (k * n_t)) / (ours_el / n):,.1f}x faster")

    # Sun.
    eph = ephemeris()
    bench(f"overflight sun_itrs_km exact ({n_t} times)",
          lambda: sun_itrs_km(t64, step_s=None), n_t, repeat=3)
    bench(f"overflight sun_itrs_km hourly nodes ({n_t} times)", lambda: sun_itrs_km(t64), n_t)
    year = np.arange(np.datetime64("2026-01-01", "ns"), np.datetime64("2027-01-01", "ns"),
                     np.timedelta64(60, "s"))
    bench(f"overflight sun_itrs_km hourly nodes (1 year, {year.size:,} times)",
          lambda: sun_itrs_km(year), year.size, repeat=3)
    bench(f"overflight sun_elevation_deg one site ({n_t} times)",
          lambda: sun_elevation_deg(SITE, t64), n_t)
    def skyfield_sun() -> None:
        fresh = skyfield_time(t64)  # a new Time: no cached rotation matrices, like ours
        (eph["earth"] + topos).at(fresh).observe(eph["sun"]).apparent().altaz()

    bench(f"skyfield (earth+topos).at(t).observe(sun).apparent().altaz() ({n_t} times)",
          skyfield_sun, n_t, repeat=3)
    sun = sun_itrs_km(t64)
    bench("overflight is_sunlit (S,T)", lambda: is_sunlit(pos, sun), n, repeat=3)
    bench("overflight sunlit_fraction (1000 x T)", lambda: sunlit_fraction(sub, sun),
          sub.shape[0] * n_t, repeat=3)
    sat_sky = sky[:20]

    def skyfield_sunlit() -> None:
        for sat in sat_sky:
            sat.at(t).is_sunlit(eph)

    bench("skyfield EarthSatellite.at(t).is_sunlit(eph) (20 sats)", skyfield_sunlit, 20 * n_t,
          repeat=3)


if __name__ == "__main__":
    main()
