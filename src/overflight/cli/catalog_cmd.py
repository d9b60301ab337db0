"""`overflight catalog ...`: import, list, show, export element sets and SATCAT metadata;
list groups.

Exit status: 0 done; 1 done but some records were rejected (each on stderr as one line
``file:line: reason``); 2 nothing done (bad argument, missing file, unreachable URL).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from overflight.catalog import history_rows, info_row, list_rows
from overflight.cli._common import (
    EXIT_DATA,
    EXIT_USAGE,
    DbOption,
    Format,
    OutputOption,
    UserError,
    element_cells,
    emit,
    output_to,
    with_flags,
    wrote,
)

if TYPE_CHECKING:
    from overflight.catalog import Catalog, ImportResult

app = typer.Typer(no_args_is_help=True)


class ExportFormat(StrEnum):
    tle = "tle"
    omm_json = "omm-json"
    csv = "csv"
    omm_xml = "omm-xml"
    omm_kvn = "omm-kvn"


@contextmanager
def open_catalog(db: str | None, *, create: bool = False) -> Iterator[Catalog]:
    """The catalog (``--db``, else $OVERFLIGHT_DB, else the default; the bundled snapshot if no
    database exists and not ``create``), with catalog and store errors raised in the block
    turned into one-line :class:`UserError`. For every command that reads the catalog."""
    from overflight.catalog import Catalog, CatalogError
    from overflight.catalog.store import StoreError

    try:
        cat = Catalog.open(db, create=create)
    except (StoreError, CatalogError) as exc:
        raise UserError(str(exc)) from None
    try:
        yield cat
    except (StoreError, CatalogError) as exc:
        raise UserError(str(exc)) from None
    finally:
        cat.close()


def _check_group(cat: Catalog, group: str | None) -> None:
    from overflight.selection import check_groups

    check_groups(cat, [group] if group else [])


# ---- import ----------------------------------------------------------------------------------
class _Progress:
    """A rich progress bar on stderr, only when stderr is a terminal and the work is large."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        parse = stage.startswith("parse ")
        if self._progress is None:
            small = (total or 0) < (4_000_000 if parse else 20_000)
            if small and not stage.startswith("download "):
                return
            from rich.console import Console
            from rich.progress import Progress

            self._progress = Progress(console=Console(stderr=True), transient=True)
            self._progress.start()
        if not parse:  # parsing is over once anything else happens
            for name, task in self._tasks.items():
                if name.startswith("parse "):
                    self._progress.update(task, total=1, completed=1)
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._progress.add_task(stage, total=None)
        if not parse:
            self._progress.update(task, completed=done, total=total)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


@app.command("import")
def import_(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PATH_OR_URL...",
            help="Element-set files (TLE, OMM) or SATCAT files (CSV, JSON); .gz ok; or URLs.",
        ),
    ] = None,
    group: str | None = typer.Option(
        None, "--group", "-g", help="Group to file the objects under (default: the file stem)."
    ),
    strict: bool = typer.Option(False, "--strict", help="Store nothing if any record is bad."),
    input_format: str | None = typer.Option(
        None, "--input-format",
        help="tle, omm-json, omm-xml, omm-csv, omm-kvn, satcat-csv, satcat-json (default: sniff).",
    ),
    snapshot: bool = typer.Option(
        False, "--snapshot", help="Also import the snapshot bundled with overflight."
    ),
    no_snapshot: bool = typer.Option(
        False, "--no-snapshot",
        help="Start a new catalog empty (default: seeded with the bundled snapshot).",
    ),
    timeout: float = typer.Option(30.0, "--timeout", help="URL timeout, seconds.", min=0.01,
                                  max=86_400.0),
    max_size_mb: float = typer.Option(200.0, "--max-size", help="URL size cap, MB.", min=0.001,
                                      max=1_000_000.0),
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Summary format.")] = Format.table,
    output: Path | None = OutputOption,
    db: str | None = DbOption,
) -> None:
    """Import element sets or SATCAT metadata from files or http(s) URLs (CelesTrak,
    Space-Track).

    All sources are stored in one transaction; bad records are reported and skipped (exit 1).
    With --strict, nothing is stored if any record is bad. A new catalog is first seeded with
    the bundled snapshot (so it keeps serving those objects) unless --no-snapshot.
    """
    from overflight.catalog import snapshot_paths

    paths = list(sources or [])
    if snapshot:
        paths += [str(p) for p in snapshot_paths()]
    if not paths:
        raise UserError("give at least one file or URL to import (or --snapshot)")
    if input_format is not None:
        from overflight.catalog.formats import normalize_format

        try:
            input_format = normalize_format(input_format)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    from overflight.catalog.store import resolve_db_path

    progress = _Progress()
    seed = not (no_snapshot or snapshot)  # the library seeds only a catalog still empty
    db_path = resolve_db_path(db)
    new_file = not db_path.exists()
    with open_catalog(db, create=True) as cat:
        try:
            result = cat.import_sources(
                paths,
                group=group,
                strict=strict,
                fmt=input_format,
                timeout_s=timeout,
                max_bytes=int(max_size_mb * 1024 * 1024),
                progress=progress,
                seed_snapshot=seed,
            )
        finally:
            progress.stop()
        where = str(cat.path)
    for src in result.sources:
        for err in src.errors:
            sys.stderr.write(f"{err}\n")
    usable = any(src.valid or src.not_modified for src in result.sources)
    if new_file and not usable:
        # A first import that stored nothing leaves no empty database behind (one would hide
        # the bundled snapshot from every later command).
        for suffix in ("", "-wal", "-shm", "-journal"):
            db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    with output_to(output):
        _import_summary(result, fmt, where, usable=usable)
    if result.rejected:
        # Nothing usable in any source is "nothing done" (2); some records rejected is 1.
        raise typer.Exit(EXIT_DATA if usable else EXIT_USAGE)


