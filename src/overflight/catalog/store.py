"""SQLite storage of element sets: location, schema migrations, atomic batched writes.

This is the low-level layer; other modules use :mod:`overflight.catalog`.

Layout (schema version 3):

- ``element_sets``: every distinct element set ever imported, unique on ``ElementSet.key``.
  Floats are stored as REAL (IEEE doubles, read back bit-for-bit), the epoch as integer
  microseconds since 1970-01-01 UTC (``epoch_us``).
- ``objects``: one row per NORAD id with its current name and designator (those of the newest
  element set carrying a name).
- ``names``: every name an object was published under, with the first and last epoch seen.
- ``groups`` and ``group_members``: the groups (tags) objects were imported under, many-to-many.
- ``sources``: where element sets first came from (file path or URL).
- ``fetch_state``: HTTP validators (ETag, Last-Modified) per URL, for conditional re-fetches.
- ``satcat``: object metadata from the satellite catalog (SATCAT), one row per NORAD id (the
  latest import wins), with the source it came from. Independent of ``objects``: an entry may
  exist for an object without element sets and the other way round.

The schema version is ``PRAGMA user_version``; :data:`MIGRATIONS` brings a database from
version *i* to *i + 1*, each step in its own transaction.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from overflight.catalog.satcat import SatcatRecord
from overflight.catalog.validate import check_element_set
from overflight.elements import ElementSet
from overflight.errors import OverflightError

__all__ = [
    "ELEMENT_COLUMNS",
    "MIGRATIONS",
    "SATCAT_COLUMNS",
    "SCHEMA_VERSION",
    "CatalogError",
    "FetchState",
    "StoreError",
    "WriteStats",
    "checked_element_set",
    "connect",
    "datetime_to_us",
    "default_db_path",
    "get_fetch_state",
    "migrate",
    "put_fetch_state",
    "read_element_sets",
    "read_satcat",
    "resolve_db_path",
    "row_to_element_set",
    "schema_version",
    "sqlite_errors",
    "store_error",
    "transaction",
    "us_to_datetime",
    "write_element_sets",
    "write_satcat",
]

_log = logging.getLogger("overflight.catalog")
ENV_DB = "OVERFLIGHT_DB"
DEFAULT_BUSY_TIMEOUT_S = 120.0
_CHUNK = 20_000
_EPOCH_1970 = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


class CatalogError(OverflightError):
    """A catalog request that cannot be satisfied; the message is one readable line.

    Defined here so that :class:`StoreError` is one; import it from :mod:`overflight.catalog`.
    """


class StoreError(CatalogError):
    """The catalog database cannot be used (unreadable, corrupt, disk full, newer schema,
    locked too long); the message says what to do."""


# SQLite primary result codes (sqlite3.h); the extended codes keep them in the low byte.
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_NOTADB = 26


def store_error(exc: sqlite3.Error, path: object = None, doing: str = "") -> StoreError:
    """The one-line :class:`StoreError` for an ``sqlite3`` error, saying what to do
    (``doing``: what failed, e.g. ``cannot open the catalog``)."""
    where = str(path) if path not in (None, "") else "the catalog database"
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc).lower()
    if code == _SQLITE_FULL or "disk is full" in text:
        reason = "disk full: free space and retry (nothing of this write was stored)"
    elif (
        code in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
        or "malformed" in text
        or ("not a database" in text)
    ):
        reason = f"database is corrupt ({exc}): restore or delete {where}"
    elif code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text:
        reason = "the database is locked by another process: retry when it has finished"
    elif code == _SQLITE_READONLY or "readonly" in text:
        reason = f"the database is read-only: check the permissions of {where} and its folder"
    elif code == _SQLITE_IOERR or "disk i/o" in text:
        reason = f"disk I/O error ({exc}): check the disk holding {where}"
    elif code == _SQLITE_CANTOPEN:
        reason = f"cannot open {where}: check that its folder exists and is writable"
    else:
        reason = f"database error: {exc}"
    if where not in reason:
        reason = f"{where}: {reason}"
    return StoreError(f"{doing}: {reason}" if doing else reason)


@contextmanager
def sqlite_errors(path: object = None) -> Iterator[None]:
    """Turn any ``sqlite3.Error`` raised inside into a one-line :class:`StoreError`."""
    try:
        yield
    except sqlite3.Error as exc:
        raise store_error(exc, path) from exc


# ---- location ------------------------------------------------------------------------------
def default_db_path() -> Path:
    """``<user data dir>/catalog.db``, e.g. ``~/.local/share/overflight/catalog.db``."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("overflight", appauthor=False)) / "catalog.db"


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """The database path: ``db`` if given, else ``$OVERFLIGHT_DB``, else :func:`default_db_path`."""
    if db is not None and str(db) != "":
        return Path(db).expanduser()
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    return default_db_path()


