"""Coverage benchmark: all resource-group satellites over the Korean peninsula, one process vs a
local Dask cluster, and how the time grows with grid points, satellites and days.

Run: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/coverage.py``
(``--help`` for options). Constraints: off-nadir ≤ 30° (above the horizon), no lighting limit,
all windows count (no GSD limit). Element sets: the 2026-05-30 CelesTrak snapshot of the
resource group (167 satellites; the bundled snapshot if the shared data folder is absent);
interval from 2026-05-31T00:00Z.

Runs:
* full job (default 7 days, 10 km grid) in this process with its CPU affinity pinned to one core
  (so the window engine cannot fork SGP4 onto the other), then on a 2-worker ``LocalCluster``
  (one thread each; cluster start-up timed separately); the two results must be ``==``;
* scaling, 1 day, pinned to one core: grid spacing 20/14/10 km at all satellites, then
  42/84/167 satellites at 10 km;
* peer: brute-force sampling every 10 s with Skyfield positions and numpy geometry for a few
  satellites over all grid points (what a simple script would do; it is not exact: edges ±5 s
  and windows under 10 s may be missed), per satellite-point-day, against ours.

``--grid-aware`` runs instead the grid-aware (field) method's figures (docs/benchmarks.md,
"Grid-aware coverage"): the 2-km grid × all satellites × 1 day (median of 3, pinned to one
core) against the peer timed on a subset of the same grid in the same run; the field method
against the per-point engine at 10 km (counts and edges); scaling in points, satellites and
days; the 1-km grid × 1 day on a 2-worker local cluster (one run). With ``--skip-scaling``
only the 2-km target, the peer and the 1-km run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "celestrak-2026-05-30" / "resource.tle"
T0 = datetime(2026, 5, 31, tzinfo=UTC)
OFF_NADIR_DEG = 30.0


def _load(path: Path | None) -> tuple[list[Any], str]:
    from overflight.catalog.formats import read_path

    if path is None and SHARED.exists():
        path = SHARED
    if path is not None:
        return list(read_path(path).records), str(path)
    from overflight.catalog import Catalog

    with Catalog.bundled() as cat:
        return cat.latest(group="resource"), "bundled snapshot, group resource"


def _pin_one_cpu() -> set[int]:
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    return before


def _timed(fn: Any, repeat: int) -> tuple[float, list[float], Any]:
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def _cpu_s() -> float:
    """CPU seconds used by this process and its children so far."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _worker_cpu_s(client: Any) -> float:
    """CPU seconds used so far by the Dask workers of ``client`` (each process's own)."""
    def own() -> float:
        import resource as r

        u = r.getrusage(r.RUSAGE_SELF)
        return u.ru_utime + u.ru_stime

    return float(sum(client.run(own).values()))


