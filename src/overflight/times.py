"""Time handling: UTC at every interface, Skyfield's timescale and ephemeris loaded offline.

Earth-orientation data (UT1-UTC, polar motion) and the DE421 ephemeris come from the
``skyfield-data`` package: nothing is downloaded. Beyond the end of the shipped Earth-orientation
table Skyfield extrapolates UT1-UTC; the error stays well under a second of time. The pole
coordinates of the same table are installed in the timescale, so Skyfield's ``itrs`` frame (and
:mod:`overflight.frames`) are the ITRF, not the pseudo-Earth-fixed frame; outside the table
(before 1973-01-02, after its predictions end) the pole is held at the table's first or last
value (Skyfield's interpolation clamps), never an error.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from overflight.errors import OverflightError

if TYPE_CHECKING:
    from skyfield.jpllib import SpiceKernel
    from skyfield.timelib import Time, Timescale

__all__ = [
    "CLIP_MARK",
    "EPHEMERIS_SPAN",
    "MAX_INTERVAL_DAYS",
    "MAX_STEP_S",
    "TIME_SPAN",
    "TimeError",
    "check_time",
    "datetime64_to_utc",
    "ephemeris",
    "format_table_time",
    "format_time_with_uncertainty",
    "format_uncertainty",
    "format_utc",
    "parse_duration",
    "parse_time",
    "resolve_interval",
    "resolve_time",
    "skyfield_time",
    "time_grid",
    "timescale",
    "to_datetime64",
    "utc",
]


class TimeError(OverflightError):
    """A time given by a user that cannot be understood unambiguously."""


def _loader() -> Any:
    from skyfield.api import Loader
    from skyfield_data import get_skyfield_data_path

    with warnings.catch_warnings():
        # skyfield-data warns when its Earth-orientation table is past its nominal expiry;
        # Skyfield then extrapolates UT1-UTC, which is fine at our precision.
        warnings.simplefilter("ignore")
        path = get_skyfield_data_path()
    return Loader(path, expire=False, verbose=False)


@functools.cache
def timescale() -> Timescale:
    """Skyfield timescale with the Earth-orientation data shipped in ``skyfield-data``:
    UT1-UTC and leap seconds, and the polar-motion table (pole coordinates ``x``, ``y``)."""
    from skyfield.data import iers
    from skyfield.timelib import Timescale

    loader = _loader()
    # What Loader.timescale(builtin=False) does, keeping the parsed table for the pole too
    # (the 3.7 MB file is parsed once).
    with loader.open("finals2000A.all") as f:
        finals = iers.parse_x_y_dut1_from_finals_all(f)
    daily_tt, daily_delta_t, leap_dates, leap_offsets = iers.build_timescale_arrays(
        finals["utc_mjd"], finals["dut1"]
    )
    ts = Timescale((daily_tt, daily_delta_t), leap_dates, leap_offsets)
    iers.install_polar_motion_table(ts, finals)
    return ts


@functools.cache
def ephemeris() -> SpiceKernel:
    """The DE421 planetary ephemeris shipped in ``skyfield-data`` (1900-2053)."""
    eph: SpiceKernel = _loader()("de421.bsp")
    return eph


def utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime; naive datetimes are rejected."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise TimeError(f"time {value.isoformat()} has no time zone; give UTC explicitly")
    return value.astimezone(UTC)


def format_utc(value: datetime, *, decimals: int = 0) -> str:
    """ISO 8601 UTC with ``Z``: ``2026-05-30T22:50:00Z``, rounded to the second, or with
    ``decimals`` (1-6) digits of seconds, truncated: ``decimals=6`` gives the microseconds,
    ``2026-05-30T22:50:00.123456Z``, as element-set epochs are written. The one formatter of
    times for output."""
    value = utc(value)
    if decimals <= 0:
        return (value + timedelta(microseconds=500_000)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[: len(text) - 6 + min(decimals, 6)] + "Z"


CLIP_MARK = "…"
"""Appended to a table time where the window is clipped (by the interval, the Sun…)."""


def format_table_time(value: datetime, *, start: datetime | None = None,
                      clipped: bool = False) -> str:
    """A time as tables show it, UTC to the second (truncated): ``05-30 20:49:02``, or
    ``20:49:02`` when ``start`` is given and on the same UTC date; ``clipped`` appends
    :data:`CLIP_MARK`. The one formatter of times in window tables."""
    value = utc(value)
    same_day = start is not None and utc(start).date() == value.date()
    text = value.strftime("%H:%M:%S" if same_day else "%m-%d %H:%M:%S")
    return text + CLIP_MARK if clipped else text


def format_uncertainty(seconds: float) -> str:
    """A time uncertainty with its unit written out: ``±40 s``, ``±14 min``, ``±2.6 h``,
    ``±3.1 d`` (under 90 s in seconds, under 90 min in minutes, under 48 h in hours, else days).
    The one formatter of time uncertainties for output (CLI, server, reports)."""
    s = abs(float(seconds))
    if s != s:  # NaN
        return "±?"
    if s < 90.0:
        return f"±{s:.0f} s"
    if s < 90.0 * 60.0:
        return f"±{s / 60.0:.0f} min"
    if s < 48.0 * 3600.0:
        return f"±{s / 3600.0:.1f} h"
    return f"±{s / 86400.0:.1f} d"


def format_time_with_uncertainty(value: datetime, seconds: float | None) -> str:
    """``2024-02-19T12:48:42Z ±14 min``: :func:`format_utc` plus :func:`format_uncertainty`
    (the time alone when ``seconds`` is None)."""
    text = format_utc(value)
    return text if seconds is None else f"{text} {format_uncertainty(seconds)}"


def to_datetime64(times: datetime | Sequence[datetime] | npt.ArrayLike) -> npt.NDArray[Any]:
    """Times as a ``datetime64[ns]`` array (UTC). Accepts aware datetimes or datetime64."""
    if isinstance(times, datetime):
        times = [times]
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[ns]")
    out = np.empty(arr.shape, dtype="datetime64[ns]")
    flat = out.reshape(-1)
    for i, value in enumerate(arr.reshape(-1)):
        if not isinstance(value, datetime):
            raise TimeError(f"not a time: {value!r}")
        flat[i] = np.datetime64(utc(value).replace(tzinfo=None), "ns")
    return out


def datetime64_to_utc(value: np.datetime64) -> datetime:
    """One ``datetime64`` (UTC) as an aware datetime, microsecond precision."""
    micros = int(np.asarray(value).astype("datetime64[us]").astype(np.int64))
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def skyfield_time(times: datetime | Sequence[datetime] | npt.ArrayLike) -> Time:
    """Skyfield ``Time`` for UTC datetimes or a ``datetime64`` array (vectorized)."""
    arr = to_datetime64(times)
    ns = arr.astype(np.int64)
    day_ns = 86_400 * 10**9
    days = ns // day_ns
    seconds = (ns - days * day_ns) / 1e9
    # Whole days and seconds of day: Skyfield looks up leap seconds per day and float64 keeps
    # sub-microsecond precision.
    t: Time = timescale().utc(1970, 1, 1 + days, 0, 0, seconds)
    return t


MAX_STEP_S = 86_400.0 * 366
"""Largest time step :func:`time_grid` accepts, seconds (one year)."""


def time_grid(start: datetime, end: datetime, step_s: float, *,
              max_points: int | None = None) -> npt.NDArray[Any]:
    """``datetime64[ns]`` grid from ``start`` to ``end`` inclusive-ish, every ``step_s`` seconds.

    :class:`TimeError` naming ``step_s`` unless it is finite in [1 µs, :data:`MAX_STEP_S`], or
    when the grid would have more than ``max_points`` points.
    """
    import math

    if not (isinstance(step_s, int | float) and math.isfinite(step_s)
            and 1e-6 <= step_s <= MAX_STEP_S):
        raise TimeError(f"step_s: must be a finite number of seconds in [1e-06, {MAX_STEP_S:g}],"
                        f" got {step_s!r}")
    if max_points is not None:
        points = (utc(end) - utc(start)).total_seconds() / step_s + 1
        if points > max_points:
            raise TimeError(f"step_s: {points:,.0f} points, more than the limit of "
                            f"{max_points:,}; use a larger step_s or a shorter interval")
    start64 = to_datetime64(start)[0]
    end64 = to_datetime64(end)[0]
    step = np.timedelta64(round(step_s * 1e9), "ns")
    grid = np.arange(start64, end64, step)
    if grid.size == 0 or grid[-1] != end64:
        grid = np.append(grid, end64)
    return grid


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``6h``, ``7d``, ``2w`` (bare numbers are seconds)."""
    m = _DURATION.match(text)
    if not m:
        raise TimeError(f"not a duration: {text!r} (use e.g. 90s, 15m, 6h, 7d)")
    value = float(m.group(1))
    unit = m.group(2) or "s"
    seconds = value * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    return timedelta(seconds=seconds)


