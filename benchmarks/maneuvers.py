"""Maneuver detection over a whole element-set history (default: the Starlink week).

Times, per run: reading the file (gunzip + parse), the orbit table (SGP4 initialisation of every
set), detection (pair residuals, robust scales, persistence checks, burn-time searches) and
the total; medians over ``--repeat`` runs. The peer is the irreducible SGP4 work done with the
``sgp4`` package alone: ``Satrec.twoline2rv`` of every TLE plus one propagation of each earlier
set to the next set's epoch. With ``--groups`` it also runs every history file of the folder
once and prints maneuvers per group (the figures in docs/history.md).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/maneuvers.py
"""

from __future__ import annotations

import argparse
import collections
import gzip
import itertools
import os
import resource
import statistics
import time
from pathlib import Path

HISTORY = Path(__file__).resolve().parents[2] / "shared" / "data" / \
    "celestrak-history-2026-05-24-to-30"


def _sgp4_peer(path: Path) -> float:
    """twoline2rv every TLE, then propagate each set to its successor's epoch (same object)."""
    from sgp4.api import WGS72, Satrec

    data = path.read_bytes()
    text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()
    t0 = time.perf_counter()
    lines = text.splitlines()
    sats = []
    for k, line in enumerate(lines):
        if line.startswith("1 ") and k + 1 < len(lines) and lines[k + 1].startswith("2 "):
            sats.append(Satrec.twoline2rv(line, lines[k + 1], WGS72))
    sats.sort(key=lambda s: (s.satnum, s.jdsatepoch + s.jdsatepochF))
    for a, b in itertools.pairwise(sats):
        if a.satnum == b.satnum:
            a.sgp4(b.jdsatepoch, b.jdsatepochF)
    return time.perf_counter() - t0


def _run(path: Path) -> dict[str, float | int]:
    from overflight.catalog.formats import read_path
    from overflight.history import OrbitTable
    from overflight.maneuvers import detect_maneuvers

    t0 = time.perf_counter()
    records = read_path(path).records
    t1 = time.perf_counter()
    table = OrbitTable.from_histories(records)
    t2 = time.perf_counter()
    result = detect_maneuvers(table)
    t3 = time.perf_counter()
    return {
        "read_s": t1 - t0, "table_s": t2 - t1, "detect_s": t3 - t2, "total_s": t3 - t0,
        "element_sets": len(records), "objects": result.objects,
        "pairs": result.pairs_compared, "maneuvers": len(result.maneuvers),
        "maneuvering_objects": len({m.norad_id for m in result.maneuvers}),
        "glitches": result.glitches,
        "kinds": dict(collections.Counter(m.kind for m in result.maneuvers)),  # type: ignore[dict-item]
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=HISTORY / "starlink.tle.gz")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--groups", action="store_true", help="Also run every history file once.")
    args = ap.parse_args()

    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} "
          f"{os.getloadavg()[2]:.1f} on {os.cpu_count()} CPUs")
    runs = [_run(args.file) for _ in range(args.repeat)]
    peer = [_sgp4_peer(args.file) for _ in range(args.repeat)]
    first = runs[0]
    print(f"{args.file.name}: {first['element_sets']} element sets, {first['objects']} objects, "
          f"{first['pairs']} pairs compared")
    for key in ("read_s", "table_s", "detect_s", "total_s"):
        vals = [float(r[key]) for r in runs]
        print(f"  {key:9s} median {statistics.median(vals):6.2f} s  "
              f"({', '.join(f'{v:.2f}' for v in vals)})")
    total = statistics.median(float(r["total_s"]) for r in runs)
    print(f"  peer sgp4 twoline2rv + one propagation per pair: median "
          f"{statistics.median(peer):.2f} s ({', '.join(f'{v:.2f}' for v in peer)}); "
          f"ratio total / peer {total / statistics.median(peer):.1f}")
    print(f"  maneuvers {first['maneuvers']} in {first['maneuvering_objects']} objects, "
          f"outlier flags dropped {first['glitches']}, kinds {first['kinds']}")
    print(f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.groups:
        print("\ngroup       objects  sets    pairs  maneuvers  objects  glitches  time s  kinds")
        for path in sorted(HISTORY.iterdir()):
            r = _run(path)
            print(f"{path.name.split('.')[0]:10s} {r['objects']:7d} {r['element_sets']:6d} "
                  f"{r['pairs']:7d} {r['maneuvers']:9d} {r['maneuvering_objects']:8d} "
                  f"{r['glitches']:8d} {float(r['total_s']):7.2f}  {r['kinds']}")


if __name__ == "__main__":
    main()
