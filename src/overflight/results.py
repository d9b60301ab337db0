"""Result types of the public API (``overflight.api``): typed records with notebook conveniences.

Every result is a sequence of typed records (``len``, iteration, indexing) with ``to_dict()`` /
``to_json()``, ``to_pandas()`` (tz-aware UTC timestamps, unit-suffixed columns), ``to_arrow()``
for the tabular ones and ``_repr_html_`` (a compact table: the first rows and the count) for
Jupyter. pandas and pyarrow (the ``data`` extra) are imported only when asked for.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from overflight.access import Constraints, Window
    from overflight.claims import ClaimResult
    from overflight.coverage import CoverageResult
    from overflight.elements import ElementSet
    from overflight.freshness import Skipped, StaleReport
    from overflight.geometry import Site
    from overflight.history import OrbitState
    from overflight.maneuvers import DataGap, DetectionResult, HistoryStatus, Maneuver, Status
    from overflight.regions import Grid

__all__ = [
    "Coverage",
    "CoveragePoint",
    "History",
    "Maneuvers",
    "Passes",
    "Track",
    "TrackPoint",
    "Verification",
]

HTML_ROWS = 10  # rows shown by _repr_html_

R = TypeVar("R")


def _iso(t: datetime) -> str:
    from overflight.times import format_utc

    return format_utc(t, decimals=3)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1e6 else f"{value:.6g}"
    return str(value)


class _Table(Generic[R]):
    """Records plus one flat row (dict of plain values, aware UTC datetimes) per record."""

    _kind = "result"
    _time_columns: tuple[str, ...] = ()
    _html_columns: tuple[str, ...] = ()  # empty: every column

    def __init__(self, records: Sequence[R]) -> None:
        self._records = list(records)

    # ---- sequence --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[R]:
        return iter(self._records)

    def __getitem__(self, i: int) -> R:
        return self._records[i]

    @property
    def records(self) -> list[R]:
        """The typed records (a copy of the list)."""
        return list(self._records)

    # ---- rows ------------------------------------------------------------------------------
    def _row(self, rec: R) -> dict[str, Any]:
        raise NotImplementedError

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per record: plain values, times as aware UTC datetimes."""
        return [self._row(r) for r in self._records]

    def columns(self) -> list[str]:
        """Column names of :meth:`rows` / :meth:`to_pandas`, units in the names."""
        return self._columns()

    def _columns(self) -> list[str]:
        raise NotImplementedError

    def _meta(self) -> dict[str, Any]:
        return {}

    # ---- exports ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what was asked (``meta``), ``count`` and ``rows`` (times ISO 8601 Z)."""
        return {"kind": self._kind, **_jsonable(self._meta()), "count": len(self),
                "rows": [_jsonable(r) for r in self.rows()]}

    def to_json(self, *, indent: int | None = None) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame``: one row per record, times ``datetime64[ns, UTC]``."""
        import pandas as pd

        df = pd.DataFrame(self.rows(), columns=self._columns())
        for col in self._time_columns:
            df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[ns, UTC]")
        return df

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` (timestamps ``timestamp[ns, tz=UTC]``)."""
        import pyarrow as pa

        return pa.Table.from_pandas(self.to_pandas(), preserve_index=False)

    # ---- notebooks -------------------------------------------------------------------------
    def _caption(self) -> str:
        return f"{len(self)} {self._kind}"

    def _repr_html_(self) -> str:
        cols = list(self._html_columns) or self._columns()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(row.get(c)))}</td>" for c in cols) + "</tr>"
            for row in (self._row(r) for r in self._records[:HTML_ROWS])
        )
        more = len(self) - HTML_ROWS
        foot = (f"<p><small>… and {more} more; <code>.to_pandas()</code> for all</small></p>"
                if more > 0 else "")
        return (f"<div><p><b>{html.escape(self._caption())}</b></p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}</div>")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._caption()}>"


# ---- passes -----------------------------------------------------------------------------------
_WINDOW_TIMES = ("start", "peak", "end")


