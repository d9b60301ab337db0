"""Imaging sensors of known satellites: resolution per mode, reach, lighting rule and sources.

The shipped table (``data/sensors.yaml``) gives public figures with their sources; users
override or extend it with a file of the same form (or of the older flat form). Layout, units
and conventions: ``docs/sensors.md``.

* :func:`shipped_sensors` / :func:`load_sensors`: the **imaging** entries by NORAD id (every
  value has a usable ``nadir_gsd_m`` and ``ref_alt_km``), as callers have always used them.
* :func:`shipped_table` / :func:`load_table`: every entry, including satellites known *not* to
  image (``images: false``, with a ``reason``), so tools can leave those out with a reason.
* :func:`sensor_rows`: the table as flat rows with unit-suffixed keys (``overflight sensors``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from overflight.constants import MEAN_EARTH_RADIUS_KM
from overflight.errors import OverflightError

__all__ = ["Sensor", "SensorError", "load_sensors", "shipped_sensors"]
# Also public (not pinned in ``__all__`` yet): SensorMode, KINDS, LOOK_SIDES, CONFIDENCE_LEVELS,
# DEFAULT_SUN_MIN_DEG, shipped_table, load_table, sensor_rows.

KINDS = ("optical", "sar", "infrared", "video", "hyperspectral")
DAYLIGHT_KINDS = frozenset({"optical", "video", "hyperspectral"})
RADAR_KINDS = frozenset({"sar"})
LOOK_SIDES = ("left", "right", "both")
CONFIDENCE_LEVELS = ("official", "estimate", "unverified")
DEFAULT_SUN_MIN_DEG = 10.0
MAX_OFF_NADIR_LIMIT_DEG = 70.0

_COUNTRY = re.compile(r"^[A-Z]{3}(/[A-Z]{3})*$")
_ORGANISATIONS = frozenset({"ESA", "EUMETSAT"})

# Fields of a satellite entry (new form) and of a shared definition; modes have their own.
_DEFINITION_FIELDS = frozenset({
    "kind", "operator", "country", "confidence", "images", "reason", "modes",
    "nadir_gsd_m", "ref_alt_km", "max_off_nadir_deg", "incidence_min_deg",
    "incidence_max_deg", "look_side", "sun_min_deg", "source", "sources", "note",
    "imaging_ended",
})
_ENTRY_FIELDS = _DEFINITION_FIELDS | {"norad_id", "name", "sensor", "in_snapshot"}
_MODE_FIELDS = frozenset({"name", "gsd_m", "ref_alt_km", "kind", "swath_km", "source", "note",
                          "max_off_nadir_deg", "incidence_min_deg", "incidence_max_deg"})


class SensorError(OverflightError):
    """A malformed sensors file (one-line message naming file, entry and field)."""


@dataclass(frozen=True, slots=True)
class SensorMode:
    """One imaging mode: nominal resolution ``gsd_m`` (m) at ``ref_alt_km`` (km).

    Optical/infrared: ground sample distance at nadir. SAR: the resolution the operator quotes
    for the mode (ground range × azimuth, best figure). ``kind``: the mode's own kind where it
    differs from the satellite's (a thermal band of an optical imager images at night). The
    mode's own reach (``max_off_nadir_deg`` or the incidence range) where it differs from the
    satellite's (None: as the satellite).
    """

    name: str
    gsd_m: float
    ref_alt_km: float
    kind: str = "optical"
    swath_km: float | None = None
    source: str = ""
    note: str = ""
    max_off_nadir_deg: float | None = None
    incidence_min_deg: float | None = None
    incidence_max_deg: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"name": self.name, "gsd_m": self.gsd_m, "ref_alt_km": self.ref_alt_km,
                "kind": self.kind, "swath_km": self.swath_km, "source": self.source,
                "note": self.note, "max_off_nadir_deg": self.max_off_nadir_deg,
                "incidence_min_deg": self.incidence_min_deg,
                "incidence_max_deg": self.incidence_max_deg}


@dataclass(frozen=True, slots=True)
class Sensor:
    """A satellite's imaging capability (or the fact that it does not image).

    Flat fields, kept for older callers: ``nadir_gsd_m`` at ``ref_alt_km`` is the best mode of
    the satellite's own kind; ``max_off_nadir_deg`` the collection limit (for radar derived
    from ``incidence_max_deg`` at ``ref_alt_km`` unless given). ``source`` is the first source.
    Non-imaging entries (``images`` false) have NaN ``nadir_gsd_m``/``ref_alt_km``.
    ``imaging_ended``: 00:00 UTC of the first day the satellite no longer imaged (its imaging
    mission ended; None: not known to have ended); imaging jobs give no windows from then on.
    """

    norad_id: int
    name: str
    nadir_gsd_m: float
    ref_alt_km: float
    max_off_nadir_deg: float | None = None
    kind: str = "optical"
    source: str = ""
    operator: str = ""
    country: str = ""
    confidence: str = "official"
    images: bool = True
    modes: tuple[SensorMode, ...] = ()
    incidence_min_deg: float | None = None
    incidence_max_deg: float | None = None
    look_side: str | None = None
    sun_min_deg: float | None = None
    sources: tuple[str, ...] = ()
    in_snapshot: bool = True
    note: str = ""
    reason: str = ""
    sensor: str = ""
    imaging_ended: datetime | None = None

    @property
    def is_imager(self) -> bool:
        """True where the satellite images the ground (``images`` and a usable resolution)."""
        return self.images and math.isfinite(self.nadir_gsd_m) and self.nadir_gsd_m > 0

    @property
    def is_radar(self) -> bool:
        return self.kind in RADAR_KINDS

    @property
    def needs_daylight(self) -> bool:
        """Optical, video and hyperspectral need the target sunlit; SAR and thermal do not."""
        return self.is_imager and self.kind in DAYLIGHT_KINDS

    @property
    def sun_rule_deg(self) -> float | None:
        """Minimum Sun elevation at the target (deg) for this sensor, None where none applies:
        ``sun_min_deg`` if given, else :data:`DEFAULT_SUN_MIN_DEG` for daylight kinds."""
        if not self.needs_daylight:
            return None
        return DEFAULT_SUN_MIN_DEG if self.sun_min_deg is None else self.sun_min_deg

    def within_reach(self, off_nadir_deg: float | None = None,
                     incidence_deg: float | None = None) -> bool:
        """Whether a look is within the collection limits.

        Optical kinds: ``off_nadir_deg ≤ max_off_nadir_deg``. Radar: ``incidence_deg`` inside
        ``[incidence_min_deg, incidence_max_deg]`` (falling back on the off-nadir limit where
        the table gives no incidence range). A limit the table does not give does not restrict;
        an angle needed but not given (None) is out of reach. Non-imagers reach nothing.
        """
        if not self.is_imager:
            return False
        if self.is_radar and (self.incidence_min_deg is not None
                              or self.incidence_max_deg is not None):
            if incidence_deg is None:
                return False
            lo = 0.0 if self.incidence_min_deg is None else self.incidence_min_deg
            hi = 90.0 if self.incidence_max_deg is None else self.incidence_max_deg
            return lo <= incidence_deg <= hi
        if self.max_off_nadir_deg is None:
            return True
        return off_nadir_deg is not None and abs(off_nadir_deg) <= self.max_off_nadir_deg

    def gsd_m(self, range_km: float, incidence_deg: float) -> float | None:
        """Geometric-mean GSD (m) at a slant range and incidence (see ``overflight.gsd``)."""
        if not self.is_imager:
            return None
        value = float(self.gsd_m_array(range_km, incidence_deg))
        return None if value != value else value  # NaN: not in view

    def gsd_m_array(self, range_km: Any, incidence_deg: Any) -> Any:
        """:meth:`gsd_m` over arrays (broadcast; NaN out of view or for a non-imager)."""
        import numpy as np

        from overflight.gsd import gsd

        if not self.is_imager:
            shape = np.broadcast(np.asarray(range_km), np.asarray(incidence_deg)).shape
            return np.full(shape, np.nan)
        return gsd(self.nadir_gsd_m, self.ref_alt_km, range_km, incidence_deg).mean_m

    def resolution_m(self, range_km: float, incidence_deg: float) -> float | None:
        """Best resolution (m) at a look: :meth:`gsd_m` for optical kinds; for SAR the radar
        model of ``docs/sensors.md`` (azimuth resolution independent of range; ground-range
        resolution = slant-range resolution / sin(incidence), the quoted figure taken at the
        middle of the incidence range), geometric mean of the two. None out of view."""
        if not self.is_imager:
            return None
        value = float(self.resolution_m_array(range_km, incidence_deg))
        return None if value != value else value  # NaN: not in view

    def resolution_m_array(self, range_km: Any, incidence_deg: Any) -> Any:
        """:meth:`resolution_m` over arrays (broadcast; NaN out of view or for a
        non-imager): the one home of the per-look resolution model."""
        import numpy as np

        from overflight.gsd import gsd

        rng = np.asarray(range_km, dtype=np.float64)
        inc = np.asarray(incidence_deg, dtype=np.float64)
        if not self.is_imager:
            return np.full(np.broadcast(rng, inc).shape, np.nan)
        if not self.is_radar:
            return gsd(self.nadir_gsd_m, self.ref_alt_km, rng, inc).mean_m
        lo = 20.0 if self.incidence_min_deg is None else self.incidence_min_deg
        hi = 45.0 if self.incidence_max_deg is None else self.incidence_max_deg
        ref = math.radians(max((lo + hi) / 2.0, 1.0))
        slant = self.nadir_gsd_m * math.sin(ref)
        visible = (inc > 0.0) & (inc < 90.0) & (rng > 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ground_range = slant / np.sin(np.radians(inc))
            return np.where(visible, np.sqrt(ground_range * self.nadir_gsd_m), np.nan)

    def best_resolution_m(self, altitude_km: float) -> float:
        """Finest resolution (m) this sensor's model gives from ``altitude_km`` (km, above a
        spherical Earth): optical kinds at nadir (the GSD only grows with range and
        incidence); radar over its incidence band (it is finest at the band's far edge).
        NaN for a non-imager."""
        import numpy as np

        from overflight.constants import MEAN_EARTH_RADIUS_KM
        from overflight.gsd import spherical_slant_geometry

        if not self.is_imager:
            return math.nan
        h = max(float(altitude_km), 1e-3)
        if not self.is_radar:
            return float(self.resolution_m_array(h, 0.0))
        lo = 20.0 if self.incidence_min_deg is None else self.incidence_min_deg
        hi = 45.0 if self.incidence_max_deg is None else self.incidence_max_deg
        inc = np.linspace(lo, hi, 65)
        r = MEAN_EARTH_RADIUS_KM
        off = np.degrees(np.arcsin(r / (r + h) * np.sin(np.radians(inc))))
        rng = spherical_slant_geometry(h, off).range_km
        return float(np.nanmin(self.resolution_m_array(rng, inc)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN as None)."""
        return {
            "norad_id": self.norad_id,
            "name": self.name,
            "nadir_gsd_m": _finite_or_none(self.nadir_gsd_m),
            "ref_alt_km": _finite_or_none(self.ref_alt_km),
            "max_off_nadir_deg": self.max_off_nadir_deg,
            "kind": self.kind,
            "source": self.source,
            "operator": self.operator,
            "country": self.country,
            "confidence": self.confidence,
            "images": self.images,
            "reason": self.reason,
            "modes": [m.to_dict() for m in self.modes],
            "incidence_min_deg": self.incidence_min_deg,
            "incidence_max_deg": self.incidence_max_deg,
            "look_side": self.look_side,
            "sun_min_deg": self.sun_min_deg,
            "sources": list(self.sources),
            "in_snapshot": self.in_snapshot,
            "note": self.note,
            "sensor": self.sensor,
            "imaging_ended": _day_or_none(self.imaging_ended),
        }


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _day_or_none(t: datetime | None) -> str | None:
    return None if t is None else f"{t:%Y-%m-%d}"


def off_nadir_for_incidence(incidence_deg: float, altitude_km: float) -> float:
    """Off-nadir angle (deg) of a look from ``altitude_km`` that meets a spherical Earth at
    ``incidence_deg``: ``sin(off_nadir) = R / (R + h) × sin(incidence)``."""
    r = MEAN_EARTH_RADIUS_KM
    s = r / (r + altitude_km) * math.sin(math.radians(incidence_deg))
    return math.degrees(math.asin(s))


# ---- parsing ---------------------------------------------------------------------------------


class _Where:
    """Builds one-line error messages: ``file: entry: field: problem``."""

    def __init__(self, source: str, entry: str) -> None:
        self.source, self.entry = source, entry

    def error(self, field_name: str | None, problem: str) -> SensorError:
        where = f"{self.source}: {self.entry}"
        return SensorError(f"{where}: {field_name}: {problem}" if field_name
                           else f"{where}: {problem}")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _number(row: Mapping[str, Any], key: str, w: _Where, *, required: bool = False,
            lo: float | None = None, hi: float | None = None,
            positive: bool = False) -> float | None:
    value = row.get(key)
    if value is None:
        if required:
            raise w.error(key, "is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise w.error(key, f"must be a number, got {_one_line(repr(value))}")
    try:
        x = float(value)
    except ValueError:
        raise w.error(key, f"must be a number, got {_one_line(repr(value))}") from None
    if not math.isfinite(x):
        raise w.error(key, f"must be finite, got {value!r}")
    if positive and x <= 0:
        raise w.error(key, f"must be positive, got {value!r}")
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise w.error(key, f"must be within {lo:g}–{hi:g}°, got {value!r}")
    return x


def _text(row: Mapping[str, Any], key: str, w: _Where, default: str = "") -> str:
    value = row.get(key)
    if value is None:
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise w.error(key, f"must be text, got {_one_line(repr(value))}")
    return _one_line(str(value))


def _choice(row: Mapping[str, Any], key: str, w: _Where, allowed: Iterable[str],
            default: str | None) -> str | None:
    value = row.get(key)
    if value is None:
        return default
    allowed = tuple(allowed)
    if not isinstance(value, str) or value.lower() not in allowed:
        raise w.error(key, f"must be one of {', '.join(allowed)}, got {_one_line(repr(value))}")
    return value.lower()


def _flag(row: Mapping[str, Any], key: str, w: _Where, default: bool) -> bool:
    value = row.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise w.error(key, f"must be true or false, got {_one_line(repr(value))}")
    return value


def _day(row: Mapping[str, Any], key: str, w: _Where) -> datetime | None:
    """A calendar date (YAML date or ``YYYY-MM-DD`` text) as 00:00 UTC of that day."""
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise w.error(key, f"must be a date YYYY-MM-DD (UTC), got {_one_line(repr(row[key]))}")
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _sources(row: Mapping[str, Any], w: _Where) -> tuple[str, ...]:
    out: list[str] = []
    single = row.get("source")
    if single is not None:
        out.append(_text(row, "source", w))
    many = row.get("sources")
    if many is not None:
        if isinstance(many, str):
            many = [many]
        if not isinstance(many, list) or not all(isinstance(s, str) for s in many):
            raise w.error("sources", "must be a list of texts (URLs or citations)")
        out.extend(_one_line(s) for s in many)
    return tuple(s for s in out if s)


def _modes(row: Mapping[str, Any], w: _Where, kind: str, ref_alt: float | None,
           strict: bool) -> tuple[SensorMode, ...]:
    raw = row.get("modes")
    if raw is None:
        gsd = _number(row, "nadir_gsd_m", w, required=True, positive=True)
        alt = _number(row, "ref_alt_km", w, required=True, positive=True)
        assert gsd is not None and alt is not None
        return (SensorMode("nominal", gsd, alt, kind),)
    if row.get("nadir_gsd_m") is not None:
        raise w.error("nadir_gsd_m", "give either modes or nadir_gsd_m, not both")
    if not isinstance(raw, list) or not raw:
        raise w.error("modes", "must be a non-empty list of mappings")
    out: list[SensorMode] = []
    for i, m in enumerate(raw, start=1):
        if not isinstance(m, Mapping):
            raise w.error(f"modes[{i}]", "must be a mapping")
        name = _text(m, "name", w) or f"mode {i}"
        mw = _Where(w.source, f"{w.entry}: mode {name!r}")
        if strict:
            unknown = sorted(set(map(str, m)) - _MODE_FIELDS)
            if unknown:
                raise mw.error(unknown[0], "unknown field")
        gsd = _number(m, "gsd_m", mw, required=True, positive=True)
        alt = _number(m, "ref_alt_km", mw, positive=True)
        if alt is None:
            alt = ref_alt
        if alt is None:
            raise mw.error("ref_alt_km", "is missing (on the mode or the entry)")
        assert gsd is not None
        mkind = _choice(m, "kind", mw, KINDS, kind)
        assert mkind is not None
        lo = _number(m, "incidence_min_deg", mw, lo=0.0, hi=90.0)
        hi = _number(m, "incidence_max_deg", mw, lo=0.0, hi=90.0)
        if lo is not None and hi is not None and not lo < hi:
            raise mw.error("incidence_min_deg",
                           f"must be less than incidence_max_deg ({lo:g} ≥ {hi:g})")
        out.append(SensorMode(
            name, gsd, alt, mkind, _number(m, "swath_km", mw, positive=True),
            _text(m, "source", mw), _text(m, "note", mw),
            _number(m, "max_off_nadir_deg", mw, lo=0.0, hi=MAX_OFF_NADIR_LIMIT_DEG), lo, hi))
    return tuple(out)


def _entry(row: Mapping[str, Any], w: _Where, *, strict: bool, snapshot_default: bool) -> Sensor:
    """One satellite entry (already merged with its shared definition)."""
    if strict:
        unknown = sorted(set(map(str, row)) - _ENTRY_FIELDS)
        if unknown:
            raise w.error(unknown[0], "unknown field")
    norad = row.get("norad_id")
    if isinstance(norad, bool) or not isinstance(norad, int | str):
        raise w.error("norad_id", "is missing" if norad is None
                      else f"must be a whole number, got {_one_line(repr(norad))}")
    try:
        norad_id = int(norad)
    except ValueError:
        raise w.error("norad_id", f"must be a whole number, got {norad!r}") from None
    if not 0 < norad_id < 1_000_000_000:
        raise w.error("norad_id", f"must be positive, got {norad!r}")
    name = _text(row, "name", w)
    kind = _choice(row, "kind", w, KINDS, None if strict else "optical")
    images = _flag(row, "images", w, True)
    confidence = _choice(row, "confidence", w, CONFIDENCE_LEVELS,
                         "official" if strict or row.get("source") else "unverified")
    assert confidence is not None
    sources = _sources(row, w)
    common: dict[str, Any] = {
        "operator": _text(row, "operator", w), "country": _text(row, "country", w),
        "confidence": confidence, "sources": sources, "source": sources[0] if sources else "",
        "in_snapshot": _flag(row, "in_snapshot", w, snapshot_default),
        "note": _text(row, "note", w), "sensor": _text(row, "sensor", w),
    }
    ended = _day(row, "imaging_ended", w)
    if common["country"] and not (_COUNTRY.match(common["country"])
                                  or common["country"] in _ORGANISATIONS):
        raise w.error("country", "must be ISO 3166-1 alpha-3 codes joined by '/' (or ESA, "
                      f"EUMETSAT), got {common['country']!r}")
    if strict and not sources:
        raise w.error("sources", "every entry needs a source (URL or citation)")

    if not images:
        reason = _text(row, "reason", w)
        if not reason:
            raise w.error("reason", "is missing (say why the satellite does not image)")
        if ended is not None:
            raise w.error("imaging_ended", "only for imaging entries (this one has images: "
                          "false)")
        return Sensor(norad_id=norad_id, name=name, nadir_gsd_m=math.nan, ref_alt_km=math.nan,
                      kind=kind or "", images=False, reason=reason, **common)

    if kind is None:
        raise w.error("kind", f"is missing (one of {', '.join(KINDS)})")
    entry_alt = _number(row, "ref_alt_km", w, positive=True)
    modes = _modes(row, w, kind, entry_alt, strict)
    own = [m for m in modes if m.kind == kind] or list(modes)
    best = min(own, key=lambda m: m.gsd_m)

    off = _number(row, "max_off_nadir_deg", w, lo=0.0, hi=MAX_OFF_NADIR_LIMIT_DEG)
    inc_lo = _number(row, "incidence_min_deg", w, lo=0.0, hi=90.0)
    inc_hi = _number(row, "incidence_max_deg", w, lo=0.0, hi=90.0)
    look = _choice(row, "look_side", w, LOOK_SIDES, None)
    sun = _number(row, "sun_min_deg", w, lo=-20.0, hi=90.0)
    if inc_lo is not None and inc_hi is not None and not inc_lo < inc_hi:
        raise w.error("incidence_min_deg",
                      f"must be less than incidence_max_deg ({inc_lo:g} ≥ {inc_hi:g})")
    if kind in RADAR_KINDS:
        if strict:
            for key, val in (("incidence_min_deg", inc_lo), ("incidence_max_deg", inc_hi),
                             ("look_side", look)):
                if val is None:
                    raise w.error(key, "is missing (radar reach)")
        if off is None and inc_hi is not None:
            off = round(off_nadir_for_incidence(inc_hi, best.ref_alt_km), 1)
    elif strict and off is None:
        raise w.error("max_off_nadir_deg", "is missing (optical reach)")
    if kind in DAYLIGHT_KINDS:
        if sun is None and strict:
            sun = DEFAULT_SUN_MIN_DEG
    elif sun is not None:
        raise w.error("sun_min_deg", f"must be null for {kind} (no lighting rule)")
    if row.get("reason"):
        raise w.error("reason", "only for entries with images: false")
    return Sensor(norad_id=norad_id, name=name, nadir_gsd_m=best.gsd_m,
                  ref_alt_km=best.ref_alt_km, max_off_nadir_deg=off, kind=kind, modes=modes,
                  incidence_min_deg=inc_lo, incidence_max_deg=inc_hi, look_side=look,
                  sun_min_deg=sun, imaging_ended=ended, **common)


def _label(row: Mapping[str, Any], i: int) -> str:
    nid, name = row.get("norad_id"), row.get("name")
    if nid is not None and name:
        return f"entry {i} ({nid} {_one_line(str(name))})"
    if nid is not None or name:
        return f"entry {i} ({_one_line(str(nid if nid is not None else name))})"
    return f"entry {i}"


def _load_yaml(text: str, source: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date such as 2019-13-01
        raise SensorError(f"{source}: not valid YAML ({_one_line(str(exc))})") from None


def _parse(text: str, source: str,
           base_definitions: Mapping[str, Any] | None = None) -> dict[int, Sensor]:
    """Every entry of a sensors file by NORAD id (see :func:`_parse_doc`)."""
    return _parse_doc(text, source, base_definitions)[0]


def _parse_doc(text: str, source: str, base_definitions: Mapping[str, Any] | None = None
               ) -> tuple[dict[int, Sensor], dict[str, Any]]:
    """Every entry of a sensors file by NORAD id, and the file's shared definitions.

    ``base_definitions`` (the shipped ones, for a user file) can be referenced by ``sensor:``
    too; the file's own definitions of the same name take precedence.

    New form: a mapping with ``satellites`` (list) and optional ``definitions`` (shared sensor
    definitions by name, referenced by ``sensor:``); strict validation. Old form: a list, or a
    mapping with ``sensors`` (list) of flat entries; lenient as before (no source or reach
    required, unknown fields ignored), but still checked for kinds, ranges and duplicates.
    """
    doc = _load_yaml(text, source)
    definitions: dict[str, Any] = dict(base_definitions or {})
    if isinstance(doc, Mapping) and "satellites" in doc:
        strict, rows = True, doc.get("satellites")
        raw_defs = doc.get("definitions") or {}
        if not isinstance(raw_defs, Mapping):
            raise SensorError(f"{source}: definitions: expected a mapping of name to sensor")
        for dname, d in raw_defs.items():
            if not isinstance(d, Mapping):
                raise SensorError(f"{source}: definition {dname!r}: expected a mapping")
            unknown = sorted(set(map(str, d)) - _DEFINITION_FIELDS)
            if unknown:
                raise SensorError(f"{source}: definition {dname!r}: {unknown[0]}: unknown field")
            definitions[str(dname)] = d
    else:
        strict = False
        rows = doc.get("sensors") if isinstance(doc, Mapping) else doc
    if not isinstance(rows, list):
        raise SensorError(f"{source}: expected a list under 'satellites' (or 'sensors')")
    out: dict[int, Sensor] = {}
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise SensorError(f"{source}: entry {i}: expected a mapping")
        w = _Where(source, _label(row, i))
        ref = row.get("sensor")
        if ref is not None:
            if not strict:
                raise w.error("sensor", "shared definitions need the 'satellites' form")
            if not isinstance(ref, str) or ref not in definitions:
                raise w.error("sensor", f"no definition named {ref!r}")
            row = {**definitions[ref], **row}
        sensor = _entry(row, w, strict=strict, snapshot_default=True)
        if sensor.norad_id in out:
            raise w.error("norad_id", f"duplicate NORAD id {sensor.norad_id} "
                          f"(also {out[sensor.norad_id].name or 'an earlier entry'})")
        out[sensor.norad_id] = sensor
    return out, definitions


# ---- the table -------------------------------------------------------------------------------


@functools.cache
def _shipped() -> tuple[dict[int, Sensor], dict[str, Any]]:
    text = resources.files("overflight").joinpath("data/sensors.yaml").read_text("utf-8")
    return _parse_doc(text, "sensors.yaml")


def shipped_table() -> dict[int, Sensor]:
    """Every entry of the shipped table by NORAD id, non-imaging ones included (parsed once;
    the dict is shared: copy it before changing it)."""
    return _shipped()[0]


def shipped_definitions() -> dict[str, Any]:
    """The shipped shared sensor definitions by name (raw mappings), which a user file can
    reference with ``sensor:`` (e.g. ``sensor: iceye`` with the NORAD id of an ICEYE)."""
    return dict(_shipped()[1])


@functools.cache
def shipped_sensors() -> dict[int, Sensor]:
    """The imaging sensors shipped with overflight, by NORAD id."""
    return {k: s for k, s in shipped_table().items() if s.is_imager}


def load_table(path: str | Path | None = None) -> dict[int, Sensor]:
    """Every shipped entry, overridden/extended entry by entry by the file at ``path``."""
    table = dict(shipped_table())
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise SensorError(f"{p}: cannot read sensors file ({exc.strerror})") from None
        table.update(_parse(text, p.name, _shipped()[1]))
    return table


def load_sensors(path: str | Path | None = None) -> dict[int, Sensor]:
    """Shipped imaging sensors, overridden/extended by the file at ``path`` if given (an entry
    there with ``images: false`` removes the satellite)."""
    if path is None:
        return dict(shipped_sensors())
    return {k: s for k, s in load_table(path).items() if s.is_imager}


def sensor_matches(s: Sensor, *, kinds: Iterable[str] = (), max_gsd_m: float | None = None,
                   countries: Iterable[str] = (), operators: Iterable[str] = (),
                   altitude_km: float | None = None) -> str:
    """Why ``s`` fails the filters ("" when it passes; no filter: everything passes).

    ``kinds``: the entry's kind; ``max_gsd_m``: best resolution at most, m: from
    ``altitude_km`` (km, the lowest the satellite flies: :meth:`Sensor.best_resolution_m`)
    when given, else the nominal ``nadir_gsd_m``; ``countries``: ISO alpha-3 (a joint
    mission matches each); ``operators``: text in the operator's name (case-insensitive).
    With any filter, non-imagers fail.
    """
    want_kinds = {k.lower() for k in kinds}
    want_countries = {c.upper() for c in countries}
    want_ops = [o.lower() for o in operators]
    if not (want_kinds or want_countries or want_ops or max_gsd_m is not None):
        return ""
    if not s.is_imager:
        return "does not image"
    if want_kinds and s.kind not in want_kinds:
        return f"kind {s.kind} not selected"
    if max_gsd_m is not None:
        if altitude_km is None:
            if s.nadir_gsd_m > max_gsd_m:
                return f"best resolution {s.nadir_gsd_m:g} m coarser than {max_gsd_m:g} m"
        else:
            best = s.best_resolution_m(altitude_km)
            if best > max_gsd_m:
                return (f"best resolution {best:.3g} m (from {altitude_km:.0f} km) coarser "
                        f"than {max_gsd_m:g} m")
    if want_countries and not want_countries & set(s.country.upper().split("/")):
        return f"country {s.country or 'unknown'} not selected"
    if want_ops and not any(o in s.operator.lower() for o in want_ops):
        return f"operator {s.operator or 'unknown'} not selected"
    return ""


def check_filters(kinds: Iterable[str] = (), max_gsd_m: float | None = None) -> None:
    """Raise SensorError for an unknown kind or a ``max_gsd_m`` that is not a finite positive
    number."""
    bad = sorted({k for k in kinds if k.lower() not in KINDS})
    if bad:
        raise SensorError(f"kinds: {bad[0]!r} is not one of {', '.join(KINDS)}")
    if max_gsd_m is not None and not (math.isfinite(max_gsd_m) and max_gsd_m > 0):
        raise SensorError(f"max_gsd_m: must be a finite positive number, not {max_gsd_m}")


def filter_table(table: Mapping[int, Sensor], *, kinds: Iterable[str] = (),
                 max_gsd_m: float | None = None, countries: Iterable[str] = (),
                 operators: Iterable[str] = ()) -> dict[int, Sensor]:
    """The entries of ``table`` passing :func:`sensor_matches`."""
    kinds = list(kinds)
    check_filters(kinds, max_gsd_m)
    return {k: s for k, s in table.items()
            if not sensor_matches(s, kinds=kinds, max_gsd_m=max_gsd_m, countries=countries,
                                  operators=operators)}


def _modes_text(s: Sensor) -> str:
    return "; ".join(f"{m.name} {m.gsd_m:g} m @ {m.ref_alt_km:g} km"
                     + (f" ({m.kind})" if m.kind != s.kind else "") for m in s.modes)


def sensor_rows(table: Mapping[int, Sensor]) -> list[dict[str, Any]]:
    """The table as flat rows (sorted by NORAD id) with unit-suffixed keys, for listing."""
    rows: list[dict[str, Any]] = []
    for nid in sorted(table):
        s = table[nid]
        rows.append({
            "norad_id": s.norad_id,
            "name": s.name,
            "images": s.images,
            "kind": s.kind if s.images else None,
            "operator": s.operator,
            "country": s.country,
            "best_gsd_m": _finite_or_none(s.nadir_gsd_m),
            "ref_alt_km": _finite_or_none(s.ref_alt_km),
            "max_off_nadir_deg": s.max_off_nadir_deg,
            "incidence_min_deg": s.incidence_min_deg,
            "incidence_max_deg": s.incidence_max_deg,
            "look_side": s.look_side,
            "sun_min_deg": s.sun_rule_deg,
            "modes": _modes_text(s),
            "confidence": s.confidence,
            "in_snapshot": s.in_snapshot,
            "reason": s.reason,
            "imaging_ended": _day_or_none(s.imaging_ended),
            "source": s.source,
            "sources": list(s.sources),
        })
    return rows
