"""`overflight passes`, `overflight watch` and `overflight sites`: overflight windows."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from overflight.cli._common import DbOption, UserError, emit, warn

if TYPE_CHECKING:
    from overflight.access import Constraints, Window
    from overflight.elements import ElementSet
    from overflight.geometry import Site


class PassFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    ics = "ics"


class WatchFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    ics = "ics"
    png = "png"


TABLE_COLUMNS = ["satellite", "site", "start", "peak", "end", "max el°", "off-nadir°",
                 "range km", "sun°", "lit", "dir", "gsd m"]
_STALE_DAYS = 7.0


def _constraints(
    min_elevation: float | None,
    max_off_nadir: float | None,
    max_range: float | None,
    sun_min: float | None,
    sun_max: float | None,
    sunlit: bool | None,
    min_duration: float,
) -> Constraints:
    from overflight.access import Constraints

    c = Constraints(
        min_elevation_deg=min_elevation,
        max_off_nadir_deg=max_off_nadir,
        max_range_km=max_range,
        sun_min_deg=sun_min,
        sun_max_deg=sun_max,
        sunlit=sunlit,
        min_duration_s=min_duration,
    )
    c.validate()
    return c


def _warn_stale(elsets: list[ElementSet], start: datetime, end: datetime) -> None:
    ages = [abs(e.age_days(start)) for e in elsets] + [abs(e.age_days(end)) for e in elsets]
    worst = max(ages)
    if worst > _STALE_DAYS:
        warn(
            f"element sets are up to {worst:.0f} days from the requested times; predictions "
            "degrade by kilometres per day of age (import fresh data: overflight catalog import)"
        )


def compute_windows(
    elsets: list[ElementSet],
    sites: list[Site],
    start: datetime,
    end: datetime,
    constraints: Constraints,
    *,
    sensors_file: Path | None = None,
    progress: bool = True,
) -> list[Window]:
    """Windows with a rich progress bar on stderr for long jobs."""
    from overflight.access import iter_window_tables, table_to_windows
    from overflight.sensors import load_sensors

    sensors = load_sensors(sensors_file)
    windows: list[Window] = []
    show = progress and sys.stderr.isatty() and len(elsets) * len(sites) > 200
    if show:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("overflight windows", total=len(elsets))
            for table in iter_window_tables(
                elsets, sites, start, end, constraints,
                batch_size=64, workers=None,
                progress=lambda done, total: bar.update(task, completed=done),
            ):
                windows.extend(table_to_windows(table, elsets, sites, sensors=sensors))
    else:
        # workers=None: large jobs (several batches) use every core; small ones stay in-process.
        for table in iter_window_tables(elsets, sites, start, end, constraints, workers=None):
            windows.extend(table_to_windows(table, elsets, sites, sensors=sensors))
    windows.sort(key=lambda w: (w.start, w.site, w.norad_id))
    return windows


def _ics(windows: list[Window]) -> str:
    from overflight import __version__

    def stamp(t: datetime) -> str:
        return t.strftime("%Y%m%dT%H%M%SZ")

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//overflight//{__version__}//EN",
             "CALSCALE:GREGORIAN"]
    for w in windows:
        uid = f"{w.norad_id}-{abs(hash(w.site)) % 10**8}-{stamp(w.start)}@overflight"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{stamp(w.start)}",
            f"DTSTART:{stamp(w.start)}",
            f"DTEND:{stamp(w.end)}",
            f"SUMMARY:{w.name or w.norad_id} over {w.site} (max {w.max_elevation_deg:.0f}°)",
            "DESCRIPTION:"
            + f"NORAD {w.norad_id}; peak {w.peak.strftime('%H:%M:%SZ')}; "
            f"min range {w.min_range_km:.0f} km; off-nadir {w.min_off_nadir_deg:.1f}°; "
            f"Sun {w.sun_elevation_deg:.1f}°; {w.direction}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def write_windows(windows: list[Window], fmt: str, title: str) -> None:
    """Windows in the chosen format on stdout."""
    rows = [w.to_dict() for w in windows]
    if fmt == "ics":
        sys.stdout.write(_ics(windows))
    elif fmt == "table":
        if not rows:
            typer.echo("no windows")
            return
        people = [
            {
                "satellite": f"{w.name} ({w.norad_id})",
                "site": w.site,
                "start": w.start.strftime("%m-%d %H:%M:%S"),
                "peak": w.peak.strftime("%H:%M:%S"),
                "end": w.end.strftime("%H:%M:%S"),
                "max el°": f"{w.max_elevation_deg:.1f}",
                "off-nadir°": f"{w.min_off_nadir_deg:.1f}",
                "range km": f"{w.min_range_km:.0f}",
                "sun°": f"{w.sun_elevation_deg:.0f}",
                "lit": "yes" if w.satellite_sunlit else "no",
                "dir": w.direction[:3],
                "gsd m": "" if w.gsd_m is None else f"{w.gsd_m:.2f}",
            }
            for w in windows
        ]
        emit(people, "table", title=title + " (UTC)", columns=TABLE_COLUMNS)
    else:
        emit(rows, fmt)


def gantt_png(
    windows: list[Window], path: Path, title: str, start: datetime, end: datetime
) -> None:
    """Overflight-warning timeline (``overflight.plot.timeline``) saved as a PNG."""
    from overflight.plot import timeline

    timeline(windows, title=title, start=start, end=end).savefig(path, dpi=110)


def register(app: typer.Typer) -> None:
    """Add `passes`, `watch` and `sites`."""

    @app.command("passes")
    def passes(
        sat: list[str] = typer.Option([], "--sat", "-s", help="NORAD id or name (repeatable)."),
        group: list[str] = typer.Option([], "--group", "-g", help="Catalog group (repeatable)."),
        tle: list[Path] = typer.Option([], "--tle", help="TLE/OMM file of satellites."),
        site: list[str] = typer.Option([], "--site", help="Named site or LAT,LON[,ALT_M]."),
        sites: list[Path] = typer.Option([], "--sites", help="Sites file: YAML, CSV, GeoJSON."),
        all_sites: bool = typer.Option(False, "--all-sites", help="All shipped named sites."),
        start: str | None = typer.Option(None, help="Start, ISO 8601 with Z or offset; 'now'."),
        end: str | None = typer.Option(None, help="End, ISO 8601."),
        days: float | None = typer.Option(None, help="Length in days instead of --end."),
        min_elevation: float | None = typer.Option(None, help="Min elevation at the site, deg."),
        max_off_nadir: float | None = typer.Option(None, help="Maximum off-nadir angle, deg."),
        max_range: float | None = typer.Option(None, help="Maximum slant range, km."),
        sun_min: float | None = typer.Option(None, help="Sun elevation at the site at least, deg."),
        sun_max: float | None = typer.Option(None, help="Sun elevation at the site at most, deg."),
        sunlit: bool | None = typer.Option(None, "--sunlit/--eclipsed",
                                           help="Satellite in sunlight / in Earth's shadow."),
        min_duration: float = typer.Option(0.0, help="Drop windows shorter than this, s."),
        sensors: Path | None = typer.Option(None, help="Sensor table overriding the shipped one."),
        fmt: PassFormat = typer.Option(PassFormat.table, "--format", "-f"),
        db: Path | None = DbOption,
    ) -> None:
        """Overflight windows of satellites over sites, with sensor and lighting constraints."""
        from overflight.selection import select_elements
        from overflight.sites import resolve_sites

        c = _constraints(min_elevation, max_off_nadir, max_range, sun_min, sun_max, sunlit,
                         min_duration)
        t0, t1 = _interval(start, end, days)
        site_list = resolve_sites(site, sites, all_named=all_sites)
        if not site_list:
            raise UserError("no sites given: use --site, --sites FILE or --all-sites")
        problems: list[str] = []
        elsets = select_elements(sat, group, tle, db=db, as_of=t0, warnings=problems)
        for p in problems:
            warn(p)
        _warn_stale(elsets, t0, t1)
        windows = compute_windows(elsets, site_list, t0, t1, c, sensors_file=sensors)
        write_windows(windows, fmt.value, f"Overflight windows {_span(t0, t1)}")

    @app.command("watch")
    def watch(
        site: str = typer.Argument(..., help="Named site or LAT,LON[,ALT_M]."),
        sat: list[str] = typer.Option([], "--sat", "-s", help="NORAD id or name (repeatable)."),
        group: list[str] = typer.Option([], "--group", "-g", help="Catalog group (repeatable)."),
        tle: list[Path] = typer.Option([], "--tle", help="TLE/OMM file of satellites."),
        start: str | None = typer.Option(None, help="Start, ISO 8601; default now."),
        days: float = typer.Option(1.0, help="Length of the timeline in days."),
        min_elevation: float | None = typer.Option(None, help="Minimum elevation, deg."),
        max_off_nadir: float | None = typer.Option(45.0, help="Maximum off-nadir, deg."),
        fmt: WatchFormat = typer.Option(WatchFormat.table, "--format", "-f"),
        output: Path | None = typer.Option(None, "--output", "-o", help="File for --format png."),
        db: Path | None = DbOption,
    ) -> None:
        """Overflight-warning timeline for one site: who can image it, and when."""
        from overflight.selection import select_elements
        from overflight.sites import resolve_site

        target = resolve_site(site)
        t0, t1 = _interval(start, None, days)
        c = _constraints(min_elevation, max_off_nadir, None, None, None, None, 0.0)
        problems: list[str] = []
        elsets = select_elements(sat, group or ([] if (sat or tle) else ["resource"]), tle,
                                 db=db, as_of=t0, warnings=problems)
        for p in problems:
            warn(p)
        _warn_stale(elsets, t0, t1)
        windows = compute_windows(elsets, [target], t0, t1, c)
        title = f"Overflight warning for {target.name} {_span(t0, t1)}"
        if fmt == WatchFormat.png:
            out = output or Path(f"watch-{_slug(target.name)}.png")
            gantt_png(windows, out, title, t0, t1)
            typer.echo(f"wrote {out} ({len(windows)} windows)")
            return
        write_windows(windows, fmt.value, title)

    @app.command("sites")
    def sites_cmd(
        fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    ) -> None:
        """The named sites shipped with overflight, with coordinate precision and source."""
        from overflight.sites import named_sites

        rows: list[dict[str, Any]] = [n.to_dict() for n in named_sites()]
        emit(rows, fmt, title="Named sites",
             columns=["name", "lat_deg", "lon_deg", "precision_m", "country", "source"])


def _interval(start: str | None, end: str | None, days: float | None) -> tuple[datetime, datetime]:
    from overflight.access import check_interval
    from overflight.cli._common import interval

    t0, t1 = interval(start, end, days)
    check_interval(t0, t1)
    return t0, t1


def _span(t0: datetime, t1: datetime) -> str:
    return f"{t0:%Y-%m-%d %H:%M}Z → {t1:%Y-%m-%d %H:%M}Z"


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")
