"""A passes request resolved once for every frontend (``overflight passes``/``watch``, the
service's ``/api/passes``, ``/api/watch`` and passes jobs): constraints, interval, sites,
satellite selection and element-set staleness checked in one order with one set of messages;
windows in one display order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from overflight.errors import OverflightError
from overflight.freshness import STALE_AFTER_DAYS, StaleReport, stale_elements

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from overflight.access import Constraints, Window, WindowTable
    from overflight.catalog import Catalog
    from overflight.elements import ElementSet
    from overflight.geometry import Site

__all__ = [
    "WATCH_GROUP",
    "WATCH_MAX_OFF_NADIR_DEG",
    "WINDOW_DISPLAY_COLUMNS",
    "PassPlan",
    "PassesError",
    "checked_constraints",
    "plan_passes",
    "span_text",
    "window_display_row",
]

WATCH_GROUP = "resource"
"""The group an overflight-warning timeline (``watch``) uses when no satellite is selected."""
WATCH_MAX_OFF_NADIR_DEG = 45.0
"""The off-nadir limit of an overflight-warning timeline unless one is given, degrees."""


class PassesError(OverflightError):
    """A passes request that cannot be computed (no sites, too many sites)."""


def checked_constraints(
    *,
    min_elevation_deg: float | None = None,
    max_off_nadir_deg: float | None = None,
    max_range_km: float | None = None,
    sun_min_deg: float | None = None,
    sun_max_deg: float | None = None,
    sunlit: bool | None = None,
    min_duration_s: float = 0.0,
) -> Constraints:
    """Checked window constraints (AccessError for impossible ones)."""
    from overflight.access import Constraints

    c = Constraints(min_elevation_deg=min_elevation_deg, max_off_nadir_deg=max_off_nadir_deg,
                    max_range_km=max_range_km, sun_min_deg=sun_min_deg,
                    sun_max_deg=sun_max_deg, sunlit=sunlit, min_duration_s=min_duration_s)
    c.validate()
    return c


@dataclass(frozen=True)
class PassPlan:
    """A checked passes request: what will be computed, and what to warn about."""

    elsets: list[ElementSet]
    sites: list[Site]
    start: datetime
    end: datetime
    constraints: Constraints
    stale: StaleReport
    problems: tuple[str, ...] = ()

    @property
    def days(self) -> float:
        """Length of the interval, days."""
        return (self.end - self.start).total_seconds() / 86400.0

    @property
    def work(self) -> float:
        """Satellites × sites × days: what the request costs."""
        return len(self.elsets) * len(self.sites) * self.days

    def key(self) -> tuple[Any, ...]:
        """Identifies the request's content (element sets by content, sites by position)."""
        return (
            tuple(e.key for e in self.elsets),
            tuple((s.name, s.lat_deg, s.lon_deg, s.alt_m) for s in self.sites),
            self.start, self.end, self.constraints,
        )

    def warnings(self, how: str | None = None) -> list[str]:
        """Warning lines: rejected file records, then stale element sets (``how``: the
        frontend's hint for importing fresh data)."""
        return [*self.problems, *([self.stale.message(how)] if self.stale else [])]

    def tables(self, *, batch_size: int = 512, workers: int | None = 1,
               progress: Callable[[int, int], None] | None = None) -> Any:
        """The windows as :class:`~overflight.access.WindowTable` parts, one per batch."""
        from overflight.access import iter_window_tables

        return iter_window_tables(self.elsets, self.sites, self.start, self.end,
                                  self.constraints, batch_size=batch_size, workers=workers,
                                  progress=progress)

    def display_order(self, table: WindowTable) -> npt.NDArray[np.int64]:
        """Row order of ``table`` for display: by start, then site name, then NORAD id."""
        import numpy as np

        names = np.array([s.name for s in self.sites], dtype=str)
        site_rank = np.unique(names, return_inverse=True)[1].reshape(-1)
        sat_rank = np.array([e.norad_id for e in self.elsets], dtype=np.int64)
        order: npt.NDArray[np.int64] = np.lexsort(
            (sat_rank[table.sat_index], site_rank[table.site_index], table.start))
        return order

    def to_windows(self, table: WindowTable, *,
                   sensors: dict[int, Any] | None = None) -> list[Window]:
        """:class:`~overflight.access.Window` objects of ``table``'s rows, in their order."""
        from overflight.access import table_to_windows

        return list(table_to_windows(table, self.elsets, self.sites, sensors=sensors))

    def windows(self, *, sensors: dict[int, Any] | None = None, batch_size: int = 512,
                workers: int | None = 1,
                progress: Callable[[int, int], None] | None = None) -> list[Window]:
        """Every window in display order (GSD where ``sensors`` knows the satellite)."""
        from overflight.access import WindowTable

        table = WindowTable.concat(list(self.tables(batch_size=batch_size, workers=workers,
                                                    progress=progress)))
        return self.to_windows(table.take(self.display_order(table)), sensors=sensors)


