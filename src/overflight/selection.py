"""Turn a user's satellite selection (ids/names, groups, element-set files, an open catalog)
into element sets: the one place the CLI and the service both use.

``owners`` (SATCAT owner codes such as ``US``, ``CIS``, ``PRC``, ``NKOR``, or ISO 3166-1 alpha-3
codes such as ``PRK``; mapped both ways by ``data/owner_codes.yaml``) and ``object_types``
(``payload``, ``rocket body``, ``debris``, ``unknown``) narrow any selection: from the imported
SATCAT where the catalog has an entry, else from the sensor table (``country``; a satellite in
it is a payload), else the owner is unknown and the type ``unknown`` (see :func:`filter_elements`).

Errors name the arguments (``sats``, ``groups``, ``files``); unknown groups raise
:class:`GroupNotFound` and empty selections :class:`NoElementSets` (the service answers both
with 404).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from overflight.elements import ElementSet
from overflight.errors import OverflightError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from overflight.catalog import Catalog
    from overflight.catalog.core import CatalogObject
    from overflight.freshness import Skipped
    from overflight.sensors import Sensor

__all__ = [
    "GroupNotFound",
    "NoElementSets",
    "SelectionError",
    "check_groups",
    "filter_by_sensor",
    "filter_elements",
    "satellite_note",
    "select_elements",
    "select_from_catalog",
    "select_histories",
]


class SelectionError(OverflightError):
    """Nothing or something unknown selected (one-line message)."""


class GroupNotFound(SelectionError, LookupError):
    """A group that the catalog does not have."""


class NoElementSets(SelectionError, LookupError):
    """The selection is valid but holds no element sets (within the interval asked for)."""


@contextmanager
def _open(catalog: Catalog | None, db: str | Path | None) -> Iterator[Catalog]:
    """``catalog`` itself (left open), or the catalog at ``db`` opened for the block."""
    from overflight.catalog import Catalog

    with nullcontext(catalog) if catalog is not None else Catalog.open(db) as cat:
        yield cat


def check_groups(cat: Catalog, groups: Sequence[str]) -> None:
    """Raise GroupNotFound (listing the known groups) unless ``cat`` has every group."""
    if not groups:
        return
    known = cat.group_names()
    for g in groups:
        if g not in known:
            listing = ", ".join(known) if known else "none"
            raise GroupNotFound(f"unknown group {g!r} in {cat.description} (groups: {listing})")


def select_elements(
    sats: Sequence[str] = (),
    groups: Sequence[str] = (),
    files: Sequence[str | Path] = (),
    *,
    db: str | Path | None = None,
    catalog: Catalog | None = None,
    as_of: datetime | None = None,
    default_groups: Sequence[str] = (),
    warnings: list[str] | None = None,
    owners: Sequence[str] | None = None,
    object_types: Sequence[str] | None = None,
) -> list[ElementSet]:
    """Element sets of the selected satellites (each the newest, or the nearest ``as_of``), one
    per object, in selection order.

    ``sats``: NORAD ids, Alpha-5 ids or names (see ``Catalog.resolve``); ``groups``: catalog
    groups; ``files``: TLE/OMM files (their invalid records are reported in ``warnings``).
    ``catalog``: an open catalog to use (else the one at ``db`` is opened when needed).
    ``as_of``: for catalog satellites (``sats`` and ``groups``), the element set nearest that
    time (see :func:`select_from_catalog`).
    ``default_groups``: the groups used when nothing else is selected. ``owners`` and
    ``object_types``: keep only those objects (:func:`filter_elements`).
    """
    from overflight.catalog.formats import read_path

    if not (sats or groups or files):
        groups = default_groups
    if not (sats or groups or files):
        raise SelectionError("no satellites selected: give sats, groups or files")
    out: dict[int, ElementSet] = {}
    for f in files:
        result = read_path(f)
        if warnings is not None:
            warnings.extend(str(e) for e in result.errors)
        if not result.records:
            first = f"; first problem: {result.errors[0]}" if result.errors else ""
            raise SelectionError(f"{Path(f).name}: no valid element sets{first}")
        for es in result.records:
            if es.norad_id not in out or es.epoch > out[es.norad_id].epoch:
                out[es.norad_id] = es
    if sats or groups:
        with _open(catalog, db) as cat:
            chosen = select_from_catalog(cat, sats, groups, as_of=as_of, notes=warnings)
        for es in chosen:
            out.setdefault(es.norad_id, es)
    if not out:
        raise NoElementSets("the selection holds no element sets")
    if owners or object_types:
        with _open(catalog, db) as cat:
            return filter_elements(list(out.values()), cat, owners=owners,
                                   object_types=object_types)
    return list(out.values())


PREFILTER_ALT_MARGIN_KM = 25.0
"""Taken off a satellite's mean perigee altitude (km) before the ``max_gsd_m`` prefilter, so
that it never leaves out a satellite the cut would keep: SGP4's osculating radius swings a few
km about the mean orbit (J2), sites stand up to 9 km above the ellipsoid, and drag lowers a low
orbit by a few km over the 14 days an element set is used (the WGS-84 surface is never farther
from the centre than the equatorial radius the altitude is measured from)."""


def filter_by_sensor(
    elsets: Sequence[ElementSet],
    table: Mapping[int, Sensor],
    *,
    kinds: Sequence[str] = (),
    max_gsd_m: float | None = None,
    countries: Sequence[str] = (),
    operators: Sequence[str] = (),
) -> tuple[list[ElementSet], list[Skipped]]:
    """The element sets whose sensor entry matches every filter given, and the others.

    ``kinds``: the entry's kind (``optical``, ``sar``…); ``max_gsd_m``: the best resolution the
    satellite can achieve from its orbit at most this, m (:meth:`Sensor.best_resolution_m`
    from its mean perigee altitude less :data:`PREFILTER_ALT_MARGIN_KM`); ``countries``: ISO
    alpha-3 codes (a joint mission matches each of its countries); ``operators``: text found
    in the operator's name (case-insensitive). With no filter everything is kept; with any,
    satellites without an imaging entry are left out.
    """
    from overflight.freshness import Skipped
    from overflight.sensors import check_filters, sensor_matches

    check_filters(kinds, max_gsd_m)
    if not (kinds or countries or operators or max_gsd_m is not None):
        return list(elsets), []
    kept: list[ElementSet] = []
    dropped: list[Skipped] = []
    for e in elsets:
        s = table.get(e.norad_id)
        why = ("no sensor entry" if s is None else
               sensor_matches(s, kinds=kinds, max_gsd_m=max_gsd_m, countries=countries,
                              operators=operators,
                              altitude_km=e.perigee_alt_km - PREFILTER_ALT_MARGIN_KM))
        if why:
            dropped.append(Skipped(e.norad_id, e.name, f"filtered out: {why}"))
        else:
            kept.append(e)
    return kept, dropped


def _wanted_types(object_types: Sequence[str]) -> set[str]:
    from overflight.catalog.satcat import OBJECT_TYPES, normalize_object_type

    wanted = set()
    for t in object_types:
        norm = normalize_object_type(t)
        if norm is None:
            raise SelectionError(f"object_types: {t!r} is not an object type "
                                 f"({', '.join(OBJECT_TYPES)})")
        wanted.add(norm)
    return wanted


def object_owner_type(cat: Catalog, norad_ids: Sequence[int]
                      ) -> dict[int, tuple[frozenset[str], str]]:
    """Owner codes and object type of each object: from the catalog's SATCAT entry, else the
    sensor table (its ``country`` codes and their SATCAT codes; a payload), else no owner and
    ``unknown``."""
    from overflight.catalog.satcat import owner_aliases
    from overflight.sensors import load_table

    satcat = cat.satcat(norad_ids)
    sensors = load_table()
    out: dict[int, tuple[frozenset[str], str]] = {}
    for nid in norad_ids:
        entry = satcat.get(nid)
        if entry is not None:
            out[nid] = (owner_aliases(entry.owner) if entry.owner else frozenset(),
                        entry.object_type)
        elif nid in sensors and sensors[nid].country:
            codes: set[str] = set()
            for c in sensors[nid].country.split("/"):
                codes |= owner_aliases(c)
            out[nid] = (frozenset(codes), "payload")
        else:
            out[nid] = (frozenset(), "payload" if nid in sensors else "unknown")
    return out


def filter_elements(
    elsets: Sequence[ElementSet],
    cat: Catalog,
    *,
    owners: Sequence[str] | None = None,
    object_types: Sequence[str] | None = None,
) -> list[ElementSet]:
    """The element sets whose object has one of ``owners`` (SATCAT or ISO alpha-3 codes, any
    case; a comma-separated item counts as several) and one of ``object_types``; None or
    empty: no condition. Raises SelectionError for an unknown object type and NoElementSets
    when nothing is left."""
    want_owner: set[str] = set()
    for item in owners or ():
        want_owner.update(c.strip().upper() for c in item.split(",") if c.strip())
    want_type = _wanted_types([t for item in object_types or () for t in item.split(",")
                               if t.strip()])
    if not (want_owner or want_type):
        return list(elsets)
    meta = object_owner_type(cat, [es.norad_id for es in elsets])
    kept = [
        es for es in elsets
        if (not want_owner or meta[es.norad_id][0] & want_owner)
        and (not want_type or meta[es.norad_id][1] in want_type)
    ]
    if not kept:
        parts = []
        if want_owner:
            parts.append(f"owners={','.join(sorted(want_owner))}")
        if want_type:
            parts.append(f"object_types={','.join(sorted(want_type))}")
        raise NoElementSets(f"no selected satellite matches {' and '.join(parts)} "
                            f"({len(elsets)} selected; owner and type come from the imported "
                            "SATCAT, else the sensor table)")
    return kept


def satellite_note(ref: str | int, obj: CatalogObject, how: str) -> str | None:
    """One line telling what a satellite reference was taken as when it matched only part of
    a name or a former name (``how`` from :meth:`Catalog.resolve_how`), else None."""
    if how == "name containing":
        why = "the one satellite whose name contains it"
    elif how == "former name":
        why = "which bore that name before"
    else:
        return None
    return f'"{ref}" is taken as {obj.name} ({obj.norad_id}), {why}'


def select_from_catalog(
    cat: Catalog, sats: Sequence[str] = (), groups: Sequence[str] = (), *,
    as_of: datetime | None = None, notes: list[str] | None = None,
) -> list[ElementSet]:
    """Element sets from an open catalog, one per object, in selection order (``notes``:
    where given, gets a :func:`satellite_note` per reference matched by part of a name).

    Every object gets its element set nearest ``as_of`` (:meth:`Catalog.nearest`: before or
    after, so a past request uses the history stored around it; the newest when ``as_of`` is
    None or the catalog holds one set of the object). Unknown satellites raise the catalog's
    own errors (``SatelliteNotFound``, ``AmbiguousSatellite``); unknown groups GroupNotFound.
    """
    check_groups(cat, groups)
    resolved = [(ref, *cat.resolve_how(ref)) for ref in sats]
    ids = list(dict.fromkeys(obj.norad_id for _, obj, _ in resolved))  # order kept, once each
    if notes is not None:
        notes += [n for ref, obj, how in resolved
                  if (n := satellite_note(ref, obj, how)) is not None]

    def pick(**where: Any) -> list[ElementSet]:
        return cat.latest(**where) if as_of is None else cat.nearest(as_of, **where)

    found = {e.norad_id: e for e in pick(norad_ids=ids)} if ids else {}
    chosen = [found[i] for i in ids if i in found]
    for g in groups:
        chosen += pick(group=g)
    out: dict[int, ElementSet] = {}
    for es in chosen:
        out.setdefault(es.norad_id, es)
    return list(out.values())


def select_histories(
    sats: Sequence[str] = (),
    groups: Sequence[str] = (),
    *,
    extra: Sequence[ElementSet] | None = None,
    db: str | Path | None = None,
    catalog: Catalog | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    max_sets: int | None = None,
    owners: Sequence[str] | None = None,
    object_types: Sequence[str] | None = None,
) -> dict[int, list[ElementSet]]:
    """Stored element-set histories (NORAD id → sets by epoch, same-epoch re-publications
    merged) of ``sats`` and ``groups`` with epochs within [start, end], plus ``extra`` records
    (e.g. read from files; None: no files given).

    Raises SelectionError when nothing is selected or more than ``max_sets`` element sets
    would be loaded, NoElementSets when the selection holds none. ``owners``/``object_types``
    keep only those objects (:func:`filter_elements`).
    """
    from overflight.history import group_histories

    if not (sats or groups or extra is not None):
        raise SelectionError("no satellites selected: give sats or groups")
    records: list[ElementSet] = list(extra or ())
    too_many = SelectionError(f"more than {max_sets or 0:,} element sets; give start and end, "
                              "or fewer sats or groups")
    if sats or groups:
        with _open(catalog, db) as cat:
            check_groups(cat, groups)
            if sats:
                ids = [o.norad_id for o in cat.resolve_many(sats)]
                for hist in cat.history_many(norad_ids=ids, start=start, end=end).values():
                    records.extend(hist)
            for g in groups:
                if max_sets is not None and len(records) > max_sets:
                    raise too_many
                for hist in cat.history_many(group=g, start=start, end=end).values():
                    records.extend(hist)
    if max_sets is not None and len(records) > max_sets:
        raise too_many
    if not records:
        interval = " and interval" if start or end else ""
        raise NoElementSets(f"no element sets in the selected history{interval}")
    if owners or object_types:
        with _open(catalog, db) as cat:
            keep = {es.norad_id for es in filter_elements(
                list({r.norad_id: r for r in records}.values()), cat, owners=owners,
                object_types=object_types)}
        records = [r for r in records if r.norad_id in keep]
    return group_histories(records)
