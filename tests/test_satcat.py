"""SATCAT import (CelesTrak and Space-Track, CSV and JSON), the rows that show it, the owner and
object-type filters, schema migration, and the bundled snapshot kept by a first import.

Expected values are read off the hand-written fixtures (tests/fixtures/satcat/), never computed
with the code under test."""

from __future__ import annotations

import gzip
import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from overflight.catalog import Catalog, list_rows, snapshot_paths, store
from overflight.catalog.formats import detect_format, parse_bytes, read_path
from overflight.cli import main
from overflight.selection import NoElementSets, SelectionError, select_elements

FIXTURES = Path(__file__).parent / "fixtures" / "satcat"
LAYOUTS = [
    ("celestrak-satcat.csv", "satcat-csv", "celestrak"),
    ("celestrak-satcat.json", "satcat-json", "celestrak"),
    ("spacetrack-satcat.csv", "satcat-csv", "space-track"),
    ("spacetrack-satcat.json", "satcat-json", "space-track"),
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("name", "fmt", "provider"), LAYOUTS)
def test_both_layouts_of_both_providers(name: str, fmt: str, provider: str) -> None:
    data = (FIXTURES / name).read_bytes()
    assert detect_format(data) == fmt
    assert detect_format(gzip.compress(data)) == fmt
    parsed = parse_bytes(data, name)
    assert parsed.errors == [] and parsed.records == []
    by_id = {r.norad_id: r for r in parsed.satcat}
    assert sorted(by_id) == [1, 25544, 30031, 40115, 58400]  # Space-Track: CURRENT=N skipped
    m = by_id[58400]
    assert (m.name, m.intl_designator, m.object_type, m.owner) == (
        "MALLIGYONG-1", "2023-179A", "payload", "NKOR")
    assert (m.launch_date, m.launch_site, m.decay_date) == (date(2023, 11, 21), "YUN", None)
    assert (m.period_min, m.inclination_deg, m.apogee_km, m.perigee_km) == (
        94.63, 97.41, 512.0, 494.0)
    assert m.provider == provider
    wv3 = by_id[40115]
    assert (wv3.name, wv3.owner, wv3.launch_date, wv3.launch_site) == (
        "WORLDVIEW-3 (WV-3)", "US", date(2014, 8, 13), "AFWTR")
    rb = by_id[1]
    assert (rb.object_type, rb.owner, rb.decay_date) == ("rocket body", "CIS", date(1957, 12, 1))
    assert by_id[30031].object_type == "debris"
    if provider == "celestrak":
        assert rb.rcs_m2 == 20.42 and rb.rcs_size == ""
    else:  # Space-Track publishes RCSVALUE 0 (withdrawn) and a size class
        assert rb.rcs_m2 is None and rb.rcs_size == "LARGE"


def test_gp_data_is_not_taken_for_satcat() -> None:
    # Space-Track's gp class has OBJECT_TYPE and COUNTRY_CODE too, but mean elements.
    head = b'[{"NORAD_CAT_ID":"25544","OBJECT_TYPE":"PAYLOAD","COUNTRY_CODE":"ISS",' \
           b'"EPOCH":"2026-05-30T00:00:00","MEAN_MOTION":"15.5"}]'
    assert detect_format(head) == "omm-json"
    csv_head = b"OBJECT_NAME,OBJECT_ID,EPOCH,MEAN_MOTION,NORAD_CAT_ID\n"
    assert detect_format(csv_head) == "omm-csv"


def test_bad_rows_are_one_line_errors_naming_file_line_and_field() -> None:
    parsed = read_path(FIXTURES / "bad-rows.csv")
    assert [r.norad_id for r in parsed.satcat] == [40115]
    assert [str(e) for e in parsed.errors] == [
        "bad-rows.csv:3: NORAD_CAT_ID: '4O115': not a catalog number (1-999999999)",
        "bad-rows.csv:4: LAUNCH_DATE: '2020-13-45' is not a date (YYYY-MM-DD)",
    ]
    bad_json = b'[{"NORAD_CAT_ID":"1","OBJECT_TYPE":"ROCKET BODY","COUNTRY":"CIS",' \
               b'"SATNAME":"X","DECAY":"1957-12-32"}]'
    (err,) = parse_bytes(bad_json, "st.json").errors
    assert str(err) == "st.json: record 1: DECAY: '1957-12-32' is not a date (YYYY-MM-DD)"


