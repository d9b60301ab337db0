"""How long a job will take, before it starts: satellites × sites (or grid points) × days, the
windows that makes, and seconds from rates measured by the benchmarks (``docs/benchmarks.md``).

The window engine's cost follows the number of windows it finds (about 20 µs each, found and
measured), and that number follows the size of the visibility cone: windows per satellite-site
-day ≈ :data:`WINDOWS_PER_CONE_DEG` × the cone's ground radius in degrees of arc
(:func:`cone_deg`; at 550 km: 23° above the horizon, 7.1° above 30° elevation, 2.6° above 60°).
Measured on the resource group × the 22 named sites: 5.44, 1.74 and 0.63 windows per
satellite-site-day at 0°, 30° and 60° elevation (0.236–0.244 a degree), 0.74 and 1.30 at 30°
and 45° off-nadir (0.70 and 1.25 predicted); Starlink × 100 land sites at 30°: 1.60 (1.72).

With imaging rules each satellite's own reach counts (its rule's cone, averaged over the
fleet: ``per_unit`` of :func:`windows_workload`), not one cone for all; a radar's near-range
limit and look side are applied to the windows the engine found, so they do not cut its cost.
Each job kind adds a fixed start-up (interpreter, imports, catalog, ephemeris, sensor tables:
:data:`WINDOWS_STARTUP_S`, :data:`EXPOSURE_STARTUP_S`, :data:`COVERAGE_STARTUP_S`, measured on
small jobs), and a local Dask cluster its own :data:`LOCAL_CLUSTER_START_S`; a local cluster is
started only when it saves at least twice that (:func:`local_cluster_pays`).
``benchmarks/job_estimates.py`` compares the estimates with real jobs (``docs/benchmarks.md``,
job estimates).

Frontends use :func:`check_workload` to refuse jobs above a cap (``OVERFLIGHT_MAX_JOB_S``,
default :data:`DEFAULT_MAX_JOB_S`) unless the caller lifts it, and
:attr:`Workload.estimate_s` to decide whether to show progress. Estimates are for a quiet
machine; other jobs on the same cores make them longer.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from overflight.constants import MEAN_EARTH_RADIUS_KM
from overflight.errors import OverflightError

if TYPE_CHECKING:
    from overflight.access import Constraints

__all__ = [
    "AREA_S_PER_POINT_WINDOW",
    "COVERAGE_FIELD_S_PER_SAT_DAY",
    "COVERAGE_FIELD_S_PER_WINDOW",
    "COVERAGE_IMAGING_S_PER_WINDOW",
    "COVERAGE_STARTUP_S",
    "COVERAGE_S_PER_WINDOW",
    "DEFAULT_MAX_JOB_S",
    "EXPOSURE_STARTUP_S",
    "EXPOSURE_S_PER_WINDOW",
    "HISTORY_S_PER_ELSET",
    "IMAGING_S_PER_SAT_DAY",
    "IMAGING_S_PER_UNIT",
    "LOCAL_CLUSTER_START_S",
    "MAX_JOB_ENV",
    "PARALLEL_EFFICIENCY",
    "REFERENCE_ALT_KM",
    "STARTUP_S",
    "TRACK_S_PER_STEP",
    "WINDOWS_PER_CONE_DEG",
    "WINDOWS_STARTUP_S",
    "WINDOW_S",
    "WINDOW_S_PER_SAT_DAY",
    "WRITE_S_PER_ROW",
    "JobTooLarge",
    "Workload",
    "check_workload",
    "cone_deg",
    "coverage_workload",
    "duration_text",
    "exposure_workload",
    "history_workload",
    "local_cluster_pays",
    "max_job_s",
    "track_workload",
    "windows_per_unit",
    "windows_workload",
]

WINDOW_S = 20e-6
"""Seconds of one core per window found by the engine. ``docs/benchmarks.md``, overflight
windows: (a) 167 resource satellites × 22 sites × 7 days, 0.292 s for 16,588 windows at 60°
(17.6 µs), 0.888 s for 44,468 at 30° (20.0 µs); (b) Starlink × 100 sites × 1 day, 30.1 s for
1,664,733 windows in one process, written to CSV (18.1 µs)."""

WINDOW_S_PER_SAT_DAY = 300e-6
"""Seconds of one core per satellite-day of the window search whatever the sites (propagation
and interpolation of the fleet): Starlink (10,395 satellites) × 1 site at 30°, 4.75 s for 1 day
(27,679 windows: 0.55 s of them), 3.2 s for 0.25 day (``docs/benchmarks.md``, job estimates)."""

IMAGING_S_PER_SAT_DAY = 650e-6
IMAGING_S_PER_UNIT = 140e-6
"""With each satellite's own imaging rule (``passes --imaging``, ``watch``, ``exposure``) the
fleet is searched in one group per rule, with lighting: seconds of one core per satellite-day
(:data:`IMAGING_S_PER_SAT_DAY`, in place of :data:`WINDOW_S_PER_SAT_DAY`) and per
satellite-site-day (this), fitted to ``watch`` (116 imagers × 1 site × 7 days, 0.64 s beyond
start-up) and ``passes --imaging`` (× 22 sites × 3 days, 1.3 s; ``docs/benchmarks.md``, job
estimates)."""

CUT_S_PER_WINDOW = 175e-6
"""Seconds of one core per window the ``max_gsd_m`` resolution cut samples in a window search
(``passes.resolution_pieces``: 177 µs measured on the resource group × 22 sites × 1 day at 30 m,
13,004 windows cut in 2.30 s; docs/benchmarks.md, ``--max-gsd``)."""
COVERAGE_CUT_S_PER_WINDOW = 7.5e-6
"""The same for coverage, whose windows of one pass over many grid points share their
satellite positions (7.4 µs measured on tumen at 5 km × 1 day, 37,495 windows in 0.28 s)."""
WRITE_S_PER_ROW = 22e-6
"""Seconds per window written by ``passes``/``watch`` (columns, element-set age, NDJSON/CSV
encoding; one core, not shared out): 21.6–23.9 µs measured (``docs/benchmarks.md``, windows)."""

AREA_S_PER_POINT_WINDOW = 5e-6
"""Windows over an area (``passes``/``watch --area``): seconds per window of one of its sample
points, combined into area windows (one core), in place of :data:`WRITE_S_PER_ROW` (the area
windows written are a few hundredths of them): 367,131 point windows of the resource group
over Najin port in 2 days combined in 1.95 s (5.3 µs; ``docs/benchmarks.md``, job
estimates)."""

COVERAGE_S_PER_WINDOW = 22e-6
"""Coverage by the per-point engine: seconds of one core per window. ``docs/benchmarks.md``,
coverage: 167 satellites × 2,239 points × 7 days at 30° off-nadir, 1,953,621 windows in 43.3 s
on one CPU (22 µs)."""

COVERAGE_FIELD_S_PER_WINDOW = 2.5e-6
"""Coverage of a region's grid by the field method: seconds of one core per window.
``docs/benchmarks.md``, grid-aware coverage (167 satellites, 1 day, off-nadir ≤ 30°): 1.9 µs
at 2 km (7.14 M windows in 13.6 s) and at 1 km (28.6 M in 53.9 CPU s), 5.5 µs at 10 km (its
per-pass work shared by fewer points; such jobs take seconds)."""

COVERAGE_FIELD_S_PER_SAT_DAY = 3e-3
"""The field method's cost per satellite-day whatever the number of points (each pass's track
and edges): a 72-point grid × 167 satellites × 7 days took 4.8 s beyond its 143,000 windows
(``docs/benchmarks.md``, job estimates); negligible on fine grids."""

COVERAGE_IMAGING_S_PER_WINDOW = 55e-6
"""Coverage with each satellite's own imaging rule: seconds of one core per window. Satellites
are searched in groups of one rule each, with lighting, and a staring GEO imager (GAOFEN-4)
by the engine over every point all day, so the cost per window is above the plain methods':
the Korean peninsula at 10 km (2,239 points) × 116 imagers, about 254,000 windows estimated a
day, 13.6–15.6 s for 1 day and 32.4 s for 2 days in one process (49 and 61 µs a window beyond
start-up; ``docs/benchmarks.md``, imaging coverage memory). 190 µs before the engine searched
its spans in chunks."""

WINDOWS_PER_CONE_DEG = 0.24
"""Windows per satellite-site-day per degree of the visibility cone's ground radius (see the
module's docstring for the measurements)."""

