"""The element-set catalog: import files and URLs, then query latest elements, history, groups.

Typical use by other modules::

    from overflight.catalog import Catalog

    with Catalog.open() as cat:                      # --db / $OVERFLIGHT_DB / user data dir
        sat = cat.resolve("malligyong-1")            # NORAD id, Alpha-5 or name (glob ok)
        es = cat.latest(norad_ids=[sat.norad_id])[0]
        before, after = cat.bracket(sat.norad_id, when)

When no database file exists yet, :meth:`Catalog.open` (without ``create=True``) serves the
snapshot bundled in the package (``overflight/data/snapshot/*.tle``, group = file stem), loaded
into an in-memory database; it is read-only. A new database does not hide it: the first
import seeds it with the snapshot (``import_sources(..., seed_snapshot=True)``, what
``overflight catalog import`` does unless ``--no-snapshot``), see docs/catalog.md.

Object metadata from the satellite catalog (SATCAT: owner, object type, launch and decay) is
imported like element sets and joined into :class:`CatalogObject` and the rows shown.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, NamedTuple, ParamSpec, TypeVar

from overflight.catalog import store
from overflight.catalog.satcat import SATCAT_FORMATS, SatcatRecord
from overflight.catalog.store import CatalogError, StoreError, WriteStats
from overflight.elements import ElementError, ElementSet
from overflight.times import resolve_time

if TYPE_CHECKING:
    from overflight.catalog.formats import ParseResult

__all__ = [
    "AmbiguousSatellite",
    "Bracket",
    "Catalog",
    "CatalogError",
    "CatalogInfo",
    "CatalogObject",
    "GroupInfo",
    "ImportFailed",
    "ImportResult",
    "NameRecord",
    "ProgressFn",
    "SatelliteNotFound",
    "SeedReport",
    "SourceReport",
    "StoreError",
    "WriteStats",
    "alpha5_to_norad",
    "default_group",
    "history_rows",
    "info_row",
    "list_rows",
    "snapshot_paths",
    "summary_row",
]

#: ``progress(stage, done, total)``: stage ``"download URL"`` (bytes), ``"parse SOURCE"`` (called
#: once before parsing, total = bytes), ``"store"`` (element sets stored of all sources).
ProgressFn = Callable[[str, int, int | None], None]

_ALPHA5 = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # Alpha-5 skips I and O
_ALPHA5_RE = re.compile(r"^([A-HJ-NP-Z])([0-9]{4})$")
_MAX_CANDIDATES = 10
_P = ParamSpec("_P")
_R = TypeVar("_R")


class SatelliteNotFound(CatalogError, LookupError):
    """No object in the catalog matches the reference."""


class AmbiguousSatellite(CatalogError, LookupError):
    """Several objects match a name; ``candidates`` lists them (NORAD id order)."""

    def __init__(self, message: str, candidates: Sequence[CatalogObject]) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class ImportFailed(CatalogError):
    """A source could not be read or downloaded; nothing of the import was stored."""


# ---- result types ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CatalogObject:
    """One object (NORAD id) in the catalog: current name, groups, history extent."""

    norad_id: int
    name: str
    intl_designator: str
    groups: tuple[str, ...]
    element_sets: int
    first_epoch: datetime
    last_epoch: datetime
    satcat: SatcatRecord | None = None
    """The object's SATCAT entry, if one was imported."""

    @property
    def owner(self) -> str | None:
        """The SATCAT owner code (``US``, ``CIS``, ``PRC``...), None without a SATCAT entry."""
        return self.satcat.owner or None if self.satcat else None

    @property
    def object_type(self) -> str | None:
        """``payload``, ``rocket body``, ``debris``, ``unknown``; None without SATCAT."""
        return self.satcat.object_type if self.satcat else None

    def metadata(self) -> dict[str, Any]:
        """The SATCAT fields the rows show: owner, object type, launch date and site, decay
        date, RCS (m²); None where unknown."""
        return satcat_fields(self.satcat)

    def to_dict(self) -> dict[str, Any]:
        return {
            "norad_id": self.norad_id,
            "name": self.name,
            "intl_designator": self.intl_designator,
            "groups": list(self.groups),
            "element_sets": self.element_sets,
            "first_epoch": _iso(self.first_epoch),
            "last_epoch": _iso(self.last_epoch),
            **self.metadata(),
        }


def satcat_fields(entry: SatcatRecord | None) -> dict[str, Any]:
    """``owner``, ``object_type``, ``launch_date``, ``launch_site``, ``decay_date``, ``rcs_m2``
    of a SATCAT entry (ISO dates), all None without one."""
    if entry is None:
        return dict.fromkeys(SATCAT_ROW_FIELDS)
    d = entry.to_dict()
    out = {k: (d[k] if d[k] not in ("",) else None) for k in SATCAT_ROW_FIELDS}
    return out


#: The SATCAT fields added to ``list_rows``/``info_row`` and ``CatalogObject.to_dict``.
SATCAT_ROW_FIELDS = ("owner", "object_type", "launch_date", "launch_site", "decay_date", "rcs_m2")


