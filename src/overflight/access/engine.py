"""Overflight windows: the pipeline of stages, and the public calls that run it.

Each batch of satellites (:func:`_run_batch`) goes through the stages in order, each in its
own module (the method, bounds and guarantee: ``docs/access.md``):

1. ``fleet`` — :class:`~overflight.access.fleet.Fleet`: SGP4 on a coarse grid over the
   interval, orbit bounds, later fine samples and Hermite-interpolated states.
2. ``screen`` — :func:`~overflight.access.screen.screen_spans`: the arc test on the coarse grid
   gives :class:`~overflight.access.screen.Spans`, candidate intervals per (satellite, site);
   the fleet then fills its fine grid inside them.
3. ``search`` — :func:`~overflight.access.search.search_spans`: the exact constraint function
   g(t) evaluated until its sign structure in every span is proven, as
   :class:`~overflight.access.search.Points`.
4. :func:`assemble` (here) — windows from the runs where g ≥ 0: edges by Illinois regula falsi,
   closest approach and a first maximum elevation, as
   :class:`~overflight.access.model.WindowTimes` (seconds from the interval's start).
5. ``lighting`` — :class:`~overflight.access.lighting.Lighting`: windows clipped to the Sun and
   shadow constraints (still ``WindowTimes``).
6. :func:`finish` (here) — the maximum elevation refined with SGP4 itself
   (:func:`~overflight.access.search.refine_top`) and the reported attributes, as a
   :class:`~overflight.access.model.WindowTable`.

:func:`iter_window_tables` shares batches out to worker processes; :func:`window_table`,
:func:`find_windows` and :func:`table_to_windows` give the results as one table or as
:class:`~overflight.access.model.Window` objects. :func:`pair_window_table` runs steps 2–6 for
chosen (satellite, site) pairs inside chosen spans (all in one call), and
:class:`EngineStates` hands out the interpolated states the engine searches on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from overflight.access.fleet import Fleet, orbit_bounds
from overflight.access.lighting import Lighting, sun_elevation_pairs
from overflight.access.model import (
    CLIP_NAMES,
    F64,
    I64,
    Constraints,
    Window,
    WindowTable,
    WindowTimes,
    check_pair_spans,
    check_request,
)
from overflight.access.screen import Spans, merge_spans, screen_spans, site_set
from overflight.access.search import (
    UNIMODAL_S,
    Evaluator,
    Geometry,
    Points,
    extremum,
    illinois,
    refine_top,
    search_spans,
    straight_top_step,
    true_runs,
)
from overflight.constants import DAY_S
from overflight.elements import ElementSet
from overflight.geometry import Site

__all__ = [
    "EngineStates",
    "find_windows",
    "iter_window_tables",
    "pair_window_table",
    "table_to_windows",
    "window_table",
]

# Fewest satellites worth a worker process of their own.
_MIN_BATCH = 24

SEARCH_CHUNK_POINTS = 100_000
"""Evaluated points (of :func:`search_spans`) one chunk of spans may hold while it is searched
and assembled: ~0.6 kB each at the peak, so ~60 MB (docs/benchmarks.md, "Imaging coverage
memory"). A GEO imager's span lasts the whole interval, sampled every ~20 s: unchunked, one such
satellite over 2,239 points for a day held 9 million points and 5.6 GB. Smaller chunks cost
time (per-call overhead), larger ones too (cache)."""
_FIRST_DENSITY = 2.5  # points per span-second assumed before any is measured (LEO: ≤ 2.3)
_DENSITY_MARGIN = 1.5  # later spans may be denser than those measured
_SPAN_PAD_S = 10.0  # a span's fixed cost in points, as span-seconds (its two ends)


class _BatchStats(NamedTuple):
    """Counters of one batch, summed into ``iter_window_tables``' ``stats``."""

    candidate_spans: int
    evaluations: int
    windows: int
    sgp4_errors: dict[int, int]  # NORAD id -> first SGP4 error code


def assemble(ev: Evaluator, spans: Spans, pts: Points, duration_s: float) -> WindowTimes:
    """Geometric windows (seconds from t0) from the proven sign structure of each span."""
    span_sat, span_site = spans.sat_index, spans.site_index
    g = pts.g
    pos = g >= 0.0
    sp = pts.span
    rise, fall, first_of_span, last_of_span = true_runs(sp, pos)
    sat = span_sat[sp[rise]]
    site = span_site[sp[rise]]

    def g_of(sel: I64) -> Callable[[I64, F64], F64]:
        def f(sub: I64, t: F64) -> F64:
            s = sel[sub]
            return ev.margin(sat[s], site[s], t)

        return f

    t = pts.t_s
    start = t[rise].copy()
    start_clip = np.where(first_of_span[rise] & (t[rise] <= 0.0), 1, 0).astype(np.int8)
    need = np.flatnonzero(~first_of_span[rise])
    if need.size:
        r = rise[need]
        start[need] = illinois(g_of(need), t[r - 1], t[r], g[r - 1], g[r], inside=True)
    end = t[fall].copy()
    end_clip = np.where(last_of_span[fall] & (t[fall] >= duration_s), 1, 0).astype(np.int8)
    need = np.flatnonzero(~last_of_span[fall])
    if need.size:
        f_ = fall[need]
        end[need] = illinois(g_of(need), t[f_], t[f_ + 1], g[f_], g[f_ + 1], inside=True)
    edges = ev.raw(
        np.concatenate((sat, sat)), np.concatenate((site, site)), np.concatenate((start, end))
    )
    peak = extremum(ev, _range_rate, 1.0, sat, site, start, end, edges, edges.range_km, pts,
                    pts.range_km, pts.range_rate_km_s, rise, fall)
    # Maximum elevation. Short windows (a LEO pass) have one maximum, next to the closest
    # approach: a straight-line step from there, refined with SGP4 in finish(). Long ones may
    # have several: the least elevation margin negated over the evaluated points and edges.
    r_pk, v_pk, _ = ev.fleet.states(sat, peak)
    top = np.clip(peak + straight_top_step(r_pk - ev.ss.sites.itrs_km[site], v_pk,
                                           ev.ss.up[site]), start, end)
    # ...unless an edge is higher (elevation still rising where SGP4 fails, or the window
    # cut by the interval or another constraint).
    w = sat.size
    el_top = ev.raw(sat, site, top).elevation_rad
    edge_el = np.nan_to_num(edges.elevation_rad, nan=-np.inf)
    top = np.where(edge_el[:w] > el_top, start, top)
    top = np.where(edge_el[w:] > np.fmax(el_top, edge_el[:w]), end, top)
    long = np.flatnonzero(end - start > UNIMODAL_S)
    if long.size:
        sub = edges.take(np.concatenate((long, long + w)))
        top[long] = extremum(ev, _elevation_rate, -1.0, sat[long], site[long], start[long],
                             end[long], sub, ev.elev_rad - sub.elevation_rad, pts,
                             -pts.elevation_margin_rad, pts.elevation_rate_km2_s, rise[long],
                             fall[long])
    return WindowTimes(
        sat_index=sat,
        site_index=site,
        start_s=start,
        end_s=end,
        peak_s=peak,
        top_s=top,
        start_clip=start_clip,
        end_clip=end_clip,
    )


def _range_rate(geo: Geometry) -> F64:
    return geo.range_rate_km_s


def _elevation_rate(geo: Geometry) -> F64:
    return geo.elevation_rate_km2_s


def finish(ev: Evaluator, light: Lighting, w: WindowTimes) -> WindowTable:
    """Attributes at peak (closest approach) and at maximum elevation; seconds → datetime64."""
    from overflight.geometry import view_geometry_arrays
    from overflight.sun import is_sunlit

    sat, site = w.sat_index, w.site_index
    n = sat.size
    both_sat = np.concatenate((sat, sat))
    both_site = np.concatenate((site, site))
    raw = ev.raw(both_sat, both_site, np.concatenate((w.peak_s, w.top_s)), exact=True)
    r, v = raw.r_km[:n], raw.v_km_s[:n]
    xyz = ev.ss.sites.itrs_km[site]
    up = ev.ss.up[site]
    sun = light.sun_km(w.peak_s)
    sun_el = sun_elevation_pairs(sun, xyz, up)
    lit = is_sunlit(r, sun)
    # Ascending when the geocentric latitude increases: d(z/|r|)/dt > 0.
    rn = np.linalg.norm(r, axis=1)
    ascending = (v[:, 2] * rn * rn - r[:, 2] * np.einsum("ij,ij->i", r, v)) > 0.0
    el_peak = np.degrees(raw.elevation_rad[:n])
    top = refine_top(ev, w, raw.take(np.arange(n, 2 * n)))
    view = view_geometry_arrays(top.r_km, xyz, up)
    fleet = ev.fleet
    return WindowTable(
        sat_index=sat,
        site_index=site,
        start=fleet.times64(w.start_s),
        peak=fleet.times64(w.peak_s),
        end=fleet.times64(w.end_s),
        max_elevation_deg=np.maximum(top.elevation_deg, el_peak),
        min_off_nadir_deg=view.off_nadir_deg,
        min_range_km=raw.range_km[:n],
        peak_range_km=raw.range_km[:n],
        peak_incidence_deg=90.0 - el_peak,
        sun_elevation_deg=sun_el,
        satellite_sunlit=lit,
        ascending=ascending,
        start_clip=w.start_clip,
        end_clip=w.end_clip,
    )


def iter_window_tables(
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    constraints: Constraints | None = None,
    *,
    batch_size: int = 512,
    workers: int | None = 1,
    progress: Callable[[int, int], None] | None = None,
    stats: dict[str, Any] | None = None,
) -> Iterator[WindowTable]:
    """Windows of ``elsets`` over ``sites`` in [start, end], one table per satellite batch.

    Each table is sorted by start time; ``sat_index``/``site_index`` index the given sequences.
    ``batch_size``: satellites per batch, scaled down for intervals longer than 7 days.
    ``workers``: processes (None = all CPUs; batches are shared out, results are identical to
    one process). ``progress(done, total)`` is called after each batch (satellites).
    ``stats``, if given, receives counters (candidate spans, evaluations, SGP4 errors).
    """
    c = constraints or Constraints()
    check_request(elsets, sites, start, end, c)
    steps = orbit_bounds(elsets).step_s
    # Batches of satellites that share a screening step keep the grids uniform; fewer
    # satellites per batch over long intervals keep a batch's samples (and memory) bounded.
    duration_days = (end - start).total_seconds() / DAY_S
    batch_size = max(1, min(batch_size, max(16, int(batch_size * 7.0 / duration_days))))
    order = np.lexsort((np.arange(len(elsets)), steps))
    batches = [order[lo : lo + batch_size] for lo in range(0, order.size, batch_size)]
    wanted = _worker_count(workers, order.size // _MIN_BATCH)
    if len(batches) < wanted:
        # A small job still uses every worker: satellites dealt out in turn.
        batches = [np.sort(order[i::wanted]) for i in range(wanted)]
    counters: dict[str, Any] = {"candidate_spans": 0, "evaluations": 0, "windows": 0,
                                "sgp4_errors": {}}
    nproc = _worker_count(workers, len(batches))
    done = 0

    def account(batch: I64, table: WindowTable, part: _BatchStats) -> WindowTable:
        nonlocal done
        counters["candidate_spans"] += part.candidate_spans
        counters["evaluations"] += part.evaluations
        counters["windows"] += part.windows
        counters["sgp4_errors"].update(part.sgp4_errors)
        done += batch.size
        if progress is not None:
            progress(done, order.size)
        return table

    if nproc <= 1:
        for batch in batches:
            table, part = _run_batch([elsets[i] for i in batch], batch, sites, start, end, c,
                                     None)
            yield account(batch, table, part)
    else:
        from overflight.access.pool import imap_unordered

        # Forked workers see the batches as they are here: only results travel. They come
        # back as they finish and are handed on in batch order, as one process gives them.
        tasks = [([elsets[i] for i in b], b, sites, start, end, c, 1) for b in batches]
        ready: dict[int, tuple[WindowTable, _BatchStats]] = {}
        nxt = 0
        for k, result in imap_unordered(_run_batch, tasks, nproc):
            ready[k] = result
            while nxt in ready:
                table, part = ready.pop(nxt)
                yield account(batches[nxt], table, part)
                nxt += 1
    if stats is not None:
        stats.update(counters)


def _worker_count(workers: int | None, n_batches: int) -> int:
    import os
    import sys

    if workers == 1 or n_batches < 2 or not sys.platform.startswith("linux"):
        return 1
    cpus = len(os.sched_getaffinity(0))
    return max(1, min(cpus if workers is None else workers, n_batches))


def _run_batch(
    batch_elsets: Sequence[ElementSet],
    batch_index: I64,
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    c: Constraints,
    sgp4_workers: int | None,
) -> tuple[WindowTable, _BatchStats]:
    """Windows of one batch of satellites (``sat_index`` mapped back through ``batch_index``)."""
    from overflight.times import to_datetime64, utc

    t0 = to_datetime64(utc(start))[0]
    duration = (utc(end) - utc(start)).total_seconds()
    fleet = Fleet(batch_elsets, t0, duration, workers=sgp4_workers)
    ss = site_set(sites)
    ev = Evaluator(fleet, ss, c)
    light = Lighting(ev)
    coarse = fleet.coarse_s
    local = np.arange(len(batch_elsets))
    spans = Spans.concat(
        [screen_spans(fleet, ss, local[coarse == step], duration, c) for step in np.unique(coarse)]
    )
    table = _search_windows(ev, light, spans, duration, c)
    table.sat_index = np.asarray(batch_index, dtype=np.int64)[table.sat_index]
    stats = _BatchStats(
        candidate_spans=int(spans.sat_index.size),
        evaluations=ev.evaluations,
        windows=len(table),
        sgp4_errors={batch_elsets[i].norad_id: code for i, code in fleet.errors.items()},
    )
    return table, stats


def _search_windows(ev: Evaluator, light: Lighting, spans: Spans, duration: float,
                    c: Constraints, *, span_clips: bool = False) -> WindowTable:
    """Steps 2–6 on candidate ``spans``: fine samples, sign search, edges, lighting and
    attributes; sorted by start time (batch-local indices). ``span_clips``: a window cut by a
    span's start or end is marked clipped by the interval (as if the span were the interval)."""
    parts = []
    if spans.sat_index.size:
        # Fine samples over each satellite's spans, merged across sites (they overlap).
        per_sat = merge_spans(spans._replace(site_index=np.zeros_like(spans.site_index)))
        ev.fleet.add_fine(per_sat.sat_index, per_sat.start_s, per_sat.end_s)
        w = _search_in_chunks(ev, spans, duration, span_clips)
        if len(w) and light.active:
            w = light.clip(w)
        if c.min_duration_s > 0:
            w = w.take((w.end_s - w.start_s) >= c.min_duration_s)
        if len(w):
            parts.append(finish(ev, light, w))
    table = WindowTable.concat(parts)
    return table.take(np.argsort(table.start, kind="stable"))


def _search_in_chunks(ev: Evaluator, spans: Spans, duration: float, span_clips: bool
                      ) -> WindowTimes:
    """Steps 3–4 (search and assembly) over consecutive chunks of ``spans``, each holding
    about :data:`SEARCH_CHUNK_POINTS` evaluated points at the densest rate (points per
    span-second) seen so far, with a margin; only the chunk's windows are kept. Every span is
    searched and assembled on its own (the bounds, refiners and root finding work per span), so
    the windows and their order are those of one call over all spans, whatever the chunks."""
    weight = (spans.end_s - spans.start_s) + _SPAN_PAD_S
    total = np.cumsum(weight)
    n = weight.size
    density, seen = _FIRST_DENSITY, 0.0
    parts: list[WindowTimes] = []
    lo = 0
    while lo < n:
        base = float(total[lo - 1]) if lo else 0.0
        hi = max(lo + 1, int(np.searchsorted(total, base + SEARCH_CHUNK_POINTS / density,
                                              side="right")))
        part = Spans(spans.sat_index[lo:hi], spans.site_index[lo:hi], spans.start_s[lo:hi],
                     spans.end_s[lo:hi])
        pts = search_spans(ev, part)
        w = assemble(ev, part, pts, duration)
        if span_clips and len(w):
            w = _clip_at_spans(w, part, pts)
        seen = max(seen, pts.t_s.size / (float(total[hi - 1]) - base))
        density = _DENSITY_MARGIN * seen
        parts.append(w)
        del pts, part
        lo = hi
    if len(parts) == 1:
        return parts[0]
    return WindowTimes(*(np.concatenate([getattr(p, f.name) for p in parts])
                         for f in fields(WindowTimes)))


def _clip_at_spans(w: WindowTimes, spans: Spans, pts: Points) -> WindowTimes:
    """``w`` with edges that lie on their span's start or end marked clipped by the interval
    (``assemble`` marks only the interval's own ends): the span was searched as an interval."""
    # Windows come out of assemble in the order of their runs (true_runs).
    rise = true_runs(pts.span, pts.g >= 0.0)[0]
    sp = pts.span[rise]
    start_clip = np.where(w.start_s <= spans.start_s[sp], 1, w.start_clip).astype(np.int8)
    end_clip = np.where(w.end_s >= spans.end_s[sp], 1, w.end_clip).astype(np.int8)
    return WindowTimes(
        sat_index=w.sat_index, site_index=w.site_index, start_s=w.start_s, end_s=w.end_s,
        peak_s=w.peak_s, top_s=w.top_s, start_clip=start_clip, end_clip=end_clip)


def _intersect_spans(x: Spans, y: Spans, n_sites: int) -> Spans:
    """Intersections of the spans of ``x`` and ``y`` of the same (satellite, site) pair (each
    merged per pair): every span of a pair in ``x`` against every one in ``y``."""
    kx = x.sat_index * n_sites + x.site_index
    ky = y.sat_index * n_sites + y.site_index
    order = np.argsort(ky, kind="stable")
    ky_s = ky[order]
    lo = np.searchsorted(ky_s, kx, side="left")
    hi = np.searchsorted(ky_s, kx, side="right")
    count = hi - lo
    ix = np.repeat(np.arange(kx.size), count)
    iy = order[np.repeat(lo, count) + np.arange(ix.size) - np.repeat(np.cumsum(count) - count,
                                                                      count)]
    a = np.maximum(x.start_s[ix], y.start_s[iy])
    b = np.minimum(x.end_s[ix], y.end_s[iy])
    keep = b > a
    return Spans(x.sat_index[ix[keep]], x.site_index[ix[keep]], a[keep], b[keep])


def pair_window_table(
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    sat_index: npt.ArrayLike,
    site_index: npt.ArrayLike,
    span_start_s: npt.ArrayLike,
    span_end_s: npt.ArrayLike,
    constraints: Constraints | None = None,
    *,
    screen: bool = True,
    stats: dict[str, Any] | None = None,
) -> WindowTable:
    """Windows of chosen (satellite, site) pairs, each searched only inside its own spans.

    Pair ``k`` is ``elsets[sat_index[k]]`` over ``sites[site_index[k]]`` during
    [``span_start_s[k]``, ``span_end_s[k]``] (seconds from ``start``, clipped to
    [start, end]); a pair may have several spans (overlapping ones are merged). Searched are
    the parts of the spans that the screen (step 1) keeps, or with ``screen=False`` (for spans
    the caller has already proven tight: the screen costs more than it saves there) the spans
    themselves. The search, edges, lighting and attributes are those of
    :func:`window_table` over [start, end] (same SGP4 samples and Earth rotation), so a window
    inside a span is the one :func:`window_table` finds, its edges within the 5-ms edge
    tolerance; a window cut by a span's end is cut there and marked clipped by the interval,
    like :func:`window_table` over the span alone. All pairs share one call: no per-satellite
    or per-site cost beyond the spans' own. Sorted by start time; ``sat_index``/
    ``site_index`` of the result index the given sequences. ``stats`` as for
    :func:`iter_window_tables`.
    """
    from overflight.times import to_datetime64, utc

    c = constraints or Constraints()
    check_request(elsets, sites, start, end, c)
    duration = (utc(end) - utc(start)).total_seconds()
    sat, site, a, b = check_pair_spans(sat_index, site_index, span_start_s, span_end_s,
                                       len(elsets), len(sites), duration)
    counters: dict[str, Any] = {"candidate_spans": 0, "evaluations": 0, "windows": 0,
                                "sgp4_errors": {}}
    table = WindowTable.empty()
    if sat.size:
        # Only the satellites and sites named: local indices, mapped back at the end.
        used_sat, l_sat = np.unique(sat, return_inverse=True)
        used_site, l_site = np.unique(site, return_inverse=True)
        batch = [elsets[i] for i in used_sat.tolist()]
        fleet = Fleet(batch, to_datetime64(utc(start))[0], duration, workers=1)
        ss = site_set([sites[j] for j in used_site.tolist()])
        ev = Evaluator(fleet, ss, c)
        light = Lighting(ev)
        spans = merge_spans(Spans(l_sat.reshape(-1), l_site.reshape(-1), a, b))
        if screen:
            # The screen still discards what it proves out of reach: searched are the parts
            # of the asked spans inside the screen's spans (minutes per pass).
            local = np.arange(len(batch))
            screened = Spans.concat([screen_spans(fleet, ss, local[fleet.coarse_s == step],
                                                  duration, c)
                                     for step in np.unique(fleet.coarse_s)])
            spans = _intersect_spans(spans, screened, len(used_site))
        # (The screen's spans hold whole windows: a window is cut only by an asked span's
        # end, or the interval's.)
        table = _search_windows(ev, light, spans, duration, c, span_clips=True)
        table.sat_index = used_sat[table.sat_index]
        table.site_index = used_site[table.site_index]
        counters.update(candidate_spans=int(spans.sat_index.size), evaluations=ev.evaluations,
                        windows=len(table),
                        sgp4_errors={batch[i].norad_id: code for i, code in fleet.errors.items()})
    if stats is not None:
        stats.update(counters)
    return table


class EngineStates:
    """ITRS states of satellites exactly as the window engine interpolates them over
    [start, end]: the same SGP4 samples on the same fine grid (counted from ``start``), the same
    cubic Hermite pieces and Earth rotation. A crossing found with these states is a crossing
    of the engine's own constraint function (which is within ``docs/access.md``'s 3.3 m of
    SGP4 in LEO, not exactly SGP4). Times are seconds from ``start``, inside [0, duration]."""

    def __init__(self, elsets: Sequence[ElementSet], start: datetime, end: datetime) -> None:
        from overflight.times import to_datetime64, utc

        self.duration_s = (utc(end) - utc(start)).total_seconds()
        self._fleet = Fleet(elsets, to_datetime64(utc(start))[0], self.duration_s, workers=1)

    def cover(self, sat_index: I64, start_s: F64, end_s: F64) -> None:
        """Prepare the fine samples of ``elsets[sat_index[k]]`` over [start_s[k], end_s[k]]
        (elsewhere :meth:`states` calls SGP4 itself, as the engine does outside its spans)."""
        a = np.clip(start_s, 0.0, self.duration_s)
        b = np.clip(end_s, 0.0, self.duration_s)
        self._fleet.add_fine(np.asarray(sat_index, dtype=np.int64), a, b)

    def states(self, sat_index: I64, t_s: F64) -> tuple[F64, F64, npt.NDArray[np.bool_]]:
        """Positions (km), velocities (km/s), both (N, 3), and where SGP4 succeeded."""
        st = self._fleet.states(np.asarray(sat_index, dtype=np.int64), t_s)
        return st.r_km, st.v_km_s, st.ok


def window_table(
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    constraints: Constraints | None = None,
    **kwargs: Any,
) -> WindowTable:
    """All windows as one :class:`WindowTable`, sorted by start time."""
    table = WindowTable.concat(
        list(iter_window_tables(elsets, sites, start, end, constraints, **kwargs))
    )
    return table.take(np.argsort(table.start, kind="stable"))


def find_windows(
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    constraints: Constraints | None = None,
    *,
    sensors: dict[int, Any] | None = None,
    **kwargs: Any,
) -> list[Window]:
    """All windows as :class:`Window` objects, sorted by start time."""
    table = window_table(elsets, sites, start, end, constraints, **kwargs)
    return list(table_to_windows(table, elsets, sites, sensors=sensors))


def table_to_windows(
    table: WindowTable,
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    *,
    sensors: dict[int, Any] | None = None,
) -> Iterator[Window]:
    """:class:`Window` objects for rows of ``table`` (GSD where ``sensors`` knows the satellite)."""
    from overflight.times import datetime64_to_utc

    for i in range(len(table)):
        es = elsets[int(table.sat_index[i])]
        site = sites[int(table.site_index[i])]
        gsd_m = None
        sensor = (sensors or {}).get(es.norad_id)
        if sensor is not None:
            gsd_m = sensor.gsd_m(float(table.peak_range_km[i]), float(table.peak_incidence_deg[i]))
        yield Window(
            norad_id=es.norad_id,
            name=es.name,
            site=site.name,
            site_lat_deg=site.lat_deg,
            site_lon_deg=site.lon_deg,
            start=datetime64_to_utc(table.start[i]),
            peak=datetime64_to_utc(table.peak[i]),
            end=datetime64_to_utc(table.end[i]),
            max_elevation_deg=float(table.max_elevation_deg[i]),
            min_off_nadir_deg=float(table.min_off_nadir_deg[i]),
            min_range_km=float(table.min_range_km[i]),
            sun_elevation_deg=float(table.sun_elevation_deg[i]),
            satellite_sunlit=bool(table.satellite_sunlit[i]),
            direction="ascending" if table.ascending[i] else "descending",
            gsd_m=gsd_m,
            start_clipped=CLIP_NAMES[int(table.start_clip[i])],
            end_clipped=CLIP_NAMES[int(table.end_clip[i])],
        )