def _import_summary(result: ImportResult, fmt: Format, where: str, *, usable: bool) -> None:
    """What ``catalog import`` says on stdout: the seeding, each source, what was stored
    (``usable``: anything was)."""
    if result.seeded is not None:
        out = sys.stdout if fmt is Format.table else sys.stderr
        out.write(with_flags(result.seeded.message()) + "\n")
    rows = []
    for src in result.sources:
        row = src.to_dict()
        row["note"] = (
            "not modified (nothing downloaded)"
            if src.not_modified
            else ("" if result.stored else "nothing stored (--strict)")
        )
        rows.append(row)
    columns = ["source", "group", "kind", "new", "duplicates", "rejected", "note"]
    emit(rows, fmt.value, title=f"Imported into {where}", columns=columns)
    if fmt is Format.table:
        stored = ("nothing stored (no valid record)" if not usable else
                  "stored" if result.stored else "NOT stored (--strict: rejected records)")
        satcat = f"{result.satcat} SATCAT entries, " if result.satcat else ""
        sys.stdout.write(
            f"{result.new} new element sets, {result.duplicates} duplicates skipped, "
            f"{satcat}{result.rejected} rejected; {stored}\n"
        )


# ---- list / show / groups / info -------------------------------------------------------------
@app.command("list")
def list_(
    group: str | None = typer.Option(None, "--group", "-g", help="Only this group."),
    name: str | None = typer.Option(None, "--name", "-n", help="Name glob, case-insensitive."),
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    output: Path | None = OutputOption,
    db: str | None = DbOption,
) -> None:
    """List objects with their latest element set (period, inclination, perigee, apogee)."""
    with open_catalog(db) as cat:
        _check_group(cat, group)
        latest = cat.latest(group=group, name=name)
        objs = cat.objects(group=group, name=name)
        title = f"{len(latest)} objects in {cat.description}"
    rows = list_rows(latest, objs, datetime.now(UTC))
    if fmt is Format.table:  # what fits a terminal
        columns = [
            "norad_id", "name", "epoch", "age_days", "inclination_deg", "perigee_alt_km",
            "apogee_alt_km",
        ]  # fmt: skip
        if any(row["owner"] or row["object_type"] for row in rows):  # SATCAT imported
            columns += ["owner", "object_type"]
        for row in rows:
            row["epoch"] = row["epoch"][:16].replace("T", " ")
    else:
        columns = [
            "norad_id", "name", "intl_designator", "epoch", "age_days", "period_min",
            "inclination_deg", "eccentricity", "perigee_alt_km", "apogee_alt_km", "orbit_class",
            "element_sets", "groups", "owner", "object_type", "launch_date", "launch_site",
            "decay_date", "rcs_m2",
        ]  # fmt: skip
    with output_to(output):
        emit(rows, fmt.value, title=title, columns=columns)


@app.command("show")
def show(
    satellite: str = typer.Argument(..., metavar="NORAD_OR_NAME", help="NORAD id, Alpha-5, name."),
    history: bool = typer.Option(False, "--history", help="Every stored element set."),
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    output: Path | None = OutputOption,
    db: str | None = DbOption,
) -> None:
    """Show an object's latest element set with derived values, or its whole history."""
    with output_to(output):
        _show(satellite, history, fmt, db)


