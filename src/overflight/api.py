"""The public Python API: one call per question, results ready for pandas and Jupyter.

::

    import overflight as ovf

    cat = ovf.open_catalog()                     # your catalog, or the bundled snapshot
    sats = cat.select(group="resource")
    win = ovf.passes(sats, "Rajin port", start="2026-05-31T00:00Z", days=1, max_off_nadir_deg=30)
    win.to_pandas()                              # one row per window, UTC timestamps
    ovf.plot.timeline(win)                       # a matplotlib Figure

Conventions: times are aware datetimes or ISO 8601 strings with ``Z`` or an offset; an interval
is ``start`` plus ``end`` or ``days``. Satellites are element sets, a catalog selection, NORAD
ids or names (looked up in ``catalog``, default :func:`open_catalog`'s). Sites are
:class:`~overflight.geometry.Site` objects, names of shipped sites, or ``(lat_deg, lon_deg)`` /
``(lat_deg, lon_deg, alt_m)`` tuples. Mistakes raise
:class:`~overflight.errors.OverflightError` with a one-line message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from os import PathLike
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from overflight.errors import OverflightError
from overflight.freshness import REFUSE_AFTER_DAYS

if TYPE_CHECKING:
    from overflight.areas import Area
    from overflight.catalog import Catalog
    from overflight.elements import ElementSet
    from overflight.exposure import Exposure
    from overflight.geometry import Site
    from overflight.regions import Region
    from overflight.results import Coverage, History, Maneuvers, Passes, Track, Verification
    from overflight.sites import NamedSite

__all__ = [
    "area_passes",
    "coverage",
    "exposure",
    "history",
    "maneuvers",
    "open_catalog",
    "passes",
    "site",
    "track",
    "verify",
]

#: A satellite: an element set, or a NORAD id / name / Alpha-5 id to look up in the catalog.
SatelliteLike: TypeAlias = "ElementSet | str | int"
#: One or many satellites (a catalog selection is a list of element sets).
Satellites: TypeAlias = "SatelliteLike | Sequence[SatelliteLike]"
#: A site: a Site, a NamedSite, a shipped site's name, or (lat_deg, lon_deg[, alt_m]).
SiteLike: TypeAlias = "Site | NamedSite | str | tuple[float, float] | tuple[float, float, float]"
TimeLike: TypeAlias = "datetime | str"

_DEFAULT_DAYS = 1.0


class _DefaultReach(float):
    """:func:`coverage`'s default off-nadir limit: 30°, none with ``imaging``."""

    def __repr__(self) -> str:
        return "30.0 (none with imaging)"


_COVERAGE_OFF_NADIR_DEG = _DefaultReach(30.0)


# ---- arguments --------------------------------------------------------------------------------
def _time(value: TimeLike, name: str) -> datetime:
    from overflight.times import resolve_time

    if not isinstance(value, datetime | str):
        raise OverflightError(f"{name}: expected a datetime or an ISO 8601 string, "
                              f"not {type(value).__name__}")
    return resolve_time(value, name)


def _interval(start: TimeLike, end: TimeLike | None, days: float | None,
              default_days: float | None = _DEFAULT_DAYS) -> tuple[datetime, datetime | None]:
    """``(start, end)`` in aware UTC (:func:`overflight.times.resolve_interval`, its checks and
    messages); end None only when nothing was given and there is no default."""
    from overflight.times import resolve_interval

    if end is None and days is None and default_days is None:
        return _time(start, "start"), None
    _time(start, "start")
    if end is not None:
        _time(end, "end")
    return resolve_interval(start, end, days, default_days=default_days or _DEFAULT_DAYS)


def _is_coords(value: object) -> bool:
    return (isinstance(value, tuple) and len(value) in (2, 3)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value))