def test_import_stores_with_source_and_rows_show_it(tmp_path: Path) -> None:
    with Catalog.open(tmp_path / "c.db", create=True) as cat:
        result = cat.import_sources([FIXTURES / "celestrak-satcat.csv"], seed_snapshot=True)
        assert result.stored and result.satcat == 5 and result.new == 0
        assert result.seeded is not None and result.seeded.objects > 100
        (src,) = result.sources
        assert (src.kind, src.group, src.new, src.rejected) == ("satcat", None, 5, 0)
        uri = str((FIXTURES / "celestrak-satcat.csv").resolve())
        assert cat.connection.execute(
            "SELECT count(*) FROM satcat s JOIN sources o ON o.id = s.source_id WHERE o.uri = ?",
            (uri,)).fetchone()[0] == 5
        assert cat.info().satcat_entries == 5
        obj = cat.get(58400)
        assert (obj.owner, obj.object_type) == ("NKOR", "payload")
        rows = {r["norad_id"]: r for r in list_rows(cat.latest(), cat.objects(),
                                                    cat.latest()[0].epoch)}
        assert (rows[58400]["owner"], rows[58400]["launch_date"], rows[58400]["decay_date"]) == (
            "NKOR", "2023-11-21", None)
        assert rows[25544]["object_type"] == "payload"
        assert all(rows[n]["owner"] is None for n in rows if n not in (25544, 40115, 58400))
        # A re-import changes nothing; the Space-Track file replaces the entries (newest wins).
        again = cat.import_sources([FIXTURES / "celestrak-satcat.csv"])
        assert (again.sources[0].new, again.sources[0].duplicates) == (0, 5)
        cat.import_sources([FIXTURES / "spacetrack-satcat.json"])
        assert cat.satcat([1])[1].provider == "space-track"


def test_strict_stores_nothing_and_cli_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "c.db")
    code, out, err = run(capsys, "catalog", "import", str(FIXTURES / "bad-rows.csv"), "--db", db,
                         "--strict", "--no-snapshot")
    assert code == 1 and "NOT stored" in out
    code, out, err = run(capsys, "catalog", "import", str(FIXTURES / "bad-rows.csv"), "--db", db,
                         "--no-snapshot")
    assert code == 1
    assert len(err.splitlines()) == 2 and ":3: NORAD_CAT_ID:" in err and ":4: LAUNCH_DATE:" in err
    assert "1 SATCAT entries, 2 rejected; stored" in out
    with Catalog.open(db) as cat:
        assert list(cat.satcat()) == [40115]


def test_cli_gzip_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.db")
    gz = tmp_path / "download.bin"  # named neither .csv nor .gz: told by its content
    gz.write_bytes(gzip.compress((FIXTURES / "spacetrack-satcat.csv").read_bytes()))
    code, out, err = run(capsys, "catalog", "import", str(gz), "--db", db)
    assert code == 0, err
    assert "new catalog: seeded with the bundled snapshot" in out
    code, out, _ = run(capsys, "catalog", "show", "58400", "--db", db, "-f", "json")
    (info,) = json.loads(out)
    assert (info["owner"], info["object_type"], info["launch_date"], info["launch_site"]) == (
        "NKOR", "payload", "2023-11-21", "YUN")
    code, out, _ = run(capsys, "catalog", "list", "--db", db, "-f", "json", "-g", "malligyong-1")
    (row,) = json.loads(out)
    assert row["owner"] == "NKOR" and row["decay_date"] is None


