"""Reading claims: fields, claims files (YAML or CSV) and claimed times with their zones.

A malformed claim becomes a :class:`~overflight.claims.model.ClaimProblem` naming file, line and
field; the other claims of the file are still read.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from overflight.claims.model import (
    MAX_TOLERANCE_S,
    Claim,
    ClaimError,
    ClaimProblem,
    ClaimsFile,
    ClaimsFileError,
)
from overflight.geometry import Site

__all__ = ["FIELDS", "FieldValue", "claim_from_fields", "parse_claims_text", "read_claims"]

#: Fields of a claim (YAML keys / CSV columns).
FIELDS = (
    "id", "satellite", "target", "lat", "lon", "time", "time_end", "zone", "tolerance_s",
    "max_off_nadir_deg", "nadir_gsd_m", "sensor", "source", "notes",
)
_REQUIRED = ("satellite", "target", "time")
_MAX_INTERVAL = timedelta(days=7)

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
        text = str(exc)
        if ": ask for it as an area" in text:  # a claim is checked at a point, not over an area
            text = (text.split(": ask for it as an area")[0]
                    + "; a claim is checked at a point: give its lat/lon instead")
        raise ClaimError(f"{where}: target: {text}") from None


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
    from overflight.times import EPHEMERIS_SPAN, TimeError, check_time, parse_time

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
    try:
        check_time(t0, "time", EPHEMERIS_SPAN)
    except TimeError as exc:
        raise ClaimError(f"{where('time')}: {exc}") from None
    t1 = None
    end_text = _text(values.get("time_end"), "time_end", where("time_end"))
    if end_text:
        try:
            t1 = parse_time(end_text, zone=zone)
        except TimeError as exc:
            raise ClaimError(f"{where('time_end')}: time_end: {exc}") from None
        try:
            check_time(t1, "time_end", EPHEMERIS_SPAN)
        except TimeError as exc:
            raise ClaimError(f"{where('time_end')}: {exc}") from None
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
                            "tolerance_s", where("tolerance_s"), low=0.0,
                            high=MAX_TOLERANCE_S),
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


