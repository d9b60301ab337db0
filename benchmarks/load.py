"""Bounded load test of the web service on loopback.

Starts ``overflight serve`` (uvicorn, one server process and its computation workers) in a
subprocess on 127.0.0.1 over the
bundled snapshot (or ``--db``, or ``--large``: the shared CelesTrak snapshot and week of history,
about 226,000 element sets, imported into a temporary database), then runs N concurrent clients
for D seconds (at most 100 clients and 120 s; it stops by itself) in these scenarios:

* ``same``: every client asks ``/api/passes`` the same question (one site, the 'resource' group,
  24 hours): answered from the result cache after the first computation;
* ``distinct``: every passes request has its own start minute, so each one is computed;
* ``reads``: every client reads the catalog (one satellite's detail or a page of a group);
* ``mixed``: nine clients in ten ask distinct passes (the computation threads stay busy) while
  the others read the catalog: how quick catalog reads stay under compute load.

Reports requests/s, latency percentiles and errors (any status other than 200, or a transport
error), the processor time per answer of the server (with its worker processes) and of this
load generator, and the machine load (``uptime``) before and after each scenario: the machine
is shared.

    .venv/bin/python benchmarks/load.py [--clients 20] [--duration 30] [--scenario same ...]
        [--large [--db PATH]] [--processes N]
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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LARGE_SOURCES = [
    *sorted((SHARED / "celestrak-2026-05-30").glob("*.tle")),
    *sorted((SHARED / "celestrak-history-2026-05-24-to-30").glob("*.tle")),
    SHARED / "celestrak-history-2026-05-24-to-30" / "starlink.tle.gz",
]
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


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_s(pid: int) -> float:
    """Processor time (user + system) of process ``pid`` and its living descendants (the
    server's computation workers) so far, seconds (Linux; else NaN)."""
    stats = {}
    for d in Path("/proc").iterdir():
        try:
            stats[int(d.name)] = _stat(int(d.name))
        except (OSError, ValueError):  # not a process, or one that just ended
            continue
    if pid not in stats:
        return float("nan")
    family, grew = {pid}, True
    while grew:
        kids = {p for p, f in stats.items() if int(f[1]) in family} - family
        family |= kids
        grew = bool(kids)
    ticks = sum(int(stats[p][11]) + int(stats[p][12]) for p in family)
    return ticks / os.sysconf("SC_CLK_TCK")


Server = tuple[subprocess.Popen[str], str, tempfile.TemporaryDirectory[str]]


def build_large(path: Path) -> None:
    """Import the shared CelesTrak snapshot and the week of history (about 220,000 element
    sets, the Starlink history being 193,263 of them) into a new database at ``path``."""
    from overflight.catalog import Catalog

    missing = [str(p) for p in LARGE_SOURCES if not p.exists()]
    if missing:
        raise SystemExit(f"--large: missing data files: {', '.join(missing)}")
    t0 = time.perf_counter()
    with Catalog.open(path, create=True) as cat:
        result = cat.import_sources([str(p) for p in LARGE_SOURCES])
        n = cat.connection.execute("SELECT count(*) FROM element_sets").fetchone()[0]
    print(f"built {path}: {n:,} element sets ({result.new:,} new) from {len(LARGE_SOURCES)} "
          f"files in {time.perf_counter() - t0:.0f} s")


def start_server(threads: int, db: Path | None = None,
                 processes: int | None = None) -> Server:
    tmp = tempfile.TemporaryDirectory(prefix="overflight-load-")
    env = {**os.environ, "OVERFLIGHT_DB": str(db or Path(tmp.name) / "absent.db")}
    env.pop("OVERFLIGHT_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "overflight", "serve", "--host", "127.0.0.1", "--port", "0",
         "--threads", str(threads), "--log-level", "warning",
         *([] if processes is None else ["--processes", str(processes)])],
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


Request = tuple[str, dict[str, str]]
SCENARIOS = ["same", "distinct", "reads", "mixed"]


def passes_request(scenario: str) -> Callable[[int], Request]:
    return lambda k: ("/api/passes", params(scenario, k))


def read_request(norad_ids: list[int]) -> Callable[[int], Request]:
    """Catalog reads: one satellite's detail, or a page of the 'resource' group, in turn."""

    def make(k: int) -> Request:
        if k % 2:
            return f"/api/catalog/{norad_ids[k % len(norad_ids)]}", {}
        return "/api/catalog", {"group": "resource", "limit": "50", "offset": str(k % 100)}

    return make


async def run(base: str, scenario: str, workers: list[tuple[str, Callable[[int], Request]]],
              duration_s: float) -> list[Result]:
    """``workers``: one client per entry, (label, request maker); one Result per label."""
    results: dict[str, Result] = {}
    for label, _ in workers:
        results.setdefault(label, Result(label, 0)).clients += 1
    counter = 0
    stop_at = time.monotonic() + duration_s
    n = len(workers)
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120.0) as client:

        async def worker(label: str, make: Callable[[int], Request]) -> None:
            nonlocal counter
            result = results[label]
            while time.monotonic() < stop_at:
                counter += 1
                path, query = make(counter)
                t0 = time.perf_counter()
                try:
                    resp = await client.get(path, params=query)
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
        await asyncio.gather(*(worker(label, make) for label, make in workers))
        elapsed = time.perf_counter() - t0
    for r in results.values():
        r.duration_s = elapsed
    return list(results.values())


