"""Turn a user's satellite selection (ids/names, groups, element-set files) into element sets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from overflight.elements import ElementSet
from overflight.errors import OverflightError

if TYPE_CHECKING:
    from overflight.catalog import Catalog

__all__ = ["SelectionError", "select_elements", "select_from_catalog"]


class SelectionError(OverflightError):
    """Nothing or something unknown selected (one-line message)."""


def select_elements(
    sats: Sequence[str] = (),
    groups: Sequence[str] = (),
    files: Sequence[str | Path] = (),
    *,
    db: str | Path | None = None,
    as_of: datetime | None = None,
    warnings: list[str] | None = None,
) -> list[ElementSet]:
    """Latest element sets of the selected satellites, one per object, in selection order.

    ``sats``: NORAD ids, Alpha-5 ids or names (see ``Catalog.resolve``); ``groups``: catalog
    groups; ``files``: TLE/OMM files (their invalid records are reported in ``warnings``).
    ``as_of``: for satellites named in ``sats``, the element set nearest that time.
    """
    from overflight.catalog import Catalog, CatalogError
    from overflight.catalog.formats import read_path

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
        try:
            with Catalog.open(db) as cat:
                chosen = select_from_catalog(cat, sats, groups, as_of=as_of)
        except CatalogError as exc:
            raise SelectionError(str(exc)) from None
        for es in chosen:
            out.setdefault(es.norad_id, es)
    if not out:
        raise SelectionError("no satellites selected: give --sat, --group or --tle")
    return list(out.values())


def select_from_catalog(
    cat: Catalog, sats: Sequence[str] = (), groups: Sequence[str] = (), *,
    as_of: datetime | None = None,
) -> list[ElementSet]:
    """Element sets from an open catalog, one per object, in selection order.

    Named satellites get the element set nearest ``as_of`` (before or after; the newest when
    ``as_of`` is None); groups get each member's newest. Unknown satellites raise the catalog's
    own errors (``SatelliteNotFound``, ``AmbiguousSatellite``); unknown groups SelectionError.
    """
    ids = [o.norad_id for o in cat.resolve_many(sats)]
    found = {e.norad_id: e for e in cat.latest(norad_ids=ids)} if ids else {}
    if as_of is not None:
        for nid in ids:
            near = [e for e in cat.bracket(nid, as_of) if e is not None]
            if near:
                found[nid] = min(near, key=lambda e: abs((e.epoch - as_of).total_seconds()))
    chosen = [found[i] for i in ids if i in found]
    known = {gi.name for gi in cat.groups()} if groups else set()
    for g in groups:
        if g not in known:
            raise SelectionError(
                f"unknown group {g!r} in {cat.description}; groups: " + ", ".join(sorted(known))
            )
        chosen += cat.latest(group=g)
    out: dict[int, ElementSet] = {}
    for es in chosen:
        out.setdefault(es.norad_id, es)
    return list(out.values())
