"""Element-set files in every supported format: content sniffing, gzip, parsing, writing.

Formats: ``tle`` (two- or three-line TLE text), ``omm-json``, ``omm-xml``, ``omm-csv`` and
``omm-kvn`` (CCSDS OMM as CelesTrak and Space-Track publish it); and the satellite catalog
``satcat-csv``/``satcat-json`` (object metadata, :mod:`overflight.catalog.satcat`), told apart
by its keys and returned in :attr:`ParseResult.satcat`. Gzip input is recognised by
its magic bytes, whatever the file is called. Parsing never raises on bad data: every rejected
record becomes one :class:`~overflight.elements.ElementError` and parsing goes on.
See docs/formats.md.
"""

from __future__ import annotations

import math
import os
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overflight.catalog.omm import (
    format_omm_csv,
    format_omm_json,
    format_omm_kvn,
    format_omm_xml,
    parse_omm_csv,
    parse_omm_json,
    parse_omm_kvn,
    parse_omm_xml,
)
from overflight.catalog.satcat import SATCAT_FORMATS, SatcatRecord, parse_satcat, sniff_satcat
from overflight.catalog.tle import format_tle, format_tles, parse_tle
from overflight.elements import ElementError, ElementSet
from overflight.errors import OverflightError

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_MB",
    "ENV_MAX_DECOMPRESSED_MB",
    "FORMATS",
    "INPUT_FORMATS",
    "ParseResult",
    "decompression_limit",
    "detect_format",
    "format_tle",
    "normalize_format",
    "parse_bytes",
    "read_path",
    "write_elements",
]

FORMATS = ("tle", "omm-json", "omm-xml", "omm-csv", "omm-kvn")
#: What :func:`parse_bytes` reads: the element-set formats and the satellite catalog.
INPUT_FORMATS = FORMATS + SATCAT_FORMATS
WRITE_FORMATS = ("tle", "omm-json", "omm-csv", "omm-kvn", "omm-xml")
_ALIASES = {
    "json": "omm-json",
    "xml": "omm-xml",
    "csv": "omm-csv",
    "kvn": "omm-kvn",
    "3le": "tle",
    "2le": "tle",
}
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_MIB = 1024 * 1024
_GUNZIP_STEP = 16 * _MIB
#: What gzip input may expand to, MiB (settable per call and by the environment variable).
DEFAULT_MAX_DECOMPRESSED_MB = 1024
ENV_MAX_DECOMPRESSED_MB = "OVERFLIGHT_MAX_DECOMPRESSED_MB"
_SNIFF_BYTES = 64 * 1024
_KVN_START = re.compile(rb"(?:CCSDS_OMM_VERS|COMMENT\b|[A-Z][A-Z0-9_]*\s*=)")
_PARSERS = {
    "tle": parse_tle,
    "omm-json": parse_omm_json,
    "omm-xml": parse_omm_xml,
    "omm-csv": parse_omm_csv,
    "omm-kvn": parse_omm_kvn,
}


