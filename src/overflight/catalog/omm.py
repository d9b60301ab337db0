"""CCSDS Orbit Mean-Elements Messages (OMM) with SGP4/TLE parameters: JSON, XML, CSV, KVN.

Reads what CelesTrak (``gp.php?FORMAT=json|xml|csv|kvn``) and Space-Track (``class/gp``, values
possibly as strings) publish. XML is parsed only with ``defusedxml``: a document type
declaration (and so any entity definition) rejects the whole file, nothing is expanded.

Errors name the record by its 1-based index (JSON, XML, CSV) or by the line of the offending
key (KVN).
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree as DET

from overflight.catalog.validate import MAX_NAME_CHARS, check_element_set
from overflight.elements import ElementError, ElementSet

__all__ = [
    "OMM_KEYS",
    "designator_from_object_id",
    "format_omm_csv",
    "format_omm_json",
    "format_omm_kvn",
    "format_omm_xml",
    "object_id_from_designator",
    "omm_dict",
    "parse_epoch",
    "parse_omm_csv",
    "parse_omm_json",
    "parse_omm_kvn",
    "parse_omm_xml",
]

# The keys and order CelesTrak uses for JSON and CSV.
OMM_KEYS = (
    "OBJECT_NAME",
    "OBJECT_ID",
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "EPHEMERIS_TYPE",
    "CLASSIFICATION_TYPE",
    "NORAD_CAT_ID",
    "ELEMENT_SET_NO",
    "REV_AT_EPOCH",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)
_REQUIRED = (
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "NORAD_CAT_ID",
)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_EPOCH = re.compile(
    r"([0-9]{4})-(?:([0-9]{2})-([0-9]{2})|([0-9]{3}))[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_OBJECT_ID = re.compile(r"([0-9]{4})-([0-9]{3})([A-Z]{1,3})")
_TLE_DESIGNATOR = re.compile(r"([0-9]{2})([0-9]{3})([A-Z]{1,3})")
_MEAN_ELEMENT_KEYS = OMM_KEYS[2:9]
_METADATA_KEYS = ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME", "TIME_SYSTEM",
                  "MEAN_ELEMENT_THEORY")  # fmt: skip
_TLE_PARAMETER_KEYS = OMM_KEYS[9:]
#: ElementSet attribute -> OMM keyword, to name the field of a range error.
_OMM_KEY = {
    "norad_id": "NORAD_CAT_ID",
    "epoch": "EPOCH",
    "mean_motion_rev_day": "MEAN_MOTION",
    "eccentricity": "ECCENTRICITY",
    "inclination_deg": "INCLINATION",
    "raan_deg": "RA_OF_ASC_NODE",
    "arg_perigee_deg": "ARG_OF_PERICENTER",
    "mean_anomaly_deg": "MEAN_ANOMALY",
    "bstar": "BSTAR",
    "mean_motion_dot": "MEAN_MOTION_DOT",
    "mean_motion_ddot": "MEAN_MOTION_DDOT",
    "name": "OBJECT_NAME",
}


class _Bad(Exception):
    """Internal: one record is invalid; ``key`` is the OMM keyword at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


# ---- values --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _float(fields: Mapping[str, Any], key: str, default: float | None = None) -> float:
    value = fields.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is None:
            raise _Bad(key, f"{key} is missing")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Bad(key, f"{key} is not a number: {str(value)[:40]!r}")
    if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
        raise _Bad(key, f"{key} is not a number: {value.strip()[:40]!r}")
    try:
        result = float(value)
    except OverflowError:  # an integer with hundreds of digits
        result = math.inf
    if not math.isfinite(result):
        raise _Bad(key, f"{key} is not a finite number: {str(value)[:40]!r}")
    return result + 0.0  # no negative zero: it would change the content hash


