"""Small helpers shared by several test modules (not tests themselves)."""

from __future__ import annotations

import os
import random
from pathlib import Path

from overflight.access import Constraints


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux ``/proc``)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def descendants(pid: int) -> set[int]:
    """Every descendant process of ``pid`` (Linux ``/proc``, so psutil is not needed)."""
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            kids.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.add(k)
            todo.append(k)
    return out


def random_constraints(rng: random.Random, kind: int, *,
                       with_off_nadir_min_el_deg: tuple[float, float] = (5.0, 20.0)
                       ) -> Constraints:
    """One of eight kinds of constraint set (``kind`` modulo 8), its limits drawn from ``rng``:
    off-nadir, elevation, both (elevation from ``with_off_nadir_min_el_deg``), range, Sun
    above/below, sunlit/shadow, minimum duration."""
    lo, hi = with_off_nadir_min_el_deg
    kinds = [
        Constraints(max_off_nadir_deg=rng.uniform(15.0, 45.0)),
        Constraints(min_elevation_deg=rng.uniform(0.0, 40.0)),
        Constraints(min_elevation_deg=rng.uniform(lo, hi), max_off_nadir_deg=50.0),
        Constraints(min_elevation_deg=5.0, max_range_km=rng.uniform(900.0, 1800.0)),
        Constraints(max_off_nadir_deg=35.0, sun_min_deg=rng.choice([-6.0, 0.0, 10.0])),
        Constraints(min_elevation_deg=10.0, sun_max_deg=rng.choice([-6.0, 0.0, 20.0])),
        Constraints(min_elevation_deg=rng.uniform(0.0, 15.0), sunlit=rng.choice([True, False])),
        Constraints(max_off_nadir_deg=30.0, min_duration_s=rng.uniform(10.0, 60.0)),
    ]
    return kinds[kind % len(kinds)]
