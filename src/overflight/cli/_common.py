"""Shared CLI plumbing: output formats, one-line errors, exit codes, the catalog option."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from overflight.freshness import MAX_AGE_DAYS, REFUSE_AFTER_DAYS

if TYPE_CHECKING:
    from overflight.workload import Workload

T = TypeVar("T")

__all__ = [
    "EXIT_DATA",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROGRESS_AFTER_S",
    "DbOption",
    "Format",
    "Interrupted",
    "NoLimitOption",
    "ObjectTypeOption",
    "OutputOption",
    "OwnerOption",
    "SchedulerOption",
    "Terminated",
    "UserError",
    "WholeWriter",
    "check_job",
    "deferred_interrupt",
    "emit",
    "fail",
    "incomplete_info",
    "interrupted_exit_code",
    "interrupted_line",
    "output_to",
    "progress_bar",
    "stdout_bytes",
    "stop_on_sigterm",
    "without_ctrl_c",
]

EXIT_OK = 0
EXIT_DATA = 1  # completed, but some input records were rejected
EXIT_USAGE = 2  # bad arguments or input: nothing was done
EXIT_WORKER = 3  # a worker process died (killed, out of memory): the job did not finish
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it

PROGRESS_AFTER_S = 2.0
"""Jobs estimated at least this long say so on stderr and show a progress bar (terminals)."""


class UserError(Exception):
    """A mistake by the user (bad argument, unreadable file): printed as one line, no traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised by the handler :func:`stop_on_sigterm` installs: a subclass of
    ``KeyboardInterrupt``, so that every job stops on it exactly as on Ctrl-C (exit 143)."""


def incomplete_info(done: int, total: int, rows_written: int, rows: int, *,
                    unit: str = "satellites") -> dict[str, Any]:
    """The incompleteness marker of an interrupted job, always with the same keys:
    ``incomplete, {unit}_done, {unit}, rows_written, rows`` (``unit``: ``satellites``, or
    ``grid_points`` for coverage). ``rows``: rows the finished part holds."""
    return {"incomplete": True, f"{unit}_done": done, unit: total,
            "rows_written": rows_written, "rows": rows}


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) ended a job after its partial output was written and marked with
    ``info`` (:func:`incomplete_info`; None: nothing was written). The entry point prints
    :func:`interrupted_line` and exits 130 (143 for SIGTERM)."""

    def __init__(self, info: dict[str, Any] | None = None, fmt: str | None = None) -> None:
        super().__init__(interrupted_line(info, fmt))
        self.info = info


def interrupted_line(info: dict[str, Any] | None = None, fmt: str | None = None) -> str:
    """The one stderr line of an interrupted job, e.g. ``overflight: interrupted after 40 of
    167 satellites; 1,200 rows written (ndjson output marked incomplete)``."""
    if not info:
        return "overflight: interrupted"
    unit = next(k[:-5] for k in info if k.endswith("_done"))
    shown = unit.replace("_", " ")
    head = f"overflight: interrupted after {info[unit + '_done']:,} of {info[unit]:,} {shown}"
    if fmt is None:
        return head + "; no output written"
    how = ("json array closed; it is INCOMPLETE" if fmt == "json"
           else f"{fmt} output marked incomplete")
    return f"{head}; {info['rows_written']:,} rows written ({how})"


_stop_signal = [0]  # the last stop signal seen (SIGINT or SIGTERM), for the exit status


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Within the block SIGTERM stops a job as Ctrl-C does (it raises :class:`Terminated`):
    workers ended, partial output marked, one line on stderr. Main thread only; forked
    workers reset it (:mod:`overflight.access.pool`)."""
    import signal
    import threading

    _stop_signal[0] = 0
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        _stop_signal[0] = signum
        raise Terminated

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def interrupted_exit_code() -> int:
    """130 after Ctrl-C, 143 after SIGTERM (128 + the signal, as shells report it)."""
    import signal

    return 128 + signal.SIGTERM if _stop_signal[0] == signal.SIGTERM else EXIT_INTERRUPTED


NoLimitOption = typer.Option(
    False, "--no-limit",
    help="Run even when the estimated time is above the cap (OVERFLIGHT_MAX_JOB_S, "
    "default 600 s).")

def scheduler_callback(value: str | None) -> str | None:
    """``--scheduler`` checked before anything is loaded
    (:func:`overflight.coverage.scheduler_address`): one line, exit 2."""
    from overflight.errors import OverflightError

    if value is None:
        return None
    from overflight.coverage import scheduler_address

    try:
        return scheduler_address(value, "--scheduler")
    except OverflightError as exc:
        raise UserError(str(exc)) from None


SchedulerOption = typer.Option(
    None, "--scheduler", callback=scheduler_callback,
    help="Run on a Dask cluster: tcp://host:port, or 'local' for a local cluster "
    "(default: this process and its forked workers).")
"""``--scheduler`` of the window commands (``passes``, ``watch``, ``exposure``), read by
:func:`overflight.cli.passes_cmd.run_plan`."""


DbOption = typer.Option(
    None,
    "--db",
    envvar="OVERFLIGHT_DB",
    help="Catalog database file (default: the user data directory; OVERFLIGHT_DB).",
)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``overflight: error: message`` on stderr and exit with ``code``."""
    sys.stderr.write(f"overflight: error: {message}\n")
    raise SystemExit(code)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1e6 else f"{value:.6g}"
    return str(value)


