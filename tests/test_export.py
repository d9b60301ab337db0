"""Column writers: the same rows as ``Window.to_dict`` and the standard-library encoders."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from overflight.access import Constraints, table_to_windows, window_table
from overflight.catalog import Catalog
from overflight.errors import OverflightError
from overflight.export import (
    INCOMPLETE_KEY,
    PARQUET_TYPES,
    columns_from_rows,
    rows_from_columns,
    window_columns,
    write_columns,
)
from overflight.sensors import shipped_sensors
from overflight.sites import named_sites

T0 = datetime(2026, 5, 31, tzinfo=UTC)


@pytest.fixture(scope="module")
def job() -> tuple[object, list[object], list[object]]:
    with Catalog.open() as cat:
        elsets = cat.latest(group="resource")[:40]
    sites = [n.site for n in named_sites()][:8]
    table = window_table(elsets, sites, T0, T0 + timedelta(days=2),
                         Constraints(min_elevation_deg=20, sun_min_deg=0))
    assert len(table) > 50
    return table, elsets, sites


def test_window_columns_equal_window_to_dict(job: tuple[object, list[object], list[object]]
                                             ) -> None:
    table, elsets, sites = job
    sensors = shipped_sensors()
    expected = [w.to_dict() for w in table_to_windows(table, elsets, sites,  # type: ignore[arg-type]
                                                      sensors=sensors)]
    got = list(rows_from_columns(window_columns(table, elsets, sites,  # type: ignore[arg-type]
                                                sensors=sensors)))
    assert got == expected
    assert any(r["gsd_m"] is not None for r in got)


def test_json_and_ndjson_decode_to_the_rows(job: tuple[object, list[object], list[object]]
                                            ) -> None:
    table, elsets, sites = job
    cols = window_columns(table, elsets, sites)  # type: ignore[arg-type]
    rows = list(rows_from_columns(cols))
    out = io.BytesIO()
    write_columns(cols, "json", out)
    assert json.loads(out.getvalue()) == rows
    assert out.getvalue().startswith(b"[\n  {\n    \"norad_id\": ")
    out = io.BytesIO()
    write_columns(cols, "ndjson", out)
    lines = out.getvalue().decode().splitlines()
    assert [json.loads(x) for x in lines] == rows


def test_csv_equals_the_standard_writer(job: tuple[object, list[object], list[object]]) -> None:
    table, elsets, sites = job
    cols = window_columns(table, elsets, sites)  # type: ignore[arg-type]
    rows = list(rows_from_columns(cols))
    ref = io.StringIO()
    writer = csv.DictWriter(ref, fieldnames=list(cols), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: "" if v is None else v for k, v in r.items()})
    out = io.BytesIO()
    write_columns(cols, "csv", out)
    assert out.getvalue().decode() == ref.getvalue()
    # Blocks stream with one header.
    out = io.BytesIO()
    half = len(rows) // 2
    write_columns(iter([columns_from_rows(rows[:half]), columns_from_rows(rows[half:])]),
                  "csv", out)
    assert out.getvalue().decode() == ref.getvalue()


def test_parquet_round_trip(job: tuple[object, list[object], list[object]]) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    table, elsets, sites = job
    cols = window_columns(table, elsets, sites)  # type: ignore[arg-type]
    out = io.BytesIO()
    write_columns(cols, "parquet", out)
    back = pq.read_table(io.BytesIO(out.getvalue())).to_pydict()
    assert back == cols


def test_parquet_blocks_with_columns_all_none_first(
        job: tuple[object, list[object], list[object]]) -> None:
    """A column that is all None in the first block (``end_clipped`` before the interval's
    end, ``look_side`` before a radar) takes its declared type, so a later block with values
    in it is written too (it was ``ArrowInvalid: Invalid null value``)."""
    pq = pytest.importorskip("pyarrow.parquet")
    table, elsets, sites = job
    cols = window_columns(table, elsets, sites)  # type: ignore[arg-type]
    first = {k: v[:10] for k, v in cols.items()}
    second = {k: v[10:] for k, v in cols.items()}
    nullable = ["gsd_m", "start_clipped", "end_clipped"]
    for name in nullable:
        first[name] = [None] * 10
    second["end_clipped"][-1] = "interval"
    second["gsd_m"][-1] = 1.5
    out = io.BytesIO()
    write_columns(iter([first, second]), "parquet", out)
    back = pq.read_table(io.BytesIO(out.getvalue()))
    assert back.to_pydict() == {k: first[k] + second[k] for k in cols}
    assert str(back.schema.field("end_clipped").type) == "string"
    assert str(back.schema.field("gsd_m").type) == "double"


def test_parquet_types_name_every_column_written(
        job: tuple[object, list[object], list[object]]) -> None:
    """Every column of window rows, with the imaging extras, is typed (coverage points: below)."""
    from overflight.passes import PassPlan

    table, elsets, sites = job
    plan = PassPlan(elsets, sites, T0, T0 + timedelta(days=2),  # type: ignore[arg-type]
                    Constraints(), None, sensors=shipped_sensors())  # type: ignore[arg-type]
    names = set(window_columns(table, elsets, sites))  # type: ignore[arg-type]
    extra = set(plan.extra_columns(table))  # type: ignore[arg-type]
    assert names | extra <= set(PARQUET_TYPES)


def test_parquet_failed_write_is_marked_incomplete(
        job: tuple[object, list[object], list[object]]) -> None:
    """A write that fails after the first block leaves a readable file whose metadata says it
    is incomplete, never one that reads as whole."""
    pq = pytest.importorskip("pyarrow.parquet")
    table, elsets, sites = job
    cols = window_columns(table, elsets, sites)  # type: ignore[arg-type]

    def blocks() -> object:
        yield cols
        raise KeyboardInterrupt

    out = io.BytesIO()
    with pytest.raises(KeyboardInterrupt):
        write_columns(blocks(), "parquet", out)  # type: ignore[arg-type]
    meta = pq.ParquetFile(io.BytesIO(out.getvalue())).metadata
    assert meta.num_rows == len(table)
    marker = json.loads(meta.metadata[INCOMPLETE_KEY.encode()])
    assert marker == {"incomplete": True, "rows_written": len(table),
                      "error": "KeyboardInterrupt"}


def test_empty_and_unknown_format() -> None:
    out = io.BytesIO()
    write_columns({}, "json", out)
    assert json.loads(out.getvalue()) == []
    with pytest.raises(OverflightError, match="format 'xml'"):
        write_columns({}, "xml", out)


def _run_binary(args: list[str], capsysbinary: pytest.CaptureFixture[bytes]) -> bytes:
    from overflight.cli import main

    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code
    return capsysbinary.readouterr().out


PASSES = ["passes", "--sat", "40115", "--sat", "38012", "--site", "Rajin port", "--site",
          "Sohae", "--start", "2026-05-31T00:00Z", "--days", "2"]


def test_cli_passes_ndjson_and_parquet_equal_json(capsysbinary: pytest.CaptureFixture[bytes]
                                                   ) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    rows = json.loads(_run_binary([*PASSES, "-f", "json"], capsysbinary))
    assert len(rows) > 4
    nd = _run_binary([*PASSES, "-f", "ndjson"], capsysbinary).decode().splitlines()
    assert [json.loads(x) for x in nd] == rows
    table = pq.read_table(io.BytesIO(_run_binary([*PASSES, "-f", "parquet"], capsysbinary)))
    assert table.to_pylist() == rows
    watch = ["watch", "Sohae", "--sat", "40115", "--start", "2026-05-31T00:00Z", "--days", "2"]
    nd = _run_binary([*watch, "-f", "ndjson"], capsysbinary).decode().splitlines()
    assert [json.loads(x) for x in nd] == json.loads(_run_binary([*watch, "-f", "json"],
                                                                 capsysbinary))


def test_cli_coverage_point_formats(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    base = ["coverage", "--region", "korean-peninsula", "--sat", "40115", "--start",
            "2026-05-31T00:00Z", "--days", "0.5", "--grid-km", "100"]
    doc = json.loads(_run_binary([*base, "-f", "json"], capsysbinary))
    points = doc["points"]
    nd = [json.loads(x) for x in _run_binary([*base, "-f", "ndjson"], capsysbinary).splitlines()]
    assert nd == points
    text = _run_binary([*base, "-f", "csv"], capsysbinary).decode()
    assert len(list(csv.DictReader(io.StringIO(text)))) == len(points)
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(io.BytesIO(_run_binary([*base, "-f", "parquet"], capsysbinary)))
    assert table.to_pylist() == points
    assert set(table.column_names) <= set(PARQUET_TYPES)  # typed, never Arrow's null type
