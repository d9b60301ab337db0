"""A passes request resolved once for every frontend (``overflight passes``/``watch``, the
service's ``/api/passes``, ``/api/watch`` and passes jobs): constraints, interval, sites,
satellite selection and element-set staleness checked in one order with one set of messages;
windows in one display order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from overflight.constants import WGS72_RADIUS_KM
from overflight.errors import OverflightError
from overflight.freshness import (
    REFUSE_AFTER_DAYS,
    STALE_AFTER_DAYS,
    Skipped,
    StaleReport,
    check_max_age_days,
    stale_elements,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from overflight.access import Constraints, Window, WindowTable
    from overflight.areas import Area, AreaSample, AreaWindow
    from overflight.catalog import Catalog
    from overflight.elements import ElementSet
    from overflight.footprints import Footprint
    from overflight.geometry import Site
    from overflight.sensors import Sensor
    from overflight.workload import Workload

__all__ = [
    "IMAGING_DISPLAY_COLUMNS",
    "SHARD_SATELLITES",
    "WATCH_GROUP",
    "WATCH_MAX_OFF_NADIR_DEG",
    "WINDOW_DISPLAY_COLUMNS",
    "PassPlan",
    "PassesError",
    "SatelliteRule",
    "checked_constraints",
    "clip_note",
    "cut_resolution",
    "imaging_rule",
    "look_sides",
    "plan_elements",
    "plan_passes",
    "resolution_pieces",
    "search_end",
    "span_text",
    "window_dict",
    "window_display_row",
]

WATCH_GROUP = "resource"
"""The group an overflight-warning timeline (``watch``) uses when no satellite is selected."""
SHARD_SATELLITES = 256
"""Satellites per task when a passes job runs on a Dask cluster (a few seconds of work for a
day over 100 sites, so progress moves and a cancelled job stops soon)."""
WATCH_MAX_OFF_NADIR_DEG = 45.0
"""The off-nadir limit of an overflight-warning timeline unless one is given, degrees."""


SEARCH_MARGIN_DAYS = 1.0
"""How far past a satellite's usable span its window search goes, days: far longer than any
window of a satellite of at most :data:`SHORT_PERIOD_MIN` (minutes for low orbits, hours at
12 h), so every window whose peak is inside the span is found whole, as over the interval."""
SHORT_PERIOD_MIN = 720.0
"""Satellites of a shorter period have their search stopped past their span (longer ones, such
as geostationary ones, can keep a site in view for days: searched over the whole interval)."""


def search_end(elsets: Sequence[ElementSet], span_end: datetime, end: datetime) -> datetime:
    """Where the window search of ``elsets`` can stop when no window peaking after
    ``span_end`` is kept: :data:`SEARCH_MARGIN_DAYS` past it for short-period satellites
    (:data:`SHORT_PERIOD_MIN`), else ``end``; never past ``end``. Stale element sets refused
    after their 14th day then cost 14 days of search, not the whole interval's."""
    from datetime import timedelta

    if not elsets or any(e.period_min > SHORT_PERIOD_MIN for e in elsets):
        return end
    return min(end, span_end + timedelta(days=SEARCH_MARGIN_DAYS))


class PassesError(OverflightError):
    """A passes request that cannot be computed (no sites, too many sites)."""


def checked_constraints(
    *,
    min_elevation_deg: float | None = None,
    max_off_nadir_deg: float | None = None,
    max_range_km: float | None = None,
    sun_min_deg: float | None = None,
    sun_max_deg: float | None = None,
    sunlit: bool | None = None,
    min_duration_s: float = 0.0,
) -> Constraints:
    """Checked window constraints (AccessError for impossible ones)."""
    from overflight.access import Constraints

    c = Constraints(min_elevation_deg=min_elevation_deg, max_off_nadir_deg=max_off_nadir_deg,
                    max_range_km=max_range_km, sun_min_deg=sun_min_deg,
                    sun_max_deg=sun_max_deg, sunlit=sunlit, min_duration_s=min_duration_s)
    c.validate()
    return c


@dataclass(frozen=True)
class SatelliteRule:
    """How one satellite's windows are found: the engine's ``constraints``, and for radar the
    highest elevation of its incidence band (``90° − incidence_min_deg``; the engine has no
    upper elevation limit, so windows are cut there afterwards) and the side it looks to."""

    constraints: Constraints
    max_elevation_deg: float | None = None
    look_side: str | None = None


def imaging_rule(sensor: Sensor, base: Constraints) -> SatelliteRule:
    """A sensor's own window rule on top of ``base`` (the request's constraints).

    Optical kinds: off-nadir at most the sensor's reach (and ``base``'s limit), Sun elevation at
    the site at least its ``sun_rule_deg`` (and ``base``'s ``sun_min_deg``). Radar: incidence
    (≈ 90° − elevation at the site) within its band on its look side; no lighting rule (the
    request's Sun limits are for daylight sensors only). Thermal infrared: reach, no Sun rule.
    """
    c = base
    if sensor.is_radar:
        c = replace(c, sun_min_deg=None, sun_max_deg=None, sunlit=None)
        lo, hi = sensor.incidence_min_deg, sensor.incidence_max_deg
        if lo is None and hi is None:
            return SatelliteRule(replace(c, max_off_nadir_deg=_tighter(
                c.max_off_nadir_deg, sensor.max_off_nadir_deg)))
        min_el = c.effective_min_elevation_deg()
        if hi is not None:
            min_el = max(min_el, 90.0 - hi)
        side = sensor.look_side if sensor.look_side in ("left", "right") else None
        return SatelliteRule(replace(c, min_elevation_deg=min_el),
                             None if lo is None or lo <= 0 else 90.0 - lo, side)
    c = replace(c, max_off_nadir_deg=_tighter(c.max_off_nadir_deg, sensor.max_off_nadir_deg))
    rule = sensor.sun_rule_deg
    if rule is None:
        c = replace(c, sun_min_deg=None, sun_max_deg=None)
    elif c.sun_min_deg is None or c.sun_min_deg < rule:
        c = replace(c, sun_min_deg=rule)
    return SatelliteRule(c)