def site(value: SiteLike) -> Site:
    """A ground site from a shipped site's name (``"White House"``, case and punctuation
    ignored), ``"LAT,LON[,ALT_M]"`` text, a ``(lat_deg, lon_deg[, alt_m])`` tuple, or a
    :class:`~overflight.geometry.Site` / :class:`~overflight.sites.NamedSite`."""
    from overflight.geometry import Site
    from overflight.sites import NamedSite, parse_coordinates, resolve_site

    if isinstance(value, Site):
        return value
    if isinstance(value, NamedSite):
        return value.site
    if isinstance(value, str):
        return resolve_site(value)
    if _is_coords(value):
        parsed = parse_coordinates(",".join(repr(float(v)) for v in value))
        assert parsed is not None
        return parsed
    raise OverflightError(f"site: expected a name, (lat_deg, lon_deg[, alt_m]) or a Site, "
                          f"not {value!r}")


def _sites(value: SiteLike | Sequence[SiteLike]) -> list[Site]:
    if isinstance(value, str) or _is_coords(value) or not isinstance(value, Sequence):
        return [site(value)]  # type: ignore[arg-type]
    out = [site(v) for v in cast("Sequence[SiteLike]", value)]
    if not out:
        raise OverflightError("sites: no sites given")
    return out


@contextmanager
def _catalog(catalog: Catalog | None) -> Iterator[Catalog]:
    """The given catalog (left open), or the default one opened for the call."""
    if catalog is not None:
        yield catalog
        return
    from overflight.catalog import Catalog

    with Catalog.open() as cat:
        yield cat


def _split(satellites: Satellites) -> tuple[list[ElementSet], list[str]]:
    from overflight.elements import ElementSet

    items: Sequence[Any] = (
        [satellites] if isinstance(satellites, ElementSet | str | int) else satellites
    )
    elsets: list[ElementSet] = []
    refs: list[str] = []
    for item in items:
        if isinstance(item, ElementSet):
            elsets.append(item)
        elif isinstance(item, str | int) and not isinstance(item, bool):
            refs.append(str(item))
        else:
            raise OverflightError(f"satellites: expected element sets, NORAD ids or names, "
                                  f"not {item!r}")
    return elsets, refs


def _elsets(satellites: Satellites, catalog: Catalog | None,
            as_of: datetime | None, owners: Sequence[str] | None = None,
            object_types: Sequence[str] | None = None) -> list[ElementSet]:
    """Element sets of the satellites (named ones: the set nearest ``as_of``), one per object,
    of ``owners``/``object_types`` if given (:func:`overflight.selection.filter_elements`)."""
    from overflight.selection import select_from_catalog

    elsets, refs = _split(satellites)
    if refs:
        with _catalog(catalog) as cat:
            elsets += select_from_catalog(cat, refs, as_of=as_of)
    out: dict[int, ElementSet] = {}
    for es in elsets:
        out.setdefault(es.norad_id, es)
    if not out:
        raise OverflightError("satellites: none given")
    if owners or object_types:
        from overflight.selection import filter_elements

        with _catalog(catalog) as cat:
            return filter_elements(list(out.values()), cat, owners=owners,
                                   object_types=object_types)
    return list(out.values())


def _one(satellite: SatelliteLike, catalog: Catalog | None, as_of: datetime | None
         ) -> ElementSet:
    found = _elsets(satellite, catalog, as_of)
    if len(found) != 1:
        raise OverflightError(f"satellite: {len(found)} satellites given; give one")
    return found[0]


# ---- the calls --------------------------------------------------------------------------------
def open_catalog(path: str | PathLike[str] | None = None) -> Catalog:
    """The element-set catalog at ``path`` (default: ``$OVERFLIGHT_DB``, else the user data
    dir); where no database exists yet, the snapshot bundled with overflight (read-only).

    ``catalog.select(group=..., sats=[...])`` gives element sets for the other calls."""
    from overflight.catalog import Catalog

    return Catalog.open(path)


