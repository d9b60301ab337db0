"""Figures: overflight timelines, ground tracks, orbit histories and coverage maps.

Each function returns a :class:`matplotlib.figure.Figure` built with matplotlib's object API
(no pyplot, no global state): show it in Jupyter, or ``fig.savefig("file.png", dpi=110)``.
The CLI's ``--plot`` / ``--format png`` outputs are these figures.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from overflight.access import Window
    from overflight.coverage import CoverageComparison, CoverageResult
    from overflight.exposure import Exposure
    from overflight.geometry import Site
    from overflight.history import OrbitState
    from overflight.maneuvers import Maneuver
    from overflight.regions import Grid
    from overflight.results import Coverage, History, Passes, Track

__all__ = ["coverage", "exposure", "history", "timeline", "track"]

#: The tallest timeline, inches: it fits a landscape page with its title.
MAX_TIMELINE_HEIGHT_IN = 7.5
_ROW_IN = 0.2  # height of one timeline row, inches
_DAY_COLOR = "tab:orange"
_NIGHT_COLOR = "tab:blue"


def _date_axis(ax: Any) -> Any:
    import matplotlib.dates as mdates

    formatter: Any = mdates.DateFormatter
    ax.xaxis.set_major_formatter(formatter("%m-%d\n%H:%MZ"))
    date2num: Any = mdates.date2num
    return date2num


def _wrap(title: str, fig: Figure, fontsize: float) -> str:
    """Wrap a title to the figure width (about 0.6 em per character)."""
    width = max(30, int(fig.get_figwidth() * 72 / (0.6 * fontsize)))
    return "\n".join(textwrap.wrap(title, width))


# ---- timeline ---------------------------------------------------------------------------------
_FAMILY = re.compile(r"[\s\-_/(]*[0-9][0-9A-Z\-_ ()/]*$")


def _family(name: str) -> str:
    """A satellite name without its trailing serial: ``SENTINEL-6A`` -> ``SENTINEL``."""
    return _FAMILY.sub("", name.upper()).strip() or name

def timeline(
    windows: Passes | Sequence[Window],
    *,
    title: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    max_rows: int = 30,
) -> Figure:
    """Overflight timeline: a row per satellite (per satellite and site for several sites), a
    bar per window, orange where the Sun is above the site's horizon.

    Rows are ordered by first window; beyond ``max_rows`` the satellites seen least often share
    one last row, so the figure stays within a page (at most ``MAX_TIMELINE_HEIGHT_IN``).
    ``start``/``end``: the time axis (default: the request's interval, else the windows').
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from overflight.results import Passes

    wins: list[Window] = list(windows)
    if isinstance(windows, Passes):
        start = start or windows.start
        end = end or windows.end
    if start is None or end is None:
        if not wins:
            raise ValueError("timeline: no windows and no start/end to draw")
        start = start or min(w.start for w in wins)
        end = end or max(w.end for w in wins)
    several_sites = len({w.site for w in wins}) > 1
    max_rows = max(2, max_rows)
    # Too many satellites for a page: one row per family (name up to its first number:
    # "PRAETORIAN SDA_606" -> "PRAETORIAN SDA"), so constellations share a row.
    by_family = len({w.norad_id for w in wins}) > max_rows

    def key(w: Window) -> str:
        name = w.name or str(w.norad_id)
        if by_family:
            name = _family(name)
        return f"{name} — {w.site}" if several_sites else name

    first: dict[str, datetime] = {}
    count: dict[str, int] = {}
    members: dict[str, set[int]] = {}
    for w in wins:
        k = key(w)
        first[k] = min(first.get(k, w.start), w.start)
        count[k] = count.get(k, 0) + 1
        members.setdefault(k, set()).add(w.norad_id)
    labels = sorted(first, key=lambda k: (first[k], k))
    row_of = {k: i for i, k in enumerate(labels)}
    if len(labels) > max_rows:
        keep = set(sorted(labels, key=lambda k: (-count[k], first[k], k))[: max_rows - 1])
        rest = {n for k in labels if k not in keep for n in members[k]}
        labels = [k for k in labels if k in keep]
        row_of = {k: (labels.index(k) if k in keep else max_rows - 1) for k in first}
        labels.append(f"{len(rest)} other satellites")
    shown = [f"{k} ×{len(members[k])}" if by_family and len(members.get(k, ())) > 1 else k
             for k in labels]

    height = min(MAX_TIMELINE_HEIGHT_IN, 1.9 + _ROW_IN * max(len(labels), 3))
    fig = Figure(figsize=(12, height), layout="constrained")
    ax = fig.subplots()
    date2num = _date_axis(ax)
    for w in wins:
        x0 = date2num(w.start)
        width = max(date2num(w.end) - x0, 1 / 1440)
        color = _DAY_COLOR if w.sun_elevation_deg > 0 else _NIGHT_COLOR
        ax.broken_barh([(x0, width)], (row_of[key(w)] - 0.35, 0.7), color=color)
    fontsize = 7 if len(labels) <= 30 else max(4.0, 7 * 30 / len(labels))
    ax.set_yticks(range(len(labels)), shown, fontsize=fontsize)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlim(date2num(start), date2num(end))
    ax.grid(axis="x", alpha=0.3)
    fig.legend(handles=[Patch(color=_DAY_COLOR, label="Sun above the site's horizon"),
                        Patch(color=_NIGHT_COLOR, label="Sun below the site's horizon")],
               loc="outside lower center", fontsize=7, ncols=2, frameon=False)
    text = title or f"Overflight windows: {len(wins)}"
    ax.set_title(_wrap(text, fig, 10), fontsize=10)
    return fig


