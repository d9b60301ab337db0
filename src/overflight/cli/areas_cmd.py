"""`overflight areas` and the area/map branch of `passes` and `watch`: area targets, their
windows, and windows with footprints as GeoJSON, KML or CZML."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from overflight.cli._common import OutputOption, emit, output_to

if TYPE_CHECKING:
    from overflight.access import Window
    from overflight.areas import Area
    from overflight.geometry import Site
    from overflight.passes import PassPlan


class AreaMode(StrEnum):
    any = "any"
    all = "all"


GEO_FORMATS = ("geojson", "kml", "czml")
_COLUMN_FORMATS = ("json", "csv", "ndjson", "parquet")
_AREA_COLUMNS = ("area %",)


def resolve_areas(names: list[str]) -> list[Area]:
    """The areas of ``--area`` options (names or GeoJSON files)."""
    from overflight.areas import resolve_area

    return [resolve_area(n) for n in names]


def area_site_texts(areas: list[Area]) -> list[str]:
    """``LAT,LON`` of each area's centroid (what a passes plan needs as its sites)."""
    return [f"{a.centroid[0]:.6f},{a.centroid[1]:.6f}" for a in areas]


def area_job(plan: PassPlan, areas: list[Area], mode: str, *,
             sensors_file: Path | None = None, point_sites: bool = True,
             scheduler: str | None = None, no_limit: bool = False
             ) -> tuple[list[Window], list[Area | Site], dict[str, Any] | None]:
    """Windows of ``plan`` over its sites (if ``point_sites``) and over ``areas`` (each
    satellite's own rule in imaging plans), in display order, the targets they are over, and
    after Ctrl-C in the areas' search ``{"satellites_done": k, "satellites": n}`` (the windows
    are then those of the satellites done; else None).

    One job as for sites: warnings, then one estimate of the whole (each area's sample points
    count as sites), refused above the cap unless ``no_limit``, said on stderr and with a
    progress bar when long (:func:`~overflight.cli.passes_cmd.run_plan`)."""
    from dataclasses import replace

    from overflight.cli._common import warn
    from overflight.cli.passes_cmd import job_workload, plan_windows, run_plan
    from overflight.sensors import load_sensors

    for line in plan.warnings("overflight catalog import"):
        warn(line)
    note = plan.skipped_note()
    if note:
        warn(note)
    points, samples = plan.area_points(areas)
    whole = replace(points, sites=[*(plan.sites if point_sites else []), *points.sites])
    work = job_workload(whole, no_limit, job="area") if plan.elsets else None
    sensors = load_sensors(sensors_file)
    windows: list[Window] = []
    targets: list[Area | Site] = []
    if point_sites:
        windows += plan_windows(plan, sensors_file=sensors_file, warnings=False,
                                scheduler=scheduler, work=work)
        targets += plan.sites
    partial = None
    if areas:
        table, partial = run_plan(points, warnings=False, scheduler=scheduler, work=work)
        for a, area_windows in zip(areas, plan.combine_area_windows(
                points, samples, table, mode=mode, sensors=sensors), strict=True):
            windows += area_windows
            targets.append(a)
    windows.sort(key=lambda w: (w.start, w.site, w.norad_id))
    return windows, targets, partial


def write_geo(plan: PassPlan, windows: list[Window], targets: list[Area | Site], fmt: str, *,
              sensors_file: Path | None = None) -> None:
    """Windows with their footprints as GeoJSON, KML or CZML on stdout."""
    from overflight.geoformats import geo_document
    from overflight.sensors import load_sensors

    fps = plan.footprints(windows, sensors=load_sensors(sensors_file))
    sys.stdout.write(geo_document(fmt, targets, windows, fps))