@dataclass(frozen=True, slots=True)
class NameRecord:
    """A name an object was published under, with the first and last epoch carrying it."""

    name: str
    first_epoch: datetime
    last_epoch: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "first_epoch": _iso(self.first_epoch),
            "last_epoch": _iso(self.last_epoch),
        }


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A group (tag) with the number of objects and element sets of its members."""

    name: str
    objects: int
    element_sets: int
    last_epoch: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.name,
            "objects": self.objects,
            "element_sets": self.element_sets,
            "last_epoch": _iso(self.last_epoch) if self.last_epoch else None,
        }


class Bracket(NamedTuple):
    """The element sets around a time: latest with epoch <= t, earliest with epoch > t."""

    before: ElementSet | None
    after: ElementSet | None


@dataclass(frozen=True, slots=True)
class CatalogInfo:
    """Where the catalog lives and how much it holds."""

    path: str | None
    snapshot: bool
    schema_version: int
    objects: int
    element_sets: int
    groups: int
    satcat_entries: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "snapshot": self.snapshot,
            "schema_version": self.schema_version,
            "objects": self.objects,
            "element_sets": self.element_sets,
            "groups": self.groups,
            "satcat_entries": self.satcat_entries,
        }


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What seeding a new catalog with the bundled snapshot stored."""

    element_sets: int
    objects: int
    newest_epoch: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "element_sets": self.element_sets,
            "objects": self.objects,
            "newest_epoch": _iso(self.newest_epoch) if self.newest_epoch else None,
        }

    def message(self) -> str:
        """``new catalog: seeded with the bundled snapshot (…)``, for the import's output."""
        newest = f", newest epoch {self.newest_epoch:%Y-%m-%d}" if self.newest_epoch else ""
        return (
            f"new catalog: seeded with the bundled snapshot ({self.element_sets} element sets "
            f"of {self.objects} objects{newest}); to start empty: seed_snapshot=False"
        )


@dataclass(frozen=True, slots=True)
class SourceReport:
    """The outcome of importing one file or URL."""

    source: str
    group: str | None
    valid: int
    new: int
    duplicates: int
    errors: tuple[ElementError, ...]
    not_modified: bool = False
    stored: bool = False
    kind: str = "element sets"
    """``element sets`` or ``satcat`` (object metadata: ``new`` counts added or changed
    entries, ``duplicates`` unchanged ones)."""

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "group": self.group,
            "kind": self.kind,
            "valid": self.valid,
            "new": self.new,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "not_modified": self.not_modified,
            "stored": self.stored,
        }


@dataclass(frozen=True, slots=True)
class ImportResult:
    """All sources of one import (one transaction): stored entirely or not at all."""

    sources: tuple[SourceReport, ...]
    stored: bool
    strict: bool = False
    seeded: SeedReport | None = None
    """Set when the import seeded a new catalog with the bundled snapshot first."""

    @property
    def errors(self) -> list[ElementError]:
        """Every rejected record of every source."""
        return [e for s in self.sources for e in s.errors]

    @property
    def new(self) -> int:
        """New element sets (SATCAT entries are counted in :attr:`satcat`)."""
        return sum(s.new for s in self.sources if s.kind != "satcat")

    @property
    def duplicates(self) -> int:
        return sum(s.duplicates for s in self.sources if s.kind != "satcat")

    @property
    def satcat(self) -> int:
        """SATCAT entries read (stored unless the import was not)."""
        return sum(s.valid for s in self.sources if s.kind == "satcat")

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.sources)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "strict": self.strict,
            "new": self.new,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "satcat": self.satcat,
            "seeded": self.seeded.to_dict() if self.seeded else None,
            "sources": [s.to_dict() for s in self.sources],
        }


# ---- helpers ---------------------------------------------------------------------------------
def _iso(t: datetime) -> str:
    from overflight.times import format_utc

    return format_utc(t, decimals=6)


def summary_row(es: ElementSet, now: datetime) -> dict[str, Any]:
    """One element set as ``catalog list``/``show --history`` print it (derived values, age
    in days at ``now``); the CLI and the service share it."""
    return {
        "norad_id": es.norad_id,
        "name": es.name,
        "intl_designator": es.intl_designator,
        "epoch": _iso(es.epoch.astimezone(UTC)),
        "age_days": round(es.age_days(now), 3),
        "period_min": round(es.period_min, 3),
        "inclination_deg": es.inclination_deg,
        "eccentricity": es.eccentricity,
        "perigee_alt_km": round(es.perigee_alt_km, 3),  # as `overflight history` shows them
        "apogee_alt_km": round(es.apogee_alt_km, 3),
        "orbit_class": es.orbit_class,
    }


def list_rows(
    latest: Sequence[ElementSet], objects: Sequence[CatalogObject], now: datetime
) -> list[dict[str, Any]]:
    """``summary_row`` of each object's latest set plus its current name, number of stored
    element sets, groups and SATCAT fields (:data:`SATCAT_ROW_FIELDS`, None where unknown)
    (``catalog list``, the service's catalog page)."""
    objs = {o.norad_id: o for o in objects}
    rows = []
    for es in latest:
        row = summary_row(es, now)
        obj = objs.get(es.norad_id)
        row["name"] = obj.name if obj else es.name
        row["element_sets"] = obj.element_sets if obj else 1
        row["groups"] = ",".join(obj.groups) if obj else ""
        row.update(satcat_fields(obj.satcat if obj else None))
        rows.append(row)
    return rows


def history_rows(sets: Sequence[ElementSet], now: datetime) -> list[dict[str, Any]]:
    """``summary_row`` of each element set (oldest first) plus RAAN, B*, element-set number
    and the gap in hours since the previous set (``catalog show --history``, the service)."""
    rows = []
    prev: ElementSet | None = None
    for es in sets:
        row = summary_row(es, now)
        row["raan_deg"] = es.raan_deg
        row["bstar"] = es.bstar
        row["element_set_no"] = es.element_set_no
        row["gap_h"] = round((es.epoch - prev.epoch).total_seconds() / 3600.0, 2) if prev else None
        rows.append(row)
        prev = es
    return rows