def parse_time(text: str, *, zone: str | None = None, now: datetime | None = None) -> datetime:
    """Parse a user's time into aware UTC.

    Accepts ISO 8601 with ``Z`` or an offset (``2023-11-27T23:36:25+09:00``), ``now``, or a
    local time without offset together with an IANA ``zone`` (``Asia/Pyongyang``). A local
    time that a daylight-saving change makes ambiguous or non-existent is rejected.
    """
    raw = text.strip()
    if raw.lower() == "now":
        return utc(now or datetime.now(UTC))
    iso = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        raise TimeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2023-11-27T23:36:25+09:00 or ...Z)"
        ) from None
    if value.tzinfo is not None:
        if zone:
            raise TimeError(f"time {text!r} has an offset and a zone {zone!r}; give one")
        return value.astimezone(UTC)
    if not zone:
        # No zone named: not every caller takes one (those that do add it to this message).
        eg = raw.replace(" ", "T", 1) if "T" in raw or " " in raw else f"{raw}T00:00"
        raise TimeError(
            f"time {text!r} has no offset; add Z for UTC or an offset, e.g. {eg}Z or {eg}+09:00"
        )
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeError(f"unknown time zone {zone!r} (use an IANA name: Asia/Pyongyang)") from None
    first = value.replace(tzinfo=tz, fold=0)
    second = value.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        # Both folds differ: the wall time is either repeated (ambiguous) or skipped.
        back0 = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if back0 != value:
            raise TimeError(f"local time {raw} does not exist in {zone} (clock change)")
        raise TimeError(
            f"local time {raw} is ambiguous in {zone} (clock change); give a UTC offset"
        )
    return first.astimezone(UTC)


