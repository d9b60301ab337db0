"""The SQLite store: exact round trip, history semantics, atomicity, migrations, concurrency."""

from __future__ import annotations

import calendar
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from overflight.catalog import store
from overflight.elements import ElementSet

T0 = datetime(2026, 5, 24, 0, 0, 0, 123456, tzinfo=UTC)


def make(norad_id: int, i: int, *, name: str = "", **kw: object) -> ElementSet:
    """A synthetic element set; ``i`` shifts the epoch and values so each i is distinct."""
    values: dict[str, object] = dict(
        norad_id=norad_id,
        epoch=T0 + timedelta(hours=6 * i, microseconds=i),
        mean_motion_rev_day=15.123456789 + i * 1e-8,
        eccentricity=0.0001234 + i * 1e-7,
        inclination_deg=97.4012,
        raan_deg=(46.9797 + i) % 360.0,
        arg_perigee_deg=158.683,
        mean_anomaly_deg=201.4471,
        bstar=3.0025e-4,
        mean_motion_dot=6.581e-5,
        mean_motion_ddot=-1.2345e-11,
        name=name,
        intl_designator="23179A",
        element_set_no=999,
        rev_at_epoch=30329 + i,
    )
    values.update(kw)
    return ElementSet(**values)  # type: ignore[arg-type]


def read_all(conn: sqlite3.Connection) -> list[ElementSet]:
    rows = conn.execute(f"SELECT {store.ELEMENT_COLUMNS} FROM element_sets ORDER BY id")
    return [store.row_to_element_set(r) for r in rows]


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = store.connect(tmp_path / "t.db")
    yield conn
    conn.close()


def write(conn: sqlite3.Connection, records: list[ElementSet], **kw: object) -> store.WriteStats:
    with store.transaction(conn):
        return store.write_element_sets(conn, records, **kw)  # type: ignore[arg-type]


# ---- values ----------------------------------------------------------------------------------
def test_round_trip_is_exact(db: sqlite3.Connection) -> None:
    odd = [
        make(1, 0),
        make(
            2, 1, name="ODD ONE", bstar=-1.0e-300, mean_motion_ddot=5e-324, eccentricity=0.9999999
        ),
        make(3, 2, epoch=datetime(1957, 10, 4, 19, 28, 34, 999999, tzinfo=UTC)),
        make(339999, 3, classification="S", ephemeris_type=4, element_set_no=0, rev_at_epoch=99999),
        make(4, 4, mean_motion_rev_day=1.00270000000001, raan_deg=359.99999999999994),
    ]
    write(db, odd)
    back = read_all(db)
    assert back == odd
    assert [b.key for b in back] == [o.key for o in odd]
    for b, o in zip(back, odd, strict=True):
        assert b.epoch == o.epoch and b.epoch.utcoffset() == timedelta(0)
        assert repr(b.mean_motion_rev_day) == repr(o.mean_motion_rev_day)


def test_epoch_conversion_is_integer_microseconds() -> None:
    t = datetime(2026, 5, 30, 12, 25, 10, 468992, tzinfo=UTC)
    us = store.datetime_to_us(t)
    assert us == calendar.timegm(t.utctimetuple()) * 10**6 + 468992
    assert store.us_to_datetime(us) == t
    with pytest.raises(ValueError, match="naive"):
        store.datetime_to_us(datetime(2026, 1, 1))


# ---- history semantics -----------------------------------------------------------------------
def test_reimport_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    conn = store.connect(path)
    records = [make(n, i, name=f"SAT {n}") for n in (1, 2, 3) for i in range(5)]
    first = write(conn, records, groups=["g"], source="file-a")
    assert (first.received, first.new, first.duplicates, first.objects) == (15, 15, 0, 3)
    conn.close()
    before = dump(path)
    conn = store.connect(path)
    again = write(conn, records, groups=["g"], source="file-a")
    conn.close()
    assert (again.new, again.duplicates) == (0, 15)
    assert dump(path) == before


def test_duplicates_within_a_batch_are_stored_once(db: sqlite3.Connection) -> None:
    a = make(7, 1)
    renamed = make(7, 1, name="LATER NAME", element_set_no=12)  # same orbit values → same key
    stats = write(db, [a, a, renamed])
    assert (stats.received, stats.new, stats.duplicates) == (3, 1, 2)
    assert db.execute("SELECT count(*) FROM element_sets").fetchone()[0] == 1