def info_row(
    obj: CatalogObject, sets: Sequence[ElementSet], names: Sequence[NameRecord], now: datetime
) -> dict[str, Any]:
    """An object's latest element set (``sets`` oldest first, not empty) with derived values,
    groups, stored count, first epoch, former names, SATCAT fields (None where unknown) and
    its TLE (``catalog show``, the service's satellite page)."""
    from overflight.catalog.formats import format_tle

    es = sets[-1]
    info = es.to_dict()
    info["name"] = obj.name or es.name
    info["age_days"] = round(es.age_days(now), 3)
    info["orbit_class"] = es.orbit_class
    info["groups"] = ",".join(obj.groups)
    info["element_sets_stored"] = obj.element_sets
    info["first_epoch"] = _iso(obj.first_epoch.astimezone(UTC))
    info["former_names"] = ",".join(n.name for n in names if n.name != info["name"])
    info.update(satcat_fields(obj.satcat))
    try:
        info["tle"] = format_tle(es, name_line=False)
    except ValueError:
        info["tle"] = ""
    return info


def alpha5_to_norad(text: str) -> int | None:
    """Decode a catalog-number reference: plain ASCII digits or Alpha-5 (``A0001`` → 100001);
    None for anything else (a name). Digits beyond the NORAD range are a :class:`CatalogError`
    (one line), never an overflow in SQLite."""
    from overflight.catalog.validate import NORAD_ID_MAX

    text = text.strip()
    if text.isascii() and text.isdigit():
        digits = text.lstrip("0") or "0"
        if len(digits) > len(str(NORAD_ID_MAX)) or int(digits) > NORAD_ID_MAX:
            shown = text if len(text) <= 24 else text[:20] + "..."
            raise CatalogError(f"NORAD id {shown} is out of range [0, {NORAD_ID_MAX}]")
        return int(digits)
    m = _ALPHA5_RE.match(text.upper())
    if m is None:
        return None
    return (10 + _ALPHA5.index(m.group(1))) * 10000 + int(m.group(2))


def default_group(source: str) -> str | None:
    """The group an import lands in by default: the file stem (``stations.tle.gz`` →
    ``stations``), or for a URL CelesTrak's ``GROUP=`` or the URL's file stem."""
    from overflight.catalog import fetch

    if fetch.is_url(source):
        return fetch.group_hint(source)
    name = Path(source).name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    stem = Path(name).stem
    return stem or None


def _glob(pattern: str) -> str:
    """A case-insensitive GLOB operand; without ``*``/``?`` brackets are taken literally."""
    if "*" not in pattern and "?" not in pattern:
        pattern = pattern.replace("[", "[[]")
    return pattern.upper()


def _is_glob(text: str) -> bool:
    return "*" in text or "?" in text


def snapshot_paths() -> list[Path]:
    """The element-set files of the bundled snapshot (group = file stem)."""
    from importlib import resources

    root = resources.files("overflight") / "data" / "snapshot"
    names = sorted(e.name for e in root.iterdir() if e.name.endswith((".tle", ".tle.gz")))
    return [Path(str(root / name)) for name in names]


@functools.cache
def _snapshot_files() -> tuple[tuple[str, str, bytes], ...]:
    out = []
    for path in snapshot_paths():
        group = default_group(str(path)) or path.name
        out.append((group, f"snapshot:{path.name}", path.read_bytes()))
    return tuple(out)


_snapshot_lock = threading.Lock()
_snapshot_template: sqlite3.Connection | None = None


def _snapshot_connection() -> sqlite3.Connection:
    """A fresh in-memory copy of the bundled snapshot (parsed once per process)."""
    global _snapshot_template
    from overflight.catalog import formats

    with _snapshot_lock:
        if _snapshot_template is None:
            template = store.connect(":memory:")
            with store.transaction(template):
                for group, source, data in _snapshot_files():
                    parsed = formats.parse_bytes(data, source)
                    store.write_element_sets(
                        template, parsed.records, groups=[group], source=source
                    )
            _snapshot_template = template
        conn = store.connect(":memory:", upgrade=False)
        _snapshot_template.backup(conn)
    return conn


def _is_satcat(parsed: ParseResult | None) -> bool:
    return parsed is not None and parsed.format in SATCAT_FORMATS


