"""Imaging-claim verification: could this satellite have imaged this place at this time?

A :class:`Claim` names a satellite, a target and a claimed time (or interval). :func:`verify_claim`
checks it against the element sets in a catalog and returns a :class:`ClaimResult` with a verdict
(``consistent``, ``inconsistent`` or ``cannot-verify``), every reason spelled out in words, and
the evidence: element sets used, closest approach, geometry, lighting, estimated GSD and whether a
maneuver separates the element sets around the claim. The rules are in ``docs/claims.md``.

Claims files (YAML or CSV) are read by :func:`read_claims`; a malformed claim becomes a
:class:`ClaimProblem` naming file and line, and the other claims still run.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from overflight.elements import MU_KM3_S2, ElementSet
from overflight.errors import OverflightError
from overflight.geometry import Site

if TYPE_CHECKING:
    from overflight.access import Window
    from overflight.catalog import Catalog
    from overflight.sensors import Sensor

__all__ = [
    "CANNOT_VERIFY",
    "CONSISTENT",
    "ERROR",
    "FIELDS",
    "INCONSISTENT",
    "Claim",
    "ClaimError",
    "ClaimProblem",
    "ClaimResult",
    "ClaimsFile",
    "ClaimsFileError",
    "DataNeeded",
    "Geometry",
    "ManeuverCheck",
    "Opportunity",
    "VerifyOptions",
    "check_maneuver",
    "claim_from_fields",
    "data_needed_summary",
    "parse_claims_text",
    "read_claims",
    "render_html",
    "render_markdown",
    "verify_claim",
    "verify_claims",
]

CONSISTENT = "consistent"
INCONSISTENT = "inconsistent"
CANNOT_VERIFY = "cannot-verify"
ERROR = "error"  # the claim itself could not be read (not a verdict about the satellite)

#: Fields of a claim (YAML keys / CSV columns).
FIELDS = (
    "id", "satellite", "target", "lat", "lon", "time", "time_end", "zone", "tolerance_s",
    "max_off_nadir_deg", "nadir_gsd_m", "sensor", "source", "notes",
)
_REQUIRED = ("satellite", "target", "time")
_MAX_INTERVAL = timedelta(days=7)
_GROUND_RADIUS_KM = 6371.0088  # mean Earth radius, for ground distances on a sphere


class ClaimError(OverflightError):
    """One malformed claim: ``file:line: claim 'id': field: problem`` on one line."""


class ClaimsFileError(OverflightError):
    """A claims file that cannot be used at all (unreadable, not YAML/CSV, wrong shape)."""


# ---- claims ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """An imaging claim. Times aware UTC; ``time_end`` set for a claimed interval.

    ``tolerance_s``: how far (s) the real imaging time may be from the claimed one (None: the
    verification default). ``max_off_nadir_deg`` / ``nadir_gsd_m`` / ``sensor`` ('optical' or
    'sar'): sensor limits claimed or known (None: the sensor table, then defaults).
    """

    id: str
    satellite: str
    target: Site
    time: datetime
    time_end: datetime | None = None
    time_text: str = ""
    zone: str | None = None
    tolerance_s: float | None = None
    max_off_nadir_deg: float | None = None
    nadir_gsd_m: float | None = None
    sensor: str | None = None
    source: str = ""
    notes: str = ""
    origin: str = ""  # file:line (or "command line")

    @property
    def end(self) -> datetime:
        """End of the claimed interval (= ``time`` for an instant)."""
        return self.time_end or self.time

    @property
    def midpoint(self) -> datetime:
        """Middle of the claimed interval."""
        return self.time + (self.end - self.time) / 2

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times ISO 8601 UTC)."""
        from overflight.times import format_utc

        return {
            "id": self.id,
            "satellite": self.satellite,
            "target": self.target.name,
            "target_lat_deg": self.target.lat_deg,
            "target_lon_deg": self.target.lon_deg,
            "time": format_utc(self.time, decimals=3),
            "time_end": None if self.time_end is None else format_utc(self.time_end, decimals=3),
            "time_as_given": self.time_text,
            "zone": self.zone,
            "tolerance_s": self.tolerance_s,
            "max_off_nadir_deg": self.max_off_nadir_deg,
            "nadir_gsd_m": self.nadir_gsd_m,
            "sensor": self.sensor,
            "source": self.source,
            "notes": self.notes,
            "origin": self.origin,
        }


@dataclass(frozen=True)
class ClaimProblem:
    """A claim that could not be read; ``message`` already names file, line and field."""

    claim_id: str | None
    origin: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ClaimsFile:
    """Claims and unreadable claims of one file, in file order."""

    path: str
    entries: tuple[Claim | ClaimProblem, ...]

    @property
    def claims(self) -> list[Claim]:
        return [e for e in self.entries if isinstance(e, Claim)]

    @property
    def problems(self) -> list[ClaimProblem]:
        return [e for e in self.entries if isinstance(e, ClaimProblem)]


FieldValue = str | dict[str, str | None] | None


def _number(
    text: str | None, name: str, where: str, *, low: float | None = None,
    high: float | None = None, low_open: bool = False,
) -> float | None:
    if text is None or not str(text).strip():
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ClaimError(f"{where}: {name}: not a number: {text!r}") from None
    if not math.isfinite(value):
        raise ClaimError(f"{where}: {name}: must be finite, got {text!r}")
    if low is not None and (value < low or (low_open and value == low)):
        op = ">" if low_open else ">="
        raise ClaimError(f"{where}: {name}: must be {op} {low:g}, got {value:g}")
    if high is not None and value >= high:
        raise ClaimError(f"{where}: {name}: must be < {high:g}, got {value:g}")
    return value


def _text(value: FieldValue, name: str, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        raise ClaimError(f"{where}: {name}: expected a single value, not a mapping")
    text = value.strip()
    return text or None


def _target(value: FieldValue, lat: str | None, lon: str | None, where: str) -> Site:
    from overflight.sites import SiteError, resolve_site

    name: str | None
    alt: str | None = None
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"name", "lat", "lon", "lat_deg", "lon_deg", "alt_m"})
        if unknown:
            raise ClaimError(
                f"{where}: target: unknown key {unknown[0]!r} (use name, lat, lon, alt_m)"
            )
        name = value.get("name")
        lat = value.get("lat") or value.get("lat_deg")
        lon = value.get("lon") or value.get("lon_deg")
        alt = value.get("alt_m")
        if lat is None or lon is None:
            raise ClaimError(f"{where}: target: a coordinate target needs lat and lon")
    else:
        name = value.strip() if value else None
    if lat is not None or lon is not None:
        if lat is None or lon is None:
            raise ClaimError(f"{where}: target: give both lat and lon")
        la = _number(lat, "target lat", where, low=-90.0)
        lo = _number(lon, "target lon", where, low=-180.0)
        al = _number(alt, "target alt_m", where) or 0.0
        assert la is not None and lo is not None
        if la > 90.0 or lo > 360.0:
            raise ClaimError(f"{where}: target: latitude {la:g} or longitude {lo:g} out of range")
        lo = lo - 360.0 if lo > 180.0 else lo
        return Site(name or f"{la:.4f},{lo:.4f}", la, lo, al)
    if not name:
        raise ClaimError(f"{where}: target: missing (a site name or lat/lon)")
    try:
        return resolve_site(name)
    except SiteError as exc:
        raise ClaimError(f"{where}: target: {exc}") from None