def passes(
    satellites: Satellites,
    sites: SiteLike | Area | Sequence[SiteLike | Area],
    *,
    start: TimeLike,
    end: TimeLike | None = None,
    days: float | None = None,
    min_elevation_deg: float = 0.0,
    max_off_nadir_deg: float | None = None,
    sun_min_deg: float | None = None,
    catalog: Catalog | None = None,
    imaging: bool = False,
    include_unknown: bool = False,
    kinds: Sequence[str] = (),
    max_gsd_m: float | None = None,
    countries: Sequence[str] = (),
    operators: Sequence[str] = (),
    max_age_days: float = REFUSE_AFTER_DAYS,
    area_mode: str = "any",
    owners: Sequence[str] | None = None,
    object_types: Sequence[str] | None = None,
    client: Any = None,
) -> Passes:
    """Overflight windows of ``satellites`` over ``sites`` in [start, end] (default one day).

    A window is where the satellite is at least ``min_elevation_deg`` above the site's horizon,
    at most ``max_off_nadir_deg`` off its nadir (if given), with the Sun at least
    ``sun_min_deg`` above the site's horizon (if given). Ground sample distance (``gsd_m``)
    where the shipped sensor table knows the satellite. Named satellites use the element set
    nearest ``start``. ``owners`` (SATCAT or ISO alpha-3 codes, e.g. ``["PRK", "CIS"]``) and
    ``object_types`` (``payload``, ``rocket body``, ``debris``, ``unknown``) keep only those
    satellites (from the imported SATCAT, else the sensor table).

    ``imaging``: each satellite's own sensor reach, lighting rule and resolution instead
    (``docs/sensors.md``, imaging mode); non-imagers and satellites the table does not know are
    left out (``include_unknown`` keeps the unknown ones, geometry only). ``kinds``,
    ``max_gsd_m``, ``countries``, ``operators``: sensor filters; ``max_gsd_m`` (m) also cuts
    windows to where ``resolution_m`` is that fine (``docs/sensors.md``). Windows whose peak is more
    than ``max_age_days`` from the element set's epoch, or before launch, are refused; the
    satellites left out are in the result's ``skipped``.

    :class:`~overflight.areas.Area` targets (see :func:`area_passes`) may be mixed with sites;
    their windows are :class:`~overflight.areas.AreaWindow` records (``area``,
    ``area_fraction``), in ``area_mode`` "any" or "all"; with ``imaging``, each satellite's own
    rule applies to every point of the area (:meth:`overflight.passes.PassPlan.area_windows`).

    ``client``: a ``distributed.Client`` (e.g. ``with overflight.coverage.dask_client() as
    client``) to shard the sites' window search over its workers, satellites in batches; the
    same windows as in this process (areas are computed here).
    """
    from overflight.access import Constraints, check_interval
    from overflight.areas import Area
    from overflight.geometry import Site
    from overflight.passes import plan_elements
    from overflight.results import Passes
    from overflight.sensors import load_sensors

    t0, t1 = _interval(start, end, days)
    assert t1 is not None
    check_interval(t0, t1)
    c = Constraints(min_elevation_deg=min_elevation_deg, max_off_nadir_deg=max_off_nadir_deg,
                    sun_min_deg=sun_min_deg)
    c.validate()
    items: list[Any] = (
        [sites] if isinstance(sites, Area | str) or _is_coords(sites)
        or not isinstance(sites, Sequence) else list(sites)
    )
    areas = [a for a in items if isinstance(a, Area)]
    points = [x for x in items if not isinstance(x, Area)]
    site_list = _sites(points) if points or not areas else []
    elsets = _elsets(satellites, catalog, t0, owners, object_types)
    plan = plan_elements(elsets, site_list, t0, t1, c, imaging=imaging,
                         include_unknown=include_unknown, kinds=kinds, max_gsd_m=max_gsd_m,
                         countries=countries, operators=operators, max_age_days=max_age_days)
    sensors = load_sensors()
    windows = plan.windows(sensors=sensors, client=client) if site_list else []
    for a in areas:
        # Satellites the plan refused (stale, before launch, filtered) are left out here too.
        windows += plan.area_windows(a, mode=area_mode, sensors=sensors)
        lat, lon = a.centroid
        site_list.append(Site(a.name, lat, lon))
    windows.sort(key=lambda w: (w.start, w.site, w.norad_id))
    return Passes(windows, start=t0, end=t1, constraints=c, satellites=plan.elsets,
                  sites=site_list, skipped=plan.skipped)


