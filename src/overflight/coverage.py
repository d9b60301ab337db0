"""Revisit and coverage of a set of ground points (a region's grid) by a fleet of satellites.

Accesses are overflight windows from :mod:`overflight.access` (same constraints and no-miss
guarantee), optionally kept only when the ground sample distance at closest approach is fine
enough, and, as in passes, only those peaking within ``max_age_days`` (14) of the element set's
epoch (the refused spans are the result's ``incomplete``). Per point, the windows of all
satellites are merged into access intervals (their union; windows that overlap or touch become
one access), and:

* ``windows``: satellite windows; ``accesses``: merged access intervals;
* ``first_access_s``: from the start of the interval to the first access (0 if in view at the
  start; NaN if never);
* ``revisit_mean_s`` / ``revisit_max_s``: mean / longest *revisit gap*, from the end of one
  access to the start of the next; only gaps between two accesses count (NaN with fewer than two
  accesses);
* ``max_gap_s``: the longest span without access anywhere in the interval, *including* the
  spans before the first and after the last access (the whole interval if never accessed) — the
  longest anyone watching the point would have waited, and the figure mapped;
* ``coverage_fraction``: time in access / interval length;
* ``best_gsd_m``: finest GSD at closest approach over the windows of satellites with a sensor
  entry (NaN if none).

Region-wide figures are percentiles over the grid points (each stands for about the same area).

Windows come from the per-point engine (``method="points"``) or, for a region's grid, from the
grid-aware field method (``method="field"``, :mod:`overflight.coverage_field`: the same windows,
edges within 10 ms, with the engine for whatever it cannot settle); ``method="auto"`` chooses.

Work is cut into point tiles, each searched in satellite batches (:class:`ShardPlan`); a tile
is one task, which merges its batches' windows sorted by (point, start) and returns only its
points' statistics, so windows never travel between processes. The plan depends only on the
job's size and method, never on the scheduler or the number of workers, so running the tiles
in this process or on a Dask cluster gives identical results.
Method, definitions and limits: ``docs/coverage.md``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from overflight.access import Constraints
from overflight.elements import ElementSet
from overflight.errors import OverflightError
from overflight.freshness import (
    REFUSE_AFTER_DAYS,
    STALE_AFTER_DAYS,
    StaleReport,
    check_not_all_stale,
)
from overflight.geometry import Site

if TYPE_CHECKING:
    from overflight.access import WindowTable
    from overflight.freshness import Skipped
    from overflight.sensors import Sensor

__all__ = [
    "FIELD_PLAN",
    "SCHEDULER_TIMEOUT_S",
    "CoverageComparison",
    "CoverageError",
    "CoverageInterrupted",
    "CoverageResult",
    "SatelliteRef",
    "ShardPlan",
    "compare_coverage",
    "coverage",
    "dask_client",
    "job_size",
    "resolve_method",
    "scheduler_address",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]

SCHEDULER_TIMEOUT_S = 10.0
"""Longest wait for a Dask scheduler to answer when connecting to it, seconds (a scheduler on
the same network answers in milliseconds; anything else that listens is not waited for)."""

_PERCENTILES = (50.0, 90.0)

Method = Literal["auto", "field", "points"]

WORKER_MALLOC_ENV = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": str(256 << 20),
    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": str(32 << 20),
    # A local cluster's workers log only what is fatal: a task's own error reaches the client,
    # and what they log at a close (a heartbeat to a scheduler that has just gone, a task
    # cancelled by Ctrl-C) is noise with tracebacks on the user's terminal.
    "distributed.nanny.pre-spawn-environ.DASK_LOGGING__DISTRIBUTED": "critical",
}
"""Environment of local-cluster workers. Dask's default ``MALLOC_TRIM_THRESHOLD_=65536`` also
turns off glibc's adaptive mmap threshold, so every numpy temporary above 128 kB is mapped and
unmapped again: the window engine then spent 8× the system time and ran ~2× slower (measured,
docs/coverage.md). Large thresholds keep the temporaries in the heap."""


Span = tuple[datetime, datetime]


class _Rule(Protocol):
    """A satellite's window rule (:class:`overflight.passes.SatelliteRule`)."""

    @property
    def constraints(self) -> Constraints: ...
    @property
    def max_elevation_deg(self) -> float | None: ...
    @property
    def look_side(self) -> str | None: ...


@dataclass(frozen=True)
class _Imaging:
    """Per-satellite window rules, aligned with the fleet: the rule, and the part of the
    interval where its windows may peak (None: all of it). ``sensor_rules``: an imaging run
    (each sensor's own rule and resolution model); false: every rule is the request's
    constraints, there only to hold satellites to their usable spans (element-set age)."""

    rules: tuple[_Rule, ...]
    spans: tuple[Span | None, ...]
    sensor_rules: bool = True

    def take(self, lo: int, hi: int) -> _Imaging:
        return _Imaging(self.rules[lo:hi], self.spans[lo:hi], self.sensor_rules)


_Batch = tuple[list[ElementSet], dict[int, "Sensor"], "_Imaging | None"]
"""A satellite batch: element sets, their sensors and (imaging) their rules."""

_Repair = tuple[Sequence[ElementSet], Sequence[Site], datetime, datetime, Constraints,
                Mapping[int, "Sensor"], "_Imaging | None"]


class CoverageInterrupted(KeyboardInterrupt):
    """Ctrl-C (a ``KeyboardInterrupt``) during :func:`coverage` or :func:`compare_coverage`:
    ``partial`` is the result over the ``points_done`` grid points whose tiles were finished
    (their statistics are those of the whole run; None if no tile was), of ``points``."""

    def __init__(self, partial: CoverageResult | CoverageComparison | None, points_done: int,
                 points: int) -> None:
        super().__init__(f"coverage interrupted after {points_done} of {points} grid points")
        self.partial = partial
        self.points_done = points_done
        self.points = points
        self._parts: tuple[list[dict[str, Any]], dict[int, int], npt.NDArray[np.int64]] | None
        self._parts = None


class CoverageError(OverflightError):
    """Impossible coverage request (one-line message)."""


@dataclass(frozen=True)
class SatelliteRef:
    """A satellite taking part in a coverage run."""

    norad_id: int
    name: str
    hypothetical: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"norad_id": self.norad_id, "name": self.name, "hypothetical": self.hypothetical}


@dataclass(frozen=True)
class ShardPlan:
    """How a job is cut: ``sat_batch`` satellites × ``tile_points`` consecutive points a shard."""

    sat_batch: int = 32
    tile_points: int = 512

    def __post_init__(self) -> None:
        if self.sat_batch < 1 or self.tile_points < 1:
            raise CoverageError("shard sizes must be at least 1")

    def batches(self, n_sats: int) -> list[tuple[int, int]]:
        """Satellite index ranges ``[lo, hi)``."""
        return [(lo, min(lo + self.sat_batch, n_sats)) for lo in range(0, n_sats, self.sat_batch)]

    def tiles(self, n_points: int) -> list[tuple[int, int]]:
        """Point index ranges ``[lo, hi)``."""
        return [(lo, min(lo + self.tile_points, n_points))
                for lo in range(0, n_points, self.tile_points)]


FIELD_PLAN = ShardPlan(sat_batch=16, tile_points=8_192)
"""The default plan of the field method. Its cost per pass is shared by the points of a tile,
but tiles of 8,192 points cost no more per point than tiles of 32,768 (measured on the 1-km
grid, docs/benchmarks.md), and a 1-km grid of the Korean peninsula (28 tiles) then spreads
evenly over a cluster's workers."""


# --------------------------------------------------------------------------------------------
# Results