# ---- time conversion -----------------------------------------------------------------------
def datetime_to_us(t: datetime) -> int:
    """Timezone-aware datetime to integer microseconds since 1970-01-01 UTC."""
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t.isoformat()}: give a timezone-aware UTC time")
    return (t - _EPOCH_1970) // _ONE_US


def us_to_datetime(us: int) -> datetime:
    """Integer microseconds since 1970-01-01 UTC to an aware UTC datetime."""
    return _EPOCH_1970 + timedelta(microseconds=us)


# ---- schema ----------------------------------------------------------------------------------
def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # Not conn.executescript(): that commits first, breaking the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    _run_script(
        conn,
        """
        CREATE TABLE objects (
            norad_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
            intl_designator TEXT NOT NULL DEFAULT '',
            last_epoch_us INTEGER NOT NULL
        );
        CREATE INDEX objects_name ON objects(name COLLATE NOCASE);

        CREATE TABLE element_sets (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            norad_id INTEGER NOT NULL,
            epoch_us INTEGER NOT NULL,
            mean_motion_rev_day REAL NOT NULL,
            eccentricity REAL NOT NULL,
            inclination_deg REAL NOT NULL,
            raan_deg REAL NOT NULL,
            arg_perigee_deg REAL NOT NULL,
            mean_anomaly_deg REAL NOT NULL,
            bstar REAL NOT NULL,
            mean_motion_dot REAL NOT NULL,
            mean_motion_ddot REAL NOT NULL,
            name TEXT NOT NULL,
            intl_designator TEXT NOT NULL,
            classification TEXT NOT NULL,
            element_set_no INTEGER NOT NULL,
            rev_at_epoch INTEGER NOT NULL,
            ephemeris_type INTEGER NOT NULL,
            imported_us INTEGER NOT NULL
        );
        CREATE INDEX element_sets_object_epoch ON element_sets(norad_id, epoch_us);

        CREATE TABLE names (
            norad_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            first_epoch_us INTEGER NOT NULL,
            last_epoch_us INTEGER NOT NULL,
            PRIMARY KEY (norad_id, name)
        ) WITHOUT ROWID;
        CREATE INDEX names_name ON names(name COLLATE NOCASE);

        CREATE TABLE groups (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );
        CREATE TABLE group_members (
            group_id INTEGER NOT NULL REFERENCES groups(id),
            norad_id INTEGER NOT NULL,
            PRIMARY KEY (group_id, norad_id)
        ) WITHOUT ROWID;
        CREATE INDEX group_members_object ON group_members(norad_id);
        """,
    )


def _migrate_to_2(conn: sqlite3.Connection) -> None:
    # Provenance of element sets and HTTP validators for conditional re-fetches.
    _run_script(
        conn,
        """
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            uri TEXT NOT NULL UNIQUE,
            first_imported_us INTEGER NOT NULL
        );
        ALTER TABLE element_sets ADD COLUMN source_id INTEGER REFERENCES sources(id);

        CREATE TABLE fetch_state (
            url TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            fetched_us INTEGER NOT NULL
        );
        """,
    )


