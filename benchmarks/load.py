"""Bounded load test of the web service on loopback.

Starts ``overflight serve`` (uvicorn, one worker process) in a subprocess over the bundled
snapshot, then runs N concurrent clients for D seconds against ``/api/passes`` for one site and
the 'resource' group (167 satellites, 24 hours), in two scenarios:

* ``same``: every client asks the same question (a popular site): answered from the result
  cache after the first computation;
* ``distinct``: every request has its own start time (minute offsets), so each one is computed.

Reports requests/s, latency percentiles and errors (any status other than 200, or a transport
error), with the machine load (``uptime``) before and after: the machine is shared.

    .venv/bin/python benchmarks/load.py [--clients 20] [--duration 30] [--scenario both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

SITE = "Naval Station Norfolk"
BASE_START = datetime(2026, 5, 31, tzinfo=UTC)  # the bundled snapshot's epochs: 2026-05-29/30


@dataclass
class Result:
    scenario: str
    clients: int
    duration_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    cache_hits: int = 0
    bytes_received: int = 0

    @property
    def ok(self) -> int:
        return len(self.latencies_s)

    def pct(self, q: float) -> float:
        if not self.latencies_s:
            return float("nan")
        xs = sorted(self.latencies_s)
        return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return "uptime unavailable"


Server = tuple[subprocess.Popen[str], str, tempfile.TemporaryDirectory[str]]


def start_server(threads: int) -> Server:
    tmp = tempfile.TemporaryDirectory(prefix="overflight-load-")
    env = {**os.environ, "OVERFLIGHT_DB": str(Path(tmp.name) / "absent.db")}
    env.pop("OVERFLIGHT_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "overflight", "serve", "--host", "127.0.0.1", "--port", "0",
         "--threads", str(threads), "--log-level", "warning"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        found = re.search(r"on (http://127\.0\.0\.1:\d+)/", line)
        if found:
            return proc, found.group(1), tmp
    proc.kill()
    raise SystemExit("the server did not start")


def params(scenario: str, k: int) -> dict[str, str]:
    start = BASE_START if scenario == "same" else BASE_START + timedelta(minutes=k)
    return {"site": SITE, "group": "resource", "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "days": "1"}


async def run(base: str, scenario: str, clients: int, duration_s: float) -> Result:
    result = Result(scenario, clients)
    counter = 0
    stop_at = time.monotonic() + duration_s
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120.0) as client:

        async def worker() -> None:
            nonlocal counter
            while time.monotonic() < stop_at:
                counter += 1
                k = counter
                t0 = time.perf_counter()
                try:
                    resp = await client.get("/api/passes", params=params(scenario, k))
                    body = await resp.aread()
                except httpx.HTTPError as exc:
                    key = exc.__class__.__name__
                    result.errors[key] = result.errors.get(key, 0) + 1
                    continue
                dt = time.perf_counter() - t0
                if resp.status_code != 200:
                    key = str(resp.status_code)
                    result.errors[key] = result.errors.get(key, 0) + 1
                    continue
                result.latencies_s.append(dt)
                result.bytes_received += len(body)
                if resp.headers.get("x-overflight-cache") == "hit":
                    result.cache_hits += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        result.duration_s = time.perf_counter() - t0
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per scenario")
    ap.add_argument("--scenario", choices=["same", "distinct", "both"], default="both")
    ap.add_argument("--threads", type=int, default=2, help="server computation threads")
    args = ap.parse_args()
    scenarios = ["same", "distinct"] if args.scenario == "both" else [args.scenario]

    print(f"load before: {uptime()}  (cpus: {os.cpu_count()})")
    proc, base, tmp = start_server(args.threads)
    try:
        t0 = time.perf_counter()
        first = httpx.get(f"{base}/api/passes", params=params("distinct", 0), timeout=120)
        first.raise_for_status()
        print(f"server {base}; first request (cold) {time.perf_counter() - t0:.2f} s, "
              f"{first.json()['count']} windows, {len(first.content) / 1e3:.0f} kB")
        results = []
        for sc in scenarios:
            r = asyncio.run(run(base, sc, args.clients, args.duration))
            results.append(r)
            print(f"load after '{sc}': {uptime()}")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        tmp.cleanup()

    print()
    print("| scenario | clients | duration s | requests | errors | req/s | p50 ms | p95 ms | "
          "max ms | cache hits |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        errors = sum(r.errors.values())
        detail = f" ({', '.join(f'{k}: {v}' for k, v in r.errors.items())})" if errors else ""
        print(f"| {r.scenario} | {r.clients} | {r.duration_s:.1f} | {r.ok + errors} | "
              f"{errors}{detail} | {r.ok / r.duration_s:.1f} | {r.pct(0.5) * 1e3:.0f} | "
              f"{r.pct(0.95) * 1e3:.0f} | {max(r.latencies_s, default=0) * 1e3:.0f} | "
              f"{r.cache_hits} |")
    if any(r.latencies_s for r in results):
        mean = statistics.fmean(x for r in results for x in r.latencies_s)
        print(f"\nmean latency over all requests: {mean * 1e3:.0f} ms")
    if any(r.errors for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