# ---- intervals given by users (one resolution for every frontend) --------------------------

MAX_INTERVAL_DAYS = 366.0
"""Longest interval :func:`resolve_interval` accepts by default, days."""

EPHEMERIS_SPAN = (datetime(1900, 1, 1, tzinfo=UTC), datetime(2053, 10, 1, tzinfo=UTC))
"""Times the bundled DE421 ephemeris covers (the Sun for lighting), UTC."""


TIME_SPAN = (datetime(1900, 1, 1, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC))
"""Times a user may give at all (element-set epochs run 1957..2100), UTC; end excluded."""


def check_time(value: datetime, name: str = "time",
               span: tuple[datetime, datetime] = TIME_SPAN) -> datetime:
    """``value`` (aware) as UTC if it lies in ``span`` (end excluded); else :class:`TimeError`
    naming ``name`` and the span. Use :data:`EPHEMERIS_SPAN` where the Sun is computed."""
    t = utc(value)
    lo, hi = span
    if not lo <= t < hi:
        what = (", the span of the bundled Sun ephemeris (DE421)" if span == EPHEMERIS_SPAN
                else "")
        raise TimeError(f"{name}: {t.date().isoformat()} is outside "
                        f"{lo:%Y-%m-%d}..{hi:%Y-%m-%d}{what}")
    return t


def resolve_time(value: datetime | str, name: str = "time", *,
                 now: datetime | None = None,
                 span: tuple[datetime, datetime] = TIME_SPAN) -> datetime:
    """A user's time as aware UTC: an aware datetime, or text for :func:`parse_time`
    (``now`` or ISO 8601 with ``Z``/offset; naive text is rejected), within ``span``
    (:func:`check_time`). Errors start ``name:``."""
    try:
        t = utc(value) if isinstance(value, datetime) else parse_time(value, now=now)
    except TimeError as exc:
        raise TimeError(f"{name}: {exc}") from None
    return check_time(t, name, span)


def resolve_interval(
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    days: float | None = None,
    *,
    default_days: float = 1.0,
    max_days: float = MAX_INTERVAL_DAYS,
    now: datetime | None = None,
) -> tuple[datetime, datetime]:
    """``(start, end)`` as aware UTC from a start (default now) and an ``end`` or a length in
    ``days`` (default ``default_days``).

    Raises :class:`TimeError` naming ``start``, ``end`` or ``days`` unless ``days`` is finite
    and positive, start < end, the interval is at most ``max_days`` long (366 by default) and
    both ends lie within :data:`EPHEMERIS_SPAN`.
    """
    import math

    lo, hi = EPHEMERIS_SPAN
    t0 = (utc(now or datetime.now(UTC)) if start is None or start == ""
          else resolve_time(start, "start", now=now, span=EPHEMERIS_SPAN))
    if end is not None and end != "" and days is not None:
        raise TimeError("give end or days, not both")
    check_time(t0, "start", EPHEMERIS_SPAN)
    if days is not None:
        if not (isinstance(days, int | float) and math.isfinite(days) and days > 0):
            raise TimeError(f"days: must be a positive finite number of days, got {days!r}")
        if days > max_days:
            raise TimeError(f"days: {days:g} is longer than {max_days:g} days")
        t1 = t0 + timedelta(days=days)
    elif end is not None and end != "":
        t1 = resolve_time(end, "end", now=now, span=(lo, datetime.max.replace(tzinfo=UTC)))
    else:
        t1 = t0 + timedelta(days=default_days)
    if t1 <= t0:
        raise TimeError(f"start: {format_utc(t0)} is not before end {format_utc(t1)}")
    length = (t1 - t0).total_seconds() / 86400.0
    if length > max_days:
        raise TimeError(f"end: the interval of {length:.6g} days is longer than {max_days:g} days")
    if t1 > hi:
        raise TimeError(f"end: {t1:%Y-%m-%d} is outside {lo:%Y-%m-%d}..{hi:%Y-%m-%d}, the span of "
                        "the bundled Sun ephemeris (DE421)")
    return t0, t1
