"""The records of the window search: what is asked, what the stages hand on, what comes out.

A request is satellites, sites, an interval and :class:`Constraints` (checked by
:func:`check_request` and :func:`check_interval`). The stages (``fleet`` → ``screen`` →
``search`` → ``lighting``, wired by ``engine``) hand each other typed records; the one shared by
more than two of them, :class:`WindowTimes` (windows in seconds from the interval's start), is
defined here. Results come out as a :class:`WindowTable` (columns) or :class:`Window` objects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from overflight.constants import DAY_S
from overflight.elements import ElementSet
from overflight.errors import OverflightError
from overflight.geometry import Site

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
Mask = npt.NDArray[np.bool_]

RESOLUTION_S = 0.05
"""Windows shorter than this may be missed (they are grazing passes within ~0.001° of the limit)."""

# Clip codes of WindowTable.start_clip / end_clip and their names in Window.
CLIP_NAMES = {0: None, 1: "interval", 2: "sun", 3: "sunlit"}


class AccessError(OverflightError):
    """Impossible or malformed window request (one-line message)."""


@dataclass(frozen=True)
class Constraints:
    """What makes a satellite-site geometry count as a window.

    ``min_elevation_deg`` at the site (geodetic, no refraction) and/or ``max_off_nadir_deg`` at
    the satellite; ``max_range_km`` slant range; Sun elevation at the site within
    [``sun_min_deg``, ``sun_max_deg``]; ``sunlit`` True/False requires the satellite in
    sunlight/in Earth's shadow; windows shorter than ``min_duration_s`` are dropped.
    """

    min_elevation_deg: float | None = None
    max_off_nadir_deg: float | None = None
    max_range_km: float | None = None
    sun_min_deg: float | None = None
    sun_max_deg: float | None = None
    sunlit: bool | None = None
    min_duration_s: float = 0.0

    def effective_min_elevation_deg(self) -> float:
        """The elevation limit in force: the given one, else 0° (above the horizon)."""
        if self.min_elevation_deg is not None:
            return self.min_elevation_deg
        return 0.0

    def validate(self) -> None:
        """Raise AccessError for impossible constraints."""
        for name in ("min_elevation_deg", "max_off_nadir_deg", "max_range_km", "sun_min_deg",
                     "sun_max_deg", "min_duration_s"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise AccessError(f"{name}: must be a finite number, not {value}")
        e = self.min_elevation_deg
        if e is not None and not -90.0 < e < 90.0:
            raise AccessError(f"min_elevation_deg: {e}° must be in (-90, 90)")
        o = self.max_off_nadir_deg
        if o is not None and not 0.0 < o < 90.0:
            raise AccessError(f"max_off_nadir_deg: {o}° must be in (0, 90)")
        if self.max_range_km is not None and self.max_range_km <= 0:
            raise AccessError(f"max_range_km: {self.max_range_km} km must be positive")
        lo, hi = self.sun_min_deg, self.sun_max_deg
        for v, n in ((lo, "sun_min_deg"), (hi, "sun_max_deg")):
            if v is not None and not -90.0 <= v <= 90.0:
                raise AccessError(f"{n}: {v}° must be in [-90, 90]")
        if lo is not None and hi is not None and lo > hi:
            raise AccessError(f"sun_min_deg: {lo}° is above sun_max_deg {hi}°: the Sun "
                              "elevation range is empty")
        if self.min_duration_s < 0:
            raise AccessError(f"min_duration_s: {self.min_duration_s} s must not be negative")


@dataclass(frozen=True)
class Window:
    """One overflight window of a satellite over a site (times aware UTC)."""

    norad_id: int
    name: str
    site: str
    site_lat_deg: float
    site_lon_deg: float
    start: datetime
    peak: datetime
    end: datetime
    max_elevation_deg: float
    min_off_nadir_deg: float
    min_range_km: float
    sun_elevation_deg: float
    satellite_sunlit: bool
    direction: str
    gsd_m: float | None = None
    start_clipped: str | None = None
    end_clipped: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def duration_s(self) -> float:
        """Window length in seconds."""
        return (self.end - self.start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; times ISO 8601 UTC with ``Z`` (millisecond precision)."""
        from overflight.times import format_utc

        return {
            "norad_id": self.norad_id,
            "name": self.name,
            "site": self.site,
            "site_lat_deg": self.site_lat_deg,
            "site_lon_deg": self.site_lon_deg,
            "start": format_utc(self.start, decimals=3),
            "peak": format_utc(self.peak, decimals=3),
            "end": format_utc(self.end, decimals=3),
            "duration_s": round(self.duration_s, 3),
            "max_elevation_deg": round(self.max_elevation_deg, 4),
            "min_off_nadir_deg": round(self.min_off_nadir_deg, 4),
            "min_range_km": round(self.min_range_km, 3),
            "sun_elevation_deg": round(self.sun_elevation_deg, 3),
            "satellite_sunlit": self.satellite_sunlit,
            "direction": self.direction,
            "gsd_m": None if self.gsd_m is None else round(self.gsd_m, 3),
            "start_clipped": self.start_clipped,
            "end_clipped": self.end_clipped,
        }


