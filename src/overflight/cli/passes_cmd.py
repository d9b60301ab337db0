"""`overflight passes`, `overflight watch` and `overflight sites`: overflight windows."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from overflight.cli import areas_cmd
from overflight.cli._common import (
    PROGRESS_AFTER_S,
    CountryOption,
    DbOption,
    IncludeUnknownOption,
    Interrupted,
    KindOption,
    MaxAgeDaysOption,
    MaxGsdOption,
    NoLimitOption,
    ObjectTypeOption,
    OperatorOption,
    OutputOption,
    OwnerOption,
    SchedulerOption,
    SensorsFileOption,
    check_job,
    deferred_interrupt,
    emit,
    incomplete_info,
    output_callback,
    output_to,
    progress_bar,
    stdout_bytes,
    warn,
    without_ctrl_c,
    wrote,
)
from overflight.cli.areas_cmd import AreaMode
from overflight.passes import WATCH_MAX_OFF_NADIR_DEG

if TYPE_CHECKING:
    from overflight.access import Window, WindowTable
    from overflight.export import Columns
    from overflight.passes import PassPlan
    from overflight.workload import Workload


class PassFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    ndjson = "ndjson"
    parquet = "parquet"
    ics = "ics"
    geojson = "geojson"
    kml = "kml"
    czml = "czml"


class WatchFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    ndjson = "ndjson"
    parquet = "parquet"
    ics = "ics"
    png = "png"
    geojson = "geojson"
    kml = "kml"
    czml = "czml"


# Formats written straight from the engine's columns (no Window object per row).
COLUMN_FORMATS = ("json", "csv", "ndjson", "parquet")


def plan_table(plan: PassPlan, *, progress: bool = True, warnings: bool = True,
               scheduler: str | None = None, no_limit: bool = True,
               job: str = "passes", work: Workload | None = None) -> WindowTable:
    """:func:`run_plan`'s table (Ctrl-C: :class:`Interrupted`, nothing partial is written)."""
    table, partial = run_plan(plan, progress=progress, warnings=warnings, scheduler=scheduler,
                              no_limit=no_limit, job=job, work=work)
    if partial is not None:
        raise Interrupted(incomplete_info(partial["satellites_done"], partial["satellites"],
                                          0, len(table)))
    return table


def run_plan(plan: PassPlan, *, progress: bool = True, warnings: bool = True,
             scheduler: str | None = None, no_limit: bool = False, job: str = "passes",
             work: Workload | None = None) -> tuple[WindowTable, dict[str, Any] | None]:
    """Warn about the plan's problems and stale element sets on stderr (unless ``warnings``
    is false), refuse it above the time cap (unless ``no_limit``; the estimate on stderr for
    long jobs), then compute its windows in display order: in this process and its forked
    workers, or on the Dask ``scheduler`` (``local``: a local cluster). A rich progress bar on
    stderr for long jobs; ``job``: whose estimate (``PassPlan.workload``); ``work``: the
    estimate of a job of several plans (:func:`job_workload`), already checked and said, that
    this plan is part of (for the bar; nothing is checked here). Ctrl-C returns the
    windows of the satellites done so far and ``{"satellites_done": k, "satellites": n}``
    (else None)."""
    for line in plan.warnings("overflight catalog import") if warnings else []:
        warn(line)
    note = plan.skipped_note()
    if warnings and note:
        warn(note)
    if work is None and plan.elsets:
        work = job_workload(plan, no_limit, job=job)
    parts: list[WindowTable] = []
    done = pending = 0

    def step(d: int, _total: int) -> None:
        nonlocal pending
        pending = d

    try:  # outside the cluster's block, so that it is closed as after Ctrl-C (quick, quiet)
        with _cluster(scheduler) as client, progress_bar(
                work if progress else None, "overflight windows") as bar:

            def both(d: int, total: int) -> None:
                step(d, total)
                if bar is not None:
                    bar(d, total)

            if bar is not None:
                bar(0, len(plan.elsets))
            # workers=None: large jobs (several batches) use every core; small ones stay
            # in-process. Long jobs in smaller batches, so the bar moves and Ctrl-C keeps more.
            long = work is not None and work.estimate_s >= PROGRESS_AFTER_S
            for part in plan.tables(workers=None, batch_size=64 if long else 512,
                                    progress=both, client=client):
                parts.append(part)
                done = pending
    except KeyboardInterrupt:
        return plan.ordered(parts), {"satellites_done": done,
                                     "satellites": len(plan.elsets)}
    return plan.ordered(parts), None


