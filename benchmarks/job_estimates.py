"""Job estimates against real jobs: each CLI job's estimate (``overflight.workload``, as the
command prints it) beside its measured wall time, for jobs of different kinds and sizes.

Each job runs twice as a subprocess on the shared data (else the bundled snapshot): once with
a cap below any estimate (``OVERFLIGHT_MAX_JOB_S``), which refuses it with the estimate in one
line, and once with ``--no-limit``, timed. Prints a table (job, estimate_s, measured_s, ratio);
the aim is 0.5 ≤ estimate / measured ≤ 2.

    PYTHONPATH=src python benchmarks/job_estimates.py [--only NAME ...] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "celestrak-2026-05-30"
START = "2026-05-31T00:00Z"
_ESTIMATE = re.compile(r": about ([\d.,]+) (s|min|h), above the ")
_UNIT_S = {"s": 1.0, "min": 60.0, "h": 3600.0}


def _tle(group: str) -> list[str]:
    path = SHARED / f"{group}.tle"
    return ["--tle", str(path)] if path.exists() else ["--group", group]


def jobs() -> dict[str, list[str]]:
    """Name → ``overflight`` arguments (output to stdout, discarded)."""
    res, starlink = _tle("resource"), _tle("starlink")
    t = ["--start", START]
    return {
        "passes tiny": ["passes", *res, "--site", "Seoul", *t, "--days", "0.01", "-f", "csv"],
        "passes 22 sites 7 d el30": ["passes", *res, "--all-sites", *t, "--days", "7",
                                     "--min-elevation", "30", "-f", "csv"],
        "passes 22 sites 7 d el0": ["passes", *res, "--all-sites", *t, "--days", "7",
                                    "-f", "ndjson"],
        "passes imaging 22 sites 3 d": ["passes", *res, "--all-sites", *t, "--days", "3",
                                        "--imaging", "-f", "csv"],
        "passes starlink 3 sites 1 d": ["passes", *starlink, "--site", "Seoul", "--site",
                                        "Sohae", "--site", "Vostochny", *t, "--days", "1",
                                        "--min-elevation", "30", "-f", "csv"],
        "watch 7 d": ["watch", "Sohae", *res, *t, "--days", "7", "-f", "csv"],
        "exposure 7 d": ["exposure", "Sohae", *res, *t, "--days", "7", "-f", "json"],
        "exposure 30 d no-imaging": ["exposure", "Sohae", *res, *t, "--days", "30",
                                     "--no-imaging", "--min-elevation", "10", "-f", "json"],
        "passes area Najin all 7 d": ["passes", *res, "--area", "Najin port", "--area-mode",
                                      "all", *t, "--days", "7", "-f", "json"],
        "passes area Yongbyon imaging 7 d": ["passes", *res, "--area", "Yongbyon", "--imaging",
                                             *t, "--days", "7", "-f", "json"],
        "watch area Sohae 3 d": ["watch", "--area", "Sohae", *res, *t, "--days", "3",
                                 "-f", "csv"],
        "exposure area Yongbyon 7 d": ["exposure", "--area", "Yongbyon", *res, *t, "--days",
                                       "7", "-f", "csv"],
        "coverage korea 10 km 1 d": ["coverage", "--region", "korean-peninsula", *res, *t,
                                     "--days", "1", "--grid-km", "10", "-f", "json"],
        "coverage korea 20 km 1 d imaging": ["coverage", "--region", "korean-peninsula", *res,
                                             *t, "--days", "1", "--grid-km", "20", "--imaging",
                                             "-f", "json"],
        "coverage 72 points 7 d": ["coverage", "--region", "0,124,2,126", *res, *t,
                                   "--days", "7", "--grid-km", "25", "-f", "json"],
    }


def _run(args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "overflight", *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=False)
    return proc.returncode, proc.stderr, time.perf_counter() - t0


def estimate_s(args: list[str], env: dict[str, str]) -> float:
    """The command's own estimate, seconds, from its refusal under a tiny cap."""
    code, err, _ = _run(args, {**env, "OVERFLIGHT_MAX_JOB_S": "0.001"})
    m = _ESTIMATE.search(err)
    if code != 2 or m is None:
        raise SystemExit(f"no estimate from overflight {' '.join(args)}: {err.strip()}")
    return float(m.group(1).replace(",", "")) * _UNIT_S[m.group(2)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="job names (substrings)")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per job (median)")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(REPO / "src"),
               "OVERFLIGHT_DB": str(Path(tmp) / "catalog.sqlite")}
        env.pop("OVERFLIGHT_MAX_JOB_S", None)
        _run(["catalog", "list", "--group", "resource", "-f", "csv"], env)  # seed the catalog
        rows = []
        print(f"{'job':36} {'estimate_s':>10} {'measured_s':>10} {'ratio':>6}", flush=True)
        for name, args in jobs().items():
            if opts.only and not any(o in name for o in opts.only):
                continue
            est = estimate_s(args, env)
            times = []
            for _ in range(opts.repeat):
                code, err, wall = _run([*args, "--no-limit"], env)
                if code != 0:
                    raise SystemExit(f"{name}: exit {code}: {err.strip()[-500:]}")
                times.append(wall)
            measured = statistics.median(times)
            rows.append((name, est, measured))
            print(f"{name:36} {est:10.2f} {measured:10.2f} {est / measured:6.2f}", flush=True)
        ratios = [e / m for _, e, m in rows]
        if ratios:
            print(f"ratio range {min(ratios):.2f}–{max(ratios):.2f}; load average "
                  f"{os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