def _migrate_to_3(conn: sqlite3.Connection) -> None:
    # SATCAT object metadata; dates as ISO text (calendar days), figures as published.
    _run_script(
        conn,
        """
        CREATE TABLE satcat (
            norad_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            intl_designator TEXT NOT NULL DEFAULT '',
            object_type TEXT NOT NULL DEFAULT 'unknown',
            owner TEXT NOT NULL DEFAULT '',
            launch_date TEXT,
            launch_site TEXT NOT NULL DEFAULT '',
            decay_date TEXT,
            period_min REAL,
            inclination_deg REAL,
            apogee_km REAL,
            perigee_km REAL,
            rcs_m2 REAL,
            rcs_size TEXT NOT NULL DEFAULT '',
            ops_status TEXT NOT NULL DEFAULT '',
            provider TEXT NOT NULL DEFAULT '',
            source_id INTEGER REFERENCES sources(id),
            imported_us INTEGER NOT NULL
        );
        CREATE INDEX satcat_owner ON satcat(owner);
        """,
    )


Migration = Callable[[sqlite3.Connection], None]

#: ``MIGRATIONS[i]`` upgrades a database from schema version ``i`` to ``i + 1``.
MIGRATIONS: tuple[Migration, ...] = (_migrate_to_1, _migrate_to_2, _migrate_to_3)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The database's schema version (``PRAGMA user_version``; 0 for a new file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the pending migrations up to ``target``, each in its own transaction.

    Safe when several processes open a new database at once: the version is re-read under
    the write lock. Returns the version reached.
    """
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the catalog database has schema version {version}, newer than this overflight "
            f"understands ({SCHEMA_VERSION}); upgrade overflight"
        )
    while version < target:
        with transaction(conn):
            version = schema_version(conn)
            if version >= target:
                break
            MIGRATIONS[version](conn)
            version += 1
            conn.execute(f"PRAGMA user_version = {version:d}")
    return version


# ---- connection ------------------------------------------------------------------------------
def connect(
    path: str | os.PathLike[str],
    *,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    upgrade: bool = True,
) -> sqlite3.Connection:
    """Open (creating if needed) the catalog at ``path``, in WAL mode, migrated to the schema.

    ``":memory:"`` gives a private in-memory catalog. The connection is in autocommit mode;
    write through :func:`transaction`.
    """
    memory = str(path) == ":memory:"
    if not memory:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(
            str(path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000):d}")
        if not memory:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{path}: cannot switch the database to WAL mode ({mode})")
        # NORMAL is safe with WAL: a crash may lose the last commit, never corrupt or half-apply.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        if upgrade:
            migrate(conn)
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise store_error(exc, path, "cannot open the catalog") from exc
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``): committed on success, rolled back on any
    exception including KeyboardInterrupt and a failed COMMIT (disk full). Waits up to the
    busy timeout for other writers. SQLite errors become :class:`StoreError`.

    After it, ``conn.in_transaction`` is False either way: an exception raised while the COMMIT
    returns (Ctrl-C) leaves the data committed, and callers can tell by that.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise store_error(exc, _db_file(conn)) from exc
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            # SQLite may have rolled back already (e.g. after SQLITE_FULL): report the cause.
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise store_error(exc, _db_file(conn)) from exc
        raise


def _db_file(conn: sqlite3.Connection) -> str | None:
    """The main database file of ``conn`` (None in memory), for messages."""
    try:
        row = conn.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:
        return None
    return str(row[2]) if row and row[2] else None


# ---- element sets ----------------------------------------------------------------------------
#: Columns of ``element_sets`` read by :func:`row_to_element_set`, in order.
ELEMENT_COLUMNS = (
    "key, norad_id, epoch_us, mean_motion_rev_day, eccentricity, inclination_deg, raan_deg, "
    "arg_perigee_deg, mean_anomaly_deg, bstar, mean_motion_dot, mean_motion_ddot, name, "
    "intl_designator, classification, element_set_no, rev_at_epoch, ephemeris_type"
)


def row_to_element_set(row: Sequence[Any]) -> ElementSet:
    """An :class:`ElementSet` from a row selected with :data:`ELEMENT_COLUMNS`."""
    return ElementSet(
        norad_id=row[1],
        epoch=_EPOCH_1970 + timedelta(microseconds=row[2]),
        mean_motion_rev_day=row[3],
        eccentricity=row[4],
        inclination_deg=row[5],
        raan_deg=row[6],
        arg_perigee_deg=row[7],
        mean_anomaly_deg=row[8],
        bstar=row[9],
        mean_motion_dot=row[10],
        mean_motion_ddot=row[11],
        name=row[12],
        intl_designator=row[13],
        classification=row[14],
        element_set_no=row[15],
        rev_at_epoch=row[16],
        ephemeris_type=row[17],
        _key=row[0],
    )


def checked_element_set(row: Sequence[Any]) -> ElementSet | None:
    """:func:`row_to_element_set`, or None (with a one-line warning on the
    ``overflight.catalog`` logger) for a row whose values are out of their physical ranges:
    databases written before import validation may hold such rows."""
    try:
        es = row_to_element_set(row)
    except (OverflowError, ValueError, TypeError) as exc:
        reason = f"unreadable values ({type(exc).__name__})"
    else:
        problem = check_element_set(es)
        if problem is None:
            return es
        reason = problem.message()
    _log.warning(
        "catalog: skipped a stored element set of NORAD %s (key %s): %s; "
        "re-import the object's element sets or delete the row",
        row[1],
        row[0],
        reason,
    )
    return None


def read_element_sets(rows: Iterable[Sequence[Any]]) -> Iterator[ElementSet]:
    """Element sets from rows selected with :data:`ELEMENT_COLUMNS`, skipping (with a
    warning) rows out of their physical ranges: see :func:`checked_element_set`."""
    for row in rows:
        es = checked_element_set(row)
        if es is not None:
            yield es


@dataclass(frozen=True, slots=True)
class WriteStats:
    """What one write did: ``received`` element sets, of which ``new`` were stored and
    ``duplicates`` were already in the catalog (or repeated in the batch)."""

    received: int
    new: int
    duplicates: int
    objects: int

    def to_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "new": self.new,
            "duplicates": self.duplicates,
            "objects": self.objects,
        }


_STAGE_COLUMNS = (
    "key, norad_id, epoch_us, mean_motion_rev_day, eccentricity, inclination_deg, raan_deg, "
    "arg_perigee_deg, mean_anomaly_deg, bstar, mean_motion_dot, mean_motion_ddot, name, "
    "intl_designator, classification, element_set_no, rev_at_epoch, ephemeris_type"
)
_STAGE_SQL = f"INSERT INTO temp.stage ({_STAGE_COLUMNS}) VALUES ({', '.join('?' * 18)})"


def _stage_rows(chunk: list[ElementSet]) -> list[tuple[Any, ...]]:
    e0, us = _EPOCH_1970, _ONE_US
    return [
        (
            es.key, es.norad_id, (es.epoch - e0) // us, es.mean_motion_rev_day, es.eccentricity,
            es.inclination_deg, es.raan_deg, es.arg_perigee_deg, es.mean_anomaly_deg, es.bstar,
            es.mean_motion_dot, es.mean_motion_ddot, es.name, es.intl_designator,
            es.classification, es.element_set_no, es.rev_at_epoch, es.ephemeris_type,
        )
        for es in chunk
    ]  # fmt: skip


def write_element_sets(
    conn: sqlite3.Connection,
    records: Iterable[ElementSet],
    *,
    groups: Sequence[str] = (),
    source: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> WriteStats:
    """Store ``records`` (any iterable, consumed once) with their names and group memberships.

    Must run inside :func:`transaction`, so that a batch is stored entirely or not at all.
    Element sets already stored (same key) are skipped; ``progress(n)`` is called after each
    chunk with the number of records handled so far. An empty batch writes nothing (no source
    or group row); a record out of its physical ranges (:mod:`validate`) raises CatalogError.
    """
    if not conn.in_transaction:
        raise StoreError("write_element_sets must run inside store.transaction()")
    it = iter(records)
    first = list(islice(it, _CHUNK))
    if not first:  # nothing valid: no source, group or any other row is created
        return WriteStats(received=0, new=0, duplicates=0, objects=0)
    now_us = datetime_to_us(datetime.now(UTC))
    source_id: int | None = None
    if source is not None:
        conn.execute(
            "INSERT OR IGNORE INTO sources (uri, first_imported_us) VALUES (?, ?)", (source, now_us)
        )
        source_id = conn.execute("SELECT id FROM sources WHERE uri = ?", (source,)).fetchone()[0]
    group_ids = []
    for group in groups:
        conn.execute("INSERT OR IGNORE INTO groups (name) VALUES (?)", (group,))
        group_ids.append(
            conn.execute("SELECT id FROM groups WHERE name = ?", (group,)).fetchone()[0]
        )

    # Each chunk goes through a temporary staging table, so the per-object bookkeeping (names,
    # newest epoch, groups) is set-based SQL rather than per-row Python.
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS stage ({_STAGE_COLUMNS})")  # untyped: as given
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS stage_objects (norad_id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.stage_objects")
    received = new = 0
    chunk = first
    while chunk:
        for i, es in enumerate(chunk, received + 1):
            problem = check_element_set(es)
            if problem is not None:
                raise CatalogError(
                    f"record {i} (NORAD {es.norad_id}): {problem.message()}; nothing was stored"
                )
        conn.execute("DELETE FROM temp.stage")
        conn.executemany(_STAGE_SQL, _stage_rows(chunk))
        new += conn.execute(
            f"INSERT OR IGNORE INTO element_sets ({_STAGE_COLUMNS}, imported_us, source_id) "
            f"SELECT {_STAGE_COLUMNS}, ?, ? FROM temp.stage ORDER BY rowid",
            (now_us, source_id),
        ).rowcount
        # Names seen, including on re-published duplicates: first and last epoch per name.
        conn.execute(
            "INSERT INTO names (norad_id, name, first_epoch_us, last_epoch_us) "
            "SELECT norad_id, name, min(epoch_us), max(epoch_us) FROM temp.stage "
            "WHERE name != '' GROUP BY norad_id, name "
            "ON CONFLICT (norad_id, name) DO UPDATE SET "
            "first_epoch_us = min(first_epoch_us, excluded.first_epoch_us), "
            "last_epoch_us = max(last_epoch_us, excluded.last_epoch_us)"
        )
        conn.execute(
            "INSERT INTO objects (norad_id, last_epoch_us) "
            "SELECT norad_id, max(epoch_us) FROM temp.stage WHERE true GROUP BY norad_id "
            "ON CONFLICT (norad_id) DO UPDATE SET "
            "last_epoch_us = max(last_epoch_us, excluded.last_epoch_us)"
        )
        conn.execute(
            "INSERT OR IGNORE INTO temp.stage_objects SELECT DISTINCT norad_id FROM temp.stage"
        )
        received += len(chunk)
        if progress is not None:
            progress(received)
        chunk = list(islice(it, _CHUNK))

    # The current name (designator) is that of the newest element set carrying one.
    conn.execute(
        "UPDATE objects SET "
        "name = coalesce((SELECT e.name FROM element_sets e WHERE e.norad_id = objects.norad_id "
        "AND e.name != '' ORDER BY e.epoch_us DESC, e.id DESC LIMIT 1), name), "
        "intl_designator = coalesce((SELECT e.intl_designator FROM element_sets e "
        "WHERE e.norad_id = objects.norad_id AND e.intl_designator != '' "
        "ORDER BY e.epoch_us DESC, e.id DESC LIMIT 1), intl_designator) "
        "WHERE norad_id IN (SELECT norad_id FROM temp.stage_objects)"
    )
    for gid in group_ids:
        conn.execute(
            "INSERT OR IGNORE INTO group_members (group_id, norad_id) "
            "SELECT ?, norad_id FROM temp.stage_objects",
            (gid,),
        )
    n_objects = conn.execute("SELECT count(*) FROM temp.stage_objects").fetchone()[0]
    conn.execute("DELETE FROM temp.stage")
    conn.execute("DELETE FROM temp.stage_objects")
    return WriteStats(received=received, new=new, duplicates=received - new, objects=n_objects)


# ---- SATCAT ----------------------------------------------------------------------------------
SATCAT_COLUMNS = (
    "norad_id, name, intl_designator, object_type, owner, launch_date, launch_site, decay_date, "
    "period_min, inclination_deg, apogee_km, perigee_km, rcs_m2, rcs_size, ops_status, provider"
)


def _satcat_row(r: SatcatRecord) -> tuple[Any, ...]:
    return (
        r.norad_id, r.name, r.intl_designator, r.object_type, r.owner,
        r.launch_date.isoformat() if r.launch_date else None, r.launch_site,
        r.decay_date.isoformat() if r.decay_date else None, r.period_min, r.inclination_deg,
        r.apogee_km, r.perigee_km, r.rcs_m2, r.rcs_size, r.ops_status, r.provider,
    )  # fmt: skip


def write_satcat(
    conn: sqlite3.Connection, records: Sequence[SatcatRecord], *, source: str | None = None
) -> WriteStats:
    """Store SATCAT entries (inside :func:`transaction`): new NORAD ids are added, changed ones
    replaced by the newer import; ``duplicates`` counts entries identical to the stored ones
    (left as they are). An empty batch writes nothing."""
    if not conn.in_transaction:
        raise StoreError("write_satcat must run inside store.transaction()")
    if not records:
        return WriteStats(received=0, new=0, duplicates=0, objects=0)
    now_us = datetime_to_us(datetime.now(UTC))
    source_id: int | None = None
    if source is not None:
        conn.execute(
            "INSERT OR IGNORE INTO sources (uri, first_imported_us) VALUES (?, ?)", (source, now_us)
        )
        source_id = conn.execute("SELECT id FROM sources WHERE uri = ?", (source,)).fetchone()[0]
    rows = [_satcat_row(r) for r in records]
    cols = [c.strip() for c in SATCAT_COLUMNS.split(",")]
    stored = {r[0]: tuple(r) for r in conn.execute(f"SELECT {SATCAT_COLUMNS} FROM satcat")}
    changed = [row for row in rows if stored.get(row[0]) != row]  # REALs read back exactly
    unchanged = len(rows) - len(changed)
    # An unchanged entry keeps the source and time it was first stored with.
    conn.executemany(
        f"INSERT OR REPLACE INTO satcat ({SATCAT_COLUMNS}, source_id, imported_us) "
        f"VALUES ({', '.join('?' * (len(cols) + 2))})",
        [(*row, source_id, now_us) for row in changed],
    )
    return WriteStats(
        received=len(rows), new=len(rows) - unchanged, duplicates=unchanged, objects=len(rows)
    )


def read_satcat(rows: Iterable[Sequence[Any]]) -> Iterator[SatcatRecord]:
    """SATCAT entries from rows selected with :data:`SATCAT_COLUMNS`."""
    from datetime import date

    for r in rows:
        yield SatcatRecord(
            norad_id=r[0], name=r[1], intl_designator=r[2], object_type=r[3], owner=r[4],
            launch_date=date.fromisoformat(r[5]) if r[5] else None, launch_site=r[6],
            decay_date=date.fromisoformat(r[7]) if r[7] else None, period_min=r[8],
            inclination_deg=r[9], apogee_km=r[10], perigee_km=r[11], rcs_m2=r[12],
            rcs_size=r[13], ops_status=r[14], provider=r[15],
        )  # fmt: skip


# ---- HTTP validators -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FetchState:
    """HTTP validators remembered for a URL after a successful import."""

    url: str
    etag: str | None
    last_modified: str | None
    fetched: datetime


def get_fetch_state(conn: sqlite3.Connection, url: str) -> FetchState | None:
    """The validators stored for ``url``, if any."""
    row = conn.execute(
        "SELECT url, etag, last_modified, fetched_us FROM fetch_state WHERE url = ?", (url,)
    ).fetchone()
    if row is None:
        return None
    return FetchState(row[0], row[1], row[2], us_to_datetime(row[3]))


def put_fetch_state(
    conn: sqlite3.Connection, url: str, etag: str | None, last_modified: str | None
) -> None:
    """Remember ``url``'s validators (call inside the transaction that stores its data)."""
    conn.execute(
        "INSERT INTO fetch_state (url, etag, last_modified, fetched_us) VALUES (?,?,?,?) "
        "ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, "
        "last_modified = excluded.last_modified, fetched_us = excluded.fetched_us",
        (url, etag, last_modified, datetime_to_us(datetime.now(UTC))),
    )