def test_newer_data_adds_history_and_updates_the_name(db: sqlite3.Connection) -> None:
    write(db, [make(9, i, name="OBJECT A") for i in range(3)])
    stats = write(db, [make(9, i, name="MALLIGYONG-1") for i in range(2, 6)])
    assert (stats.new, stats.duplicates) == (3, 1)
    assert db.execute("SELECT count(*) FROM element_sets").fetchone()[0] == 6
    assert db.execute("SELECT name FROM objects WHERE norad_id = 9").fetchone()[0] == "MALLIGYONG-1"
    names = db.execute(
        "SELECT name, first_epoch_us, last_epoch_us FROM names WHERE norad_id = 9 "
        "ORDER BY first_epoch_us"
    ).fetchall()
    us = [store.datetime_to_us(make(9, i).epoch) for i in range(6)]
    # Epoch 2 was seen under both names (a re-published duplicate): both spans include it.
    assert names == [("OBJECT A", us[0], us[2]), ("MALLIGYONG-1", us[2], us[5])]


def test_older_import_does_not_rename_and_unnamed_sets_keep_the_name(
    db: sqlite3.Connection,
) -> None:
    write(db, [make(5, 10, name="NEW NAME")])
    write(db, [make(5, 1, name="OLD NAME"), make(5, 20, name="")])
    assert db.execute("SELECT name FROM objects WHERE norad_id = 5").fetchone()[0] == "NEW NAME"
    last = db.execute("SELECT last_epoch_us FROM objects WHERE norad_id = 5").fetchone()[0]
    assert last == store.datetime_to_us(make(5, 20).epoch)


def test_designator_without_a_name(db: sqlite3.Connection) -> None:
    write(db, [make(6, 0, name="", intl_designator="98067A")])
    assert db.execute("SELECT name, intl_designator FROM objects").fetchall() == [("", "98067A")]
    write(db, [make(6, 1, name="ISS (ZARYA)", intl_designator="")])
    assert db.execute("SELECT name, intl_designator FROM objects").fetchall() == [
        ("ISS (ZARYA)", "98067A")
    ]


def test_groups_are_many_to_many(db: sqlite3.Connection) -> None:
    write(db, [make(1, 0), make(2, 0)], groups=["weather"])
    write(db, [make(2, 1), make(3, 0)], groups=["science", "noaa"])
    rows = db.execute(
        "SELECT g.name, gm.norad_id FROM group_members gm JOIN groups g ON g.id = gm.group_id "
        "ORDER BY g.name, gm.norad_id"
    ).fetchall()
    assert rows == [("noaa", 2), ("noaa", 3), ("science", 2), ("science", 3), ("weather", 1),
                    ("weather", 2)]  # fmt: skip


def test_source_is_recorded_once(db: sqlite3.Connection) -> None:
    write(db, [make(1, 0)], source="https://example.org/a")
    write(db, [make(1, 1)], source="https://example.org/a")
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 1
    assert db.execute("SELECT count(DISTINCT source_id) FROM element_sets").fetchone()[0] == 1


# ---- atomicity -------------------------------------------------------------------------------
@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
def test_exception_mid_import_leaves_db_unchanged(tmp_path: Path, exc_type: type) -> None:
    path = tmp_path / "t.db"
    conn = store.connect(path)
    write(conn, [make(1, i, name="KEEP") for i in range(3)], groups=["old"])
    before = dump(path)

    def records() -> Iterator[ElementSet]:
        for i in range(50_000):  # more than one chunk is written before the failure
            yield make(100 + i % 500, i, name="NEW")
        raise exc_type("interrupted mid-import")

    with pytest.raises(exc_type), store.transaction(conn):
        store.write_element_sets(conn, records(), groups=["new"], source="x")
    assert not conn.in_transaction
    conn.close()
    assert dump(path) == before


