"""`overflight where` and `overflight track`: where a satellite is, and its ground track."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from overflight.cli._common import (
    DbOption,
    Format,
    OutputOption,
    PositionMaxAgeDaysOption,
    UserError,
    emit,
    output_to,
    warn,
    with_flags,
    wrote,
)
from overflight.elements import ElementSet
from overflight.track import track_rows as track_rows  # re-exported for older callers

MAX_TRACK_POINTS = 200_000
"""Points one `overflight track` may compute."""


class TrackFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    geojson = "geojson"


def _one_satellite(ref: str, db: Path | None, at: Any) -> Any:
    from overflight.selection import select_elements

    path = Path(ref)
    if path.suffix.lower() in (".tle", ".txt", ".json", ".xml", ".csv", ".gz") and path.exists():
        elsets = select_elements(files=[path], as_of=at)
    else:
        notes: list[str] = []
        elsets = select_elements([ref], db=db, as_of=at, warnings=notes)
        for line in notes:
            warn(line)
    if len(elsets) != 1:
        raise UserError(f"{ref!r} selects {len(elsets)} satellites; give one")
    return elsets[0]


def _warn_stale(es: ElementSet, start: datetime, end: datetime) -> None:
    """The stale-data warning of ``passes`` on stderr when ``es`` is more than
    ``freshness.STALE_AFTER_DAYS`` from the requested times (positions still shown, within
    --max-age-days)."""
    from overflight.freshness import stale_elements

    report = stale_elements([es], start, end)
    if report:
        warn(report.message("overflight catalog import"))


def plot_track(rows: list[dict[str, Any]], path: Path, title: str,
               marks: list[tuple[str, float, float]] = ()) -> None:  # type: ignore[assignment]
    """Ground track over the world map (``overflight.plot.track``) saved as a PNG."""
    from overflight.plot import track

    track(rows, title=title, marks=marks).savefig(path, dpi=110)


def _geojson(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    lines: list[list[list[float]]] = [[]]
    prev = None
    for r in rows:
        if r["lon_deg"] is None:
            continue
        if prev is not None and abs(r["lon_deg"] - prev) > 180.0:
            lines.append([])
        lines[-1].append([r["lon_deg"], r["lat_deg"], r["alt_km"] * 1000.0])
        prev = r["lon_deg"]
    return {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "properties": {"name": name, "start": rows[0]["time"] if rows else None,
                           "end": rows[-1]["time"] if rows else None},
            "geometry": {"type": "MultiLineString", "coordinates": [ln for ln in lines if ln]},
        }],
    }


def register(app: typer.Typer) -> None:
    """Add `where` and `track`."""

    @app.command("where")
    def where(
        sat: str = typer.Argument(..., help="NORAD id, name, or a TLE/OMM file of one satellite."),
        at: str = typer.Option("now", "--at", help="Time, ISO 8601 with Z or offset; 'now'."),
        fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or csv."),
        max_age_days: float = PositionMaxAgeDaysOption,
        output: Path | None = OutputOption,
        db: Path | None = DbOption,
    ) -> None:
        """Where a satellite is: position, altitude, sunlit, and over which place (refused
        more than --max-age-days from the element set's epoch)."""
        from overflight.basemap import describe_place
        from overflight.freshness import StaleElementsError
        from overflight.times import EPHEMERIS_SPAN, resolve_time

        when = resolve_time(at, "at", span=EPHEMERIS_SPAN)
        es = _one_satellite(sat, db, when)
        try:
            row = track_rows(es, [when], max_age_days=max_age_days)[0]
        except StaleElementsError as exc:  # one instant: the suggested time is --at's
            raise UserError(with_flags(str(exc)).replace("(--start ", "(--at ").replace(
                "at the requested times", "at the requested time").replace(
                "before the start)", "before it)").replace("after the end)", "after it)")) from None
        _warn_stale(es, when, when)
        info: dict[str, Any] = {"norad_id": es.norad_id, "name": es.name, **row,
                                "elset_epoch": es.to_dict()["epoch"],
                                "elset_age_days": round(es.age_days(when), 2)}
        if row["lat_deg"] is not None:
            info["over"] = describe_place(row["lat_deg"], row["lon_deg"])
        with output_to(output):
            if fmt == Format.json:
                json.dump(info, sys.stdout, indent=2)
                sys.stdout.write("\n")
            elif fmt == Format.csv:
                emit([info], "csv")
            else:
                emit([{"field": k, "value": v} for k, v in info.items()], "table",
                     title=f"{es.name} ({es.norad_id})", columns=["field", "value"])

    @app.command("track")
    def track(
        sat: str = typer.Argument(..., help="NORAD id, name, or a TLE/OMM file of one satellite."),
        start: str = typer.Option("now", help="Start, ISO 8601 with Z or offset; 'now'."),
        end: str | None = typer.Option(None, help="End, ISO 8601 (default: one orbit)."),
        step: float = typer.Option(60.0, help="Step in seconds (checked: finite, at most "
                                               "200,000 points)."),
        fmt: TrackFormat = typer.Option(TrackFormat.table, "--format", "-f"),
        plot: Path | None = typer.Option(None, help="Also draw the track over a world map (PNG)."),
        max_age_days: float = PositionMaxAgeDaysOption,
        output: Path | None = OutputOption,
        db: Path | None = DbOption,
    ) -> None:
        """Ground track of a satellite (nadir points), as a table, JSON, CSV, GeoJSON or map
        (refused more than --max-age-days from the element set's epoch)."""
        from overflight.times import resolve_interval, resolve_time, time_grid

        t0 = resolve_time(start, "start")
        es = _one_satellite(sat, db, t0)
        t0, t1 = resolve_interval(t0, end, default_days=es.period_min / 1440.0)
        rows = track_rows(es, time_grid(t0, t1, step, max_points=MAX_TRACK_POINTS),
                          max_age_days=max_age_days)
        _warn_stale(es, t0, t1)
        if plot is not None:
            plot_track(rows, plot, f"{es.name} ({es.norad_id}) ground track, UTC")
            wrote(plot)
        with output_to(output):
            if fmt == TrackFormat.geojson:
                json.dump(_geojson(rows, es.name), sys.stdout)
                sys.stdout.write("\n")
            else:
                emit(rows, fmt.value, title=f"{es.name} ({es.norad_id}) ground track (UTC)")
