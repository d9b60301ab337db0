"""What a cache hit of the web service costs, in-process (no sockets, no HTTP client).

Builds the service (``create_app``) over the large catalog of ``benchmarks/load.py --large``
(the shared CelesTrak snapshot and week of history, ~226,000 element sets; ``--db PATH`` keeps
it for the next run) and calls the ASGI application directly, as uvicorn would after parsing
the request, for the cached endpoints: ``GET /api/passes``, ``/api/watch`` and
``/api/exposure`` (Naval Station Norfolk, the 'resource' group, 24 h from 2026-05-31T00:00Z).

For each: one miss (computed), then checks that a hit's body and headers are the miss's (but
``x-overflight-cache``), then the processor time per hit (every thread of this process, so
the thread pools' share counts) over ``--hits`` hits, median of ``--repeat`` blocks. Processor
time is robust to the machine's load; wall time is printed beside it.

``--under-load S``: then S seconds of hits on ``/api/passes``, one after the other, while
``--computers`` clients keep asking distinct passes (the computation threads busy, as in
load.py's 'mixed'): the hits' wall latency (p50/p95/max), i.e. whether a hit waits for the
computations (thread hand-offs, the GIL).

    .venv/bin/python benchmarks/cache_hits.py [--db /tmp/large.db] [--hits 300] [--repeat 5]
        [--under-load 10 [--computers 4]]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import build_large

SITE = "Naval Station Norfolk"
START = datetime(2026, 5, 31, tzinfo=UTC)
Q = {"site": SITE, "group": "resource", "start": "2026-05-31T00:00:00Z", "days": "1"}
ENDPOINTS = {
    "passes": ("/api/passes", Q),
    "watch": ("/api/watch", Q),
    "exposure": ("/api/exposure", Q),
}

Answer = tuple[int, dict[bytes, bytes], bytes]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


async def call(app: Any, path: str, query: dict[str, str] | bytes) -> Answer:
    """One GET through the ASGI application (``query``: parameters, or a query string already
    encoded): (status, headers, body)."""
    qs = query if isinstance(query, bytes) else urlencode(query).encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": qs,
             "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80)}
    status = 0
    headers: dict[bytes, bytes] = {}
    parts: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.update(message["headers"])
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, headers, b"".join(parts)


async def per_hit(app: Any, path: str, query: dict[str, str], hits: int,
                  repeat: int) -> tuple[float, float]:
    """(processor s, wall s) per hit, medians of ``repeat`` blocks of ``hits``."""
    cpu, wall = [], []
    qs = urlencode(query).encode()  # once: the client's work is not the server's
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(hits):
            await call(app, path, qs)
        cpu.append((time.process_time() - c0) / hits)
        wall.append((time.perf_counter() - w0) / hits)
    return statistics.median(cpu), statistics.median(wall)


async def under_load(app: Any, seconds: float, computers: int) -> None:
    path, query = ENDPOINTS["passes"]
    await call(app, path, query)  # computed unless cached already
    stop_at = time.monotonic() + seconds
    computed = 0
    minute = 1000

    async def computer() -> None:
        nonlocal computed, minute
        while time.monotonic() < stop_at:
            minute += 1
            start = (START + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")
            status, _, _ = await call(app, path, {**query, "start": start})
            computed += status == 200

    async def hitter() -> list[float]:
        out = []
        await asyncio.sleep(0.5)  # the computations started
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            status, headers, _ = await call(app, path, query)
            assert status == 200 and headers[b"x-overflight-cache"] == b"hit"
            out.append(time.perf_counter() - t0)
            await asyncio.sleep(0.005)  # as a client would, between requests
        return out

    load0 = uptime()
    *_, lat = await asyncio.gather(*(computer() for _ in range(computers)), hitter())
    lat.sort()
    q = lambda f: lat[min(len(lat) - 1, round(f * (len(lat) - 1)))] * 1e3  # noqa: E731
    print(f"under load ({computers} clients computing, {computed} answers in {seconds:g} s): "
          f"{len(lat)} hits, wall p50 {q(0.5):.2f} ms, p95 {q(0.95):.2f} ms, "
          f"max {lat[-1] * 1e3:.1f} ms; load before {load0}; after {uptime()}")


async def main_async(args: argparse.Namespace, db: Path) -> None:
    from overflight.server import create_app

    app = create_app(db)
    async with app.router.lifespan_context(app):
        for name in args.endpoint or list(ENDPOINTS):
            path, query = ENDPOINTS[name]
            t0 = time.perf_counter()
            s0, h0, b0 = await call(app, path, query)
            miss_s = time.perf_counter() - t0
            assert s0 == 200, b0[:300]
            s1, h1, b1 = await call(app, path, query)
            same = (s1 == s0 and b1 == b0 and h0.pop(b"x-overflight-cache") == b"miss"
                    and h1.pop(b"x-overflight-cache") == b"hit" and h1 == h0)
            if not same:
                raise SystemExit(f"{name}: the hit differs from the miss")
            cpu, wall = await per_hit(app, path, query, args.hits, args.repeat)
            print(f"{name}: miss {miss_s * 1e3:.0f} ms; hit identical ({len(b0):,} bytes); "
                  f"per hit: processor {cpu * 1e3:.3f} ms, wall {wall * 1e3:.3f} ms")
            if args.profile:
                prof = cProfile.Profile()
                prof.enable()
                for _ in range(args.hits):
                    await call(app, path, query)
                prof.disable()
                pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
        if args.under_load:
            await under_load(app, args.under_load, args.computers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="the large catalog (built here if absent, kept)")
    ap.add_argument("--hits", type=int, default=300, help="hits per block")
    ap.add_argument("--repeat", type=int, default=5, help="blocks (the median is shown)")
    ap.add_argument("--endpoint", action="append", choices=list(ENDPOINTS),
                    help="repeatable; default: all")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="also print cProfile's N top functions of the hits (this thread only)")
    ap.add_argument("--under-load", type=float, default=0.0, metavar="S",
                    help="seconds of hits while computations run (0: none)")
    ap.add_argument("--computers", type=int, default=4,
                    help="clients computing distinct passes during --under-load")
    args = ap.parse_args()
    os.environ.pop("OVERFLIGHT_TOKEN", None)
    print(f"load before: {uptime()}")
    with tempfile.TemporaryDirectory(prefix="overflight-hits-") as tmp:
        db = args.db or Path(tmp) / "large.db"
        if not db.exists():
            build_large(db)
        asyncio.run(main_async(args, db))
    print(f"load after: {uptime()}")


if __name__ == "__main__":
    main()
