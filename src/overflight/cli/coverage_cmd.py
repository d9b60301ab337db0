"""`overflight coverage` and `overflight regions`: revisit and coverage of a region by a fleet."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from overflight.cli._common import (
    DbOption,
    Interrupted,
    NoLimitOption,
    ObjectTypeOption,
    OutputOption,
    OwnerOption,
    SensorsFileOption,
    UserError,
    check_job,
    deferred_interrupt,
    emit,
    incomplete_info,
    max_age_days_callback,
    output_callback,
    output_to,
    progress_bar,
    scheduler_callback,
    stdout_bytes,
    warn,
    with_flags,
    without_ctrl_c,
    wrote,
)

if TYPE_CHECKING:
    from overflight.coverage import CoverageComparison, CoverageInterrupted, CoverageResult
    from overflight.elements import ElementSet
    from overflight.regions import Grid

DEFAULT_OFF_NADIR_DEG = 30.0
DEFAULT_FLEET_GROUP = "resource"


class CoverageFormat(StrEnum):
    table = "table"
    json = "json"
    geojson = "geojson"
    csv = "csv"
    ndjson = "ndjson"
    parquet = "parquet"
    png = "png"


# One row per grid point, written from columns (``CoverageResult.point_rows``).
POINT_FORMATS = ("csv", "ndjson", "parquet")


# --------------------------------------------------------------------------------------------
# Fleet


def _split_fleet(specs: list[str], db: Path | None) -> tuple[list[Path], list[str], list[str]]:
    """``--fleet`` values as (files, groups, satellites): an existing file, a catalog group,
    else a NORAD id or name."""
    files: list[Path] = []
    groups: list[str] = []
    sats: list[str] = []
    known: set[str] | None = None
    for spec in specs:
        p = Path(spec)
        if p.is_file():
            files.append(p)
            continue
        if known is None:
            from overflight.catalog import Catalog

            with Catalog.open(db) as cat:
                known = {g.name for g in cat.groups()}
        (groups if spec in known else sats).append(spec)
    return files, groups, sats


def _hypothetical(sso: list[str], walker: list[str], orbit: list[str],
                  epoch: datetime) -> list[ElementSet]:
    from overflight.hypothetical import (
        HYPOTHETICAL_ID_BASE,
        HypotheticalError,
        parse_orbit_spec,
        parse_sso_spec,
        parse_walker_spec,
    )

    out: list[ElementSet] = []
    for flag, specs, parse in (("--add-sso", sso, parse_sso_spec),
                               ("--add-walker", walker, parse_walker_spec),
                               ("--add-orbit", orbit, parse_orbit_spec)):
        for spec in specs:
            try:
                out += parse(spec, epoch, HYPOTHETICAL_ID_BASE + len(out))
            except HypotheticalError as exc:
                raise UserError(f"{flag} {spec!r}: {exc}") from None
    return out


# --------------------------------------------------------------------------------------------
# Output


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


_PCT_ROWS = [("max_gap_h", "max gap incl. edges (h)", 2),
             ("revisit_mean_h", "mean revisit gap (h)", 2),
             ("revisit_max_h", "longest revisit gap (h)", 2),
             ("first_access_h", "time to first access (h)", 2),
             ("best_gsd_m", "best GSD (m)", 2)]


def summary_rows(summaries: list[dict[str, Any]]) -> list[list[str]]:
    """Figures of one or more summaries side by side (people-readable strings)."""
    rows: list[list[str]] = []

    def add(label: str, values: list[Any], digits: int = 2) -> None:
        rows.append([label, *(_fmt(v, digits) for v in values)])

    add("grid points", [s["points"] for s in summaries])
    add("satellites", [s["satellites"] for s in summaries])
    add("of which HYPOTHETICAL", [s["hypothetical_satellites"] for s in summaries])
    add("satellite windows", [s["windows"] for s in summaries])
    add("accesses per point per day (mean)", [s["accesses_per_day_mean"] for s in summaries])
    add("points never accessed", [s["points_never_accessed"] for s in summaries])
    add("time covered (mean %)",
        [None if s["coverage_fraction_mean"] is None else 100 * s["coverage_fraction_mean"]
         for s in summaries], 3)
    for key, label, digits in _PCT_ROWS:
        stats = ("p50", "p90", "max") if key != "best_gsd_m" else ("p50", "max")
        for q in stats:
            add(f"{label} {q}", [s[key][q] for s in summaries], digits)
    if any(s["incomplete_s"] for s in summaries):
        add("NOT ESTABLISHED: old element sets (h)",
            [s["incomplete_s"] / 3600.0 for s in summaries])
        add("  from", [s["incomplete_from"] or "–" for s in summaries])
    return rows


def _with_change(rows: list[list[str]]) -> list[list[str]]:
    out = []
    for label, a, b in rows:
        try:
            change = f"{int(b) - int(a):+d}"
        except ValueError:
            try:
                change = f"{float(b) - float(a):+.2f}"
            except ValueError:
                change = "–"
        out.append([label, a, b, change])
    return out


def _title(what: str, grid: Grid, result: CoverageResult) -> str:
    from overflight.plot import coverage_title

    return coverage_title(what, grid, result)


def _constraint_text(result: CoverageResult) -> str:
    from overflight.plot import constraint_text

    return constraint_text(result)


def _header(grid: Grid) -> dict[str, Any]:
    return {"region": grid.region.to_dict(), "grid_km": grid.spacing_km, "grid_points": len(grid)}


def write_table(grid: Grid, result: CoverageResult | CoverageComparison) -> None:
    """Region-wide figures as a table (two fleets and their change for a comparison)."""
    from overflight.coverage import CoverageComparison

    if isinstance(result, CoverageComparison):
        rows = _with_change(summary_rows([result.baseline.summary(),
                                          result.combined.summary()]))
        cols = ["figure", "baseline", "with added (HYPOTHETICAL)", "change"]
        main = result.combined
        title = _title("Coverage comparison", grid, main)
    else:
        rows = summary_rows([result.summary()])
        cols = ["figure", "value"]
        main = result
        title = _title("Coverage", grid, main)
    emit([dict(zip(cols, r, strict=True)) for r in rows], "table",
         title=f"{title}\n{_constraint_text(main)}", columns=cols)
    if main.hypothetical:
        names = ", ".join(f"{s.name} ({s.norad_id})" for s in main.hypothetical)
        typer.echo(f"HYPOTHETICAL satellites (not real; elements built by overflight): {names}")


def write_json(grid: Grid, result: CoverageResult | CoverageComparison, fmt: str) -> None:
    """JSON (summary + points) or GeoJSON (points with properties) to stdout."""
    from overflight.coverage import CoverageComparison

    head = _header(grid)
    doc: dict[str, Any]
    if fmt == "geojson":
        if isinstance(result, CoverageComparison):
            doc = result.combined.to_geojson()
            base = result.baseline.point_rows()
            for feat, b in zip(doc["features"], base, strict=True):
                feat["properties"]["baseline"] = b
            doc["baseline_summary"] = result.baseline.summary()
            doc["difference"] = result.difference()
        else:
            doc = result.to_geojson()
        doc = {"type": doc.pop("type"), **head, **doc}
    else:
        doc = {**head, **result.to_dict()}
    sys.stdout.write(json.dumps(doc, indent=1, allow_nan=False) + "\n")


def write_points(result: CoverageResult | CoverageComparison, fmt: str, *,
                 points_done: int | None = None, points: int | None = None) -> None:
    """One row per grid point as CSV, NDJSON or Parquet, to stdout. A partial
    result (``points_done`` of ``points`` grid points: Ctrl-C) is marked incomplete and
    :class:`Interrupted` raised (also on Ctrl-C while writing)."""
    from overflight.coverage import CoverageComparison
    from overflight.export import columns_from_rows, write_columns

    main = result.combined if isinstance(result, CoverageComparison) else result
    cols = columns_from_rows(main.point_rows())
    rows = len(main)
    info: dict[str, Any] | None = None

    def marker() -> dict[str, Any] | None:
        nonlocal info
        if points_done is not None or stop:
            info = incomplete_info(rows if points_done is None else points_done,
                                   rows if points is None else points, rows, rows,
                                   unit="grid_points")
        return info

    with deferred_interrupt() as stop:
        write_columns(cols, fmt, stdout_bytes(), marker=marker)
    if info is not None:
        raise Interrupted(info, fmt)


def write_interrupted(stop: CoverageInterrupted, fmt: str) -> None:
    """Ctrl-C during the computation: the finished grid points, marked incomplete, where the
    format is one row per point; then :class:`Interrupted` (exit 130)."""
    if fmt in POINT_FORMATS and stop.partial is not None:
        write_points(stop.partial, fmt, points_done=stop.points_done,
                     points=stop.points)
    raise Interrupted(incomplete_info(stop.points_done, stop.points, 0, stop.points_done,
                                      unit="grid_points"))


def write_png(grid: Grid, result: CoverageResult | CoverageComparison, path: Path) -> None:
    """Heat map of the maximum gap (``overflight.plot.coverage``) saved as a PNG."""
    from overflight.plot import coverage

    coverage(result, grid).savefig(path, dpi=110)


# --------------------------------------------------------------------------------------------
# Command


def register(app: typer.Typer) -> None:
    """Add `coverage` and `regions`."""

    @app.command("coverage")
    def coverage_cmd(
        region: str = typer.Option(..., "--region", "-r",
                                   help="Named region (see `overflight regions`), a box "
                                   "S,W,N,E in degrees, or a GeoJSON polygon file."),
        grid_km: float = typer.Option(10.0, "--grid-km", help="Grid spacing, km."),
        fleet: list[str] = typer.Option([], "--fleet",
                                        help="Catalog group, TLE/OMM file, or NORAD id/name "
                                        "(repeatable; default: group 'resource')."),
        sat: list[str] = typer.Option([], "--sat", "-s", help="NORAD id or name (repeatable)."),
        group: list[str] = typer.Option([], "--group", "-g", help="Catalog group (repeatable)."),
        tle: list[Path] = typer.Option([], "--tle", help="TLE/OMM file of satellites."),
        add_sso: list[str] = typer.Option([], "--add-sso", help="HYPOTHETICAL sun-synchronous "
                                          "satellites ALT_KM:LTAN[:COUNT], e.g. 500:10.5:3."),
        add_walker: list[str] = typer.Option([], "--add-walker",
                                             help="HYPOTHETICAL Walker pattern "
                                             "ALT_KM:INC_DEG|sso:T/P/F[:RAAN0_DEG]."),
        add_orbit: list[str] = typer.Option([], "--add-orbit", help="HYPOTHETICAL satellite "
                                            "ALT_KM:INC:RAAN[:ECC[:ARGP[:MA]]] (deg)."),
        hypothetical_gsd: float | None = typer.Option(
            None, help="Nadir GSD (m) assumed for the hypothetical satellites at their altitude."),
        compare: bool = typer.Option(False, "--compare",
                                     help="Baseline vs with the hypothetical satellites."),
        start: str | None = typer.Option(None, help="Start, ISO 8601 with Z or offset; default "
                                         "now. Hypothetical satellites have this epoch."),
        end: str | None = typer.Option(None, help="End, ISO 8601."),
        days: float | None = typer.Option(None, help="Length in days instead of --end "
                                          "(default 1)."),
        min_elevation: float | None = typer.Option(None, help="Min elevation at the point, deg."),
        max_off_nadir: float | None = typer.Option(
            None, help=f"Max off-nadir angle, deg (default {DEFAULT_OFF_NADIR_DEG:g} unless "
            "--min-elevation is given)."),
        sun_min: float | None = typer.Option(None, help="Sun elevation at the point at least, "
                                             "deg (daylight: 0 or 10)."),
        sun_max: float | None = typer.Option(None, help="Sun elevation at most, deg."),
        min_duration: float = typer.Option(0.0, help="Ignore windows shorter than this, s."),
        max_gsd: float | None = typer.Option(None, help="Count only the parts of windows "
                                             "whose resolution is at most this, m, as passes "
                                             "--max-gsd does."),
        imaging: bool = typer.Option(False, "--imaging/--no-imaging",
                                     help="Each satellite's own sensor reach, lighting rule, "
                                     "radar incidence band and resolution (no 30° default)."),
        include_unknown: bool = typer.Option(False, "--include-unknown",
                                             help="Imaging: keep satellites the sensor table "
                                             "does not know (held to the given limits)."),
        kind: str | None = typer.Option(None, "--kind",
                                        help="Imaging: sensor kinds, e.g. optical,sar."),
        country: str | None = typer.Option(None, "--country", help="Imaging: operator "
                                           "countries (ISO alpha-3), e.g. CHN,RUS."),
        operator: str | None = typer.Option(None, "--operator", help="Imaging: text in the "
                                            "operator's name (comma-separated)."),
        max_age_days: float | None = typer.Option(
            None, "--max-age-days", callback=max_age_days_callback,
            help="Refuse windows further than this from the element set's epoch, days "
            "(default 14, at most 366; as in passes)."),
        sensors: Path | None = SensorsFileOption,
        max_altitude: float | None = typer.Option(
            None, help="Leave out fleet satellites whose apogee is above this altitude, km "
            "(e.g. 2000 for low orbits only: a geostationary imager sees the region all day)."),
        scheduler: str | None = typer.Option(None, callback=scheduler_callback,
                                             help="Dask scheduler tcp://host:port (or "
                                             "tls://, or 'local') to run the shards on."),
        workers: int | None = typer.Option(None, help="Local workers: 1 = this process; N > 1 = "
                                           "a local Dask cluster (default: a cluster for large "
                                           "jobs only)."),
        owner: list[str] = OwnerOption, object_type: list[str] = ObjectTypeOption,
        fmt: CoverageFormat = typer.Option(CoverageFormat.table, "--format", "-f"),
        output: Path | None = typer.Option(None, "--output", "-o", callback=output_callback,
                                           help="Output file (png: default "
                                           "coverage-<region>.png; others: instead of stdout)."),
        no_limit: bool = NoLimitOption,
        db: Path | None = DbOption,
    ) -> None:
        """Revisit and coverage of a region by a fleet: gaps, first access, time covered."""
        from overflight.access import Constraints
        from overflight.coverage import CoverageError, CoverageInterrupted
        from overflight.elements import EARTH_RADIUS_KM
        from overflight.hypothetical import HypotheticalError
        from overflight.regions import RegionError, grid, resolve_region
        from overflight.sensors import Sensor, check_filters, load_sensors, load_table
        from overflight.times import resolve_interval

        if workers is not None and workers < 1:
            raise UserError(f"--workers must be at least 1, got {workers}")
        if hypothetical_gsd is not None and not hypothetical_gsd > 0:
            raise UserError(f"--hypothetical-gsd must be positive, got {hypothetical_gsd}")
        img: dict[str, Any] = {}
        if imaging:
            from overflight.cli.passes_cmd import split_list

            img = {"imaging": True, "include_unknown": include_unknown,
                   "kinds": split_list(kind), "countries": split_list(country),
                   "operators": split_list(operator)}
        elif include_unknown or kind or country or operator:
            raise UserError("--include-unknown, --kind, --country and --operator need --imaging")
        if max_age_days is not None:
            img["max_age_days"] = max_age_days
        with output_to(None if fmt == CoverageFormat.png else output):
            try:
                c = Constraints(
                    min_elevation_deg=min_elevation,
                    max_off_nadir_deg=(DEFAULT_OFF_NADIR_DEG if max_off_nadir is None
                                       and min_elevation is None and not imaging
                                       else max_off_nadir),
                    sun_min_deg=sun_min, sun_max_deg=sun_max, min_duration_s=min_duration)
                c.validate()
                check_filters(max_gsd_m=max_gsd)  # before any warning about --max-gsd
                t0, t1 = resolve_interval(start, end, days)
                reg = resolve_region(region)
                g = grid(reg, grid_km)
                added = _hypothetical(add_sso, add_walker, add_orbit, t0)
                if compare and not added:
                    raise UserError("--compare needs hypothetical satellites: --add-sso, "
                                    "--add-walker or --add-orbit")
                sensor_table = load_table(sensors) if imaging else load_sensors(sensors)
                if hypothetical_gsd is not None:
                    for e in added:
                        sensor_table[e.norad_id] = Sensor(
                            e.norad_id, e.name, hypothetical_gsd,
                            e.semi_major_axis_km - EARTH_RADIUS_KM,
                            max_off_nadir_deg=(DEFAULT_OFF_NADIR_DEG if max_off_nadir is None
                                               else max_off_nadir),
                            source="assumed for a hypothetical satellite (--hypothetical-gsd)")
                elsets = _fleet(fleet, sat, group, tle, db, t0, max_altitude,
                                owners=owner, object_types=object_type)
                if max_gsd is not None and not imaging:
                    missing = [e for e in elsets + added if e.norad_id not in sensor_table]
                    if missing:
                        warn(f"--max-gsd: {len(missing)} of {len(elsets) + len(added)} satellites "
                             "have no sensor entry and count for nothing (see --sensors"
                             + (", --hypothetical-gsd" if added else "") + ")")
                result = _compute(elsets, added, compare, g, t0, t1, c, max_gsd, sensor_table,
                                  scheduler, workers, no_limit, img)
            except (RegionError, HypotheticalError, CoverageError) as exc:
                raise UserError(with_flags(str(exc), {"spacing_km": "--grid-km"})) from None
            except CoverageInterrupted as stop:
                write_interrupted(stop, fmt.value)
            main = result if not hasattr(result, "combined") else result.combined
            # As in passes: the age warning speaks of the element sets used, the refused ones are
            # counted apart (and without --imaging, --max-gsd's own line above has its part).
            if main.stale:
                warn(main.stale.message("overflight catalog import"))
            if main.skipped_note and (imaging or any(
                    not k.reason.startswith("no sensor entry") for k in main.skipped)):
                warn(main.skipped_note)
            if main.incomplete_note:
                warn(main.incomplete_note)
            for norad_id, code in sorted(main.sgp4_errors.items()):
                from overflight.propagation import error_message

                warn(f"satellite {norad_id}: SGP4 failed ({error_message(code)}); those times "
                     "count as not visible")
            if fmt == CoverageFormat.png:
                out = output or Path(f"coverage-{reg.name.replace(' ', '-').replace(',', '_')}.png")
                write_png(g, result, out)
                wrote(out)
            elif fmt == CoverageFormat.table:
                write_table(g, result)
            elif fmt.value in POINT_FORMATS:
                write_points(result, fmt.value)
            else:
                write_json(g, result, fmt.value)

    @app.command("regions")
    def regions_cmd(
        fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
        output: Path | None = OutputOption,
    ) -> None:
        """The named regions shipped with overflight, with their sources."""
        from overflight.regions import named_regions

        rows = [r.to_dict() for r in named_regions().values()]
        for row in rows:
            row["bbox"] = ", ".join(f"{v:g}" for v in row["bbox"])
        with output_to(output):
            emit(rows, fmt, title="Named regions",
                 columns=["name", "title", "approximate", "bbox", "source"])


def _fleet(fleet: list[str], sat: list[str], group: list[str], tle: list[Path],
           db: Path | None, t0: datetime, max_altitude: float | None, *,
           owners: list[str] | None = None,
           object_types: list[str] | None = None) -> list[ElementSet]:
    from overflight.hypothetical import is_hypothetical
    from overflight.selection import select_elements

    files, groups, sats = _split_fleet(fleet, db)
    files += tle
    groups += group
    sats += sat
    problems: list[str] = []
    elsets = select_elements(sats, groups, files, db=db, as_of=t0,
                             default_groups=[DEFAULT_FLEET_GROUP], warnings=problems,
                             owners=owners, object_types=object_types)
    for p in problems:
        warn(p)
    if max_altitude is not None:
        elsets = [e for e in elsets if e.apogee_alt_km <= max_altitude]
        if not elsets:
            raise UserError(f"no fleet satellite has its apogee below {max_altitude:g} km")
    real = [e for e in elsets if not is_hypothetical(e)]
    if len(real) != len(elsets):
        warn(f"{len(elsets) - len(real)} element sets in the fleet use the hypothetical id "
             "range or name; they are labelled HYPOTHETICAL")
    return elsets


def _compute(
    elsets: list[ElementSet],
    added: list[ElementSet],
    compare: bool,
    g: Grid,
    t0: datetime,
    t1: datetime,
    c: Any,
    max_gsd: float | None,
    sensor_table: dict[int, Any],
    scheduler: str | None,
    workers: int | None,
    no_limit: bool = False,
    imaging: dict[str, Any] | None = None,
) -> CoverageResult | CoverageComparison:
    import os
    from contextlib import nullcontext

    from overflight.coverage import (
        compare_coverage,
        coverage,
        dask_client,
        resolve_method,
    )
    from overflight.workload import coverage_workload, local_cluster_pays

    points = g.sites()
    cpus = len(os.sched_getaffinity(0))
    sats, per_unit, days = _fleet_reach(elsets + added, t0, t1, c, sensor_table, max_gsd,
                                        imaging or {})
    how, im = resolve_method("auto", points), bool((imaging or {}).get("imaging"))
    one = coverage_workload(sats, len(points), days, c, method=how, per_unit=per_unit,
                            imaging=im, cut=max_gsd is not None)
    if scheduler:
        ctx: Any = dask_client(scheduler=scheduler)
        cores, local = cpus, scheduler == "local"
    elif (workers or 1) > 1 or (workers is None and local_cluster_pays(one, cpus)):
        ctx = dask_client(workers=workers or cpus)
        cores, local = workers or cpus, True
    else:
        ctx = nullcontext(None)
        cores, local = 1, False
    work = check_job(coverage_workload(sats, len(points), days, c, cores=cores,
                                       method=how, per_unit=per_unit, local_cluster=local,
                                       imaging=im, cut=max_gsd is not None), no_limit)
    with without_ctrl_c(ctx) as client, progress_bar(work, "coverage") as bar:
        kwargs: dict[str, Any] = {"max_gsd_m": max_gsd, "sensors": sensor_table,
                                  "client": client, **(imaging or {})}
        if bar is not None:
            kwargs["progress"] = bar
        if compare:
            return compare_coverage(elsets, added, points, t0, t1, c, **kwargs)
        return coverage(elsets + added, points, t0, t1, c, **kwargs)


def _fleet_reach(elsets: list[ElementSet], t0: datetime, t1: datetime, c: Any,
                 sensor_table: dict[int, Any], max_gsd: float | None,
                 options: dict[str, Any]) -> tuple[int, float, float]:
    """The satellites a coverage run will compute, their windows per satellite × point × day
    (each one's own reach with ``--imaging``) and their mean usable days (element-set age),
    from the plan ``passes`` would make, as the library's selection does: the estimate counts
    what will be searched."""
    from overflight.errors import OverflightError
    from overflight.passes import plan_elements
    from overflight.workload import windows_per_unit

    opts = {k: v for k, v in options.items() if v is not None}
    imaging = bool(opts.pop("imaging", False))
    if imaging or max_gsd is not None:  # the same prefilter as the library's selection
        opts.update(sensors=sensor_table, max_gsd_m=max_gsd)
    try:
        plan = plan_elements(elsets, [], t0, t1, c, imaging=imaging,
                             **{"sensors": {}, **opts})
    except OverflightError:
        days = (t1 - t0).total_seconds() / 86400.0
        return len(elsets), windows_per_unit(c), days  # the library will say what is wrong
    return max(1, len(plan.elsets)), plan.windows_per_unit, plan.usable_days