def _load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _peer(elsets: list[Any], points: list[Any], n_sats: int) -> float:
    """Seconds per satellite-point-day of 10 s brute-force sampling (Skyfield + numpy)."""
    import numpy as np
    from skyfield.api import EarthSatellite, wgs84
    from skyfield.framelib import itrs

    from overflight.catalog.formats import format_tle
    from overflight.times import timescale

    ts = timescale()
    secs = np.arange(0.0, 86400.0 + 1.0, 10.0)
    t = ts.utc(2026, 5, 31, 0, 0, secs)
    lat = np.radians([p.lat_deg for p in points])
    lon = np.radians([p.lon_deg for p in points])
    up = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)
    site = np.array([wgs84.latlon(p.lat_deg, p.lon_deg).itrs_xyz.km for p in points])
    t.M  # noqa: B018 - precession-nutation once, outside the timing (shared by every satellite)
    start = time.perf_counter()
    windows = 0
    for es in elsets[:n_sats]:
        lines = format_tle(es).splitlines()[-2:]
        geo = EarthSatellite(lines[0], lines[1], ts=ts).at(t)
        pos = geo.frame_xyz(itrs).km.T  # (T, 3)
        sub = wgs84.subpoint_of(geo)
        la, lo = sub.latitude.radians, sub.longitude.radians
        nadir = -np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)
        for chunk in range(0, len(points), 256):
            los = site[None, chunk:chunk + 256, :] - pos[:, None, :]  # (T, M, 3) sat → site
            rng = np.linalg.norm(los, axis=-1)
            el_up = -np.einsum("tmk,mk->tm", los, up[chunk:chunk + 256]) / rng
            cos_on = np.einsum("tmk,tk->tm", los, nadir) / rng
            ok = (el_up >= 0.0) & (cos_on >= np.cos(np.radians(OFF_NADIR_DEG)))
            windows += int((np.diff(ok.astype(np.int8), axis=0) == 1).sum())
    elapsed = time.perf_counter() - start
    return elapsed / (n_sats * len(points) * 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tle", type=Path, default=None, help="element sets (default: shared)")
    parser.add_argument("--days", type=float, default=7.0, help="full job length")
    parser.add_argument("--grid-km", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the full job")
    parser.add_argument("--scaling-repeat", type=int, default=3)
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--peer-sats", type=int, default=6)
    parser.add_argument("--grid-aware", action="store_true",
                        help="the field method's figures instead (see the module doc)")
    parser.add_argument("--skip-1km", action="store_true")
    args = parser.parse_args()
    if args.grid_aware:
        _grid_aware(args)
        return

    from overflight.access import Constraints
    from overflight.coverage import compare_coverage, coverage, dask_client, job_size
    from overflight.regions import grid, resolve_region

    elsets, source = _load(args.tle)
    region = resolve_region("korean-peninsula")
    c = Constraints(max_off_nadir_deg=OFF_NADIR_DEG)
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}",
        "elements": source,
        "satellites": len(elsets),
        "constraints": f"off-nadir <= {OFF_NADIR_DEG:g} deg",
    }
    print(json.dumps(report))
    cpus = _pin_one_cpu()

    g = grid(region, args.grid_km)
    pts = g.sites()
    if not args.skip_full:
        end = T0 + timedelta(days=args.days)
        size = job_size(len(elsets), len(pts), T0, end)
        # One window computation, figures for the low-orbit fleet and for all (GAOFEN-4 stares
        # from GEO and sees the whole region all the time).
        leo = [e for e in elsets if e.apogee_alt_km < 2000.0]
        high = [e for e in elsets if e.apogee_alt_km >= 2000.0]

        def job(client: Any = None) -> Any:
            if not high:
                return coverage(elsets, pts, T0, end, c, client=client)
            return compare_coverage(leo, high, pts, T0, end, c, client=client)

        load0 = _load_avg()
        cpu0 = _cpu_s()
        med, runs, single = _timed(job, args.repeat)
        cpu_single = (_cpu_s() - cpu0) / args.repeat
        single_all = single.combined if high else single
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        full = {"what": "full job, one process pinned to 1 CPU", "points": len(pts),
                "satellites": len(elsets), "days": args.days, "unit_count": size,
                "seconds": med, "runs": runs, "cpu_s": cpu_single,
                "us_per_unit": med / size * 1e6,
                "windows": int(single_all.windows.sum()), "peak_rss_mb": rss_mb,
                "load_before": load0, "load_after": _load_avg()}
        print(json.dumps(full))
        os.sched_setaffinity(0, cpus)  # the cluster's workers inherit the affinity
        t = time.perf_counter()
        with dask_client(workers=args.workers) as client:
            startup = time.perf_counter() - t
            load1 = _load_avg()
            w0 = client.run(_cpu_s)
            med_d, runs_d, dist = _timed(lambda: job(client), args.repeat)
            w1 = client.run(_cpu_s)
            cpu_workers = sum(w1[k] - w0[k] for k in w0) / args.repeat
        same = dist == single
        print(json.dumps({"what": f"full job, LocalCluster {args.workers} workers",
                          "seconds": med_d, "runs": runs_d, "cpu_s_workers": cpu_workers,
                          "cluster_start_s": startup,
                          "identical_to_single_process": same,
                          "speedup": med / med_d, "load_before": load1,
                          "load_after": _load_avg()}))
        if not same:
            raise SystemExit("Dask result differs from the single-process result")
        parts = [("all", single_all)] + ([(f"low orbits only ({len(leo)})", single.baseline)]
                                         if high else [])
        for label, res in parts:
            s = res.summary()
            print(json.dumps({"what": f"coverage figures (full job), {label}",
                              "max_gap_h": s["max_gap_h"], "revisit_mean_h": s["revisit_mean_h"],
                              "revisit_max_h": s["revisit_max_h"],
                              "first_access_h": s["first_access_h"],
                              "accesses_per_day_mean": s["accesses_per_day_mean"],
                              "coverage_fraction_mean": s["coverage_fraction_mean"]}))
        os.sched_setaffinity(0, {min(cpus)})

    if not args.skip_scaling:
        end = T0 + timedelta(days=1)
        rows = []
        for km in (20.0, 14.0, 10.0):
            p = grid(region, km).sites()
            med, runs, r = _timed(lambda p=p: coverage(elsets, p, T0, end, c),
                                  args.scaling_repeat)
            rows.append({"vary": "points", "grid_km": km, "points": len(p),
                         "satellites": len(elsets), "seconds": med, "runs": runs,
                         "us_per_unit": med / job_size(len(elsets), len(p), T0, end) * 1e6,
                         "windows": int(r.windows.sum()), "load": _load_avg()})
            print(json.dumps(rows[-1]))
        for n in (len(elsets) // 4, len(elsets) // 2, len(elsets)):
            sub = elsets[:n]
            med, runs, r = _timed(lambda sub=sub: coverage(sub, pts, T0, end, c),
                                  args.scaling_repeat)
            rows.append({"vary": "satellites", "grid_km": args.grid_km, "points": len(pts),
                         "satellites": n, "seconds": med, "runs": runs,
                         "us_per_unit": med / job_size(n, len(pts), T0, end) * 1e6,
                         "windows": int(r.windows.sum()), "load": _load_avg()})
            print(json.dumps(rows[-1]))
        peer = _peer(elsets, pts, args.peer_sats)
        ours = rows[-1]["us_per_unit"] / 1e6
        print(json.dumps({"what": f"peer: 10 s sampling, Skyfield + numpy, {args.peer_sats} "
                          "satellites x all points x 1 day (1 CPU)",
                          "us_per_unit": peer * 1e6, "ours_us_per_unit": ours * 1e6,
                          "ratio_peer_over_ours": peer / ours, "load": _load_avg()}))


def _grid_aware(args: Any) -> None:
    """Figures of the grid-aware (field) method; see the module doc."""
    import numpy as np

    from overflight.access import Constraints
    from overflight.coverage import coverage, job_size
    from overflight.regions import grid, resolve_region

    elsets, source = _load(args.tle)
    region = resolve_region("korean-peninsula")
    c = Constraints(max_off_nadir_deg=OFF_NADIR_DEG)
    print(json.dumps({
        "what": "grid-aware coverage",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}",
        "elements": source, "satellites": len(elsets),
        "constraints": f"off-nadir <= {OFF_NADIR_DEG:g} deg", "load": _load_avg()}))
    cpus = _pin_one_cpu()
    day = T0 + timedelta(days=1)

    def run(pts: list[Any], sats: list[Any], end: datetime, repeat: int,
            method: str = "field") -> dict[str, Any]:
        load0 = _load_avg()
        cpu0 = _cpu_s()
        med, runs, r = _timed(lambda: coverage(sats, pts, T0, end, c, method=method), repeat)
        cpu = (_cpu_s() - cpu0) / repeat
        size = job_size(len(sats), len(pts), T0, end)
        return {"points": len(pts), "satellites": len(sats),
                "days": (end - T0).total_seconds() / 86400.0, "method": method,
                "seconds": med, "runs": runs, "us_per_unit": med / size * 1e6,
                "cpu_s_per_run": cpu, "cpu_us_per_unit": cpu / size * 1e6,
                "windows": int(r.windows.sum()), "load_before": load0,
                "load_after": _load_avg(), "result": r}

    def show(row: dict[str, Any], **extra: Any) -> None:
        print(json.dumps({**{k: v for k, v in row.items() if k != "result"}, **extra}))

    # 1. The per-point engine against the field method at 10 km: the same windows and accesses
    # (low orbits only: GAOFEN-4 in GEO makes every point's access the whole day).
    p10 = grid(region, 10.0).sites()
    leo = [e for e in elsets if e.apogee_alt_km < 2000.0]
    if args.skip_scaling:
        _grid_aware_targets(args, run, show, elsets, region, day, cpus)
        return
    ref = run(p10, leo, day, 1, "points")
    fld = run(p10, leo, day, 1, "field")
    a, b = fld["result"], ref["result"]
    same_counts = bool((a.windows == b.windows).all() and (a.accesses == b.accesses).all())
    diff = (max(float(np.abs((a.interval_start - b.interval_start) / np.timedelta64(1, "ms"))
                      .max(initial=0.0)),
                float(np.abs((a.interval_end - b.interval_end) / np.timedelta64(1, "ms"))
                      .max(initial=0.0))) if same_counts else None)
    show(ref, what="10 km, low orbits, per-point engine")
    show(fld, what="10 km, low orbits, field", identical_counts=same_counts, max_edge_diff_ms=diff,
         speedup=ref["seconds"] / fld["seconds"])
    _grid_aware_targets(args, run, show, elsets, region, day, cpus, scaling=True)