def _sqlite_errors(
    method: Callable[Concatenate[Catalog, _P], _R],
) -> Callable[Concatenate[Catalog, _P], _R]:
    """A :class:`Catalog` method whose ``sqlite3`` errors (disk full, corrupt pages, locked)
    become one-line :class:`StoreError` s; transactions roll back on the way out."""

    @functools.wraps(method)
    def wrapper(self: Catalog, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with store.sqlite_errors(self.path):
            return method(self, *args, **kwargs)

    return wrapper


# ---- the catalog -----------------------------------------------------------------------------
class Catalog:
    """A catalog database (or the bundled snapshot). Use :meth:`open`; close when done."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None, *, snapshot: bool) -> None:
        self._conn = conn
        self.path = path
        self.snapshot = snapshot

    # ---- opening -----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        db: str | os.PathLike[str] | None = None,
        *,
        create: bool = False,
        busy_timeout_s: float = store.DEFAULT_BUSY_TIMEOUT_S,
    ) -> Catalog:
        """Open the catalog at ``db`` (default: ``$OVERFLIGHT_DB``, else the user data dir).

        If the file does not exist: with ``create=True`` it is created, otherwise the bundled
        snapshot is served read-only. Raises :class:`StoreError` for an unusable file.
        """
        path = store.resolve_db_path(db)
        if path.exists() or create:
            if path.is_dir():
                raise StoreError(f"{path}: is a directory, not a catalog database")
            return cls(store.connect(path, busy_timeout_s=busy_timeout_s), path, snapshot=False)
        return cls.bundled()

    @classmethod
    def bundled(cls) -> Catalog:
        """The snapshot shipped with overflight, in memory (read-only)."""
        return cls(_snapshot_connection(), None, snapshot=True)

    @classmethod
    def memory(cls) -> Catalog:
        """An empty, private, writable in-memory catalog (for tests and scripts)."""
        return cls(store.connect(":memory:"), None, snapshot=False)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def description(self) -> str:
        """``the catalog at PATH`` or ``the bundled snapshot``, for messages."""
        if self.snapshot:
            return "the bundled snapshot (no catalog database yet)"
        return f"the catalog at {self.path}" if self.path else "the in-memory catalog"

    @property
    def public_description(self) -> str:
        """The catalog by its data, never by a local path, for reports to publish: ``an
        overflight catalog (1,234 element sets of 567 objects, epochs 2023-11-20 to
        2026-05-30)`` (``the snapshot bundled with overflight (…)`` when it is in use)."""
        n_sets, n_objects, first_us, last_us = self._conn.execute(
            "SELECT count(*), count(DISTINCT norad_id), min(epoch_us), max(epoch_us) "
            "FROM element_sets").fetchone()
        what = ("the snapshot bundled with overflight" if self.snapshot
                else "an in-memory catalog" if not self.path else "an overflight catalog")
        text = f"{n_sets:,} element sets of {n_objects:,} objects"
        if first_us is not None:
            first, last = (store.us_to_datetime(v).strftime("%Y-%m-%d")
                           for v in (first_us, last_us))
            text += f", epochs {first}" + ("" if first == last else f" to {last}")
        return f"{what} ({text})"

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying SQLite connection (read-only use, please)."""
        return self._conn

    # ---- writing -----------------------------------------------------------------------------
    def _writable(self) -> None:
        if self.snapshot:
            raise CatalogError("the bundled snapshot is read-only; open with create=True")

    @_sqlite_errors
    def add(
        self,
        records: Iterable[ElementSet],
        *,
        group: str | None = None,
        source: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> WriteStats:
        """Store element sets in one transaction (all or nothing); existing ones are skipped."""
        self._writable()
        with store.transaction(self._conn):
            return store.write_element_sets(
                self._conn,
                records,
                groups=[group] if group else [],
                source=source,
                progress=progress,
            )

    @_sqlite_errors
    def import_sources(
        self,
        sources: Sequence[str | os.PathLike[str]],
        *,
        group: str | None = None,
        strict: bool = False,
        fmt: str | None = None,
        timeout_s: float | None = None,
        max_bytes: int | None = None,
        max_decompressed_bytes: int | None = None,
        progress: ProgressFn | None = None,
        seed_snapshot: bool = False,
    ) -> ImportResult:
        """Import files and http(s) URLs in ONE transaction.

        Sources are element-set files (TLE, OMM) or the satellite catalog (SATCAT, CelesTrak
        or Space-Track CSV/JSON: object metadata, no group), told apart by their content.
        ``seed_snapshot``: if the catalog is still empty (no element sets, no sources), store
        the bundled snapshot first, in the same transaction (:attr:`ImportResult.seeded`).

        Each source lands in ``group`` (default: :func:`default_group` of the source). Invalid
        records (unreadable, or values out of their physical ranges: :mod:`validate`) are
        reported in the result and skipped; with ``strict`` nothing is stored if any record is
        invalid. A source without any valid record creates no group, source or fetch state.
        URLs are fetched conditionally (ETag / Last-Modified from the previous import); an
        unchanged URL downloads nothing; a ``user:password@`` part is never shown or stored.
        ``timeout_s`` limits each whole download, ``max_bytes`` its size, and
        ``max_decompressed_bytes`` what gzip data may expand to (see
        :func:`formats.decompression_limit`). Raises :class:`ImportFailed` if a source cannot
        be read or downloaded, :class:`StoreError` if the database fails (disk full, corrupt);
        then nothing is stored. A Ctrl-C that arrives as the COMMIT completes does not undo it:
        the import returns its (stored) result.
        """
        self._writable()
        loaded: list[tuple[str, str, str | None, ParseResult | None, Any]] = []
        for src in sources:
            loaded.append(
                self._load(
                    str(src), group, fmt, timeout_s, max_bytes, max_decompressed_bytes, progress
                )
            )

        any_errors = any(p is not None and p.errors for _, _, _, p, _ in loaded)
        if strict and any_errors:
            reports = tuple(
                SourceReport(
                    source=src,
                    group=None if _is_satcat(p) else grp,
                    kind="satcat" if _is_satcat(p) else "element sets",
                    valid=(len(p.satcat) if _is_satcat(p) else len(p.records)) if p else 0,
                    new=0,
                    duplicates=0,
                    errors=tuple(p.errors) if p else (),
                    not_modified=p is None,
                )
                for src, _, grp, p, _ in loaded
            )
            return ImportResult(reports, stored=False, strict=True)

        reports_list: list[SourceReport] = []
        total = sum(len(p.records) for _, _, _, p, _ in loaded if p is not None)
        done = 0
        mark = secrets.token_hex(8)
        seeded: SeedReport | None = None
        try:
            with store.transaction(self._conn):
                # Seeded only by an import that stores something: a wholly rejected file
                # leaves a new catalog as empty as it found it.
                if seed_snapshot and self._empty() and any(
                    p is not None and (p.records or p.satcat) for _, _, _, p, _ in loaded
                ):
                    seeded = self._write_snapshot()
                for src, uri, grp, parsed, fetched in loaded:
                    if parsed is not None and parsed.format in SATCAT_FORMATS:
                        stats = store.write_satcat(self._conn, parsed.satcat, source=uri)
                        if fetched is not None and stats.received:
                            store.put_fetch_state(
                                self._conn, uri, fetched.etag, fetched.last_modified
                            )
                        reports_list.append(
                            SourceReport(src, None, stats.received, stats.new, stats.duplicates,
                                         tuple(parsed.errors), stored=True, kind="satcat")
                        )
                        continue
                    if parsed is None:
                        reports_list.append(
                            SourceReport(src, grp, 0, 0, 0, (), not_modified=True, stored=True)
                        )
                        continue
                    base = done

                    def step(n: int, base: int = base) -> None:
                        if progress is not None:
                            progress("store", base + n, total)

                    stats = store.write_element_sets(
                        self._conn,
                        parsed.records,
                        groups=[grp] if grp else [],
                        source=uri,
                        progress=step,
                    )
                    done += stats.received
                    # A fully rejected download leaves no trace, so that it is fetched again.
                    if fetched is not None and stats.received:
                        store.put_fetch_state(self._conn, uri, fetched.etag, fetched.last_modified)
                    reports_list.append(
                        SourceReport(
                            src,
                            grp,
                            stats.received,
                            stats.new,
                            stats.duplicates,
                            tuple(parsed.errors),
                            stored=True,
                        )
                    )
                self._conn.execute("CREATE TEMP TABLE IF NOT EXISTS import_marks (mark TEXT)")
                self._conn.execute("INSERT INTO temp.import_marks VALUES (?)", (mark,))
        except KeyboardInterrupt:
            # Ctrl-C while COMMIT ran: SQLite finished it, Python raised right after. The mark
            # (written last, in the same transaction) tells whether the import is stored; if
            # it is, say so rather than report a failure.
            if not self._committed(mark):
                raise
        finally:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("DELETE FROM temp.import_marks WHERE mark = ?", (mark,))
        return ImportResult(tuple(reports_list), stored=True, strict=strict, seeded=seeded)

    def _empty(self) -> bool:
        """No element set, SATCAT entry or source stored yet (a new database)."""
        q = self._conn.execute
        return not (
            q("SELECT 1 FROM element_sets LIMIT 1").fetchone()
            or q("SELECT 1 FROM sources LIMIT 1").fetchone()
            or q("SELECT 1 FROM satcat LIMIT 1").fetchone()
        )

    def _write_snapshot(self) -> SeedReport:
        """Store the bundled snapshot (inside a transaction), group = file stem."""
        from overflight.catalog import formats

        n_sets = 0
        ids: set[int] = set()
        newest: datetime | None = None
        for group, source, data in _snapshot_files():
            records = formats.parse_bytes(data, source).records
            stats = store.write_element_sets(self._conn, records, groups=[group], source=source)
            n_sets += stats.new
            ids.update(es.norad_id for es in records)
            for es in records:
                if newest is None or es.epoch > newest:
                    newest = es.epoch
        return SeedReport(element_sets=n_sets, objects=len(ids), newest_epoch=newest)

    @_sqlite_errors
    def seed_snapshot(self) -> SeedReport | None:
        """Store the bundled snapshot if this catalog is still empty (a new database), in
        one transaction; None (nothing done) if it already holds anything."""
        self._writable()
        with store.transaction(self._conn):
            return self._write_snapshot() if self._empty() else None

    def _committed(self, mark: str) -> bool:
        """Whether the transaction that wrote ``mark`` into ``temp.import_marks`` committed."""
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM temp.import_marks WHERE mark = ?", (mark,)
            ).fetchone()
        except sqlite3.Error:  # the table does not exist: it was rolled back with the rest
            return False
        return bool(row[0])

    def _load(
        self,
        src: str,
        group: str | None,
        fmt: str | None,
        timeout_s: float | None,
        max_bytes: int | None,
        max_decompressed_bytes: int | None,
        progress: ProgressFn | None,
    ) -> tuple[str, str, str | None, ParseResult | None, Any]:
        """Read or download and parse one source: (source, uri, group, parsed, fetch result).

        A URL's source and uri are redacted (no password): that is what is shown and stored.
        """
        from overflight.catalog import fetch, formats

        grp = group if group else default_group(src)
        if fetch.is_url(src):
            url = src
            src = fetch.redact_url(url)
            state = store.get_fetch_state(self._conn, src)

            def dl(received: int, total: int | None) -> None:
                if progress is not None:
                    progress(f"download {src}", received, total)

            try:
                res = fetch.fetch(
                    url,
                    etag=state.etag if state else None,
                    last_modified=state.last_modified if state else None,
                    timeout_s=timeout_s or fetch.DEFAULT_TIMEOUT_S,
                    max_bytes=max_bytes or fetch.DEFAULT_MAX_BYTES,
                    progress=dl,
                )
            except fetch.FetchError as exc:
                raise ImportFailed(f"{exc}; nothing was imported") from exc
            if res.data is None:
                return src, src, grp, None, res
            data = res.data
            uri = src
            # The URL's FORMAT= names the element-set layout; SATCAT data is told by its keys.
            if fmt is None and formats.detect_format(data) not in SATCAT_FORMATS:
                fmt = fetch.format_hint(url)
        else:
            path = Path(src).expanduser()
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                raise ImportFailed(f"{src}: no such file; nothing was imported") from None
            except IsADirectoryError:
                raise ImportFailed(f"{src}: is a directory; nothing was imported") from None
            except OSError as exc:
                raise ImportFailed(
                    f"{src}: cannot read: {exc.strerror or exc}; nothing was imported"
                ) from None
            uri = str(path.resolve())
            res = None
        if progress is not None:
            progress(f"parse {src}", 0, len(data))  # total: bytes to parse
        try:
            parsed = formats.parse_bytes(
                data, src, fmt, max_decompressed_bytes=max_decompressed_bytes
            )
        except (ValueError, OSError, EOFError) as exc:
            raise ImportFailed(f"{src}: {exc}; nothing was imported") from exc
        return src, uri, grp, parsed, res

    # ---- queries -----------------------------------------------------------------------------
    def _filters(
        self,
        group: str | None,
        name: str | None,
        norad_ids: Iterable[int] | None,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if group is not None:
            clauses.append(
                "o.norad_id IN (SELECT gm.norad_id FROM group_members gm "
                "JOIN groups g ON g.id = gm.group_id WHERE g.name = ?)"
            )
            params.append(group)
        if name is not None:
            clauses.append("upper(o.name) GLOB ?")
            params.append(_glob(name))
        if norad_ids is not None:
            import json

            clauses.append("o.norad_id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(sorted({int(n) for n in norad_ids})))
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return where, params

    @_sqlite_errors
    def latest(
        self,
        *,
        group: str | None = None,
        name: str | None = None,
        norad_ids: Iterable[int] | None = None,
        as_of: datetime | str | None = None,
    ) -> list[ElementSet]:
        """The newest element set of each matching object, in NORAD id order.

        ``group``: members of that group; ``name``: case-insensitive glob on the current name;
        ``norad_ids``: only these; ``as_of``: newest with epoch <= that time (objects without
        one are left out). Times: aware datetimes or ISO 8601 text (:func:`resolve_time`).
        """
        where, params = self._filters(group, name, norad_ids)
        cond = ""
        if as_of is not None:
            cond = " AND epoch_us <= ?"
            params = [store.datetime_to_us(resolve_time(as_of, "as_of")), *params]
        cols = ", ".join(f"e.{c.strip()}" for c in store.ELEMENT_COLUMNS.split(","))
        sql = (
            f"SELECT {cols} FROM objects o JOIN element_sets e ON e.id = ("
            f"SELECT id FROM element_sets WHERE norad_id = o.norad_id{cond} "
            f"ORDER BY epoch_us DESC, id DESC LIMIT 1){where} ORDER BY o.norad_id"
        )
        return list(store.read_element_sets(self._conn.execute(sql, params)))

    @_sqlite_errors
    def nearest(
        self,
        at: datetime | str,
        *,
        group: str | None = None,
        name: str | None = None,
        norad_ids: Iterable[int] | None = None,
    ) -> list[ElementSet]:
        """The element set of each matching object whose epoch is nearest ``at`` (before or
        after; a tie goes to the earlier), in NORAD id order. Filters as in :meth:`latest`; an
        object with one element set gets that one."""
        at = resolve_time(at, "at")
        before = {e.norad_id: e for e in self.latest(group=group, name=name,
                                                     norad_ids=norad_ids, as_of=at)}
        where, params = self._filters(group, name, norad_ids)
        cols = ", ".join(f"e.{c.strip()}" for c in store.ELEMENT_COLUMNS.split(","))
        sql = (
            f"SELECT {cols} FROM objects o JOIN element_sets e ON e.id = ("
            "SELECT id FROM element_sets WHERE norad_id = o.norad_id AND epoch_us > ? "
            f"ORDER BY epoch_us ASC, id DESC LIMIT 1){where} ORDER BY o.norad_id"
        )
        after = {e.norad_id: e for e in store.read_element_sets(
            self._conn.execute(sql, [store.datetime_to_us(at), *params]))}
        out: list[ElementSet] = []
        for nid in sorted(before.keys() | after.keys()):
            b, a = before.get(nid), after.get(nid)
            if b is None or (a is not None and a.epoch - at < at - b.epoch):
                assert a is not None
                out.append(a)
            else:
                out.append(b)
        return out

    def history(
        self,
        norad_id: int,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
    ) -> list[ElementSet]:
        """Every element set of one object, oldest epoch first (``start <= epoch <= end``)."""
        return self.history_many(norad_ids=[norad_id], start=start, end=end).get(norad_id, [])

    @_sqlite_errors
    def history_many(
        self,
        *,
        group: str | None = None,
        name: str | None = None,
        norad_ids: Iterable[int] | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
    ) -> dict[int, list[ElementSet]]:
        """Histories of many objects at once: NORAD id → element sets by epoch."""
        where, params = self._filters(group, name, norad_ids)
        conds: list[str] = []
        extra: list[Any] = []
        if start is not None:
            conds.append("e.epoch_us >= ?")
            extra.append(store.datetime_to_us(resolve_time(start, "start")))
        if end is not None:
            conds.append("e.epoch_us <= ?")
            extra.append(store.datetime_to_us(resolve_time(end, "end")))
        cond = (" AND " + " AND ".join(conds)) if conds else ""
        cols = ", ".join(f"e.{c.strip()}" for c in store.ELEMENT_COLUMNS.split(","))
        sql = (
            f"SELECT {cols} FROM element_sets e WHERE e.norad_id IN "
            f"(SELECT o.norad_id FROM objects o{where}){cond} "
            "ORDER BY e.norad_id, e.epoch_us, e.id"
        )
        out: dict[int, list[ElementSet]] = {}
        for row in self._conn.execute(sql, [*params, *extra]):
            es = store.checked_element_set(row)
            if es is not None:
                out.setdefault(row[1], []).append(es)
        return out

    def iter_element_sets(
        self,
        *,
        group: str | None = None,
        norad_ids: Iterable[int] | None = None,
    ) -> Iterator[ElementSet]:
        """Every stored element set (optionally of a group / some objects), by object and
        epoch, streamed without holding them all."""
        where, params = self._filters(group, None, norad_ids)
        sql = (
            f"SELECT {store.ELEMENT_COLUMNS} FROM element_sets WHERE norad_id IN "
            f"(SELECT o.norad_id FROM objects o{where}) ORDER BY norad_id, epoch_us, id"
        )
        with store.sqlite_errors(self.path):
            yield from store.read_element_sets(self._conn.execute(sql, params))

    @_sqlite_errors
    def bracket(self, norad_id: int, at: datetime | str) -> Bracket:
        """The element sets of one object around ``at`` (aware datetime or ISO 8601 text):
        latest epoch <= at, earliest > at."""
        t = store.datetime_to_us(resolve_time(at, "at"))
        base = f"SELECT {store.ELEMENT_COLUMNS} FROM element_sets WHERE norad_id = ? AND "
        before = self._conn.execute(
            base + "epoch_us <= ? ORDER BY epoch_us DESC, id DESC LIMIT 1", (norad_id, t)
        ).fetchone()
        after = self._conn.execute(
            base + "epoch_us > ? ORDER BY epoch_us ASC, id DESC LIMIT 1", (norad_id, t)
        ).fetchone()
        return Bracket(
            store.checked_element_set(before) if before else None,
            store.checked_element_set(after) if after else None,
        )

    def objects(
        self,
        *,
        group: str | None = None,
        name: str | None = None,
        norad_ids: Iterable[int] | None = None,
    ) -> list[CatalogObject]:
        """Catalog entries (name, groups, history extent) of matching objects, by NORAD id."""
        where, params = self._filters(group, name, norad_ids)
        return self._objects(where, params)

    @_sqlite_errors
    def _objects(self, where: str, params: Sequence[Any]) -> list[CatalogObject]:
        sql = (
            "SELECT o.norad_id, o.name, o.intl_designator, o.last_epoch_us, "
            "(SELECT count(*) FROM element_sets e WHERE e.norad_id = o.norad_id), "
            "(SELECT min(epoch_us) FROM element_sets e WHERE e.norad_id = o.norad_id), "
            "(SELECT group_concat(g.name, char(10)) FROM group_members gm "
            "JOIN groups g ON g.id = gm.group_id WHERE gm.norad_id = o.norad_id) "
            f"FROM objects o{where} ORDER BY o.norad_id"
        )
        rows = self._conn.execute(sql, params).fetchall()
        meta = self._satcat([r[0] for r in rows])
        out = []
        for nid, name, intl, last_us, count, first_us, groups in rows:
            out.append(
                CatalogObject(
                    norad_id=nid,
                    name=name,
                    intl_designator=intl,
                    groups=tuple(sorted(groups.split("\n"))) if groups else (),
                    element_sets=count,
                    first_epoch=store.us_to_datetime(first_us if first_us is not None else last_us),
                    last_epoch=store.us_to_datetime(last_us),
                    satcat=meta.get(nid),
                )
            )
        return out

    def _satcat(self, norad_ids: Sequence[int] | None) -> dict[int, SatcatRecord]:
        import json

        sql = f"SELECT {store.SATCAT_COLUMNS} FROM satcat"
        params: list[Any] = []
        if norad_ids is not None:
            if not norad_ids:
                return {}
            sql += " WHERE norad_id IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted({int(n) for n in norad_ids})))
        rows = self._conn.execute(sql + " ORDER BY norad_id", params)
        return {r.norad_id: r for r in store.read_satcat(rows)}

    @_sqlite_errors
    def satcat(self, norad_ids: Iterable[int] | None = None) -> dict[int, SatcatRecord]:
        """SATCAT entries (object metadata) by NORAD id: of ``norad_ids``, or all; objects
        without an imported entry are absent."""
        return self._satcat(None if norad_ids is None else list(norad_ids))

    def get(self, norad_id: int) -> CatalogObject:
        """The catalog entry of one NORAD id; :class:`SatelliteNotFound` if absent."""
        from overflight.catalog.validate import NORAD_ID_MAX

        if not 0 <= norad_id <= NORAD_ID_MAX:
            raise CatalogError(f"NORAD id {norad_id} is out of range [0, {NORAD_ID_MAX}]")
        found = self._objects(" WHERE o.norad_id = ?", [norad_id])
        if not found:
            raise SatelliteNotFound(f"NORAD {norad_id} is not in {self.description}")
        return found[0]

    @_sqlite_errors
    def names(self, norad_id: int) -> list[NameRecord]:
        """Every name the object was published under, by first epoch."""
        rows = self._conn.execute(
            "SELECT name, first_epoch_us, last_epoch_us FROM names WHERE norad_id = ? "
            "ORDER BY first_epoch_us, name",
            (norad_id,),
        )
        return [NameRecord(n, store.us_to_datetime(a), store.us_to_datetime(b)) for n, a, b in rows]

    @_sqlite_errors
    def group_names(self) -> list[str]:
        """The groups' names, sorted (cheap: no counting, unlike :meth:`groups`)."""
        return [name for (name,) in
                self._conn.execute("SELECT name FROM groups ORDER BY name")]

    @_sqlite_errors
    def groups(self) -> list[GroupInfo]:
        """All groups with member and element-set counts, by name."""
        rows = self._conn.execute(
            "SELECT g.name, count(o.norad_id), "
            "coalesce(sum((SELECT count(*) FROM element_sets e WHERE e.norad_id = o.norad_id)), 0),"
            " max(o.last_epoch_us) FROM groups g "
            "LEFT JOIN group_members gm ON gm.group_id = g.id "
            "LEFT JOIN objects o ON o.norad_id = gm.norad_id "
            "GROUP BY g.id ORDER BY g.name"
        )
        return [
            GroupInfo(name, n_obj, n_es, store.us_to_datetime(last) if last is not None else None)
            for name, n_obj, n_es, last in rows
        ]

    @_sqlite_errors
    def info(self) -> CatalogInfo:
        """Location, schema version and sizes."""
        q = self._conn.execute
        return CatalogInfo(
            path=str(self.path) if self.path else None,
            snapshot=self.snapshot,
            schema_version=store.schema_version(self._conn),
            objects=q("SELECT count(*) FROM objects").fetchone()[0],
            element_sets=q("SELECT count(*) FROM element_sets").fetchone()[0],
            groups=q("SELECT count(*) FROM groups").fetchone()[0],
            satcat_entries=q("SELECT count(*) FROM satcat").fetchone()[0],
        )

    def resolve(self, ref: str | int) -> CatalogObject:
        """The object a user means: NORAD id, Alpha-5 id, or a name (case-insensitive; exact,
        then former names, then glob ``*`` ``?``, then substring).

        Raises :class:`SatelliteNotFound` or :class:`AmbiguousSatellite` (with candidates).
        """
        return self.resolve_how(ref)[0]

    def resolve_how(self, ref: str | int) -> tuple[CatalogObject, str]:
        """:meth:`resolve`, and how ``ref`` matched: ``id``, ``name``, ``former name``,
        ``name containing`` (a substring of one object's name only), ``name matching`` or
        ``former name matching`` (a glob)."""
        if isinstance(ref, int):
            return self.get(ref), "id"
        text = ref.strip()
        if not text:
            raise SatelliteNotFound("empty satellite reference")
        nid = alpha5_to_norad(text)
        if nid is not None:
            try:
                return self.get(nid), "id"
            except SatelliteNotFound:
                if text.isdigit():
                    raise
                # An Alpha-5-looking name (rare): fall through to the name search.
        glob = _is_glob(text)
        stages: list[tuple[str, str, list[Any]]] = []
        if not glob:
            stages += [
                ("name", " WHERE o.name = ? COLLATE NOCASE", [text]),
                (
                    "former name",
                    " WHERE o.norad_id IN (SELECT norad_id FROM names "
                    "WHERE name = ? COLLATE NOCASE)",
                    [text],
                ),
                ("name containing", " WHERE upper(o.name) GLOB ?", ["*" + _glob(text) + "*"]),
            ]
        else:
            stages += [
                ("name matching", " WHERE upper(o.name) GLOB ?", [_glob(text)]),
                (
                    "former name matching",
                    " WHERE o.norad_id IN (SELECT norad_id FROM names WHERE upper(name) GLOB ?)",
                    [_glob(text)],
                ),
            ]
        for what, where, params in stages:
            found = self._objects(where, params)
            if len(found) == 1:
                return found[0], what
            if len(found) > 1:
                shown = ", ".join(f"{o.norad_id} {o.name}" for o in found[:_MAX_CANDIDATES])
                more = (
                    f" and {len(found) - _MAX_CANDIDATES} more"
                    if len(found) > _MAX_CANDIDATES
                    else ""
                )
                raise AmbiguousSatellite(
                    f"'{text}' is ambiguous: {len(found)} satellites with a {what} "
                    f"'{text}': {shown}{more}; give a NORAD id or a more precise name",
                    found,
                )
        raise SatelliteNotFound(f"no satellite matching '{text}' in {self.description}")

    def resolve_many(self, refs: Iterable[str | int]) -> list[CatalogObject]:
        """:meth:`resolve` each reference; duplicates removed, order kept."""
        seen: set[int] = set()
        out = []
        for ref in refs:
            obj = self.resolve(ref)
            if obj.norad_id not in seen:
                seen.add(obj.norad_id)
                out.append(obj)
        return out

    def select(
        self,
        *,
        group: str | Sequence[str] = (),
        sats: Sequence[str | int] = (),
        as_of: datetime | str | None = None,
    ) -> list[ElementSet]:
        """Element sets of the named satellites (NORAD ids, names) and group members, one per
        object: see :func:`overflight.selection.select_from_catalog`."""
        from overflight.selection import select_from_catalog

        groups = [group] if isinstance(group, str) else list(group)
        return select_from_catalog(self, [str(s) for s in sats], groups,
                                   as_of=None if as_of is None else resolve_time(as_of, "as_of"))