def claim_from_fields(
    values: Mapping[str, FieldValue],
    *,
    source: str = "command line",
    line: int | None = None,
    field_lines: Mapping[str, int] | None = None,
    default_id: str = "claim",
) -> Claim:
    """Build and check a :class:`Claim` from text fields (see :data:`FIELDS`).

    Raises :class:`ClaimError` with ``source:line: claim 'id': field: problem``.
    """
    from overflight.times import TimeError, parse_time

    lines = field_lines or {}
    cid = _text(values.get("id"), "id", source) or default_id

    def where(name: str | None = None) -> str:
        ln = lines.get(name, line) if name else line
        loc = f"{source}:{ln}" if ln is not None else source
        return f"{loc}: claim {cid!r}"

    unknown = [k for k in values if k not in FIELDS]
    if unknown:
        raise ClaimError(
            f"{where(unknown[0])}: unknown field {unknown[0]!r} (fields: {', '.join(FIELDS)})"
        )
    for name in _REQUIRED:
        if values.get(name) in (None, "") and not (
            name == "target" and values.get("lat") not in (None, "")
        ):
            raise ClaimError(f"{where()}: {name}: missing")
    satellite = _text(values.get("satellite"), "satellite", where("satellite"))
    assert satellite is not None
    target = _target(
        values.get("target"),
        _text(values.get("lat"), "lat", where("lat")),
        _text(values.get("lon"), "lon", where("lon")),
        where("target"),
    )
    zone = _text(values.get("zone"), "zone", where("zone"))
    time_text = _text(values.get("time"), "time", where("time")) or ""
    try:
        t0 = parse_time(time_text, zone=zone)
    except TimeError as exc:
        raise ClaimError(f"{where('time')}: time: {exc}") from None
    t1 = None
    end_text = _text(values.get("time_end"), "time_end", where("time_end"))
    if end_text:
        try:
            t1 = parse_time(end_text, zone=zone)
        except TimeError as exc:
            raise ClaimError(f"{where('time_end')}: time_end: {exc}") from None
        if t1 < t0:
            raise ClaimError(f"{where('time_end')}: time_end: before time ({end_text} < "
                             f"{time_text})")
        if t1 - t0 > _MAX_INTERVAL:
            raise ClaimError(f"{where('time_end')}: time_end: claimed interval longer than "
                             f"{_MAX_INTERVAL.days} days")
        if t1 == t0:
            t1 = None
    if zone:
        time_text = f"{time_text} {zone}"
    sensor = _text(values.get("sensor"), "sensor", where("sensor"))
    if sensor is not None:
        sensor = sensor.lower()
        if sensor not in ("optical", "sar"):
            raise ClaimError(f"{where('sensor')}: sensor: must be optical or sar, got {sensor!r}")
    return Claim(
        id=cid,
        satellite=satellite,
        target=target,
        time=t0,
        time_end=t1,
        time_text=time_text,
        zone=zone,
        tolerance_s=_number(_text(values.get("tolerance_s"), "tolerance_s", where()),
                            "tolerance_s", where("tolerance_s"), low=0.0),
        max_off_nadir_deg=_number(
            _text(values.get("max_off_nadir_deg"), "max_off_nadir_deg", where()),
            "max_off_nadir_deg", where("max_off_nadir_deg"), low=0.0, high=90.0, low_open=True,
        ),
        nadir_gsd_m=_number(_text(values.get("nadir_gsd_m"), "nadir_gsd_m", where()),
                            "nadir_gsd_m", where("nadir_gsd_m"), low=0.0, low_open=True),
        sensor=sensor,
        source=_text(values.get("source"), "source", where("source")) or "",
        notes=_text(values.get("notes"), "notes", where("notes")) or "",
        origin=f"{source}:{line}" if line is not None else source,
    )


# ---- claims files ------------------------------------------------------------------------