def _pct(values: F64, scale: float = 1.0) -> dict[str, float | None]:
    v = values[np.isfinite(values)] / scale
    if v.size == 0:
        return {"p50": None, "p90": None, "max": None}
    p50, p90 = np.percentile(v, _PERCENTILES)
    return {"p50": float(p50), "p90": float(p90), "max": float(v.max())}


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage of ``M`` points over [start, end] (per-point arrays; module doc for definitions).

    Merged access intervals are ``interval_start/end[interval_offsets[i]:interval_offsets[i+1]]``
    for point ``i`` (``datetime64[ns]`` UTC). Compare results with ``==`` (exact).
    """

    start: datetime
    end: datetime
    constraints: Constraints
    max_gsd_m: float | None
    lat_deg: F64
    lon_deg: F64
    satellites: tuple[SatelliteRef, ...]
    windows: I64
    accesses: I64
    covered_s: F64
    first_access_s: F64
    max_gap_s: F64
    revisit_mean_s: F64
    revisit_max_s: F64
    best_gsd_m: F64
    interval_offsets: I64
    interval_start: npt.NDArray[np.datetime64]
    interval_end: npt.NDArray[np.datetime64]
    sgp4_errors: Mapping[int, int] = field(default_factory=dict)
    imaging: bool = False
    """Each satellite held to its own sensor's rule (``docs/coverage.md``, imaging)."""
    skipped: tuple[Skipped, ...] = ()
    """Satellites left out (wholly or partly), or counting for nothing, and why."""
    skipped_note: str | None = None
    """One line counting :attr:`skipped` by reason (None if nothing was left out)."""
    stale: StaleReport = field(default_factory=lambda: StaleReport(STALE_AFTER_DAYS, ()))
    """The satellites counted whose element sets are more than a week
    (``freshness.STALE_AFTER_DAYS``) from the times they are used for, each over its usable
    span (:func:`overflight.freshness.stale_elements`); false when none."""

    _ARRAYS = ("lat_deg", "lon_deg", "windows", "accesses", "covered_s", "first_access_s",
               "max_gap_s", "revisit_mean_s", "revisit_max_s", "best_gsd_m", "interval_offsets",
               "interval_start", "interval_end")

    def __len__(self) -> int:
        return int(self.lat_deg.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CoverageResult):
            return NotImplemented
        same_meta = (
            self.start == other.start and self.end == other.end
            and self.constraints == other.constraints and self.max_gsd_m == other.max_gsd_m
            and self.satellites == other.satellites
            and dict(self.sgp4_errors) == dict(other.sgp4_errors)
            and self.imaging == other.imaging and self.skipped == other.skipped
            and self.stale == other.stale
        )
        return same_meta and all(
            np.array_equal(getattr(self, k), getattr(other, k),
                           equal_nan=getattr(self, k).dtype.kind == "f")
            for k in self._ARRAYS
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def duration_s(self) -> float:
        """Interval length, s."""
        return (self.end - self.start).total_seconds()

    @property
    def coverage_fraction(self) -> F64:
        """Time in access / interval length, per point."""
        out: F64 = self.covered_s / self.duration_s
        return out

    @property
    def incomplete(self) -> list[tuple[datetime, datetime]]:
        """The parts of [start, end] where some satellite's element set was too old to use
        (its windows refused there, listed in :attr:`skipped`), merged, aware UTC: gaps, first
        accesses and time covered there are not established."""
        from overflight.freshness import refused_spans

        return refused_spans(self.skipped, self.start, self.end)

    @property
    def incomplete_note(self) -> str | None:
        """One line saying from when, for how long and for how many satellites the result is
        incomplete (None if it is not)."""
        from overflight.times import format_utc

        spans = self.incomplete
        if not spans:
            return None
        n = len({k.norad_id for k in self.skipped
                 if k.start is not None and k.reason.startswith("stale")})
        hours = sum((b - a).total_seconds() for a, b in spans) / 3600.0
        return (f"from {format_utc(spans[0][0])} ({hours:.1f} h in all) the element sets of "
                f"{n} satellite{'s' if n != 1 else ''} are too old to use: their windows are not "
                "counted there, so gaps, first accesses and time covered in those spans are not "
                "established")

    @property
    def hypothetical(self) -> tuple[SatelliteRef, ...]:
        """The hypothetical satellites taking part."""
        return tuple(s for s in self.satellites if s.hypothetical)

    def intervals(self, i: int) -> list[tuple[datetime, datetime]]:
        """Merged access intervals of point ``i`` (aware UTC)."""
        from overflight.times import datetime64_to_utc

        lo, hi = int(self.interval_offsets[i]), int(self.interval_offsets[i + 1])
        return [(datetime64_to_utc(a), datetime64_to_utc(b))
                for a, b in zip(self.interval_start[lo:hi], self.interval_end[lo:hi],
                                strict=True)]

    def summary(self) -> dict[str, Any]:
        """Region-wide figures: percentiles (p50, p90, max) over the points, hours;
        ``incomplete_s``/``incomplete_from``: how long, and from when, some satellite's element
        set was too old to use (:attr:`incomplete`)."""
        from overflight.times import format_utc

        days = self.duration_s / 86400.0
        spans = self.incomplete
        n = len(self)
        return {
            "points": n,
            "satellites": len(self.satellites),
            "hypothetical_satellites": len(self.hypothetical),
            "days": days,
            "windows": int(self.windows.sum()),
            "accesses_per_day_mean": float(self.accesses.mean() / days) if n else None,
            "points_never_accessed": int((self.accesses == 0).sum()),
            "max_gap_h": _pct(self.max_gap_s, 3600.0),
            "revisit_mean_h": _pct(self.revisit_mean_s, 3600.0),
            "revisit_max_h": _pct(self.revisit_max_s, 3600.0),
            "first_access_h": _pct(self.first_access_s, 3600.0),
            "coverage_fraction_mean": float(self.coverage_fraction.mean()) if n else None,
            "best_gsd_m": _pct(self.best_gsd_m),
            "incomplete_s": sum((b - a).total_seconds() for a, b in spans),
            "incomplete_from": format_utc(spans[0][0]) if spans else None,
        }

    def point_rows(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per point (times in seconds, NaN as null)."""
        rows = []
        frac = self.coverage_fraction
        for i in range(len(self)):
            rows.append({
                "lat_deg": round(float(self.lat_deg[i]), 5),
                "lon_deg": round(float(self.lon_deg[i]), 5),
                "windows": int(self.windows[i]),
                "accesses": int(self.accesses[i]),
                "first_access_s": _num(round(float(self.first_access_s[i]), 3)),
                "max_gap_s": round(float(self.max_gap_s[i]), 3),
                "revisit_mean_s": _num(round(float(self.revisit_mean_s[i]), 3)),
                "revisit_max_s": _num(round(float(self.revisit_max_s[i]), 3)),
                "coverage_fraction": round(float(frac[i]), 6),
                "best_gsd_m": _num(round(float(self.best_gsd_m[i]), 3)),
            })
        return rows

    def metadata(self) -> dict[str, Any]:
        """Interval, constraints and satellites (hypothetical ones listed separately); the
        satellites left out (``skipped``, ``skipped_note``) and, where some were refused for
        part of the interval, ``incomplete_note``."""
        from dataclasses import asdict

        from overflight.times import format_utc

        out = {
            "start": format_utc(self.start),
            "end": format_utc(self.end),
            "constraints": asdict(self.constraints),
            "max_gsd_m": self.max_gsd_m,
            "satellites": len(self.satellites),
            "norad_ids": [s.norad_id for s in self.satellites if not s.hypothetical],
            "hypothetical": [s.to_dict() for s in self.hypothetical],
            "sgp4_errors": {str(k): v for k, v in sorted(self.sgp4_errors.items())},
        }
        if self.imaging:
            out["imaging"] = True
        if self.imaging or self.skipped:
            out["skipped"] = [k.to_dict() for k in self.skipped]
        if self.skipped_note:
            out["skipped_note"] = self.skipped_note
        if self.incomplete:
            out["incomplete_note"] = self.incomplete_note
        if self.stale:
            out["stale"] = self.stale.to_dict()
        return out

    def to_dict(self, *, points: bool = True) -> dict[str, Any]:
        """JSON-ready: metadata, summary and (optionally) per-point rows."""
        out = {**self.metadata(), "summary": self.summary()}
        if points:
            out["points"] = self.point_rows()
        return out

    def to_geojson(self) -> dict[str, Any]:
        """Points as a GeoJSON FeatureCollection; metadata and summary as foreign members."""
        features = [
            {"type": "Feature",
             "geometry": {"type": "Point", "coordinates": [row["lon_deg"], row["lat_deg"]]},
             "properties": row}
            for row in self.point_rows()
        ]
        return {"type": "FeatureCollection", **self.metadata(), "summary": self.summary(),
                "features": features}


@dataclass(frozen=True, eq=False)
class CoverageComparison:
    """Baseline fleet vs the same fleet with hypothetical (or other added) satellites."""

    baseline: CoverageResult
    combined: CoverageResult

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CoverageComparison):
            return NotImplemented
        return self.baseline == other.baseline and self.combined == other.combined

    __hash__ = None  # type: ignore[assignment]

    def difference(self) -> dict[str, Any]:
        """Combined − baseline for the region-wide figures; points whose max gap shrank."""
        b, c = self.baseline.summary(), self.combined.summary()
        out: dict[str, Any] = {}
        for key, bv in b.items():
            cv = c[key]
            if isinstance(bv, dict):
                out[key] = {k: (None if bv[k] is None or cv[k] is None else cv[k] - bv[k])
                            for k in bv}
            elif isinstance(bv, int | float) and isinstance(cv, int | float):
                out[key] = cv - bv
        shrink = self.baseline.max_gap_s - self.combined.max_gap_s
        out["points_with_shorter_max_gap"] = int((shrink > 0).sum())
        out["max_gap_reduction_h"] = _pct(shrink, 3600.0)
        return out

    def to_dict(self, *, points: bool = True) -> dict[str, Any]:
        """JSON-ready: both results and their difference."""
        return {"baseline": self.baseline.to_dict(points=points),
                "with_added": self.combined.to_dict(points=points),
                "difference": self.difference()}


# --------------------------------------------------------------------------------------------
# Shards (run in this process or on Dask workers)


def _shard_windows(
    elsets: Sequence[ElementSet],
    sat_offset: int,
    sites: Sequence[Site],
    site_offset: int,
    start: datetime,
    end: datetime,
    constraints: Constraints,
    sensors: Mapping[int, Sensor],
    method: str = "points",
    imaging: _Imaging | None = None,
) -> dict[str, Any]:
    """Windows of one satellite batch over one tile: global indices, ns times, GSD at peak,
    and which windows the field method found (``imaging``: the batch's own rules)."""
    stats: dict[str, Any] = {}
    if imaging is not None:
        w, by_field = _imaging_shard(elsets, sites, start, end, imaging, stats, method,
                                     bool(sensors))
    elif method == "field":
        w, by_field = _field_shard(elsets, sites, start, end, constraints, stats, bool(sensors))
    else:
        w = _engine_windows(elsets, sites, start, end, constraints, stats)
        by_field = np.zeros(w[0].size, dtype=bool)
    site, sat, t_start, t_end, rng, inc = w
    return {
        "site": site + site_offset,
        "sat": sat + sat_offset,
        "start": t_start,
        "end": t_end,
        "gsd": _window_gsd(elsets, sensors, sat, rng, inc,
                           imaging is not None and imaging.sensor_rules),
        "field": by_field,
        "sgp4_errors": dict(stats.get("sgp4_errors", {})),
    }


def _window_gsd(elsets: Sequence[ElementSet], sensors: Mapping[int, Sensor], sat: I64,
                rng: F64, inc: F64, imaging: bool = False) -> F64:
    """GSD (m) at closest approach of windows of ``elsets[sat]`` (NaN without a sensor);
    ``imaging``: each sensor's own resolution model (:meth:`Sensor.resolution_m`, radar's
    ground-range resolution included)."""
    from overflight.gsd import gsd

    g = np.full(sat.size, np.nan)
    if sat.size and sensors:
        nadir = np.array([getattr(sensors.get(e.norad_id), "nadir_gsd_m", np.nan)
                          for e in elsets])[sat]
        ref = np.array([getattr(sensors.get(e.norad_id), "ref_alt_km", np.nan)
                        for e in elsets])[sat]
        known = np.isfinite(nadir)
        if known.any():
            g[known] = gsd(nadir[known], ref[known], rng[known], inc[known]).mean_m
        if imaging:
            for k, e in enumerate(elsets):
                s = sensors.get(e.norad_id)
                if s is None or not s.is_radar:
                    continue
                for i in np.flatnonzero(sat == k).tolist():
                    r = s.resolution_m(float(rng[i]), float(inc[i]))
                    g[i] = np.nan if r is None else r
    return g


_Windows = tuple[I64, I64, I64, I64, F64, F64]
"""(site, satellite) local indices, start/end ns, range (km) and incidence (deg) at peak."""


def _engine_table(elsets: Sequence[ElementSet], sites: Sequence[Site], start: datetime,
                  end: datetime, c: Constraints, stats: dict[str, Any]) -> WindowTable:
    """The per-point engine's windows (the reference method) as one table."""
    from overflight.access import WindowTable, iter_window_tables

    return WindowTable.concat(list(iter_window_tables(
        elsets, sites, start, end, c, batch_size=max(1, len(elsets)), workers=1,
        stats=stats)))


def _engine_windows(elsets: Sequence[ElementSet], sites: Sequence[Site], start: datetime,
                    end: datetime, c: Constraints, stats: dict[str, Any]) -> _Windows:
    """The per-point engine's windows (the reference method)."""
    return _table_windows(_engine_table(elsets, sites, start, end, c, stats))


def _table_windows(table: WindowTable) -> _Windows:
    return (table.site_index.astype(np.int64), table.sat_index.astype(np.int64),
            table.start.astype("datetime64[ns]").view(np.int64),
            table.end.astype("datetime64[ns]").view(np.int64),
            table.peak_range_km.astype(np.float64), table.peak_incidence_deg.astype(np.float64))


def _field_shard(elsets: Sequence[ElementSet], sites: Sequence[Site], start: datetime,
                 end: datetime, c: Constraints, stats: dict[str, Any], need_peak: bool
                 ) -> tuple[_Windows, npt.NDArray[np.bool_]]:
    """Field-method windows (the unsure pairs already searched by the engine inside their
    pass segments), with the per-point engine for satellites outside its premises."""
    from overflight.coverage_field import field_windows

    fw = field_windows(elsets, sites, start, end, c, need_peak=need_peak)
    parts: list[_Windows] = [(fw.site, fw.sat, fw.start_ns, fw.end_ns, fw.peak_range_km,
                              fw.peak_incidence_deg)]
    errors: dict[int, int] = {}
    if fw.engine_sats.size:
        # Satellites outside the field method's premises: the engine over every point.
        st: dict[str, Any] = {}
        site, sat, a, b, rng, inc = _engine_windows(
            [elsets[i] for i in fw.engine_sats.tolist()], sites, start, end, c, st)
        errors.update(st.get("sgp4_errors", {}))
        parts.append((site, fw.engine_sats[sat], a, b, rng, inc))
    stats["sgp4_errors"] = errors
    cols = [np.concatenate([p[k] for p in parts]) for k in range(6)]
    by_field = np.zeros(cols[0].size, dtype=bool)
    by_field[:fw.sat.size] = True
    return (cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]), by_field


# --------------------------------------------------------------------------------------------
# Imaging: each satellite's own rule (overflight.passes.imaging_rule)


def _imaging_shard(elsets: Sequence[ElementSet], sites: Sequence[Site], start: datetime,
                   end: datetime, im: _Imaging, stats: dict[str, Any], method: str,
                   need_peak: bool) -> tuple[_Windows, npt.NDArray[np.bool_]]:
    """Windows of satellites with their own rules: satellites with the same rule (and usable
    span) are searched together with its constraints, by ``method``."""
    groups: dict[tuple[Any, Span | None], list[int]] = {}
    for i, (rule, span) in enumerate(zip(im.rules, im.spans, strict=True)):
        groups.setdefault((rule, _partial(span, start, end)), []).append(i)
    parts: list[_Windows] = []
    flags: list[npt.NDArray[np.bool_]] = []
    errors: dict[int, int] = {}
    for (rule, span), members in groups.items():
        idx = np.array(members, dtype=np.int64)
        st: dict[str, Any] = {}
        w, f = _rule_windows([elsets[i] for i in members], sites, start, end, rule, span,
                             method, st, need_peak)
        errors.update(st.get("sgp4_errors", {}))
        parts.append((w[0], idx[w[1]], w[2], w[3], w[4], w[5]))
        flags.append(f)
    stats["sgp4_errors"] = errors
    if not parts:
        e, f64 = np.empty(0, dtype=np.int64), np.empty(0)
        return (e, e, e, e, f64, f64), np.zeros(0, dtype=bool)
    cols = [np.concatenate([p[k] for p in parts]) for k in range(6)]
    return (cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]), np.concatenate(flags)


def _partial(span: Span | None, start: datetime, end: datetime) -> Span | None:
    """``span`` where it leaves out part of [start, end], else None."""
    return span if span is not None and (span[0] > start or span[1] < end) else None


def _rule_windows(elsets: Sequence[ElementSet], sites: Sequence[Site], start: datetime,
                  end: datetime, rule: _Rule, span: Span | None, method: str,
                  stats: dict[str, Any], need_peak: bool
                  ) -> tuple[_Windows, npt.NDArray[np.bool_]]:
    """Windows of satellites sharing ``rule``, as :meth:`overflight.passes.PassPlan.tables`
    gives them: the rule's constraints; for radar the parts above its highest elevation cut
    out (a pass over the top becoming two windows) and only its look side; and with a
    ``span``, only windows peaking inside it (the engine then: its peaks)."""
    c = rule.constraints
    if span is not None:
        from overflight.passes import search_end

        method = "points"
        end = search_end(elsets, span[1], end)  # nothing peaking after the span is kept
    if method == "field":
        w, by_field = _field_shard(elsets, sites, start, end, c, stats, need_peak)
        peak = (w[2] + w[3]) // 2  # the side of a pass does not change within it
    else:
        table = _engine_table(elsets, sites, start, end, c, stats)
        w = _table_windows(table)
        peak = table.peak.astype("datetime64[ns]").view(np.int64)
        by_field = np.zeros(w[0].size, dtype=bool)
    if rule.max_elevation_deg is not None:
        top = Constraints(min_elevation_deg=rule.max_elevation_deg)
        if method == "field":
            inner, _ = _field_shard(elsets, sites, start, end, top, {}, False)
        else:
            inner = _engine_windows(elsets, sites, start, end, top, {})
        w, by_field, peak = _cut_over_top(w, by_field, peak, inner, elsets, sites,
                                          c.min_duration_s, need_peak)
    keep: npt.NDArray[np.bool_] | None = None
    if rule.look_side is not None:
        keep = (_left_of_track(elsets, sites, w[1], w[0], peak)
                == (rule.look_side == "left"))
    if span is not None:
        from overflight.times import to_datetime64

        lo = int(to_datetime64(span[0])[0].astype(np.int64))
        hi = int(to_datetime64(span[1])[0].astype(np.int64))
        inside = (peak >= lo) & (peak <= hi)
        keep = inside if keep is None else keep & inside
    if keep is not None:
        w = (w[0][keep], w[1][keep], w[2][keep], w[3][keep], w[4][keep], w[5][keep])
        by_field = by_field[keep]
    return w, by_field


def _cut_over_top(w: _Windows, by_field: npt.NDArray[np.bool_], peak: I64, inner: _Windows,
                  elsets: Sequence[ElementSet], sites: Sequence[Site], min_duration_s: float,
                  need_peak: bool) -> tuple[_Windows, npt.NDArray[np.bool_], I64]:
    """``w`` minus the spans of ``inner`` (same satellite and point): where a radar's point is
    above its highest elevation. A window that rises above it becomes two whose peak is the
    cut (range and incidence recomputed there); pieces shorter than ``min_duration_s`` (or
    1 ms) are dropped — as ``overflight.passes`` cuts its windows."""
    site, sat, a, b, rng, inc = w
    n = max(len(sites), 1)
    i_key = inner[1] * n + inner[0]
    order = np.lexsort((inner[2], i_key))
    i_key, i_a, i_b = i_key[order], inner[2][order], inner[3][order]
    key = sat * n + site
    lo = np.searchsorted(i_key, key, side="left")
    hi = np.searchsorted(i_key, key, side="right")
    drop: list[int] = []
    new: list[tuple[int, int, int, int]] = []  # (row, start, end, peak) ns
    for r in np.flatnonzero(hi > lo).tolist():
        js = [j for j in range(int(lo[r]), int(hi[r])) if i_a[j] < b[r] and i_b[j] > a[r]]
        if not js:
            continue
        drop.append(r)
        cur = int(a[r])
        for j in js:
            if i_a[j] > cur:
                new.append((r, cur, int(i_a[j]), int(i_a[j])))
            cur = max(cur, int(i_b[j]))
        if b[r] > cur:
            new.append((r, cur, int(b[r]), cur))
    if not drop:
        return w, by_field, peak
    shortest = max(min_duration_s, 1e-3) * 1e9
    new = [p for p in new if p[2] - p[1] >= shortest]
    keep = np.ones(sat.size, dtype=bool)
    keep[drop] = False
    rows = np.array([p[0] for p in new], dtype=np.int64)
    p_peak = np.array([p[3] for p in new], dtype=np.int64)
    p_rng, p_inc = np.full(rows.size, np.nan), np.full(rows.size, np.nan)
    if need_peak and rows.size:
        from overflight.geometry import view_geometry_arrays

        pos, _ = _states_at(elsets, sat[rows], p_peak)
        xyz, up = _site_vectors(sites, site[rows])
        g = view_geometry_arrays(pos, xyz, up)
        p_rng, p_inc = np.asarray(g.range_km), np.asarray(g.incidence_deg)
    out = (np.concatenate((site[keep], site[rows])), np.concatenate((sat[keep], sat[rows])),
           np.concatenate((a[keep], np.array([p[1] for p in new], dtype=np.int64))),
           np.concatenate((b[keep], np.array([p[2] for p in new], dtype=np.int64))),
           np.concatenate((rng[keep], p_rng)), np.concatenate((inc[keep], p_inc)))
    return (out, np.concatenate((by_field[keep], by_field[rows])),
            np.concatenate((peak[keep], p_peak)))


def _site_vectors(sites: Sequence[Site], idx: I64) -> tuple[F64, F64]:
    """ITRS position (km) and geodetic up unit vector of ``sites[idx[i]]``, ``(N, 3)``."""
    from overflight.geometry import sites_itrs_km, up_vectors

    lat = np.array([sites[j].lat_deg for j in idx.tolist()], dtype=np.float64)
    lon = np.array([sites[j].lon_deg for j in idx.tolist()], dtype=np.float64)
    alt = np.array([sites[j].alt_m for j in idx.tolist()], dtype=np.float64)
    return sites_itrs_km(lat, lon, alt), up_vectors(lat, lon)


def _states_at(elsets: Sequence[ElementSet], sat: I64, t_ns: I64) -> tuple[F64, F64]:
    """ITRS position and velocity (km, km/s) of ``elsets[sat[i]]`` at ``t_ns[i]``, ``(N, 3)``."""
    from overflight.propagation import propagate

    pos, vel = np.empty((sat.size, 3)), np.empty((sat.size, 3))
    for k in np.unique(sat).tolist():
        rows = np.flatnonzero(sat == k)
        eph = propagate([elsets[k]], t_ns[rows].view("datetime64[ns]"), frame="itrs",
                        workers=1)
        pos[rows], vel[rows] = eph.position_km[0], eph.velocity_km_s[0]
    return pos, vel


def _left_of_track(elsets: Sequence[ElementSet], sites: Sequence[Site], sat: I64, site: I64,
                   t_ns: I64) -> npt.NDArray[np.bool_]:
    """Whether each point lies left of its satellite's Earth-fixed velocity at ``t_ns`` (the
    side a side-looking radar must look to; ``overflight.passes.look_sides``)."""
    if sat.size == 0:
        return np.zeros(0, dtype=bool)
    r, v = _states_at(elsets, sat, t_ns)
    xyz, _ = _site_vectors(sites, site)
    out: npt.NDArray[np.bool_] = np.einsum("ij,ij->i", np.cross(r, v), xyz - r) > 0
    return out


_TIE_NS = 20_000_000
"""Two windows of a point whose edges meet within this (twice the field method's 10-ms edge
agreement) may merge or not depending on the last milliseconds: redone by the engine."""


def _previous_end(site: I64, end: I64, t0: int, t1: int) -> tuple[I64, I64]:
    """For windows sorted by (point, start): the latest end among the earlier windows of the
    same point (-1 for a point's first) and which window has it (ns; ends beyond [t0, t1]
    count as there)."""
    n = site.size
    val = np.full(n, -1, dtype=np.int64)
    who = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return val, who
    span = t1 - t0 + 1
    per = max(1, (1 << 62) // span)  # points per block whose keys fit in int64
    first = np.ones(n, dtype=bool)
    first[1:] = site[1:] != site[:-1]
    s_lo = int(site[0])
    while True:
        a = int(np.searchsorted(site, s_lo, side="left"))
        b = int(np.searchsorted(site, s_lo + per, side="left"))
        base = (site[a:b] - s_lo) * span
        # Point-major keys increase from one point to the next, so one running maximum serves
        # every point of the block.
        key = base + (np.clip(end[a:b], t0, t1) - t0)
        run = np.maximum.accumulate(key)
        setter = np.maximum.accumulate(np.where(key == run, np.arange(a, b), -1))
        prev_set = np.concatenate(([-1], setter[:-1]))
        f = first[a:b]
        who[a:b] = np.where(f, -1, prev_set)
        val[a:b] = np.where(f, -1, end[np.maximum(prev_set, 0)])
        if b >= n:
            break
        s_lo = int(site[b])
    return val, who


def _near_ties(site: I64, start: I64, end: I64, by_field: npt.NDArray[np.bool_], t0: int,
               t1: int) -> npt.NDArray[np.bool_]:
    """Windows sorted by (point, start) whose start lies within ``_TIE_NS`` of the latest end
    of the point's earlier windows — whether they merge into one access then hangs on the last
    milliseconds — and the window holding that end, where either came from the field method."""
    out = np.zeros(site.size, dtype=bool)
    if site.size < 2 or not by_field.any():
        return out
    prev, who = _previous_end(site, end, t0, t1)
    tie = (prev >= 0) & (np.abs(start - prev) <= _TIE_NS)
    tie &= by_field | by_field[np.maximum(who, 0)]
    out[tie] = True
    out[who[tie]] = True
    return out


def _merge_point_stats(
    site: I64, start: I64, end: I64, gsd: F64, n_points: int, t0: int, t1: int
) -> dict[str, Any]:
    """Per-point statistics from windows (local point indices, ns times); see module doc."""
    windows = np.bincount(site, minlength=n_points).astype(np.int64)
    best = np.full(n_points, np.nan)
    np.fmin.at(best, site, gsd)
    ds = np.diff(site)
    if not ((ds > 0) | ((ds == 0) & (np.diff(start) >= 0))).all():
        order = np.lexsort((start, site))
        site, start, end = site[order], start[order], end[order]
    # Union of intervals per point, in (point, start) order: a window opens a new access unless
    # it starts at or before the latest end of the point's earlier windows (overlapping or
    # touching windows are one access); an access ends at the latest end before the next opens.
    prev, _ = _previous_end(site, end, t0, t1)
    opens = (prev < 0) | (start > prev)
    pos = np.flatnonzero(opens)
    m_start, m_pt = start[pos], site[pos]
    last = np.concatenate((pos[1:] - 1, [site.size - 1])).astype(np.int64)
    m_end = np.maximum(prev, end)[last] if pos.size else np.empty(0, dtype=np.int64)
    accesses = np.bincount(m_pt, minlength=n_points).astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(accesses))).astype(np.int64)
    covered = np.zeros(n_points, np.int64)
    np.add.at(covered, m_pt, m_end - m_start)
    has = accesses > 0
    first_ns = np.full(n_points, -1, np.int64)
    last_ns = np.full(n_points, -1, np.int64)
    first_ns[has] = m_start[offsets[:-1][has]]
    last_ns[has] = m_end[offsets[1:][has] - 1]
    same = m_pt[1:] == m_pt[:-1]
    gaps = (m_start[1:] - m_end[:-1])[same]
    gap_pt = m_pt[1:][same]
    n_gaps = np.bincount(gap_pt, minlength=n_points)
    gap_sum = np.zeros(n_points, np.int64)
    np.add.at(gap_sum, gap_pt, gaps)
    gap_max = np.full(n_points, -1, np.int64)
    np.maximum.at(gap_max, gap_pt, gaps)
    lead = np.where(has, first_ns - t0, t1 - t0)
    trail = np.where(has, t1 - last_ns, 0)
    max_gap = np.maximum(np.maximum(lead, trail), gap_max)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_gap = np.where(n_gaps > 0, gap_sum / np.maximum(n_gaps, 1) / 1e9, np.nan)
    return {
        "windows": windows,
        "accesses": accesses,
        "covered_s": covered / 1e9,
        "first_access_s": np.where(has, (first_ns - t0) / 1e9, np.nan),
        "max_gap_s": max_gap / 1e9,
        "revisit_mean_s": mean_gap,
        "revisit_max_s": np.where(n_gaps > 0, gap_max / 1e9, np.nan),
        "best_gsd_m": best,
        "interval_counts": accesses,
        "interval_start": m_start,
        "interval_end": m_end,
    }


