"""`overflight exposure TARGET`: when a site is watched, by which country's optical and radar
satellites, and when it is not (an open SATRAN)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from overflight.cli._common import (
    CountryOption,
    DbOption,
    IncludeUnknownOption,
    KindOption,
    MaxAgeDaysOption,
    MaxGsdOption,
    NoLimitOption,
    OperatorOption,
    SchedulerOption,
    SensorsFileOption,
    UserError,
    emit,
    output_callback,
    output_to,
    warn,
    wrote,
)

if TYPE_CHECKING:
    from overflight.exposure import Exposure


class ExposureFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    ics = "ics"
    png = "png"
    svg = "svg"
    html = "html"


class By(StrEnum):
    country = "country"
    kind = "kind"
    operator = "operator"
    country_kind = "country_kind"


FILE_FORMATS = ("png", "svg", "html")  # written to a file (--output, else a default name)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def write_table(result: Exposure, by: str, top: int) -> None:
    """Summary, longest gaps overall and per key, the breakdown and the exposure intervals."""
    from overflight.exposure import BREAKDOWN_COLUMNS, breakdown_row, u_row
    from overflight.passes import span_text
    from overflight.results import _cell

    s = result.summary()
    nxt = s["next_exposure"]
    typer.echo(f"Exposure of {result.target} {span_text(result.start, result.end)} "
               f"({'imaging' if result.imaging else 'geometry only'})")
    typer.echo(f"  exposed {100 * s['exposed_fraction']:.2f}% of the time by "
               f"{s['satellites']} of {s['satellites_computed']} satellites in "
               f"{s['intervals']} intervals ({s['windows']} windows)")
    if s["longest_unobserved_start"] is not None:
        typer.echo(f"  longest unobserved: {s['longest_unobserved_s'] / 3600:.2f} h, "
                   f"{_cell(s['longest_unobserved_start'])} → "
                   f"{_cell(s['longest_unobserved_end'])}")
    typer.echo("  next exposure: " + ("none in the span" if nxt is None else
               f"{_cell(nxt)} ({', '.join(s['next_exposure_satellites'][:6])}"
               + (" …" if len(s["next_exposure_satellites"]) > 6 else "") + ")"))
    gaps = [u_row(u) for u in result.unobserved().records[:top]]
    if gaps:
        emit(gaps, "table", title=f"Longest unobserved intervals (UTC, top {top})",
             columns=["start", "end", "hours"])
    emit([breakdown_row(k) for k in result.breakdown(by)], "table",
         title=f"Exposure by {by.replace('_', ' × ')} (UTC)", columns=BREAKDOWN_COLUMNS)
    per_key = [u_row(u) for u in result.unobserved(by).records[:top]]
    if per_key:
        emit(per_key, "table", title=f"Longest unobserved by {by.replace('_', ' × ')} "
             f"(no satellite of that {by.replace('_', ' × ')}; top {top})",
             columns=["key", "start", "end", "hours"])
    rows = [{"start": _cell(r.start), "end": _cell(r.end)[11:],
             "min": f"{r.duration_s / 60:.1f}",
             "satellites": ", ".join(o.name for o in r.satellites[:4])
             + (f" +{len(r.satellites) - 4}" if len(r.satellites) > 4 else ""),
             "countries": " ".join(r.countries), "kinds": " ".join(r.kinds),
             "best m": "" if r.best_gsd_m is None else f"{r.best_gsd_m:.2f}"}
            for r in result]
    if rows:
        emit(rows, "table", title="Exposure intervals (UTC)",
             columns=["start", "end", "min", "satellites", "countries", "kinds", "best m"])
    else:
        typer.echo("no exposure intervals: unobserved throughout")


def register(app: typer.Typer) -> None:
    """Add `exposure`."""

    @app.command("exposure")
    def exposure(
        target: str | None = typer.Argument(None, help="Named site or LAT,LON[,ALT_M]."),
        area: str | None = typer.Option(None, "--area",
                                        help="Area target instead of a site: name or GeoJSON "
                                        "file (a window over any part of it counts)."),
        sat: list[str] = typer.Option([], "--sat", "-s", help="NORAD id or name (repeatable)."),
        group: list[str] = typer.Option([], "--group", "-g", help="Catalog group (repeatable)."),
        tle: list[Path] = typer.Option([], "--tle", help="TLE/OMM file of satellites."),
        start: str | None = typer.Option(None, help="Start, ISO 8601 with Z or offset; 'now'."),
        end: str | None = typer.Option(None, help="End, ISO 8601."),
        days: float | None = typer.Option(None, help="Length in days instead of --end."),
        imaging: bool = typer.Option(True, "--imaging/--no-imaging",
                                     help="Each satellite's own sensor rule (default); "
                                     "--no-imaging: geometry only."),
        min_elevation: float | None = typer.Option(None, help="Geometry: min elevation, deg."),
        max_off_nadir: float | None = typer.Option(None, help="Geometry: max off-nadir, deg."),
        include_unknown: bool = IncludeUnknownOption,
        kind: str | None = KindOption,
        max_gsd: float | None = MaxGsdOption,
        country: str | None = CountryOption,
        operator: str | None = OperatorOption,
        max_age_days: float = MaxAgeDaysOption,
        sensors: Path | None = SensorsFileOption,
        by: By = typer.Option(By.country, "--by", help="Breakdown of the unobserved times."),
        top: int = typer.Option(10, "--top", min=1, help="Gaps listed in the table."),
        fmt: ExposureFormat = typer.Option(ExposureFormat.table, "--format", "-f"),
        output: Path | None = typer.Option(None, "--output", "-o", callback=output_callback,
                                           help="Output file (png/svg/html: default "
                                           "exposure-TARGET.EXT; others: instead of stdout)."),
        scheduler: str | None = SchedulerOption,
        no_limit: bool = NoLimitOption,
        db: Path | None = DbOption,
    ) -> None:
        """When a site is exposed to which country's optical and radar satellites, and when
        it is not watched at all (default: the 'resource' group, imaging rules, one day)."""
        from overflight.cli.passes_cmd import imaging_args, plan_table
        from overflight.exposure import CSV_COLUMNS, exposure_of_plan
        from overflight.passes import WATCH_GROUP, checked_constraints, plan_passes

        if (target is None) == (area is None):
            raise UserError("exposure: give a site or --area (one of them)")
        c = checked_constraints(min_elevation_deg=min_elevation, max_off_nadir_deg=max_off_nadir)
        shape = None
        if area is not None:
            from overflight.areas import resolve_area

            shape = resolve_area(area)
            target = f"{shape.centroid[0]:.6f},{shape.centroid[1]:.6f}"
        plan = plan_passes(sats=sat, groups=group, files=tle, sites=[str(target)], start=start,
                           end=end, days=days, constraints=c, default_groups=[WATCH_GROUP],
                           db=db, **imaging_args(imaging, include_unknown, kind, max_gsd,
                                                 country, operator, max_age_days, sensors))
        from overflight.cli._common import note_sites

        note_sites([target] if shape is None else [])
        if shape is not None:
            # The area's sample points are the target's sites: any of them in view counts.
            plan = plan.area_points([shape])[0]
        table = plan_table(plan, scheduler=scheduler, no_limit=no_limit, job="exposure")
        result = exposure_of_plan(plan, table=table,
                                  target=None if shape is None else shape.name)
        for line in result.warnings[len(plan.warnings()):]:  # the exposure's own notes
            warn(line)
        if fmt.value in FILE_FORMATS:
            out = output or Path(f"exposure-{_slug(result.target)}.{fmt.value}")
            if fmt.value == "html":
                out.write_text(result.to_html(by=[by.value]), encoding="utf-8")
            else:
                from overflight.plot import exposure as figure

                figure(result).savefig(out, format=fmt.value, dpi=110)
            wrote(f"{out} ({len(result)} exposure intervals)")
            return
        with output_to(output):
            if fmt == ExposureFormat.json:
                import json

                json.dump(result.to_dict(by=[by.value]), sys.stdout, indent=2, allow_nan=False)
                sys.stdout.write("\n")
            elif fmt == ExposureFormat.csv:
                emit(result.csv_rows(by.value), "csv", columns=CSV_COLUMNS)
            elif fmt == ExposureFormat.ics:
                sys.stdout.write(result.to_ics())
            else:
                write_table(result, by.value, top)