# ---- exposure ---------------------------------------------------------------------------------
_EXPOSED_COLOR = "tab:red"
_GAP_COLOR = "#9ecae1"
_LONGEST_COLOR = "#3182bd"


def exposure(result: Exposure, *, title: str | None = None, by: str = "country_kind",
             max_rows: int = 24) -> Figure:
    """Exposure timeline of one target: a first row for every satellite together, then one
    row per key of ``by`` (default country × kind, most exposed first); exposure intervals
    drawn as bars (at least a pixel wide), unobserved gaps shaded, each row's longest gap
    darker, its exposed percentage and longest gap on the right.

    At most ``max_rows`` rows (the least exposed keys are left out, and counted in the title);
    the figure fits a landscape page (at most ``MAX_TIMELINE_HEIGHT_IN`` tall).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows: list[tuple[str, str | None]] = [("all satellites", None)]
    stats = list(result.breakdown(by))
    max_rows = max(2, max_rows)
    hidden = max(0, len(stats) - (max_rows - 1))
    rows += [(k.key, k.key) for k in stats[: max_rows - 1]]
    height = min(MAX_TIMELINE_HEIGHT_IN, 2.1 + 0.32 * max(len(rows), 3))
    fig = Figure(figsize=(12, height), layout="constrained")
    ax = fig.subplots()
    date2num = _date_axis(ax)
    x_start, x_end = date2num(result.start), date2num(result.end)
    min_w = (x_end - x_start) / 1200  # about a pixel at 110 dpi: short windows stay visible
    right: list[str] = []
    for i, (_, key) in enumerate(rows):
        b = None if key is None else by
        gaps = result.unobserved(b, key).records
        if gaps:
            ax.broken_barh([(date2num(g.start), date2num(g.end) - date2num(g.start))
                            for g in gaps], (i - 0.4, 0.8), color=_GAP_COLOR, alpha=0.55,
                           linewidth=0)
            g = gaps[0]
            ax.broken_barh([(date2num(g.start), date2num(g.end) - date2num(g.start))],
                           (i - 0.4, 0.8), color=_LONGEST_COLOR, alpha=0.6, linewidth=0)
        spans = result.spans(b, key)
        if spans:
            ax.broken_barh([(date2num(a), max(date2num(e) - date2num(a), min_w))
                            for a, e in spans], (i - 0.3, 0.6), color=_EXPOSED_COLOR,
                           linewidth=0)
        exposed = sum((e - a).total_seconds() for a, e in spans)
        longest = gaps[0].duration_s if gaps else 0.0
        right.append(f"{100 * exposed / result.span_s:.1f}% · gap {longest / 3600:.1f} h")
    for a, e in result.incomplete:
        ax.axvspan(date2num(a), date2num(e), facecolor="none", edgecolor="0.35", hatch="//",
                   linewidth=0, zorder=3)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(x_start, x_end)
    ax.grid(axis="x", alpha=0.3)
    twin = ax.twinx()
    twin.set_ylim(len(rows) - 0.5, -0.5)
    twin.set_yticks(range(len(rows)), right, fontsize=7)
    fig.legend(handles=[Patch(color=_EXPOSED_COLOR, label="exposed (a window of a satellite "
                              "of the row)"),
                        Patch(color=_GAP_COLOR, alpha=0.55, label="unobserved"),
                        Patch(color=_LONGEST_COLOR, alpha=0.6, label="longest unobserved gap"),
                        *([Patch(facecolor="none", edgecolor="0.35", hatch="//",
                                 label="element sets too old for some satellites")]
                          if result.incomplete else [])],
               loc="outside lower center", fontsize=7, ncols=4, frameon=False)
    mode = "imaging" if result.imaging else "geometry only"
    text = title or (f"Exposure of {result.target}, {mode} (UTC)"
                     + (f"; {hidden} less exposed {by.replace('_', ' × ')} rows not shown"
                        if hidden else ""))
    ax.set_title(_wrap(text, fig, 10), fontsize=10)
    return fig


# ---- track ------------------------------------------------------------------------------------
def track(
    points: Track | Sequence[dict[str, Any]],
    *,
    title: str | None = None,
    marks: Sequence[Site | tuple[str, float, float]] = (),
) -> Figure:
    """Ground track over the world map; antimeridian crossings break the line.

    ``points``: a :class:`~overflight.results.Track` or rows with ``time``, ``lat_deg`` and
    ``lon_deg``; ``marks``: sites (or ``(name, lat_deg, lon_deg)``) drawn as stars.
    """
    import numpy as np
    from matplotlib.figure import Figure

    from overflight.basemap import draw_world
    from overflight.geometry import Site
    from overflight.results import Track
    from overflight.times import format_utc

    rows = points.rows() if isinstance(points, Track) else list(points)
    if isinstance(points, Track) and title is None:
        es = points.satellite
        title = f"{es.name} ({es.norad_id}) ground track, UTC"
    lon = np.array([np.nan if r["lon_deg"] is None else r["lon_deg"] for r in rows], dtype=float)
    lat = np.array([np.nan if r["lat_deg"] is None else r["lat_deg"] for r in rows], dtype=float)
    jump = np.abs(np.diff(lon)) > 180.0
    lon_plot = np.insert(lon, np.flatnonzero(jump) + 1, np.nan)
    lat_plot = np.insert(lat, np.flatnonzero(jump) + 1, np.nan)
    fig = Figure(figsize=(12, 6.2), layout="constrained")
    ax = fig.subplots()
    draw_world(ax)
    ax.plot(lon_plot, lat_plot, color="tab:red", linewidth=1.2, zorder=3)
    if rows:
        t = rows[0]["time"]
        ax.plot(lon[0], lat[0], "o", color="tab:red", zorder=4)
        ax.annotate(format_utc(t) if isinstance(t, datetime) else t, (lon[0], lat[0]),
                    fontsize=7, xytext=(4, 4), textcoords="offset points")
    for mark in marks:
        name, mlat, mlon = ((mark.name, mark.lat_deg, mark.lon_deg) if isinstance(mark, Site)
                            else mark)
        ax.plot(mlon, mlat, "*", color="black", markersize=10, zorder=5)
        ax.annotate(name, (mlon, mlat), fontsize=8, xytext=(5, -10), textcoords="offset points")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude °")
    ax.set_ylabel("latitude °")
    ax.set_title(title or "Ground track, UTC")
    ax.grid(alpha=0.3)
    return fig


# ---- history ----------------------------------------------------------------------------------
def history(
    states: History | Sequence[OrbitState],
    maneuvers: Sequence[Maneuver] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Perigee and apogee altitude over time, maneuvers marked (vertical lines, brackets shaded).

    ``states``: a :class:`~overflight.results.History` (its maneuvers are drawn unless
    ``maneuvers`` is given) or orbit states. Several objects get a colour each (perigee solid,
    apogee dashed).
    """
    from matplotlib.figure import Figure

    from overflight.results import History

    if isinstance(states, History) and maneuvers is None:
        maneuvers = list(states.maneuvers)
    seq = list(states)
    marks = list(maneuvers or [])
    by_object: dict[int, list[OrbitState]] = {}
    for s in seq:
        by_object.setdefault(s.norad_id, []).append(s)
    if title is None:
        if len(by_object) == 1:
            s0 = seq[0]
            title = f"{s0.name} ({s0.norad_id}) perigee and apogee"
        else:
            title = f"Perigee and apogee of {len(by_object)} objects"
    fig = Figure(figsize=(11, 5), layout="constrained")
    ax = fig.subplots()
    date2num = _date_axis(ax)
    if len(by_object) <= 1:
        t = date2num([s.epoch for s in seq])
        ax.plot(t, [s.apogee_alt_km for s in seq], ".-", color="tab:blue", label="apogee")
        ax.plot(t, [s.perigee_alt_km for s in seq], ".-", color="tab:red", label="perigee")
    else:
        for k, (nid, group) in enumerate(by_object.items()):
            t = date2num([s.epoch for s in group])
            color = f"C{k % 10}"
            label = f"{group[-1].name or nid}" if k < 12 else None
            ax.plot(t, [s.perigee_alt_km for s in group], ".-", color=color, label=label)
            ax.plot(t, [s.apogee_alt_km for s in group], ".--", color=color, lw=0.8)
    for k, m in enumerate(marks):
        ax.axvspan(date2num(m.before_epoch), date2num(m.after_epoch), color="tab:orange",
                   alpha=0.12, lw=0)
        mid = m.before_epoch + (m.after_epoch - m.before_epoch) / 2
        when = date2num(m.estimated_time or mid)
        ax.axvline(when, color="tab:orange", lw=1.2,
                   label="maneuver (estimated time; bracket shaded)" if k == 0 else None)
        ax.annotate(f"{m.kind}\n{m.delta_v_m_s:.2f} m/s", (when, 1.0),
                    xycoords=("data", "axes fraction"), fontsize=7, ha="center", va="top",
                    bbox={"boxstyle": "round", "fc": "white", "alpha": 0.8, "lw": 0})
    ax.set_ylabel("altitude above WGS-72 equatorial radius, km")
    ax.set_title(_wrap(title, fig, 12))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    return fig


