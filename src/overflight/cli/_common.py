"""Shared CLI plumbing: output formats, one-line errors, exit codes, the catalog option."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, NoReturn

import typer

__all__ = [
    "EXIT_DATA",
    "EXIT_OK",
    "EXIT_USAGE",
    "DbOption",
    "Format",
    "ObjectTypeOption",
    "OwnerOption",
    "UserError",
    "emit",
    "fail",
]

EXIT_OK = 0
EXIT_DATA = 1  # completed, but some input records were rejected
EXIT_USAGE = 2  # bad arguments or input: nothing was done


class UserError(Exception):
    """A mistake by the user (bad argument, unreadable file): printed as one line, no traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


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


def emit(
    rows: Sequence[Mapping[str, Any]],
    fmt: str,
    *,
    title: str | None = None,
    columns: Sequence[str] | None = None,
    out: Any = None,
) -> None:
    """Write rows as a rich table (people), JSON array or CSV (programs) to stdout."""
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

        table = Table(title=title)
        for col in cols:
            table.add_column(col)
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in cols))
        # Piped output (files, scripts, notebooks) gets a wide table instead of 80 columns.
        wide = not (hasattr(out, "isatty") and out.isatty())
        Console(file=out, width=240 if wide else None).print(table)


def iter_json_lines(rows: Iterable[Mapping[str, Any]], out: Any = None) -> None:
    """Stream rows as a JSON array without holding them all (for large results)."""
    out = out or sys.stdout
    out.write("[")
    first = True
    for row in rows:
        out.write("\n" if first else ",\n")
        out.write(json.dumps(row, default=str))
        first = False
    out.write("\n]\n")


# Library messages name the library's arguments; where a message asks for a selection, the
# CLI adds the options that give it.
_FLAG_HINTS = (
    ("give sats, groups or files", "--sat, --group or --tle"),
    ("give sats or groups", "--sat or --group"),
    ("site_files or all_sites", "--site, --sites FILE or --all-sites"),
)


def with_flags(message: str) -> str:
    """A library error message with the CLI options it refers to, where that helps."""
    for phrase, flags in _FLAG_HINTS:
        if phrase in message:
            return f"{message} (options: {flags})"
    return message


def warn(message: str) -> None:
    """One warning line on stderr."""
    sys.stderr.write(f"overflight: warning: {message}\n")

OwnerOption = typer.Option(
    [], "--owner",
    help="Only objects of these owners: SATCAT codes (US, CIS, PRC, NKOR) or ISO alpha-3 "
    "(USA, RUS, CHN, PRK); comma-separated or repeated.")
ObjectTypeOption = typer.Option(
    [], "--object-type",
    help="Only these object types: payload, rocket body, debris, unknown; comma-separated or "
    "repeated.")