def area_passes(
    satellites: Satellites,
    area: str | Area,
    *,
    start: TimeLike,
    end: TimeLike | None = None,
    days: float | None = None,
    mode: str = "any",
    min_elevation_deg: float = 0.0,
    max_off_nadir_deg: float | None = None,
    sun_min_deg: float | None = None,
    catalog: Catalog | None = None,
) -> Passes:
    """Overflight windows of ``satellites`` over an area target: a shipped area's name
    (``"Najin port"``, see ``overflight areas``), a GeoJSON file or an
    :class:`~overflight.areas.Area`. ``mode`` "any": some of the area within reach; "all": all
    of it. Each window carries ``area`` and ``area_fraction`` (the share of the area within
    reach at its best moment). Constraints as in :func:`passes`; method: ``docs/areas.md``."""
    from overflight.areas import resolve_area

    return passes(satellites, resolve_area(area), start=start, end=end, days=days,
                  min_elevation_deg=min_elevation_deg, max_off_nadir_deg=max_off_nadir_deg,
                  sun_min_deg=sun_min_deg, catalog=catalog, area_mode=mode)


def _target(target: Any) -> tuple[list[Site], str | None]:
    """The sites forming one target, and its name: a site, a list of sites, or any object with
    a ``sites()`` method (an area's sample sites) and optionally a ``name``."""
    from overflight.areas import Area, sample_area

    if isinstance(target, Area):  # its sample points: a window over any part of it counts
        return sample_area(target).sites(), target.name
    sites_of = getattr(target, "sites", None)
    if callable(sites_of) and not isinstance(target, str | tuple | list):
        out = _sites(list(sites_of()))
        name = getattr(target, "name", None)
        return out, name if isinstance(name, str) else None
    out = _sites(target)
    return out, None


def exposure(
    satellites: Satellites,
    target: SiteLike | Sequence[SiteLike] | Any,
    *,
    start: TimeLike,
    end: TimeLike | None = None,
    days: float | None = None,
    imaging: bool = True,
    min_elevation_deg: float = 0.0,
    max_off_nadir_deg: float | None = None,
    sun_min_deg: float | None = None,
    catalog: Catalog | None = None,
    include_unknown: bool = False,
    kinds: Sequence[str] = (),
    max_gsd_m: float | None = None,
    countries: Sequence[str] = (),
    operators: Sequence[str] = (),
    max_age_days: float = REFUSE_AFTER_DAYS,
    name: str | None = None,
    workers: int | None = 1,
    client: Any = None,
) -> Exposure:
    """When ``target`` is watched by ``satellites`` in [start, end] (default one day), by
    whom, and when it is not: exposure intervals (the union of the windows), unobserved
    intervals (their complement, overall and per country, kind or operator) and a summary.

    ``target``: a site, a list of sites forming one target (a window over any of them counts),
    or an object with a ``sites()`` method (an area's sample sites; its ``name`` names the
    target unless ``name`` is given). ``imaging`` (default): each satellite's own sensor rule,
    non-imagers and satellites the sensor table does not know left out (``include_unknown``
    keeps the unknown ones, geometry only); ``imaging=False``: geometry only with
    ``min_elevation_deg``/``max_off_nadir_deg``/``sun_min_deg``. Filters and ``max_age_days``
    as :func:`passes`. Meaning and limits: ``docs/exposure.md``.

    ``workers``: window-search processes on this machine (1: this process; None: every core
    for large jobs). ``client``: a ``distributed.Client`` instead (e.g. ``with
    overflight.coverage.dask_client(scheduler="tcp://host:port") as client``, or no
    ``scheduler`` for a local cluster): the satellites are sharded over its workers, as by
    ``overflight exposure --scheduler``; the result is the same as in one process.
    """
    from overflight.access import Constraints, check_interval
    from overflight.exposure import exposure_of_plan
    from overflight.passes import plan_elements

    t0, t1 = _interval(start, end, days)
    assert t1 is not None
    check_interval(t0, t1)
    c = Constraints(min_elevation_deg=min_elevation_deg, max_off_nadir_deg=max_off_nadir_deg,
                    sun_min_deg=sun_min_deg)
    c.validate()
    site_list, target_name = _target(target)
    elsets = _elsets(satellites, catalog, t0)
    plan = plan_elements(elsets, site_list, t0, t1, c, imaging=imaging,
                         include_unknown=include_unknown, kinds=kinds, max_gsd_m=max_gsd_m,
                         countries=countries, operators=operators, max_age_days=max_age_days)
    return exposure_of_plan(plan, target=name or target_name, workers=workers, client=client)


