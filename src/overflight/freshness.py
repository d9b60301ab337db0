"""How far element sets are from the times they are used for: one check for every frontend.

SGP4 predictions degrade by kilometres per day of element-set age, so overflight windows more
than a week from the element sets' epochs deserve a warning (the CLI prints it, the service
returns it in ``warnings``), and windows more than :data:`REFUSE_AFTER_DAYS` from them are
refused (:func:`usable_spans`): the satellite is listed as skipped with the reason. Times before
an object's launch (the year of its international designator) give no windows either, nor, for
imaging jobs, times after a satellite's imaging mission ended (``Sensor.imaging_ended``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overflight.errors import OverflightError

if TYPE_CHECKING:
    from overflight.elements import ElementSet

__all__ = [
    "MAX_AGE_DAYS",
    "REFUSE_AFTER_DAYS",
    "STALE_AFTER_DAYS",
    "SUGGEST_MAX_AGE_DAYS",
    "Skipped",
    "StaleElementSet",
    "StaleElementsError",
    "StaleReport",
    "all_stale_error",
    "check_max_age_days",
    "check_not_all_stale",
    "launch_year",
    "stale_elements",
    "usable_spans",
]

STALE_AFTER_DAYS = 7.0
"""Element sets further than this from a requested time are reported, days."""
REFUSE_AFTER_DAYS = 14.0
"""Windows whose peak is further than this from the element set's epoch are refused, days
(along-track error of roughly 1–3 km per day in LEO: 14–40 km, 2–6 s of timing, at 14 days)."""
SUGGEST_MAX_AGE_DAYS = 30.0
"""Largest ``max_age_days`` the all-stale error suggests, days. Past a month the along-track
error (roughly 1–3 km per day in LEO) is tens of kilometres: a wider limit then only gives
wrong windows, and the useful fixes are newer elements or times near the data's epochs."""
MAX_AGE_DAYS = 366.0
"""Largest ``max_age_days`` any frontend or library call accepts, days: a year either side of
an element set's epoch is far past any useful prediction (hundreds to thousands of km along
track) and is what a historical question (a claim, last year's passes) may ask for."""


def check_max_age_days(value: float, name: str = "max_age_days") -> float:
    """``value`` as a float when it is a number in (0, :data:`MAX_AGE_DAYS`] days; else
    :class:`~overflight.errors.OverflightError` with one line naming ``name`` (NaN, infinities,
    zero, negatives and anything above the bound are refused)."""
    from overflight.errors import check_number

    return check_number(value, name, 0.0, MAX_AGE_DAYS, low_open=True)


@dataclass(frozen=True)
class StaleElementSet:
    """One satellite whose element set is ``age_days`` from the farther end of the interval."""

    norad_id: int
    name: str
    epoch: datetime
    age_days: float

    def to_dict(self) -> dict[str, Any]:
        from overflight.times import format_utc

        return {"norad_id": self.norad_id, "name": self.name, "epoch": format_utc(self.epoch),
                "age_days": round(self.age_days, 2)}


@dataclass(frozen=True)
class StaleReport:
    """The satellites whose element sets are more than ``max_age_days`` from the interval,
    oldest first; false when there are none."""

    max_age_days: float
    satellites: tuple[StaleElementSet, ...]

    def __bool__(self) -> bool:
        return bool(self.satellites)

    @property
    def worst_age_days(self) -> float:
        """The largest age among the reported element sets (0 when none), days."""
        return max((s.age_days for s in self.satellites), default=0.0)

    def message(self, how: str | None = None) -> str:
        """One warning line; ``how`` tells how to get fresh data (a frontend's hint)."""
        fresh = f"import fresh data: {how}" if how else "import fresh data"
        return (f"element sets are up to {self.worst_age_days:.0f} days from the requested times; "
                f"predictions degrade by kilometres per day of age ({fresh})")

    def to_dict(self) -> dict[str, Any]:
        return {"max_age_days": self.max_age_days,
                "satellites": [s.to_dict() for s in self.satellites]}