# How orbital elements read in tables (history, catalog show --history), by ElementSet's field
# names: eccentricity and B* are too small for emit's three decimals.
_ELEMENT_FORMATS = {
    "eccentricity": ".7f", "inclination_deg": ".4f", "raan_deg": ".4f", "arg_perigee_deg": ".4f",
    "mean_motion_rev_day": ".8f", "mean_motion_dot": ".3e", "bstar": ".3e",
}  # fmt: skip


def element_cell(name: str, value: float | None) -> str:
    """An orbital element (``name`` as in ``ElementSet``) as tables show it; others to three
    decimals."""
    return "" if value is None else format(value, _ELEMENT_FORMATS.get(name, ".3f"))


def element_cells(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` with its orbital elements as :func:`element_cell` shows them, for a table."""
    return {k: element_cell(k, v) if k in _ELEMENT_FORMATS else v for k, v in row.items()}


def emit(
    rows: Sequence[Mapping[str, Any]],
    fmt: str,
    *,
    title: str | None = None,
    columns: Sequence[str] | None = None,
    out: Any = None,
) -> None:
    """Write rows as a rich table (people), JSON array or CSV (programs) to stdout."""
    if fmt not in ("table", "json", "csv"):
        raise UserError(f"--format {fmt}: this command writes table, json or csv")
    out = out or sys.stdout
    cols = list(columns) if columns else (list(rows[0].keys()) if rows else [])
    if fmt == "json":
        json.dump(list(rows), out, indent=2, default=str)
        out.write("\n")
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in cols})
        out.write(buf.getvalue())
    else:
        from rich.console import Console
        from rich.table import Table

        cells = [[_cell(row.get(c)) for c in cols] for row in rows]
        # Piped output (files, scripts, notebooks) gets a wide table instead of 80 columns.
        wide = not (hasattr(out, "isatty") and out.isatty())
        console = Console(file=out, width=240 if wide else None)
        table = Table(title=title)
        for col, width in zip(cols, _column_widths(cols, cells, console.width), strict=True):
            # Folded, never cut with an ellipsis: a source's URL must stay whole to be cited.
            table.add_column(col, overflow="fold", width=width)
        for line in cells:
            table.add_row(*line)
        console.print(table)


_SHORT_CELL = 24  # a column whose cells are all at most this wide is not folded if it can be


def _column_widths(cols: Sequence[str], cells: Sequence[Sequence[str]], width: int
                   ) -> list[int | None]:
    """Fixed widths for a table's short columns (numbers, times, codes) when it is wider than
    ``width``: their cells then stay whole (their headers too, or folded if that leaves too
    little room), and the long columns (names, sources) take what is left; None where rich
    decides (every column of a table that fits, or of one too wide for this)."""
    content = [max((len(line) for row in cells for line in row[i].splitlines()), default=0)
               for i in range(len(cols))]
    natural = sum(max(len(c), w) for c, w in zip(cols, content, strict=True))
    if natural + 3 * len(cols) + 1 <= width:  # cells, padding and borders
        return [None] * len(cols)
    for header_cap in (1000, 8):
        fixed = [max(w, min(len(c), header_cap)) if w <= _SHORT_CELL else None
                 for c, w in zip(cols, content, strict=True)]
        room = width - 3 * len(cols) - 1 - sum(w for w in fixed if w is not None)
        if room >= 16 * fixed.count(None):  # enough left for the long ones
            return fixed
    return [None] * len(cols)


# Library messages name the library's arguments (overflight.errors.ARGUMENTS); the CLI's
# options for them, the same in every command: snake-case names wherever they stand as a word,
# the plain words of _FLAG_HEADS only at the head of a message ("days: ...").
_FLAG_NAMES = {
    "max_age_days": "--max-age-days",
    "step_s": "--step",
    "tolerance_s": "--tolerance",
    "search_hours": "--search-hours",
    "min_elevation_deg": "--min-elevation",
    "max_off_nadir_deg": "--max-off-nadir",
    "max_range_km": "--max-range",
    "timeout_s": "--timeout",
    "sun_min_deg": "--sun-min",
    "sun_max_deg": "--sun-max",
    "min_duration_s": "--min-duration",
    "max_gsd_m": "--max-gsd",
    "nadir_gsd_m": "--nadir-gsd",
    "max_altitude_km": "--max-altitude",
    "object_types": "--object-type",
    "owners": "--owner",
    "kinds": "--kind",
    "countries": "--country",
    "operators": "--operator",
    "include_unknown": "--include-unknown",
    "area_mode": "--area-mode",
    "site_files": "--sites FILE",
    "all_sites": "--all-sites",
}
_FLAG_HEADS = {"days": "--days", "start": "--start", "end": "--end", "at": "--at",
               "since": "--since", "until": "--until", "sites": "--site", "time": "--time"}
# Library phrases and the CLI's (replaced as they stand, before the names).
_FLAG_PHRASES = (
    ("give sats, groups or files", "give --sat, --group or --tle"),
    ("give sats or groups", "give --sat or --group"),
    ("seed_snapshot=False", "--no-snapshot"),
    ("imaging=True", "--imaging"),
    ("(area=", "(--area "),
    ("(give them one in sensors)", "(give them one with --hypothetical-gsd M: an optical sensor "
     "of nadir GSD M, docs/coverage.md)"),
    ("(start=", "(--start "),
    # --no-limit might seem to lift this bound: it does not.
    ("a bound on memory, not on time", "a memory bound that --no-limit does not lift"),
)
# Phrases listing ways to give something, which depend on the command's options: (library
# phrase, pieces, otherwise, tail): a piece (option, text) is kept when the command has that
# option; ``otherwise`` when none is (a positional argument), and the tail always.
_OPTION_PHRASES = (
    ("(give a named site, LAT,LON[,ALT_M] or a sites file: site_files)",
     (("--site", "--site NAME|LAT,LON[,ALT_M]"), ("--sites", "--sites FILE")),
     "a named site or LAT,LON[,ALT_M]", "names: overflight sites"),
)
# Hints a command adds to a message when it has the option.
_OPTION_HINTS = (
    ("has no offset;", "--zone", "or --zone ZONE for a local time"),
)


ARGV: list[list[str]] = [[]]
"""The running command line (after ``overflight``), set by the entry point."""


def command_options(argv: Sequence[str] | None = None) -> frozenset[str] | None:
    """The options (``--site``, ``-o``) of the command that ``argv`` (default: the running
    command line, :data:`ARGV`) names; None when it names none."""
    import typer.main

    from overflight.cli import app

    cmd: Any = typer.main.get_command(app)
    for word in ARGV[0] if argv is None else argv:
        sub = getattr(cmd, "commands", {}).get(word)
        if sub is not None:
            cmd = sub
    if hasattr(cmd, "commands"):
        return None
    return frozenset(o for p in cmd.params for o in (*p.opts, *p.secondary_opts)
                     if o.startswith("-"))


def with_flags(message: str, names: Mapping[str, str] | None = None,
               options: frozenset[str] | None = None, *,
               heads: Mapping[str, str] | None = None) -> str:
    """A library error message in the CLI's words (:func:`overflight.errors.reword`): its
    options in place of the library's argument names (``names``, ``heads``: a command's own,
    besides :data:`_FLAG_NAMES` and :data:`_FLAG_HEADS`), and where a message lists ways to
    give something, only those the command has (``options``: default
    :func:`command_options`)."""
    from overflight.errors import reword

    if options is None:
        options = command_options()
    phrases = list(_FLAG_PHRASES)
    for phrase, pieces, otherwise, tail in _OPTION_PHRASES:
        kept = [text for option, text in pieces if options is None or option in options]
        phrases.append((phrase, f"(give {' or '.join(kept) or otherwise}; {tail})"))
    for phrase, option, hint in _OPTION_HINTS:
        if phrase in message and options is not None and option in options:
            message = f"{message} ({hint})"
    return reword(message, {**_FLAG_NAMES, **(names or {})},
                  heads={**_FLAG_HEADS, **(heads or {})}, phrases=phrases)


def warn(message: str) -> None:
    """One warning line on stderr."""
    sys.stderr.write(f"overflight: warning: {message}\n")


def note_sites(names: Iterable[str | None], files: Sequence[Any] = (), *,
               areas: bool = True) -> None:
    """One ``overflight: note:`` line on stderr per site name that was taken as something the
    user may not have meant (:func:`overflight.sites.site_note`: an alias, a prefix, a name an
    area has too, pointing to ``--area``; not with ``areas`` False). ``files``: the
    ``--sites`` files, whose names count as exact (one that cannot be read is left to the
    command's own error)."""
    from overflight.sites import SiteError, read_sites_file, site_note

    try:
        extra = [n for f in files for n in read_sites_file(f)]
    except SiteError:
        return
    for name in dict.fromkeys(n for n in names if n):
        line = site_note(name, extra, areas=areas, area_option="--area")
        if line:
            sys.stderr.write(f"overflight: note: {line}\n")


# Sensor-catalog options shared by passes, watch, exposure, coverage and sensors (declared once).
IncludeUnknownOption = typer.Option(
    False, "--include-unknown",
    help="Imaging: keep satellites the sensor table does not know (geometry only).")
KindOption = typer.Option(None, "--kind", help="Sensor kinds, e.g. optical,sar.")
MaxGsdOption = typer.Option(None, "--max-gsd", help="Only where the achieved resolution "
                            "(resolution_m) is at most this, m: windows cut to it.")
CountryOption = typer.Option(None, "--country",
                             help="Operator countries (ISO alpha-3), e.g. CHN,RUS.")
OperatorOption = typer.Option(None, "--operator",
                              help="Text in the operator's name (comma-separated).")


def max_age_days_callback(value: float | None) -> float | None:
    """``--max-age-days`` checked before anything is loaded (:func:`check_max_age_days`):
    NaN, zero, negatives, infinities and more than ``MAX_AGE_DAYS`` give one line, exit 2."""
    from overflight.errors import OverflightError
    from overflight.freshness import check_max_age_days

    if value is None:
        return None
    try:
        return check_max_age_days(value, "--max-age-days")
    except OverflightError as exc:
        raise UserError(str(exc)) from None


MaxAgeDaysOption = typer.Option(
    REFUSE_AFTER_DAYS, "--max-age-days", callback=max_age_days_callback,
    help=f"Refuse windows further than this from the element set's epoch, days "
    f"(at most {MAX_AGE_DAYS:g}).")
PositionMaxAgeDaysOption = typer.Option(
    REFUSE_AFTER_DAYS, "--max-age-days", callback=max_age_days_callback,
    help=f"Refuse times further than this from the element set's epoch, days "
    f"(at most {MAX_AGE_DAYS:g}).")
SensorsFileOption = typer.Option(None, "--sensors",
                                 help="Sensor table overriding the shipped one.")

OwnerOption = typer.Option(
    [], "--owner",
    help="Only objects of these owners: SATCAT codes (US, CIS, PRC, NKOR) or ISO alpha-3 "
    "(USA, RUS, CHN, PRK); comma-separated or repeated.")
ObjectTypeOption = typer.Option(
    [], "--object-type",
    help="Only these object types: payload, rocket body, debris, unknown; comma-separated or "
    "repeated.")


def check_job(work: Workload, no_limit: bool) -> Workload:
    """Refuse ``work`` above the cap (one line with the estimate and the cap, exit 2) unless
    ``no_limit``; say the estimate on stderr when it is :data:`PROGRESS_AFTER_S` or more."""
    from overflight.workload import check_workload

    if not no_limit:
        check_workload(work, hint="--no-limit")
    if work.estimate_s >= PROGRESS_AFTER_S:
        sys.stderr.write(f"overflight: {work.describe()}\n")
    return work


@contextmanager
def progress_bar(work: Workload | None, label: str
                 ) -> Iterator[Callable[[int, int], None] | None]:
    """A ``progress(done, total)`` callback drawing a rich bar on stderr, for jobs estimated at
    :data:`PROGRESS_AFTER_S` or more when stderr is a terminal (else None)."""
    if work is None or work.estimate_s < PROGRESS_AFTER_S or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(),
                  console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


class WholeWriter:
    """Binary output to a file descriptor whose every write is whole: a signal that comes in
    the middle of a large write to a pipe makes ``write(2)`` return short, and CPython's
    buffered stdout then drops the rest of that write (measured: 70 KB of 10 MB arrived);
    here the rest is written too. Streamed outputs (NDJSON, CSV, JSON, Parquet) use it."""

    closed = False

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.position = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        import os

        view = memoryview(data).cast("B")
        n = view.nbytes
        while view.nbytes:
            view = view[os.write(self.fd, view):]  # EINTR itself is retried (PEP 475)
        self.position += n
        return n

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True


def stdout_bytes() -> Any:
    """Standard output for a streamed binary output: a :class:`WholeWriter` on its file
    descriptor (after flushing what ``sys.stdout`` holds), or ``sys.stdout.buffer`` where it
    has none (captured in tests)."""
    import io

    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return buffer
    return WholeWriter(fd)


def output_callback(value: Path | None) -> Path | None:
    """``--output`` checked before anything is computed: a file in an existing directory
    (one line, exit 2, otherwise)."""
    if value is not None and (value.is_dir() or not value.parent.is_dir()):
        why = "is a directory" if value.is_dir() else "its directory does not exist"
        raise UserError(f"--output {value}: {why}")
    return value


OutputOption = typer.Option(None, "--output", "-o", callback=output_callback,
                            help="Write the output to this file instead of stdout.")


@contextmanager
def output_to(path: Path | None) -> Iterator[None]:
    """Within the block standard output goes to ``path`` (None: it stays stdout), so every
    writer (tables, text, :func:`stdout_bytes` streams) writes the file the bytes it would
    write to stdout. The file is written under a temporary name beside ``path`` and renamed at
    the end: an error leaves ``path`` as it was; Ctrl-C (:class:`Interrupted`) keeps the
    partial output, marked as on stdout. Then ``wrote PATH`` on stderr."""
    import os

    if path is None:
        yield
        return
    # Devices and pipes (/dev/null, a FIFO) are written in place, never replaced.
    direct = path.exists() and not path.is_file()
    part = path if direct else path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        stream = open(part, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise UserError(f"--output {path}: cannot write: {exc.strerror or exc}") from None
    keep = False
    old = sys.stdout
    sys.stdout = stream
    try:
        yield
        keep = True
    except (Interrupted, KeyboardInterrupt):
        stream.flush()
        keep = os.fstat(stream.fileno()).st_size > 0  # the marked partial output
        raise
    finally:
        sys.stdout = old
        stream.close()
        if not direct:
            if keep:
                os.replace(part, path)
            else:
                part.unlink(missing_ok=True)
    wrote(path)


def wrote(what: object) -> None:
    """``wrote WHAT`` on stderr, never stdout: every command's note of a file it wrote."""
    sys.stderr.write(f"wrote {what}\n")


class _Flag:
    """Set when Ctrl-C or SIGTERM came while a :func:`deferred_interrupt` block ran."""

    def __init__(self) -> None:
        self.set = False

    def __bool__(self) -> bool:
        return self.set

    def until(self, items: Iterable[T]) -> Iterator[T]:
        """``items`` until Ctrl-C."""
        for item in items:
            if self.set:
                return
            yield item


@contextmanager
def deferred_interrupt() -> Iterator[_Flag]:
    """Within the block Ctrl-C and SIGTERM only set the yielded flag, so output stops at a
    whole block (a writer closes its JSON array, NDJSON gets its last line) instead of
    mid-record: no handler raises inside a write, so no line is cut (a write that a signal
    interrupts is resumed, PEP 475)."""
    import signal
    import threading

    flag = _Flag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, _frame: Any) -> None:
        _stop_signal[0] = signum
        flag.set = True

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, was in old.items():
            signal.signal(sig, was)


@contextmanager
def without_ctrl_c(ctx: AbstractContextManager[T]) -> Iterator[T]:
    """Enter ``ctx`` (a local Dask cluster) with SIGINT ignored, so the processes it starts
    inherit that and never see Ctrl-C: a terminal sends it to the whole process group, and
    Dask's workers would die mid-task with a traceback each. Only this process handles it, by
    closing ``ctx``. (A Ctrl-C during the second or two of start-up is lost; a blocked signal
    would not be, but the spawned workers' mask is reset by exec, their ignored signals not.)"""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        with ctx as value:
            yield value
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    restored = False
    try:
        with ctx as value:
            signal.signal(signal.SIGINT, old)
            restored = True
            yield value
    finally:
        if not restored:
            signal.signal(signal.SIGINT, old)