def read_claims(path: str | Path) -> ClaimsFile:
    """Claims from a YAML (``.yaml``/``.yml``/``.json``) or CSV (``.csv``) file.

    Raises :class:`ClaimsFileError` for an unusable file; malformed single claims become
    :class:`ClaimProblem` entries.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ClaimsFileError(f"{p}: no such claims file") from None
    except UnicodeDecodeError:
        raise ClaimsFileError(f"{p}: not a text file (UTF-8 expected)") from None
    except OSError as exc:
        raise ClaimsFileError(f"{p}: cannot read ({exc.strerror})") from None
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        kind = "yaml"
    elif suffix in (".csv", ".txt"):
        kind = "csv"
    else:
        raise ClaimsFileError(f"{p}: unknown claims file type {suffix!r} (use .yaml or .csv)")
    return parse_claims_text(text, p.name, kind=kind)


def parse_claims_text(text: str, source: str, *, kind: str = "yaml") -> ClaimsFile:
    """Claims from the text of a claims file (``kind`` 'yaml' or 'csv'); see :func:`read_claims`."""
    raw = _yaml_claims(text, source) if kind == "yaml" else _csv_claims(text, source)
    entries: list[Claim | ClaimProblem] = []
    seen: dict[str, str] = {}
    for i, (values, line, lines) in enumerate(raw, start=1):
        if isinstance(values, ClaimProblem):
            entries.append(values)
            continue
        try:
            claim = claim_from_fields(values, source=source, line=line, field_lines=lines,
                                      default_id=f"claim-{i}")
        except ClaimError as exc:
            cid = values.get("id")
            entries.append(ClaimProblem(cid if isinstance(cid, str) else None,
                                        f"{source}:{line}", str(exc)))
            continue
        if claim.id in seen:
            entries.append(ClaimProblem(
                claim.id, claim.origin,
                f"{claim.origin}: claim {claim.id!r}: id: duplicate (first at {seen[claim.id]})",
            ))
            continue
        seen[claim.id] = claim.origin
        entries.append(claim)
    return ClaimsFile(source, tuple(entries))


_Raw = tuple[dict[str, FieldValue] | ClaimProblem, int, dict[str, int]]


def _yaml_claims(text: str, source: str) -> list[_Raw]:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ClaimsFileError(f"{source}{line}: not valid YAML ({problem})") from None
    if root is None:
        raise ClaimsFileError(f"{source}: no claims in the file")
    defaults: dict[str, FieldValue] = {}
    items: Any = root
    if isinstance(root, yaml.MappingNode):
        items = None
        for key, value in root.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else None
            if k == "claims":
                items = value
            elif k == "defaults":
                if not isinstance(value, yaml.MappingNode):
                    raise ClaimsFileError(
                        f"{source}:{value.start_mark.line + 1}: defaults: expected a mapping"
                    )
                defaults, _ = _node_fields(value, source)
            else:
                raise ClaimsFileError(
                    f"{source}:{key.start_mark.line + 1}: unknown top-level key {k!r} "
                    "(use 'claims' and optionally 'defaults')"
                )
        if items is None:
            raise ClaimsFileError(f"{source}: no 'claims' list in the file")
    if not isinstance(items, yaml.SequenceNode):
        raise ClaimsFileError(
            f"{source}:{items.start_mark.line + 1}: expected a list of claims "
            "(or a mapping with key 'claims')"
        )
    out: list[_Raw] = []
    for node in items.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            out.append((ClaimProblem(None, f"{source}:{line}",
                                     f"{source}:{line}: expected a claim (a mapping with "
                                     "satellite, target and time)"), line, {}))
            continue
        try:
            values, lines = _node_fields(node, source)
        except ClaimError as exc:
            out.append((ClaimProblem(None, f"{source}:{line}", str(exc)), line, {}))
            continue
        merged = {**defaults, **values}
        out.append((merged, line, lines))
    return out


def _scalar(node: Any) -> str | None:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        raise TypeError
    if node.tag == "tag:yaml.org,2002:null":
        return None
    # The raw text: YAML 1.1 would turn 2023-11-27T23:36:25 into a naive datetime and 1:30 into
    # 90; a claim's fields are read as written.
    return str(node.value)


def _node_fields(node: Any, source: str) -> tuple[dict[str, FieldValue], dict[str, int]]:
    import yaml

    values: dict[str, FieldValue] = {}
    lines: dict[str, int] = {}
    for key, value in node.value:
        kline = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode):
            raise ClaimError(f"{source}:{kline}: a field name must be plain text")
        name = str(key.value)
        lines[name] = value.start_mark.line + 1
        if isinstance(value, yaml.MappingNode):
            sub: dict[str, str | None] = {}
            for k2, v2 in value.value:
                try:
                    sub[str(k2.value)] = _scalar(v2)
                except TypeError:
                    raise ClaimError(
                        f"{source}:{v2.start_mark.line + 1}: {name}.{k2.value}: expected a "
                        "single value"
                    ) from None
            values[name] = sub
        else:
            try:
                values[name] = _scalar(value)
            except TypeError:
                raise ClaimError(
                    f"{source}:{lines[name]}: {name}: expected a single value, not a list"
                ) from None
    return values, lines


def _csv_claims(text: str, source: str) -> list[_Raw]:
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    out: list[_Raw] = []
    prev = 0
    for row in reader:
        line = prev + 1
        prev = reader.line_num
        if not row or not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in row]
            unknown = [c for c in header if c not in FIELDS]
            if unknown:
                raise ClaimsFileError(
                    f"{source}:{line}: unknown column {unknown[0]!r} (columns: "
                    f"{', '.join(FIELDS)})"
                )
            missing = [c for c in ("satellite", "time") if c not in header]
            if missing or ("target" not in header and "lat" not in header):
                need = missing[0] if missing else "target"
                raise ClaimsFileError(f"{source}:{line}: header has no {need!r} column")
            continue
        if len(row) != len(header):
            out.append((ClaimProblem(None, f"{source}:{line}",
                                     f"{source}:{line}: {len(row)} values for "
                                     f"{len(header)} columns"), line, {}))
            continue
        values: dict[str, FieldValue] = {
            k: (v.strip() or None) for k, v in zip(header, row, strict=True)
        }
        out.append((values, line, {}))
    if header is None:
        raise ClaimsFileError(f"{source}: empty claims file (expected a header line)")
    return out


# ---- verification options and results ---------------------------------------------------


@dataclass(frozen=True)
class VerifyOptions:
    """Verification settings (see ``docs/claims.md``).

    ``tolerance_s``: default claimed-time tolerance; ``max_age_days``: element sets farther than
    this from the claim are not used; ``search_hours``: opportunities are searched this far
    either side of the claim; ``default_max_off_nadir_deg``: sensor reach when neither the claim
    nor the sensor table gives one; ``along_track_km_per_day``: growth of the along-track
    uncertainty with element-set age (turned into extra time tolerance); ``night_sun_deg``: Sun
    elevation at the target below which an optical image is impossible (night);
    ``twilight_sun_deg``: below this (and above night) an optical image is doubtful;
    ``maneuver_km`` + ``maneuver_km_per_day`` × gap: semi-major-axis jump between bracketing
    element sets that counts as a maneuver.
    """

    tolerance_s: float = 120.0
    max_age_days: float = 3.0
    search_hours: float = 3.0
    default_max_off_nadir_deg: float = 30.0
    along_track_km_per_day: float = 3.0
    night_sun_deg: float = -6.0
    twilight_sun_deg: float = 0.0
    maneuver_km: float = 0.25
    maneuver_km_per_day: float = 0.05

    def validate(self) -> None:
        """Raise ValueError for impossible settings."""
        if self.tolerance_s < 0:
            raise ValueError(f"tolerance {self.tolerance_s} s must not be negative")
        if self.max_age_days <= 0:
            raise ValueError(f"max age {self.max_age_days} days must be positive")
        if not 0 < self.search_hours <= 48:
            raise ValueError(f"search span {self.search_hours} h must be in (0, 48]")
        if not 0 < self.default_max_off_nadir_deg < 90:
            raise ValueError("default max off-nadir must be in (0, 90) degrees")
        if self.night_sun_deg > self.twilight_sun_deg:
            raise ValueError("night Sun elevation must not be above the twilight one")


@dataclass(frozen=True)
class Geometry:
    """Satellite-target geometry at one time: ground distance of the nadir point (km, sphere),
    off-nadir and elevation (deg), slant range (km), Sun elevation at the target (deg), satellite
    sunlit, nadir point (deg) and estimated GSD (m; None when no sensor is known or the target
    is below the horizon)."""

    time: datetime
    ground_distance_km: float
    off_nadir_deg: float
    elevation_deg: float
    range_km: float
    sun_elevation_deg: float
    satellite_sunlit: bool
    nadir_lat_deg: float
    nadir_lon_deg: float
    gsd_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        from overflight.times import format_utc

        return {
            "time": format_utc(self.time, decimals=1),
            "ground_distance_km": round(self.ground_distance_km, 1),
            "off_nadir_deg": round(self.off_nadir_deg, 2),
            "elevation_deg": round(self.elevation_deg, 2),
            "range_km": round(self.range_km, 1),
            "sun_elevation_deg": round(self.sun_elevation_deg, 2),
            "satellite_sunlit": self.satellite_sunlit,
            "nadir_lat_deg": round(self.nadir_lat_deg, 4),
            "nadir_lon_deg": round(self.nadir_lon_deg, 4),
            "gsd_m": None if self.gsd_m is None else round(self.gsd_m, 2),
        }


@dataclass(frozen=True)
class Opportunity:
    """A window in which the target was within the sensor's reach (or, for ``visible``, above
    the horizon): times UTC, ``offset_s`` from the claimed interval (0 when they overlap,
    negative before), best off-nadir (deg) and Sun elevation at the peak (deg)."""

    start: datetime
    peak: datetime
    end: datetime
    offset_s: float
    off_nadir_deg: float
    max_elevation_deg: float
    sun_elevation_deg: float

    def to_dict(self) -> dict[str, Any]:
        from overflight.times import format_utc

        return {
            "start": format_utc(self.start, decimals=1),
            "peak": format_utc(self.peak, decimals=1),
            "end": format_utc(self.end, decimals=1),
            "offset_s": round(self.offset_s, 1),
            "off_nadir_deg": round(self.off_nadir_deg, 2),
            "max_elevation_deg": round(self.max_elevation_deg, 2),
            "sun_elevation_deg": round(self.sun_elevation_deg, 2),
        }


@dataclass(frozen=True)
class ManeuverCheck:
    """Whether a maneuver separates two element sets. ``delta_a_km``: semi-major-axis change
    beyond natural motion; ``method``: ``maneuvers`` (the history detector,
    :func:`overflight.maneuvers.detect_maneuvers`, with ``delta_v_m_s`` and ``estimated_time``)
    or ``semi-major axis`` (:func:`check_maneuver`, with ``threshold_km``)."""

    earlier_epoch: datetime
    later_epoch: datetime
    detected: bool
    delta_a_km: float
    method: str
    threshold_km: float | None = None
    delta_v_m_s: float | None = None
    estimated_time: datetime | None = None
    time_uncertainty_s: float | None = None

    def describe(self, *, lowers: bool = True) -> str:
        """One sentence for the report; ``lowers``: whether the maneuver lowers confidence."""
        span = f"between the element sets before ({_iso(self.earlier_epoch)}) and after " \
               f"({_iso(self.later_epoch)}) the claim"
        effect = ("so the satellite's position at the claimed time is less certain; confidence "
                  "lowered." if lowers else
                  "but the element set used is on the claim's side of the burn, so the "
                  "claim's geometry does not depend on it.")
        if self.method == "maneuvers":
            if not self.detected:
                return (f"No maneuver detected {span} by the element-set history detector "
                        "(docs/history.md).")
            when = ""
            if self.estimated_time is not None:
                when = f", estimated at {_iso(self.estimated_time)}"
                if self.time_uncertainty_s is not None:
                    when += f" ± {_span(self.time_uncertainty_s)}"
            return (f"Maneuver: the element-set history detector (docs/history.md) finds a "
                    f"burn {span} (Δv ≈ {self.delta_v_m_s or 0.0:.2f} m/s, semi-major axis "
                    f"{self.delta_a_km:+.2f} km{when}), {effect}")
        if not self.detected:
            return (f"No maneuver detected {span}: once propagated to the same instant their "
                    f"semi-major axes differ by {self.delta_a_km:+.3f} km (threshold "
                    f"{self.threshold_km or 0.0:.2f} km).")
        return (f"Maneuver: the element sets {span[8:]} differ in semi-major axis by "
                f"{self.delta_a_km:+.2f} km once propagated to the same instant (threshold "
                f"{self.threshold_km or 0.0:.2f} km): the satellite likely maneuvered in between, "
                f"{effect}")


@dataclass(frozen=True)
class DataNeeded:
    """Element sets that would settle a ``cannot-verify`` claim: ``satellite`` (NORAD id or the
    claim's reference) with epochs covering ``start`` … ``end`` (UTC dates)."""

    satellite: str
    start: date
    end: date
    max_age_days: float = 3.0
    claims: int = 1

    def __str__(self) -> str:
        return (f"import element sets for {self.satellite} covering {self.start.isoformat()} … "
                f"{self.end.isoformat()} (any within {self.max_age_days:g} days of a claimed "
                "time will do; one before and one after is best): overflight catalog import FILE")


def _iso(t: datetime | None, decimals: int = 0) -> str | None:
    from overflight.times import format_utc

    return None if t is None else format_utc(t, decimals=decimals)


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claim with its reasons (sentences) and evidence.

    ``closest``: geometry at the closest approach (minimum ground distance of the nadir point)
    nearest the claimed time; ``time_offset_s`` its offset from the claimed interval (positive
    after). ``at_claimed_time``: geometry at the claimed instant; ``best_in_tolerance``: the
    best reachable geometry within the tolerance (None when there is none).
    ``elset_age_days``: claimed time minus epoch (positive: the element set is older).
    """

    claim_id: str
    verdict: str
    reasons: tuple[str, ...]
    claim: Claim | None = None
    findings: tuple[str, ...] = ()
    confidence: str | None = None
    norad_id: int | None = None
    satellite_name: str | None = None
    tolerance_s: float | None = None
    max_off_nadir_deg: float | None = None
    max_off_nadir_source: str | None = None
    sensor_kind: str | None = None
    closest: Geometry | None = None
    time_offset_s: float | None = None
    at_claimed_time: Geometry | None = None
    best_in_tolerance: Geometry | None = None
    nearest_opportunity: Opportunity | None = None
    nearest_visible: Opportunity | None = None
    elset: ElementSet | None = None
    before: ElementSet | None = None
    after: ElementSet | None = None
    maneuver: ManeuverCheck | None = None
    data_needed: DataNeeded | None = None
    origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_problem(cls, problem: ClaimProblem) -> ClaimResult:
        """An error row for a claim that could not be read."""
        return cls(claim_id=problem.claim_id or problem.origin, verdict=ERROR,
                   reasons=(problem.message,), origin=problem.origin)

    def _age(self, es: ElementSet | None) -> float | None:
        if es is None or self.claim is None:
            return None
        return round(es.age_days(self.claim.midpoint), 3)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the same keys for every verdict (None where not known)."""
        c = self.claim
        g = self.closest
        return {
            "claim_id": self.claim_id,
            "verdict": self.verdict,
            "confidence": self.confidence,
            "reasons": list(self.reasons),
            "findings": list(self.findings),
            "satellite": c.satellite if c else None,
            "norad_id": self.norad_id,
            "satellite_name": self.satellite_name,
            "target": c.target.name if c else None,
            "target_lat_deg": c.target.lat_deg if c else None,
            "target_lon_deg": c.target.lon_deg if c else None,
            "claimed_time": _iso(c.time) if c else None,
            "claimed_time_end": _iso(c.time_end) if c else None,
            "claimed_time_as_given": c.time_text if c else None,
            "tolerance_s": None if self.tolerance_s is None else round(self.tolerance_s, 1),
            "max_off_nadir_deg": self.max_off_nadir_deg,
            "max_off_nadir_source": self.max_off_nadir_source,
            "sensor_kind": self.sensor_kind,
            "closest_approach_time": _iso(g.time, 1) if g else None,
            "time_offset_s": None if self.time_offset_s is None else round(self.time_offset_s, 1),
            "ground_distance_km": round(g.ground_distance_km, 1) if g else None,
            "off_nadir_deg": round(g.off_nadir_deg, 2) if g else None,
            "elevation_deg": round(g.elevation_deg, 2) if g else None,
            "sun_elevation_deg": round(g.sun_elevation_deg, 2) if g else None,
            "satellite_sunlit": g.satellite_sunlit if g else None,
            "gsd_m": round(g.gsd_m, 2) if g and g.gsd_m is not None else None,
            "at_claimed_time": self.at_claimed_time.to_dict() if self.at_claimed_time else None,
            "best_in_tolerance": (
                self.best_in_tolerance.to_dict() if self.best_in_tolerance else None
            ),
            "nearest_opportunity": (
                self.nearest_opportunity.to_dict() if self.nearest_opportunity else None
            ),
            "nearest_visible_pass": (
                self.nearest_visible.to_dict() if self.nearest_visible else None
            ),
            "elset_epoch": _iso(self.elset.epoch, 3) if self.elset else None,
            "elset_age_days": self._age(self.elset),
            "elset_before_epoch": _iso(self.before.epoch, 3) if self.before else None,
            "elset_before_age_days": self._age(self.before),
            "elset_after_epoch": _iso(self.after.epoch, 3) if self.after else None,
            "elset_after_age_days": self._age(self.after),
            "maneuver_between_elsets": self.maneuver.detected if self.maneuver else None,
            "maneuver_delta_a_km": (
                round(self.maneuver.delta_a_km, 3) if self.maneuver else None
            ),
            "data_needed": None if self.data_needed is None else str(self.data_needed),
            "source": c.source if c else None,
            "notes": c.notes if c else None,
            "origin": self.origin,
        }


# ---- wording helpers ---------------------------------------------------------------------


def _span(seconds: float) -> str:
    """``35 s``, ``4 min 10 s``, ``2 h 05 min``, ``3.2 days``."""
    s = abs(seconds)
    if s < 10:
        return f"{s:.1f} s"
    if s < 90:
        return f"{s:.0f} s"
    if s < 3600:
        m, sec = divmod(round(s), 60)
        return f"{m} min {sec:02d} s"
    if s < 86400 * 2:
        h, rem = divmod(round(s), 3600)
        return f"{h} h {rem // 60:02d} min"
    return f"{s / 86400:.1f} days"


def _rel(seconds: float, *, before: str = "before", after: str = "after") -> str:
    if abs(seconds) < 0.5:
        return "at the claimed time"
    return f"{_span(seconds)} {after if seconds > 0 else before} the claimed time"


def _days(age: float) -> str:
    return f"{abs(age):.2f} days {'before' if age >= 0 else 'after'} the claimed time"


def _sat_label(es: ElementSet) -> str:
    return f"{es.name or 'NORAD'} ({es.norad_id})" if es.name else f"NORAD {es.norad_id}"


# ---- geometry ----------------------------------------------------------------------------


def _grid(start: datetime, end: datetime, step_s: float) -> npt.NDArray[Any]:
    from overflight.times import time_grid

    return time_grid(start, end, step_s)


def _states(es: ElementSet, t64: npt.NDArray[Any]) -> tuple[npt.NDArray[np.float64],
                                                             npt.NDArray[np.uint8]]:
    from overflight.propagation import propagate

    eph = propagate([es], t64, frame="itrs", workers=1)
    return eph.position_km[0], eph.error[0]


@dataclass(frozen=True)
class _Gsd:
    nadir_gsd_m: float
    ref_alt_km: float
    source: str


def _geometries(
    es: ElementSet, site: Site, t64: npt.NDArray[Any], gsd_model: _Gsd | None
) -> dict[str, npt.NDArray[Any]]:
    from overflight.geometry import view_geometry
    from overflight.gsd import gsd
    from overflight.sun import is_sunlit, sun_elevation_deg, sun_itrs_km

    pos, err = _states(es, t64)
    vg = view_geometry(pos, site)
    sun = sun_itrs_km(t64)
    out: dict[str, npt.NDArray[Any]] = {
        "t": t64,
        "err": err,
        "ground_km": np.radians(vg.central_angle_deg) * _GROUND_RADIUS_KM,
        "off_nadir": vg.off_nadir_deg,
        "elevation": vg.elevation_deg,
        "range": vg.range_km,
        "incidence": vg.incidence_deg,
        "sun": sun_elevation_deg(site, sun_itrs_km=sun),
        "lit": is_sunlit(pos, sun),
        "nadir_lat": vg.nadir_lat_deg,
        "nadir_lon": vg.nadir_lon_deg,
    }
    if gsd_model is not None:
        with np.errstate(invalid="ignore"):
            out["gsd"] = gsd(gsd_model.nadir_gsd_m, gsd_model.ref_alt_km, np.nan_to_num(vg.range_km,
                             nan=1.0), np.nan_to_num(vg.incidence_deg, nan=90.0)).mean_m
    return out


def _geometry_at(g: dict[str, npt.NDArray[Any]], i: int) -> Geometry:
    from overflight.times import datetime64_to_utc

    gsd_m = None
    if "gsd" in g and math.isfinite(float(g["gsd"][i])):
        gsd_m = float(g["gsd"][i])
    return Geometry(
        time=datetime64_to_utc(g["t"][i]),
        ground_distance_km=float(g["ground_km"][i]),
        off_nadir_deg=float(g["off_nadir"][i]),
        elevation_deg=float(g["elevation"][i]),
        range_km=float(g["range"][i]),
        sun_elevation_deg=float(g["sun"][i]),
        satellite_sunlit=bool(g["lit"][i]),
        nadir_lat_deg=float(g["nadir_lat"][i]),
        nadir_lon_deg=float(g["nadir_lon"][i]),
        gsd_m=gsd_m,
    )


def _offset_s(start: datetime, end: datetime, claim: Claim) -> float:
    """Signed seconds from the claimed interval to [start, end]: 0 if they overlap."""
    if end < claim.time:
        return (end - claim.time).total_seconds()
    if start > claim.end:
        return (start - claim.end).total_seconds()
    return 0.0


def _opportunity(w: Window, claim: Claim) -> Opportunity:
    return Opportunity(
        start=w.start, peak=w.peak, end=w.end, offset_s=_offset_s(w.start, w.end, claim),
        off_nadir_deg=w.min_off_nadir_deg, max_elevation_deg=w.max_elevation_deg,
        sun_elevation_deg=w.sun_elevation_deg,
    )


def _nearest(windows: Sequence[Window], claim: Claim) -> Window | None:
    if not windows:
        return None
    return min(windows, key=lambda w: (abs(_offset_s(w.start, w.end, claim)), w.start))


def _view(es: ElementSet, site: Site, t64: npt.NDArray[Any]) -> dict[str, npt.NDArray[Any]]:
    """Geometry without the Sun (cheap): ground distance, off-nadir, elevation; NaN on error."""
    from overflight.geometry import view_geometry

    pos, err = _states(es, t64)
    vg = view_geometry(pos, site)
    bad = err != 0
    return {
        "ground_km": np.where(bad, np.nan, np.radians(vg.central_angle_deg) * _GROUND_RADIUS_KM),
        "off_nadir": np.where(bad, np.nan, vg.off_nadir_deg),
        "elevation": np.where(bad, np.nan, vg.elevation_deg),
    }


def _closest_time(
    es: ElementSet, site: Site, claim: Claim, s0: datetime, s1: datetime
) -> np.datetime64 | None:
    """Time of the minimum ground distance of the nadir point nearest the claimed interval:
    local minima on a 20 s grid, refined on 1 s then 20 ms grids."""
    from overflight.times import datetime64_to_utc

    coarse = _grid(s0, s1, 20.0)
    ground = _view(es, site, coarse)["ground_km"]
    if not np.isfinite(ground).any():
        return None
    inner = np.flatnonzero(
        (ground[1:-1] <= ground[:-2]) & (ground[1:-1] <= ground[2:]) & np.isfinite(ground[1:-1])
    ) + 1
    candidates = inner if inner.size else np.array([int(np.nanargmin(ground))])
    dists = [abs(_offset_s(t, t, claim))
             for t in (datetime64_to_utc(coarse[i]) for i in candidates.tolist())]
    best: Any = coarse[int(candidates[int(np.argmin(dists))])]
    for half_s, step_ms in ((20, 1000), (1, 20)):
        half = np.timedelta64(half_s * 1000, "ms")
        fine = np.arange(best - half, best + half + np.timedelta64(1, "ns"),
                         np.timedelta64(step_ms, "ms")).astype("datetime64[ns]")
        g = _view(es, site, fine)["ground_km"]
        if not np.isfinite(g).any():
            break
        best = fine[int(np.nanargmin(g))]
    out: np.datetime64 = best
    return out


def _ground_speed_km_s(es: ElementSet) -> float:
    a = es.semi_major_axis_km
    return math.sqrt(MU_KM3_S2 / a) * 6371.0 / a


def check_maneuver(
    earlier: ElementSet, later: ElementSet, *, options: VerifyOptions | None = None
) -> ManeuverCheck:
    """Propagate ``earlier`` to ``later``'s epoch and compare osculating semi-major axes.

    Both states are at the same instant, so SGP4's short-period terms cancel; what remains is
    drag mismodelling (metres to tens of metres per day for LEO) or a maneuver. The threshold is
    ``maneuver_km + maneuver_km_per_day × gap``; on the week of resource-satellite history in the
    shared data 99 % of consecutive pairs differ by < 0.07 km (see ``docs/claims.md``).
    """
    from overflight.propagation import propagate

    opts = options or VerifyOptions()
    at = np.array([np.datetime64(later.epoch.astimezone(UTC).replace(tzinfo=None), "ns")])
    eph = propagate([earlier, later], at, frame="teme", workers=1)
    r = eph.position_km[:, 0, :]
    v = eph.velocity_km_s[:, 0, :]
    rn = np.linalg.norm(r, axis=1)
    a = 1.0 / (2.0 / rn - np.einsum("ij,ij->i", v, v) / MU_KM3_S2)
    gap = abs((later.epoch - earlier.epoch).total_seconds()) / 86400.0
    delta = float(a[1] - a[0])
    threshold = opts.maneuver_km + opts.maneuver_km_per_day * gap
    return ManeuverCheck(
        earlier_epoch=earlier.epoch,
        later_epoch=later.epoch,
        detected=abs(delta) > threshold,
        delta_a_km=delta,
        method="semi-major axis",
        threshold_km=threshold,
    )


_CONTEXT_DAYS = 10.0  # history either side of the bracket the maneuver detector learns from


def _maneuver(
    catalog: Catalog, before: ElementSet, after: ElementSet, opts: VerifyOptions
) -> ManeuverCheck:
    """The history detector of ``overflight.maneuvers`` on the object's element sets around the
    bracket (it learns the object's own scatter from them); the simple semi-major-axis check
    when that module is not installed."""
    try:
        from overflight.maneuvers import detect_maneuvers
    except ImportError:
        return check_maneuver(before, after, options=opts)
    context = timedelta(days=_CONTEXT_DAYS)
    history = catalog.history(before.norad_id, start=before.epoch - context,
                              end=after.epoch + context)
    found = [m for m in detect_maneuvers(history).maneuvers
             if m.before_epoch >= before.epoch and m.after_epoch <= after.epoch]
    if not found:
        simple = check_maneuver(before, after, options=opts)
        return ManeuverCheck(before.epoch, after.epoch, False, simple.delta_a_km, "maneuvers")
    big = max(found, key=lambda m: m.delta_v_m_s)
    return ManeuverCheck(
        earlier_epoch=before.epoch,
        later_epoch=after.epoch,
        detected=True,
        delta_a_km=sum(m.delta_a_km for m in found),
        method="maneuvers",
        delta_v_m_s=sum(m.delta_v_m_s for m in found),
        estimated_time=big.estimated_time,
        time_uncertainty_s=(
            None if big.time_uncertainty_s is None else float(big.time_uncertainty_s)
        ),
    )


# ---- verification ------------------------------------------------------------------------


@dataclass
class _Reach:
    windows: list[Window]
    in_tolerance: list[Window]


def _reach(
    es: ElementSet, site: Site, s0: datetime, s1: datetime, t0: datetime, t1: datetime,
    limit_deg: float,
) -> _Reach:
    from overflight.access import Constraints, find_windows

    windows = find_windows([es], [site], s0, s1,
                           Constraints(min_elevation_deg=0.0, max_off_nadir_deg=limit_deg))
    inside = [w for w in windows if w.start <= t1 and w.end >= t0]
    return _Reach(windows, inside)


def _best_time(
    es: ElementSet, site: Site, windows: Sequence[Window], t0: datetime, t1: datetime,
    prefer_light: bool, night_sun_deg: float,
) -> np.datetime64:
    """The reachable time within [t0, t1] with the smallest off-nadir angle (for an optical
    sensor, in light if any reachable time is)."""
    from overflight.sun import sun_elevation_deg

    parts = []
    for w in windows:
        a, b = max(w.start, t0), min(w.end, t1)
        parts.append(_grid(a, b, max(0.25, (b - a).total_seconds() / 400.0)))
    t64 = np.unique(np.concatenate(parts))
    score = _view(es, site, t64)["off_nadir"]
    score = np.where(np.isfinite(score), score, np.inf)
    if prefer_light:
        # The Sun moves 0.25° a minute: the chosen time's Sun decides; the whole grid is looked
        # at only when that one is dark.
        k = int(np.argmin(score))
        if float(sun_elevation_deg(site, t64[k : k + 1])[0]) < night_sun_deg:
            score = score + np.where(sun_elevation_deg(site, t64) >= night_sun_deg, 0.0, 1000.0)
    out: np.datetime64 = t64[int(np.argmin(score))]
    return out


def _burn_clear_of_claim(
    man: ManeuverCheck, es: ElementSet, claim: Claim, tolerance_s: float
) -> bool:
    """True when the estimated burn is clearly (beyond its uncertainty and the tolerance) on the
    far side of the claim from the element set used: the set then describes the claimed time."""
    burn = man.estimated_time
    if burn is None:
        return False
    margin = timedelta(seconds=(man.time_uncertainty_s or 0.0) + tolerance_s)
    if es.epoch >= burn:
        return claim.time - burn > margin
    return burn - claim.end > margin


def _cannot(claim: Claim, reasons: list[str], **kw: Any) -> ClaimResult:
    return ClaimResult(claim_id=claim.id, verdict=CANNOT_VERIFY, reasons=tuple(reasons),
                       claim=claim, origin=claim.origin, **kw)


def _needed(ref: str, claim: Claim, opts: VerifyOptions) -> DataNeeded:
    return DataNeeded(ref, (claim.time - timedelta(days=opts.max_age_days)).date(),
                      (claim.end + timedelta(days=opts.max_age_days)).date(), opts.max_age_days)


def data_needed_summary(results: Iterable[ClaimResult]) -> list[DataNeeded]:
    """What would settle the ``cannot-verify`` results: one date span per satellite."""
    spans: dict[str, DataNeeded] = {}
    for r in results:
        need = r.data_needed
        if need is None:
            continue
        old = spans.get(need.satellite)
        if old is None:
            spans[need.satellite] = need
        else:
            spans[need.satellite] = DataNeeded(need.satellite, min(old.start, need.start),
                                               max(old.end, need.end), need.max_age_days,
                                               old.claims + 1)
    return list(spans.values())


def verify_claim(
    claim: Claim,
    catalog: Catalog,
    *,
    options: VerifyOptions | None = None,
    sensors: Mapping[int, Sensor] | None = None,
) -> ClaimResult:
    """Verdict and evidence for one claim against the element sets in ``catalog``.

    ``sensors``: the sensor table (default: the shipped one). Rules: ``docs/claims.md``.
    """
    from overflight.catalog import AmbiguousSatellite, SatelliteNotFound
    from overflight.sensors import shipped_sensors

    opts = options or VerifyOptions()
    opts.validate()
    table = shipped_sensors() if sensors is None else sensors

    # 1. The satellite and its element sets around the claim.
    try:
        obj = catalog.resolve(claim.satellite)
    except AmbiguousSatellite as exc:
        return ClaimResult(claim_id=claim.id, verdict=ERROR, claim=claim, origin=claim.origin,
                           reasons=(f"{claim.origin}: claim {claim.id!r}: satellite: {exc}",))
    except SatelliteNotFound:
        return _cannot(
            claim,
            [f"Satellite {claim.satellite!r} is not in {catalog.description}: there is nothing "
             "to check the claim against."],
            data_needed=_needed(claim.satellite, claim, opts),
            findings=("satellite-unknown",),
        )
    nid = obj.norad_id
    before, after = catalog.bracket(nid, claim.midpoint)
    label = f"{obj.name} ({nid})" if obj.name else f"NORAD {nid}"

    def distance_days(es: ElementSet) -> float:
        return abs(_offset_s(es.epoch, es.epoch, claim)) / 86400.0

    usable = [es for es in (before, after) if es is not None
              and distance_days(es) <= opts.max_age_days]
    common: dict[str, Any] = {"norad_id": nid, "satellite_name": obj.name, "before": before,
                              "after": after}
    if not usable:
        parts = []
        for es, word in ((before, "before"), (after, "after")):
            if es is None:
                parts.append(f"there is none {word} it")
            else:
                parts.append(f"the nearest {word} it has epoch {_iso(es.epoch)} "
                             f"({_days(es.age_days(claim.midpoint))})")
        return _cannot(
            claim,
            [f"No element set of {label} within {opts.max_age_days:g} days of the claimed time "
             f"in {catalog.description}: {parts[0]}; {parts[1]}. Propagating element sets that "
             "far would put the satellite tens to thousands of kilometres from where it was."],
            data_needed=_needed(str(nid), claim, opts),
            findings=("no-recent-elements",),
            **common,
        )
    es = min(usable, key=lambda e: (distance_days(e), e is after))
    man = _maneuver(catalog, before, after, opts) if before and after else None
    side_note = None
    if man is not None and man.detected and man.estimated_time is not None and len(usable) == 2:
        # Use the element set on the claim's side of the estimated burn.
        chosen = after if claim.midpoint >= man.estimated_time else before
        assert chosen is not None
        if chosen is not es:
            side_note = (f"The element set {'after' if chosen is after else 'before'} the claim "
                         f"is used although it is farther in time, because the burn is "
                         f"estimated at {_iso(man.estimated_time)}, "
                         f"{'before' if chosen is after else 'after'} the claimed time.")
        es = chosen
    other = next((e for e in usable if e is not es), None)

    # 2. Sensor: reach (off-nadir limit), kind and GSD model.
    sensor = table.get(nid)
    if claim.max_off_nadir_deg is not None:
        limit, limit_src = claim.max_off_nadir_deg, "from the claim"
    elif sensor is not None and sensor.max_off_nadir_deg is not None:
        limit, limit_src = sensor.max_off_nadir_deg, "from the sensor table"
    else:
        limit, limit_src = opts.default_max_off_nadir_deg, "default"
    findings: list[str] = []
    reasons: list[str] = []
    if claim.sensor:
        kind, kind_src = claim.sensor, "from the claim"
    elif sensor is not None:
        kind, kind_src = sensor.kind, "from the sensor table"
    else:
        kind, kind_src = "optical", "assumed"
        findings.append("sensor-assumed")
    gsd_model: _Gsd | None = None
    if claim.nadir_gsd_m is not None:
        gsd_model = _Gsd(claim.nadir_gsd_m, es.semi_major_axis_km - 6378.137,
                         "nadir GSD from the claim, at the satellite's mean altitude")
    elif sensor is not None:
        gsd_model = _Gsd(sensor.nadir_gsd_m, sensor.ref_alt_km,
                         f"sensor table: {sensor.source}" if sensor.source else "sensor table")

    # 3. Time tolerance, grown with the element set's age.
    base_tol = opts.tolerance_s if claim.tolerance_s is None else claim.tolerance_s
    worst_age = max(abs((claim.time - es.epoch).total_seconds()),
                    abs((claim.end - es.epoch).total_seconds())) / 86400.0
    allowance = worst_age * opts.along_track_km_per_day / _ground_speed_km_s(es)
    tol = base_tol + allowance
    t0 = claim.time - timedelta(seconds=tol)
    t1 = claim.end + timedelta(seconds=tol)
    s0 = claim.time - timedelta(hours=opts.search_hours)
    s1 = claim.end + timedelta(hours=opts.search_hours)
    common.update(elset=es, tolerance_s=tol, max_off_nadir_deg=limit,
                  max_off_nadir_source=limit_src, sensor_kind=kind)

    # 4. Can SGP4 carry the element set to the claim at all?
    probe = _grid(t0, t1, max(1.0, (t1 - t0).total_seconds() / 200.0))
    _, err = _states(es, probe)
    if err.any():
        from overflight.propagation import error_message

        code = int(err[err != 0][0])
        return _cannot(
            claim,
            [f"SGP4 cannot carry the element set of {label} (epoch {_iso(es.epoch)}) to the "
             f"claimed time: {error_message(code)}. The satellite may have decayed or the "
             "element set is unusable."],
            data_needed=_needed(str(nid), claim, opts),
            findings=("propagation-failed",),
            **common,
        )

    # 5. Opportunities and geometry.
    reach = _reach(es, site := claim.target, s0, s1, t0, t1, limit)
    possible = bool(reach.in_tolerance)
    # The instants that matter, then their full geometry (Sun included) in one evaluation.
    instants: dict[str, Any] = {"closest": _closest_time(es, site, claim, s0, s1)}
    if claim.time_end is None:
        instants["at_claim"] = _grid(claim.time, claim.time, 1.0)[0]
    if possible:
        instants["best"] = _best_time(es, site, reach.in_tolerance, t0, t1, kind == "optical",
                                      opts.night_sun_deg)
    keys = [k for k, v in instants.items() if v is not None]
    geo = _geometries(es, site, np.array([instants[k] for k in keys], dtype="datetime64[ns]"),
                      gsd_model)
    found = {k: _geometry_at(geo, i) for i, k in enumerate(keys)}
    closest, at_claim, best = found.get("closest"), found.get("at_claim"), found.get("best")
    nearest = _nearest(reach.windows, claim)
    nearest_vis = None
    offset = None if closest is None else _offset_s(closest.time, closest.time, claim)

    # 6. Reasons, in order: data, geometry, lighting, sensor, maneuver.
    sat = label
    tgt = site.name
    age = es.age_days(claim.midpoint)
    nb = _iso(before.epoch) if before else "none"
    na = _iso(after.epoch) if after else "none"
    reasons.append(
        f"Element set used: epoch {_iso(es.epoch)} ({_days(age)}; within the "
        f"{opts.max_age_days:g}-day limit). Bracketing sets: before {nb}, after {na}."
    )
    tol_words = (f"±{tol:.0f} s of the claimed time" if claim.time_end is None
                 else f"the claimed interval ±{tol:.0f} s")
    tol_detail = (f"{base_tol:g} s tolerance + {allowance:.1f} s for the element set's age at "
                  f"{opts.along_track_km_per_day:g} km/day along-track")
    if possible and best is not None:
        reasons.append(
            f"Within {tol_words} ({tol_detail}) {sat} had {tgt} within reach: best "
            f"{best.off_nadir_deg:.1f}° off-nadir (limit {limit:g}°, {limit_src}), elevation "
            f"{best.elevation_deg:.1f}°, nadir point {best.ground_distance_km:.0f} km from the "
            f"target at {_iso(best.time)} ({_rel(_offset_s(best.time, best.time, claim))})."
        )
    else:
        reasons.append(
            f"Within {tol_words} ({tol_detail}) {sat} never had {tgt} within {limit:g}° "
            f"off-nadir ({limit_src}) above the horizon."
        )
        if at_claim is not None:
            if at_claim.elevation_deg < 0:
                view = "below the target's horizon"
            else:
                view = (f"{at_claim.elevation_deg:.1f}° above the target's horizon, with the "
                        f"target {at_claim.off_nadir_deg:.1f}° off-nadir")
            reasons.append(
                f"At the claimed time the nadir point was {at_claim.ground_distance_km:,.0f} km "
                f"from {tgt} and the satellite was {view}."
            )
        if nearest is not None:
            o = _opportunity(nearest, claim)
            reasons.append(
                f"The nearest opportunity within ±{opts.search_hours:g} h was "
                f"{_rel(o.offset_s, before='earlier than', after='later than')} "
                f"({_iso(o.start)} to {_iso(o.end)}) at {o.off_nadir_deg:.1f}° off-nadir."
            )
        else:
            reasons.append(
                f"There was no opportunity within {limit:g}° off-nadir within "
                f"±{opts.search_hours:g} h of the claimed time."
            )
        # A pass above the horizon that never came within reach, nearer than any opportunity.
        from overflight.access import Constraints, find_windows

        visible = find_windows([es], [site], s0, s1, Constraints(min_elevation_deg=0.0))
        out_of_reach = [w for w in visible
                        if not any(r.start <= w.end and r.end >= w.start for r in reach.windows)]
        nearest_vis = _nearest(out_of_reach, claim)
        if nearest_vis is not None and (
            nearest is None
            or abs(_offset_s(nearest_vis.start, nearest_vis.end, claim))
            < abs(_offset_s(nearest.start, nearest.end, claim))
        ):
            o = _opportunity(nearest_vis, claim)
            reasons.append(
                f"The satellite was above the target's horizon "
                f"{_rel(o.offset_s, before='earlier than', after='later than')} "
                f"({_iso(o.start)} to {_iso(o.end)}), but no closer than about "
                f"{o.off_nadir_deg:.0f}° off-nadir (beyond the {limit:g}° limit)."
            )
    if closest is not None and offset is not None:
        reasons.append(
            f"Closest approach nearest the claim: {_iso(closest.time)} ({_rel(offset)}), "
            f"nadir point {closest.ground_distance_km:,.0f} km from {tgt}, "
            f"{closest.off_nadir_deg:.1f}° off-nadir, elevation {closest.elevation_deg:.1f}°."
        )

    # Lighting.
    verdict = CONSISTENT if possible else INCONSISTENT
    lowered = False
    light = best or at_claim or closest
    if light is not None:
        sun = light.sun_elevation_deg
        lit = "in sunlight" if light.satellite_sunlit else "in Earth's shadow"
        if light is not best:
            lit += " at the claimed time" if light is at_claim else " at the closest approach"
        if kind == "sar":
            reasons.append(
                f"Sun {sun:.1f}° at the target; {sat} carries a radar (SAR) sensor "
                f"({kind_src}), which images day and night. The satellite was {lit}."
            )
        elif sun < opts.night_sun_deg:
            findings.append("night")
            assumed = " (assumed: no sensor is known)" if kind_src == "assumed" else ""
            if possible:
                verdict = INCONSISTENT
                reasons.append(
                    f"Night: the Sun was {sun:.1f}° at {tgt} (below {opts.night_sun_deg:g}°, "
                    f"darker than civil twilight). {sat} is an optical imager{assumed}; it "
                    "cannot take a usable picture of the ground in darkness, so the claim is "
                    "inconsistent although the geometry allowed it."
                )
            else:
                reasons.append(
                    f"Night: besides, the Sun was {sun:.1f}° at {tgt}; an optical imager"
                    f"{assumed} could not have taken a usable picture then anyway."
                )
        elif sun < opts.twilight_sun_deg:
            findings.append("twilight")
            if possible:
                lowered = True
            reasons.append(
                f"Twilight: the Sun was {sun:.1f}° at {tgt} (between {opts.night_sun_deg:g}° "
                f"and {opts.twilight_sun_deg:g}°): very little light for an optical image"
                + ("; confidence lowered." if possible else ".")
            )
        else:
            reasons.append(f"Daylight: the Sun was {sun:.1f}° above the horizon at {tgt}; "
                           f"the satellite was {lit}.")
    if kind_src == "assumed":
        reasons.append(
            f"No sensor is known for {sat}: assumed an optical imager with a {limit:g}° "
            "off-nadir reach (give sensor, max_off_nadir_deg and nadir_gsd_m in the claim)."
        )
    gsd_geom = best or closest
    if gsd_model is not None and gsd_geom is not None and gsd_geom.gsd_m is not None:
        reasons.append(
            f"Estimated GSD {gsd_geom.gsd_m:.2f} m "
            f"{'at that geometry' if best else 'at the closest approach'} (nadir "
            f"{gsd_model.nadir_gsd_m:g} m at {gsd_model.ref_alt_km:.0f} km; "
            f"{gsd_model.source})."
        )

    # 7. Maneuver between the bracketing sets; cross-check with the other set.
    if man is not None:
        lowers = man.detected and not _burn_clear_of_claim(man, es, claim, base_tol)
        if man.detected:
            findings.append("maneuver")
            lowered = lowered or lowers
        reasons.append(man.describe(lowers=lowers))
        if side_note:
            reasons.append(side_note)
    if other is not None:
        o_reach = _reach(other, site, t0, t1, t0, t1, limit)
        o_possible = bool(o_reach.in_tolerance)
        which = "before" if other is before else "after"
        if o_possible != possible:
            lowered = True
            findings.append("elements-disagree")
            reasons.append(
                f"The element set {which} the claim (epoch {_iso(other.epoch)}) says the "
                f"target was {'' if o_possible else 'not '}within reach in that span: the two "
                "sets disagree; confidence lowered."
            )
        else:
            reasons.append(
                f"The element set {which} the claim (epoch {_iso(other.epoch)}) agrees on "
                f"whether the target was within reach."
            )
    return ClaimResult(
        claim_id=claim.id,
        verdict=verdict,
        reasons=tuple(reasons),
        claim=claim,
        findings=tuple(findings),
        confidence="lowered" if lowered else "normal",
        closest=closest,
        time_offset_s=offset,
        at_claimed_time=at_claim,
        best_in_tolerance=best,
        nearest_opportunity=None if nearest is None else _opportunity(nearest, claim),
        nearest_visible=None if nearest_vis is None else _opportunity(nearest_vis, claim),
        maneuver=man,
        origin=claim.origin,
        **common,
    )


def verify_claims(
    entries: Iterable[Claim | ClaimProblem],
    catalog: Catalog,
    *,
    options: VerifyOptions | None = None,
    sensors: Mapping[int, Sensor] | None = None,
) -> list[ClaimResult]:
    """:func:`verify_claim` for each claim; unreadable claims become ``error`` rows."""
    out = []
    for entry in entries:
        if isinstance(entry, ClaimProblem):
            out.append(ClaimResult.from_problem(entry))
        else:
            out.append(verify_claim(entry, catalog, options=options, sensors=sensors))
    return out


# ---- reports -----------------------------------------------------------------------------


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value}{unit}"


