"""Exposure benchmark: ``ovf.exposure`` against the ``passes`` computation on the same work.

    PYTHONPATH=src .venv/bin/python benchmarks/exposure.py [--repeat 3] [--days 30]

Rajin port × the bundled snapshot's 'resource' group × ``--days`` (30) from 2026-05-31 with
imaging rules (each satellite's own sensor rule), one process, ``workers=1``:

* passes: :func:`overflight.passes.plan_elements` + ``PassPlan.table()`` (the window search,
  the same plan as ``overflight passes --imaging``);
* exposure: the same plan's ``table()`` then :func:`overflight.exposure.exposure_of_plan`
  (union, complement, the records) and its ``summary()`` and per-country/kind breakdowns;
* exposure step alone: ``exposure_of_plan`` on the already computed table.

Medians of ``--repeat`` runs; the load average is printed (the 2-core machine is shared).
Windows whose peak is more than 14 days from the element set's epoch are refused as in the
CLI (the search itself still covers the whole span).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import median_time

from overflight.access import Constraints
from overflight.catalog import Catalog
from overflight.exposure import exposure_of_plan
from overflight.passes import plan_elements
from overflight.sites import resolve_site

T0 = datetime(2026, 5, 31, tzinfo=UTC)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--days", type=float, default=30.0)
    args = ap.parse_args()
    with Catalog.bundled() as cat:
        sats = cat.select(group="resource")
    site = resolve_site("Rajin port")
    t1 = T0 + timedelta(days=args.days)

    p = plan_elements(sats, [site], T0, t1, Constraints(), imaging=True)
    table = p.table()
    result = exposure_of_plan(p, table=table)
    s = result.summary()
    print(f"{len(sats)} satellites in the group, {len(p.elsets)} imagers computed, "
          f"{len(table)} windows, {len(result)} exposure intervals, exposed "
          f"{100 * s['exposed_fraction']:.2f}%, longest unobserved "
          f"{s['longest_unobserved_s'] / 3600:.2f} h")

    def passes() -> None:
        plan_elements(sats, [site], T0, t1, Constraints(), imaging=True).table()

    def exposure() -> None:
        pl = plan_elements(sats, [site], T0, t1, Constraints(), imaging=True)
        r = exposure_of_plan(pl, table=pl.table())
        r.summary()
        r.breakdown("country")
        r.breakdown("kind")
        r.unobserved("country_kind")

    def step() -> None:
        r = exposure_of_plan(p, table=table)
        r.summary()
        r.breakdown("country")
        r.breakdown("kind")
        r.unobserved("country_kind")

    one, five, _ = os.getloadavg()
    # Interleaved, wall and CPU time: the shared machine's load moves between runs.
    runs: dict[str, list[tuple[float, float]]] = {"passes": [], "exposure": []}
    for _ in range(args.repeat):
        for name, fn in (("passes", passes), ("exposure", exposure)):
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            runs[name].append((time.perf_counter() - w0, time.process_time() - c0))
    wall = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r[1] for r in v) for k, v in runs.items()}
    t_step = median_time(step, max(args.repeat, 5))
    print(f"passes (plan + window search): wall {wall['passes']:.2f} s, CPU "
          f"{cpu['passes']:.2f} s")
    print(f"exposure (plan + search + union/complement/breakdowns): wall "
          f"{wall['exposure']:.2f} s ({100 * (wall['exposure'] / wall['passes'] - 1):+.1f}%), "
          f"CPU {cpu['exposure']:.2f} s ({100 * (cpu['exposure'] / cpu['passes'] - 1):+.1f}%)")
    print(f"exposure step alone on the computed windows: {1000 * t_step:.1f} ms "
          f"({100 * t_step / wall['passes']:.2f}% of passes)")
    print(f"load {one:.1f}/{five:.1f}")


if __name__ == "__main__":
    main()
