"""What the HTTP endpoints compute, without HTTP: catalog queries, passes, tracks, claims,
orbit history and maneuvers, each returning JSON-ready dicts with the CLI's JSON fields.

Every method runs in a worker thread or a worker process (see ``app.py`` and
``workers.py``); each keeps its own catalog connection. User mistakes raise :class:`ApiError`
(or a library error that :func:`user_error_status` maps to a status code), never anything with
a traceback for the client.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from overflight.catalog import history_rows, info_row, list_rows
from overflight.freshness import REFUSE_AFTER_DAYS
from overflight.server.models import (
    ClaimIn,
    ExposureQuery,
    ImportRequest,
    PassesRequest,
    VerifyRequest,
    WatchQuery,
)

if TYPE_CHECKING:
    from overflight.access import WindowTable
    from overflight.areas import Area
    from overflight.catalog import Catalog
    from overflight.elements import ElementSet
    from overflight.passes import PassPlan
    from overflight.server.jobs import JobContext

__all__ = ["ApiError", "Limits", "PassesJobResult", "PassesKey", "RawRequest", "Service",
           "user_error_line", "user_error_status"]

_CLAIM_MAP_MARGIN = timedelta(minutes=25)
_CLAIM_MAP_STEP_S = 20.0
_GZIP_MAGIC = b"\x1f\x8b"


class ApiError(Exception):
    """A request the service refuses: HTTP ``status`` and a one-line message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def __reduce__(self) -> tuple[Any, ...]:  # sent back from a worker process
        return (ApiError, (self.status, self.message, self.headers))


def user_error_status(exc: BaseException) -> int:
    """The status of a library error that is the client's (``OverflightError``): 404 for an
    unknown satellite or group or no element sets, 503 for a catalog storage error, else 422."""
    from overflight.catalog import SatelliteNotFound
    from overflight.catalog.store import StoreError
    from overflight.selection import GroupNotFound, NoElementSets

    if isinstance(exc, SatelliteNotFound | GroupNotFound | NoElementSets):
        return 404
    if isinstance(exc, StoreError):
        return 503
    return 422


# The API's names for the library's arguments that its messages name
# (overflight.errors.ARGUMENTS; the others are the API's own): query parameters and body
# fields. Sites files do not come over HTTP: sites go in ``site``.
API_NAMES = {"kinds": "kind", "countries": "country", "operators": "operator",
             "owners": "owner", "object_types": "object_type", "site_files": "site",
             "all_sites": "site"}
_API_HEADS = {"sites": "site"}
# Library phrases and the API's (replaced as they stand, before the names).
_API_PHRASES = (
    ("(give a named site, LAT,LON[,ALT_M] or a sites file: site_files)",
     "(give a named site, GET /api/sites, or LAT,LON[,ALT_M])"),
    ("), site_files or all_sites", ") or an area"),
    ("give sats, groups or files", "give sat or group"),
    ("give sats or groups", "give sat or group"),
    ("or fewer sats or groups", "or fewer sat or group values"),
    ("imaging=True", "imaging=true"),
)


def user_error_line(exc: BaseException) -> str:
    """A library error's message as the client sees it: its first line (or its class name),
    naming the API's parameters, never the library's argument names
    (:func:`overflight.errors.reword`)."""
    from overflight.errors import reword

    text = str(exc)
    if not text:
        return exc.__class__.__name__
    return reword(text.splitlines()[0], API_NAMES, heads=_API_HEADS, phrases=_API_PHRASES)


@dataclass(frozen=True)
class Limits:
    """What one request may ask for.

    ``max_work``: satellites × sites × days per interactive passes/watch request (larger ones
    go to background jobs, up to ``max_job_work``); ``max_body_bytes``: request body size;
    ``body_timeout_s``: time to receive a whole body (408 after); ``request_timeout_s``:
    time limit per request; ``compute_threads``: computations run at
    once (others queue, at most ``max_pending``); ``max_job_windows``: windows a job may keep;
    ``max_job_bytes``: memory all finished jobs' results may hold together (older results are
    dropped first; one larger result fails its job); ``compute_processes``: worker processes
    for the computations (passes, watch, exposure, track, history, maneuvers, verify; then
    ``compute_processes`` run at once), 0: threads (``compute_threads``) of this process.
    """

    max_work: float = 2000.0
    max_job_work: float = 250_000.0
    max_sites: int = 100
    max_body_bytes: int = 4 * 1024 * 1024
    body_timeout_s: float = 30.0
    request_timeout_s: float = 30.0
    compute_threads: int = 2
    compute_processes: int = 0
    max_pending: int = 64
    max_track_points: int = 20_000
    max_claims: int = 100
    max_history_sets: int = 200_000
    max_catalog_page: int = 5000
    max_job_windows: int = 2_000_000
    job_threads: int = 1
    max_queued_jobs: int = 4
    job_ttl_s: float = 3600.0
    job_max_runtime_s: float = 1800.0
    max_job_bytes: int = 256 * 1024 * 1024
    cache_entries: int = 64

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_work": self.max_work,
            "max_job_work": self.max_job_work,
            "max_sites": self.max_sites,
            "max_body_bytes": self.max_body_bytes,
            "request_timeout_s": self.request_timeout_s,
            "max_track_points": self.max_track_points,
            "max_claims": self.max_claims,
            "max_job_windows": self.max_job_windows,
            "max_job_bytes": self.max_job_bytes,
            "compute": self.compute,
            "compute_processes": self.compute_processes,
            "compute_threads": self.compute_threads,
        }

    @property
    def compute(self) -> int:
        """Computations run at once: ``compute_processes`` worker processes, or with none
        ``compute_threads`` threads (the rest queue, at most ``max_pending``)."""
        return self.compute_processes if self.compute_processes > 0 else self.compute_threads