def verify(
    satellite: str | int,
    target: SiteLike,
    time: TimeLike,
    *,
    catalog: Catalog | None = None,
    zone: str | None = None,
    time_end: TimeLike | None = None,
) -> Verification:
    """Could ``satellite`` have imaged ``target`` at ``time``? The verdict (``consistent``,
    ``inconsistent`` or ``cannot-verify``), its reasons and the evidence.

    ``time``: an aware datetime or ISO 8601 text; text without an offset is local time in
    ``zone`` (an IANA name such as ``Asia/Pyongyang``). ``time_end`` makes it an interval.
    Rules and evidence: ``docs/claims.md``.
    """
    from overflight.claims import claim_from_fields, verify_claim
    from overflight.results import Verification

    fields: dict[str, Any] = {"satellite": str(satellite)}
    if isinstance(target, str):
        fields["target"] = target
    else:
        s = site(target)
        fields["target"] = {"name": s.name, "lat": repr(s.lat_deg), "lon": repr(s.lon_deg),
                            "alt_m": repr(s.alt_m)}
    for key, value in (("time", time), ("time_end", time_end)):
        if value is None:
            continue
        fields[key] = value.isoformat() if isinstance(value, datetime) else value
        if isinstance(value, datetime) and value.tzinfo is None:
            raise OverflightError(f"{key}: {value.isoformat()} has no time zone; give an aware "
                                  "datetime or ISO 8601 text with Z or an offset")
    if zone is not None:
        fields["zone"] = zone
    claim = claim_from_fields(fields, source="verify()")
    with _catalog(catalog) as cat:
        return Verification(verify_claim(claim, cat))


def track(
    satellite: SatelliteLike,
    *,
    start: TimeLike,
    end: TimeLike | None = None,
    days: float | None = None,
    step_s: float = 60.0,
    max_age_days: float = REFUSE_AFTER_DAYS,
    catalog: Catalog | None = None,
) -> Track:
    """Ground track of one satellite every ``step_s`` seconds from ``start`` to ``end``
    (default: one orbital period): nadir latitude/longitude (WGS-84), altitude, speed,
    sunlight. Times more than ``max_age_days`` from the element set's epoch are refused
    (:class:`~overflight.freshness.StaleElementsError`)."""
    from overflight.results import Track, TrackPoint
    from overflight.times import datetime64_to_utc, time_grid
    from overflight.track import track_rows

    if not step_s > 0:
        raise OverflightError(f"step_s must be positive, got {step_s}")
    t0, t1 = _interval(start, end, days, default_days=None)
    es = _one(satellite, catalog, t0)
    if t1 is None:
        t1 = t0 + timedelta(minutes=es.period_min)
    grid = time_grid(t0, t1, step_s, max_points=200_000)
    points = [
        TrackPoint(time=datetime64_to_utc(t), lat_deg=r["lat_deg"], lon_deg=r["lon_deg"],
                   alt_km=r["alt_km"], speed_km_s=r["speed_km_s"], sunlit=r["sunlit"],
                   error=r["error"])
        for t, r in zip(grid, track_rows(es, grid, max_age_days=max_age_days), strict=True)
    ]
    return Track(points, satellite=es, step_s=step_s)