def _canonical(w: dict[str, Any], t0: int, t1: int) -> dict[str, Any]:
    """Windows sorted by (point, start); ties keep their order (shards are concatenated in a
    fixed order, so the order is the same in this process and on a cluster)."""
    site = w["site"].astype(np.int64)
    start = w["start"].astype(np.int64)
    if site.size == 0:
        return w
    lo, hi = int(site.min()), int(site.max())
    span = t1 - t0 + 1
    if (hi - lo + 1) < (1 << 62) // span:
        # One int64 key (point-major): a stable argsort of it is a fraction of a lexsort's
        # cost, and nearly sorted input (a repaired tile) is cheap for it.
        order = np.argsort((site - lo) * span + (np.clip(start, t0, t1) - t0), kind="stable")
    else:
        order = np.lexsort((start, site))
    return {k: v[order] for k, v in w.items()}


def _repair_ties(w: dict[str, Any], site_offset: int, t0: int, t1: int,
                 masks: Sequence[npt.NDArray[np.bool_]], repair: _Repair) -> dict[str, Any]:
    """Field windows in near ties (within any satellite subset) replaced by the engine's
    windows of their pairs; ``w`` and the result in canonical order."""
    elsets, points, start, end, c, sensors, im = repair
    for _ in range(3):
        site = w["site"].astype(np.int64) - site_offset
        sat = w["sat"].astype(np.int64)
        by_field = w["field"].astype(bool)
        t_start, t_end = w["start"].astype(np.int64), w["end"].astype(np.int64)
        ties = np.zeros(sat.size, dtype=bool)
        for mask in masks:
            sub = np.flatnonzero(mask[sat])
            ties[sub] |= _near_ties(site[sub], t_start[sub], t_end[sub], by_field[sub], t0, t1)
        ties &= by_field
        if not ties.any():
            break
        n = max(len(points), 1)
        pair_key = np.unique(sat[ties] * n + site[ties])
        drop = np.isin(sat * n + site, pair_key)
        keep = {k: v[~drop] for k, v in w.items()}
        add: list[dict[str, Any]] = []
        pk_sat, pk_site = pair_key // n, pair_key % n
        for i in np.unique(pk_sat).tolist():
            idx = pk_site[pk_sat == i]
            st: dict[str, Any] = {}
            es = [elsets[i]]
            pts = [points[j] for j in idx.tolist()]
            if im is None:
                e_site, e_sat, a, b, rng, inc = _engine_windows(es, pts, start, end, c, st)
            else:
                (e_site, e_sat, a, b, rng, inc), _ = _rule_windows(
                    es, pts, start, end, im.rules[i], _partial(im.spans[i], start, end),
                    "points", st, True)
            gsd = _window_gsd(es, sensors, e_sat, rng, inc, im is not None and im.sensor_rules)
            add.append({"site": idx[e_site] + site_offset, "sat": np.full(e_sat.size, i),
                        "start": a, "end": b, "gsd": gsd,
                        "field": np.zeros(e_sat.size, dtype=bool)})
        w = _canonical({k: np.concatenate([keep[k]] + [x[k] for x in add]) for k in keep},
                       t0, t1)
    return w


