"""`overflight sensors`: the sensor table (imagers and known non-imagers) with sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from overflight.cli._common import (
    CountryOption,
    KindOption,
    OperatorOption,
    OutputOption,
    SensorsFileOption,
    emit,
    output_to,
)

COLUMNS = ["norad_id", "name", "images", "kind", "operator", "country", "best_gsd_m",
           "max_off_nadir_deg", "incidence_min_deg", "incidence_max_deg", "look_side",
           "sun_min_deg", "confidence", "imaging_ended", "reason", "source"]
# The table view: what fits a terminal (JSON and CSV give every column, and every source).
TABLE_COLUMNS = ["norad_id", "name", "kind", "operator", "country", "best_gsd_m", "reach",
                 "sun_min_deg", "confidence", "imaging_ended", "reason", "source"]


def register(app: typer.Typer) -> None:
    """Add `sensors`."""

    @app.command("sensors")
    def sensors_cmd(
        kind: str | None = KindOption,
        max_gsd: float | None = typer.Option(None, "--max-gsd",
                                             help="Best nominal resolution at most, m."),
        country: str | None = CountryOption,
        operator: str | None = OperatorOption,
        sensors: Path | None = SensorsFileOption,
        fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
        output: Path | None = OutputOption,
    ) -> None:
        """The sensor table: what each known satellite images with, its reach, lighting rule
        and sources (non-imagers listed with the reason; filters keep imagers only)."""
        from overflight.cli.passes_cmd import split_list
        from overflight.sensors import filter_table, load_table, sensor_rows

        table = filter_table(load_table(sensors), kinds=split_list(kind), max_gsd_m=max_gsd,
                             countries=split_list(country), operators=split_list(operator))
        rows = sensor_rows(table)
        if fmt == "table":
            for row in rows:
                row["kind"] = row["kind"] or "none"
                row["reach"] = reach_text(row)
                row["source"] = first_source(row["sources"])
        elif fmt == "csv":
            for row in rows:
                row["sources"] = " | ".join(row["sources"])
        with output_to(output):
            if fmt == "table":
                emit(rows, fmt, title=f"Sensor table ({len(rows)} satellites)",
                     columns=TABLE_COLUMNS)
            else:
                emit(rows, fmt)


def first_source(sources: list[str]) -> str:
    """The first source, with how many more there are (a table cell: JSON gives them all)."""
    if len(sources) <= 1:
        return sources[0] if sources else ""
    return f"{sources[0]} (+{len(sources) - 1} more: -f json)"


def reach_text(row: dict[str, Any]) -> str:
    """A sensor row's reach in a few words: ``≤45° off-nadir``, ``20–60° incidence, right``."""
    parts = []
    if row["max_off_nadir_deg"] is not None:
        parts.append(f"≤{row['max_off_nadir_deg']:g}° off-nadir")
    if row["incidence_min_deg"] is not None and row["incidence_max_deg"] is not None:
        side = f", {row['look_side']}" if row["look_side"] else ""
        parts.append(f"{row['incidence_min_deg']:g}–{row['incidence_max_deg']:g}° incidence"
                     f"{side}")
    return "; ".join(parts)