def _int(fields: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = fields.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is None:
            raise _Bad(key, f"{key} is missing")
        return default
    if isinstance(value, bool):
        raise _Bad(key, f"{key} is not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()) and len(value) < 20:
        return int(value)
    raise _Bad(key, f"{key} is not an integer: {str(value)[:40]!r}")


def parse_epoch(text: str) -> datetime:
    """OMM EPOCH (ISO 8601 calendar or ordinal date; no zone means UTC) to aware UTC datetime.

    Fractions of a second are rounded to the microsecond. Raises ValueError.
    """
    m = _EPOCH.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"EPOCH {text.strip()[:40]!r} is not an ISO 8601 date and time")
    year, month, day, doy, hh, mm, ss, frac, zone = m.groups()
    if int(hh) > 23 or int(mm) > 59 or int(ss) > 59:
        raise ValueError(f"EPOCH {text.strip()[:40]!r} has an invalid time of day")
    try:
        if doy is not None:
            start = datetime(int(year), 1, 1, tzinfo=UTC)
            if not 1 <= int(doy) <= (366 if calendar.isleap(int(year)) else 365):
                raise ValueError(f"day of year {doy} is not a day of {year}")
            base = start + timedelta(days=int(doy) - 1)
        else:
            base = datetime(int(year), int(month), int(day), tzinfo=UTC)
        micros = round(float("0." + frac) * 1e6) if frac else 0
        epoch = base + timedelta(
            hours=int(hh), minutes=int(mm), seconds=int(ss), microseconds=micros
        )
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            epoch -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"EPOCH {text.strip()[:40]!r} is not a real date ({exc})") from None
    return epoch


def designator_from_object_id(object_id: str) -> str:
    """OMM OBJECT_ID '1998-067A' to the TLE form '98067A'; '' for an empty/UNKNOWN id.

    Raises ValueError for anything else.
    """
    text = object_id.strip()
    if not text or text.upper() == "UNKNOWN":
        return ""
    m = _OBJECT_ID.fullmatch(text)
    if m is None:
        raise ValueError(f"OBJECT_ID {text[:40]!r} is not an international designator (YYYY-NNNP)")
    return f"{m.group(1)[2:]}{m.group(2)}{m.group(3)}"


def object_id_from_designator(designator: str) -> str:
    """TLE international designator '98067A' to OMM OBJECT_ID '1998-067A' (57..99 = 19xx)."""
    m = _TLE_DESIGNATOR.fullmatch(designator.strip())
    if m is None:
        return designator.strip()
    yy = int(m.group(1))
    return f"{yy + (1900 if yy >= 57 else 2000)}-{m.group(2)}{m.group(3)}"


# ---- one record ----------------------------------------------------------------------------


def _element_set(fields: Mapping[str, Any]) -> ElementSet:
    """ElementSet from OMM keyword values (numbers or strings); raises _Bad."""
    for key in _REQUIRED:
        if key not in fields or _text(fields[key]) == "":
            raise _Bad(key, f"{key} is missing")
    for key, allowed in (("TIME_SYSTEM", ("UTC",)), ("REF_FRAME", ("TEME",))):
        value = _text(fields.get(key)).upper()
        if value and value not in allowed:
            raise _Bad(key, f"{key} is {value[:40]!r}, only {allowed[0]} is supported")
    theory = _text(fields.get("MEAN_ELEMENT_THEORY")).upper()
    if theory and "SGP4" not in theory:
        raise _Bad("MEAN_ELEMENT_THEORY", f"MEAN_ELEMENT_THEORY is {theory[:40]!r}, not SGP4")
    epoch_value = fields["EPOCH"]
    if not isinstance(epoch_value, str):
        raise _Bad("EPOCH", f"EPOCH is not a date string: {str(epoch_value)[:40]!r}")
    try:
        epoch = parse_epoch(epoch_value)
    except ValueError as exc:
        raise _Bad("EPOCH", str(exc)) from None
    norad = _int(fields, "NORAD_CAT_ID")
    values = {
        key: _float(fields, key)
        for key in ("MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
                    "ARG_OF_PERICENTER", "MEAN_ANOMALY")
    }  # fmt: skip
    classification = _text(fields.get("CLASSIFICATION_TYPE")) or "U"
    if classification not in ("U", "C", "S"):
        raise _Bad(
            "CLASSIFICATION_TYPE", f"CLASSIFICATION_TYPE {classification[:10]!r} is not U, C or S"
        )
    counters = {}
    for key, default, high in (
        ("EPHEMERIS_TYPE", 0, 9),
        ("ELEMENT_SET_NO", 999, 999_999_999),
        ("REV_AT_EPOCH", 0, 999_999_999),
    ):
        counters[key] = _int(fields, key, default)
        if not 0 <= counters[key] <= high:
            raise _Bad(key, f"{key} {counters[key]} is out of range [0, {high}]")
    try:
        designator = designator_from_object_id(_text(fields.get("OBJECT_ID")))
    except ValueError as exc:
        raise _Bad("OBJECT_ID", str(exc)) from None
    name = _text(fields.get("OBJECT_NAME"))
    if len(name) <= MAX_NAME_CHARS and not name.isprintable():
        raise _Bad("OBJECT_NAME", "OBJECT_NAME contains control characters")
    es = ElementSet(
        norad_id=norad,
        epoch=epoch,
        mean_motion_rev_day=values["MEAN_MOTION"],
        eccentricity=values["ECCENTRICITY"],
        inclination_deg=values["INCLINATION"],
        raan_deg=values["RA_OF_ASC_NODE"],
        arg_perigee_deg=values["ARG_OF_PERICENTER"],
        mean_anomaly_deg=values["MEAN_ANOMALY"],
        bstar=_float(fields, "BSTAR", 0.0),
        mean_motion_dot=_float(fields, "MEAN_MOTION_DOT", 0.0),
        mean_motion_ddot=_float(fields, "MEAN_MOTION_DDOT", 0.0),
        name=name,
        intl_designator=designator,
        classification=classification,
        element_set_no=counters["ELEMENT_SET_NO"],
        rev_at_epoch=counters["REV_AT_EPOCH"],
        ephemeris_type=counters["EPHEMERIS_TYPE"],
    )
    problem = check_element_set(es)
    if problem is not None:
        key = _OMM_KEY[problem.attribute]
        raise _Bad(key, problem.message({problem.attribute: key}))
    return es