def stale_elements(
    elsets: Sequence[ElementSet], start: datetime, end: datetime, *,
    max_age_days: float = STALE_AFTER_DAYS,
    spans: Sequence[tuple[datetime, datetime] | None] | None = None,
) -> StaleReport:
    """Element sets whose epoch is more than ``max_age_days`` from ``start`` or ``end``.

    ``spans`` (one per element set, as :func:`usable_spans` gives): each set is aged over its
    own usable span instead, so a set used only where it is fresh enough is not reported as
    older than it is; a set with no span (None) is left out (it is refused, not used)."""
    from overflight.hypothetical import is_hypothetical

    if spans is not None and len(spans) != len(elsets):
        raise ValueError(f"spans: {len(spans)} spans for {len(elsets)} element sets")
    found = []
    for i, e in enumerate(elsets):
        if is_hypothetical(e):
            continue
        lo, hi = (start, end) if spans is None else (spans[i] or (None, None))
        if lo is None or hi is None:
            continue
        age = max(abs(e.age_days(lo)), abs(e.age_days(hi)))
        if age > max_age_days:
            found.append(StaleElementSet(e.norad_id, e.name, e.epoch, age))
    found.sort(key=lambda s: (-s.age_days, s.norad_id))
    return StaleReport(max_age_days, tuple(found))


class StaleElementsError(OverflightError):
    """Every element set selected is too far from the requested times to be used: nothing to
    compute (built by :func:`all_stale_error`). ``nearest_epoch``: the epoch nearest the
    interval, ``distance_days`` from it; ``suggested_start``: a start (same interval length)
    near the data; ``suggested_max_age_days``: a ``max_age_days`` under which the nearest set
    covers the whole interval (None when above :data:`SUGGEST_MAX_AGE_DAYS`)."""

    def __init__(self, message: str, *, max_age_days: float = REFUSE_AFTER_DAYS,
                 nearest_epoch: datetime | None = None, distance_days: float = 0.0,
                 suggested_max_age_days: int | None = None,
                 suggested_start: datetime | None = None) -> None:
        super().__init__(message)
        self.max_age_days = max_age_days
        self.nearest_epoch = nearest_epoch
        self.distance_days = distance_days
        self.suggested_max_age_days = suggested_max_age_days
        self.suggested_start = suggested_start