def _header(plan: PassPlan) -> dict[str, Any]:
    """What a passes answer says about the request (before its windows)."""
    from overflight.times import format_utc

    return {
        "start": format_utc(plan.start),
        "end": format_utc(plan.end),
        "satellites": len(plan.elsets),
        "sites": [s.to_dict() for s in plan.sites],
        "work": round(plan.work, 1),
        "warnings": plan.warnings(),
        "skipped": [k.to_dict() for k in plan.skipped],
        "imaging": plan.imaging,
    }


AREA_WORK_SITES = 40.0
"""What an area target counts as in a request's work (satellites × sites × days): an area's
sample points cost the engine about this many single sites (measured: 167 satellites for a
day over Najin port, 190 points, take 8–60 times one site's time, imaging to horizon limits)."""


def _request_area(req: PassesRequest) -> Area | None:
    """The request's shipped area target (files are never read), or None."""
    if req.area is None:
        return None
    from overflight.areas import resolve_area

    return resolve_area(req.area, files=False)


def _centroid_sites(area: Area | None) -> list[str]:
    assert area is not None
    lat, lon = area.centroid
    return [f"{lat:.6f},{lon:.6f}"]


def _request_work(plan: PassPlan, area: Area | None, only_area: bool) -> float:
    if area is None:
        return plan.work
    return (0.0 if only_area else plan.work) + len(plan.elsets) * AREA_WORK_SITES * plan.days