_Cut: TypeAlias = ("tuple[Sequence[ElementSet], Sequence[Site], Mapping[int, Sensor], "
                   "Constraints | tuple[Constraints, ...]]")
"""What the resolution cut needs: the fleet, the tile's points, the sensors and the window
constraints (one for all, or each satellite's imaging rule's)."""


def _cut_resolution(w: dict[str, Any], site_offset: int, t0: int, t1: int, max_gsd_m: float,
                    cut: _Cut
                    ) -> dict[str, Any]:
    """Windows ``w`` cut to where the resolution is at most ``max_gsd_m``; a piece's GSD is
    its window's at closest approach where that is within the limit, else the limit (the
    best it reaches, at the piece's edge)."""
    from overflight.passes import resolution_pieces

    elsets, points, sensors, rules = cut
    sat = w["sat"].astype(np.int64)
    site = w["site"].astype(np.int64) - site_offset
    whole, pieces = resolution_pieces(sat, site, w["start"].astype(np.int64),
                                      w["end"].astype(np.int64), elsets, points, sensors,
                                      max_gsd_m, rules)
    keep = {k: v[whole] for k, v in w.items()}
    if not pieces:
        return keep
    rows = np.array([p[0] for p in pieces], dtype=np.int64)
    add = {k: v[rows] for k, v in w.items()}
    add["start"] = np.array([p[1] for p in pieces], dtype=np.int64).astype(w["start"].dtype)
    add["end"] = np.array([p[2] for p in pieces], dtype=np.int64).astype(w["end"].dtype)
    add["gsd"] = np.minimum(np.nan_to_num(add["gsd"].astype(np.float64), nan=max_gsd_m),
                            max_gsd_m)
    return _canonical({k: np.concatenate([keep[k], add[k]]) for k in w}, t0, t1)