# ---- coverage ---------------------------------------------------------------------------------
def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def coverage_title(what: str, grid: Grid, result: CoverageResult) -> str:
    """``what, region: N points at K km, S satellites, start → end`` (for figures and tables;
    with the hours whose statistics are not established when element sets were refused)."""
    from overflight.times import format_utc

    hyp = result.hypothetical
    note = f", incl. {len(hyp)} HYPOTHETICAL" if hyp else ""
    approx = " (approximate outline)" if grid.region.approximate else ""
    spans = result.incomplete
    tail = ""
    if spans:
        hours = sum((b - a).total_seconds() for a, b in spans) / 3600.0
        tail = (f"; INCOMPLETE: {hours:.1f} h from {format_utc(spans[0][0])} with element sets "
                "too old to use")
    return (f"{what}, {grid.region.name}{approx}: {len(grid)} points at {grid.spacing_km:g} km, "
            f"{len(result.satellites)} satellites{note}, {format_utc(result.start)} → "
            f"{format_utc(result.end)}{tail}")


def constraint_text(result: CoverageResult) -> str:
    """The access constraints of a coverage run in words (``off-nadir ≤ 30°, Sun ≥ 10°``)."""
    c = result.constraints
    parts = []
    if c.max_off_nadir_deg is not None:
        parts.append(f"off-nadir ≤ {c.max_off_nadir_deg:g}°")
    if c.min_elevation_deg is not None:
        parts.append(f"elevation ≥ {c.min_elevation_deg:g}°")
    if c.max_range_km is not None:
        parts.append(f"range ≤ {c.max_range_km:g} km")
    if c.sun_min_deg is not None:
        parts.append(f"Sun ≥ {c.sun_min_deg:g}°")
    if c.sun_max_deg is not None:
        parts.append(f"Sun ≤ {c.sun_max_deg:g}°")
    if c.sunlit is not None:
        parts.append("satellite sunlit" if c.sunlit else "satellite eclipsed")
    if c.min_duration_s:
        parts.append(f"≥ {c.min_duration_s:g} s")
    if result.max_gsd_m is not None:
        parts.append(f"GSD ≤ {result.max_gsd_m:g} m")
    if result.imaging:
        return "imaging: each satellite's own sensor rule" + "".join(f", {p}" for p in parts)
    return ", ".join(parts) or "above the horizon"