def _tighter(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


@dataclass(frozen=True)
class PassPlan:
    """A checked passes request: what will be computed, and what to warn about."""

    elsets: list[ElementSet]
    sites: list[Site]
    start: datetime
    end: datetime
    constraints: Constraints
    stale: StaleReport
    problems: tuple[str, ...] = ()
    imaging: bool = False
    sensors: Mapping[int, Sensor] = field(default_factory=dict)
    rules: tuple[SatelliteRule, ...] = ()
    spans: tuple[tuple[datetime, datetime] | None, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    max_age_days: float = REFUSE_AFTER_DAYS
    max_gsd_m: float | None = None

    @property
    def days(self) -> float:
        """Length of the interval, days."""
        return (self.end - self.start).total_seconds() / 86400.0

    @property
    def usable_days(self) -> float:
        """Mean length of the satellites' usable spans (what is searched and given; the
        interval's length when nothing is refused), days."""
        if not self.spans or not self.elsets:
            return self.days
        return sum(((sp[1] - sp[0]).total_seconds() / 86400.0 if sp is not None else 0.0)
                   for sp in self.spans) / len(self.spans)

    @property
    def work(self) -> float:
        """Satellites × sites × days: what the request costs."""
        return len(self.elsets) * len(self.sites) * self.days

    def key(self) -> tuple[Any, ...]:
        """Identifies the request's content (element sets by content, sites by position)."""
        return (
            tuple(e.key for e in self.elsets),
            tuple((s.name, s.lat_deg, s.lon_deg, s.alt_m) for s in self.sites),
            self.start, self.end, self.constraints, self.imaging, self.rules, self.spans,
            self.max_gsd_m,
        )

    def warnings(self, how: str | None = None) -> list[str]:
        """Warning lines: rejected file records, then stale element sets (``how``: the
        frontend's hint for importing fresh data)."""
        return [*self.problems, *([self.stale.message(how)] if self.stale else [])]

    def skipped_note(self) -> str | None:
        """One line counting the satellites left out (wholly or partly) by reason, or None."""
        if not self.skipped:
            return None
        if len({k.norad_id for k in self.skipped}) <= 3:
            return "left out: " + "; ".join(
                f"{k.name} ({k.norad_id}): {k.reason}" + (
                    f" ({k.start:%Y-%m-%d %H:%M}Z → {k.end:%Y-%m-%d %H:%M}Z)"
                    if k.start is not None and k.end is not None else "")
                for k in self.skipped)
        counts: dict[str, set[int]] = {}
        for k in self.skipped:
            counts.setdefault(k.reason.split(":")[0].split(" (")[0], set()).add(k.norad_id)
        parts = "; ".join(f"{why}: {len(ids)}" for why, ids in sorted(counts.items()))
        return f"satellites left out (wholly or partly), by reason: {parts}"

    def rule(self, i: int) -> SatelliteRule:
        """The window rule of ``elsets[i]``."""
        return self.rules[i] if self.rules else SatelliteRule(self.constraints)

    @property
    def windows_per_unit(self) -> float:
        """Expected windows per satellite × site × day: each satellite's rule's reach, averaged
        over the fleet (:func:`overflight.workload.windows_per_unit`)."""
        from overflight.workload import windows_per_unit

        if not self.rules:
            return windows_per_unit(self.constraints)
        cones: dict[Constraints, float] = {}
        for r in self.rules:
            if r.constraints not in cones:
                cones[r.constraints] = windows_per_unit(r.constraints)
        return sum(cones[r.constraints] for r in self.rules) / len(self.rules)

    def workload(self, *, cores: int = 1, written: bool = True,
                 job: str = "passes") -> Workload:
        """What computing (and, ``written``, writing) the windows costs
        (:func:`overflight.workload.windows_workload`; ``job="area"``: the windows of
        :meth:`area_points`'s plan, combined into area windows; ``job="exposure"``:
        :func:`~overflight.workload.exposure_workload`), each satellite at its own rule's reach
        and over its usable span (:attr:`usable_days`: the search stops past it,
        :func:`search_end`)."""
        from overflight.workload import exposure_workload, windows_workload

        if job == "exposure":
            return exposure_workload(len(self.elsets), len(self.sites), self.usable_days,
                                     self.constraints, cores=cores,
                                     per_unit=self.windows_per_unit, imaging=self.imaging,
                                     cut=self.max_gsd_m is not None)
        return windows_workload(len(self.elsets), len(self.sites), self.usable_days,
                                self.constraints,
                                cores=cores, written=written, per_unit=self.windows_per_unit,
                                imaging=self.imaging, area=job == "area",
                                cut=self.max_gsd_m is not None)

    def subplan(self, members: Sequence[int]) -> PassPlan:
        """The same request for ``elsets[i]`` for ``i`` in ``members`` only."""
        return replace(self, elsets=[self.elsets[i] for i in members],
                       rules=tuple(self.rules[i] for i in members) if self.rules else (),
                       spans=tuple(self.spans[i] for i in members) if self.spans else ())

    def tables(self, *, batch_size: int = 512, workers: int | None = 1,
               progress: Callable[[int, int], None] | None = None, client: Any = None,
               shard_satellites: int = SHARD_SATELLITES) -> Any:
        """The windows as :class:`~overflight.access.WindowTable` parts, one per batch.

        ``client``: a ``distributed.Client`` (:func:`overflight.coverage.dask_client`); the
        satellites are then sharded ``shard_satellites`` at a time over its workers, and the
        parts come back in shard order as they finish (the rows are those of one process).
        ``progress(done, total)`` counts satellites whose windows are complete."""
        if client is not None and self.elsets:
            return self._cluster_tables(client, shard_satellites, progress)
        return self._tables(batch_size, workers, progress)

    def _cluster_tables(self, client: Any, shard: int,
                        progress: Callable[[int, int], None] | None) -> Iterator[WindowTable]:
        import numpy as np

        if shard < 1:
            raise PassesError(f"shard_satellites: must be at least 1, not {shard}")
        n = len(self.elsets)
        shards = [np.arange(lo, min(n, lo + shard), dtype=np.int64) for lo in range(0, n, shard)]
        futures = [client.submit(_shard_table, self.subplan(idx.tolist()), pure=False)
                   for idx in shards]
        done = 0
        try:
            for idx, fut in zip(shards, futures, strict=True):
                part: WindowTable = fut.result()
                part.sat_index = idx[part.sat_index]
                done += idx.size
                if progress is not None:
                    progress(done, n)
                yield part
        except BaseException:
            client.cancel(futures)
            raise

    def _tables(self, batch_size: int, workers: int | None,
                progress: Callable[[int, int], None] | None) -> Iterator[WindowTable]:
        import numpy as np

        from overflight.access import iter_window_tables

        groups: dict[tuple[SatelliteRule, bool], list[int]] = {}
        for i, e in enumerate(self.elsets):
            groups.setdefault((self.rule(i), e.period_min <= SHORT_PERIOD_MIN), []).append(i)
        done = 0
        total = len(self.elsets)
        for (rule, _short), members in groups.items():
            idx = np.array(members, dtype=np.int64)
            sub = [self.elsets[i] for i in members]
            base = done
            end = self.end
            if self.spans:  # the search stops a margin past the group's last usable time
                last = max((sp[1] for sp in (self.spans[i] for i in members) if sp is not None),
                           default=self.end)
                end = search_end(sub, last, self.end)

            def step(d: int, _t: int, base: int = base) -> None:
                if progress is not None:
                    progress(base + d, total)

            inner = None
            if rule.max_elevation_deg is not None:
                inner = _window_table(sub, self.sites, self.start, end,
                                      _geometry_only(rule.max_elevation_deg))
                inner.sat_index = idx[inner.sat_index]
            for part in iter_window_tables(sub, self.sites, self.start, end,
                                           rule.constraints, batch_size=batch_size,
                                           workers=workers, progress=step):
                part.sat_index = idx[part.sat_index]
                if inner is not None:
                    part = _cut_band(part, inner, self.elsets, self.sites,
                                     rule.constraints.min_duration_s)
                if rule.look_side is not None and len(part):
                    part = part.take(np.flatnonzero(
                        look_sides(part, self.elsets, self.sites) == rule.look_side))
                if self.max_gsd_m is not None:
                    part = cut_resolution(part, self.elsets, self.sites, self.sensors,
                                          self.max_gsd_m, rule.constraints.min_duration_s,
                                          rule.constraints)
                yield self._within_spans(part)
            done += len(members)

    def _within_spans(self, table: WindowTable) -> WindowTable:
        """Rows whose peak is inside its satellite's usable span (element-set age, launch)."""
        import numpy as np

        if not self.spans or not len(table):
            return table
        from overflight.times import to_datetime64

        # Only this batch's satellites: converting every span of a 10,000-satellite fleet for
        # each batch took 30 s of a 25-s Starlink job (docs/benchmarks.md, job estimates).
        far = np.datetime64("1900-01-01T00:00:00", "ns")
        present, k = np.unique(table.sat_index, return_inverse=True)
        spans = [self.spans[i] for i in present.tolist()]
        lo = np.array([far if sp is None else to_datetime64(sp[0])[0] for sp in spans],
                      dtype="datetime64[ns]")
        hi = np.array([far if sp is None else to_datetime64(sp[1])[0] for sp in spans],
                      dtype="datetime64[ns]")
        return table.take(np.flatnonzero((table.peak >= lo[k]) & (table.peak <= hi[k])))

    def rule_of(self, norad_id: int) -> SatelliteRule:
        """The window rule of the satellite ``norad_id`` (the plan's constraints if unknown)."""
        for i, e in enumerate(self.elsets):
            if e.norad_id == norad_id:
                return self.rule(i)
        return SatelliteRule(self.constraints)

    def area_windows(self, area: Area, *, mode: str = "any",
                     sensors: Mapping[int, Sensor] | None = None,
                     spacing_km: float | None = None,
                     workers: int | None = 1) -> list[AreaWindow]:
        """Windows of the plan's satellites over ``area`` (``mode`` "any" or "all"; see
        :func:`overflight.areas.area_windows`), with each satellite's own rule: the windows
        of the area's sample points come from :meth:`tables` (the same rule groups, radar
        band cut, look side and usable spans as for sites), so reach, lighting and
        ``area_fraction`` are the satellite's own. ``min_duration_s`` applies to the area
        windows; imaging fields (``extra``) are those of the point seen highest. GSD where
        ``sensors`` knows the satellite."""
        from overflight.access import WindowTable
        from overflight.areas import _check_mode

        _check_mode(mode)
        if not self.elsets:  # every satellite refused or filtered out: no windows, as for sites
            return []
        points, samples = self.area_points([area], spacing_km=spacing_km)
        table = WindowTable.concat(list(points.tables(workers=workers)))
        return self.combine_area_windows(points, samples, table, mode=mode,
                                         sensors=sensors)[0]

    def area_points(self, areas: Sequence[Area], *, spacing_km: float | None = None
                    ) -> tuple[PassPlan, list[AreaSample]]:
        """The same request over the sample points of ``areas`` (one after the other, each
        :func:`overflight.areas.sample_area`) instead of the sites, with no minimum duration
        (it applies to the area windows), and the samples. Its :meth:`workload` is the area
        job's (the points count as sites); :meth:`combine_area_windows` turns its windows into
        area windows."""
        from overflight.areas import sample_area

        samples = [sample_area(a, spacing_km) for a in areas]

        def pointwise(c: Constraints) -> Constraints:
            return replace(c, min_duration_s=0.0)

        return replace(self, sites=[s for sample in samples for s in sample.sites()],
                       constraints=pointwise(self.constraints),
                       rules=tuple(replace(r, constraints=pointwise(r.constraints))
                                   for r in self.rules)), samples

    def combine_area_windows(self, points: PassPlan, samples: Sequence[AreaSample],
                             table: WindowTable, *, mode: str = "any",
                             sensors: Mapping[int, Sensor] | None = None
                             ) -> list[list[AreaWindow]]:
        """The windows of each of ``samples`` (one list per area, sorted by start) from
        ``table``, the windows of :meth:`area_points`'s plan ``points`` (any subset of its
        satellites, e.g. those done before Ctrl-C); see :meth:`area_windows`."""
        import numpy as np

        from overflight.areas import _check_mode, combine_point_windows
        from overflight.export import rows_from_columns

        _check_mode(mode)
        out: list[list[AreaWindow]] = []
        first = 0
        for sample in samples:
            rows = np.flatnonzero((table.site_index >= first)
                                  & (table.site_index < first + len(sample)))
            part = table.take(rows)
            part.site_index = part.site_index - first
            first += len(sample)
            extras = list(rows_from_columns(points.extra_columns(part))) if len(part) else []
            out.append(combine_point_windows(part, self.elsets, sample, mode=mode,
                                             sensors=dict(sensors or {}),
                                             min_duration_s=self.constraints.min_duration_s,
                                             extras=extras))
        return out

    def footprints(self, windows: Sequence[Window],
                   sensors: Mapping[int, Sensor] | None = None) -> list[Footprint]:
        """:func:`overflight.footprints.window_footprints` of ``windows`` (same order), each
        with its satellite's rule (imaging plans: the sensor's reach and elevation limit)."""
        from overflight.footprints import window_footprints

        out: list[Footprint | None] = [None] * len(windows)
        groups: dict[SatelliteRule, list[int]] = {}
        for i, w in enumerate(windows):
            groups.setdefault(self.rule_of(w.norad_id), []).append(i)
        for rule, members in groups.items():
            fps = window_footprints([windows[i] for i in members], self.elsets,
                                    rule.constraints, sensors=dict(sensors or {}))
            for i, fp in zip(members, fps, strict=True):
                out[i] = fp
        return [fp for fp in out if fp is not None]

    def extra_columns(self, table: WindowTable) -> dict[str, list[Any]]:
        """Columns beyond :meth:`Window.to_dict`'s: ``elset_age_days`` (peak − element-set
        epoch, days; negative before the epoch); where the sensor table knows an imager
        ``sensor``, ``sensor_kind``, ``resolution_m`` (:meth:`Sensor.resolution_m` at the
        peak), and for radar ``incidence_deg`` (at the peak) and ``look_side`` (else None)."""
        import numpy as np

        epochs = np.array([np.datetime64(e.epoch.replace(tzinfo=None), "us")
                           for e in self.elsets], dtype="datetime64[us]")
        k = table.sat_index
        age = (table.peak.astype("datetime64[us]") - epochs[k]).astype(np.int64) / 86.4e9
        cols: dict[str, list[Any]] = {"elset_age_days": [round(a, 3) for a in age.tolist()]}
        n = len(table)
        sensor: list[Any] = [None] * n
        kind: list[Any] = [None] * n
        res: list[Any] = [None] * n
        inc: list[Any] = [None] * n
        side: list[Any] = [None] * n
        from overflight.gsd import gsd as gsd_model

        rng, inc_deg = table.peak_range_km, table.peak_incidence_deg
        radar_rows: list[int] = []
        # Per satellite, not per row: the optical resolution model runs on all its rows at once.
        for j, e in enumerate(self.elsets):
            s = self.sensors.get(e.norad_id)
            if s is None or not s.is_imager:
                continue
            rows = np.flatnonzero(k == j)
            if rows.size == 0:
                continue
            label = s.sensor or s.name
            for i in rows.tolist():
                sensor[i], kind[i] = label, s.kind
            if s.is_radar:
                radar_rows += rows.tolist()
                for i in rows.tolist():
                    r = s.resolution_m(float(rng[i]), float(inc_deg[i]))
                    res[i] = None if r is None else round(r, 3)
                    inc[i] = round(float(inc_deg[i]), 3)
            else:  # Sensor.resolution_m of an optical kind is its gsd_m: the same model
                mean_m = np.asarray(gsd_model(s.nadir_gsd_m, s.ref_alt_km, rng[rows],
                                              inc_deg[rows]).mean_m)
                for i, v in zip(rows.tolist(), mean_m.tolist(), strict=True):
                    res[i] = None if v != v else round(v, 3)
        if radar_rows:
            radar_rows.sort()
            sides = look_sides(table.take(np.array(radar_rows, dtype=np.int64)), self.elsets,
                               self.sites)
            for i, v in zip(radar_rows, sides.tolist(), strict=True):
                side[i] = v
        cols.update({"sensor": sensor, "sensor_kind": kind, "resolution_m": res,
                     "incidence_deg": inc, "look_side": side})
        return cols

    def display_order(self, table: WindowTable) -> npt.NDArray[np.int64]:
        """Row order of ``table`` for display: by start, then site name, then NORAD id."""
        import numpy as np

        names = np.array([s.name for s in self.sites], dtype=str)
        site_rank = np.unique(names, return_inverse=True)[1].reshape(-1)
        sat_rank = np.array([e.norad_id for e in self.elsets], dtype=np.int64)
        # The indexes last: rows equal in the keys above keep one order whatever the batching.
        order: npt.NDArray[np.int64] = np.lexsort(
            (table.end, table.site_index, table.sat_index, sat_rank[table.sat_index],
             site_rank[table.site_index], table.start))
        return order

    def to_windows(self, table: WindowTable, *,
                   sensors: dict[int, Any] | None = None) -> list[Window]:
        """:class:`~overflight.access.Window` objects of ``table``'s rows, in their order."""
        from overflight.access import table_to_windows
        from overflight.export import rows_from_columns

        windows = table_to_windows(table, self.elsets, self.sites, sensors=sensors)
        extras = rows_from_columns(self.extra_columns(table))
        return [replace(w, extra=x) for w, x in zip(windows, extras, strict=True)]

    def table(self, *, batch_size: int = 512, workers: int | None = 1,
              progress: Callable[[int, int], None] | None = None,
              client: Any = None) -> WindowTable:
        """Every window as one :class:`~overflight.access.WindowTable`, in display order
        (``client``: on a Dask cluster, as :meth:`tables`)."""
        return self.ordered(list(self.tables(batch_size=batch_size, workers=workers,
                                             progress=progress, client=client)))

    def ordered(self, parts: Sequence[WindowTable]) -> WindowTable:
        """``parts`` of :meth:`tables` as one table in display order.

        Display order is by start time over every satellite, and each part holds a batch of
        satellites over the whole interval, so no row can be shown before the last part is in;
        the parts are columnar (about 100 bytes a window) and the writers turn them into text
        in blocks (:func:`overflight.export.window_column_blocks`)."""
        from overflight.access import WindowTable

        table = WindowTable.concat(list(parts))
        return table.take(self.display_order(table))

    def windows(self, *, sensors: dict[int, Any] | None = None, batch_size: int = 512,
                workers: int | None = 1,
                progress: Callable[[int, int], None] | None = None,
                client: Any = None) -> list[Window]:
        """Every window in display order (GSD where ``sensors`` knows the satellite;
        ``client``: on a Dask cluster, as :meth:`tables`)."""
        table = self.table(batch_size=batch_size, workers=workers, progress=progress,
                           client=client)
        return self.to_windows(table, sensors=sensors)


def plan_passes(
    *,
    sats: Sequence[str] = (),
    groups: Sequence[str] = (),
    files: Sequence[str | Path] = (),
    sites: Sequence[str] = (),
    site_files: Sequence[str | Path] = (),
    all_sites: bool = False,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    days: float | None = None,
    constraints: Constraints | None = None,
    default_groups: Sequence[str] = (),
    db: str | Path | None = None,
    catalog: Catalog | None = None,
    max_sites: int | None = None,
    max_age_days: float = REFUSE_AFTER_DAYS,
    warn_age_days: float = STALE_AFTER_DAYS,
    imaging: bool = False,
    include_unknown: bool = False,
    sensors: Mapping[int, Sensor] | None = None,
    kinds: Sequence[str] = (),
    max_gsd_m: float | None = None,
    countries: Sequence[str] = (),
    operators: Sequence[str] = (),
    owners: Sequence[str] | None = None,
    object_types: Sequence[str] | None = None,
) -> PassPlan:
    """Check a passes request and resolve what to compute.

    ``sats``/``groups``/``files``/``default_groups``/``db``/``catalog`` as in
    :func:`overflight.selection.select_elements`; ``sites`` named sites or ``LAT,LON[,ALT_M]``,
    ``site_files`` sites files, ``all_sites`` every shipped named site (duplicates dropped);
    ``start``/``end``/``days`` as in :func:`overflight.times.resolve_interval`. Element sets
    more than ``warn_age_days`` from the interval are reported in ``stale``; windows whose peak
    is more than ``max_age_days`` from the element set's epoch, or before the launch year, are
    refused (the satellite listed in ``skipped``).

    ``imaging``: each satellite's own sensor rule (:func:`imaging_rule`, ``sensors`` or the
    shipped table); satellites that do not image, or that the table does not know, are left
    out and listed in ``skipped`` (``include_unknown`` keeps the unknown ones, geometry only),
    and windows after a satellite's imaging mission ended (``Sensor.imaging_ended``) are
    refused as those too far from the element set's epoch are.
    ``kinds``/``max_gsd_m``/``countries``/``operators``: sensor filters
    (:func:`overflight.selection.filter_by_sensor`), in either mode; ``max_gsd_m`` (m) also
    keeps only the parts of windows where the resolution is that fine
    (:func:`cut_resolution`).
    ``owners``/``object_types`` narrow the selection
    (:func:`overflight.selection.filter_elements`).
    """
    from overflight.access import Constraints
    from overflight.selection import select_elements
    from overflight.sites import resolve_sites
    from overflight.times import resolve_interval

    c = constraints or Constraints()
    c.validate()
    t0, t1 = resolve_interval(start, end, days)
    site_list = resolve_sites(sites, site_files, all_named=all_sites)
    if not site_list:
        raise PassesError("sites: give at least one site (a named site or LAT,LON), "
                          "site_files or all_sites")
    if max_sites is not None and len(site_list) > max_sites:
        raise PassesError(f"sites: {len(site_list)} sites; at most {max_sites} per request")
    problems: list[str] = []
    elsets = select_elements(sats, groups, files, db=db, catalog=catalog, as_of=t0,
                             default_groups=default_groups, warnings=problems,
                             owners=owners, object_types=object_types)
    return plan_elements(elsets, site_list, t0, t1, c, problems=problems,
                         max_age_days=max_age_days, warn_age_days=warn_age_days,
                         imaging=imaging, include_unknown=include_unknown, sensors=sensors,
                         kinds=kinds, max_gsd_m=max_gsd_m, countries=countries,
                         operators=operators)


def plan_elements(
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    constraints: Constraints,
    *,
    problems: Sequence[str] = (),
    max_age_days: float = REFUSE_AFTER_DAYS,
    warn_age_days: float = STALE_AFTER_DAYS,
    imaging: bool = False,
    include_unknown: bool = False,
    sensors: Mapping[int, Sensor] | None = None,
    kinds: Sequence[str] = (),
    max_gsd_m: float | None = None,
    countries: Sequence[str] = (),
    operators: Sequence[str] = (),
) -> PassPlan:
    """:func:`plan_passes` for satellites and sites already resolved (the library API's
    path); the keywords as there."""
    from overflight.freshness import check_not_all_stale, usable_spans
    from overflight.selection import filter_by_sensor
    from overflight.sensors import load_table

    c, t0, t1, site_list = constraints, start, end, list(sites)
    try:
        max_age_days = check_max_age_days(max_age_days)
    except OverflightError as exc:
        raise PassesError(str(exc)) from None
    table = load_table() if sensors is None else sensors
    elsets, skipped = filter_by_sensor(elsets, table, kinds=kinds, max_gsd_m=max_gsd_m,
                                       countries=countries, operators=operators)
    rules: list[SatelliteRule] = []
    ended: list[datetime | None] | None = None
    if imaging:
        kept, ended = [], []
        for e in elsets:
            s = table.get(e.norad_id)
            if s is None:
                if include_unknown:
                    kept.append(e)
                    rules.append(SatelliteRule(c))
                    ended.append(None)
                else:
                    skipped.append(Skipped(e.norad_id, e.name, "not in the sensor table"))
            elif not s.is_imager:
                skipped.append(Skipped(e.norad_id, e.name,
                                       f"does not image ({s.reason or 'no imaging sensor'})"))
            else:
                kept.append(e)
                rules.append(imaging_rule(s, c))
                ended.append(s.imaging_ended)
        elsets = kept
    spans, refused = usable_spans(elsets, t0, t1, max_age_days=max_age_days, ended=ended)
    skipped += refused
    keep = [i for i, sp in enumerate(spans) if sp is not None]
    if not keep:
        check_not_all_stale(elsets, refused, t0, t1, max_age_days=max_age_days)
    if imaging:
        rules = [rules[i] for i in keep]
    elsets = [elsets[i] for i in keep]
    # The age warning speaks of the element sets used, not of those refused (listed apart),
    # each over the span it is used for.
    stale = stale_elements(elsets, t0, t1, max_age_days=warn_age_days,
                           spans=[spans[i] for i in keep])
    return PassPlan(list(elsets), site_list, t0, t1, c, stale, tuple(problems), imaging, table,
                    tuple(rules), tuple(spans[i] for i in keep), tuple(skipped), max_age_days,
                    max_gsd_m)


def _shard_table(plan: PassPlan) -> WindowTable:
    """One cluster shard's windows (a task on a Dask worker: one process, no forking)."""
    from overflight.access import WindowTable

    return WindowTable.concat(list(plan.tables(workers=1)))


def _geometry_only(min_elevation_deg: float) -> Constraints:
    from overflight.access import Constraints

    return Constraints(min_elevation_deg=min_elevation_deg)


def _window_table(elsets: Sequence[ElementSet], sites: Sequence[Site], start: datetime,
                  end: datetime, c: Constraints) -> WindowTable:
    from overflight.access import window_table

    return window_table(elsets, sites, start, end, c)


def _states(es: ElementSet, t: npt.NDArray[np.datetime64]) -> tuple[Any, Any]:
    """ITRS position and velocity (km, km/s) of ``es`` at times ``t``, ``(T, 3)``."""
    from overflight.propagation import propagate

    eph = propagate([es], t, frame="itrs", workers=1)
    return eph.position_km[0], eph.velocity_km_s[0]


def look_sides(table: WindowTable, elsets: Sequence[ElementSet],
               sites: Sequence[Site]) -> npt.NDArray[np.str_]:
    """``left``/``right``: on which side of the satellite's Earth-fixed velocity each window's
    site lies at the peak (the side a side-looking radar must look to)."""
    import numpy as np

    out = np.empty(len(table), dtype="<U5")
    used = np.unique(table.site_index)
    xyz = np.zeros((len(sites), 3))
    xyz[used] = [sites[int(j)].itrs_km for j in used.tolist()]  # once per site, not per row
    for k in np.unique(table.sat_index).tolist():
        rows = np.flatnonzero(table.sat_index == k)
        r, v = _states(elsets[k], table.peak[rows])
        site_xyz = xyz[table.site_index[rows]]
        left = np.einsum("ij,ij->i", np.cross(r, v), site_xyz - r) > 0
        out[rows] = np.where(left, "left", "right")
    return out


def _cut_band(table: WindowTable, inner: WindowTable, elsets: Sequence[ElementSet],
              sites: Sequence[Site], min_duration_s: float) -> WindowTable:
    """``table``'s windows minus the spans of ``inner`` (same satellite and site): the parts
    where the site is above a radar's highest elevation are cut out, a pass that rises above
    it becoming two windows whose peak is the cut (geometry recomputed there)."""
    import numpy as np

    from overflight.access import WindowTable

    keep: list[int] = []
    new: list[dict[str, Any]] = []
    for i in range(len(table)):
        sat, site = table.sat_index[i], table.site_index[i]
        a, b = table.start[i], table.end[i]
        m = np.flatnonzero((inner.sat_index == sat) & (inner.site_index == site)
                           & (inner.start < b) & (inner.end > a))
        if m.size == 0:
            keep.append(i)
            continue
        cur = a
        cur_clip = int(table.start_clip[i])
        cur_cut = False
        for j in m[np.argsort(inner.start[m])].tolist():
            ia, ib = inner.start[j], inner.end[j]
            if ia > cur:
                new.append({"row": i, "start": cur, "end": ia, "peak": ia,
                            "start_clip": 0 if cur_cut else cur_clip, "end_clip": 0})
            cur, cur_clip, cur_cut = max(cur, ib), 0, True
        if b > cur:
            new.append({"row": i, "start": cur, "end": b, "peak": cur, "start_clip": 0,
                        "end_clip": int(table.end_clip[i])})
    kept = table.take(np.array(keep, dtype=np.int64))
    new = [p for p in new
           if (p["end"] - p["start"]) / np.timedelta64(1, "s") >= max(min_duration_s, 1e-3)]
    if not new:
        return kept
    both = WindowTable.concat([kept, _pieces(table, new, elsets, sites)])
    return both.take(np.argsort(both.start, kind="stable"))


def _site_vectors(sites: Sequence[Site], idx: npt.NDArray[np.int64]
                  ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """ITRS positions (km) and geodetic up vectors of ``sites[idx]``, ``(N, 3)`` each, computed
    once per distinct site."""
    import numpy as np

    from overflight.geometry import sites_itrs_km, up_vectors

    u, inv = np.unique(np.asarray(idx, dtype=np.int64), return_inverse=True)
    chosen = [sites[int(j)] for j in u.tolist()]
    lat = np.array([p.lat_deg for p in chosen], dtype=np.float64)
    lon = np.array([p.lon_deg for p in chosen], dtype=np.float64)
    alt = np.array([p.alt_m for p in chosen], dtype=np.float64)
    inv = inv.reshape(-1)
    return (sites_itrs_km(lat, lon, alt).reshape(-1, 3)[inv],
            up_vectors(lat, lon).reshape(-1, 3)[inv])


def _pieces(table: WindowTable, new: Sequence[Mapping[str, Any]],
            elsets: Sequence[ElementSet], sites: Sequence[Site]) -> WindowTable:
    """Rows for pieces of ``table``'s windows (``row``, ``start``, ``end``, ``peak``,
    ``start_clip``, ``end_clip``), the geometry recomputed at each piece's peak."""
    import numpy as np

    from overflight.access import WindowTable
    from overflight.geometry import view_geometry_arrays
    from overflight.sun import is_sunlit, sun_itrs_km

    rows = np.array([p["row"] for p in new], dtype=np.int64)
    peak = np.array([p["peak"] for p in new], dtype="datetime64[ns]")
    n = rows.size
    el, off, rng, sun_el = (np.empty(n) for _ in range(4))
    lit = np.empty(n, dtype=bool)
    for k in np.unique(table.sat_index[rows]).tolist():
        sel = np.flatnonzero(table.sat_index[rows] == k)
        pos, _ = _states(elsets[k], peak[sel])
        sun = sun_itrs_km(peak[sel])
        lit[sel] = is_sunlit(pos, sun)
        xyz, up = _site_vectors(sites, table.site_index[rows[sel]])
        g = view_geometry_arrays(pos, xyz, up)
        el[sel], off[sel], rng[sel] = g.elevation_deg, g.off_nadir_deg, g.range_km
        d = sun - xyz  # as sun.sun_elevation_deg, for many sites at once
        sun_el[sel] = np.degrees(np.arcsin(np.clip(
            np.einsum("ij,ij->i", d, up) / np.linalg.norm(d, axis=-1), -1.0, 1.0)))
    return WindowTable(
        sat_index=table.sat_index[rows], site_index=table.site_index[rows],
        start=np.array([p["start"] for p in new], dtype="datetime64[ns]"), peak=peak,
        end=np.array([p["end"] for p in new], dtype="datetime64[ns]"),
        max_elevation_deg=el, min_off_nadir_deg=off, min_range_km=rng, peak_range_km=rng.copy(),
        peak_incidence_deg=90.0 - el, sun_elevation_deg=sun_el,
        satellite_sunlit=lit, ascending=table.ascending[rows],
        start_clip=np.array([p["start_clip"] for p in new], dtype=np.int8),
        end_clip=np.array([p["end_clip"] for p in new], dtype=np.int8))


RESOLUTION_STEP_S = 10.0
"""Step (s) at which :func:`cut_resolution` samples a window's resolution before refining:
on one grid of whole multiples since 1970, so windows of one satellite share its positions."""
RESOLUTION_EDGE_S = 0.005
"""Cut edges are refined to this (s), as the engine's window edges are."""
RESOLUTION_PROBE_S = 1.0
"""A sample this far (s) inside each window edge: whether the resolution rises or falls from
the edge, so a turning point next to an edge is bracketed and refined like any other."""
RESOLUTION_CHUNK_SAMPLES = 200_000
"""Samples computed at once (bounds the cut's memory on long windows and large grids)."""
_BOUND_ALT_MARGIN_KM = 25.0
"""Added to a mean apogee radius (km) for the worst-resolution bound (osculating swing, drag,
sites below sea level; the same figure as the prefilter's perigee margin)."""
_BOUND_ANGLE_MARGIN_DEG = 0.25
"""Added to an elevation or off-nadir limit for the bound (geodetic against geocentric
vertical, at most 0.19°, and the engine's edge tolerance)."""
_POLAR_RADIUS_KM = 6356.752 - 0.5  # WGS-84 polar radius, less the lowest land (Dead Sea)


def _resolution_at(es: ElementSet, sensor: Sensor, xyz: npt.NDArray[np.float64],
                   up: npt.NDArray[np.float64],
                   t: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    """Resolution (m, :meth:`Sensor.resolution_m_array`) of ``sensor`` on ``es`` looking at
    sites ``xyz`` (km, ITRS; geodetic ``up``) at times ``t``: the engine's range and incidence
    (90° − geodetic elevation), as at a window's peak. NaN where not in view or SGP4 failed.
    Each distinct time is propagated once (windows of many sites share their sample times)."""
    import numpy as np

    from overflight.geometry import view_geometry_arrays

    if t.size == 0:
        return np.empty(0)
    tu, inv = np.unique(t, return_inverse=True)
    pos, _ = _states(es, tu)
    view = view_geometry_arrays(pos[inv.reshape(-1)], xyz, up)
    out: npt.NDArray[np.float64] = np.asarray(
        sensor.resolution_m_array(view.range_km, view.incidence_deg), dtype=np.float64)
    return out


def worst_resolution_m(sensor: Sensor, es: ElementSet, constraints: Constraints) -> float:
    """An upper bound (m) on the resolution of any window of ``es`` under ``constraints``
    (inf where none holds): the optical model at the longest range and steepest incidence the
    minimum elevation, maximum off-nadir and maximum range allow from the highest the orbit
    goes, with margins. Radar (finest far from nadir, coarsest overhead) has no such bound."""
    if not sensor.is_imager or sensor.is_radar:
        return math.inf
    r_sat = es.apogee_alt_km + WGS72_RADIUS_KM + _BOUND_ALT_MARGIN_KM
    r_site = _POLAR_RADIUS_KM
    m = _BOUND_ANGLE_MARGIN_DEG
    inc_deg, rng_km = 90.0, math.inf
    el = constraints.min_elevation_deg
    if el is not None and el - m > 0.0:
        e = math.radians(el - m)
        inc_deg = 90.0 - (el - m) + m
        rng_km = math.sqrt(r_sat**2 - (r_site * math.cos(e)) ** 2) - r_site * math.sin(e)
    if constraints.max_off_nadir_deg is not None:
        eta = math.radians(min(constraints.max_off_nadir_deg + m, 90.0))
        s_inc = r_sat / r_site * math.sin(eta)
        if s_inc < 1.0:
            inc_deg = min(inc_deg, math.degrees(math.asin(s_inc)) + m)
            rng_km = min(rng_km, r_sat * math.cos(eta)
                         - math.sqrt(r_site**2 - (r_sat * math.sin(eta)) ** 2))
    if constraints.max_range_km is not None:
        rng_km = min(rng_km, constraints.max_range_km)
    if not (math.isfinite(rng_km) and inc_deg < 90.0):
        return math.inf
    return float(sensor.resolution_m_array(rng_km, inc_deg))


def _golden(f: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]],
            lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64],
            tol: float) -> npt.NDArray[np.float64]:
    """Where ``f`` is least in each bracket [lo, hi] (golden section to ``tol``, vectorized;
    one evaluation of ``f`` per step)."""
    import numpy as np

    phi = (math.sqrt(5.0) - 1.0) / 2.0
    lo, hi = lo.copy(), hi.copy()
    x1, x2 = hi - phi * (hi - lo), lo + phi * (hi - lo)
    f1, f2 = f(x1), f(x2)
    while lo.size and np.max(hi - lo) > tol:
        left = f1 < f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        xn = np.where(left, hi - phi * (hi - lo), lo + phi * (hi - lo))
        fn = f(xn)
        x2, f2, x1, f1 = (np.where(left, x1, xn), np.where(left, f1, fn),
                          np.where(left, xn, x2), np.where(left, fn, f2))
    out: npt.NDArray[np.float64] = (lo + hi) / 2.0
    return out


def resolution_pieces(
    sat_index: npt.NDArray[np.int64], site_index: npt.NDArray[np.int64],
    start_ns: npt.NDArray[np.int64], end_ns: npt.NDArray[np.int64],
    elsets: Sequence[ElementSet], sites: Sequence[Site], sensors: Mapping[int, Sensor],
    max_gsd_m: float, constraints: Constraints | Sequence[Constraints] | None = None,
) -> tuple[npt.NDArray[np.bool_], list[tuple[int, int, int]]]:
    """Where windows (satellite and site indices, start/end in ns since 1970 UTC) have a
    resolution of at most ``max_gsd_m`` (m): a mask of the windows wholly within the limit,
    and ``(window, start_ns, end_ns)`` pieces of the others.

    The resolution is that of ``resolution_m`` (:meth:`Sensor.resolution_m` at the engine's
    range and incidence); a window is sampled at its edges, :data:`RESOLUTION_PROBE_S` inside
    them and every :data:`RESOLUTION_STEP_S`; every turning point between samples is refined
    (golden section: a dip below the limit and a peak above it, such as a radar's coarse
    resolution overhead, are both found) and each crossing bisected to
    :data:`RESOLUTION_EDGE_S`, the edge taken on the limit's side. A satellite whose windows
    under ``constraints`` (one for all, or one per element set) cannot be coarser than the
    limit (:func:`worst_resolution_m`) keeps them whole unsampled. Satellites without an
    imaging sensor in ``sensors`` keep nothing.
    """
    import numpy as np

    whole = np.zeros(sat_index.size, dtype=bool)
    pieces: list[tuple[int, int, int]] = []
    step_ns = round(RESOLUTION_STEP_S * 1e9)
    for k in np.unique(sat_index).tolist():
        sensor = sensors.get(elsets[k].norad_id)
        if sensor is None or not sensor.is_imager:
            continue
        rows = np.flatnonzero(sat_index == k)
        c_k = (constraints[k] if isinstance(constraints, Sequence) else constraints)
        if c_k is not None and worst_resolution_m(sensor, elsets[k], c_k) <= max_gsd_m:
            whole[rows] = True
            continue
        a = start_ns[rows].astype(np.int64)
        b = end_ns[rows].astype(np.int64)
        n_est = (b - a) // step_ns + 6
        bounds = np.searchsorted(np.cumsum(n_est), np.arange(
            RESOLUTION_CHUNK_SAMPLES, int(n_est.sum()) + RESOLUTION_CHUNK_SAMPLES,
            RESOLUTION_CHUNK_SAMPLES), side="right")
        lo_r = 0
        for hi_r in np.unique(np.clip(bounds, 1, rows.size)).tolist():
            if hi_r <= lo_r:
                continue
            sub = slice(lo_r, hi_r)
            w_ok, w_pieces = _cut_rows(elsets[k], sensor, sites, site_index[rows[sub]],
                                       a[sub], b[sub], max_gsd_m, step_ns)
            whole[rows[sub][w_ok]] = True
            pieces += [(int(rows[sub][r]), s_ns, e_ns) for r, s_ns, e_ns in w_pieces]
            lo_r = hi_r
    return whole, pieces


def _cut_rows(es: ElementSet, sensor: Sensor, sites: Sequence[Site],
              site_idx: npt.NDArray[np.int64], a: npt.NDArray[np.int64],
              b: npt.NDArray[np.int64], max_gsd_m: float, step_ns: int,
              ) -> tuple[npt.NDArray[np.bool_], list[tuple[int, int, int]]]:
    """:func:`resolution_pieces` for windows [a, b] (ns) of one satellite: the mask of those
    wholly within the limit and (row, start_ns, end_ns) pieces of the others."""
    import numpy as np

    ns_s = 1e9
    nrow = a.size
    probe = round(RESOLUTION_PROBE_S * ns_s)
    mid = a + (b - a) // 2
    a_in, b_in = np.minimum(a + probe, mid), np.maximum(b - probe, mid)
    g_lo = -((-a_in) // step_ns)  # first grid multiple at or after a_in
    g_hi = b_in // step_ns
    n_grid = np.maximum(0, g_hi - g_lo + 1)
    n = n_grid + 4
    row_of = np.repeat(np.arange(nrow), n)
    first = np.concatenate(([0], np.cumsum(n)[:-1]))
    pos = np.arange(row_of.size) - first[row_of]
    t = (g_lo[row_of] + pos - 2) * step_ns
    t = np.where(pos == 0, a[row_of], t)
    t = np.where(pos == 1, a_in[row_of], t)
    t = np.where(pos == n[row_of] - 2, b_in[row_of], t)
    t = np.where(pos == n[row_of] - 1, b[row_of], t)
    xyz, up = _site_vectors(sites, site_idx)

    def res(r: npt.NDArray[np.int64], tt: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        return _resolution_at(es, sensor, xyz[r], up[r],
                              np.asarray(tt).astype(np.int64).astype("datetime64[ns]"))

    g = np.nan_to_num(res(row_of, t), nan=np.inf)
    # Turning points between samples: a least sample that misses the limit may hide a dip
    # below it, a greatest sample within it a peak above it (a radar overhead). Refine each in
    # the bracket of its neighbours and add it as a sample.
    inner = np.zeros(t.size, dtype=bool)
    if t.size > 2:
        inner[1:-1] = (row_of[:-2] == row_of[1:-1]) & (row_of[2:] == row_of[1:-1])
    prev_g, next_g = np.roll(g, 1), np.roll(g, -1)
    ok = g <= max_gsd_m
    dip = inner & ~ok & np.isfinite(g) & (g <= prev_g) & (g <= next_g)
    peak = inner & ok & (g >= prev_g) & (g >= next_g)
    added_t: list[npt.NDArray[np.int64]] = []
    added_r: list[npt.NDArray[np.int64]] = []
    for cand, sign in ((np.flatnonzero(dip), 1.0), (np.flatnonzero(peak), -1.0)):
        if not cand.size:
            continue
        cr = row_of[cand]

        def f(x: npt.NDArray[np.float64], cr: npt.NDArray[np.int64] = cr,
              sign: float = sign) -> npt.NDArray[np.float64]:
            v = np.nan_to_num(res(cr, x), nan=np.inf)
            return np.where(np.isfinite(v), sign * v, -np.inf if sign < 0 else np.inf)

        tm = _golden(f, t[cand - 1].astype(np.float64), t[cand + 1].astype(np.float64),
                     RESOLUTION_EDGE_S * ns_s)
        added_t.append(tm.astype(np.int64))
        added_r.append(cr)
    if added_t:
        t_add, r_add = np.concatenate(added_t), np.concatenate(added_r)
        g_add = np.nan_to_num(res(r_add, t_add), nan=np.inf)
        t = np.concatenate((t, t_add))
        row_of = np.concatenate((row_of, r_add))
        ok = np.concatenate((ok, g_add <= max_gsd_m))
        order = np.lexsort((t, row_of))
        t, row_of, ok = t[order], row_of[order], ok[order]
    # Crossings between consecutive samples of a row, bisected.
    same = row_of[1:] == row_of[:-1]
    cross = np.flatnonzero(same & (ok[1:] != ok[:-1]))
    lo_t, hi_t = t[cross].astype(np.float64), t[cross + 1].astype(np.float64)
    lo_ok = ok[cross]
    cr = row_of[cross]
    while cross.size and np.max(hi_t - lo_t) > RESOLUTION_EDGE_S * ns_s:
        half = (lo_t + hi_t) / 2.0
        m_ok = res(cr, half) <= max_gsd_m
        move_lo = m_ok == lo_ok
        lo_t = np.where(move_lo, half, lo_t)
        hi_t = np.where(move_lo, hi_t, half)
    edge = np.where(lo_ok, lo_t, hi_t).astype(np.int64)
    all_ok = np.bincount(row_of, weights=~ok, minlength=nrow) == 0
    first_ok = ok[np.searchsorted(row_of, np.arange(nrow))]
    pieces: list[tuple[int, int, int]] = []
    for r in np.flatnonzero(~all_ok).tolist():
        c_sel = cr == r
        cur = int(a[r]) if first_ok[r] else None
        for e_t, rising in zip(edge[c_sel].tolist(), (~lo_ok[c_sel]).tolist(), strict=True):
            if rising:
                cur = e_t
            elif cur is not None:
                pieces.append((r, cur, e_t))
                cur = None
        if cur is not None:
            pieces.append((r, cur, int(b[r])))
    return all_ok, pieces


def cut_resolution(table: WindowTable, elsets: Sequence[ElementSet], sites: Sequence[Site],
                   sensors: Mapping[int, Sensor], max_gsd_m: float,
                   min_duration_s: float = 0.0,
                   constraints: Constraints | None = None) -> WindowTable:
    """``table``'s windows cut to where the achieved resolution is at most ``max_gsd_m`` (m)
    (:func:`resolution_pieces`). Windows wholly within the limit are kept as they are; cut
    ones get their peak clamped into the piece and their geometry recomputed there (a cut
    edge is not a clip: code 0, like an off-nadir edge); pieces shorter than
    ``min_duration_s`` are dropped."""
    import numpy as np

    from overflight.access import WindowTable

    if not len(table):
        return table
    whole, pieces = resolution_pieces(
        table.sat_index, table.site_index, table.start.astype(np.int64),
        table.end.astype(np.int64), elsets, sites, sensors, max_gsd_m, constraints)
    kept = table.take(np.flatnonzero(whole))
    new = [_piece(i, s_ns, e_ns, table) for i, s_ns, e_ns in pieces
           if (e_ns - s_ns) / 1e9 >= max(min_duration_s, 1e-3)]
    if not new:
        return kept
    both = WindowTable.concat([kept, _pieces(table, new, elsets, sites)])
    return both.take(np.argsort(both.start, kind="stable"))


def _piece(i: int, s_ns: int, e_ns: int, table: WindowTable) -> dict[str, Any]:
    """A piece [s_ns, e_ns] of window ``i``: its peak clamped into it, the window's clip
    codes kept on the edges it shares."""
    import numpy as np

    a, b = int(table.start[i].astype(np.int64)), int(table.end[i].astype(np.int64))
    peak = int(table.peak[i].astype(np.int64))
    return {"row": i, "start": np.datetime64(s_ns, "ns"), "end": np.datetime64(e_ns, "ns"),
            "peak": np.datetime64(min(max(peak, s_ns), e_ns), "ns"),
            "start_clip": int(table.start_clip[i]) if s_ns == a else 0,
            "end_clip": int(table.end_clip[i]) if e_ns == b else 0}


def span_text(start: datetime, end: datetime) -> str:
    """``2026-05-31 00:00Z → 2026-06-01 00:00Z`` for titles."""
    return f"{start:%Y-%m-%d %H:%M}Z → {end:%Y-%m-%d %H:%M}Z"


def window_dict(w: Window) -> dict[str, Any]:
    """:meth:`Window.to_dict` plus the plan's extra fields (``elset_age_days``, imaging)."""
    return {**w.to_dict(), **w.extra}


IMAGING_DISPLAY_COLUMNS = ["sensor", "res m", "inc°", "look", "age d"]
"""Further keys of :func:`window_display_row` for imaging plans."""

WINDOW_DISPLAY_COLUMNS = ["satellite", "site", "start", "peak", "end", "max el°", "off-nadir°",
                          "range km", "sun°", "lit", "dir", "gsd m"]
"""The keys of :func:`window_display_row`, in table order."""


def window_display_row(w: Window, *, imaging: bool = False) -> dict[str, str]:
    """A window as people read it in a table (rounded, short times; UTC); ``imaging``: with
    the sensor, resolution, incidence and look side. Peak and end carry their date only where
    it is not the start's; a clipped start or end is marked (:func:`clip_note`)."""
    from overflight.times import format_table_time

    return {
        "satellite": f"{w.name} ({w.norad_id})",
        "site": w.site,
        "start": format_table_time(w.start, clipped=w.start_clipped is not None),
        "peak": format_table_time(w.peak, start=w.start),
        "end": format_table_time(w.end, start=w.start, clipped=w.end_clipped is not None),
        "max el°": f"{w.max_elevation_deg:.1f}",
        "off-nadir°": f"{w.min_off_nadir_deg:.1f}",
        "range km": f"{w.min_range_km:.0f}",
        "sun°": f"{w.sun_elevation_deg:.0f}",
        "lit": "yes" if w.satellite_sunlit else "no",
        "dir": w.direction[:3],
        "gsd m": "" if w.gsd_m is None else f"{w.gsd_m:.2f}",
        **_imaging_cells(w.extra, imaging),
    }


def clip_note(windows: Sequence[Window]) -> str | None:
    """The line under a window table explaining the clip mark, None when no window is
    clipped (the reasons named are those of ``windows``)."""
    from overflight.times import CLIP_MARK

    why = sorted({c for w in windows for c in (w.start_clipped, w.end_clipped) if c})
    if not why:
        return None
    names = [{"interval": "the interval's start or end", "sun": "the Sun limit",
              "sunlit": "the satellite's lighting limit"}.get(c, c) for c in why]
    return (f"{CLIP_MARK} clipped: the window goes on beyond that time but is cut there by "
            + ", or ".join(names))


def _imaging_cells(x: Mapping[str, Any], imaging: bool) -> dict[str, str]:
    def num(key: str, fmt: str) -> str:
        v = x.get(key)
        return "" if v is None else format(v, fmt)

    out: dict[str, str] = {}
    if imaging:
        kind = x.get("sensor_kind")
        out.update({"sensor": f"{x.get('sensor') or ''}" + (f" ({kind})" if kind else ""),
                    "res m": num("resolution_m", ".2f"), "inc°": num("incidence_deg", ".1f"),
                    "look": x.get("look_side") or "", "age d": num("elset_age_days", "+.1f")})
    return out