def plan_passes(
    *,
    sats: Sequence[str] = (),
    groups: Sequence[str] = (),
    files: Sequence[str | Path] = (),
    sites: Sequence[str] = (),
    site_files: Sequence[str | Path] = (),
    all_sites: bool = False,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    days: float | None = None,
    constraints: Constraints | None = None,
    default_groups: Sequence[str] = (),
    db: str | Path | None = None,
    catalog: Catalog | None = None,
    max_sites: int | None = None,
    max_age_days: float = STALE_AFTER_DAYS,
    owners: Sequence[str] | None = None,
    object_types: Sequence[str] | None = None,
) -> PassPlan:
    """Check a passes request and resolve what to compute.

    ``sats``/``groups``/``files``/``default_groups``/``db``/``catalog`` as in
    :func:`overflight.selection.select_elements`; ``sites`` named sites or ``LAT,LON[,ALT_M]``,
    ``site_files`` sites files, ``all_sites`` every shipped named site (duplicates dropped);
    ``start``/``end``/``days`` as in :func:`overflight.times.resolve_interval`. Element sets
    more than ``max_age_days`` from the interval are reported in ``stale``. ``owners``/
    ``object_types`` narrow the selection (:func:`overflight.selection.filter_elements`).
    """
    from overflight.access import Constraints
    from overflight.selection import select_elements
    from overflight.sites import resolve_sites
    from overflight.times import resolve_interval

    c = constraints or Constraints()
    c.validate()
    t0, t1 = resolve_interval(start, end, days)
    site_list = resolve_sites(sites, site_files, all_named=all_sites)
    if not site_list:
        raise PassesError("sites: give at least one site (a named site or LAT,LON), "
                          "site_files or all_sites")
    if max_sites is not None and len(site_list) > max_sites:
        raise PassesError(f"sites: {len(site_list)} sites; at most {max_sites} per request")
    problems: list[str] = []
    elsets = select_elements(sats, groups, files, db=db, catalog=catalog, as_of=t0,
                             default_groups=default_groups, warnings=problems,
                             owners=owners, object_types=object_types)
    stale = stale_elements(elsets, t0, t1, max_age_days=max_age_days)
    return PassPlan(elsets, site_list, t0, t1, c, stale, tuple(problems))


def span_text(start: datetime, end: datetime) -> str:
    """``2026-05-31 00:00Z → 2026-06-01 00:00Z`` for titles."""
    return f"{start:%Y-%m-%d %H:%M}Z → {end:%Y-%m-%d %H:%M}Z"


WINDOW_DISPLAY_COLUMNS = ["satellite", "site", "start", "peak", "end", "max el°", "off-nadir°",
                          "range km", "sun°", "lit", "dir", "gsd m"]
"""The keys of :func:`window_display_row`, in table order."""


def window_display_row(w: Window) -> dict[str, str]:
    """A window as people read it in a table (rounded, short times; UTC)."""
    return {
        "satellite": f"{w.name} ({w.norad_id})",
        "site": w.site,
        "start": w.start.strftime("%m-%d %H:%M:%S"),
        "peak": w.peak.strftime("%H:%M:%S"),
        "end": w.end.strftime("%H:%M:%S"),
        "max el°": f"{w.max_elevation_deg:.1f}",
        "off-nadir°": f"{w.min_off_nadir_deg:.1f}",
        "range km": f"{w.min_range_km:.0f}",
        "sun°": f"{w.sun_elevation_deg:.0f}",
        "lit": "yes" if w.satellite_sunlit else "no",
        "dir": w.direction[:3],
        "gsd m": "" if w.gsd_m is None else f"{w.gsd_m:.2f}",
    }