def all_stale_error(elsets: Sequence[ElementSet], start: datetime, end: datetime, *,
                    max_age_days: float = REFUSE_AFTER_DAYS,
                    before_launch: int = 0) -> StaleElementsError:
    """The one error (and its one-line message) for a request whose every element set is
    more than ``max_age_days`` from [start, end]: which epoch is nearest, how far, and what to
    do: import newer elements, or ask for times near the data (``start=``: the same length of
    interval starting at the nearest epoch, or ending there when the data is newer), or, when
    at most :data:`SUGGEST_MAX_AGE_DAYS`, the least ``max_age_days`` under which one set covers
    the whole interval. ``before_launch``: how many other satellites of the request were
    refused as before launch (said in the message)."""
    import math

    from overflight.times import format_utc

    if not elsets:
        raise ValueError("all_stale_error: no element sets")

    def gap_days(e: ElementSet) -> float:  # from the interval's nearer end, days
        if e.epoch < start:
            return (start - e.epoch).total_seconds() / 86400.0
        if e.epoch > end:
            return (e.epoch - end).total_seconds() / 86400.0
        return 0.0

    nearest = min(elsets, key=lambda e: (gap_days(e), e.norad_id))
    gap = gap_days(nearest)
    # The least max_age_days under which one set covers all of [start, end].
    need = min(max(abs(e.age_days(start)), abs(e.age_days(end))) for e in elsets)
    suggest: int | None = math.ceil(need)
    if suggest is not None and (suggest <= max_age_days or suggest > SUGGEST_MAX_AGE_DAYS):
        suggest = None
    # A start on the whole hour at the nearest epoch (data older than the interval), or so
    # that the interval ends by it (data newer): the same question, where the data holds.
    length = end - start
    anchor = nearest.epoch if nearest.epoch < start else nearest.epoch - length
    moved = anchor.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    side = "before the start" if nearest.epoch < start else "after the end"
    day = f"{nearest.epoch:%Y-%m-%d}"
    if all(e.epoch < start for e in elsets):
        how_far, which, fix = "older than", "newest epoch", "import newer elements"
    elif all(e.epoch > end for e in elsets):
        how_far, which, fix = "more than", "oldest epoch", "import elements from before then"
    else:
        how_far, which, fix = "more than", "nearest epoch", "import elements nearer those times"
    at = "at" if how_far == "older than" else "from"
    if len(elsets) == 1:
        who, which = f"the element set of {nearest.name} ({nearest.norad_id}) is", "epoch"
    else:
        who = "every element set is"
    if before_launch:
        others = "satellite is" if before_launch == 1 else "satellites are"
        who = (f"{before_launch} {others} not launched by then and "
               + who.replace("every element set", "every other element set"))
    when = format_utc(moved)[:16] + "Z"  # whole hours: 2026-05-30T14:00Z
    message = (f"{who} {how_far} {max_age_days:g} days {at} the requested times "
               f"({which} {day}, {gap:.1f} days {side}); {fix}, or ask for times near the "
               f"data (start={when})"
               + (f", or use max_age_days {suggest}" if suggest is not None else ""))
    return StaleElementsError(message, max_age_days=max_age_days, nearest_epoch=nearest.epoch,
                              distance_days=gap, suggested_max_age_days=suggest,
                              suggested_start=moved)


ENDED_REASON = "imaging mission ended"
"""How a :class:`Skipped` reason for times after a satellite's imaging mission ended begins
(followed by the date: ``imaging mission ended 2023-03-01``)."""


@dataclass(frozen=True)
class Skipped:
    """A satellite left out of a result (wholly, or from ``start`` to ``end`` only), and why."""

    norad_id: int
    name: str
    reason: str
    start: datetime | None = None
    end: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        from overflight.times import format_utc

        return {"norad_id": self.norad_id, "name": self.name, "reason": self.reason,
                "start": None if self.start is None else format_utc(self.start),
                "end": None if self.end is None else format_utc(self.end)}


def check_not_all_stale(elsets: Sequence[ElementSet], skipped: Sequence[Skipped],
                        start: datetime, end: datetime, *,
                        max_age_days: float = REFUSE_AFTER_DAYS) -> None:
    """Raise :func:`all_stale_error` when none of ``elsets`` is usable in [start, end] and at
    least one was refused as too old for all of it (``skipped``: as :func:`usable_spans`
    lists them); the message counts those refused as before launch. Satellites whose imaging
    mission had ended by ``start`` are left out of it, as non-imaging ones are (they are not in
    ``elsets``). Nothing usable only because of those other refusals makes it a plain empty
    request."""
    wholly = {k.norad_id: k.reason for k in skipped if k.start is None}
    if not elsets or not all(e.norad_id in wholly for e in elsets):
        return
    stale = [e for e in elsets if wholly[e.norad_id].startswith("stale")]
    if stale:
        launched = sum(1 for e in elsets if wholly[e.norad_id].startswith("before launch"))
        raise all_stale_error(stale, start, end, max_age_days=max_age_days,
                              before_launch=launched)


def launch_year(designator: str) -> int | None:
    """Launch year of an international designator (``98067A`` or ``1998-067A``; TLE two-digit
    years 57–99 are 19xx), None when it is missing or malformed."""
    text = designator.strip()
    if len(text) >= 4 and text[:4].isdigit() and text[4:5] == "-":
        return int(text[:4])
    if len(text) >= 2 and text[:2].isdigit():
        yy = int(text[:2])
        return 1900 + yy if yy >= 57 else 2000 + yy
    return None