def scenario_workers(scenario: str, clients: int,
                     norad_ids: list[int]) -> list[tuple[str, Callable[[int], Request]]]:
    if scenario in ("same", "distinct"):
        return [(scenario, passes_request(scenario))] * clients
    if scenario == "reads":
        return [("reads", read_request(norad_ids))] * clients
    # mixed: most clients keep the computation threads busy with distinct passes while one
    # in ten (at least one) reads the catalog, one read after the other
    heavy = clients - max(1, clients // 10)
    return ([("mixed: passes", passes_request("distinct"))] * heavy
            + [("mixed: reads", read_request(norad_ids))] * (clients - heavy))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20, help="concurrent clients (1..100)")
    ap.add_argument("--duration", type=float, default=30.0,
                    help="seconds per scenario (at most 120)")
    ap.add_argument("--scenario", action="append", choices=[*SCENARIOS, "both", "all"],
                    help="repeatable; default: same and distinct ('both'); 'all': every one")
    ap.add_argument("--threads", type=int, default=2, help="server computation threads")
    ap.add_argument("--processes", type=int,
                    help="server computation worker processes (0: threads; default: serve's)")
    ap.add_argument("--db", type=Path, help="serve this catalog database (default: the "
                    "bundled snapshot; with --large, built here if absent and kept)")
    ap.add_argument("--large", action="store_true",
                    help="serve the shared CelesTrak snapshot + history (~220,000 element "
                         "sets), imported into a temporary database (or --db)")
    args = ap.parse_args()
    if not 1 <= args.clients <= 100 or not 0 < args.duration <= 120:
        raise SystemExit("--clients must be within 1..100 and --duration within (0, 120]")
    chosen = args.scenario or ["both"]
    scenarios = [sc for sc in SCENARIOS
                 if sc in chosen or "all" in chosen
                 or ("both" in chosen and sc in ("same", "distinct"))]

    print(f"load before: {uptime()}  (cpus: {os.cpu_count()})")
    keep = tempfile.TemporaryDirectory(prefix="overflight-large-")
    db: Path | None = args.db
    if args.large:
        db = db or Path(keep.name) / "large.db"
        if not db.exists():
            build_large(db)
    elif db is not None and not db.exists():
        raise SystemExit(f"--db {db}: no such file")
    proc, base, tmp = start_server(args.threads, db, args.processes)
    results: list[Result] = []
    try:
        t0 = time.perf_counter()
        first = httpx.get(f"{base}/api/passes", params=params("distinct", 0), timeout=120)
        first.raise_for_status()
        print(f"server {base}; first request (cold) {time.perf_counter() - t0:.2f} s, "
              f"{first.json()['count']} windows, {len(first.content) / 1e3:.0f} kB")
        page = httpx.get(f"{base}/api/catalog", params={"group": "resource", "limit": "500"},
                         timeout=120)
        page.raise_for_status()
        norad_ids = [int(row["norad_id"]) for row in page.json()["items"]]
        for sc in scenarios:
            load_before = uptime()
            server0, client0 = cpu_s(proc.pid), time.process_time()
            done = asyncio.run(run(base, sc, scenario_workers(sc, args.clients, norad_ids),
                                   args.duration))
            results += done
            n = sum(r.ok for r in done)
            print(f"'{sc}': load before {load_before}; after {uptime()}; processor time per "
                  f"answer: server {(cpu_s(proc.pid) - server0) / n * 1e3:.1f} ms, load "
                  f"generator {(time.process_time() - client0) / n * 1e3:.1f} ms")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        tmp.cleanup()
        keep.cleanup()

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