def test_first_import_keeps_the_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Catalog.bundled() as snap:
        bundled = {o.norad_id for o in snap.objects()}
    one = tmp_path / "one.tle"
    one.write_text(_one_tle())
    db = str(tmp_path / "seeded.db")
    code, out, err = run(capsys, "catalog", "import", str(one), "--db", db)
    assert code == 0, err
    assert "new catalog: seeded with the bundled snapshot" in out
    with Catalog.open(db) as cat:
        assert {o.norad_id for o in cat.objects()} >= bundled
        assert 99990 in {o.norad_id for o in cat.objects()}
    # A second import does not seed again (the database exists).
    code, out, _ = run(capsys, "catalog", "import", str(one), "--db", db)
    assert "new catalog:" not in out
    empty = str(tmp_path / "empty.db")
    code, out, err = run(capsys, "catalog", "import", str(one), "--db", empty, "--no-snapshot")
    assert code == 0 and "new catalog:" not in out
    with Catalog.open(empty) as cat:
        assert [o.norad_id for o in cat.objects()] == [99990]


def _one_tle() -> str:
    """One made-up object (NORAD 99990, not in the snapshot) as TLE text."""
    from datetime import UTC, datetime

    from overflight.catalog.formats import format_tle
    from overflight.elements import ElementSet

    es = ElementSet(norad_id=99990, epoch=datetime(2026, 5, 30, 12, tzinfo=UTC),
                    mean_motion_rev_day=15.2, eccentricity=0.0001, inclination_deg=97.5,
                    raan_deg=10.0, arg_perigee_deg=90.0, mean_anomaly_deg=270.0, bstar=0.0,
                    mean_motion_dot=0.0, mean_motion_ddot=0.0, name="TEST SAT",
                    intl_designator="26001A", classification="U", element_set_no=999,
                    rev_at_epoch=1, ephemeris_type=0)
    return format_tle(es)


def test_owner_and_type_filters(tmp_path: Path) -> None:
    with Catalog.open(tmp_path / "c.db", create=True) as cat:
        cat.import_sources([FIXTURES / "celestrak-satcat.csv"], seed_snapshot=True)
        groups = ["resource", "malligyong-1", "stations"]
        prk = select_elements(groups=groups, catalog=cat, owners=["PRK"])  # ISO → NKOR
        assert [e.norad_id for e in prk] == [58400]
        assert [e.norad_id for e in select_elements(groups=groups, catalog=cat,
                                                    owners=["nkor"])] == [58400]
        us = select_elements(sats=["40115", "25544", "58400"], catalog=cat, owners=["US"])
        assert [e.norad_id for e in us] == [40115]
        pay = select_elements(sats=["40115", "25544"], catalog=cat, object_types=["payload"])
        assert [e.norad_id for e in pay] == [40115, 25544]
        with pytest.raises(NoElementSets, match="owners=CIS"):
            select_elements(sats=["58400"], catalog=cat, owners=["CIS"])
        with pytest.raises(SelectionError, match="object_types: 'satellite'"):
            select_elements(sats=["58400"], catalog=cat, object_types=["satellite"])


def test_filters_fall_back_to_the_sensor_table() -> None:
    from overflight.sensors import load_table

    table = load_table()
    chinese = {n for n, s in table.items() if "CHN" in s.country.split("/")}
    with Catalog.bundled() as cat:  # no SATCAT at all
        got = select_elements(groups=["resource"], catalog=cat, owners=["PRC"])
        resource = {e.norad_id for e in cat.latest(group="resource")}
    assert {e.norad_id for e in got} == chinese & resource and got


def test_migration_from_schema_2_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = store.connect(path, upgrade=False)
    store.migrate(conn, target=2)
    with store.transaction(conn):
        records = read_path(snapshot_paths()[0]).records
        store.write_element_sets(conn, records, groups=["geo"], source="old")
    conn.close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 2
    raw.close()
    with Catalog.open(path) as cat:
        assert cat.info().schema_version == store.SCHEMA_VERSION == 3
        assert len(cat.latest(group="geo")) == len({r.norad_id for r in records})
        assert cat.satcat() == {}
        cat.import_sources([FIXTURES / "celestrak-satcat.json"])
        assert len(cat.satcat()) == 5


