"""Shared helpers for the geometry and Sun tests: real satellites as Skyfield objects.

Everything here produces *reference* data with Skyfield alone; nothing calls overflight's
geometry code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from skyfield.api import EarthSatellite
from skyfield.framelib import itrs
from skyfield.iokit import parse_tle_file

from overflight.times import skyfield_time, timescale

SNAPSHOT = "celestrak-2026-05-30"

# (group, how many): LEO stations, sun-synchronous imagers, Starlink, OneWeb (1200 km),
# military, weather (incl. Arktika-M in a Molniya-like orbit), science (incl. Cluster, e = 0.9),
# and geostationary.
GROUPS = {
    "stations": 4,
    "resource": 8,
    "starlink": 8,
    "oneweb": 5,
    "military": 4,
    "weather": 6,
    "science": 6,
    "geo": 5,
}
HIGH_ECCENTRICITY = ("ARKTIKA-M 1", "CLUSTER II-FM7 (SAMBA)")


def load_satellites(shared_data: Path) -> list[EarthSatellite]:
    """A deterministic, varied set of real satellites (about 45)."""
    ts = timescale()
    chosen: list[EarthSatellite] = []
    for group, count in GROUPS.items():
        with open(shared_data / SNAPSHOT / f"{group}.tle", "rb") as f:
            sats = list(parse_tle_file(f, ts))
        step = max(1, len(sats) // count)
        picked = sats[::step][:count]
        picked += [s for s in sats if s.name in HIGH_ECCENTRICITY and s not in picked]
        chosen += picked
    return chosen


def random_times(n: int, seed: int, start: str = "2026-05-29", days: float = 3.0) -> Any:
    """``n`` sorted random UTC ``datetime64[ns]`` times in ``days`` days from ``start``."""
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.uniform(0.0, days * 86400e9, n)).astype(np.int64)
    return np.datetime64(start, "ns") + offsets.astype("timedelta64[ns]")


def itrs_states(sats: list[EarthSatellite], t64: Any) -> tuple[Any, Any]:
    """Skyfield's own ITRS positions (km) and velocities (km/s), each ``(S, T, 3)``."""
    t = skyfield_time(t64)
    pos, vel = [], []
    for sat in sats:
        r, v = sat.at(t).frame_xyz_and_velocity(itrs)
        pos.append(r.km.T)
        vel.append(v.km_per_s.T)
    return np.array(pos), np.array(vel)
