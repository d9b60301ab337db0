"""Ctrl-C stress: SIGINT at random moments to random small CLI jobs, and what they leave.

Each trial starts a real ``overflight`` job (passes, watch, exposure, coverage; in-process,
forked workers or a local Dask cluster) in its own session, waits a random delay, sends SIGINT
to its process group (as a terminal does) and reports:

* hangs: the job still running ``--timeout`` seconds after the signal (then killed);
* tracebacks: ``Traceback`` or ``Exception ignored`` on stderr;
* leaks: a ``leaked semaphore`` (or other resource_tracker) warning on stderr;
* children: processes of the job still alive 3 s after it exited;
* unmarked: an interrupted CSV/NDJSON output (exit 130) without the incomplete marker;
* bad exit: an exit status other than 0 (the job was done first) or 130 (or death by the
  signal itself, which shells also report as 130).

Usage: ``python benchmarks/interrupt_stress.py [-n 30] [--seed 1] [--src SRC] [--signal INT]``
(``--src``: the ``src`` directory to run, default this checkout's). Data: the shared
CelesTrak snapshot (``../shared/data`` or ``$OVERFLIGHT_SHARED_DATA``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START = "2026-05-31T00:00Z"


def _data() -> Path:
    for cand in (os.environ.get("OVERFLIGHT_SHARED_DATA"), REPO.parent / "shared" / "data",
                 Path("/work/shared/data")):
        if cand and (Path(cand) / "celestrak-2026-05-30").is_dir():
            return Path(cand)
    sys.exit("interrupt_stress: no shared data (set OVERFLIGHT_SHARED_DATA)")


def jobs(data: Path) -> list[tuple[str, list[str], str | None]]:
    """(label, arguments, streamed format or None): small jobs of 2 to 10 s on 2 cores."""
    res = str(data / "celestrak-2026-05-30" / "resource.tle")
    p = ["passes", "--tle", res, "--all-sites", "--start", START, "--days", "4"]
    w = ["watch", "Sohae", "--tle", res, "--start", START, "--days", "7"]
    cov = ["coverage", "--region", "korean-peninsula", "--tle", res, "--start", START,
           "--days", "2", "--grid-km", "10", "--max-altitude", "2000"]
    return [
        ("passes ndjson", [*p, "-f", "ndjson"], "ndjson"),
        ("passes csv", [*p, "-f", "csv"], "csv"),
        ("passes json", [*p, "-f", "json"], None),
        ("passes table", [*p, "--days", "2"], None),
        ("passes local cluster", [*p, "-f", "ndjson", "--scheduler", "local"], "ndjson"),
        ("watch ndjson", [*w, "-f", "ndjson"], "ndjson"),
        ("exposure", ["exposure", "Sohae", "--tle", res, "--start", START, "--days", "7"], None),
        ("coverage csv", [*cov, "-f", "csv"], "csv"),
        ("coverage ndjson 2 workers", [*cov, "-f", "ndjson", "--workers", "2"], "ndjson"),
        ("coverage table", [*cov], None),
    ]


def _children(pid: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            kids.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _session(sid: int) -> list[int]:
    """Live processes of session ``sid`` (a job's own session: its workers, Dask's too)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[4]) == sid and fields[0] != "Z":
                out.append(int(entry))
    return out


def _marked(out: bytes, fmt: str) -> bool:
    last = out.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    if fmt == "csv":
        last = last.removeprefix(b"# ")
    try:
        return json.loads(last).get("incomplete") is True
    except (ValueError, AttributeError):
        return False


def trial(args: list[str], fmt: str | None, delay_s: float, src: Path, sig: int,
          timeout_s: float) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(src), "OVERFLIGHT_MAX_JOB_S": "0",
           "PYTHONWARNINGS": "default"}
    proc = subprocess.Popen([sys.executable, "-m", "overflight", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True, cwd="/tmp")
    time.sleep(delay_s)
    seen = set(_children(proc.pid))
    sent = proc.poll() is None
    if sent:
        os.killpg(proc.pid, sig)
    hang = False
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        hang = True
        seen.update(_children(proc.pid))
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    deadline = time.monotonic() + 3
    left: list[int] = []
    while time.monotonic() < deadline:
        left = sorted({p for p in seen if _alive(p)} | set(_session(proc.pid)))
        if not left:
            break
        time.sleep(0.1)
    for p in left:  # do not let one trial's leftovers spoil the next
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    text = err.decode(errors="replace")
    rc = proc.returncode
    return {
        "sent": sent, "rc": rc, "hang": hang,
        "traceback": "Traceback" in text or "Exception ignored" in text,
        "leak": "leaked" in text,
        "children": len(left),
        # (A job stopped before its first row has nothing to mark.)
        "unmarked": bool(fmt and rc == 130 and out.strip() and not _marked(out, fmt)),
        # (-sig: Python re-raised the signal at exit, which a shell also shows as 128 + sig:
        # CPython does so when a KeyboardInterrupt ran out of code it ran as a string during
        # an import, even though the CLI caught it afterwards.)
        "bad_exit": not hang and rc not in (0, 128 + sig, -sig),
        "lines": len(text.strip().splitlines()),
        "tail": text.strip().splitlines()[-1] if text.strip() else "",
        "stderr": text,
        "stdout_tail": out[-300:].decode(errors="replace"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=30, help="trials")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--src", type=Path, default=REPO / "src")
    ap.add_argument("--signal", default="INT", choices=["INT", "TERM"])
    ap.add_argument("--max-delay", type=float, default=6.0, help="latest signal, s")
    ap.add_argument("--timeout", type=float, default=30.0, help="a hang after this, s")
    ap.add_argument("--verbose", action="store_true", help="print each bad trial's stderr")
    a = ap.parse_args()
    # Started in the background by a shell, this script ignores SIGINT, and so would its
    # jobs (an ignored signal is inherited): give them the default handling back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    rng = random.Random(a.seed)
    sig = getattr(signal, "SIG" + a.signal)
    pool = jobs(_data())
    totals = {k: 0 for k in ("sent", "hang", "traceback", "leak", "children", "unmarked",
                             "bad_exit")}
    t_all = time.monotonic()
    for i in range(a.n):
        label, args, fmt = rng.choice(pool)
        delay = rng.uniform(0.3, a.max_delay)
        r = trial(args, fmt, delay, a.src, sig, a.timeout)
        bad = [k for k in totals if k != "sent" and r[k]]
        for k in totals:
            totals[k] += int(bool(r[k]))
        print(f"{i + 1:3d} {label:28s} SIG{a.signal} at {delay:4.1f} s: rc={r['rc']} "
              f"{'BAD ' + ','.join(bad) if bad else 'ok'}  | {r['tail'][:90]}", flush=True)
        if bad and a.verbose:
            print("    " + str(r["stderr"]).replace("\n", "\n    "))
            print("    stdout ends: " + repr(r["stdout_tail"]))
    print(f"{a.n} trials in {time.monotonic() - t_all:.0f} s; signal sent to {totals['sent']} "
          f"running jobs: hangs {totals['hang']}, tracebacks {totals['traceback']}, leaked "
          f"semaphores {totals['leak']}, leftover children {totals['children']}, unmarked "
          f"partial outputs {totals['unmarked']}, other exit statuses {totals['bad_exit']}")


if __name__ == "__main__":
    main()