def job_workload(plan: PassPlan, no_limit: bool, *, job: str = "passes") -> Workload:
    """``plan``'s estimate (``job`` as :meth:`PassPlan.workload`) on this machine's cores,
    refused above the cap unless ``no_limit`` and said on stderr when long
    (:func:`~overflight.cli._common.check_job`)."""
    import os

    cpus = len(os.sched_getaffinity(0))
    return check_job(plan.workload(cores=cpus, job=job), no_limit)


def _cluster(scheduler: str | None) -> Any:
    """``scheduler``'s Dask client as a context (``local``: a new local cluster), else None."""
    from contextlib import nullcontext

    if not scheduler:
        return nullcontext(None)
    from overflight.coverage import dask_client

    return without_ctrl_c(dask_client() if scheduler == "local"
                          else dask_client(scheduler=scheduler))


def plan_windows(plan: PassPlan, *, sensors_file: Path | None = None,
                 progress: bool = True, warnings: bool = True,
                 scheduler: str | None = None, no_limit: bool = True,
                 work: Workload | None = None) -> list[Window]:
    """:func:`plan_table` as :class:`~overflight.access.Window` objects."""
    from overflight.sensors import load_sensors

    table = plan_table(plan, progress=progress, warnings=warnings, scheduler=scheduler,
                       no_limit=no_limit, work=work)
    return plan.to_windows(table, sensors=load_sensors(sensors_file))


def write_window_table(plan: PassPlan, table: WindowTable, fmt: str, *,
                       sensors_file: Path | None = None,
                       partial: dict[str, Any] | None = None) -> None:
    """JSON, CSV, NDJSON or Parquet of ``table``'s rows on stdout, written from columns in
    blocks. Output that is partial (``partial``: the job was interrupted, or Ctrl-C while
    writing) is closed as a whole file and marked (:func:`overflight.export.write_columns`,
    keys of :func:`~overflight.cli._common.incomplete_info`), and :class:`Interrupted` is
    raised."""
    from overflight.export import window_column_blocks, write_columns
    from overflight.sensors import load_sensors

    blocks = window_column_blocks(table, plan.elsets, plan.sites,
                                  sensors=load_sensors(sensors_file), extra=plan.extra_columns)
    out = stdout_bytes()
    rows = 0
    n = len(plan.elsets)
    info: dict[str, Any] | None = None

    def counted(items: Iterable[Columns]) -> Iterator[Columns]:
        nonlocal rows
        for block in items:
            yield block
            rows += len(next(iter(block.values()), []))

    def marker() -> dict[str, Any] | None:
        nonlocal info
        if partial is not None or stop:
            done = n if partial is None else partial["satellites_done"]
            info = incomplete_info(done, n, rows, len(table))
        return info

    with deferred_interrupt() as stop:
        write_columns(counted(stop.until(blocks)), fmt, out, marker=marker)
        out.flush()
    if info is not None:
        raise Interrupted(info, fmt)


