"""`overflight sensors`: the sensor table (imagers and known non-imagers) with sources."""

from __future__ import annotations

from pathlib import Path

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
           "sun_min_deg", "confidence", "imaging_ended", "source"]


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
        with output_to(output):
            if fmt == "table":
                emit(rows, fmt, title=f"Sensor table ({len(rows)} satellites)",
                     columns=[c for c in COLUMNS if c != "source"] + ["reason"])
            else:
                emit(rows, fmt)
