"""`overflight passes`, `overflight watch` and `overflight sites`: overflight windows."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from overflight.cli._common import DbOption, ObjectTypeOption, OwnerOption, emit, warn
from overflight.passes import WATCH_MAX_OFF_NADIR_DEG

if TYPE_CHECKING:
    from overflight.access import Window
    from overflight.passes import PassPlan


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


def plan_windows(plan: PassPlan, *, sensors_file: Path | None = None,
                 progress: bool = True, warnings: bool = True) -> list[Window]:
    """Warn about the plan's problems and stale element sets on stderr (unless ``warnings``
    is false), then compute its windows (a rich progress bar on stderr for long jobs)."""
    from overflight.sensors import load_sensors

    for line in plan.warnings("overflight catalog import") if warnings else []:
        warn(line)
    sensors = load_sensors(sensors_file)
    # workers=None: large jobs (several batches) use every core; small ones stay in-process.
    show = progress and sys.stderr.isatty() and len(plan.elsets) * len(plan.sites) > 200
    if not show:
        return plan.windows(sensors=sensors, workers=None)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("overflight windows", total=len(plan.elsets))
        return plan.windows(sensors=sensors, workers=None, batch_size=64,
                            progress=lambda done, total: bar.update(task, completed=done))


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
        from overflight.passes import WINDOW_DISPLAY_COLUMNS, window_display_row

        people = [window_display_row(w) for w in windows]
        emit(people, "table", title=title + " (UTC)", columns=WINDOW_DISPLAY_COLUMNS)
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
        owner: list[str] = OwnerOption, object_type: list[str] = ObjectTypeOption,
        db: Path | None = DbOption,
    ) -> None:
        """Overflight windows of satellites over sites, with sensor and lighting constraints."""
        from overflight.passes import checked_constraints, plan_passes, span_text

        c = checked_constraints(
            min_elevation_deg=min_elevation, max_off_nadir_deg=max_off_nadir,
            max_range_km=max_range, sun_min_deg=sun_min, sun_max_deg=sun_max, sunlit=sunlit,
            min_duration_s=min_duration)
        plan = plan_passes(sats=sat, groups=group, files=tle, sites=site, site_files=sites,
                           all_sites=all_sites, start=start, end=end, days=days,
                           constraints=c, db=db, owners=owner, object_types=object_type)
        windows = plan_windows(plan, sensors_file=sensors)
        write_windows(windows, fmt.value, f"Overflight windows {span_text(plan.start, plan.end)}")

    @app.command("watch")
    def watch(
        site: str = typer.Argument(..., help="Named site or LAT,LON[,ALT_M]."),
        sat: list[str] = typer.Option([], "--sat", "-s", help="NORAD id or name (repeatable)."),
        group: list[str] = typer.Option([], "--group", "-g", help="Catalog group (repeatable)."),
        tle: list[Path] = typer.Option([], "--tle", help="TLE/OMM file of satellites."),
        start: str | None = typer.Option(None, help="Start, ISO 8601; default now."),
        days: float = typer.Option(1.0, help="Length of the timeline in days."),
        min_elevation: float | None = typer.Option(None, help="Minimum elevation, deg."),
        max_off_nadir: float | None = typer.Option(WATCH_MAX_OFF_NADIR_DEG,
                                                   help="Maximum off-nadir, deg."),
        fmt: WatchFormat = typer.Option(WatchFormat.table, "--format", "-f"),
        output: Path | None = typer.Option(None, "--output", "-o", help="File for --format png."),
        owner: list[str] = OwnerOption, object_type: list[str] = ObjectTypeOption,
        db: Path | None = DbOption,
    ) -> None:
        """Overflight-warning timeline for one site: who can image it, and when."""
        from overflight.passes import WATCH_GROUP, checked_constraints, plan_passes, span_text

        c = checked_constraints(min_elevation_deg=min_elevation, max_off_nadir_deg=max_off_nadir)
        plan = plan_passes(sats=sat, groups=group, files=tle, sites=[site], start=start,
                           days=days, constraints=c, default_groups=[WATCH_GROUP], db=db,
                           owners=owner, object_types=object_type)
        windows = plan_windows(plan)
        target = plan.sites[0]
        title = f"Overflight warning for {target.name} {span_text(plan.start, plan.end)}"
        if fmt == WatchFormat.png:
            out = output or Path(f"watch-{_slug(target.name)}.png")
            gantt_png(windows, out, title, plan.start, plan.end)
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


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")
