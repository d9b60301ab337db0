"""Ingest benchmark: import a week of Starlink history (193,263 TLEs, gzip) into an EMPTY catalog.

Usage::

    .venv/bin/python benchmarks/ingest.py [PATH] [--repeat N] [--no-peer]

Reports, as medians over ``--repeat`` runs (each into a fresh empty database):
the user-facing ``Catalog.import_sources`` (read + gunzip + parse + store in one transaction),
its parse-only part (``formats.parse_bytes``), a re-import (all duplicates), a few queries, the
peak resident memory of the process (``ru_maxrss``) and the database size. The peer, for
scale, is Skyfield's TLE loading of the same file (``skyfield.iokit.parse_tle_file``, which
parses and initialises SGP4 for every record but stores nothing).
"""

from __future__ import annotations

import argparse
import gzip
import resource
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "data" / "celestrak-history-2026-05-24-to-30" / "starlink.tle.gz"


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def median_time(fn: object, repeat: int) -> tuple[float, object]:
    times = []
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-peer", action="store_true", help="skip the Skyfield comparison")
    args = ap.parse_args()
    if not args.path.exists():
        print(f"ingest: {args.path}: not found", file=sys.stderr)
        return 2

    from overflight.catalog import Catalog, formats

    rss_start = peak_rss_mb()
    tmp = Path(tempfile.mkdtemp(prefix="overflight-ingest-"))
    print(f"file: {args.path} ({args.path.stat().st_size / 1e6:.1f} MB)")

    # 1. The user-facing import into an empty database, repeated into fresh files.
    runs: list[float] = []
    rss_after_first = 0.0
    result = None
    db = tmp / "x.db"
    for i in range(args.repeat):
        db = tmp / f"run{i}.db"
        t = time.perf_counter()
        with Catalog.open(db, create=True) as cat:
            result = cat.import_sources([args.path])
        runs.append(time.perf_counter() - t)
        if i == 0:
            rss_after_first = peak_rss_mb()
        for extra in tmp.glob(f"run{i}.db*"):
            if i < args.repeat - 1:
                extra.unlink()
    assert result is not None and result.stored
    n = result.new + result.duplicates
    total = statistics.median(runs)
    db_mb = db.stat().st_size / 1e6

    # 2. Parse only (read + gunzip + parse), to split the time.
    data = args.path.read_bytes()
    parse_s, parsed = median_time(lambda: formats.parse_bytes(data, str(args.path)), args.repeat)
    del parsed

    # 3. Re-import of the same file: every record a duplicate, nothing written.
    with Catalog.open(db) as cat:
        t = time.perf_counter()
        again = cat.import_sources([args.path])
        reimport_s = time.perf_counter() - t
        assert again.new == 0

        # 4. Queries other modules use.
        latest_s, latest = median_time(lambda: cat.latest(), 5)
        group_s, _ = median_time(lambda: cat.latest(group="starlink"), 5)
        some = [es.norad_id for es in latest[:100]]  # type: ignore[index]
        hist_s, _ = median_time(lambda: [cat.history(i) for i in some], 5)
        mid = latest[0].epoch - timedelta(days=3)  # type: ignore[index]
        bracket_s, _ = median_time(lambda: [cat.bracket(i, mid) for i in some], 5)
        name = latest[50].name  # type: ignore[index]
        resolve_s, _ = median_time(lambda: cat.resolve(name), 5)
        objects = len(latest)  # type: ignore[arg-type]

    print(f"element sets: {n:,} of {objects:,} objects; rejected {result.rejected}")
    print(
        f"import (read+gunzip+parse+store, 1 transaction): median {total:.2f} s of "
        f"{args.repeat} ({', '.join(f'{r:.2f}' for r in runs)}) = {n / total:,.0f} sets/s"
    )
    print(f"  of which parse: {parse_s:.2f} s; store: {total - parse_s:.2f} s")
    print(f"re-import (all duplicates): {reimport_s:.2f} s")
    print(f"peak RSS: {rss_after_first:.0f} MB after the first import (start {rss_start:.0f} MB)")
    print(f"database size: {db_mb:.1f} MB")
    print(
        f"queries: latest of all {objects:,} objects {latest_s * 1e3:.1f} ms; by group "
        f"{group_s * 1e3:.1f} ms; history of 100 objects {hist_s * 1e3:.1f} ms; "
        f"bracket x100 {bracket_s * 1e3:.1f} ms; resolve by name {resolve_s * 1e3:.2f} ms"
    )

    if not args.no_peer:
        from skyfield.api import load
        from skyfield.iokit import parse_tle_file

        ts = load.timescale(builtin=True)
        lines = gzip.decompress(data).splitlines()

        def skyfield() -> int:
            return sum(1 for _ in parse_tle_file(lines, ts))

        peer_s, peer_n = median_time(skyfield, 1)
        print(
            f"peer: Skyfield parse_tle_file (parse + SGP4 init, no storage) {peer_s:.2f} s for "
            f"{peer_n:,} = {peer_n / peer_s:,.0f} sets/s; overflight import / Skyfield load "
            f"= {total / peer_s:.2f}"  # type: ignore[operator]
        )
    for extra in tmp.iterdir():
        extra.unlink()
    tmp.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
