"""`overflight catalog ...` end to end: summaries, exit codes 0/1/2, one-line errors, output
formats, export → import round trips, the bundled snapshot without a database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sgp4.api import Satrec

from overflight.catalog import Catalog
from overflight.cli import main

HISTORY = "celestrak-history-2026-05-24-to-30"
SNAPSHOT = "celestrak-2026-05-30"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit status, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.db")


def test_import_summary_and_reimport(
    capsys: pytest.CaptureFixture[str], shared_data: Path, db: str
) -> None:
    src = str(shared_data / HISTORY / "weather.tle")
    code, out, err = run(
        capsys, "catalog", "import", src, "--db", db, "--format", "json", "--no-snapshot"
    )
    assert code == 0 and err == ""
    (row,) = json.loads(out)
    assert row["group"] == "weather" and row["rejected"] == 0 and row["new"] > 1000
    code, out, _ = run(capsys, "catalog", "import", src, "--db", db)
    assert code == 0
    assert f"0 new element sets, {row['new'] + row['duplicates']} duplicates skipped" in out
    code, out, _ = run(capsys, "catalog", "groups", "--db", db, "--format", "json")
    assert json.loads(out)[0]["element_sets"] == row["new"]


def test_rejected_records_exit_1_with_one_line_each(
    capsys: pytest.CaptureFixture[str], shared_data: Path, tmp_path: Path, db: str
) -> None:
    lines = (shared_data / SNAPSHOT / "military.tle").read_text().splitlines()
    lines[2] = lines[2][:-1] + str((int(lines[2][-1]) + 1) % 10)  # record 1: bad checksum
    lines[7] = lines[7][:30]  # record 3: line 2 cut short
    bad = tmp_path / "mil.tle"
    bad.write_text("\n".join(lines) + "\n")

    code, out, err = run(capsys, "catalog", "import", str(bad), "--db", db, "--strict")
    assert code == 1
    assert "NOT stored" in out
    assert not Path(db).exists() or Catalog.open(db).info().element_sets == 0

    code, out, err = run(capsys, "catalog", "import", str(bad), "--db", db, "-g", "mil",
                         "--no-snapshot")
    assert code == 1
    err_lines = err.splitlines()
    assert len(err_lines) == 2
    assert err_lines[0].startswith(f"{bad}:3: ") and err_lines[1].startswith(f"{bad}:8: ")
    assert "checksum" in err_lines[0].lower()
    assert "21 new element sets, 0 duplicates skipped, 2 rejected; stored" in out
    with Catalog.open(db) as cat:
        assert len(cat.latest(group="mil")) == 21


def test_user_errors_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str
) -> None:
    for args in (
        ("catalog", "import", str(tmp_path / "missing.tle"), "--db", db),
        ("catalog", "import", "--db", db),
        ("catalog", "import", "http://127.0.0.1:9/x.tle", "--timeout", "1", "--db", db),
        ("catalog", "show", "no such satellite"),
        ("catalog", "show", "99999"),
        ("catalog", "list", "--group", "nope"),
        ("catalog", "export", "--sat", "nothing-like-this"),
        ("catalog", "import", str(tmp_path), "--db", db),
        ("catalog", "list", "--db", str(tmp_path)),
    ):
        code, _, err = run(capsys, *args)
        assert code == 2, args
        assert err.startswith("overflight: error: ") and err.count("\n") == 1, (args, err)
        assert "Traceback" not in err
    assert not Path(db).exists() or Catalog.open(db).info().element_sets == 0


def test_ambiguous_name_lists_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "catalog", "show", "ISS*")
    assert code == 2
    assert "ambiguous" in err and "25544 ISS (ZARYA)" in err and "49044 ISS (NAUKA)" in err


def test_snapshot_without_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "absent.db"
    code, out, _ = run(
        capsys, "catalog", "list", "-g", "malligyong-1", "--db", str(db), "-f", "json"
    )
    assert code == 0 and [(r["norad_id"], r["name"]) for r in json.loads(out)] == [
        (58400, "MALLIGYONG-1")
    ]
    code, out, _ = run(capsys, "catalog", "list", "-g", "malligyong-1", "--db", str(db))
    assert code == 0 and "58400" in out and "bundled snapshot" in out
    code, out, _ = run(capsys, "catalog", "groups", "--format", "csv", "--db", str(db))
    groups = {r["group"]: int(r["objects"]) for r in csv.DictReader(io.StringIO(out))}
    assert groups["resource"] == 167 and groups["malligyong-1"] == 1 and "starlink" not in groups
    code, out, _ = run(capsys, "catalog", "info", "--format", "json", "--db", str(db))
    assert json.loads(out)[0]["snapshot"] is True
    assert not db.exists()  # reading never creates the database
    code, out, _ = run(capsys, "catalog", "import", "--snapshot", "--db", str(db), "-f", "json")
    assert code == 0 and sum(r["new"] for r in json.loads(out)) == 888
    code, out, _ = run(capsys, "catalog", "info", "--format", "json", "--db", str(db))
    assert json.loads(out)[0]["snapshot"] is False and json.loads(out)[0]["element_sets"] == 888


def test_show_derived_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "show", "malligyong-1", "--format", "json")
    assert code == 0
    (info,) = json.loads(out)
    # Independent check from the published TLE text (line 2 of the 2024-07-07 element set);
    # perigee/apogee from SGP4's mean semi-major axis (sgp4's own Satrec.a, docs/history.md).
    n = 15.21338773
    ecc = 0.0003640
    sat = Satrec.twoline2rv(info["tle"].splitlines()[-2], info["tle"].splitlines()[-1])
    a_km = sat.a * sat.radiusearthkm
    assert info["epoch"] == "2024-07-07T21:39:32.537088Z"
    assert info["period_min"] == pytest.approx(1440 / n, rel=1e-12)
    assert info["perigee_alt_km"] == pytest.approx(a_km * (1 - ecc) - 6378.135, abs=1e-6)
    assert info["apogee_alt_km"] == pytest.approx(a_km * (1 + ecc) - 6378.135, abs=1e-6)
    assert info["inclination_deg"] == 97.4012 and info["age_days"] > 800
    assert info["tle"].splitlines()[1] == (
        "2 58400  97.4012  76.4000 0003640 108.4471 251.7161 15.21338773 34872"
    )
    code, out, _ = run(capsys, "catalog", "show", "58400", "--history", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["epoch"][:10] for r in rows] == ["2024-06-07", "2024-06-12", "2024-07-07"]
    code, out, _ = run(capsys, "catalog", "show", "58400")
    assert code == 0 and "perigee_alt_km" in out and "MALLIGYONG-1" in out


def test_show_history_table_formats_elements_as_history(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Eccentricity and B* in `catalog show --history` read as in `history` (one home)."""
    code, out, _ = run(capsys, "catalog", "show", "58400", "--history")
    assert code == 0 and "0.0001572" in out and "3.003e-04" in out and "97.4051" in out
    assert "│ 0.000 " not in out
    code, hist, _ = run(capsys, "history", "58400")
    assert code == 0 and "0.0001572" in hist and "3.003e-04" in hist and "97.4051" in hist
    code, out, _ = run(capsys, "catalog", "show", "58400", "--history", "--format", "json")
    assert json.loads(out)[0]["bstar"] == pytest.approx(3.0025e-4)  # programs get the numbers