@dataclass(frozen=True)
class ParseResult:
    """Valid records in input order, and one error per rejected record."""

    records: list[ElementSet]
    errors: list[ElementError]
    format: str | None = field(default=None, compare=False)
    #: SATCAT entries (object metadata) when the data is a satellite catalog.
    satcat: list[SatcatRecord] = field(default_factory=list, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: format, records (as dicts) and errors (as one-line strings)."""
        return {
            "format": self.format,
            "records": [es.to_dict() for es in self.records],
            "errors": [str(e) for e in self.errors],
        }


def normalize_format(fmt: str) -> str:
    """Canonical format name ('json' -> 'omm-json', ...); ValueError if unknown."""
    name = fmt.strip().lower()
    name = _ALIASES.get(name, name)
    if name not in INPUT_FORMATS:
        raise ValueError(f"unknown element-set format {fmt!r} (one of {', '.join(INPUT_FORMATS)})")
    return name


def _sniff(head: bytes) -> str | None:
    text = head.removeprefix(_BOM).lstrip()
    if not text:
        return None
    satcat = sniff_satcat(text)
    if satcat is not None:
        return satcat
    if text[:1] in (b"[", b"{"):
        return "omm-json"
    if text[:1] == b"<":
        return "omm-xml"
    lines = [line.strip() for line in text.splitlines()[:50]]
    first = lines[0]
    if _KVN_START.match(first):
        return "omm-kvn"
    upper = first.upper()
    if b"," in first and (b"NORAD_CAT_ID" in upper or b"MEAN_MOTION" in upper):
        return "omm-csv"
    if any(line[:2] in (b"1 ", b"2 ") and len(line) >= 60 for line in lines):
        return "tle"
    return None


def _gunzip_head(data: bytes) -> bytes:
    try:
        return zlib.decompressobj(wbits=31).decompress(data, _SNIFF_BYTES)
    except zlib.error:
        return b""


def detect_format(data: bytes) -> str | None:
    """The format of element-set (or SATCAT) data by its content (gzip looked through), or
    None."""
    head = _gunzip_head(data) if data[:2] == _GZIP_MAGIC else data[:_SNIFF_BYTES]
    return _sniff(head)


def decompression_limit(value: int | None = None) -> int:
    """The decompression cap in bytes: ``value`` if given, else ``$OVERFLIGHT_MAX_DECOMPRESSED_MB``
    (MiB), else :data:`DEFAULT_MAX_DECOMPRESSED_MB`. Raises OverflightError for a bad setting."""
    if value is not None:
        if value <= 0:
            raise OverflightError(f"max_decompressed_bytes must be > 0, not {value}")
        return int(value)
    env = os.environ.get(ENV_MAX_DECOMPRESSED_MB, "").strip()
    if not env:
        return DEFAULT_MAX_DECOMPRESSED_MB * _MIB
    try:
        mb = float(env)
    except ValueError:
        mb = math.nan
    if not (math.isfinite(mb) and mb > 0):
        raise OverflightError(f"{ENV_MAX_DECOMPRESSED_MB}={env[:40]!r} is not a size in MB > 0")
    return max(1, int(mb * _MIB))


def _gunzip(data: bytes, limit: int) -> bytes:
    """All gzip members decompressed, streaming, at most ``limit`` bytes of output;
    ValueError with a readable reason if corrupt or over the limit."""
    out: list[bytes] = []
    total = 0
    while data[:2] == _GZIP_MAGIC:
        decomp = zlib.decompressobj(wbits=31)
        pending = data
        while True:
            try:
                # max_length bounds the memory: one byte over the cap is enough to know.
                chunk = decomp.decompress(pending, min(limit - total + 1, _GUNZIP_STEP))
            except zlib.error as exc:
                raise ValueError(f"gzip data is corrupt ({exc})") from None
            total += len(chunk)
            if total > limit:
                raise ValueError(
                    f"gzip data expands to more than {_size(limit)}, the decompression limit "
                    f"(max_decompressed_bytes, ${ENV_MAX_DECOMPRESSED_MB}); not read"
                )
            out.append(chunk)
            if decomp.eof:
                break
            pending = decomp.unconsumed_tail
            if not pending and not chunk:
                raise ValueError("gzip data is truncated")
        data = decomp.unused_data
    if data.strip(b"\0"):
        raise ValueError("unexpected data after the gzip stream")
    return b"".join(out)


def _size(n: int) -> str:
    return f"{n / _MIB:,.0f} MB" if n >= _MIB else f"{n:,} bytes"


def parse_bytes(
    data: bytes,
    source: str,
    fmt: str | None = None,
    *,
    max_decompressed_bytes: int | None = None,
) -> ParseResult:
    """Parse element sets from bytes; ``fmt`` None sniffs the content (gzip is transparent,
    its output capped at ``max_decompressed_bytes``, see :func:`decompression_limit`).

    ``source`` names the input in error messages. Bad data never raises: it becomes errors.
    A UTF-8 byte order mark is ignored. Raises ValueError only for an unknown ``fmt`` name or
    a bad decompression cap.
    """
    name = normalize_format(fmt) if fmt is not None else None
    if data[:2] == _GZIP_MAGIC:
        try:
            data = _gunzip(data, decompression_limit(max_decompressed_bytes))
        except OverflightError:
            raise
        except ValueError as exc:
            return ParseResult([], [ElementError(source, None, "gzip", str(exc))], name)
    data = data.removeprefix(_BOM)
    if name is None:
        if not data.strip():
            return ParseResult([], [ElementError(source, None, "file", "no data (empty input)")])
        name = _sniff(data[:_SNIFF_BYTES])
        if name is None:
            message = (
                "cannot recognise the format (not TLE, OMM JSON, XML, CSV or KVN, or SATCAT); "
                "name the format explicitly if it is one of these"
            )
            return ParseResult([], [ElementError(source, None, "format", message)])
    if name in SATCAT_FORMATS:
        try:
            entries, errors = parse_satcat(data, source, name)
        except Exception as exc:  # last resort, as below
            message = f"internal error while reading {name} ({exc.__class__.__name__}: {exc})"
            return ParseResult([], [ElementError(source, None, "internal", message[:200])], name)
        return ParseResult([], errors, name, entries)
    try:
        records, errors = _PARSERS[name](data, source)
    except Exception as exc:  # last resort: bad data must never surface as a traceback
        message = f"internal error while reading {name} ({exc.__class__.__name__}: {exc})"
        return ParseResult([], [ElementError(source, None, "internal", message[:200])], name)
    return ParseResult(records, errors, name)


def read_path(
    path: str | Path, fmt: str | None = None, *, max_decompressed_bytes: int | None = None
) -> ParseResult:
    """Parse an element-set file; errors name it by its file name (``path.name``).

    An unreadable file gives a single error, not an exception. ``max_decompressed_bytes``
    caps what a gzip file may expand to (see :func:`parse_bytes`).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        return ParseResult([], [ElementError(path.name, None, "file", f"cannot read: {reason}")])
    return parse_bytes(data, path.name, fmt, max_decompressed_bytes=max_decompressed_bytes)


def write_elements(records: Iterable[ElementSet], fmt: str) -> str:
    """Text of the records in ``fmt``: 'tle', 'omm-json', 'csv' (OMM keys), 'omm-kvn', 'omm-xml'.

    Raises ValueError for an unknown format, or (TLE) for values a TLE cannot hold.
    """
    name = normalize_format(fmt)
    if name == "tle":
        return format_tles(records)
    writers = {
        "omm-json": format_omm_json,
        "omm-csv": format_omm_csv,
        "omm-kvn": format_omm_kvn,
        "omm-xml": format_omm_xml,
    }
    return writers[name](records)