@dataclass(frozen=True, slots=True)
class WindowTimes:
    """Windows of one batch while they are being found: times in seconds from the interval's
    start (``search`` assembles them, ``lighting`` clips them, ``engine`` finishes them).

    ``sat_index``/``site_index`` index the batch's satellites and sites; ``peak_s`` is the
    closest approach, ``top_s`` the (first estimate of the) maximum elevation; clip codes as in
    :class:`WindowTable`.
    """

    sat_index: I64
    site_index: I64
    start_s: F64
    end_s: F64
    peak_s: F64
    top_s: F64
    start_clip: I8
    end_clip: I8

    def __len__(self) -> int:
        return int(self.sat_index.size)

    def take(self, idx: npt.NDArray[Any]) -> WindowTimes:
        """The windows ``idx`` (indices or a mask)."""
        return WindowTimes(*(getattr(self, f.name)[idx] for f in fields(self)))


@dataclass
class WindowTable:
    """Windows as columns (numpy arrays), the compact form for large jobs.

    ``norad_id``, ``sat_index`` (into the satellites given), ``site_index`` (into the sites),
    ``start``/``peak``/``end`` as ``datetime64[ns]`` UTC, ``max_elevation_deg``,
    ``min_off_nadir_deg``, ``min_range_km``, ``sun_elevation_deg``, ``satellite_sunlit``,
    ``ascending``, ``start_clip``/``end_clip`` (0 none, 1 interval, 2 sun, 3 sunlit).
    """

    sat_index: I64
    site_index: I64
    start: npt.NDArray[np.datetime64]
    peak: npt.NDArray[np.datetime64]
    end: npt.NDArray[np.datetime64]
    max_elevation_deg: F64
    min_off_nadir_deg: F64
    min_range_km: F64
    peak_range_km: F64
    peak_incidence_deg: F64
    sun_elevation_deg: F64
    satellite_sunlit: npt.NDArray[np.bool_]
    ascending: npt.NDArray[np.bool_]
    start_clip: npt.NDArray[np.int8]
    end_clip: npt.NDArray[np.int8]

    def __len__(self) -> int:
        return int(self.sat_index.size)

    @classmethod
    def empty(cls) -> WindowTable:
        i = np.empty(0, dtype=np.int64)
        f = np.empty(0)
        t = np.empty(0, dtype="datetime64[ns]")
        b = np.empty(0, dtype=bool)
        c = np.empty(0, dtype=np.int8)
        return cls(i, i, t, t, t, f, f, f, f, f, f, b, b, c, c)

    def take(self, idx: npt.NDArray[Any]) -> WindowTable:
        return WindowTable(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})

    @classmethod
    def concat(cls, parts: Sequence[WindowTable]) -> WindowTable:
        if not parts:
            return cls.empty()
        return cls(
            **{k: np.concatenate([getattr(p, k) for p in parts]) for k in cls.__dataclass_fields__}
        )


def check_request(
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    c: Constraints,
) -> None:
    """Raise AccessError for an impossible request (constraints, empty inputs, interval)."""
    c.validate()
    if not elsets:
        raise AccessError("no satellites selected")
    if not sites:
        raise AccessError("no sites given")
    check_interval(start, end)


def check_interval(start: datetime, end: datetime) -> None:
    """Raise AccessError unless start < end and the interval is at most 366 days."""
    from overflight.times import EPHEMERIS_SPAN, MAX_INTERVAL_DAYS, utc

    s, e = utc(start), utc(end)
    if e <= s:
        raise AccessError(f"start {s.isoformat()} is not before end {e.isoformat()}")
    if (e - s).total_seconds() > MAX_INTERVAL_DAYS * DAY_S:
        raise AccessError(f"interval is longer than {MAX_INTERVAL_DAYS:.0f} days")
    # Every window reports the Sun's elevation: the interval must lie inside the ephemeris.
    lo, hi = EPHEMERIS_SPAN
    if s < lo or e > hi:
        raise AccessError(
            f"interval {s:%Y-%m-%d}..{e:%Y-%m-%d} is outside {lo:%Y-%m-%d}..{hi:%Y-%m-%d}, "
            "the span of the bundled Sun ephemeris (DE421)"
        )


def check_pair_spans(
    sat_index: npt.ArrayLike,
    site_index: npt.ArrayLike,
    span_start_s: npt.ArrayLike,
    span_end_s: npt.ArrayLike,
    n_sats: int,
    n_sites: int,
    duration_s: float,
) -> tuple[I64, I64, F64, F64]:
    """Pairs and spans of ``engine.pair_window_table`` as arrays, spans clipped to
    [0, ``duration_s``] and empty ones dropped; AccessError for mismatched lengths, indices out
    of range or spans that are not finite."""
    sat = np.asarray(sat_index, dtype=np.int64).reshape(-1)
    site = np.asarray(site_index, dtype=np.int64).reshape(-1)
    a = np.asarray(span_start_s, dtype=np.float64).reshape(-1)
    b = np.asarray(span_end_s, dtype=np.float64).reshape(-1)
    if not sat.size == site.size == a.size == b.size:
        raise AccessError("sat_index, site_index, span_start_s and span_end_s differ in length")
    if sat.size and (sat.min() < 0 or sat.max() >= n_sats):
        raise AccessError(f"sat_index must lie in 0..{n_sats - 1}")
    if site.size and (site.min() < 0 or site.max() >= n_sites):
        raise AccessError(f"site_index must lie in 0..{n_sites - 1}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise AccessError("span_start_s and span_end_s must be finite")
    a, b = np.clip(a, 0.0, duration_s), np.clip(b, 0.0, duration_s)
    keep = b > a
    return sat[keep], site[keep], a[keep], b[keep]