class Passes(_Table["Window"]):
    """Overflight windows (:class:`overflight.access.Window`), sorted by start time."""

    _kind = "windows"
    _time_columns = _WINDOW_TIMES
    _html_columns = ("norad_id", "name", "site", "start", "end", "duration_s",
                     "max_elevation_deg", "min_off_nadir_deg", "sun_elevation_deg", "gsd_m")

    def __init__(self, windows: Sequence[Window], *, start: datetime, end: datetime,
                 constraints: Constraints, satellites: Sequence[ElementSet],
                 sites: Sequence[Site], skipped: Sequence[Skipped] = ()) -> None:
        super().__init__(windows)
        self.skipped = list(skipped)
        self.start = start
        self.end = end
        self.constraints = constraints
        self.satellites = list(satellites)
        self.sites = list(sites)

    def _row(self, rec: Window) -> dict[str, Any]:
        row = {**rec.to_dict(), **rec.extra}
        row.update({k: getattr(rec, k) for k in _WINDOW_TIMES})
        return row

    def _columns(self) -> list[str]:
        extra = [k for k in self._records[0].extra if k not in _WINDOW_COLUMNS] if len(self) else []
        if any(hasattr(w, "area_fraction") for w in self._records):  # area targets
            extra += ["area", "area_mode", "area_fraction"]
        return [*_WINDOW_COLUMNS, *extra]

    def to_ics(self) -> str:
        """The windows as an iCalendar file (one event each; :mod:`overflight.ics`)."""
        from overflight.ics import windows_ics

        return windows_ics(self._records)

    def _meta(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {"start": self.start, "end": self.end, "constraints": asdict(self.constraints),
                "satellites": len(self.satellites), "sites": [s.name for s in self.sites],
                "skipped": [k.to_dict() for k in self.skipped]}

    def _caption(self) -> str:
        return (f"{len(self)} windows of {len(self.satellites)} satellites over "
                f"{len(self.sites)} sites, {_cell(self.start)} → {_cell(self.end)}")


_WINDOW_COLUMNS = ["norad_id", "name", "site", "site_lat_deg", "site_lon_deg", "start", "peak",
                   "end", "duration_s", "max_elevation_deg", "min_off_nadir_deg", "min_range_km",
                   "sun_elevation_deg", "satellite_sunlit", "direction", "gsd_m",
                   "start_clipped", "end_clipped"]


# ---- track ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TrackPoint:
    """One point of a ground track: geodetic nadir (WGS-84), altitude, Earth-fixed speed.

    Where SGP4 failed, ``error`` holds its message and the other values are None.
    """

    time: datetime
    lat_deg: float | None
    lon_deg: float | None
    alt_km: float | None
    speed_km_s: float | None
    sunlit: bool | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (time ISO 8601 UTC with ``Z``)."""
        return {"time": _iso(self.time), "lat_deg": self.lat_deg, "lon_deg": self.lon_deg,
                "alt_km": self.alt_km, "speed_km_s": self.speed_km_s, "sunlit": self.sunlit,
                "error": self.error}


_TRACK_COLUMNS = ["norad_id", "name", "time", "lat_deg", "lon_deg", "alt_km", "speed_km_s",
                  "sunlit", "error"]


class Track(_Table[TrackPoint]):
    """A satellite's ground track: one :class:`TrackPoint` per time step."""

    _kind = "track points"
    _time_columns = ("time",)

    def __init__(self, points: Sequence[TrackPoint], *, satellite: ElementSet,
                 step_s: float) -> None:
        super().__init__(points)
        self.satellite = satellite
        self.step_s = step_s

    def _row(self, rec: TrackPoint) -> dict[str, Any]:
        return {"norad_id": self.satellite.norad_id, "name": self.satellite.name,
                "time": rec.time, "lat_deg": rec.lat_deg, "lon_deg": rec.lon_deg,
                "alt_km": rec.alt_km, "speed_km_s": rec.speed_km_s, "sunlit": rec.sunlit,
                "error": rec.error}

    def _columns(self) -> list[str]:
        return list(_TRACK_COLUMNS)

    def _meta(self) -> dict[str, Any]:
        es = self.satellite
        return {"norad_id": es.norad_id, "name": es.name, "elset_epoch": es.epoch,
                "step_s": self.step_s}

    def _caption(self) -> str:
        es = self.satellite
        span = f", {_cell(self[0].time)} → {_cell(self[-1].time)}" if len(self) else ""
        return f"{es.name} ({es.norad_id}) ground track: {len(self)} points{span}"


# ---- history and maneuvers --------------------------------------------------------------------
_STATE_COLUMNS = ["norad_id", "name", "epoch", "semi_major_axis_km", "perigee_alt_km",
                  "apogee_alt_km", "eccentricity", "inclination_deg", "raan_deg",
                  "arg_perigee_deg", "mean_motion_rev_day", "mean_motion_dot_rev_day2", "bstar",
                  "period_min", "node_rate_deg_day", "ltan_hours"]

_MANEUVER_TIMES = ("before_epoch", "after_epoch", "estimated_time")
_MANEUVER_COLUMNS = ["norad_id", "name", "before_epoch", "after_epoch", "estimated_time",
                     "time_uncertainty_s", "delta_a_km", "delta_perigee_km", "delta_apogee_km",
                     "delta_inclination_deg", "delta_v_m_s", "kind", "delta_v_tangential_m_s",
                     "delta_v_eccentricity_m_s", "delta_v_plane_m_s", "significance",
                     "closest_km", "confirmed", "lat_deg", "lon_deg", "place", "object_type",
                     "event"]


class Maneuvers(_Table["Maneuver"]):
    """Detected maneuvers (:class:`overflight.maneuvers.Maneuver`), by object then time."""

    _kind = "maneuvers"
    _time_columns = _MANEUVER_TIMES
    _html_columns = ("norad_id", "name", "before_epoch", "after_epoch", "estimated_time",
                     "delta_a_km", "delta_inclination_deg", "delta_v_m_s", "kind", "confirmed")

    def __init__(self, detection: DetectionResult) -> None:
        super().__init__(detection.maneuvers)
        self.detection = detection

    @property
    def status(self) -> Status:
        """``ok``, ``not-enough-history`` or ``data-gap``: an empty result means "no maneuver"
        only when ``ok`` (per object: :attr:`statuses`)."""
        return self.detection.status

    @property
    def statuses(self) -> list[HistoryStatus]:
        """Per object: what the answer rests on (counts, span, data gaps)."""
        return list(self.detection.statuses)

    @property
    def data_gaps(self) -> list[DataGap]:
        """Gaps between consecutive element sets too long to bracket a maneuver."""
        return self.detection.data_gaps

    def _row(self, rec: Maneuver) -> dict[str, Any]:
        row = {k: v for k, v in rec.to_dict().items() if k in _MANEUVER_COLUMNS}
        row.update({k: getattr(rec, k) for k in _MANEUVER_TIMES})
        return row

    def _columns(self) -> list[str]:
        return list(_MANEUVER_COLUMNS)

    def _meta(self) -> dict[str, Any]:
        d = self.detection.to_dict()
        d.pop("maneuvers")
        return d

    def _caption(self) -> str:
        d = self.detection
        other = sum(1 for m in self if not m.is_maneuver)
        text = (f"{len(self) - other} maneuvers in {d.element_sets} element sets of "
                f"{d.objects} objects" + (f", {other} changes of debris or rocket bodies "
                                         "(not maneuvers)" if other else ""))
        return text if d.status == "ok" else f"{text} (status: {d.status})"


class History(_Table["OrbitState"]):
    """Orbit history: the derived mean orbit of each element set
    (:class:`overflight.history.OrbitState`), by object then epoch; ``maneuvers`` found in it."""

    _kind = "element sets"
    _time_columns = ("epoch",)
    _html_columns = ("norad_id", "name", "epoch", "perigee_alt_km", "apogee_alt_km",
                     "inclination_deg", "raan_deg", "mean_motion_rev_day", "bstar", "ltan_hours")

    def __init__(self, states: Sequence[OrbitState], maneuvers: Maneuvers) -> None:
        super().__init__(states)
        self.maneuvers = maneuvers

    def _row(self, rec: OrbitState) -> dict[str, Any]:
        row = rec.to_dict()
        row["epoch"] = rec.epoch
        return row

    def _columns(self) -> list[str]:
        return list(_STATE_COLUMNS)

    @property
    def status(self) -> Status:
        """What the maneuver answer rests on (see :attr:`Maneuvers.status`)."""
        return self.maneuvers.status

    def _meta(self) -> dict[str, Any]:
        d = self.maneuvers.detection
        return {"objects": len({s.norad_id for s in self}), "status": d.status,
                "statuses": [st.to_dict() for st in d.statuses],
                "data_gaps": [g.to_dict() for g in d.data_gaps],
                "maneuvers": [m.to_dict() for m in self.maneuvers]}

    def _caption(self) -> str:
        ids = {s.norad_id for s in self}
        who = (f"{self[0].name} ({self[0].norad_id})" if len(ids) == 1
               else f"{len(ids)} objects")
        text = f"{who}: {len(self)} element sets, {len(self.maneuvers)} maneuvers"
        d = self.maneuvers.detection
        if len(d.statuses) == 1 and d.status != "ok":
            return f"{text}; {d.statuses[0].reason}"
        return text if d.status == "ok" else f"{text} (status: {d.status})"


# ---- coverage ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CoveragePoint:
    """Coverage figures of one grid point (times in seconds; NaN where never accessed)."""

    lat_deg: float
    lon_deg: float
    windows: int
    accesses: int
    first_access_s: float
    max_gap_s: float
    revisit_mean_s: float
    revisit_max_s: float
    coverage_fraction: float
    best_gsd_m: float


class Coverage(_Table[CoveragePoint]):
    """Coverage of a region's grid by a fleet: one :class:`CoveragePoint` per grid point.

    ``result`` is the library's :class:`overflight.coverage.CoverageResult`, ``grid`` the grid
    (region included); :meth:`summary` gives the region-wide percentiles.
    """

    _kind = "grid points"

    def __init__(self, result: CoverageResult, grid: Grid) -> None:
        frac = result.coverage_fraction
        points = [
            CoveragePoint(
                lat_deg=float(result.lat_deg[i]), lon_deg=float(result.lon_deg[i]),
                windows=int(result.windows[i]), accesses=int(result.accesses[i]),
                first_access_s=float(result.first_access_s[i]),
                max_gap_s=float(result.max_gap_s[i]),
                revisit_mean_s=float(result.revisit_mean_s[i]),
                revisit_max_s=float(result.revisit_max_s[i]),
                coverage_fraction=float(frac[i]), best_gsd_m=float(result.best_gsd_m[i]),
            )
            for i in range(len(result))
        ]
        super().__init__(points)
        self.result = result
        self.grid = grid

    def summary(self) -> dict[str, Any]:
        """Region-wide figures (percentiles over the points, hours)."""
        return self.result.summary()

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        """Satellites left out (element set too old or before launch, wholly or for a span;
        imaging: non-imagers, unknown), or counting for nothing (``max_gsd_m`` without a sensor
        entry), and why."""
        return self.result.skipped

    @property
    def stale(self) -> StaleReport:
        """The satellites counted whose element sets are more than a week from the times they
        are used for (each over its usable span); false when none."""
        return self.result.stale

    def _row(self, rec: CoveragePoint) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(rec)

    def _columns(self) -> list[str]:
        return list(CoveragePoint.__dataclass_fields__)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: region, grid, metadata, summary and per-point rows (NaN as null)."""
        return {"kind": self._kind, "region": self.grid.region.to_dict(),
                "grid_km": self.grid.spacing_km, **self.result.to_dict(points=False),
                "count": len(self), "rows": self.result.point_rows()}

    def _caption(self) -> str:
        s = self.summary()["max_gap_h"]
        p50 = "–" if s["p50"] is None else f"{s['p50']:.1f} h"
        inc = self.summary()["incomplete_s"]
        return (f"coverage of {self.grid.region.name}: {len(self)} points at "
                f"{self.grid.spacing_km:g} km, {len(self.result.satellites)} satellites, "
                f"median max gap {p50}"
                + (f"; INCOMPLETE: {inc / 3600:.1f} h with element sets too old" if inc else ""))


# ---- claims -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verification:
    """The verdict on one imaging claim: ``verdict`` (``consistent``, ``inconsistent``,
    ``cannot-verify``), ``reasons`` (sentences) and the evidence (``evidence``: the claim
    checker's full JSON-ready record; ``result``: its :class:`ClaimResult`)."""

    result: ClaimResult = field(repr=False)

    @property
    def verdict(self) -> str:
        return self.result.verdict

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(self.result.reasons)

    @property
    def evidence(self) -> dict[str, Any]:
        return self.result.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready evidence record (the same keys for every verdict)."""
        return self.result.to_dict()

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_pandas(self) -> Any:
        """The evidence as a one-row ``pandas.DataFrame`` (nested values flattened with ``.``)."""
        import pandas as pd

        return pd.json_normalize(self.to_dict())

    def __repr__(self) -> str:
        return f"<Verification: {self.verdict}>"

    def _repr_html_(self) -> str:
        d = self.to_dict()
        rows = [("verdict", d["verdict"]), ("satellite", d.get("satellite")),
                ("target", d.get("target"))]
        rows += [(k, d.get(k)) for k in ("confidence", "norad_id", "satellite_name")
                 if d.get(k) is not None]
        body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(_cell(v))}</td></tr>"
                       for k, v in rows)
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in self.reasons)
        return f"<div><table>{body}</table><ul>{reasons}</ul></div>"