def _summary_rows(results: Sequence[ClaimResult]) -> list[list[str]]:
    rows = []
    for r in results:
        d = r.to_dict()
        rows.append([
            r.claim_id,
            d["satellite_name"] or d["satellite"] or "—",
            d["target"] or "—",
            d["claimed_time"] or "—",
            r.verdict + (" (lowered confidence)" if r.confidence == "lowered" else ""),
            _fmt(d["time_offset_s"], " s", 0),
            _fmt(d["ground_distance_km"], " km", 0),
            _fmt(d["off_nadir_deg"], "°"),
            _fmt(d["sun_elevation_deg"], "°"),
            _fmt(d["elset_age_days"], " d", 2),
        ])
    return rows


_SUMMARY_HEAD = ["claim", "satellite", "target", "claimed (UTC)", "verdict", "offset",
                 "ground distance", "off-nadir", "Sun", "element-set age"]


def _evidence(r: ClaimResult) -> list[tuple[str, str]]:
    d = r.to_dict()
    c = r.claim
    rows: list[tuple[str, str]] = []
    if c is not None:
        rows += [
            ("satellite", f"{d['satellite_name'] or c.satellite} ({d['norad_id'] or '?'})"),
            ("target", f"{c.target.name} ({c.target.lat_deg:.4f}, {c.target.lon_deg:.4f})"),
            ("claimed time", f"{c.time_text} = {d['claimed_time']}"
             + (f" … {d['claimed_time_end']}" if d["claimed_time_end"] else "")),
            ("source", c.source or "—"),
        ]
    for key in ("tolerance_s", "max_off_nadir_deg", "sensor_kind", "closest_approach_time",
                "time_offset_s", "ground_distance_km", "off_nadir_deg", "elevation_deg",
                "sun_elevation_deg", "satellite_sunlit", "gsd_m", "elset_epoch", "elset_age_days",
                "elset_before_epoch", "elset_after_epoch", "maneuver_between_elsets",
                "data_needed"):
        if d.get(key) is not None:
            rows.append((key, str(d[key])))
    return rows