def write_windows(windows: list[Window], fmt: str, title: str, *,
                  imaging: bool = False) -> None:
    """Windows in the chosen format on stdout."""
    from overflight.passes import window_dict

    rows = [window_dict(w) for w in windows]
    if fmt == "ics":
        from overflight.ics import windows_ics

        sys.stdout.write(windows_ics(windows, name=title))
    elif fmt == "table":
        if not rows:
            typer.echo("no windows")
            return
        from overflight.passes import (
            IMAGING_DISPLAY_COLUMNS,
            WINDOW_DISPLAY_COLUMNS,
            clip_note,
            window_display_row,
        )

        people = [window_display_row(w, imaging=imaging) for w in windows]
        extra = [c for c in IMAGING_DISPLAY_COLUMNS if c in people[0]]
        cols = WINDOW_DISPLAY_COLUMNS
        if "sensor" in people[0]:
            cols = [c for c in cols if c != "gsd m"]
        emit(people, "table", title=title + " (UTC)", columns=[*cols, *extra])
        note = clip_note(windows)
        if note:
            typer.echo(note)
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
        imaging: bool = typer.Option(False, "--imaging/--no-imaging",
                                     help="Each satellite's own sensor reach, lighting "
                                     "rule and resolution."),
        include_unknown: bool = IncludeUnknownOption,
        kind: str | None = KindOption,
        max_gsd: float | None = MaxGsdOption,
        country: str | None = CountryOption,
        operator: str | None = OperatorOption,
        max_age_days: float = MaxAgeDaysOption,
        sensors: Path | None = SensorsFileOption,
        fmt: PassFormat = typer.Option(PassFormat.table, "--format", "-f"),
        output: Path | None = OutputOption,
        owner: list[str] = OwnerOption, object_type: list[str] = ObjectTypeOption,
        scheduler: str | None = SchedulerOption,
        no_limit: bool = NoLimitOption,
        db: Path | None = DbOption,
        area: list[str] = typer.Option([], "--area", help="Area target: name or GeoJSON file."),
        area_mode: AreaMode = typer.Option(AreaMode.any, "--area-mode",
                                           help="Some (any) or all of the area in reach."),
    ) -> None:
        """Overflight windows of satellites over sites, with sensor and lighting constraints."""
        from overflight.passes import checked_constraints, plan_passes, span_text

        c = checked_constraints(
            min_elevation_deg=min_elevation, max_off_nadir_deg=max_off_nadir,
            max_range_km=max_range, sun_min_deg=sun_min, sun_max_deg=sun_max, sunlit=sunlit,
            min_duration_s=min_duration)
        areas = areas_cmd.resolve_areas(area)
        only_areas = bool(areas) and not (site or sites or all_sites)
        plan = plan_passes(sats=sat, groups=group, files=tle,
                           sites=areas_cmd.area_site_texts(areas) if only_areas else site,
                           site_files=sites, all_sites=all_sites, start=start, end=end,
                           days=days, constraints=c, db=db, owners=owner,
                           object_types=object_type, **imaging_args(
                               imaging, include_unknown, kind, max_gsd, country, operator,
                               max_age_days, sensors))
        with output_to(output):
            from overflight.cli._common import note_sites

            note_sites(site, sites)
            if areas or fmt.value in areas_cmd.GEO_FORMATS:
                areas_cmd.run_passes(plan, areas, area_mode.value, fmt.value,
                                     f"Overflight windows {span_text(plan.start, plan.end)}",
                                     sensors_file=sensors, point_sites=not only_areas,
                                     scheduler=scheduler, no_limit=no_limit)
                return
            if fmt.value in COLUMN_FORMATS:
                table, partial = run_plan(plan, scheduler=scheduler, no_limit=no_limit)
                write_window_table(plan, table, fmt.value, sensors_file=sensors, partial=partial)
                return
            windows = plan_windows(plan, sensors_file=sensors, scheduler=scheduler,
                                   no_limit=no_limit)
            write_windows(windows, fmt.value,
                          f"Overflight windows {span_text(plan.start, plan.end)}",
                          imaging=plan.imaging)

    @app.command("watch")
    def watch(
        site: str | None = typer.Argument(None, help="Named site or LAT,LON[,ALT_M]."),
        sat: list[str] = typer.Option([], "--sat", "-s", help="NORAD id or name (repeatable)."),
        group: list[str] = typer.Option([], "--group", "-g", help="Catalog group (repeatable)."),
        tle: list[Path] = typer.Option([], "--tle", help="TLE/OMM file of satellites."),
        start: str | None = typer.Option(None, help="Start, ISO 8601; default now."),
        days: float = typer.Option(1.0, help="Length of the timeline in days."),
        min_elevation: float | None = typer.Option(None, help="Minimum elevation, deg."),
        max_off_nadir: float | None = typer.Option(WATCH_MAX_OFF_NADIR_DEG,
                                                   help="Maximum off-nadir, deg."),
        imaging: bool = typer.Option(True, "--imaging/--no-imaging",
                                     help="Each satellite's own sensor rule (default); "
                                     "--no-imaging: geometry only."),
        include_unknown: bool = IncludeUnknownOption,
        kind: str | None = KindOption,
        max_gsd: float | None = MaxGsdOption,
        country: str | None = CountryOption,
        operator: str | None = OperatorOption,
        max_age_days: float = MaxAgeDaysOption,
        sensors: Path | None = SensorsFileOption,
        fmt: WatchFormat = typer.Option(WatchFormat.table, "--format", "-f"),
        output: Path | None = typer.Option(
            None, "--output", "-o", callback=output_callback,
            help="Output file (png: default watch-SITE.png; others: stdout)."),
        owner: list[str] = OwnerOption, object_type: list[str] = ObjectTypeOption,
        scheduler: str | None = SchedulerOption,
        no_limit: bool = NoLimitOption,
        db: Path | None = DbOption,
        area: str | None = typer.Option(None, "--area", help="Area target instead of a site."),
        area_mode: AreaMode = typer.Option(AreaMode.any, "--area-mode",
                                           help="Some (any) or all of the area in reach."),
    ) -> None:
        """Overflight-warning timeline for one site: who can image it, and when."""
        from overflight.passes import WATCH_GROUP, checked_constraints, plan_passes, span_text

        if (site is None) == (area is None):
            from overflight.passes import PassesError

            raise PassesError("watch: give a site or --area (one of them)")
        areas = areas_cmd.resolve_areas([area] if area else [])
        c = checked_constraints(min_elevation_deg=min_elevation, max_off_nadir_deg=max_off_nadir)
        plan = plan_passes(sats=sat, groups=group, files=tle,
                           sites=areas_cmd.area_site_texts(areas) if areas else [str(site)],
                           start=start, days=days, constraints=c,
                           default_groups=[WATCH_GROUP], db=db, owners=owner,
                           object_types=object_type,
                           **imaging_args(imaging, include_unknown, kind, max_gsd, country,
                                          operator, max_age_days, sensors))
        with output_to(None if fmt == WatchFormat.png else output):
            from overflight.cli._common import note_sites

            note_sites([site])
            if areas:
                title = f"Overflight warning for {areas[0].name} {span_text(plan.start, plan.end)}"
                if fmt == WatchFormat.png:
                    windows, _, partial = areas_cmd.area_job(
                        plan, areas, area_mode.value, sensors_file=sensors, point_sites=False,
                        scheduler=scheduler, no_limit=no_limit)
                    if partial is not None:
                        raise Interrupted(incomplete_info(partial["satellites_done"],
                                                          partial["satellites"], 0,
                                                          len(windows)))
                    out = output or Path(f"watch-{_slug(areas[0].name)}.png")
                    gantt_png(windows, out, title, plan.start, plan.end)
                    wrote(f"{out} ({len(windows)} windows)")
                    return
                areas_cmd.run_passes(plan, areas, area_mode.value, fmt.value, title,
                                     sensors_file=sensors, point_sites=False,
                                     scheduler=scheduler, no_limit=no_limit)
                return
            if fmt.value in areas_cmd.GEO_FORMATS:
                areas_cmd.run_passes(plan, [], area_mode.value, fmt.value, "",
                                     sensors_file=sensors, scheduler=scheduler,
                                     no_limit=no_limit)
                return
            if fmt.value in COLUMN_FORMATS:
                table, partial = run_plan(plan, scheduler=scheduler, no_limit=no_limit)
                write_window_table(plan, table, fmt.value, sensors_file=sensors, partial=partial)
                return
            windows = plan_windows(plan, sensors_file=sensors, scheduler=scheduler,
                                   no_limit=no_limit)
            target = plan.sites[0]
            title = f"Overflight warning for {target.name} {span_text(plan.start, plan.end)}"
            if fmt == WatchFormat.png:
                out = output or Path(f"watch-{_slug(target.name)}.png")
                gantt_png(windows, out, title, plan.start, plan.end)
                wrote(f"{out} ({len(windows)} windows)")
                return
            write_windows(windows, fmt.value, title, imaging=plan.imaging)

    @app.command("sites")
    def sites_cmd(
        fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
        output: Path | None = OutputOption,
    ) -> None:
        """The named sites shipped with overflight, with coordinate precision and source."""
        from overflight.sites import named_sites

        rows: list[dict[str, Any]] = [n.to_dict() for n in named_sites()]
        with output_to(output):
            emit(rows, fmt, title="Named sites",
                 columns=["name", "lat_deg", "lon_deg", "precision_m", "country", "source"])


def split_list(text: str | None) -> list[str]:
    """``"optical, sar"`` → ``["optical", "sar"]`` (None → [])."""
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def imaging_args(imaging: bool, include_unknown: bool, kind: str | None,
                 max_gsd: float | None, country: str | None, operator: str | None,
                 max_age_days: float, sensors: Path | None) -> dict[str, Any]:
    """The imaging, sensor-filter and age keywords of :func:`overflight.passes.plan_passes`."""
    from overflight.sensors import load_table

    return {"imaging": imaging, "include_unknown": include_unknown,
            "kinds": split_list(kind), "max_gsd_m": max_gsd, "countries": split_list(country),
            "operators": split_list(operator), "max_age_days": max_age_days,
            "sensors": load_table(sensors)}


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")