def _show(satellite: str, history: bool, fmt: Format, db: str | None) -> None:
    """`catalog show` on stdout."""
    now = datetime.now(UTC)
    with open_catalog(db) as cat:
        obj = cat.resolve(satellite)
        sets = cat.history(obj.norad_id)
        names = cat.names(obj.norad_id)
    if not sets:
        raise UserError(f"no element sets stored for NORAD {obj.norad_id}")
    if history:
        rows = history_rows(sets, now)
        if fmt is Format.table:
            rows = [element_cells(row) for row in rows]
        columns = [
            "epoch", "age_days", "gap_h", "period_min", "inclination_deg", "eccentricity",
            "raan_deg", "perigee_alt_km", "apogee_alt_km", "bstar", "element_set_no", "name",
        ]  # fmt: skip
        title = f"{obj.norad_id} {obj.name}: {len(sets)} element sets"
        emit(rows, fmt.value, title=title, columns=columns)
        return
    info = info_row(obj, sets, names, now)
    if fmt is Format.table:
        order = [
            "norad_id", "name", "intl_designator", "groups", "epoch", "age_days", "period_min",
            "inclination_deg", "eccentricity", "perigee_alt_km", "apogee_alt_km",
            "semi_major_axis_km", "raan_deg", "arg_perigee_deg", "mean_anomaly_deg",
            "mean_motion_rev_day", "bstar", "mean_motion_dot", "mean_motion_ddot", "orbit_class",
            "element_set_no", "rev_at_epoch", "classification", "element_sets_stored",
            "first_epoch", "former_names", "owner", "object_type", "launch_date", "launch_site",
            "decay_date", "rcs_m2",
        ]  # fmt: skip
        rows = [{"field": k, "value": _table_value(info[k])} for k in order]
        emit(rows, "table", title=f"{obj.norad_id} {info['name']}", columns=["field", "value"])
        if info["tle"]:
            sys.stdout.write(info["tle"].rstrip("\n") + "\n")
        return
    emit([info], fmt.value, columns=list(info))


def _table_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    return "" if value is None else str(value)


@app.command("groups")
def groups(
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    output: Path | None = OutputOption,
    db: str | None = DbOption,
) -> None:
    """List the groups with their numbers of objects and element sets."""
    with open_catalog(db) as cat:
        rows = [g.to_dict() for g in cat.groups()]
        title = f"Groups in {cat.description}"
    with output_to(output):
        emit(rows, fmt.value, title=title,
             columns=["group", "objects", "element_sets", "last_epoch"])


@app.command("info")
def info(
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    output: Path | None = OutputOption,
    db: str | None = DbOption,
) -> None:
    """Where the catalog is and how much it holds."""
    from overflight.catalog.store import resolve_db_path

    with open_catalog(db) as cat:
        data = cat.info().to_dict()
    data["path"] = data["path"] or f"{resolve_db_path(db)} (absent: bundled snapshot in use)"
    with output_to(output):
        if fmt is Format.table:
            emit([{"field": k, "value": v} for k, v in data.items()], "table", title="Catalog")
        else:
            emit([data], fmt.value)


# ---- export ----------------------------------------------------------------------------------
@app.command("export")
def export(
    group: str | None = typer.Option(None, "--group", "-g", help="Only this group."),
    sat: Annotated[
        list[str] | None,
        typer.Option("--sat", "-s", help="Satellite (NORAD id, Alpha-5, name); repeatable."),
    ] = None,
    name: str | None = typer.Option(None, "--name", "-n", help="Name glob, case-insensitive."),
    history: bool = typer.Option(False, "--history", help="Every stored set, not only the latest."),
    out_format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.tle,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
    db: str | None = DbOption,
) -> None:
    """Export element sets as TLE, OMM JSON/XML/KVN or CSV; re-importing gives the same sets."""
    from overflight.catalog.formats import write_elements

    with open_catalog(db) as cat:
        _check_group(cat, group)
        ids = [o.norad_id for o in cat.resolve_many(sat)] if sat else None
        if history:
            by_obj = cat.history_many(group=group, name=name, norad_ids=ids)
            records = [es for sets in by_obj.values() for es in sets]
        else:
            records = cat.latest(group=group, name=name, norad_ids=ids)
    try:
        text = write_elements(records, out_format.value)
    except ValueError as exc:
        raise UserError(f"cannot export as {out_format.value}: {exc}") from None
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{output}: cannot write: {exc.strerror or exc}") from None
    if not records:
        sys.stderr.write("overflight: note: no element sets matched; nothing exported\n")
    elif output is not None:
        wrote(f"{len(records)} element sets to {output}")