def _tile_stats(
    n_points: int,
    site_offset: int,
    t0: int,
    t1: int,
    masks: Sequence[npt.NDArray[np.bool_]],
    max_gsd_m: float | None,
    *parts: dict[str, Any],
    repair: _Repair | None = None,
    cut: _Cut | None = None,
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """Statistics of one tile for each satellite subset (``masks`` over global indices).

    ``repair`` (the field method): the whole fleet, the tile's points, interval, constraints
    and sensors, to redo with the engine the (satellite, point) pairs whose field windows
    nearly touch another window of the point (:data:`_TIE_NS`). ``cut``: the whole fleet, the
    tile's points and the sensors, to cut windows to where the resolution is at most
    ``max_gsd_m`` (:func:`overflight.passes.resolution_pieces`, as ``passes`` does);
    without it whole windows are kept by their GSD at closest approach."""
    keys = ("site", "sat", "start", "end", "gsd", "field")
    w = {k: np.concatenate([p[k] for p in parts]) if parts else np.empty(0) for k in keys}
    w = _canonical(w, t0, t1)
    if repair is not None and w["site"].size:
        w = _repair_ties(w, site_offset, t0, t1, masks, repair)
    if cut is not None and max_gsd_m is not None and w["site"].size:
        w = _cut_resolution(w, site_offset, t0, t1, max_gsd_m, cut)
    site = w["site"].astype(np.int64) - site_offset
    sat = w["sat"].astype(np.int64)
    start, end = w["start"].astype(np.int64), w["end"].astype(np.int64)
    gsd = w["gsd"].astype(np.float64)
    # Cut windows are within the limit by construction (their closest approach may differ).
    ok_gsd = (np.ones(sat.size, bool) if max_gsd_m is None or cut is not None
              else gsd <= max_gsd_m)
    out = []
    for mask in masks:
        keep = ok_gsd & mask[sat]
        out.append(_merge_point_stats(site[keep], start[keep], end[keep], gsd[keep],
                                      n_points, t0, t1))
    errors: dict[int, int] = {}
    for p in parts:
        errors.update(p["sgp4_errors"])
    return out, errors


# --------------------------------------------------------------------------------------------
# Driver


def resolve_method(method: str, points: Sequence[Site]) -> str:
    """"points" or "field" for ``method`` ("auto": the field method for at least
    ``coverage_field.FIELD_MIN_POINTS`` points within a cap of ``FIELD_MAX_CAP_DEG``)."""
    if method not in ("auto", "field", "points"):
        raise CoverageError(f"method must be 'auto', 'field' or 'points', not {method!r}")
    if method != "auto":
        return method
    from overflight.coverage_field import field_suits

    return "field" if field_suits(points) else "points"


def _default_plan(method: str) -> ShardPlan:
    return FIELD_PLAN if method == "field" else ShardPlan()


def job_size(n_sats: int, n_points: int, start: datetime, end: datetime) -> float:
    """Satellite × point × day units of a job."""
    return n_sats * n_points * (end - start).total_seconds() / 86400.0


def _check(elsets: Sequence[ElementSet], points: Sequence[Site], start: datetime,
           end: datetime, c: Constraints, max_gsd_m: float | None) -> None:
    from overflight.access import check_interval

    c.validate()
    check_interval(start, end)
    if not elsets:
        raise CoverageError("no satellites selected")
    if not points:
        raise CoverageError("no grid points")
    ids = [e.norad_id for e in elsets]
    if len(set(ids)) != len(ids):
        raise CoverageError("a satellite appears twice in the fleet (one element set each)")
    if max_gsd_m is not None and not (math.isfinite(max_gsd_m) and max_gsd_m > 0):
        raise CoverageError(f"max_gsd_m: must be a finite positive number, not {max_gsd_m}")


def _run(
    elsets: Sequence[ElementSet],
    points: Sequence[Site],
    start: datetime,
    end: datetime,
    c: Constraints,
    masks: Sequence[npt.NDArray[np.bool_]],
    *,
    max_gsd_m: float | None,
    sensors: Mapping[int, Sensor] | None,
    client: Any,
    plan: ShardPlan,
    progress: Progress | None,
    method: str = "points",
    imaging: _Imaging | None = None,
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    from overflight.times import to_datetime64, utc

    t0 = int(to_datetime64(utc(start))[0].astype(np.int64))
    t1 = int(to_datetime64(utc(end))[0].astype(np.int64))
    batches = plan.batches(len(elsets))
    tiles = plan.tiles(len(points))
    sens = dict(sensors or {})
    fleet: _Batch = (list(elsets), sens, imaging)
    job = _TileJob(start, end, c, t0, t1, tuple(masks), max_gsd_m, method, tuple(batches))
    total = len(tiles) * (len(batches) + 1)
    done = 0

    def tick(n: int = 1) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    finished: dict[int, tuple[list[dict[str, Any]], dict[int, int]]] = {}
    try:
        if client is None:
            for ti, (lo, hi) in enumerate(tiles):
                finished[ti] = _tile_job(job, fleet, list(points[lo:hi]), lo, tick)
        else:
            _run_dask(client, job, fleet, points, tiles, len(batches) + 1, tick, finished)
    except KeyboardInterrupt as exc:
        if isinstance(exc, CoverageInterrupted):
            raise
        # Ctrl-C: the statistics of the finished tiles (whole tiles, as a full run has them)
        # go up with the interruption, for the caller to make a partial result of.
        ready = sorted(finished)
        stop = CoverageInterrupted(None, sum(tiles[i][1] - tiles[i][0] for i in ready),
                                   len(points))
        if ready:
            index = np.concatenate([np.arange(*tiles[i]) for i in ready])
            stop._parts = (*_merge([finished[i] for i in ready], len(masks)), index)
        # (Chained, not "from None": the traceback keeps the Dask futures alive until the
        # cluster is closed; released during its close, they made it hang.)
        raise stop from exc
    return _merge([finished[i] for i in range(len(tiles))], len(masks))


def _merge(tile_results: list[tuple[list[dict[str, Any]], dict[int, int]]], n_masks: int
           ) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """Per-mask statistics of tiles, concatenated in the given order; their SGP4 errors."""
    merged: list[dict[str, Any]] = []
    for k in range(n_masks):
        per_tile = [tr[0][k] for tr in tile_results]
        merged.append({key: np.concatenate([p[key] for p in per_tile]) for key in per_tile[0]})
    errors: dict[int, int] = {}
    for _, err in tile_results:
        errors.update(err)
    return merged, errors


@dataclass(frozen=True)
class _TileJob:
    """What every tile of a job shares (times in ns since the epoch for ``t0``/``t1``)."""

    start: datetime
    end: datetime
    c: Constraints
    t0: int
    t1: int
    masks: tuple[npt.NDArray[np.bool_], ...]
    max_gsd_m: float | None
    method: str
    batches: tuple[tuple[int, int], ...]


def _tile_job(
    job: _TileJob,
    fleet: _Batch,
    points: list[Site],
    site_offset: int,
    tick: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """One tile: the windows of every satellite batch over its points, then its statistics.
    A tile is one task, so only its per-point statistics leave it (not its windows)."""
    elsets, sens, imaging = fleet
    parts = []
    for blo, bhi in job.batches:
        chosen = elsets[blo:bhi]
        chosen_sens = {e.norad_id: sens[e.norad_id] for e in chosen if e.norad_id in sens}
        chosen_im = None if imaging is None else imaging.take(blo, bhi)
        parts.append(_shard_windows(chosen, blo, points, site_offset, job.start, job.end,
                                    job.c, chosen_sens, job.method, chosen_im))
        if tick is not None:
            tick(1)
    fix = ((elsets, points, job.start, job.end, job.c, sens, imaging)
           if job.method == "field" else None)
    rules: Constraints | tuple[Constraints, ...] = job.c
    if imaging is not None and imaging.sensor_rules:
        rules = tuple(r.constraints for r in imaging.rules)
    cut = None if job.max_gsd_m is None else (elsets, points, sens, rules)
    out = _tile_stats(len(points), site_offset, job.t0, job.t1, job.masks, job.max_gsd_m,
                      *parts, repair=fix, cut=cut)
    if tick is not None:
        tick(1)
    return out


@dataclass(frozen=True)
class _Points:
    """A tile's points as one datum, pickled as columns: Dask walks (and serializes one by
    one) the elements of a list argument, which took 20 s for a 1-km grid."""

    sites: list[Site]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        s = self.sites
        return (_points_from_columns, ([p.name for p in s], np.array([p.lat_deg for p in s]),
                                       np.array([p.lon_deg for p in s]),
                                       np.array([p.alt_m for p in s])))


def _points_from_columns(names: list[str], lat: F64, lon: F64, alt: F64) -> _Points:
    return _Points([Site(n, a, b, c) for n, a, b, c in
                    zip(names, lat.tolist(), lon.tolist(), alt.tolist(), strict=True)])


def _tile_task(job: _TileJob, fleet: _Batch, points: _Points, site_offset: int
               ) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """Dask task: :func:`_tile_job`."""
    return _tile_job(job, fleet, points.sites, site_offset)


def _run_dask(
    client: Any,
    job: _TileJob,
    fleet: _Batch,
    points: Sequence[Site],
    tiles: list[tuple[int, int]],
    per_tile: int,
    tick: Callable[[int], None],
    finished: dict[int, tuple[list[dict[str, Any]], dict[int, int]]],
) -> None:
    """The tiles as Dask tasks (one each), their results into ``finished`` (by tile index) as
    they come; on Ctrl-C the tasks left are cancelled."""
    as_completed = _distributed().as_completed
    run = uuid.uuid4().hex[:12]

    def scatter(value: Any) -> Any:
        # A one-element list, so that sequences travel as one datum (not one per element).
        return client.scatter([value], hash=False)[0]

    job_data = scatter(job)
    fleet_data = scatter(fleet)
    futures = [client.submit(_tile_task, job_data, fleet_data, _Points(list(points[lo:hi])), lo,
                             key=f"overflight-tile-{run}-{ti}", pure=False)
               for ti, (lo, hi) in enumerate(tiles)]
    index = {fut.key: ti for ti, fut in enumerate(futures)}
    try:
        for fut in as_completed(futures):
            finished[index[fut.key]] = fut.result()
            tick(per_tile)
    except BaseException:
        with suppress(Exception):
            client.cancel(futures)
        raise


def _result(
    stats: dict[str, Any],
    elsets: Sequence[ElementSet],
    mask: npt.NDArray[np.bool_],
    points: Sequence[Site],
    start: datetime,
    end: datetime,
    c: Constraints,
    max_gsd_m: float | None,
    errors: Mapping[int, int],
    sel: _Selection | None = None,
    others: Sequence[ElementSet] = (),
) -> CoverageResult:
    """The result of the satellites ``mask`` picks (``sel``'s left-out satellites among
    them and ``others``, the rest of the request's fleet, counted)."""
    from overflight.hypothetical import is_hypothetical
    from overflight.times import utc

    chosen = [e for e, m in zip(elsets, mask.tolist(), strict=True) if m]
    ids = {e.norad_id for e in chosen}
    skipped: tuple[Skipped, ...] = ()
    note = None
    stale = StaleReport(STALE_AFTER_DAYS, ())
    if sel is not None:
        mine = ids | {e.norad_id for e in others}
        skipped = tuple(k for k in sel.skipped if k.norad_id in mine)
        note = sel.note
        stale = StaleReport(sel.stale.max_age_days,
                            tuple(s for s in sel.stale.satellites if s.norad_id in ids))
    return CoverageResult(
        start=utc(start),
        end=utc(end),
        constraints=c,
        max_gsd_m=max_gsd_m,
        lat_deg=np.array([p.lat_deg for p in points]),
        lon_deg=np.array([p.lon_deg for p in points]),
        satellites=tuple(SatelliteRef(e.norad_id, e.name, is_hypothetical(e)) for e in chosen),
        windows=stats["windows"],
        accesses=stats["accesses"],
        covered_s=stats["covered_s"],
        first_access_s=stats["first_access_s"],
        max_gap_s=stats["max_gap_s"],
        revisit_mean_s=stats["revisit_mean_s"],
        revisit_max_s=stats["revisit_max_s"],
        best_gsd_m=stats["best_gsd_m"],
        interval_offsets=np.concatenate(([0], np.cumsum(stats["interval_counts"]))).astype(
            np.int64),
        interval_start=stats["interval_start"].view("datetime64[ns]"),
        interval_end=stats["interval_end"].view("datetime64[ns]"),
        sgp4_errors={k: v for k, v in errors.items() if k in ids},
        imaging=sel is not None and sel.imaging is not None and sel.imaging.sensor_rules,
        skipped=skipped,
        skipped_note=note,
        stale=stale,
    )


def coverage(
    elsets: Sequence[ElementSet],
    points: Sequence[Site],
    start: datetime,
    end: datetime,
    constraints: Constraints | None = None,
    *,
    max_gsd_m: float | None = None,
    sensors: Mapping[int, Sensor] | None = None,
    client: Any = None,
    plan: ShardPlan | None = None,
    progress: Progress | None = None,
    method: Method = "auto",
    imaging: bool = False,
    include_unknown: bool = False,
    kinds: Sequence[str] = (),
    countries: Sequence[str] = (),
    operators: Sequence[str] = (),
    max_age_days: float | None = None,
) -> CoverageResult:
    """Coverage of ``points`` by the fleet ``elsets`` over [start, end] (aware UTC).

    ``max_gsd_m``: count only the parts of windows where the resolution (from ``sensors``, by
    NORAD id; :meth:`Sensor.resolution_m`, as ``resolution_m`` of ``passes``) is at most this,
    m (:func:`overflight.passes.resolution_pieces`); satellites without a sensor entry then
    count for nothing (listed in the result's ``skipped``).
    ``client``: a ``distributed.Client`` to run the shards on (None: this process); the result
    is identical either way. ``progress(done, total)`` counts finished tasks.
    ``method``: "points" searches every point with the window engine; "field" treats the
    points as a field per satellite pass (grid-aware, same windows: counts equal, edges within
    10 ms; what it cannot settle goes to the engine); "auto" picks "field" for a compact set of
    many points such as a region's grid (:func:`resolve_method`). ``plan`` defaults to
    :data:`FIELD_PLAN` for the field method, else ``ShardPlan()``.

    As in ``passes``, each satellite counts only where its element set is usable: windows
    peaking more than ``max_age_days`` (default 14, ``freshness.REFUSE_AFTER_DAYS``) from the
    element set's epoch or before launch are refused, a satellite with nothing left is left
    out; all listed in the result's ``skipped`` (``skipped_note``), and the refused spans,
    where the statistics are not established, in its :attr:`~CoverageResult.incomplete`
    (``summary()["incomplete_s"]``).

    ``imaging``: each satellite only where its own sensor can image
    (:func:`overflight.passes.imaging_rule` on top of ``constraints``: its reach and lighting
    rule, a radar's incidence band and look side), resolution from its sensor; ``sensors``
    (default: the shipped table, non-imaging entries included) decides. Non-imagers and
    satellites the table does not know are left out (``include_unknown`` keeps the unknown
    ones, held to ``constraints``); listed in ``skipped`` too.
    ``kinds``/``countries``/``operators`` (and with ``imaging`` ``max_gsd_m``) are sensor
    filters (:func:`overflight.selection.filter_by_sensor`).
    """
    c = constraints or Constraints()
    _check(elsets, points, start, end, c, max_gsd_m)
    how = resolve_method(method, points)
    sel = _select(elsets, points, start, end, c, sensors, imaging=imaging,
                  include_unknown=include_unknown, kinds=kinds, max_gsd_m=max_gsd_m,
                  countries=countries, operators=operators, max_age_days=max_age_days)
    fleet = sel.elsets
    if not fleet:
        raise CoverageError(f"no satellite left to compute ({sel.note or 'none selected'})")
    mask = np.ones(len(fleet), dtype=bool)
    try:
        stats, errors = _run(fleet, points, start, end, c, [mask], max_gsd_m=max_gsd_m,
                             sensors=sel.sensors, client=client,
                             plan=plan or _default_plan(how), progress=progress, method=how,
                             imaging=sel.imaging)
    except CoverageInterrupted as stop:
        if stop._parts is not None:
            part, errors, index = stop._parts
            done = [points[i] for i in index.tolist()]
            stop.partial = _result(part[0], fleet, mask, done, start, end, c, max_gsd_m,
                                   errors, sel, elsets)
        raise
    return _result(stats[0], fleet, mask, points, start, end, c, max_gsd_m, errors, sel,
                   elsets)


def compare_coverage(
    baseline: Sequence[ElementSet],
    added: Sequence[ElementSet],
    points: Sequence[Site],
    start: datetime,
    end: datetime,
    constraints: Constraints | None = None,
    *,
    max_gsd_m: float | None = None,
    sensors: Mapping[int, Sensor] | None = None,
    client: Any = None,
    plan: ShardPlan | None = None,
    progress: Progress | None = None,
    method: Method = "auto",
    imaging: bool = False,
    include_unknown: bool = False,
    kinds: Sequence[str] = (),
    countries: Sequence[str] = (),
    operators: Sequence[str] = (),
    max_age_days: float | None = None,
) -> CoverageComparison:
    """Coverage by ``baseline`` and by ``baseline + added``, from one window computation
    (``method``, ``plan``, ``imaging``, the sensor filters and the refusal of windows more than
    ``max_age_days`` from an element set's epoch as for :func:`coverage`; hypothetical
    satellites are held to their own, synthetic epochs like any element set)."""
    c = constraints or Constraints()
    fleet = list(baseline) + list(added)
    _check(fleet, points, start, end, c, max_gsd_m)
    how = resolve_method(method, points)
    if not baseline or not added:
        raise CoverageError("a comparison needs a baseline fleet and added satellites")
    sel = _select(fleet, points, start, end, c, sensors, imaging=imaging,
                  include_unknown=include_unknown, kinds=kinds, max_gsd_m=max_gsd_m,
                  countries=countries, operators=operators, max_age_days=max_age_days)
    base_ids = {e.norad_id for e in baseline}
    base_mask = np.array([e.norad_id in base_ids for e in sel.elsets], dtype=bool)
    for what, m in (("baseline", base_mask), ("added", ~base_mask)):
        if not m.any():
            check_not_all_stale(baseline if what == "baseline" else added, sel.skipped,
                                start, end, max_age_days=REFUSE_AFTER_DAYS
                                if max_age_days is None else max_age_days)
            if what == "added":
                raise CoverageError(_no_added_note(added, sel.skipped))
            raise CoverageError(f"no {what} satellite left to compare "
                                f"({sel.note or 'none selected'})")
    all_mask = np.ones(len(sel.elsets), dtype=bool)

    def both(stats: list[dict[str, Any]], errors: Mapping[int, int], pts: Sequence[Site]
             ) -> CoverageComparison:
        return CoverageComparison(
            _result(stats[0], sel.elsets, base_mask, pts, start, end, c, max_gsd_m, errors,
                    sel, baseline),
            _result(stats[1], sel.elsets, all_mask, pts, start, end, c, max_gsd_m, errors,
                    sel, fleet),
        )

    try:
        stats, errors = _run(sel.elsets, points, start, end, c, [base_mask, all_mask],
                             max_gsd_m=max_gsd_m, sensors=sel.sensors, client=client,
                             plan=plan or _default_plan(how), progress=progress, method=how,
                             imaging=sel.imaging)
    except CoverageInterrupted as stop:
        if stop._parts is not None:
            part, errs, index = stop._parts
            stop.partial = both(part, errs, [points[i] for i in index.tolist()])
        raise
    return both(stats, errors, points)


@dataclass(frozen=True)
class _Selection:
    """The fleet a run computes, its sensors, (imaging) its rules, and who was left out."""

    elsets: list[ElementSet]
    sensors: Mapping[int, Sensor] | None
    imaging: _Imaging | None
    skipped: tuple[Skipped, ...]
    note: str | None = None
    """One line counting ``skipped`` by reason."""
    stale: StaleReport = field(default_factory=lambda: StaleReport(STALE_AFTER_DAYS, ()))
    """The plan's old (but used) element sets, each aged over its usable span."""


_NO_SENSOR_ENTRY_HINT = "the added satellites have no sensor entry (give them one in sensors)"
"""The end of the comparison's error when the added satellites were left out for want of a
sensor entry (the CLI names its option for it)."""


def _no_added_note(added: Sequence[ElementSet], skipped: Sequence[Skipped]) -> str:
    """Why none of ``added`` is left to compare: their own reasons, counted, and the remedy
    when they lack a sensor entry."""
    ids = {e.norad_id for e in added}
    counts: dict[str, set[int]] = {}
    for k in skipped:
        if k.norad_id in ids:
            counts.setdefault(k.reason, set()).add(k.norad_id)
    why = "; ".join(f"{reason}: {len(n)}" for reason, n in sorted(counts.items()))
    text = (f"no added satellite left to compare ({len(ids)} added, left out by reason: "
            f"{why or 'none selected'})")
    if any("no sensor entry" in r or "not in the sensor table" in r for r in counts):
        text += f"; {_NO_SENSOR_ENTRY_HINT}"
    return text


def _select(elsets: Sequence[ElementSet], points: Sequence[Site], start: datetime,
            end: datetime, c: Constraints, sensors: Mapping[int, Sensor] | None, *,
            imaging: bool, include_unknown: bool, kinds: Sequence[str],
            max_gsd_m: float | None, countries: Sequence[str], operators: Sequence[str],
            max_age_days: float | None) -> _Selection:
    """The fleet to compute, as the passes plan's (:func:`overflight.passes.plan_elements`):
    satellites held to their usable spans (windows peaking more than ``max_age_days``, default
    14, from the element set's epoch or before launch refused; none left: left out), and with
    ``imaging`` the sensor filters and rules. Without ``imaging`` every satellite keeps the
    request's constraints and, when any span leaves out part of the interval, a plain rule
    carries its span (else no rules: the fleet is computed as a whole); the satellites
    ``max_gsd_m`` cannot count are listed.

    The one place coverage reaches up into the shared layer: the imaging rules and the
    refusals have one home, ``overflight.passes``."""
    from overflight.freshness import Skipped, check_max_age_days
    from overflight.passes import SatelliteRule, plan_elements

    try:
        limit = check_max_age_days(REFUSE_AFTER_DAYS if max_age_days is None else max_age_days)
    except OverflightError as exc:
        raise CoverageError(str(exc)) from None
    if not imaging:
        given = [name for name, v in (("include_unknown", include_unknown), ("kinds", kinds),
                                      ("countries", countries), ("operators", operators)) if v]
        if given:
            raise CoverageError(f"{', '.join(given)}: only with imaging=True")
        p = plan_elements(elsets, points, start, end, c, sensors={}, max_age_days=limit)
        kept = list(p.elsets)
        spans = list(p.spans)
        notes = [p.skipped_note()] if p.skipped else []
        unknown = ([] if max_gsd_m is None else
                   [e for e in kept if sensors is None or sensors.get(e.norad_id) is None])
        if unknown:
            notes.append(f"max_gsd_m: {len(unknown)} of {len(kept)} satellites have no sensor "
                         "entry and count for nothing")
        skipped = p.skipped + tuple(
            Skipped(e.norad_id, e.name, "no sensor entry: counts for nothing with "
                    f"max_gsd_m = {max_gsd_m:g}") for e in unknown)
        if max_gsd_m is not None:
            # As passes: satellites that count for nothing are not computed, and those whose
            # orbit never brings the resolution within the limit are left out with the reason
            # (the prefilter of overflight.selection.filter_by_sensor).
            from overflight.selection import filter_by_sensor

            none = {id(e) for e in unknown}
            known = [i for i, e in enumerate(kept) if id(e) not in none]
            reach, dropped = filter_by_sensor([kept[i] for i in known], sensors or {},
                                              max_gsd_m=max_gsd_m)
            ok = {id(e) for e in reach}
            keep_i = [i for i in known if id(kept[i]) in ok]
            kept, spans = [kept[i] for i in keep_i], [spans[i] for i in keep_i]
            skipped += tuple(dropped)
            if dropped:
                notes.append(f"max_gsd_m: {len(dropped)} satellites cannot reach "
                             f"{max_gsd_m:g} m from their orbit")
        rules = None
        if any(_partial(sp, start, end) is not None for sp in spans):
            plain = SatelliteRule(c)
            rules = _Imaging((plain,) * len(kept), tuple(spans), sensor_rules=False)
        return _Selection(kept, sensors, rules, skipped, "; ".join(n for n in notes if n)
                          or None, p.stale)
    from overflight.sensors import load_table

    table = load_table() if sensors is None else sensors
    p = plan_elements(elsets, points, start, end, c, imaging=True,
                      include_unknown=include_unknown, sensors=table, kinds=kinds,
                      max_gsd_m=max_gsd_m, countries=countries, operators=operators,
                      max_age_days=limit)
    return _Selection(list(p.elsets), table, _Imaging(p.rules, p.spans), p.skipped,
                      p.skipped_note(), p.stale)


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: connected to ``scheduler`` (``tcp://host:port`` or
    ``tls://host:port``, :func:`scheduler_address`; one that does not answer as a Dask scheduler
    within :data:`SCHEDULER_TIMEOUT_S` is a :class:`CoverageError`), else (None or ``local``) on
    a new local cluster of ``workers`` single-threaded processes (default: one per CPU)."""
    import os

    dist = _distributed()
    client_cls, cluster_cls = dist.Client, dist.LocalCluster
    address = scheduler_address(scheduler) if scheduler else "local"
    if address != "local":
        _probe_scheduler(address)
        try:
            client = client_cls(address, timeout=f"{SCHEDULER_TIMEOUT_S:g}s")
        except (OSError, TimeoutError) as exc:
            raise CoverageError(f"cannot connect to Dask scheduler {address}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    import dask

    n = workers or max(1, len(os.sched_getaffinity(0)))
    # Everything on loopback: the scheduler, its workers and its HTTP endpoint (any free port,
    # not 8787, dashboard off); nothing of a local cluster listens on other interfaces.
    with _quiet_on_interrupt() as quiet, dask.config.set(WORKER_MALLOC_ENV), cluster_cls(
        n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
    ) as cluster, client_cls(cluster) as client:
        try:
            yield client
        except KeyboardInterrupt:
            quiet.on = True
            _kill_workers(cluster)
            raise


class _QuietFilter:
    """A logging filter dropping Dask's (and its Tornado loop's) records once ``on``: a
    cluster torn down on Ctrl-C (or SIGTERM) says nothing. Installed before the cluster
    starts; switching it on takes no lock (changing logger levels during the close could
    hang)."""

    def __init__(self) -> None:
        self.on = False

    def filter(self, record: Any) -> bool:
        return not (self.on and record.name.startswith(("distributed", "tornado")))


@contextmanager
def _quiet_on_interrupt() -> Iterator[_QuietFilter]:
    """A :class:`_QuietFilter` on the handlers of the ``distributed`` and root loggers and on
    ``logging.lastResort`` (Tornado's loggers have no handler) for the block (off until
    switched on)."""
    import logging

    quiet = _QuietFilter()
    handlers = [*logging.getLogger("distributed").handlers, *logging.getLogger().handlers,
                *([logging.lastResort] if logging.lastResort is not None else [])]
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield quiet
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


INTERRUPT_CLOSE_S = 0.5
"""On Ctrl-C a local cluster's workers get this long to stop (seconds); the busy ones, which
would finish their task first, are then killed. Dask's own close waits 4 s for each."""


def _kill_workers(cluster: Any) -> None:
    """Close ``cluster``'s worker processes within :data:`INTERRUPT_CLOSE_S` (a local cluster
    after Ctrl-C: their results are not wanted). Best effort: the cluster's own close follows."""
    import asyncio

    async def close_all() -> None:
        await asyncio.gather(*(w.close(timeout=INTERRUPT_CLOSE_S)
                               for w in list(cluster.workers.values())),
                             return_exceptions=True)

    with suppress(Exception):
        cluster.sync(close_all, callback_timeout=10 * INTERRUPT_CLOSE_S)


def scheduler_address(text: str, name: str = "scheduler") -> str:
    """``text`` as a Dask scheduler address: ``local`` (a local cluster), or
    ``tcp://HOST:PORT`` / ``tls://HOST:PORT`` (port 1–65535; an IPv6 host in brackets);
    anything else is a one-line :class:`CoverageError` naming ``name``."""
    from urllib.parse import urlsplit

    given = text.strip()
    if given == "local":
        return given
    usage = "give local, tcp://HOST:PORT or tls://HOST:PORT"
    try:
        parts = urlsplit(given)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise CoverageError(f"{name} {text!r}: port must be 1-65535; {usage}") from None
    if parts.scheme not in ("tcp", "tls") or "://" not in given:
        raise CoverageError(f"{name} {text!r}: not a scheduler address; {usage}")
    if (not host or port is None or not 1 <= port <= 65535 or parts.username is not None
            or parts.password is not None or parts.path or parts.query or parts.fragment):
        raise CoverageError(f"{name} {text!r}: needs a host and a port 1-65535 and nothing "
                            f"else; {usage}")
    return given


def _probe_scheduler(address: str) -> None:
    """Ask ``address`` who it is (Dask's ``identity``), within :data:`SCHEDULER_TIMEOUT_S`:
    ``distributed.Client`` would wait for ever on something that accepts connections but is
    not a Dask scheduler. The question runs on its own thread and event loop, so a caller's
    loop (Jupyter) is not disturbed and a peer that never answers is simply left behind."""
    import asyncio
    import threading

    answer: dict[str, Any] = {}

    async def ask() -> Any:
        from importlib import import_module

        connect: Any = import_module("distributed.comm").connect
        security: Any = import_module("distributed.security").Security()
        # Its own deadline a little shorter, so that a refusal says so (not "no answer").
        comm = await connect(address, timeout=0.8 * SCHEDULER_TIMEOUT_S,
                             **security.get_connection_args("client"))
        try:
            await comm.write({"op": "identity", "reply": True})
            return await asyncio.wait_for(comm.read(), SCHEDULER_TIMEOUT_S)
        finally:
            comm.abort()

    def run() -> None:
        try:
            answer["reply"] = asyncio.run(ask())
        except BaseException as exc:  # handed to the caller as one line
            answer["error"] = exc

    thread = threading.Thread(target=run, name="overflight-scheduler-probe", daemon=True)
    thread.start()
    thread.join(SCHEDULER_TIMEOUT_S)
    if thread.is_alive():
        raise CoverageError(f"no answer from a Dask scheduler at {address} within "
                            f"{SCHEDULER_TIMEOUT_S:g} s (is it a Dask scheduler?)")
    if "error" in answer:
        exc = answer["error"]
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CoverageError(f"cannot connect to Dask scheduler {address}: {detail}")
    reply = answer.get("reply")
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise CoverageError(f"{address} is not a Dask scheduler")


def _distributed() -> Any:
    """The ``distributed`` module (optional dependency: the ``cluster`` extra)."""
    from importlib import import_module

    try:
        return import_module("distributed")
    except ImportError:
        raise CoverageError("Dask is not installed: pip install 'overflight[cluster]'") from None