def render_markdown(
    results: Sequence[ClaimResult], *, maps: Mapping[str, str] | None = None,
    title: str = "Claim verification", preamble: str = "",
) -> str:
    """A Markdown report: summary table, then per claim the reasons, evidence and map (``maps``
    gives the image path per claim id)."""
    out = [f"# {title}", ""]
    if preamble:
        out += [preamble, ""]
    out.append("| " + " | ".join(_SUMMARY_HEAD) + " |")
    out.append("|" + "---|" * len(_SUMMARY_HEAD))
    for row in _summary_rows(results):
        out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    out.append("")
    needed = data_needed_summary(results)
    if needed:
        out += ["To settle the claims that cannot be verified:", ""]
        out += [f"- {n} ({n.claims} claim{'s' if n.claims > 1 else ''})" for n in needed]
        out.append("")
    for r in results:
        out += [f"## {r.claim_id}: {r.verdict}", ""]
        if r.confidence == "lowered":
            out += ["Confidence: lowered.", ""]
        out += [f"- {reason}" for reason in r.reasons]
        out.append("")
        ev = _evidence(r)
        if ev:
            out += ["| evidence | value |", "|---|---|"]
            out += ["| " + k + " | " + v.replace("|", "\\|") + " |" for k, v in ev]
            out.append("")
        if maps and r.claim_id in maps:
            out += [f"![ground track around the claimed time]({maps[r.claim_id]})", ""]
        if r.claim is not None and r.claim.notes:
            out += [f"Notes: {r.claim.notes}", ""]
    return "\n".join(out)