def _grid_aware_targets(args: Any, run: Any, show: Any, elsets: list[Any], region: Any,
                        day: datetime, cpus: set[int], *, scaling: bool = False) -> None:
    """The 2-km target against the peer, scaling (if asked) and the 1-km run."""
    from overflight.access import Constraints
    from overflight.coverage import coverage, dask_client, job_size
    from overflight.regions import grid

    c = Constraints(max_off_nadir_deg=OFF_NADIR_DEG)
    # 2. The target: 2 km × all satellites × 1 day, median of 3, against the peer.
    p2 = grid(region, 2.0).sites()
    big = run(p2, elsets, day, args.scaling_repeat)
    show(big, what="2 km target, field, 1 CPU")
    subset = p2[:: max(1, len(p2) // 2000)]
    peer = _peer(elsets, subset, args.peer_sats)
    print(json.dumps({"what": f"peer: 10 s sampling, Skyfield + numpy, {args.peer_sats} "
                      f"satellites x {len(subset)} points of the 2 km grid x 1 day (1 CPU)",
                      "us_per_unit": peer * 1e6, "ours_us_per_unit": big["us_per_unit"],
                      "ratio_peer_over_ours": peer / (big["us_per_unit"] / 1e6),
                      "load": _load_avg()}))
    # 3. Scaling.
    for km in (8.0, 4.0) if scaling else ():
        show(run(grid(region, km).sites(), elsets, day, args.scaling_repeat),
             what="scaling: points", grid_km=km)
    p4 = grid(region, 4.0).sites()
    for n in (len(elsets) // 4, len(elsets) // 2) if scaling else ():
        show(run(p4, elsets[:n], day, args.scaling_repeat), what="scaling: satellites",
             grid_km=4.0)
    p8 = grid(region, 8.0).sites()
    for days in (2.0, 4.0) if scaling else ():
        show(run(p8, elsets, T0 + timedelta(days=days), args.scaling_repeat),
             what="scaling: days", grid_km=8.0)
    # 4. 1 km × 1 day on both cores.
    if not args.skip_1km:
        os.sched_setaffinity(0, cpus)
        p1 = grid(region, 1.0).sites()
        t = time.perf_counter()
        with dask_client(workers=args.workers) as client:
            startup = time.perf_counter() - t
            load0 = _load_avg()
            cpu0 = _cpu_s() + _worker_cpu_s(client)
            t = time.perf_counter()
            r = coverage(elsets, p1, T0, day, c, client=client, method="field")
            wall = time.perf_counter() - t
            cpu = _cpu_s() + _worker_cpu_s(client) - cpu0
        size = job_size(len(elsets), len(p1), T0, day)
        print(json.dumps({"what": f"1 km x 1 day, field, LocalCluster {args.workers} workers",
                          "points": len(p1), "satellites": len(elsets), "seconds": wall,
                          "cluster_start_s": startup, "cpu_s": cpu,
                          "cpu_us_per_unit": cpu / size * 1e6,
                          "one_core_estimate_s": cpu,
                          "us_per_unit": wall / size * 1e6,
                          "windows": int(r.windows.sum()), "load_before": load0,
                          "load_after": _load_avg()}))


if __name__ == "__main__":
    main()