_Results = tuple[list[ElementSet], list[ElementError]]


def _collect(
    items: Iterable[tuple[int, Mapping[str, Any] | str]],
    source: str,
    records: list[ElementSet],
    errors: list[ElementError],
) -> None:
    """Records from (index, fields) pairs; a str in place of fields is that record's error."""
    for index, fields in items:
        if isinstance(fields, str):
            errors.append(ElementError(source, None, "format", fields, record_index=index))
            continue
        try:
            records.append(_element_set(fields))
        except _Bad as bad:
            errors.append(ElementError(source, None, bad.key, bad.message, record_index=index))


def _file_error(source: str, field: str, message: str, line: int | None = None) -> _Results:
    return [], [ElementError(source, line, field, message)]


# ---- JSON ----------------------------------------------------------------------------------


def parse_omm_json(data: bytes, source: str) -> _Results:
    """OMM JSON: an array of objects (CelesTrak, Space-Track) or a single object."""
    try:
        doc = json.loads(data)
    except UnicodeDecodeError as exc:
        return _file_error(source, "encoding", f"JSON is not valid UTF-8 text ({exc.reason})")
    except json.JSONDecodeError as exc:
        return _file_error(
            source, "format", f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno
        )
    except ValueError as exc:  # e.g. an integer literal with thousands of digits
        return _file_error(source, "format", f"invalid JSON: {str(exc)[:80]}")
    except RecursionError:
        return _file_error(source, "format", "invalid JSON: nested too deeply")
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        return _file_error(source, "format", "JSON is not an array of OMM objects")
    records: list[ElementSet] = []
    errors: list[ElementError] = []
    items = (
        (i, obj if isinstance(obj, dict) else f"not a JSON object: {str(obj)[:40]!r}")
        for i, obj in enumerate(doc, 1)
    )
    _collect(items, source, records, errors)
    return records, errors


# ---- XML -----------------------------------------------------------------------------------


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _xml_fields(omm: Element) -> dict[str, str] | str:
    fields: dict[str, str] = {}
    for element in omm.iter():
        tag = _local(element.tag)
        if len(element) or tag in ("COMMENT", "USER_DEFINED") or element is omm:
            continue
        if tag in fields:
            return f"{tag} appears twice"
        fields[tag] = (element.text or "").strip()
    return fields


