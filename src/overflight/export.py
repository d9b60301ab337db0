"""Tabular output at engine speed: columns written as JSON, NDJSON, CSV or Parquet in one pass.

A result is handed over as :data:`Columns` (column name → equal-length list of Python values,
``None`` for missing), built from the engine's arrays without one object per row; each writer
then encodes the whole table at once (orjson, pyarrow) and writes it with a few large writes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from overflight.access import WindowTable
    from overflight.elements import ElementSet
    from overflight.geometry import Site
    from overflight.sensors import Sensor

__all__ = [
    "FORMATS",
    "INCOMPLETE_KEY",
    "PARQUET_TYPES",
    "Columns",
    "columns_from_rows",
    "incomplete_marker",
    "iso_ms",
    "rows_from_columns",
    "window_column_blocks",
    "window_columns",
    "write_columns",
]

Columns = dict[str, list[Any]]
FORMATS = ("json", "ndjson", "csv", "parquet")
# NDJSON/CSV are written in blocks of this many rows, so a huge table is never one string.
_BLOCK_ROWS = 50_000
_CLIP_NAMES = (None, "interval", "sun", "sunlit")


def iso_ms(times: npt.NDArray[np.datetime64]) -> list[str]:
    """ISO 8601 UTC strings with ``Z`` and milliseconds (truncated, as ``format_utc``)."""
    import numpy as np

    us = np.asarray(times).astype("datetime64[us]")
    text = np.datetime_as_string(us.astype("datetime64[ms]"), unit="ms")
    return [s + "Z" for s in text.tolist()]


def _rounded(values: Any, digits: int) -> list[Any]:
    # Python's round() on each value, so the numbers equal ``Window.to_dict``'s to the last digit.
    return [round(v, digits) for v in values.tolist()]


def window_columns(
    table: WindowTable,
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    *,
    sensors: Mapping[int, Sensor] | None = None,
    extra: Callable[[WindowTable], Columns] | None = None,
) -> Columns:
    """The fields of :meth:`overflight.access.Window.to_dict` for every row of ``table``, then
    the columns ``extra(table)`` adds (``PassPlan.extra_columns``: element-set age, imaging)."""
    import numpy as np

    sat = table.sat_index
    site = table.site_index
    norad = np.array([e.norad_id for e in elsets], dtype=np.int64)
    sat_names = np.array([e.name for e in elsets], dtype=object)
    site_names = np.array([s.name for s in sites], dtype=object)
    site_lat = np.array([s.lat_deg for s in sites], dtype=np.float64)
    site_lon = np.array([s.lon_deg for s in sites], dtype=np.float64)
    start_us = table.start.astype("datetime64[us]")
    end_us = table.end.astype("datetime64[us]")
    duration_s = (end_us - start_us).astype(np.int64) / 1e6
    gsd: list[float | None] = [None] * len(table)
    if sensors:
        from overflight.gsd import gsd as gsd_model

        for k, e in enumerate(elsets):
            sensor = sensors.get(e.norad_id)
            if sensor is None or not sensor.is_imager:
                continue
            rows = np.flatnonzero(sat == k)
            if rows.size == 0:
                continue
            # Sensor.gsd_m's model, for all of this satellite's rows at once.
            mean_m = gsd_model(sensor.nadir_gsd_m, sensor.ref_alt_km, table.peak_range_km[rows],
                               table.peak_incidence_deg[rows]).mean_m
            for i, value in zip(rows.tolist(), np.asarray(mean_m).tolist(), strict=True):
                gsd[i] = None if value != value else value
    clip = np.array(_CLIP_NAMES, dtype=object)
    cols: Columns = {
        "norad_id": norad[sat].tolist(),
        "name": sat_names[sat].tolist(),
        "site": site_names[site].tolist(),
        "site_lat_deg": site_lat[site].tolist(),
        "site_lon_deg": site_lon[site].tolist(),
        "start": iso_ms(table.start),
        "peak": iso_ms(table.peak),
        "end": iso_ms(table.end),
        "duration_s": _rounded(duration_s, 3),
        "max_elevation_deg": _rounded(table.max_elevation_deg, 4),
        "min_off_nadir_deg": _rounded(table.min_off_nadir_deg, 4),
        "min_range_km": _rounded(table.min_range_km, 3),
        "sun_elevation_deg": _rounded(table.sun_elevation_deg, 3),
        "satellite_sunlit": table.satellite_sunlit.tolist(),
        "direction": np.where(table.ascending, "ascending", "descending").tolist(),
        "gsd_m": [None if g is None else round(g, 3) for g in gsd],
        "start_clipped": clip[table.start_clip.astype(np.intp)].tolist(),
        "end_clipped": clip[table.end_clip.astype(np.intp)].tolist(),
    }
    if extra is not None:
        cols.update(extra(table))
    return cols


def window_column_blocks(
    table: WindowTable,
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    *,
    sensors: Mapping[int, Sensor] | None = None,
    extra: Callable[[WindowTable], Columns] | None = None,
    block_rows: int = _BLOCK_ROWS,
) -> Iterator[Columns]:
    """:func:`window_columns` of ``table`` in blocks of ``block_rows`` rows, in its order, so a
    table of millions of windows is never held as Python objects all at once."""
    import numpy as np

    n = len(table)
    for lo in range(0, n, block_rows):
        part = table.take(np.arange(lo, min(n, lo + block_rows)))
        yield window_columns(part, elsets, sites, sensors=sensors, extra=extra)
    if n == 0:
        yield window_columns(table, elsets, sites, sensors=sensors, extra=extra)


def incomplete_marker(fmt: str, **info: Any) -> bytes:
    """The line that ends an interrupted output of ``fmt``, so no reader takes it for a whole
    result: ``{"incomplete": true, ...info}`` as the last line of NDJSON, and after ``# `` as
    the last line of CSV and tables (``pandas.read_csv(comment="#")`` skips it; a reader that
    does not is stopped by it). JSON has no room for one without breaking its readers (an
    extra array element would be read as a row): its array is closed as usual (b"") and the
    caller says on stderr, and with its exit status, that the output is partial. Parquet
    carries it in the file's key-value metadata (:data:`INCOMPLETE_KEY`, written by
    :func:`write_columns`)."""
    line = _dumps()({"incomplete": True, **info}) + b"\n"
    if fmt == "ndjson":
        return line
    if fmt in ("csv", "table"):
        return b"# " + line
    return b""


INCOMPLETE_KEY = "overflight.incomplete"
"""Parquet key-value metadata key of the incompleteness marker (a JSON object)."""


def columns_from_rows(rows: Sequence[Mapping[str, Any]], names: Sequence[str] | None = None
                      ) -> Columns:
    """Columns of a list of row mappings (missing keys become ``None``)."""
    keys = list(names) if names is not None else (list(rows[0]) if rows else [])
    return {k: [r.get(k) for r in rows] for k in keys}


def rows_from_columns(cols: Columns) -> Iterator[dict[str, Any]]:
    """Row dicts of ``cols``, one at a time."""
    names = list(cols)
    for values in zip(*(cols[n] for n in names), strict=True):
        yield dict(zip(names, values, strict=True))


def _length(cols: Columns) -> int:
    return len(next(iter(cols.values()))) if cols else 0


def _blocks(cols: Columns) -> Iterator[Columns]:
    n = _length(cols)
    for lo in range(0, max(n, 1), _BLOCK_ROWS):
        yield {k: v[lo:lo + _BLOCK_ROWS] for k, v in cols.items()}


def _dumps() -> Callable[..., bytes]:
    import orjson

    return orjson.dumps


def _write_json(cols: Columns, out: IO[bytes]) -> None:
    _write_json_blocks([cols], out)


def _write_json_blocks(blocks: Iterable[Columns], out: IO[bytes]) -> None:
    """One JSON array over all blocks, laid out as ``json.dump(rows, indent=2)``."""
    import orjson

    first = True
    for block in blocks:
        rows = list(rows_from_columns(block))
        if not rows:
            continue
        # orjson indents an array as "[\n  {...},\n  {...}\n]": keep the inside of each block.
        body = orjson.dumps(rows, option=orjson.OPT_INDENT_2)[2:-2]
        out.write(b"[\n" if first else b",\n")
        out.write(body)
        first = False
    out.write(b"[]\n" if first else b"\n]\n")


def _write_ndjson(cols: Columns, out: IO[bytes]) -> None:
    dumps = _dumps()
    for block in _blocks(cols):
        out.write(b"".join(dumps(r) + b"\n" for r in rows_from_columns(block)))


def _csv_cell(value: Any) -> Any:
    return "" if value is None else value


def _write_csv(cols: Columns, out: IO[bytes]) -> None:
    names = list(cols)
    for first, block in enumerate(_blocks(cols)):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if first == 0:
            writer.writerow(names)
        writer.writerows(
            [_csv_cell(v) for v in row]
            for row in zip(*(block[n] for n in names), strict=True)
        )
        out.write(buf.getvalue().encode("utf-8"))


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        from overflight.errors import OverflightError

        raise OverflightError(
            "parquet output needs pyarrow: pip install 'overflight[data]'"
        ) from None
    return pa, pq


def _write_parquet(cols: Columns, out: IO[bytes]) -> None:
    _write_parquet_blocks([cols], out)


PARQUET_TYPES: dict[str, str] = {
    # window_columns
    "norad_id": "int64", "name": "string", "site": "string", "site_lat_deg": "float64",
    "site_lon_deg": "float64", "start": "string", "peak": "string", "end": "string",
    "duration_s": "float64", "max_elevation_deg": "float64", "min_off_nadir_deg": "float64",
    "min_range_km": "float64", "sun_elevation_deg": "float64", "satellite_sunlit": "bool",
    "direction": "string", "gsd_m": "float64", "start_clipped": "string",
    "end_clipped": "string",
    # PassPlan.extra_columns
    "elset_age_days": "float64", "sensor": "string", "sensor_kind": "string",
    "resolution_m": "float64", "incidence_deg": "float64", "look_side": "string",
    # CoverageResult.point_rows
    "lat_deg": "float64", "lon_deg": "float64", "windows": "int64", "accesses": "int64",
    "first_access_s": "float64", "max_gap_s": "float64", "revisit_mean_s": "float64",
    "revisit_max_s": "float64", "coverage_fraction": "float64", "best_gsd_m": "float64",
}
"""Arrow type names of the columns overflight writes to Parquet. A block's own inference
would give a column that is all None there (``end_clipped`` before the interval's end,
``look_side`` before a radar's row) Arrow's null type, and no later block with a value in it
could then be written to the same file. Columns not named here are inferred from the first
block."""


def _parquet_schema(pa: Any, table: Any) -> Any:
    """``table``'s schema with the :data:`PARQUET_TYPES` of the columns it names."""
    return pa.schema([
        pa.field(f.name, pa.type_for_alias(PARQUET_TYPES[f.name])) if f.name in PARQUET_TYPES
        else f for f in table.schema])


def _write_parquet_blocks(blocks: Iterable[Columns], out: IO[bytes],
                          marker: Callable[[], dict[str, Any] | None] | None = None) -> None:
    """One Parquet file, a row group per block (the schema of the first block, with
    :data:`PARQUET_TYPES`); ``marker()`` (after the last block), if not None, in the key-value
    metadata (:data:`INCOMPLETE_KEY`). A file whose writing fails (an error, or Ctrl-C that is
    not deferred) is closed with that key too, ``{"incomplete": true, "rows_written": R,
    "error": NAME}``: pyarrow would otherwise close it when collected, and the rows so far
    would read as a whole file."""
    pa, pq = _pyarrow()
    writer = None
    schema = None
    rows = 0
    try:
        for block in blocks:
            if schema is None:
                table = pa.table(block)
                schema = _parquet_schema(pa, table)
                table = table.cast(schema)
                writer = pq.ParquetWriter(out, schema)
            else:
                try:
                    table = pa.table(block, schema=schema)
                except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                    from overflight.errors import OverflightError

                    raise OverflightError(
                        f"parquet: a block does not fit the first block's columns ({exc}); "
                        "name its columns' types in overflight.export.PARQUET_TYPES") from None
            assert writer is not None
            writer.write_table(table)
            rows += table.num_rows
        info = marker() if marker is not None else None
    except BaseException as exc:
        if writer is not None:
            _close_broken(writer, {"incomplete": True, "rows_written": rows,
                                   "error": type(exc).__name__})
        raise
    if writer is not None:
        if info is not None:
            writer.add_key_value_metadata(
                {INCOMPLETE_KEY: _dumps()({"incomplete": True, **info}).decode()})
        writer.close()


def _close_broken(writer: Any, info: dict[str, Any]) -> None:
    """Close a Parquet writer whose writing failed, marked with ``info`` (best effort: the
    stream itself may be what failed, and the first error is the one to report)."""
    try:
        writer.add_key_value_metadata({INCOMPLETE_KEY: _dumps()(info).decode()})
        writer.close()
    except Exception:
        writer.is_open = False  # its __del__ would try again, and write a footer unmarked


_WRITERS: dict[str, Callable[[Columns, IO[bytes]], None]] = {
    "json": _write_json,
    "ndjson": _write_ndjson,
    "csv": _write_csv,
    "parquet": _write_parquet,
}


def write_columns(cols: Columns | Iterable[Columns], fmt: str, out: IO[bytes], *,
                  marker: Callable[[], dict[str, Any] | None] | None = None) -> None:
    """Write ``cols`` (one table, or blocks of the same columns) as ``fmt`` to a binary stream.

    JSON is one array (2-space indent); NDJSON one object per line; CSV a header and rows, empty
    cells for ``None`` and ``True``/``False`` for booleans; Parquet a single file (blocks are
    concatenated first). Blocks stream for NDJSON and CSV. ``marker()``, called after the last
    block: the incompleteness marker's keys (None: the output is whole), written as
    :func:`incomplete_marker` says.
    """
    if fmt not in _WRITERS:
        from overflight.errors import OverflightError

        raise OverflightError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    blocks = iter([cols] if isinstance(cols, dict) else cols)
    if fmt == "parquet":
        _write_parquet_blocks(blocks, out, marker)
        return
    if fmt == "json":
        _write_json_blocks(blocks, out)
    else:
        header_done = False
        for block in blocks:
            if fmt == "csv" and header_done:
                buf = io.BytesIO()
                _write_csv(block, buf)
                out.write(buf.getvalue().split(b"\n", 1)[1])
            else:
                _WRITERS[fmt](block, out)
            header_done = True
    info = marker() if marker is not None else None
    if info is not None:
        out.write(incomplete_marker(fmt, **info))
