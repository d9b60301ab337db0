"""Exposure of a target to imaging satellites: when it is watched, by whom, and when not.

An open SATRAN: from the windows of a passes request (:class:`~overflight.passes.PassPlan`,
imaging rules by default) over the sites forming one target (a site, or later the sample sites
of an area; a window over any of them counts), the **exposure intervals** are the union of the
windows, each with the satellites (NORAD id, name, country, operator, kind from the sensor
table) and the best resolution; the **unobserved intervals** are its complement inside the
requested span, overall and per country, kind or operator. Union and complement are one sort
and one sweep over the windows. Meaning and limits: ``docs/exposure.md``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from overflight.errors import OverflightError
from overflight.results import _cell, _jsonable, _Table

if TYPE_CHECKING:
    from overflight.access import WindowTable
    from overflight.freshness import Skipped
    from overflight.geometry import Site
    from overflight.passes import PassPlan
    from overflight.sensors import Sensor

__all__ = [
    "BY",
    "Breakdown",
    "Exposure",
    "ExposureError",
    "ExposureInterval",
    "KeyStats",
    "Observer",
    "Unobserved",
    "UnobservedInterval",
    "complement_intervals",
    "exposure_of_plan",
    "union_intervals",
]

BY = ("country", "kind", "operator", "country_kind")
"""Keys an exposure breaks down by: the sensor table's ``country`` (a joint mission counts for
each of its countries), ``kind``, ``operator``, and ``country_kind`` (``"CHN optical"``)."""

UNKNOWN = "unknown"
_NS = 1_000_000_000

I64 = npt.NDArray[np.int64]


class ExposureError(OverflightError):
    """An exposure request that cannot be answered (unknown breakdown key, empty target)."""


def _json_dict(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in d.items()}


# ---- union and complement (one sort, one sweep) -------------------------------------------------
def union_intervals(start: npt.ArrayLike, end: npt.ArrayLike) -> tuple[I64, I64, I64, I64]:
    """Union of closed intervals ``[start[i], end[i]]`` (integers, e.g. ns since the epoch).

    Returns ``(order, group, union_start, union_end)``: ``order`` sorts the inputs by start,
    ``group[k]`` is the union interval of input ``order[k]``; the union's intervals are sorted
    and disjoint (touching inputs merge). One sort, then linear."""
    s0 = np.asarray(start, dtype=np.int64)
    e0 = np.asarray(end, dtype=np.int64)
    order: I64 = np.argsort(s0, kind="stable").astype(np.int64)
    if order.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return order, empty, empty, empty.copy()
    s, e = s0[order], e0[order]
    reach = np.maximum.accumulate(e)
    new = np.ones(s.size, dtype=bool)
    new[1:] = s[1:] > reach[:-1]
    group: I64 = (np.cumsum(new) - 1).astype(np.int64)
    first = np.flatnonzero(new)
    return order, group, s[first], np.maximum.reduceat(e, first).astype(np.int64)


def complement_intervals(union_start: npt.ArrayLike, union_end: npt.ArrayLike, t0: int,
                         t1: int) -> tuple[I64, I64]:
    """The parts of ``[t0, t1]`` outside sorted disjoint intervals (linear); empty parts are
    dropped."""
    a = np.clip(np.asarray(union_start, dtype=np.int64), t0, t1)
    b = np.clip(np.asarray(union_end, dtype=np.int64), t0, t1)
    lo = np.concatenate(([t0], b)).astype(np.int64)
    hi = np.concatenate((a, [t1])).astype(np.int64)
    keep = hi > lo
    return lo[keep], hi[keep]


def _check_by(by: str) -> None:
    if by not in BY:
        raise ExposureError(f"by: {by!r} is not one of {', '.join(BY)}")


# ---- records ------------------------------------------------------------------------------------
def _dt(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(ns) // 1000)


def _ns(t: datetime) -> int:
    d = t.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (d.days * 86_400 + d.seconds) * _NS + d.microseconds * 1000


@dataclass(frozen=True, slots=True)
class Observer:
    """A satellite watching the target, as the sensor table knows it (``unknown`` where it
    does not)."""

    norad_id: int
    name: str
    country: str = UNKNOWN
    operator: str = UNKNOWN
    kind: str = UNKNOWN

    @property
    def countries(self) -> tuple[str, ...]:
        """ISO alpha-3 countries (a joint mission ``USA/JPN`` has two)."""
        return tuple(c for c in self.country.split("/") if c) or (UNKNOWN,)

    def keys(self, by: str) -> tuple[str, ...]:
        """The breakdown keys of this satellite under ``by`` (one of :data:`BY`)."""
        if by == "country":
            return self.countries
        if by == "kind":
            return (self.kind,)
        if by == "operator":
            return (self.operator,)
        if by == "country_kind":
            return tuple(f"{c} {self.kind}" for c in self.countries)
        raise ExposureError(f"by: {by!r} is not one of {', '.join(BY)}")

    def to_dict(self) -> dict[str, Any]:
        return {"norad_id": self.norad_id, "name": self.name, "country": self.country,
                "operator": self.operator, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class ExposureInterval:
    """A time the target is watched: the union of overlapping windows, with the satellites
    (by NORAD id), the number of windows and the best nominal resolution (m, None where no
    satellite's sensor is known)."""

    start: datetime
    end: datetime
    satellites: tuple[Observer, ...]
    windows: int
    best_gsd_m: float | None

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def countries(self) -> tuple[str, ...]:
        return tuple(sorted({c for o in self.satellites for c in o.countries}))

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted({o.kind for o in self.satellites}))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times ISO 8601 Z, milliseconds)."""
        return _json_dict({"start": self.start, "end": self.end,
                           "duration_s": round(self.duration_s, 3),
                           "satellites": [o.to_dict() for o in self.satellites],
                           "countries": list(self.countries), "kinds": list(self.kinds),
                           "windows": self.windows, "best_gsd_m": self.best_gsd_m})


@dataclass(frozen=True, slots=True)
class UnobservedInterval:
    """A time no selected satellite watches the target (``by``/``key``: none of that
    country, kind or operator; None: none at all)."""

    start: datetime
    end: datetime
    by: str | None = None
    key: str | None = None

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return _json_dict({"start": self.start, "end": self.end,
                           "duration_s": round(self.duration_s, 3), "by": self.by,
                           "key": self.key})


@dataclass(frozen=True, slots=True)
class KeyStats:
    """Exposure by one key (a country, kind or operator): satellites, windows, exposed time
    (s) and its fraction of the span, the longest unobserved gap and the first exposure."""

    by: str
    key: str
    satellites: int
    windows: int
    intervals: int
    exposed_s: float
    exposed_fraction: float
    longest_unobserved_s: float
    longest_unobserved_start: datetime | None
    longest_unobserved_end: datetime | None
    next_exposure: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return _json_dict({k: getattr(self, k) for k in self.__dataclass_fields__})


# ---- the per-key sweep ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Coverage:
    """Union and complement of one set of windows inside the span (ns since the epoch)."""

    start: I64
    end: I64
    gap_start: I64
    gap_end: I64
    windows: int
    satellites: int

    @property
    def exposed_ns(self) -> int:
        return int((self.end - self.start).sum())


def _coverage(s: I64, e: I64, sat: I64, t0: int, t1: int) -> _Coverage:
    _, _, us, ue = union_intervals(s, e)
    gs, ge = complement_intervals(us, ue, t0, t1)
    return _Coverage(np.clip(us, t0, t1), np.clip(ue, t0, t1), gs, ge, int(s.size),
                     int(np.unique(sat).size))


# ---- the result ----------------------------------------------------------------------------------
class Unobserved(_Table[UnobservedInterval]):
    """Unobserved intervals, longest first."""

    _kind = "unobserved intervals"
    _time_columns = ("start", "end")

    def _row(self, rec: UnobservedInterval) -> dict[str, Any]:
        return {"by": rec.by, "key": rec.key, "start": rec.start, "end": rec.end,
                "duration_s": rec.duration_s}

    def _columns(self) -> list[str]:
        return ["by", "key", "start", "end", "duration_s"]


class Breakdown(_Table[KeyStats]):
    """Exposure per country, kind or operator (:class:`KeyStats`), most exposed first."""

    _kind = "keys"
    _time_columns = ("longest_unobserved_start", "longest_unobserved_end", "next_exposure")

    def _row(self, rec: KeyStats) -> dict[str, Any]:
        return {k: getattr(rec, k) for k in KeyStats.__dataclass_fields__}

    def _columns(self) -> list[str]:
        return list(KeyStats.__dataclass_fields__)


@dataclass(frozen=True)
class _Windows:
    """The windows an exposure is made of, as columns (ns since the epoch)."""

    start: I64
    end: I64
    sat: I64
    gsd_m: npt.NDArray[np.float64]


class Exposure(_Table[ExposureInterval]):
    """Exposure of one target: :class:`ExposureInterval` records sorted by start, with
    :meth:`unobserved`, :meth:`breakdown` and :meth:`summary`.

    ``observers``: every satellite computed (index = the windows' satellite index);
    ``sites``: the sites forming the target; ``skipped``: satellites left out (non-imagers,
    unknown, stale or before launch; wholly or for part of the span); ``warnings``: the
    request's warning lines.
    """

    _kind = "exposure intervals"
    _time_columns = ("start", "end")
    _html_columns = ("start", "end", "duration_s", "satellites", "countries", "kinds",
                     "best_gsd_m")

    def __init__(self, intervals: Sequence[ExposureInterval], *, target: str,
                 sites: Sequence[Site], start: datetime, end: datetime,
                 observers: Sequence[Observer], windows: _Windows, imaging: bool,
                 constraints: Mapping[str, Any] | None = None,
                 skipped: Sequence[Skipped] = (), warnings: Sequence[str] = ()) -> None:
        super().__init__(intervals)
        incomplete = _incomplete(skipped, start, end)
        self.target = target
        self.sites = list(sites)
        self.start = start
        self.end = end
        self.observers = list(observers)
        self.imaging = imaging
        self.constraints = dict(constraints or {})
        self.skipped = list(skipped)
        self.warnings = list(warnings)
        self.incomplete = incomplete
        if incomplete:
            n = len({k.norad_id for k in skipped
                     if k.start is not None and k.reason.startswith("stale")})
            hours = sum((b - a).total_seconds() for a, b in incomplete) / 3600
            self.warnings.append(
                f"from {_cell(incomplete[0][0])} ({hours:.1f} h in all) the element sets of "
                f"{n} satellites are too old to use: their windows are not computed there, so "
                "unobserved times in those spans are not established")
        self._w = windows
        self._t0, self._t1 = _ns(start), _ns(end)
        self._cache: dict[tuple[str, str] | None, _Coverage] = {}

    # ---- figures ---------------------------------------------------------------------------
    @property
    def span_s(self) -> float:
        return (self._t1 - self._t0) / _NS

    def _all(self) -> _Coverage:
        if None not in self._cache:
            w = self._w
            self._cache[None] = _coverage(w.start, w.end, w.sat, self._t0, self._t1)
        return self._cache[None]

    def keys(self, by: str) -> list[str]:
        """The keys present under ``by`` (sorted)."""
        _check_by(by)
        return sorted({k for o in self.observers for k in o.keys(by)})

    def _by(self, by: str) -> dict[str, _Coverage]:
        """Coverage per key of ``by``; each window counted under each of its satellite's keys
        (linear overall: one pass to split, one union per key)."""
        _check_by(by)
        sat_keys = [o.keys(by) for o in self.observers]
        members: dict[str, list[int]] = {}
        for i, ks in enumerate(sat_keys):
            for k in ks:
                members.setdefault(k, []).append(i)
        w = self._w
        out: dict[str, _Coverage] = {}
        for k, sats in sorted(members.items()):
            hit = self._cache.get((by, k))
            if hit is None:
                mask = np.zeros(len(self.observers), dtype=bool)
                mask[sats] = True
                rows = mask[w.sat] if w.sat.size else np.zeros(0, dtype=bool)
                hit = _coverage(w.start[rows], w.end[rows], w.sat[rows], self._t0, self._t1)
                self._cache[(by, k)] = hit
            out[k] = hit
        return out

    def unobserved(self, by: str | None = None, key: str | None = None, *,
                   min_duration_s: float = 0.0) -> Unobserved:
        """Unobserved intervals, longest first (ties: earliest first). ``by`` (one of
        :data:`BY`): per key, e.g. ``by="country", key="CHN"`` for the times no Chinese
        satellite watches; without ``key``, the gaps of every key. ``min_duration_s``: drop
        shorter gaps."""
        parts: list[tuple[str | None, _Coverage]]
        if by is None:
            if key is not None:
                raise ExposureError("key: give by as well (country, kind or operator)")
            parts = [(None, self._all())]
        else:
            found = self._by(by)
            if key is not None:
                none = np.empty(0, dtype=np.int64)
                # no satellite of that key: unobserved throughout
                parts = [(key, found.get(key) or _coverage(none, none, none, self._t0,
                                                           self._t1))]
            else:
                parts = list(found.items())
        recs: list[tuple[int, int, UnobservedInterval]] = []
        lim = round(min_duration_s * _NS)
        for k, cov in parts:
            for a, b in zip(cov.gap_start.tolist(), cov.gap_end.tolist(), strict=True):
                if b - a >= lim:
                    recs.append((-(b - a), a, UnobservedInterval(_dt(a), _dt(b), by, k)))
        recs.sort(key=lambda r: (r[0], r[1], r[2].key or ""))
        return Unobserved([r[2] for r in recs])

    def spans(self, by: str | None = None, key: str | None = None
              ) -> list[tuple[datetime, datetime]]:
        """The exposed spans ``(start, end)``: of the whole target (``by`` None), or of one
        key of ``by`` (the times some satellite of that country, kind or operator watches)."""
        cov = self._all() if by is None else self._by(by).get(key or "")
        if cov is None:
            return []
        return [(_dt(a), _dt(b)) for a, b in zip(cov.start.tolist(), cov.end.tolist(),
                                                  strict=True)]

    def _stats(self, by: str, key: str, cov: _Coverage) -> KeyStats:
        gaps = cov.gap_end - cov.gap_start
        j = int(np.argmax(gaps)) if gaps.size else -1
        span = max(self._t1 - self._t0, 1)
        return KeyStats(
            by=by, key=key, satellites=cov.satellites, windows=cov.windows,
            intervals=int(cov.start.size), exposed_s=cov.exposed_ns / _NS,
            exposed_fraction=cov.exposed_ns / span,
            longest_unobserved_s=float(gaps[j]) / _NS if j >= 0 else 0.0,
            longest_unobserved_start=_dt(int(cov.gap_start[j])) if j >= 0 else None,
            longest_unobserved_end=_dt(int(cov.gap_end[j])) if j >= 0 else None,
            next_exposure=_dt(int(cov.start[0])) if cov.start.size else None)

    def breakdown(self, by: str = "country") -> Breakdown:
        """Exposure per key of ``by`` (one of :data:`BY`), most exposed first."""
        rows = [self._stats(by, k, cov) for k, cov in self._by(by).items()]
        rows.sort(key=lambda r: (-r.exposed_s, r.key))
        return Breakdown(rows)

    def summary(self) -> dict[str, Any]:
        """Whole-target figures: ``exposed_fraction``, ``exposed_s``, ``span_s``, the longest
        unobserved gap, distinct ``satellites``, ``windows``, ``intervals``, the
        ``next_exposure`` from start (start itself when exposed then) with the satellites in
        view at that instant,
        satellite counts per country and kind, and ``incomplete_s``/``incomplete_from``: how
        long, and from when, some satellite's element set was too old to compute."""
        cov = self._all()
        st = self._stats("all", "all", cov)
        nxt = self[0] if len(self) else None
        used = sorted(set(self._w.sat.tolist()))
        per_country: dict[str, int] = {}
        per_kind: dict[str, int] = {}
        for i in used:
            o = self.observers[i]
            for c in o.countries:
                per_country[c] = per_country.get(c, 0) + 1
            per_kind[o.kind] = per_kind.get(o.kind, 0) + 1
        return {
            "span_s": self.span_s, "exposed_s": st.exposed_s,
            "exposed_fraction": st.exposed_fraction,
            "unobserved_s": self.span_s - st.exposed_s,
            "longest_unobserved_s": st.longest_unobserved_s,
            "longest_unobserved_start": st.longest_unobserved_start,
            "longest_unobserved_end": st.longest_unobserved_end,
            "satellites": len(used), "satellites_computed": len(self.observers),
            "windows": int(self._w.sat.size), "intervals": len(self),
            "next_exposure": None if nxt is None else nxt.start,
            "next_exposure_satellites": [] if nxt is None else self._in_view(nxt.start),
            "satellites_by_country": dict(sorted(per_country.items())),
            "satellites_by_kind": dict(sorted(per_kind.items())),
            "incomplete_s": sum((b - a).total_seconds() for a, b in self.incomplete),
            "incomplete_from": self.incomplete[0][0] if self.incomplete else None,
        }

    def _in_view(self, t: datetime) -> list[str]:
        """Names of the satellites whose window covers the instant ``t`` (by NORAD id): those
        exposing the target then, not every member of the exposure interval."""
        ns = int(np.datetime64(t.astimezone(UTC).replace(tzinfo=None), "ns").astype(np.int64))
        w = self._w
        ks = sorted(set(w.sat[(w.start <= ns) & (w.end > ns)].tolist()),
                    key=lambda k: self.observers[k].norad_id)
        return [self.observers[k].name for k in ks]

    # ---- rows and exports ------------------------------------------------------------------
    def _row(self, rec: ExposureInterval) -> dict[str, Any]:
        return {"start": rec.start, "end": rec.end, "duration_s": rec.duration_s,
                "satellites": "; ".join(f"{o.name} ({o.norad_id})" for o in rec.satellites),
                "norad_ids": " ".join(str(o.norad_id) for o in rec.satellites),
                "countries": " ".join(rec.countries), "kinds": " ".join(rec.kinds),
                "windows": rec.windows, "best_gsd_m": rec.best_gsd_m}

    def _columns(self) -> list[str]:
        return ["start", "end", "duration_s", "satellites", "norad_ids", "countries", "kinds",
                "windows", "best_gsd_m"]

    def _meta(self) -> dict[str, Any]:
        return {"target": self.target, "sites": [s.to_dict() for s in self.sites],
                "start": self.start, "end": self.end, "imaging": self.imaging,
                "constraints": self.constraints,
                "skipped": [k.to_dict() for k in self.skipped], "warnings": self.warnings}

    def to_dict(self, *, by: Iterable[str] = ("country", "kind"),
                max_unobserved: int | None = None) -> dict[str, Any]:
        """JSON-ready: the request, ``summary``, ``intervals`` (records), ``unobserved``
        (longest first, at most ``max_unobserved``), and per key of each ``by``:
        ``breakdown`` and ``unobserved_by``."""
        cut = slice(None) if max_unobserved is None else slice(max_unobserved)
        by = list(by)
        return {
            "kind": "exposure", **_jsonable(self._meta()),
            "summary": _jsonable(self.summary()),
            "count": len(self),
            "intervals": [r.to_dict() for r in self],
            "unobserved": [u.to_dict() for u in self.unobserved().records[cut]],
            "breakdown": {b: [s.to_dict() for s in self.breakdown(b)] for b in by},
            "unobserved_by": {b: [u.to_dict() for u in self.unobserved(b).records[cut]]
                              for b in by},
        }

    def csv_rows(self, by: str | None = "country") -> list[dict[str, Any]]:
        """Flat rows for CSV: every exposure interval (``status`` exposed), then every
        unobserved interval overall and per key of ``by``, by start."""
        out: list[dict[str, Any]] = []
        for r in self:
            row = self._row(r)
            out.append({"status": "exposed", "by": "", "key": "", **_jsonable(row)})
        gaps = self.unobserved().records + (self.unobserved(by).records if by else [])
        gaps.sort(key=lambda u: (u.by or "", u.key or "", u.start))
        for u in gaps:
            out.append({"status": "unobserved", "by": u.by or "", "key": u.key or "",
                        **_jsonable({"start": u.start, "end": u.end}),
                        "duration_s": round(u.duration_s, 3)})
        return out

    def to_ics(self) -> str:
        """iCalendar (RFC 5545): one VEVENT per exposure interval, the satellites in the
        description; lines folded at 75 octets, text escaped."""
        return render_ics(self)

    def to_html(self, *, by: Sequence[str] = ("country", "kind"), max_rows: int = 200) -> str:
        """A self-contained HTML report: summary, the timeline figure (inline SVG), the
        longest unobserved gaps, the breakdowns and the exposure intervals."""
        return render_html(self, by=by, max_rows=max_rows)

    def _caption(self) -> str:
        s = self.summary()
        return (f"exposure of {self.target}: {len(self)} intervals, "
                f"{100 * s['exposed_fraction']:.2f}% of {_cell(self.start)} → "
                f"{_cell(self.end)} by {s['satellites']} satellites; longest unobserved "
                f"{s['longest_unobserved_s'] / 3600:.1f} h")


def _incomplete(skipped: Sequence[Skipped], start: datetime, end: datetime
                ) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end] where some computed satellite's element set is too old
    (its windows refused there), merged and sorted (:func:`overflight.freshness.refused_spans`)."""
    from overflight.freshness import refused_spans

    return refused_spans(skipped, start, end)


# ---- building ------------------------------------------------------------------------------------
def _observers(plan: PassPlan) -> list[Observer]:
    table: Mapping[int, Sensor] = plan.sensors
    out = []
    for e in plan.elsets:
        s = table.get(e.norad_id)
        if s is None:
            out.append(Observer(e.norad_id, e.name))
        else:
            out.append(Observer(e.norad_id, e.name, s.country or UNKNOWN,
                                s.operator or UNKNOWN, s.kind if s.is_imager else UNKNOWN))
    return out


def _gsd(plan: PassPlan, table: WindowTable) -> npt.NDArray[np.float64]:
    """Nominal resolution of each window at its peak (NaN where the sensor is unknown)."""
    out = np.full(len(table), np.nan)
    sensors = [plan.sensors.get(e.norad_id) for e in plan.elsets]
    rng = table.peak_range_km.tolist()
    inc = table.peak_incidence_deg.tolist()
    for i, k in enumerate(table.sat_index.tolist()):
        s = sensors[k]
        if s is not None and s.is_imager:
            r = s.resolution_m(rng[i], inc[i])
            if r is not None:
                out[i] = r
    return out


def exposure_of_plan(plan: PassPlan, *, table: WindowTable | None = None,
                     target: str | None = None, workers: int | None = 1,
                     client: Any = None) -> Exposure:
    """The exposure of ``plan``'s sites (one target: a window over any of them counts).

    ``table``: the plan's windows if already computed (e.g. by a frontend with a progress
    bar), else computed here by :meth:`PassPlan.table` (``workers``, or ``client``: a
    ``distributed.Client`` whose workers the satellites are sharded over; the same windows in
    the same order either way). ``target``: its name (default: the sites' names joined).

    A target of several sites (an area's sample points) counts a satellite's overlapping
    windows over them as one window, a pass over the target (their union, with the best
    resolution), as ``passes --area`` does."""
    from dataclasses import asdict

    if not plan.sites:
        raise ExposureError("target: no sites")
    if table is None:
        table = plan.table(workers=workers, client=client)
    windows = _Windows(
        start=table.start.astype("datetime64[ns]").astype(np.int64),
        end=table.end.astype("datetime64[ns]").astype(np.int64),
        sat=table.sat_index.astype(np.int64), gsd_m=_gsd(plan, table))
    if len(plan.sites) > 1:
        windows = _satellite_passes(windows)
    observers = _observers(plan)
    intervals = _intervals(windows, observers)
    name = target or " + ".join(s.name for s in plan.sites)
    return Exposure(intervals, target=name, sites=plan.sites, start=plan.start, end=plan.end,
                    observers=observers, windows=windows, imaging=plan.imaging,
                    constraints=asdict(plan.constraints), skipped=plan.skipped,
                    warnings=plan.warnings())


def _satellite_passes(w: _Windows) -> _Windows:
    """Each satellite's windows merged where they overlap or touch (its passes over a target
    of several sites), sorted by satellite then start, each with the best of its windows'
    resolutions (NaN where none is known)."""
    if w.sat.size == 0:
        return w
    order = np.lexsort((w.start, w.sat))
    s, e, k, g = w.start[order], w.end[order], w.sat[order], w.gsd_m[order]
    cut = np.flatnonzero(np.diff(k)) + 1
    parts: list[tuple[I64, I64, I64, npt.NDArray[np.float64]]] = []
    for lo, hi in zip(np.r_[0, cut].tolist(), np.r_[cut, k.size].tolist(), strict=True):
        # Sorted by start already, so union_intervals' order is the identity.
        _, group, us, ue = union_intervals(s[lo:hi], e[lo:hi])
        first = np.flatnonzero(np.diff(group, prepend=-1))
        parts.append((us, ue, np.full(us.size, k[lo], dtype=np.int64),
                      np.fmin.reduceat(g[lo:hi], first)))
    return _Windows(*(np.concatenate([p[i] for p in parts]) for i in range(4)))


def _intervals(w: _Windows, observers: Sequence[Observer]) -> list[ExposureInterval]:
    """The union of the windows, each interval with its satellites (one sweep)."""
    order, group, us, ue = union_intervals(w.start, w.end)
    sats: list[dict[int, None]] = [{} for _ in range(us.size)]
    count = np.bincount(group, minlength=us.size) if group.size else np.zeros(0, np.int64)
    best = np.full(us.size, np.inf)
    if group.size:
        np.minimum.at(best, group, np.where(np.isnan(w.gsd_m[order]), np.inf,
                                            w.gsd_m[order]))
    for g, k in zip(group.tolist(), w.sat[order].tolist(), strict=True):
        sats[g][k] = None
    out = []
    for j in range(us.size):
        members = sorted((observers[k] for k in sats[j]), key=lambda o: o.norad_id)
        out.append(ExposureInterval(_dt(int(us[j])), _dt(int(ue[j])), tuple(members),
                                    int(count[j]),
                                    None if not np.isfinite(best[j]) else round(float(best[j]),
                                                                                3)))
    return out


# ---- iCalendar -----------------------------------------------------------------------------------
def render_ics(result: Exposure) -> str:
    """See :meth:`Exposure.to_ics`."""
    from overflight.ics import Event, calendar
    from overflight.times import format_utc

    events = []
    for r in result:
        sats = "\n".join(f"{o.name} ({o.norad_id}), {o.country}, {o.kind}, {o.operator}"
                         for o in r.satellites)
        gsd = "" if r.best_gsd_m is None else f"; best resolution {r.best_gsd_m:.2f} m"
        desc = (f"{len(r.satellites)} satellites ({', '.join(r.countries)}; "
                f"{', '.join(r.kinds)}){gsd}:\n{sats}")
        summary = (f"{result.target}: exposed to {', '.join(r.countries)} "
                   f"{'/'.join(r.kinds)} ({len(r.satellites)} sat)")
        events.append(Event(key=f"exposure|{result.target}|{format_utc(r.start)}|"
                                f"{format_utc(r.end)}", start=r.start, end=r.end,
                            summary=summary, description=desc))
    return calendar(events, name=f"Exposure of {result.target}",
                    extra=("TRANSP:TRANSPARENT",))


# ---- HTML report ---------------------------------------------------------------------------------
def _hours(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 3600:.2f} h"


def _table(rows: Sequence[Mapping[str, Any]], cols: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in cols)
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = ("body{font-family:sans-serif;margin:1.5em;max-width:1400px}"
          "table{border-collapse:collapse;margin:.5em 0 1.5em}"
          "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}"
          "th{background:#f0f0f0}svg{max-width:100%;height:auto}")


def render_html(result: Exposure, *, by: Sequence[str] = ("country", "kind"),
                max_rows: int = 200) -> str:
    """See :meth:`Exposure.to_html`."""
    import io

    from overflight.plot import exposure as exposure_figure

    buf = io.StringIO()
    exposure_figure(result).savefig(buf, format="svg")
    svg = buf.getvalue()
    svg = svg[svg.find("<svg"):]  # drop the XML prolog and DOCTYPE: inline in HTML
    s = result.summary()
    facts = [("target", result.target),
             ("sites", ", ".join(f"{x.name} ({x.lat_deg:.4f}, {x.lon_deg:.4f})"
                                 for x in result.sites)),
             ("span", f"{_cell(result.start)} → {_cell(result.end)}"),
             ("mode", "imaging (each sensor's own rule)" if result.imaging
              else "geometry only"),
             ("exposed", f"{100 * s['exposed_fraction']:.2f}% ({_hours(s['exposed_s'])})"),
             ("longest unobserved", f"{_hours(s['longest_unobserved_s'])} from "
                                    f"{_cell(s['longest_unobserved_start'])} to "
                                    f"{_cell(s['longest_unobserved_end'])}"),
             ("next exposure", f"{_cell(s['next_exposure'])} "
                               f"({', '.join(s['next_exposure_satellites'])})"),
             ("satellites", f"{s['satellites']} watching of {s['satellites_computed']} "
                            f"computed; {len(result.skipped)} left out"),
             ("intervals", str(s["intervals"]))]
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{html.escape('Exposure of ' + result.target)}</title>"
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>{html.escape('Exposure of ' + result.target)}</h1>",
             "<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                                 for k, v in facts) + "</table>",
             *[f"<p>⚠ {html.escape(w)}</p>" for w in result.warnings],
             f"<figure>{svg}</figure>",
             "<h2>Longest unobserved intervals</h2>",
             _table([u_row(u) for u in result.unobserved().records[:20]],
                    ["start", "end", "hours"])]
    for b in by:
        parts += [f"<h2>By {html.escape(b)}</h2>",
                  _table([breakdown_row(k) for k in result.breakdown(b)], BREAKDOWN_COLUMNS)]
    rows = result.rows()[:max_rows]
    more = len(result) - len(rows)
    parts += ["<h2>Exposure intervals</h2>",
              _table(rows, ["start", "end", "duration_s", "satellites", "countries", "kinds",
                            "best_gsd_m"]),
              f"<p>… and {more} more</p>" if more > 0 else "",
              "<p><small>Nominal sensor rules, element sets as given, no weather: see "
              "docs/exposure.md.</small></p></body></html>"]
    return "\n".join(parts)


CSV_COLUMNS = ["status", "by", "key", "start", "end", "duration_s", "satellites", "norad_ids",
               "countries", "kinds", "windows", "best_gsd_m"]
"""Columns of :meth:`Exposure.csv_rows`."""

BREAKDOWN_COLUMNS = ["key", "satellites", "windows", "exposed %", "longest gap h",
                     "gap from", "gap to", "first exposure"]


def breakdown_row(k: KeyStats) -> dict[str, Any]:
    """A :class:`KeyStats` as people read it (percent, hours, times)."""
    return {"key": k.key, "satellites": k.satellites, "windows": k.windows,
            "exposed %": f"{100 * k.exposed_fraction:.2f}",
            "longest gap h": f"{k.longest_unobserved_s / 3600:.2f}",
            "gap from": _cell(k.longest_unobserved_start),
            "gap to": _cell(k.longest_unobserved_end), "first exposure": _cell(k.next_exposure)}


def u_row(u: UnobservedInterval) -> dict[str, Any]:
    """An unobserved interval as people read it."""
    return {"key": u.key or "", "start": _cell(u.start), "end": _cell(u.end),
            "hours": f"{u.duration_s / 3600:.2f}"}