def parse_omm_xml(data: bytes, source: str) -> _Results:
    """CCSDS NDM/OMM XML (one ``<omm>`` per object, inside ``<ndm>`` or alone)."""
    try:
        root = DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        return _file_error(
            source,
            "format",
            "XML has a document type declaration (DTD); rejected: entity definitions "
            "could expand without limit, and OMM XML never needs one",
        )
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        return _file_error(source, "format", "XML defines or references entities; rejected")
    except defusedxml.NotSupportedError as exc:
        return _file_error(source, "format", f"XML feature not supported: {exc}")
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        return _file_error(source, "format", f"invalid XML: {exc}", line)
    except (ValueError, LookupError, RecursionError) as exc:  # e.g. unknown encoding
        return _file_error(source, "format", f"invalid XML: {str(exc)[:80]}")
    omms = (
        [root] if _local(root.tag) == "omm" else [e for e in root.iter() if _local(e.tag) == "omm"]
    )
    if not omms:
        return _file_error(
            source, "format", f"XML has no <omm> element (root is <{_local(root.tag)}>)"
        )
    records: list[ElementSet] = []
    errors: list[ElementError] = []
    _collect(((i, _xml_fields(omm)) for i, omm in enumerate(omms, 1)), source, records, errors)
    return records, errors


# ---- CSV -----------------------------------------------------------------------------------


def parse_omm_csv(data: bytes, source: str) -> _Results:
    """CSV with a header row of OMM keywords (CelesTrak ``FORMAT=csv``)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return _file_error(
            source, "encoding", f"CSV is not valid UTF-8 text (byte 0x{data[exc.start]:02x})", line
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[ElementSet] = []
    errors: list[ElementError] = []
    try:
        header = [h.strip().upper() for h in next(reader, [])]
        missing = [key for key in _REQUIRED if key not in header]
        if missing:
            return _file_error(
                source, "format", f"CSV header lacks {', '.join(missing)}", reader.line_num or 1
            )
        rows: list[tuple[int, Mapping[str, Any] | str]] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            index = len(rows) + 1
            if len(row) != len(header):
                rows.append((index, f"row has {len(row)} fields, the header has {len(header)}"))
            else:
                rows.append((index, dict(zip(header, row, strict=True))))
    except csv.Error as exc:
        errors.append(ElementError(source, reader.line_num, "format", f"invalid CSV: {exc}"))
        return records, errors
    _collect(rows, source, records, errors)
    return records, errors


# ---- KVN -----------------------------------------------------------------------------------

_KVN_LINE = re.compile(r"([A-Z][A-Z0-9_]*)\s*=\s*(.*)")
_KVN_UNITS = re.compile(r"(.*?)\s*\[[^\[\]]*\]")
_TEXT_KEYS = frozenset(_METADATA_KEYS) | {"CLASSIFICATION_TYPE", "EPOCH", "ORIGINATOR"}


def parse_omm_kvn(data: bytes, source: str) -> _Results:
    """CCSDS OMM KVN (``KEY = value [unit]`` lines); each ``CCSDS_OMM_VERS`` starts a message.

    Errors carry the line of the offending key (or the message's first line if a key is
    missing).
    """
    records: list[ElementSet] = []
    errors: list[ElementError] = []
    fields: dict[str, str] = {}
    lines_of: dict[str, int] = {}
    first_line = 0
    broken: tuple[int, str, str] | None = None  # first problem of the current message

    def finish() -> None:
        nonlocal broken, first_line
        if broken is not None:
            errors.append(ElementError(source, broken[0], broken[1], broken[2]))
        elif fields:
            try:
                records.append(_element_set(fields))
            except _Bad as bad:
                line = lines_of.get(bad.key, first_line)
                errors.append(ElementError(source, line, bad.key, bad.message))
        fields.clear()
        lines_of.clear()
        broken = None
        first_line = 0

    for number, raw in enumerate(data.splitlines(), 1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            line = ""
            if broken is None:
                broken = (
                    number,
                    "encoding",
                    f"line is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                )
        if not line or line == "COMMENT" or line.startswith("COMMENT "):
            continue
        m = _KVN_LINE.fullmatch(line)
        if m is None:
            if broken is None:
                broken = (number, "format", f"not a 'KEY = value' line: {line[:40]!r}")
            first_line = first_line or number
            continue
        key, value = m.group(1), m.group(2)
        if key not in _TEXT_KEYS and (units := _KVN_UNITS.fullmatch(value)) is not None:
            value = units.group(1)  # a number followed by its unit, '15.5 [rev/day]'
        if key == "CCSDS_OMM_VERS":
            finish()
        first_line = first_line or number
        if key in fields and broken is None:
            broken = (number, key, f"{key} appears twice in one message")
        fields[key] = value
        lines_of[key] = number
    finish()
    return records, errors


# ---- writing -------------------------------------------------------------------------------


def omm_dict(es: ElementSet) -> dict[str, Any]:
    """The OMM keyword values of an element set, in CelesTrak's key order (JSON types)."""
    return {
        "OBJECT_NAME": es.name,
        "OBJECT_ID": object_id_from_designator(es.intl_designator),
        "EPOCH": es.epoch.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "MEAN_MOTION": es.mean_motion_rev_day,
        "ECCENTRICITY": es.eccentricity,
        "INCLINATION": es.inclination_deg,
        "RA_OF_ASC_NODE": es.raan_deg,
        "ARG_OF_PERICENTER": es.arg_perigee_deg,
        "MEAN_ANOMALY": es.mean_anomaly_deg,
        "EPHEMERIS_TYPE": es.ephemeris_type,
        "CLASSIFICATION_TYPE": es.classification,
        "NORAD_CAT_ID": es.norad_id,
        "ELEMENT_SET_NO": es.element_set_no,
        "REV_AT_EPOCH": es.rev_at_epoch,
        "BSTAR": es.bstar,
        "MEAN_MOTION_DOT": es.mean_motion_dot,
        "MEAN_MOTION_DDOT": es.mean_motion_ddot,
    }