def test_import_from_a_url_whose_format_says_csv(tmp_path: Path) -> None:
    """A URL with FORMAT=csv names OMM CSV for element sets; SATCAT is told by its keys."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = gzip.compress((FIXTURES / "celestrak-satcat.csv").read_bytes())

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/satcat/records.php?GROUP=x&FORMAT=csv"
        with Catalog.open(tmp_path / "c.db", create=True) as cat:
            result = cat.import_sources([url])
            assert result.sources[0].kind == "satcat" and result.satcat == 5
            assert cat.satcat([58400])[58400].owner == "NKOR"
    finally:
        srv.shutdown()
        srv.server_close()


def test_cli_passes_owner_filter_uses_the_sensor_table_without_satcat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "absent.db")  # no database: the bundled snapshot, no SATCAT
    # Within 14 days of the latest Malligyong-1 set (2024-07-07): older times are refused.
    code, out, err = run(capsys, "passes", "--group", "malligyong-1", "--group", "resource",
                         "--owner", "PRK", "--site", "Rajin port", "--start",
                         "2024-07-06T00:00Z", "--days", "2", "-f", "json", "--db", db)
    assert code == 0, err
    windows = json.loads(out)
    assert windows and {w["norad_id"] for w in windows} == {58400}
    code, out, err = run(capsys, "passes", "--group", "malligyong-1", "--object-type", "debris",
                         "--site", "Rajin port", "--start", "2024-06-08T00:00Z", "--db", db)
    assert code == 2 and "--object-type=debris" in err and len(err.splitlines()) == 1


def test_api_passes_and_coverage_take_owners_and_object_types() -> None:
    import overflight as ovf

    with Catalog.bundled() as cat:
        sats = cat.select(group=["resource", "malligyong-1"])
        win = ovf.passes(sats, "Rajin port", start="2024-07-06T00:00Z", days=2, catalog=cat,
                         owners=["PRK"], object_types=["payload"])
        assert len(win) > 0 and {w.norad_id for w in win} == {58400}
        cov = ovf.coverage(["58400", "40115"], "0,0,2,2", start="2026-05-31T00:00Z", days=0.5,
                           grid_km=100, catalog=cat, owners=["US"])
        assert [s.norad_id for s in cov.result.satellites] == [40115]


def test_server_catalog_endpoints_and_passes_params(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from overflight.server import create_app

    path = tmp_path / "c.db"
    with Catalog.open(path, create=True) as cat:
        cat.import_sources([FIXTURES / "spacetrack-satcat.csv"], seed_snapshot=True)
    with TestClient(create_app(db=path)) as client:
        detail = client.get("/api/catalog/58400").json()
        assert (detail["owner"], detail["object_type"], detail["launch_date"]) == (
            "NKOR", "payload", "2023-11-21")
        page = client.get("/api/catalog", params={"group": "malligyong-1"}).json()
        assert page["items"][0]["owner"] == "NKOR"
        resp = client.get("/api/passes", params={
            "group": ["malligyong-1", "resource"], "site": "Rajin port", "owner": "PRK",
            "start": "2024-07-06T00:00Z", "days": 2})
        assert resp.status_code == 200, resp.text
        ids = {w["norad_id"] for w in resp.json()["windows"]}
        assert ids == {58400}


def test_a_failed_first_import_does_not_lose_the_seeding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "c.db")
    code, _, err = run(capsys, "catalog", "import", str(tmp_path / "typo.tle"), "--db", db)
    assert code == 2 and "no such file" in err
    code, out, err = run(capsys, "catalog", "import", str(FIXTURES / "celestrak-satcat.csv"),
                         "--db", db)
    assert code == 0, err
    assert "new catalog: seeded with the bundled snapshot" in out