REFERENCE_ALT_KM = 550.0
"""Altitude at which constraints become a cone (a typical imaging or broadband orbit), km."""

TRACK_S_PER_STEP = 2e-6
"""Ground tracks: seconds per satellite × time step (SGP4 at ~0.5 µs a satellite-time,
``docs/benchmarks.md`` propagation, with the frames and writers on top)."""

HISTORY_S_PER_ELSET = 55e-6
"""Maneuver scans: seconds per element set, once read (``docs/benchmarks.md``, maneuvers: the
whole Starlink history, 193,263 sets: orbit table 2.8 s + detection 7.5 s, 53 µs a set)."""

PARALLEL_EFFICIENCY = 0.6
"""Speed-up of each core beyond the first (``docs/benchmarks.md``, windows (b): 30.1 s in one
process, 18.5 s on 2 cores, 1.63×)."""

STARTUP_S = 0.5
"""Fixed cost of a job of no other kind (imports, catalog, first batch), seconds."""

WINDOWS_STARTUP_S = 0.85
"""Fixed cost of ``passes``/``watch``: interpreter, imports, catalog or file, sensor table,
ephemeris, seconds (a 0.01-day job over one site: 0.75–0.94 s, ``docs/benchmarks.md``)."""

EXPOSURE_STARTUP_S = 0.8
"""Fixed cost of ``exposure``, as :data:`WINDOWS_STARTUP_S` (0.77–0.83 s measured)."""