def _histories(
    satellite_or_elsets: Satellites | None,
    group: str | None,
    catalog: Catalog | None,
    start: TimeLike | None,
    end: TimeLike | None,
) -> tuple[Mapping[int, list[ElementSet]], dict[int, str]]:
    """Histories (NORAD id -> sets by epoch) and the SATCAT object types known for them.

    Element sets are the history itself; with ``catalog`` given, the stored history of their
    objects is added (so ``cat.select(...)``, one set per object, is a natural call); without
    one, an object with one set is answered ``not-enough-history``."""
    from overflight.history import group_histories
    from overflight.selection import SelectionError

    t0 = None if start is None else _time(start, "start")
    t1 = None if end is None else _time(end, "end")
    elsets, refs = ([], []) if satellite_or_elsets is None else _split(satellite_or_elsets)
    records = [es for es in elsets
               if (t0 is None or es.epoch >= t0) and (t1 is None or es.epoch <= t1)]
    given_ids = sorted({es.norad_id for es in elsets})
    types: dict[int, str] = {}
    if refs or group or (elsets and catalog is not None):
        with _catalog(catalog) as cat:
            ids = [o.norad_id for o in cat.resolve_many(refs)] if refs else []
            if catalog is not None:
                ids += given_ids
            if ids:
                for hist in cat.history_many(norad_ids=ids, start=t0, end=t1).values():
                    records += hist
            if group:
                known = {g.name for g in cat.groups()}
                if group not in known:
                    raise SelectionError(f"unknown group {group!r} in {cat.description}; "
                                         "groups: " + ", ".join(sorted(known)))
                for hist in cat.history_many(group=group, start=t0, end=t1).values():
                    records += hist
            types = {nid: rec.object_type
                     for nid, rec in cat.satcat({r.norad_id for r in records}).items()}
    if not records:
        raise OverflightError("no element sets: give satellites (ids, names or element sets) "
                              "or a group" + (" with epochs in [start, end]" if t0 or t1 else ""))
    return group_histories(records), types


def history(
    satellite_or_elsets: Satellites | None = None,
    *,
    group: str | None = None,
    catalog: Catalog | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
) -> History:
    """Orbit history: the mean orbit (perigee, apogee, inclination, ...) of every element set,
    and the maneuvers found in it (``.maneuvers``).

    ``satellite_or_elsets``: NORAD ids or names, whose stored history is read from ``catalog``;
    element sets are taken as the history itself (e.g. read from a history file), with the
    stored history of their objects added when ``catalog`` is given (without one, an object
    with a single set is ``not-enough-history``). ``group``: every member of a catalog group.
    ``start``/``end`` keep epochs in that interval.
    """
    from overflight.history import OrbitTable
    from overflight.maneuvers import detect_maneuvers
    from overflight.results import History, Maneuvers

    hist, types = _histories(satellite_or_elsets, group, catalog, start, end)
    table = OrbitTable.from_histories(hist)
    return History(table.states(), Maneuvers(detect_maneuvers(table, object_types=types)))


def maneuvers(
    satellite_or_elsets: Satellites | None = None,
    *,
    group: str | None = None,
    catalog: Catalog | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
) -> Maneuvers:
    """Maneuvers detected in element-set histories (arguments as for :func:`history`):
    bracketing epochs, estimated time and the sub-satellite point then, changes of orbit and
    the smallest delta-v (m/s). Changes of debris and rocket bodies are listed but marked
    (``is_maneuver`` False)."""
    from overflight.maneuvers import detect_maneuvers
    from overflight.results import Maneuvers

    hist, types = _histories(satellite_or_elsets, group, catalog, start, end)
    return Maneuvers(detect_maneuvers(hist, object_types=types))