def _area_answer(plan: PassPlan, req: PassesRequest,
                 area: Area) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The answer's header and window rows for a request with an area target: the windows over
    its sites (if any) and over the area (:meth:`PassPlan.area_windows`), every window with its
    footprint (GeoJSON geometry; the satellite's own reach in imaging plans)."""
    from overflight.geometry import Site
    from overflight.passes import window_dict
    from overflight.sensors import shipped_sensors

    sensors = shipped_sensors()
    only_area = not req.site
    windows = [] if only_area else plan.windows(sensors=sensors)
    windows += plan.area_windows(area, mode=req.area_mode, sensors=sensors)
    windows.sort(key=lambda w: (w.start, w.site, w.norad_id))
    footprints = plan.footprints(windows, sensors)
    out = _header(plan)
    lat, lon = area.centroid
    out["sites"] = [*([] if only_area else out["sites"]), Site(area.name, lat, lon).to_dict()]
    out["work"] = round(_request_work(plan, area, only_area), 1)
    out["area"] = {**area.to_dict(), "geometry": area.geometry()}
    rows = [{**window_dict(w), "footprint": fp.geometry()}
            for w, fp in zip(windows, footprints, strict=True)]
    return out, rows


def area_rows() -> list[dict[str, Any]]:
    """The shipped area targets with their outlines (``GET /api/areas``)."""
    from overflight.areas import named_areas

    return [{**a.to_dict(), "geometry": a.geometry()} for a in named_areas().values()]


def table_bytes(table: WindowTable) -> int:
    """Memory held by a window table's columns, bytes."""
    import dataclasses

    return sum(int(getattr(getattr(table, f.name), "nbytes", 0))
               for f in dataclasses.fields(table))


@dataclass(frozen=True)
class PassesJobResult:
    """A passes job's windows, kept as one compact table and turned into dicts per page."""

    plan: PassPlan
    table: WindowTable

    @property
    def nbytes(self) -> int:
        """Memory of the windows (the plan's element sets are small beside them), bytes."""
        return table_bytes(self.table)

    def page(self, offset: int, limit: int) -> dict[str, Any]:
        import numpy as np

        from overflight.passes import window_dict
        from overflight.sensors import shipped_sensors

        n = len(self.table)
        idx = np.arange(min(offset, n), min(offset + limit, n))
        windows = self.plan.to_windows(self.table.take(idx), sensors=shipped_sensors())
        out = _header(self.plan)
        del out["work"]
        out.update(count=n, offset=offset, limit=limit,
                   windows=[window_dict(w) for w in windows])
        return out


def _iso(t: datetime) -> str:
    from overflight.times import format_utc

    return format_utc(t, decimals=6)


class _Catalogs:
    """One catalog connection per worker thread, reopened after an import (``invalidate``) or
    when the database file appears where the bundled snapshot was being served."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._local = threading.local()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Imports through this server so far."""
        return self._generation

    def get(self) -> Catalog:
        from overflight.catalog import Catalog

        entry = getattr(self._local, "entry", None)
        if entry is not None:
            generation, cat = entry
            if generation == self._generation and not (cat.snapshot and self.db_path.exists()):
                return cat  # type: ignore[no-any-return]
            cat.close()
            self._local.entry = None
        generation = self._generation
        cat = Catalog.open(self.db_path)
        self._local.entry = (generation, cat)
        return cat

    def invalidate(self) -> None:
        self._generation += 1

    def follow(self, generation: int) -> None:
        """Take the server's count of imports (in a worker process, which sees no import):
        the connection is reopened when it changed."""
        self._generation = generation


class _DataVersion:
    """What changes whenever the catalog's content may have changed: the database file's
    identity and SQLite's ``PRAGMA data_version`` as one read-only probe connection sees it
    (it changes with every commit by any other connection, other processes' included); while
    no database file exists (the bundled snapshot is served), ``("snapshot",)``. ``None``
    when the probe fails or would wait (nothing is cached, or served from the cache, then):
    the probe never waits for SQLite's locks, and with ``wait=False`` not for another
    thread's probe either (the event loop asks so)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._ident: tuple[int, int] | None = None

    def get(self, wait: bool = True) -> tuple[Any, ...] | None:
        try:
            st = os.stat(self.db_path)
        except FileNotFoundError:
            return ("snapshot",)
        except OSError:
            return None
        ident = (st.st_dev, st.st_ino)
        if not self._lock.acquire(blocking=wait):
            return None
        try:
            if self._conn is None or self._ident != ident:  # a new or replaced file
                self.close()
                self._conn = sqlite3.connect(
                    f"{self.db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.0,
                    isolation_level=None, check_same_thread=False)
                self._ident = ident
            version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            self.close()
            return None
        finally:
            self._lock.release()
        return (ident, version)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = self._ident = None


@dataclass(frozen=True)
class PassesKey:
    """A passes request normalized before planning: its interval resolved (``start``,
    ``end``, aware UTC), every other field as validated, the default groups, and the
    catalog's data version. Equal keys have byte-identical answers. ``fixed``: False for
    an interval relative to the clock (``now``), whose answer is not kept."""

    version: tuple[Any, ...]
    start: datetime
    end: datetime
    default_groups: tuple[str, ...]
    fields: str
    fixed: bool = True


V = TypeVar("V")


class _Lru(Generic[V]):
    """A small thread-safe LRU mapping (``size`` entries; none when ``size`` <= 0)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


RawRequest = tuple[str, bytes]
"""A GET request as received: its path and its query string, undecoded."""


class Service:
    """The computations behind the endpoints, for one catalog database."""

    def __init__(self, db: str | os.PathLike[str] | None, token: str | None,
                 limits: Limits) -> None:
        from overflight.catalog.store import resolve_db_path

        self.db_path = resolve_db_path(db)
        self.token = token or None
        self.limits = limits
        self.catalogs = _Catalogs(self.db_path)
        self.cache: _Lru[bytes] = _Lru(limits.cache_entries)
        # GET requests seen before, as received, with their cache keys (see known_answer)
        self.known: _Lru[tuple[tuple[Any, ...], Hashable]] = _Lru(8 * limits.cache_entries)
        self.data_version = _DataVersion(self.db_path)
        self._groups: tuple[tuple[Any, ...], list[dict[str, Any]]] | None = None
        self._write_lock = threading.Lock()

    # ---- catalog ---------------------------------------------------------------------------
    def describe(self) -> str:
        """The catalog in use, with its full path (for the operator's console)."""
        return self.catalogs.get().description

    def redact(self, text: str) -> str:
        """``text`` with the database's directory removed (only the file name stays): what a
        caller without the token may see of the server's file system."""
        full = str(self.db_path)
        return text.replace(full, self.db_path.name) if full in text else text

    def info(self, trusted: bool = False) -> dict[str, Any]:
        """Version, catalog, writes, limits; the database's full path only when ``trusted``
        (the caller sent the token)."""
        from overflight import __version__

        described = self.describe()
        return {
            "version": __version__,
            "catalog": described if trusted else self.redact(described),
            "writes_enabled": self.token is not None,
            "limits": self.limits.to_dict(),
        }

    def groups(self) -> list[dict[str, Any]]:
        """Groups with their counts (which take a scan of every element set: kept until the
        catalog's data version changes)."""
        version = self.data_version.get()
        kept = self._groups
        if version is not None and kept is not None and kept[0] == version:
            return kept[1]
        out = [g.to_dict() for g in self.catalogs.get().groups()]
        if version is not None:
            self._groups = (version, out)
        return out

    def catalog_page(self, group: str | None, name: str | None, limit: int,
                     offset: int) -> dict[str, Any]:
        from overflight.selection import check_groups

        cat = self.catalogs.get()
        if group and cat.connection.execute("SELECT 1 FROM groups WHERE name = ?",
                                            (group,)).fetchone() is None:
            check_groups(cat, [group])  # the unknown-group error, with the known groups
        latest = cat.latest(group=group or None, name=name or None)
        total = len(latest)
        page = latest[offset: offset + limit]
        objs = cat.objects(norad_ids=[e.norad_id for e in page])
        items = list_rows(page, objs, datetime.now(UTC))
        return {"catalog": self.redact(cat.description), "total": total, "offset": offset,
                "limit": limit, "items": items}

    def satellite(self, ref: str) -> dict[str, Any]:
        cat = self.catalogs.get()
        obj = cat.resolve(ref)
        sets = cat.history(obj.norad_id)
        if not sets:
            raise ApiError(404, f"no element sets stored for NORAD {obj.norad_id}")
        return info_row(obj, sets, cat.names(obj.norad_id), datetime.now(UTC))

    def element_history(self, ref: str, start: str | None, end: str | None) -> dict[str, Any]:
        from overflight.times import resolve_time

        cat = self.catalogs.get()
        obj = cat.resolve(ref)
        t0 = resolve_time(start, "start") if start else None
        t1 = resolve_time(end, "end") if end else None
        sets = cat.history(obj.norad_id, start=t0, end=t1)
        if len(sets) > self.limits.max_history_sets:
            raise ApiError(422, f"{len(sets)} element sets: more than the limit of "
                                f"{self.limits.max_history_sets}; give start and end")
        now = datetime.now(UTC)
        rows = history_rows(sets, now)
        return {"norad_id": obj.norad_id, "name": obj.name, "count": len(rows), "items": rows}

    def import_budget_s(self) -> float:
        """How long an import may wait for the write lock: the request time limit less a
        margin for the write itself (which is never abandoned once started)."""
        t = self.limits.request_timeout_s
        return max(0.05, t - min(10.0, t / 3.0))

    def import_elements(self, req: ImportRequest,
                        deadline: float | None = None) -> dict[str, Any]:
        """Parse the body's element sets and store them (one transaction).

        ``deadline`` (``time.monotonic()``): the latest moment to start writing. Waiting for
        the write lock (this server's, or SQLite's while another process writes) ends there
        with ApiError 503 and nothing written; a write that started is finished and answered,
        never reported as failed (the caller waits for it without a time limit).
        """
        import time

        from overflight.catalog import Catalog, snapshot_paths
        from overflight.catalog.formats import normalize_format, parse_bytes
        from overflight.catalog.store import StoreError

        if deadline is None:
            deadline = time.monotonic() + self.import_budget_s()

        data = req.data.encode("utf-8")
        if data[:2] == _GZIP_MAGIC:
            raise ApiError(422, "data: compressed data is not accepted; send the text")
        fmt = None
        if req.input_format:
            try:
                fmt = normalize_format(req.input_format)
            except ValueError as exc:
                raise ApiError(422, f"input_format: {exc}") from None
        parsed = parse_bytes(data, "request", fmt)
        errors = [str(e) for e in parsed.errors]
        if req.strict and errors:
            return {"catalog": str(self.db_path), "group": req.group,
                    "received": len(parsed.records), "new": 0, "duplicates": 0,
                    "rejected": len(errors), "stored": False, "errors": errors}
        if not parsed.records:
            first = errors[0] if errors else "no element sets in the data"
            raise ApiError(422, f"no valid element sets: {first}")
        busy = ApiError(503, "the catalog is busy with another write: nothing was stored; "
                             "retry in a few seconds", {"Retry-After": "5"})
        if not self._write_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise busy
        try:
            # SQLite's own lock (another process writing) is waited for until the deadline.
            wait_s = max(0.05, deadline - time.monotonic())
            try:
                with Catalog.open(self.db_path, create=True, busy_timeout_s=wait_s) as cat:
                    if req.include_snapshot:
                        cat.import_sources([str(p) for p in snapshot_paths()])
                    stats = cat.add(parsed.records, group=req.group, source="api import")
                    where = cat.description
            except StoreError as exc:
                if "locked" in str(exc):
                    raise busy from None
                raise
        finally:
            self._write_lock.release()
        self.catalogs.invalidate()
        return {"catalog": where, "group": req.group, "received": stats.received,
                "new": stats.new, "duplicates": stats.duplicates, "rejected": len(errors),
                "stored": True, "errors": errors[:1000]}

    # ---- selection ---------------------------------------------------------------------------
    # ---- passes ------------------------------------------------------------------------------
    def plan_passes(self, req: PassesRequest, *, job: bool = False,
                    default_groups: Sequence[str] = (),
                    interval: tuple[datetime, datetime] | None = None) -> PassPlan:
        """Check a passes request (:func:`overflight.passes.plan_passes` on this thread's
        catalog) and its size; ApiError 422 when too large. ``interval``: the request's
        ``start``/``end``/``days`` already resolved (see :meth:`passes_key`). With ``area`` and
        no ``site`` the plan's one site is the area's centroid; the area counts as
        ``AREA_WORK_SITES``."""
        from overflight.passes import checked_constraints, plan_passes

        area = _request_area(req)
        if area is not None and job:
            raise ApiError(422, "area: background jobs compute windows over sites only; give "
                                "fewer satellites or days for an area target")
        only_area = area is not None and not req.site
        c = checked_constraints(
            min_elevation_deg=req.min_elevation_deg, max_off_nadir_deg=req.max_off_nadir_deg,
            max_range_km=req.max_range_km, sun_min_deg=req.sun_min_deg,
            sun_max_deg=req.sun_max_deg, sunlit=req.sunlit, min_duration_s=req.min_duration_s)
        start, end, days = (req.start, req.end, req.days) if interval is None else (
            interval[0], interval[1], None)
        plan = plan_passes(sats=req.sat, groups=req.group,
                           sites=_centroid_sites(area) if only_area else req.site,
                           start=start, end=end, days=days, constraints=c,
                           default_groups=default_groups, catalog=self.catalogs.get(),
                           max_sites=self.limits.max_sites, imaging=req.imaging,
                           include_unknown=req.include_unknown, kinds=req.kind,
                           max_gsd_m=req.max_gsd_m, countries=req.country,
                           operators=req.operator, max_age_days=req.max_age_days,
                           owners=req.owner, object_types=req.object_type)
        cap = self.limits.max_job_work if job else self.limits.max_work
        work = _request_work(plan, area, only_area)
        if work > cap:
            n_sites = (0 if only_area else len(plan.sites)) + (
                AREA_WORK_SITES if area is not None else 0)
            note = f" (an area counts as {AREA_WORK_SITES:g})" if area is not None else ""
            size = (f"{len(plan.elsets)} satellites × {n_sites:g} sites{note} × "
                    f"{plan.days:.3g} days = {work:,.0f} satellite-site-days")
            if job or area is not None:
                which = "a background job" if job else "one request with an area target"
                raise ApiError(422, f"request too large: {size}; {which} may compute "
                                    f"at most {cap:,.0f}. Use fewer satellites, sites or days")
            raise ApiError(422, f"request too large: {size}; one request may compute at most "
                                f"{cap:,.0f}. Use fewer satellites, sites or days, or run it "
                                "as a background job: POST /api/jobs/passes with the same "
                                f"fields (up to {self.limits.max_job_work:,.0f})")
        return plan

    def passes_key(self, req: PassesRequest,
                   default_groups: Sequence[str] = ()) -> PassesKey | None:
        """The cache key of a request, without planning it (no selection, no sites): None
        when the interval is malformed (planning reports it) or the catalog's data version is
        unknown. Read before planning, the version is never newer than the data the answer
        is computed from."""
        from overflight.errors import OverflightError
        from overflight.times import resolve_interval

        version = self.data_version.get()
        if version is None:
            return None
        now = datetime.now(UTC)
        try:
            t0, t1 = resolve_interval(req.start, req.end, req.days, now=now)
            # Relative to the clock ('now', the default start): never asked again.
            fixed = (t0, t1) == resolve_interval(req.start, req.end, req.days,
                                                 now=now + timedelta(seconds=1))
        except OverflightError:
            return None
        return PassesKey(version, t0, t1, tuple(default_groups),
                         req.model_dump_json(exclude={"start", "end", "days"}), fixed)

    def cached_passes(self, req: PassesRequest, default_groups: Sequence[str] = (),
                      ) -> tuple[PassesKey | None, bytes | None]:
        """(key, cached answer or None): the quick path, run before any computation."""
        key = self.passes_key(req, default_groups)
        return key, None if key is None else self.cache.get(key)

    def remember(self, raw: RawRequest, key: PassesKey | None,
                 cache_key: Hashable | None = None) -> None:
        """Note that the GET request ``raw`` (path, query string) has the cache key
        ``cache_key`` (default: ``key``) while the catalog's data version is ``key.version``,
        so that :meth:`known_answer` finds its answer without parsing the request again.
        Requests relative to the clock (and malformed ones, ``key`` None) are not noted."""
        if key is not None and key.fixed:
            self.known.put(raw, (key.version, key if cache_key is None else cache_key))

    def known_answer(self, raw: RawRequest) -> bytes | None:
        """The cached answer of a GET request noted before (:meth:`remember`) when the
        catalog's data version is still the one it was keyed with, else None (the request
        then takes the ordinary path, which gives the same answer). Never waits for another
        thread or for SQLite: run on the event loop, before the request is parsed."""
        entry = self.known.get(raw)
        if entry is None:
            return None
        version, key = entry
        if self.data_version.get(wait=False) != version:
            return None
        return self.cache.get(key)

    def passes(self, req: PassesRequest,
               default_groups: Sequence[str] = ()) -> tuple[bytes, bool]:
        """Windows of a request within the interactive limit, as the JSON of
        :class:`~overflight.server.models.PassesResponse`: (body, from cache). The cache is
        asked again here: an identical request computed while this one waited is reused."""
        key, hit = self.cached_passes(req, default_groups)
        if hit is not None:
            return hit, True
        body = self.passes_body(req, default_groups,
                                None if key is None else (key.start, key.end))
        if key is not None and key.fixed:
            self.cache.put(key, body)
        return body, False

    def passes_body(self, req: PassesRequest, default_groups: Sequence[str] = (),
                    interval: tuple[datetime, datetime] | None = None) -> bytes:
        """The answer to a passes request, computed (no cache): ``interval`` as in
        :meth:`plan_passes`, from the request's key."""
        from overflight.passes import window_dict
        from overflight.sensors import shipped_sensors
        from overflight.server.models import PassesResponse

        plan = self.plan_passes(req, default_groups=default_groups, interval=interval)
        area = _request_area(req)
        if area is None:
            windows = plan.windows(sensors=shipped_sensors())
            out = _header(plan)
            rows = [window_dict(w) for w in windows]
        else:
            out, rows = _area_answer(plan, req, area)
        out["count"] = len(rows)
        out["windows"] = rows
        # Validated once here; a popular answer is then served as bytes from the cache.
        # exclude_unset: the area fields appear only in answers about an area.
        return PassesResponse.model_validate(out).model_dump_json(exclude_unset=True).encode(
            "utf-8")

    def watch_request(self, q: WatchQuery) -> tuple[PassesRequest, tuple[str, ...]]:
        """A watch query as the passes request it is, with its default groups."""
        from overflight.passes import WATCH_GROUP

        req = PassesRequest(
            sat=q.sat, group=q.group, site=[q.site], start=q.start, days=q.days,
            owner=q.owner, object_type=q.object_type,
            min_elevation_deg=q.min_elevation_deg, max_off_nadir_deg=q.max_off_nadir_deg,
            imaging=q.imaging, include_unknown=q.include_unknown, kind=q.kind,
            max_gsd_m=q.max_gsd_m, country=q.country, operator=q.operator,
            max_age_days=q.max_age_days,
        )
        return req, (WATCH_GROUP,)

    def watch(self, q: WatchQuery) -> tuple[bytes, bool]:
        return self.passes(*self.watch_request(q))

    def exposure_request(self, q: ExposureQuery) -> PassesRequest:
        """An exposure query's selection, sites, interval and constraints as a passes
        request (its default group: ``WATCH_GROUP``)."""
        from pydantic import ValidationError

        if (q.site is None) == (q.area is None):
            raise ApiError(422, "exposure: give a site or area (one of them)")
        try:
            return PassesRequest(
                sat=q.sat, group=q.group, site=[] if q.site is None else [q.site],
                area=q.area, start=q.start, end=q.end, days=q.days,
                min_elevation_deg=q.min_elevation_deg, max_off_nadir_deg=q.max_off_nadir_deg,
                imaging=q.imaging, include_unknown=q.include_unknown, kind=q.kind,
                max_gsd_m=q.max_gsd_m, country=q.country, operator=q.operator,
                max_age_days=q.max_age_days, owner=q.owner, object_type=q.object_type)
        except ValidationError as exc:  # the query's bounds are the request's; kept in step
            raise ApiError(422, str(exc).splitlines()[0]) from None

    def cached_exposure(self, q: ExposureQuery,
                        ) -> tuple[PassesKey | None, Hashable | None, bytes | None]:
        """(passes key, cache key, cached answer or None) of an exposure query, without
        planning it (as :meth:`cached_passes`): its passes request's key with the breakdown."""
        from overflight.passes import WATCH_GROUP

        key = self.passes_key(self.exposure_request(q), (WATCH_GROUP,))
        if key is None:
            return None, None, None
        cache_key = ("exposure", key, tuple(q.by), q.max_unobserved)
        return key, cache_key, self.cache.get(cache_key)

    def exposure(self, q: ExposureQuery) -> tuple[bytes, bool]:
        """Exposure of one site or area (:func:`overflight.exposure.exposure_of_plan`) within the
        interactive limit, as the JSON of :class:`~overflight.server.models.ExposureResponse`:
        (body, from cache)."""
        key, cache_key, hit = self.cached_exposure(q)
        if hit is not None:
            return hit, True
        body = self.exposure_body(q, None if key is None else (key.start, key.end))
        if key is not None and key.fixed:
            self.cache.put(cache_key, body)
        return body, False

    def exposure_body(self, q: ExposureQuery,
                      interval: tuple[datetime, datetime] | None = None) -> bytes:
        """The answer to an exposure query, computed (no cache): ``interval`` as in
        :meth:`plan_passes`, from the query's key."""
        from overflight.exposure import exposure_of_plan
        from overflight.passes import WATCH_GROUP
        from overflight.server.models import ExposureResponse

        req = self.exposure_request(q)
        plan = self.plan_passes(req, default_groups=[WATCH_GROUP], interval=interval)
        area = _request_area(req)
        if area is not None:  # its sample points are the target's sites (as the CLI's)
            plan = plan.area_points([area])[0]
        out = exposure_of_plan(plan, target=None if area is None else area.name).to_dict(
            by=q.by, max_unobserved=q.max_unobserved)
        return ExposureResponse.model_validate(out).model_dump_json().encode("utf-8")

    def passes_job(self, plan: PassPlan) -> Callable[[JobContext], PassesJobResult]:
        """The job function computing ``plan`` with progress per batch of satellites."""
        from overflight.access import WindowTable

        limit = self.limits.max_job_windows
        cap = self.limits.max_job_bytes

        def run(ctx: JobContext) -> PassesJobResult:
            parts: list[WindowTable] = []
            n = size = 0
            for table in plan.tables(batch_size=32, progress=ctx.progress):
                n += len(table)
                size += table_bytes(table)
                if n > limit:
                    raise ApiError(422, f"more than {limit:,} windows; add constraints "
                                        "or narrow the request")
                if size > cap:
                    raise ApiError(422, f"the windows take more than {cap / 2**20:,.0f} MiB, "
                                        "what a server keeps of job results; add constraints "
                                        "or narrow the request")
                parts.append(table)
            table = WindowTable.concat(parts)
            return PassesJobResult(plan, table.take(plan.display_order(table)))

        return run

    # ---- tracks ------------------------------------------------------------------------------
    def track(self, sat: str, start: str | None, end: str | None, step_s: float,
              max_age_days: float = REFUSE_AFTER_DAYS) -> dict[str, Any]:
        from overflight.selection import select_elements
        from overflight.times import (
            EPHEMERIS_SPAN,
            format_utc,
            resolve_interval,
            resolve_time,
            time_grid,
        )
        from overflight.track import track_rows

        t0 = resolve_time(start or "now", "start", span=EPHEMERIS_SPAN)
        es = select_elements([sat], catalog=self.catalogs.get(), as_of=t0)[0]
        t0, t1 = resolve_interval(t0, end, default_days=es.period_min / 1440.0)
        grid = time_grid(t0, t1, step_s, max_points=self.limits.max_track_points)
        rows = track_rows(es, grid, max_age_days=max_age_days)
        return {"norad_id": es.norad_id, "name": es.name, "elset_epoch": _iso(es.epoch),
                "start": format_utc(t0), "end": format_utc(t1), "step_s": step_s,
                "points": rows}

    # ---- orbit history and maneuvers ----------------------------------------------------------
    def _histories(self, cat: Catalog, sats: Sequence[str], groups: Sequence[str],
                   start: str | None, end: str | None) -> dict[int, list[ElementSet]]:
        """Stored histories of the selection within [start, end], as ``overflight history`` and
        ``overflight maneuvers`` load them (same-epoch re-publications merged)."""
        from overflight.selection import select_histories
        from overflight.times import resolve_time

        return select_histories(sats, groups, catalog=cat,
                                start=resolve_time(start, "start") if start else None,
                                end=resolve_time(end, "end") if end else None,
                                max_sets=self.limits.max_history_sets)

    @staticmethod
    def _object_types(cat: Catalog, hist: dict[int, list[ElementSet]]) -> dict[int, str]:
        """SATCAT object types of the objects with an imported entry (debris and rocket
        bodies' changes are not maneuvers)."""
        return {nid: rec.object_type for nid, rec in cat.satcat(hist).items()}

    def orbit_history(self, sat: str, start: str | None, end: str | None) -> dict[str, Any]:
        """``overflight history SAT -f json``."""
        from overflight.history import OrbitTable
        from overflight.maneuvers import assess_decay, detect_maneuvers, history_document

        cat = self.catalogs.get()
        hist = self._histories(cat, [sat], [], start, end)
        ((nid, sets),) = hist.items()
        table = OrbitTable.from_histories({nid: sets})
        result = detect_maneuvers(table, object_types=self._object_types(cat, hist))
        return history_document(table, result, assess_decay(table, maneuvers=result.maneuvers))

    def maneuvers(self, sats: Sequence[str], groups: Sequence[str], start: str | None,
                  end: str | None, station: str | None, threshold: float,
                  min_dv_m_s: float) -> dict[str, Any]:
        """``overflight maneuvers -f json`` with the detector's counts."""
        from overflight.maneuvers import DetectionConfig, detect_maneuvers, with_passes
        from overflight.sites import resolve_site

        site = resolve_site(station) if station else None
        cat = self.catalogs.get()
        hist = self._histories(cat, sats, groups, start, end)
        config = DetectionConfig(threshold=threshold, min_delta_v_m_s=min_dv_m_s)
        result = detect_maneuvers(hist, config=config,
                                  object_types=self._object_types(cat, hist))
        found = result.maneuvers
        if site is not None:
            found = with_passes(found, result.table, site)
        out = result.to_dict()
        out["maneuvers"] = [m.to_dict() for m in found]
        return out

    # ---- claims ------------------------------------------------------------------------------
    def verify(self, req: VerifyRequest) -> dict[str, Any]:
        from overflight.claims import (
            Claim,
            ClaimProblem,
            VerifyOptions,
            claim_from_fields,
            data_needed_summary,
            parse_claims_text,
            stale_report,
            verify_claims,
        )
        from overflight.sensors import shipped_sensors

        if (req.claims is None) == (req.text is None):
            raise ApiError(422, "give claims (a list) or text (a claims file), one of them")
        entries: list[Claim | ClaimProblem]
        if req.claims is not None:
            if not req.claims:
                raise ApiError(422, "claims: the list is empty")
            if len(req.claims) > self.limits.max_claims:
                raise ApiError(422, f"claims: {len(req.claims)} claims; at most "
                                    f"{self.limits.max_claims} per request")
            entries = []
            for i, c in enumerate(req.claims):
                entries.append(claim_from_fields(_claim_fields(c), source=f"claims[{i}]",
                                                 default_id=f"claim-{i + 1}"))
            ids = [e.id for e in entries if isinstance(e, Claim)]
            dup = sorted({i for i in ids if ids.count(i) > 1})
            if dup:
                raise ApiError(422, f"claims: duplicate id {dup[0]!r}")
        else:
            assert req.text is not None
            entries = list(parse_claims_text(req.text, "text", kind=req.kind).entries)
            if not entries:
                raise ApiError(422, "text: no claims")
            if len(entries) > self.limits.max_claims:
                raise ApiError(422, f"text: {len(entries)} claims; at most "
                                    f"{self.limits.max_claims} per request")
        options = VerifyOptions(tolerance_s=req.tolerance_s, max_age_days=req.max_age_days,
                                search_hours=req.search_hours)
        try:
            options.validate()
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        cat = self.catalogs.get()
        results = verify_claims(entries, cat, options=options, sensors=shipped_sensors())
        rows = []
        for r in results:
            row = r.to_dict()
            row["track"] = _claim_track(r) if req.include_track else None
            rows.append(row)
        stale = stale_report(results)
        return {"catalog": self.redact(cat.description), "results": rows,
                "data_needed": [str(d) for d in data_needed_summary(results)],
                "warnings": [stale.message()] if stale else []}


def _claim_fields(c: ClaimIn) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in c.model_dump(exclude_none=True).items():
        out[k] = v if isinstance(v, str) else repr(v) if isinstance(v, float) else str(v)
    return out


def _claim_track(result: Any) -> list[dict[str, Any]] | None:
    """Ground track ±25 min around the claim with the element set used (as the CLI's map)."""
    from overflight.times import time_grid
    from overflight.track import track_rows

    claim, es = result.claim, result.elset
    if claim is None or es is None or result.verdict not in ("consistent", "inconsistent"):
        return None
    # The verdict judged the element set's age (the claim's max_age_days): no second check.
    return track_rows(es, time_grid(claim.time - _CLAIM_MAP_MARGIN,
                                    claim.end + _CLAIM_MAP_MARGIN, _CLAIM_MAP_STEP_S),
                      max_age_days=None)