COVERAGE_STARTUP_S = 1.4
"""Fixed cost of ``coverage``: as :data:`WINDOWS_STARTUP_S`, plus the region, its grid and the
field method's compiled kernels loaded from their cache (1.4–1.8 s measured)."""

EXPOSURE_S_PER_WINDOW = 22e-6
"""``exposure``: seconds per window merged into exposure intervals and broken down (one core),
in place of :data:`WRITE_S_PER_ROW`; set equal to it: the exposure step is a few per cent of
the window search (``docs/benchmarks.md``, exposure), and the jobs of ``job_estimates.py``
come out within 0.6–1.2 of their measured time with it."""

LOCAL_CLUSTER_START_S = 1.6
"""Starting and closing a local Dask cluster of 2 workers, with ``distributed`` imported,
seconds (this machine: start and first task 1.13 s, close 0.2 s, median of 3; import 0.3 s;
``docs/benchmarks.md``, local cluster start-up)."""

DEFAULT_MAX_JOB_S = 600.0
"""Jobs estimated above this many seconds are refused unless the caller lifts the cap."""

MAX_JOB_ENV = "OVERFLIGHT_MAX_JOB_S"
"""Environment variable that sets the cap, seconds (``0``, ``none`` or ``off``: no cap)."""


class JobTooLarge(OverflightError):
    """A job whose estimated time is above the cap."""


def cone_deg(constraints: Constraints | None = None, *,
             alt_km: float = REFERENCE_ALT_KM) -> float:
    """Ground radius (degrees of arc) of the region a satellite at ``alt_km`` sees within
    ``constraints`` (minimum elevation, maximum off-nadir or range, whichever is tightest)."""
    r, a = MEAN_EARTH_RADIUS_KM, MEAN_EARTH_RADIUS_KM + alt_km
    el = 0.0
    if constraints is not None:
        el = max(el, constraints.effective_min_elevation_deg())
        if constraints.max_off_nadir_deg is not None:
            s = math.sin(math.radians(constraints.max_off_nadir_deg)) * a / r
            el = max(el, math.degrees(math.acos(min(1.0, s))))
        if constraints.max_range_km is not None:
            d = constraints.max_range_km
            s = (a * a - r * r - d * d) / (2.0 * r * d)
            el = max(el, 90.0 if s >= 1.0 else math.degrees(math.asin(max(-1.0, s))))
    el = min(el, 90.0)
    return max(0.05, math.degrees(math.acos(r * math.cos(math.radians(el)) / a)) - el)


def windows_per_unit(constraints: Constraints | None = None) -> float:
    """Expected windows per satellite × site × day under ``constraints``."""
    return WINDOWS_PER_CONE_DEG * cone_deg(constraints)