def test_write_outside_a_transaction_is_refused(db: sqlite3.Connection) -> None:
    with pytest.raises(store.StoreError, match="inside"):
        store.write_element_sets(db, [make(1, 0)])


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime, timedelta
    from overflight.catalog import store
    from overflight.elements import ElementSet

    conn = store.connect(sys.argv[1])
    t0 = datetime(2026, 5, 24, tzinfo=UTC)

    def records():
        for i in range(100_000):
            if i == 60_000:
                print("READY", flush=True)
                time.sleep(60)
            yield ElementSet(norad_id=50000 + i % 1000, epoch=t0 + timedelta(minutes=i),
                             mean_motion_rev_day=15.0, eccentricity=0.001, inclination_deg=53.0,
                             raan_deg=1.0, arg_perigee_deg=2.0, mean_anomaly_deg=3.0,
                             name="KILLED")

    with store.transaction(conn):
        store.write_element_sets(conn, records(), groups=["killed"], source="kill")
    print("COMMITTED", flush=True)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_import_leaves_db_unchanged(tmp_path: Path, sig: signal.Signals) -> None:
    path = tmp_path / "t.db"
    conn = store.connect(path)
    write(conn, [make(1, i, name="KEEP") for i in range(3)])
    conn.close()
    before = dump(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "READY"  # three chunks written, uncommitted
        os.kill(proc.pid, sig)  # SIGINT: KeyboardInterrupt inside the transaction (Ctrl-C)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode != 0
    conn = store.connect(path)  # recovers the WAL: the uncommitted frames are dropped
    assert conn.execute("SELECT count(*) FROM element_sets").fetchone()[0] == 3
    conn.close()
    assert dump(path) == before


# ---- concurrency -----------------------------------------------------------------------------
CONCURRENT_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from overflight.catalog import store
    from overflight.elements import ElementSet

    path, first, last, marker = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    holder = first == 0
    t0 = datetime(2026, 5, 24, tzinfo=UTC)
    records = [ElementSet(norad_id=60000 + i % 700, epoch=t0 + timedelta(minutes=i),
                          mean_motion_rev_day=15.0 + i * 1e-9, eccentricity=0.001,
                          inclination_deg=53.0, raan_deg=1.0, arg_perigee_deg=2.0,
                          mean_anomaly_deg=3.0, name=f"SAT {i % 700}")
               for i in range(first, last)]
    trying, connected = marker.with_name("trying"), marker.with_name("connected")

    def wait_for(flag):
        deadline = time.monotonic() + 120  # a failure of the other process, not a hang
        while not flag.exists():
            if time.monotonic() > deadline:
                sys.exit(f"gave up waiting for {flag.name}")
            time.sleep(0.01)

    conn = store.connect(path, busy_timeout_s=60)
    if holder:
        # Both create the database at once; the holder takes the write lock only once the
        # other has connected, else the other's connect could wait out its busy timeout on it.
        wait_for(connected)
    else:
        connected.touch()
        wait_for(marker)  # until the other process holds the write lock
        trying.touch()
    waited = 0.0
    for n in range(3):  # several transactions each, to interleave with the other process
        t = time.perf_counter()
        with store.transaction(conn):
            if n == 0:
                waited = time.perf_counter() - t
            store.write_element_sets(conn, records, groups=["both"], source=sys.argv[2])
            if holder and n == 0:
                marker.touch()
                # Hold the lock until the other process is about to write, and a second more:
                # it may still be building its records when the lock is taken (a loaded CI).
                wait_for(trying)
                time.sleep(1.0)
    print(f"{waited:.3f}", flush=True)
    """
)


def test_two_processes_importing_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"  # created concurrently by both processes
    marker = tmp_path / "locked"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_SCRIPT, str(path), str(a), str(b), str(marker)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for a, b in ((0, 40_000), (20_000, 60_000))
    ]
    waits = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        waits.append(float(out))
    assert waits[1] > 0.5  # the second writer waited for the first instead of failing
    conn = store.connect(path)
    n, distinct = conn.execute("SELECT count(*), count(DISTINCT key) FROM element_sets").fetchone()
    assert n == distinct == 60_000
    assert conn.execute("SELECT count(*) FROM objects").fetchone()[0] == 700
    assert conn.execute("SELECT count(*) FROM group_members").fetchone()[0] == 700
    assert conn.execute("SELECT count(*) FROM sources").fetchone()[0] == 2
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    conn.close()


# ---- connection, location, migrations ----------------------------------------------------------
def test_connection_settings(db: sqlite3.Connection) -> None:
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == int(
        store.DEFAULT_BUSY_TIMEOUT_S * 1000
    )
    assert store.schema_version(db) == store.SCHEMA_VERSION == len(store.MIGRATIONS)
    plans = " ".join(
        str(r)
        for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM element_sets WHERE norad_id = 1 "
            "ORDER BY epoch_us DESC LIMIT 1"
        )
    )
    assert "element_sets_object_epoch" in plans


def test_db_path_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERFLIGHT_DB", str(tmp_path / "env.db"))
    assert store.resolve_db_path(tmp_path / "arg.db") == tmp_path / "arg.db"
    assert store.resolve_db_path(None) == tmp_path / "env.db"
    monkeypatch.delenv("OVERFLIGHT_DB")
    default = store.resolve_db_path(None)
    assert default == store.default_db_path()
    assert default.name == "catalog.db" and "overflight" in default.parts


def test_migrate_from_version_0(tmp_path: Path) -> None:
    path = tmp_path / "v0.db"
    sqlite3.connect(path).close()  # an empty file: user_version 0
    conn = store.connect(path)
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"objects", "element_sets", "names", "groups", "group_members", "sources",
            "fetch_state"} <= tables  # fmt: skip
    conn.close()


def test_migrate_from_version_1_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    conn = store.connect(path, upgrade=False)
    assert store.migrate(conn, target=1) == 1
    es = make(58400, 0, name="MALLIGYONG-1")
    # A version-1 database as an older overflight wrote it (no source_id column yet).
    conn.execute(
        "INSERT INTO element_sets (key, norad_id, epoch_us, mean_motion_rev_day, eccentricity, "
        "inclination_deg, raan_deg, arg_perigee_deg, mean_anomaly_deg, bstar, mean_motion_dot, "
        "mean_motion_ddot, name, intl_designator, classification, element_set_no, rev_at_epoch, "
        "ephemeris_type, imported_us) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (es.key, es.norad_id, store.datetime_to_us(es.epoch), es.mean_motion_rev_day,
         es.eccentricity, es.inclination_deg, es.raan_deg, es.arg_perigee_deg,
         es.mean_anomaly_deg, es.bstar, es.mean_motion_dot, es.mean_motion_ddot, es.name,
         es.intl_designator, es.classification, es.element_set_no, es.rev_at_epoch,
         es.ephemeris_type, 0),
    )  # fmt: skip
    conn.execute(
        "INSERT INTO objects VALUES (?, ?, ?, ?)",
        (58400, "MALLIGYONG-1", "23179A", store.datetime_to_us(es.epoch)),
    )
    conn.close()

    conn = store.connect(path)
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    assert read_all(conn) == [es]
    assert conn.execute("SELECT source_id FROM element_sets").fetchone()[0] is None
    write(conn, [make(58400, 1, name="MALLIGYONG-1")], source="after-upgrade")
    assert len(read_all(conn)) == 2
    conn.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(store.StoreError, match="newer"):
        store.connect(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(store.StoreError, match=r"junk\.db"):
        store.connect(path)


def test_fetch_state(db: sqlite3.Connection) -> None:
    assert store.get_fetch_state(db, "http://x/") is None
    with store.transaction(db):
        store.put_fetch_state(db, "http://x/", '"abc"', "Sat, 30 May 2026 22:50:00 GMT")
    with store.transaction(db):
        store.put_fetch_state(db, "http://x/", '"def"', None)
    state = store.get_fetch_state(db, "http://x/")
    assert state is not None and (state.etag, state.last_modified) == ('"def"', None)


# ---- hardening (issue 18) ---------------------------------------------------------------------
def _catalog_with(tmp_path: Path, n: int = 3) -> Path:
    from overflight.catalog import Catalog

    db = tmp_path / "h.db"
    with Catalog.open(db, create=True) as cat:
        cat.add([make(25544, i, name="ISS") for i in range(n)] + [make(43013, 0, name="X")])
    return db


def test_poisoned_stored_rows_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 18.3: a database written before validation could hold MEAN_MOTION 1e300; list, show and
    # passes then died with OverflowError / ZeroDivisionError.
    from overflight.catalog import Catalog, list_rows

    db = _catalog_with(tmp_path)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE element_sets SET mean_motion_rev_day = 1e300 WHERE norad_id = 43013")
        conn.execute(
            "UPDATE element_sets SET eccentricity = 5 WHERE norad_id = 25544 AND epoch_us = "
            "(SELECT max(epoch_us) FROM element_sets WHERE norad_id = 25544)"
        )
    conn.close()
    with caplog.at_level("WARNING", logger="overflight.catalog"), Catalog.open(db) as cat:
        latest = cat.latest()
        rows = list_rows(latest, cat.objects(), datetime.now(UTC))
        history = cat.history(25544)
        streamed = list(cat.iter_element_sets())
        bracket = cat.bracket(43013, T0)
    assert [r["norad_id"] for r in rows] == []  # both newest sets are poisoned
    assert len(history) == 2 and len(streamed) == 2 and bracket == (None, None)
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "NORAD 43013" in m and "mean_motion_rev_day 1e+300 is out of range" in m for m in messages
    )
    assert all("\n" not in m for m in messages)


def test_add_rejects_out_of_range_values(tmp_path: Path) -> None:
    from overflight.catalog import Catalog, CatalogError

    with Catalog.open(tmp_path / "a.db", create=True) as cat:
        with pytest.raises(CatalogError, match=r"record 2 \(NORAD 7\): mean_motion_rev_day 0"):
            cat.add([make(7, 0), make(7, 1, mean_motion_rev_day=0.0)], group="g")
        assert cat.info().element_sets == 0 and cat.groups() == []
        cat.add([], group="empty", source="nothing.tle")
        assert cat.groups() == []
        assert cat.connection.execute("SELECT count(*) FROM sources").fetchone()[0] == 0


def test_disk_full_is_one_line_and_rolls_back(tmp_path: Path) -> None:
    # 18.4: disk full during an import printed a 47-line traceback.
    from overflight.catalog import Catalog, StoreError

    db = _catalog_with(tmp_path)
    with Catalog.open(db) as cat:
        pages = cat.connection.execute("PRAGMA page_count").fetchone()[0]
        cat.connection.execute(f"PRAGMA max_page_count = {pages + 2}")
        many = [make(40000 + k, k % 7, name=f"OBJ {k}") for k in range(5000)]
        with pytest.raises(StoreError) as exc:
            cat.add(many, group="big")
        assert str(exc.value).count("\n") == 0
        assert "disk full: free space and retry" in str(exc.value)
        assert isinstance(exc.value, ValueError)  # an OverflightError: CLI exit 2, server 4xx
        assert cat.info().element_sets == 4 and [g.name for g in cat.groups()] == []
    with Catalog.open(db) as cat:  # intact
        assert cat.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert len(cat.history(25544)) == 3


def _corrupt(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    size = db.stat().st_size
    with db.open("r+b") as f:  # garbage over every page but the first (the header)
        f.seek(4096)
        f.write(b"\xa5" * (size - 4096))


def test_corrupted_database_is_one_line(tmp_path: Path) -> None:
    from overflight.catalog import Catalog, StoreError

    db = _catalog_with(tmp_path)
    _corrupt(db)
    # Opening may already notice; else the first query does.
    with pytest.raises(StoreError) as exc, Catalog.open(db) as cat:
        cat.latest()
    message = str(exc.value)
    assert "database is corrupt" in message and f"restore or delete {db}" in message
    assert "\n" not in message


def test_interrupt_as_commit_completes_reports_the_import_stored(tmp_path: Path) -> None:
    # 18.9: Ctrl-C during COMMIT reported failure although the import was stored.
    from overflight.catalog import Catalog

    class InterruptAfterCommit(sqlite3.Connection):
        armed = False

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
            cur = super().execute(sql, *args)
            if sql == "COMMIT" and self.armed:
                type(self).armed = False
                raise KeyboardInterrupt  # as if Ctrl-C arrived while SQLite committed
            return cur

    src = tmp_path / "four.tle"
    src.write_bytes((Path(__file__).parent / "fixtures" / "formats" / "four.tle").read_bytes())
    db = tmp_path / "k.db"
    store.connect(db).close()
    conn = sqlite3.connect(db, isolation_level=None, factory=InterruptAfterCommit)
    cat = Catalog(conn, db, snapshot=False)
    InterruptAfterCommit.armed = True
    result = cat.import_sources([src])
    assert result.stored and result.new == 4
    cat.close()
    with Catalog.open(db) as again:
        assert again.info().element_sets == 4

    # An interrupt before the COMMIT ran is a real one: nothing stored, KeyboardInterrupt.
    class InterruptBeforeCommit(sqlite3.Connection):
        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
            if sql == "COMMIT":
                raise KeyboardInterrupt
            return super().execute(sql, *args)

    db2 = tmp_path / "k2.db"
    store.connect(db2).close()
    cat = Catalog(sqlite3.connect(db2, isolation_level=None, factory=InterruptBeforeCommit),
                  db2, snapshot=False)  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        cat.import_sources([src])
    cat.close()
    with Catalog.open(db2) as again:
        assert again.info().element_sets == 0 and again.groups() == []