def test_list_formats_and_filters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "list", "--group", "stations", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 25
    assert {"norad_id", "name", "epoch", "period_min", "perigee_alt_km", "groups"} <= set(rows[0])
    code, out, _ = run(capsys, "catalog", "list", "--name", "noaa*", "--format", "csv")
    names = [r["name"] for r in csv.DictReader(io.StringIO(out))]
    assert names and all(n.upper().startswith("NOAA") for n in names)
    code, out, _ = run(capsys, "catalog", "list", "--name", "no match at all", "-f", "json")
    assert code == 0 and json.loads(out) == []


@pytest.mark.parametrize("fmt", ["tle", "omm-json", "csv", "omm-xml", "omm-kvn"])
def test_export_import_round_trip(
    capsys: pytest.CaptureFixture[str], shared_data: Path, tmp_path: Path, fmt: str
) -> None:
    first, second = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    for group in ("stations", "science"):
        src = str(shared_data / HISTORY / f"{group}.tle")
        assert run(capsys, "catalog", "import", src, "--db", first)[0] == 0
    out_file = tmp_path / f"export.{fmt}"
    code, _, err = run(
        capsys, "catalog", "export", "--history", "--format", fmt, "-o", str(out_file),
        "--db", first,
    )  # fmt: skip
    assert code == 0 and "wrote" in err
    code, _, err = run(capsys, "catalog", "import", str(out_file), "--db", second)
    assert code == 0, err
    with Catalog.open(first) as a, Catalog.open(second) as b:
        sets_a = list(a.iter_element_sets())
        sets_b = list(b.iter_element_sets())
        assert len(sets_a) > 1000
        assert sets_b == sets_a  # field by field, including names, counters and epochs
        assert [e.key for e in sets_b] == [e.key for e in sets_a]