@dataclass(frozen=True)
class Workload:
    """What a job costs: ``satellites`` × ``sites`` (or grid points, or time steps) × ``days``
    units, ``items_per_unit`` items (windows) each, at ``s_per_item`` seconds of one core
    shared over ``cores`` cores plus ``serial_s_per_item`` seconds on one (writing); ``by_day``
    false for jobs not counted in days (tracks, scans: ``days`` is 1)."""

    what: str
    satellites: int
    sites: int
    days: float
    items_per_unit: float
    s_per_item: float
    serial_s_per_item: float = 0.0
    cores: int = 1
    site_word: str = "sites"
    item_word: str = "windows"
    by_day: bool = True
    startup_s: float = STARTUP_S
    s_per_sat_day: float = 0.0
    """Seconds of one core per satellite-day, whatever the sites (shared over ``cores``)."""
    s_per_unit: float = 0.0
    """Seconds of one core per satellite × site × day, whatever the windows (shared)."""

    @property
    def units(self) -> float:
        """Satellites × sites × days."""
        return self.satellites * self.sites * max(self.days, 0.0)

    @property
    def items(self) -> float:
        """Expected items (windows)."""
        return self.units * self.items_per_unit

    @property
    def cpu_s(self) -> float:
        """Estimated CPU time, seconds."""
        return (self.startup_s + self.items * (self.s_per_item + self.serial_s_per_item)
                + self._fleet_s)

    @property
    def _fleet_s(self) -> float:
        return (self.satellites * max(self.days, 0.0) * self.s_per_sat_day
                + self.units * self.s_per_unit)

    @property
    def estimate_s(self) -> float:
        """Estimated wall time, seconds."""
        speedup = 1.0 + PARALLEL_EFFICIENCY * max(0, self.cores - 1)
        return (self.startup_s + self._fleet_s / speedup
                + self.items * (self.s_per_item / speedup + self.serial_s_per_item))

    def describe(self) -> str:
        """``overflight windows: 167 satellites × 22 sites × 30 days (about 600,000 windows):
        about 40 s``."""
        shown = float(f"{self.days:.3g}")  # a mean of usable spans: 13.5, not 13.5496
        days = (" × " + f"{shown:g} day" + ("" if shown == 1 else "s")
                if self.by_day else "")
        sats = f"{self.satellites:,} satellite" + ("" if self.satellites == 1 else "s")
        items = f" (about {_round_count(self.items)} {self.item_word})" if self.item_word else ""
        return (f"{self.what}: {sats} × {self.sites:,} {self.site_word}{days}{items}: "
                f"about {duration_text(self.estimate_s)}")


def _round_count(n: float) -> str:
    if n < 100:
        return f"{n:.0f}"
    digits = 10 ** (int(math.log10(n)) - 1)
    return f"{round(n / digits) * digits:,.0f}"


def duration_text(seconds: float) -> str:
    """``0.8 s``, ``40 s``, ``4 min``, ``2.5 h`` (rounded for people)."""
    if seconds == math.inf:
        return "unlimited"
    if seconds < 10:
        return f"{max(seconds, 0.1):.2g} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def windows_workload(satellites: int, sites: int, days: float,
                     constraints: Constraints | None = None, *, cores: int = 1,
                     written: bool = True, per_unit: float | None = None,
                     imaging: bool = False, area: bool = False, cut: bool = False) -> Workload:
    """Overflight windows (``passes``, ``watch``) of ``satellites`` over ``sites``; ``written``:
    every window is also turned into a row (the CLI's output); ``per_unit``: windows per
    satellite × site × day when known better than from ``constraints`` (imaging rules);
    ``imaging``: each satellite with its own rule (:data:`IMAGING_S_PER_UNIT`); ``area``: the
    sites are areas' sample points, whose windows are combined into area windows
    (:data:`AREA_S_PER_POINT_WINDOW`, in place of writing each); ``cut``: the windows are cut
    to a resolution limit (:data:`CUT_S_PER_WINDOW`)."""
    serial = AREA_S_PER_POINT_WINDOW if area else WRITE_S_PER_ROW if written else 0.0
    return Workload("overflight windows", satellites, sites, days,
                    windows_per_unit(constraints) if per_unit is None else per_unit,
                    WINDOW_S + (CUT_S_PER_WINDOW if cut else 0.0),
                    serial, cores, startup_s=WINDOWS_STARTUP_S,
                    s_per_sat_day=_fleet_rates(imaging)[0], s_per_unit=_fleet_rates(imaging)[1])


def _fleet_rates(imaging: bool) -> tuple[float, float]:
    """Seconds per satellite-day and per satellite × site × day of a window search."""
    return (IMAGING_S_PER_SAT_DAY, IMAGING_S_PER_UNIT) if imaging else (WINDOW_S_PER_SAT_DAY, 0.0)


