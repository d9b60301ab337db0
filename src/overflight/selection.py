"""Turn a user's satellite selection (ids/names, groups, element-set files) into element sets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from overflight.elements import ElementSet

__all__ = ["SelectionError", "select_elements"]


class SelectionError(ValueError):
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
    from overflight.formats import read_path

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
                ids = [o.norad_id for o in cat.resolve_many(sats)]
                chosen: list[ElementSet] = []
                if ids:
                    chosen += _latest(cat, ids, as_of)
                for g in groups:
                    known = {gi.name for gi in cat.groups()}
                    if g not in known:
                        raise SelectionError(
                            f"unknown group {g!r} in {cat.description}; groups: "
                            + ", ".join(sorted(known))
                        )
                    chosen += cat.latest(group=g)
        except CatalogError as exc:
            raise SelectionError(str(exc)) from None
        for es in chosen:
            out.setdefault(es.norad_id, es)
    if not out:
        raise SelectionError("no satellites selected: give --sat, --group or --tle")
    return list(out.values())


def _latest(cat: object, ids: list[int], as_of: datetime | None) -> list[ElementSet]:
    """Per object: the element set nearest ``as_of`` (before or after), else the newest."""
    from overflight.catalog import Catalog

    assert isinstance(cat, Catalog)
    found = {e.norad_id: e for e in cat.latest(norad_ids=ids)}
    if as_of is not None:
        for nid in ids:
            before, after = cat.bracket(nid, as_of)
            near = [e for e in (before, after) if e is not None]
            if near:
                found[nid] = min(near, key=lambda e: abs((e.epoch - as_of).total_seconds()))
    return [found[i] for i in ids if i in found]