def write_area_windows(windows: list[Window], fmt: str, title: str, *,
                       imaging: bool = False, partial: dict[str, Any] | None = None) -> None:
    """Area windows as a table (with the share of the area in reach; ``imaging``: with the
    sensor columns), JSON, CSV, NDJSON, Parquet or iCalendar on stdout. ``partial``
    (:func:`area_job` after Ctrl-C): JSON, CSV, NDJSON and Parquet are written whole and
    marked, other formats not at all, and :class:`~overflight.cli._common.Interrupted` is
    raised."""
    from overflight.cli._common import Interrupted, incomplete_info

    info = None if partial is None else incomplete_info(
        partial["satellites_done"], partial["satellites"], len(windows), len(windows))
    if info is not None and fmt not in _COLUMN_FORMATS:
        raise Interrupted({**info, "rows_written": 0})
    if fmt == "table":
        if not windows:
            typer.echo("no windows")
            return
        from overflight.passes import (
            IMAGING_DISPLAY_COLUMNS,
            WINDOW_DISPLAY_COLUMNS,
            clip_note,
            window_display_row,
        )

        rows = []
        for w in windows:
            row = window_display_row(w, imaging=imaging)
            fraction = getattr(w, "area_fraction", None)
            row["area %"] = "" if fraction is None else f"{100 * fraction:.0f}"
            rows.append(row)
        emit(rows, "table", title=title + " (UTC)",
             columns=[*WINDOW_DISPLAY_COLUMNS,
                      *(IMAGING_DISPLAY_COLUMNS if imaging else []), *_AREA_COLUMNS])
        note = clip_note(windows)
        if note:
            typer.echo(note)
        return
    if fmt == "ics":
        from overflight.cli.passes_cmd import write_windows

        write_windows(windows, fmt, title)
        return
    from overflight.export import columns_from_rows, write_columns
    from overflight.passes import window_dict

    dicts = [window_dict(w) for w in windows]
    names: list[str] = []
    for d in dicts:
        names += [k for k in d if k not in names]
    write_columns(columns_from_rows(dicts, names or None), fmt, sys.stdout.buffer,
                  marker=lambda: info)
    sys.stdout.buffer.flush()
    if info is not None:
        raise Interrupted(info, fmt)


def run_passes(plan: PassPlan, areas: list[Area], mode: str, fmt: str, title: str, *,
               sensors_file: Path | None = None, point_sites: bool = True,
               scheduler: str | None = None, no_limit: bool = False) -> None:
    """The area/map branch of `passes` and `watch`: windows over sites and areas
    (:func:`area_job`), written as ``fmt``."""
    windows, targets, partial = area_job(plan, areas, mode, sensors_file=sensors_file,
                                         point_sites=point_sites, scheduler=scheduler,
                                         no_limit=no_limit)
    if fmt in GEO_FORMATS:
        if partial is not None:
            from overflight.cli._common import Interrupted, incomplete_info

            raise Interrupted(incomplete_info(partial["satellites_done"],
                                              partial["satellites"], 0, len(windows)))
        write_geo(plan, windows, targets, fmt, sensors_file=sensors_file)
    else:
        write_area_windows(windows, fmt, title, imaging=plan.imaging, partial=partial)


def register(app: typer.Typer) -> None:
    """Add `areas`."""

    @app.command("areas")
    def areas_cmd(
        fmt: str = typer.Option("table", "--format", "-f", help="table, json, csv or geojson."),
        output: Path | None = OutputOption,
    ) -> None:
        """The area targets shipped with overflight (for --area), with outline precision and
        source."""
        from overflight.areas import named_areas

        shipped = list(named_areas().values())
        with output_to(output):
            _write_areas(shipped, fmt)


def _write_areas(shipped: list[Area], fmt: str) -> None:
    """The shipped area targets as a table, JSON, CSV or GeoJSON on stdout."""
    if fmt == "geojson":
        import json

        doc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {k: v for k, v in a.to_dict().items()
                                               if k != "bbox"},
             "geometry": a.geometry()} for a in shipped]}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
        return
    rows: list[dict[str, Any]] = [a.to_dict() for a in shipped]
    emit(rows, fmt, title="Area targets",
         columns=["name", "centroid_lat_deg", "centroid_lon_deg", "area_km2", "precision",
                  "source"])