def render_html(
    results: Sequence[ClaimResult], *, maps: Mapping[str, str] | None = None,
    title: str = "Claim verification", preamble: str = "",
) -> str:
    """The same report as :func:`render_markdown`, as a self-contained HTML page."""
    from html import escape

    def table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
        h = "".join(f"<th>{escape(x)}</th>" for x in head)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(x)}</td>" for x in row) + "</tr>" for row in rows
        )
        return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"

    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;max-width:70em;"
        "margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:left}.consistent{color:#070}.inconsistent{color:#a00}"
        ".cannot-verify{color:#a60}.error{color:#a00}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    if preamble:
        parts.append(f"<p>{escape(preamble)}</p>")
    parts.append(table(_SUMMARY_HEAD, _summary_rows(results)))
    needed = data_needed_summary(results)
    if needed:
        parts.append("<p>To settle the claims that cannot be verified:</p><ul>"
                     + "".join(f"<li>{escape(str(n))} ({n.claims} claim(s))</li>" for n in needed)
                     + "</ul>")
    for r in results:
        parts.append(f"<h2>{escape(r.claim_id)}: <span class='{escape(r.verdict)}'>"
                     f"{escape(r.verdict)}</span></h2>")
        if r.confidence == "lowered":
            parts.append("<p>Confidence: lowered.</p>")
        parts.append("<ul>" + "".join(f"<li>{escape(x)}</li>" for x in r.reasons) + "</ul>")
        ev = _evidence(r)
        if ev:
            parts.append(table(["evidence", "value"], ev))
        if maps and r.claim_id in maps:
            parts.append(f"<p><img src='{escape(maps[r.claim_id])}' style='max-width:100%' "
                         "alt='ground track around the claimed time'></p>")
        if r.claim is not None and r.claim.notes:
            parts.append(f"<p>Notes: {escape(r.claim.notes)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
