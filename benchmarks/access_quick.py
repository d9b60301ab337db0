"""Reduced W2 for regression hunts: the first N Starlink satellites × (b)'s 100 land sites × 24 h
at 30°, ``iter_window_tables(workers=1)`` streamed to a temporary CSV exactly as the timed part
of ``benchmarks/access.py --only b`` does, in this process. Prints one JSON line: CPU seconds
(getrusage, process + children), wall seconds, windows and a digest of every window column
(satellite, site, start, peak, end, maximum elevation) so checkouts can be compared for
identical output.

It imports only what every checkout since e07ce91 has, so it can time old commits::

    git worktree add /tmp/bis-<sha> <sha>
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=/tmp/bis-<sha>/src \\
        .venv/bin/python benchmarks/access_quick.py 3000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from overflight.access import Constraints, iter_window_tables
from overflight.basemap import country_at
from overflight.geometry import Site

try:
    from overflight.catalog.formats import read_path
except ImportError:  # checkouts before the catalog/ package
    from overflight.formats import read_path  # type: ignore[no-redef]

STARLINK = Path(__file__).resolve().parents[2] / "shared" / "data" / "celestrak-2026-05-30"
T0 = datetime(2026, 5, 31, tzinfo=UTC)


def land_sites(n: int, seed: int = 2026) -> list[Site]:
    """The same draw as ``benchmarks/access.py``'s (kept here: that script needs new modules)."""
    rng = np.random.default_rng(seed)
    out: list[Site] = []
    while len(out) < n:
        lat = math.degrees(math.asin(rng.uniform(-1.0, 1.0)))
        lon = float(rng.uniform(-180.0, 180.0))
        if country_at(lat, lon) is not None:
            out.append(Site(f"land {len(out)}", lat, lon, 0.0))
    return out


def cpu_s() -> float:
    """User + system CPU seconds of this process and its reaped children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("satellites", type=int, nargs="?", default=3000, help="first N (0 = all)")
    args = ap.parse_args()
    elsets = read_path(STARLINK / "starlink.tle").records[: args.satellites or None]
    sites = land_sites(100)
    ids = np.array([e.norad_id for e in elsets], dtype=np.int64)
    digest = hashlib.sha1()
    n = 0
    c0, t0 = cpu_s(), time.perf_counter()
    with tempfile.NamedTemporaryFile("wb", suffix=".csv") as f:
        writer = None
        for table in iter_window_tables(elsets, sites, T0, T0 + timedelta(hours=24),
                                        Constraints(min_elevation_deg=30.0), workers=1):
            cols = pa.table({
                "norad_id": ids[table.sat_index],
                "site": table.site_index,
                "start": table.start,
                "peak": table.peak,
                "end": table.end,
                "max_elevation_deg": np.round(table.max_elevation_deg, 4),
            })
            if writer is None:
                writer = pa_csv.CSVWriter(f, cols.schema)
            writer.write_table(cols)
            n += len(table)
            for col in (table.sat_index, table.site_index, table.start, table.peak, table.end,
                        table.max_elevation_deg):
                digest.update(np.ascontiguousarray(col).tobytes())
        if writer is not None:
            writer.close()
    cpu, wall = cpu_s() - c0, time.perf_counter() - t0
    print(json.dumps({"cpu_s": round(cpu, 3), "wall_s": round(wall, 3), "windows": n,
                      "digest": digest.hexdigest()[:12], "satellites": len(elsets),
                      "load_1min": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
