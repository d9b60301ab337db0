"""``-o/--output``: the file holds the bytes stdout would; bad paths are one line, exit 2."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from _cli import run
from overflight.cli._common import Interrupted, UserError, emit, output_to

PASSES = ["passes", "--sat", "40115", "--site", "Rajin port", "--start", "2026-05-31T00:00Z",
          "--days", "2"]
COMMANDS = [
    [*PASSES, "-f", "csv"],
    [*PASSES, "-f", "json"],
    [*PASSES, "-f", "table"],
    ["watch", "Rajin port", "--sat", "40115", "--start", "2026-05-31T00:00Z", "-f", "json"],
    ["exposure", "Rajin port", "--sat", "40115", "--start", "2026-05-31T00:00Z", "-f", "csv"],
    ["where", "40115", "--at", "2026-05-31T00:00Z", "-f", "json"],
    ["track", "40115", "--start", "2026-05-31T00:00Z", "-f", "csv"],
    ["verify", "--sat", "40115", "--site", "Rome", "--time", "2026-05-31T10:00Z", "-f", "csv"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:1] + a[-2:]))
def test_output_file_is_stdout(args: list[str], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(args, capsys)
    assert code == 0 and out
    path = tmp_path / "out"
    code, out_o, err = run([*args, "-o", str(path)], capsys)
    assert code == 0 and out_o == "" and f"wrote {path}" in err
    assert path.read_bytes() == out.encode()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary file left


# The listing commands, as README promises: every command with --format takes -o too.
LISTINGS = [
    ["sensors", "-f", "csv"],
    ["sensors", "-f", "table"],
    ["sites", "-f", "json"],
    ["areas", "-f", "csv"],
    ["areas", "-f", "geojson"],
    ["regions", "-f", "table"],
    ["catalog", "list", "--group", "stations", "-f", "csv"],
    ["catalog", "show", "25544", "-f", "json"],
    ["catalog", "show", "25544", "--history", "-f", "table"],
    ["catalog", "groups", "-f", "csv"],
    ["catalog", "info", "-f", "json"],
]


@pytest.mark.parametrize("args", LISTINGS, ids=" ".join)
def test_listing_output_file(args: list[str], tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(args, capsys)
    assert code == 0 and out
    path = tmp_path / "out"
    code, out_o, err = run([*args, "-o", str(path)], capsys)
    assert code == 0 and out_o == "" and err == f"wrote {path}\n"
    text = path.read_text()
    # The same output: "catalog" rows hold ages from now, so their first lines only.
    assert text.splitlines()[:1] == out.splitlines()[:1]
    if args[0] != "catalog":
        assert text == out
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_catalog_import_output_file(shared_data: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "summary.json"
    tle = shared_data / "celestrak-2026-05-30" / "stations.tle"
    code, out, err = run(["catalog", "import", str(tle), "--no-snapshot", "-f", "json",
                          "-o", str(path)], capsys)
    assert code == 0 and out == "" and err.endswith(f"wrote {path}\n")
    assert json.loads(path.read_text())[0]["new"] > 0


IMAGES = [
    ["watch", "Rajin port", "--sat", "40115", "--start", "2026-05-31T00:00Z", "-f", "png"],
    ["exposure", "Rajin port", "--sat", "40115", "--start", "2026-05-31T00:00Z", "-f", "png"],
    ["coverage", "--region", "tumen", "--grid-km", "40", "--sat", "40115", "--start",
     "2026-05-31T00:00Z", "--days", "1", "-f", "png"],
    ["history", "58400", "-f", "json", "--plot"],
]


@pytest.mark.parametrize("args", IMAGES, ids=lambda a: a[0])
def test_wrote_image_goes_to_stderr(args: list[str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "fig.png"
    code, out, err = run([*args, str(path)] if args[-1] == "--plot" else [*args, "-o", str(path)],
                         capsys)
    assert code == 0 and f"wrote {path}" in err and "wrote" not in out
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_parquet_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "w.parquet"
    code, _, _ = run([*PASSES, "-f", "parquet", "-o", str(path)], capsys)
    assert code == 0
    assert pq.read_table(path).num_rows > 0


@pytest.mark.parametrize("cmd", [PASSES, ["where", "40115"], ["history", "40115"]])
def test_bad_output_path(cmd: list[str], tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    for bad, why in ((tmp_path / "nope" / "x.csv", "does not exist"),
                     (tmp_path, "is a directory")):
        code, out, err = run([*cmd, "-o", str(bad)], capsys)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("overflight: error: --output ")
        assert why in err


def test_output_to_keeps_the_old_file_on_error_and_the_marked_part_on_ctrl_c(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.csv"
    path.write_text("old\n")
    with pytest.raises(UserError), output_to(path):
        sys.stdout.write("new, then an error\n")
        raise UserError("bad")
    assert path.read_text() == "old\n"
    with pytest.raises(Interrupted), output_to(path):
        sys.stdout.write("a,b\n1,2\n# incomplete\n")
        raise Interrupted({"incomplete": True, "satellites_done": 1, "satellites": 2,
                           "rows_written": 1, "rows": 1}, "csv")
    assert path.read_text() == "a,b\n1,2\n# incomplete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]
    capsys.readouterr()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _cells(text: str, column: int) -> str:
    """The text of one table column, its folded lines joined."""
    rows = [line.split("│") for line in text.splitlines() if line.startswith("│")]
    return "".join(r[column].strip() for r in rows)


@pytest.mark.parametrize("width", [80, 120, 240])
def test_table_cells_fold_never_truncate(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://example.org/" + "-".join(f"part{i}" for i in range(60))
    rows = [{"norad_id": 40115 + i, "epoch": "2026-05-31 10:15", "gsd_m": 0.31, "source": url}
            for i in range(3)]
    monkeypatch.setenv("COLUMNS", str(width))
    out = _Terminal()
    emit(rows, "table", out=out)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # the terminal's styles
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    assert _cells(text, 4) == url * 3
    if width >= 120:  # short cells stay whole where there is room: only the long one folds
        assert "│ 2026-05-31 10:15 │" in text and "│ 40115 " in text


def test_sensors_table_shows_a_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["sensors", "--kind", "sar", "--country", "ITA"], capsys)
    assert code == 0 and "source" in out and "…" not in out
    code, js, _ = run(["sensors", "--kind", "sar", "--country", "ITA", "-f", "json"], capsys)
    rows = json.loads(js)
    many = next(r for r in rows if len(r["sources"]) > 1)
    assert many["source"] == many["sources"][0]
    flat = " ".join(out.replace("│", " ").split())
    assert f"(+{len(many['sources']) - 1} more: -f json)" in flat
    code, csv_out, _ = run(["sensors", "--kind", "sar", "--country", "ITA", "-f", "csv"], capsys)
    assert " | ".join(many["sources"]) in csv_out.replace('""', '"')


def test_areas_table_keeps_urls_whole(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["areas"], capsys)
    assert code == 0 and "…" not in out
    sources = _cells(out, 6)
    assert "https://beyondparallel.csis.org/ongoing-arms-transfer-activity-at-najin-port/" in (
        sources)