def exposure_workload(satellites: int, sites: int, days: float,
                      constraints: Constraints | None = None, *, cores: int = 1,
                      per_unit: float | None = None, imaging: bool = False,
                      cut: bool = False) -> Workload:
    """``exposure`` of a target (``sites``: 1, or an area's sample points) by ``satellites``:
    their windows, merged into exposure intervals; ``per_unit`` and ``cut`` as
    :func:`windows_workload`."""
    return Workload("exposure", satellites, sites, days,
                    windows_per_unit(constraints) if per_unit is None else per_unit,
                    WINDOW_S + (CUT_S_PER_WINDOW if cut else 0.0),
                    EXPOSURE_S_PER_WINDOW, cores, startup_s=EXPOSURE_STARTUP_S,
                    s_per_sat_day=_fleet_rates(imaging)[0], s_per_unit=_fleet_rates(imaging)[1])


def coverage_workload(satellites: int, points: int, days: float,
                      constraints: Constraints | None = None, *, cores: int = 1,
                      method: str = "points", per_unit: float | None = None,
                      local_cluster: bool = False, imaging: bool = False,
                      cut: bool = False) -> Workload:
    """Coverage of ``points`` grid points by ``satellites``; ``method`` as
    :func:`overflight.coverage.resolve_method` resolves it ("points" or "field"); ``per_unit``
    as :func:`windows_workload`; ``local_cluster``: a local Dask cluster is started for it
    (:data:`LOCAL_CLUSTER_START_S` more); ``imaging``: each satellite's own rule
    (:data:`COVERAGE_IMAGING_S_PER_WINDOW`); ``cut``: windows cut to a resolution limit
    (:data:`COVERAGE_CUT_S_PER_WINDOW`)."""
    field = method == "field" and not imaging
    rate = (COVERAGE_IMAGING_S_PER_WINDOW if imaging else
            COVERAGE_FIELD_S_PER_WINDOW if field else COVERAGE_S_PER_WINDOW)
    rate += COVERAGE_CUT_S_PER_WINDOW if cut else 0.0
    return Workload("coverage", satellites, points, days,
                    windows_per_unit(constraints) if per_unit is None else per_unit,
                    rate, 0.0, cores, site_word="grid points",
                    s_per_sat_day=COVERAGE_FIELD_S_PER_SAT_DAY if field else WINDOW_S_PER_SAT_DAY,
                    startup_s=COVERAGE_STARTUP_S + (LOCAL_CLUSTER_START_S if local_cluster
                                                    else 0.0))


def local_cluster_pays(work: Workload, cores: int) -> bool:
    """Whether ``work`` (estimated on one core) is worth a local Dask cluster of ``cores``
    workers: the time saved is at least twice :data:`LOCAL_CLUSTER_START_S`."""
    if cores < 2:
        return False
    one = replace(work, cores=1).estimate_s
    return one - replace(work, cores=cores).estimate_s >= 2.0 * LOCAL_CLUSTER_START_S


def track_workload(satellites: int, steps: int) -> Workload:
    """Ground tracks: ``satellites`` × ``steps`` time steps."""
    return Workload("ground track", satellites, steps, 1.0, 1.0, TRACK_S_PER_STEP,
                    site_word="time steps", item_word="", by_day=False)


def history_workload(satellites: int, element_sets: int) -> Workload:
    """A history or maneuver scan over ``element_sets`` element sets of ``satellites``."""
    per = max(1, round(element_sets / max(1, satellites)))
    return Workload("maneuver scan", satellites, per, 1.0, 1.0, HISTORY_S_PER_ELSET,
                    site_word="element sets each", item_word="", by_day=False)


def max_job_s() -> float:
    """The cap on a job's estimated time, seconds: ``OVERFLIGHT_MAX_JOB_S`` or
    :data:`DEFAULT_MAX_JOB_S` (``0``, ``none`` or ``off``: no cap)."""
    text = os.environ.get(MAX_JOB_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_JOB_S
    if text.lower() in ("none", "off"):
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise OverflightError(f"{MAX_JOB_ENV}: not a number of seconds: {text!r}") from None
    if value != value or value < 0:
        raise OverflightError(f"{MAX_JOB_ENV}: must be a positive number of seconds, not {text}")
    return math.inf if value == 0 else value


def check_workload(work: Workload, *, limit_s: float | None = None,
                   hint: str = "no_limit=True") -> Workload:
    """``work``, or :class:`JobTooLarge` (one line naming the estimate, the cap and ``hint``,
    how to lift it) when its estimate is above ``limit_s`` (default :func:`max_job_s`)."""
    cap = max_job_s() if limit_s is None else limit_s
    if work.estimate_s > cap:
        raise JobTooLarge(f"{work.describe()}, above the {duration_text(cap)} cap; narrow the "
                          f"job, or lift the cap with {hint} or {MAX_JOB_ENV}=SECONDS "
                          "(0: none)")
    return work