def coverage(
    satellites: Satellites,
    region: str | Region,
    *,
    start: TimeLike,
    end: TimeLike | None = None,
    days: float | None = None,
    grid_km: float = 10.0,
    min_elevation_deg: float | None = None,
    max_off_nadir_deg: float | None = _COVERAGE_OFF_NADIR_DEG,
    sun_min_deg: float | None = None,
    max_gsd_m: float | None = None,
    max_altitude_km: float | None = None,
    catalog: Catalog | None = None,
    owners: Sequence[str] | None = None,
    object_types: Sequence[str] | None = None,
    imaging: bool = False,
    include_unknown: bool = False,
    kinds: Sequence[str] = (),
    countries: Sequence[str] = (),
    operators: Sequence[str] = (),
    max_age_days: float | None = None,
    client: Any = None,
) -> Coverage:
    """How often ``satellites`` can see ``region`` (a shipped region's name, a box
    ``"S,W,N,E"``, a GeoJSON file or a :class:`~overflight.regions.Region`) in [start, end]
    (default one day): per point of a ``grid_km`` grid, the maximum gap, revisit times, time
    to first access and coverage fraction.

    Access means at most ``max_off_nadir_deg`` off nadir (default 30°; None to drop it),
    at least ``min_elevation_deg`` above the horizon and the Sun at least ``sun_min_deg`` up,
    where given. ``max_gsd_m`` counts only the parts of windows that fine, as :func:`passes`
    cuts them (satellites without a sensor entry
    then count for nothing). ``max_altitude_km`` leaves out satellites whose apogee is higher
    (a geostationary imager sees a region all day). ``owners``/``object_types`` as in
    :func:`passes`. As in :func:`passes`, windows more than ``max_age_days`` (default 14) from
    the element set's epoch or before launch are refused; where that leaves out part of the
    interval the result says its figures there are not established (``summary()
    ["incomplete_s"]``, ``incomplete_from``).

    ``imaging``: each satellite only where its own sensor can image — its reach, lighting
    rule, a radar's incidence band and look side — with its own resolution (``docs/coverage.md``,
    imaging); the 30° default then does not apply (a ``max_off_nadir_deg`` given caps every
    reach). Non-imagers and satellites the sensor table does not know are left out
    (``include_unknown`` keeps the unknown ones); ``kinds``, ``countries``, ``operators`` and
    ``max_gsd_m`` filter by sensor. Who was left out, and why, is in the result's ``skipped``.

    ``client``: a ``distributed.Client`` (e.g. ``with overflight.coverage.dask_client() as
    client``, or ``scheduler="tcp://host:port"``): the shards run on its workers, as by
    ``overflight coverage --scheduler``; the result is the same as in one process.
    """
    from overflight.access import Constraints, check_interval
    from overflight.coverage import coverage as run_coverage
    from overflight.regions import grid, resolve_region
    from overflight.results import Coverage
    from overflight.sensors import load_sensors

    t0, t1 = _interval(start, end, days)
    assert t1 is not None
    check_interval(t0, t1)
    if isinstance(max_off_nadir_deg, _DefaultReach):
        max_off_nadir_deg = None if imaging else float(max_off_nadir_deg)
    c = Constraints(min_elevation_deg=min_elevation_deg, max_off_nadir_deg=max_off_nadir_deg,
                    sun_min_deg=sun_min_deg)
    c.validate()
    reg = resolve_region(region) if isinstance(region, str) else region
    g = grid(reg, grid_km)
    elsets = _elsets(satellites, catalog, t0, owners, object_types)
    if max_altitude_km is not None:
        elsets = [e for e in elsets if e.apogee_alt_km <= max_altitude_km]
        if not elsets:
            raise OverflightError(f"no satellite has its apogee below max_altitude_km = "
                                  f"{max_altitude_km:g}")
    result = run_coverage(elsets, g.sites(), t0, t1, c, max_gsd_m=max_gsd_m,
                          sensors=None if imaging else load_sensors(), imaging=imaging,
                          include_unknown=include_unknown, kinds=kinds, countries=countries,
                          operators=operators, max_age_days=max_age_days, client=client)
    return Coverage(result, g)