def _value_text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def format_omm_json(records: Iterable[ElementSet]) -> str:
    """A JSON array of OMM objects, one per line; floats written exactly (shortest repr)."""
    body = ",\n".join(json.dumps(omm_dict(es)) for es in records)
    return f"[\n{body}\n]\n" if body else "[]\n"


def format_omm_csv(records: Iterable[ElementSet]) -> str:
    """CSV with CelesTrak's OMM header; floats written exactly (shortest repr)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OMM_KEYS)
    for es in records:
        writer.writerow([_value_text(v) for v in omm_dict(es).values()])
    return out.getvalue()


def format_omm_kvn(records: Iterable[ElementSet]) -> str:
    """CCSDS OMM KVN, one message per record, with TEME/UTC/SGP4 metadata."""
    parts = []
    for es in records:
        d = omm_dict(es)
        meta = {"CENTER_NAME": "EARTH", "REF_FRAME": "TEME", "TIME_SYSTEM": "UTC",
                "MEAN_ELEMENT_THEORY": "SGP4"}  # fmt: skip
        lines = ["CCSDS_OMM_VERS = 2.0"]
        lines += [f"{k} = {d[k]}" for k in ("OBJECT_NAME", "OBJECT_ID")]
        lines += [f"{k} = {v}" for k, v in meta.items()]
        lines += [f"{k} = {_value_text(d[k])}" for k in _MEAN_ELEMENT_KEYS + _TLE_PARAMETER_KEYS]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def format_omm_xml(records: Iterable[ElementSet]) -> str:
    """CCSDS NDM XML with one ``<omm>`` per record, laid out as CelesTrak publishes it."""

    def tags(d: Mapping[str, Any], keys: Iterable[str]) -> str:
        return "".join(f"<{k}>{escape(_value_text(d[k]))}</{k}>" for k in keys)

    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<ndm>\n']
    for es in records:
        d = dict(omm_dict(es), CENTER_NAME="EARTH", REF_FRAME="TEME", TIME_SYSTEM="UTC",
                 MEAN_ELEMENT_THEORY="SGP4")  # fmt: skip
        out.append(
            '<omm id="CCSDS_OMM_VERS" version="2.0">'
            "<header><CREATION_DATE/><ORIGINATOR/></header><body><segment>"
            f"<metadata>{tags(d, _METADATA_KEYS)}</metadata><data>"
            f"<meanElements>{tags(d, _MEAN_ELEMENT_KEYS)}</meanElements>"
            f"<tleParameters>{tags(d, _TLE_PARAMETER_KEYS)}</tleParameters>"
            "</data></segment></body></omm>\n"
        )
    out.append("</ndm>\n")
    return "".join(out)