def test_export_selection_to_stdout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "catalog", "export", "--sat", "25544", "--sat", "malligyong-1")
    assert code == 0
    lines = out.splitlines()
    assert [ln[2:7] for ln in lines if ln.startswith("1 ")] == ["25544", "58400"]
    code, out, err = run(capsys, "catalog", "export", "--group", "weather", "-f", "omm-json")
    assert code == 0 and len(json.loads(out)) == 74
    code, out, err = run(capsys, "catalog", "export", "--name", "zzz*")
    assert code == 0 and out == "" and "nothing exported" in err


def test_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from overflight.cli import catalog_cmd

    bar = catalog_cmd._Progress()
    bar.enabled = True
    bar("parse small.tle", 0, 50_000)  # small imports: no bar
    bar("store", 10, 100)
    assert bar._progress is None
    bar("parse big.tle", 0, 40_000_000)
    bar("store", 20_000, 193_263)
    bar("store", 193_263, 193_263)
    assert set(bar._tasks) == {"parse big.tle", "store"}
    bar.stop()


def test_storage_errors_and_poisoned_rows_without_traceback(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    import sqlite3

    fixture = Path(__file__).parent / "fixtures" / "formats" / "four.tle"
    poisoned = str(tmp_path / "poisoned.db")
    assert run(capsys, "catalog", "import", str(fixture), "--db", poisoned)[0] == 0
    conn = sqlite3.connect(poisoned)
    with conn:
        conn.execute("UPDATE element_sets SET mean_motion_rev_day = 1e-200 WHERE norad_id = 25544")
    conn.close()
    code, out, err = run(capsys, "catalog", "list", "--db", poisoned, "--format", "json")
    assert code == 0 and "Traceback" not in err and "25544" not in out
    # One line on the overflight.catalog logger (stderr when logging is not configured).
    assert any("skipped a stored element set of NORAD 25544" in m for m in caplog.messages)
    code, _, err = run(capsys, "catalog", "show", "25544", "--db", poisoned)
    assert code == 2 and err.count("\n") == 1 and "no element sets stored" in err

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(Path(poisoned).read_bytes()[:4096] + b"\xa5" * 40960)
    code, _, err = run(capsys, "catalog", "list", "--db", str(corrupt))
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert "database is corrupt" in err and f"restore or delete {corrupt}" in err


def test_a_first_import_with_nothing_valid_is_exit_2_and_leaves_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "garbage.tle"
    bad.write_text("hello\nworld\n")
    db = tmp_path / "new.db"
    code, out, err = run(capsys, "catalog", "import", str(bad), "--db", str(db))
    assert code == 2 and "cannot recognise the format" in err
    assert "nothing stored" in out
    assert not db.exists()
    # The bundled snapshot is still what the catalog serves.
    code, out, _ = run(capsys, "catalog", "list", "--group", "resource", "--db", str(db),
                       "-f", "csv")
    assert code == 0 and len(out.splitlines()) > 100