def usable_spans(
    elsets: Sequence[ElementSet], start: datetime, end: datetime, *,
    max_age_days: float = REFUSE_AFTER_DAYS,
    ended: Sequence[datetime | None] | None = None,
) -> tuple[list[tuple[datetime, datetime] | None], list[Skipped]]:
    """For each element set, the part of [start, end] where its windows may be given (None:
    none), and the satellites left out wholly or partly, with the reason.

    A window is given when its peak is within ``max_age_days`` of the element set's epoch and
    not before 1 January of the launch year (international designator). ``ended`` (one per
    element set; imaging jobs: ``Sensor.imaging_ended``): no window peaking after that time
    either (the satellite's imaging mission had ended; None: no end). Hypothetical
    satellites (:mod:`overflight.hypothetical`) are never refused: their elements are not an
    observation that ages, they define the orbit.
    """
    from datetime import timedelta

    from overflight.hypothetical import is_hypothetical
    from overflight.times import format_utc

    if ended is not None and len(ended) != len(elsets):
        raise ValueError(f"ended: {len(ended)} dates for {len(elsets)} element sets")
    spans: list[tuple[datetime, datetime] | None] = []
    skipped: list[Skipped] = []
    limit = timedelta(days=max_age_days)
    for i, e in enumerate(elsets):
        if is_hypothetical(e):
            spans.append((start, end))
            continue
        lo, hi = max(start, e.epoch - limit), min(end, e.epoch + limit)
        year = launch_year(e.intl_designator)
        launch = datetime(year, 1, 1, tzinfo=UTC) if year is not None else None
        if launch is not None and end <= launch:
            spans.append(None)
            skipped.append(Skipped(e.norad_id, e.name, f"before launch (launched in {year})"))
            continue
        stop = None if ended is None else ended[i]
        if stop is not None and start >= stop:
            spans.append(None)
            skipped.append(Skipped(e.norad_id, e.name, f"{ENDED_REASON} {stop:%Y-%m-%d}"))
            continue
        if launch is not None and lo < launch:
            lo = launch
            skipped.append(Skipped(e.norad_id, e.name, f"before launch (launched in {year})",
                                   start, launch))
        cap = end  # where the stale refusal after the epoch stops
        if stop is not None and stop < end:
            cap, hi = stop, min(hi, stop)
            skipped.append(Skipped(e.norad_id, e.name, f"{ENDED_REASON} {stop:%Y-%m-%d}",
                                   stop, end))
        age = f"element set epoch {format_utc(e.epoch)}"
        why = f"more than {max_age_days:g} days from the {age}; import fresh data"
        if lo >= hi:
            spans.append(None)
            days = min(abs(e.age_days(start)), abs(e.age_days(end)))
            skipped.append(Skipped(e.norad_id, e.name, f"stale: the interval is {days:.0f} "
                                   f"days from the {age} (limit {max_age_days:g} days)"))
            continue
        if lo > start and (launch is None or lo > launch):
            skipped.append(Skipped(e.norad_id, e.name, f"stale: {why}", start, lo))
        if hi < cap:
            skipped.append(Skipped(e.norad_id, e.name, f"stale: {why}", hi, cap))
        spans.append((lo, hi))
    return spans, skipped


def refused_spans(skipped: Sequence[Skipped], start: datetime, end: datetime
                  ) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end] where some satellite's windows were refused because its
    element set is too old there (the ``stale`` entries of :func:`usable_spans` covering part
    of the interval), sorted, overlapping or touching ones merged: what happened there is not
    established. Satellites refused wholly, and times before launch, are not counted.
    (Exposure's and coverage's ``incomplete``; not in ``__all__``.)"""
    spans = sorted((max(k.start, start), min(k.end, end)) for k in skipped
                   if k.start is not None and k.end is not None and k.reason.startswith("stale"))
    out: list[tuple[datetime, datetime]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return [(a, b) for a, b in out if b > a]