def _panel(ax: Any, grid: Grid, result: CoverageResult, clim: tuple[float, float],
           title: str) -> Any:
    from matplotlib.collections import PolyCollection
    from matplotlib.ticker import MaxNLocator

    from overflight.basemap import draw_world

    hours = result.max_gap_s / 3600.0
    coll = PolyCollection(list(grid.cells()), array=hours, cmap="viridis_r", clim=clim,
                          edgecolors="none", zorder=2)
    ax.add_collection(coll)
    draw_world(ax, color="black", linewidth=0.8)
    for poly in grid.region.polygons:
        ax.plot(poly.exterior[:, 0], poly.exterior[:, 1], color="tab:red", linewidth=0.6,
                linestyle="--", zorder=3)
    lon_min, lat_min, lon_max, lat_max = grid.region.bbox
    pad = max(0.3, 0.08 * max(lon_max - lon_min, lat_max - lat_min))
    ax.set_xlim(lon_min - pad, lon_max + pad)
    ax.set_ylim(lat_min - pad, lat_max + pad)
    mid = math.radians((lat_min + lat_max) / 2.0)
    ax.set_aspect(1.0 / max(math.cos(mid), 0.05))
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlabel("longitude °")
    ax.set_ylabel("latitude °")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    return coll


def coverage(
    result: Coverage | CoverageResult | CoverageComparison,
    grid: Grid | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Heat map of the maximum gap without access (hours) over the region's grid; two panels
    (one colour scale) for a baseline-vs-added comparison.

    ``result``: a :class:`~overflight.results.Coverage` (it carries its grid) or the library's
    ``CoverageResult``/``CoverageComparison`` with the ``grid`` it was computed on.
    """
    import numpy as np
    from matplotlib.figure import Figure

    from overflight.coverage import CoverageComparison
    from overflight.results import Coverage

    if isinstance(result, Coverage):
        grid = grid or result.grid
        result = result.result
    if grid is None:
        raise ValueError("coverage: give the grid the result was computed on")
    if isinstance(result, CoverageComparison):
        pair = [result.baseline, result.combined]
        main = result.combined
    else:
        pair = [result]
        main = result
    # One colour scale for both panels, stretched over the values present.
    lo = min(float(np.nanmin(r.max_gap_s)) for r in pair) / 3600.0
    hi = max(float(np.nanmax(r.max_gap_s)) for r in pair) / 3600.0
    if hi - lo < 0.1:
        lo, hi = max(0.0, lo - 0.5), hi + 0.5
    fig = Figure(figsize=(6.2 * len(pair) + 1.3, 7.0), layout="constrained")
    axes = fig.subplots(1, len(pair), squeeze=False)

    def stats(r: CoverageResult) -> str:
        s = r.summary()["max_gap_h"]
        return f"max gap p50 {_num(s['p50'])} h, p90 {_num(s['p90'])} h, max {_num(s['max'])} h"

    coll = None
    for ax, r in zip(axes[0], pair, strict=True):
        hyp = len(r.hypothetical)
        label = (f"{len(r.satellites) - hyp} satellites"
                 + (f" + {hyp} HYPOTHETICAL" if hyp else ""))
        coll = _panel(ax, grid, r, (lo, hi), f"{label}\n{stats(r)}")
    assert coll is not None
    fig.colorbar(coll, ax=list(axes[0]), shrink=0.8, label="maximum gap without access (h)")
    if title is None:
        title = coverage_title(
            "Maximum gap" if len(pair) == 1 else "Maximum gap, baseline vs with added", grid, main
        )
    width = int(fig.get_figwidth() * 13)
    fig.suptitle("\n".join([*textwrap.wrap(title, width), constraint_text(main)]), fontsize=9)
    if isinstance(result, CoverageComparison):
        d = result.difference()
        red = d["max_gap_reduction_h"]
        fig.supxlabel(
            "HYPOTHETICAL satellites shorten the max gap at "
            f"{d['points_with_shorter_max_gap']} of {len(grid)} points "
            f"(reduction p50 {_num(red['p50'])} h, p90 {_num(red['p90'])} h, "
            f"max {_num(red['max'])} h)", fontsize=9)
    return fig
