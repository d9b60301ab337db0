"""The public satellite catalog (SATCAT): object metadata, not orbits.

Reads the layouts CelesTrak (``https://celestrak.org/pub/satcat.csv`` and its JSON, keys
``OBJECT_NAME, OBJECT_ID, NORAD_CAT_ID, OBJECT_TYPE, OPS_STATUS_CODE, OWNER, LAUNCH_DATE,
LAUNCH_SITE, DECAY_DATE, PERIOD, INCLINATION, APOGEE, PERIGEE, RCS, DATA_STATUS_CODE,
ORBIT_CENTER, ORBIT_TYPE``) and Space-Track (class ``satcat``, CSV or JSON, keys ``INTLDES,
NORAD_CAT_ID, OBJECT_TYPE, SATNAME, COUNTRY, LAUNCH, SITE, DECAY, PERIOD, INCLINATION, APOGEE,
PERIGEE, COMMENT, COMMENTCODE, RCSVALUE, RCS_SIZE, FILE, LAUNCH_YEAR, LAUNCH_NUM, LAUNCH_PIECE,
CURRENT, OBJECT_NAME, OBJECT_ID, OBJECT_NUMBER``) publish. The layout is told by the keys, never
by a file name. Object types are normalized to :data:`OBJECT_TYPES`. Bad rows become one
:class:`~overflight.elements.ElementError` each (file, line or record, field) and reading goes
on. See docs/formats.md.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from overflight.elements import ElementError

__all__ = [
    "OBJECT_TYPES",
    "SATCAT_FORMATS",
    "SatcatRecord",
    "is_satcat_keys",
    "normalize_object_type",
    "owner_aliases",
    "owner_codes",
    "parse_satcat",
    "sniff_satcat",
]

#: The normalized object types.
OBJECT_TYPES = ("payload", "rocket body", "debris", "unknown")
SATCAT_FORMATS = ("satcat-csv", "satcat-json")
_TYPE_CODES = {
    "PAY": "payload", "PAYLOAD": "payload",
    "R/B": "rocket body", "ROCKET BODY": "rocket body", "RB": "rocket body",
    "ROCKET-BODY": "rocket body", "ROCKET_BODY": "rocket body",
    "DEB": "debris", "DEBRIS": "debris",
    "UNK": "unknown", "UNKNOWN": "unknown", "TBA": "unknown", "": "unknown",
}  # fmt: skip
_RCS_SIZES = ("SMALL", "MEDIUM", "LARGE")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T][0-9:.]*Z?)?$")
_MAX_NORAD = 999_999_999
# (normalized field, CelesTrak key, Space-Track keys in order of preference)
_FIELDS = {
    "name": ("OBJECT_NAME", ("SATNAME", "OBJECT_NAME")),
    "intl_designator": ("OBJECT_ID", ("INTLDES", "OBJECT_ID")),
    "object_type": ("OBJECT_TYPE", ("OBJECT_TYPE",)),
    "owner": ("OWNER", ("COUNTRY",)),
    "launch_date": ("LAUNCH_DATE", ("LAUNCH",)),
    "launch_site": ("LAUNCH_SITE", ("SITE",)),
    "decay_date": ("DECAY_DATE", ("DECAY",)),
    "rcs_m2": ("RCS", ("RCSVALUE",)),
}


def normalize_object_type(text: str) -> str | None:
    """``payload``, ``rocket body``, ``debris`` or ``unknown`` for a SATCAT code (``PAY``,
    ``R/B``, ``DEB``, ``UNK``; Space-Track's ``PAYLOAD``, ``ROCKET BODY``, ``DEBRIS``,
    ``UNKNOWN``, ``TBA``) or a normalized name; None if not one of them."""
    key = " ".join(text.strip().upper().split())
    if key.lower() in OBJECT_TYPES:
        return key.lower()
    return _TYPE_CODES.get(key)


@dataclass(frozen=True, slots=True)
class SatcatRecord:
    """One SATCAT entry. Dates are UTC calendar days; orbit figures as published (period in
    minutes, inclination in degrees, apogee/perigee altitudes in km), None where absent.

    ``owner`` is the SATCAT owner (source) code, e.g. ``US``, ``CIS``, ``PRC``;
    ``rcs_m2`` the radar cross-section in m² (CelesTrak) and ``rcs_size`` Space-Track's
    ``SMALL``/``MEDIUM``/``LARGE`` class; ``provider`` ``celestrak`` or ``space-track``.
    """

    norad_id: int
    name: str
    intl_designator: str
    object_type: str
    owner: str
    launch_date: date | None
    launch_site: str
    decay_date: date | None
    period_min: float | None = None
    inclination_deg: float | None = None
    apogee_km: float | None = None
    perigee_km: float | None = None
    rcs_m2: float | None = None
    rcs_size: str = ""
    ops_status: str = ""
    provider: str = "celestrak"

    def to_dict(self) -> dict[str, Any]:
        return {
            "norad_id": self.norad_id,
            "name": self.name,
            "intl_designator": self.intl_designator,
            "object_type": self.object_type,
            "owner": self.owner,
            "launch_date": self.launch_date.isoformat() if self.launch_date else None,
            "launch_site": self.launch_site,
            "decay_date": self.decay_date.isoformat() if self.decay_date else None,
            "period_min": self.period_min,
            "inclination_deg": self.inclination_deg,
            "apogee_km": self.apogee_km,
            "perigee_km": self.perigee_km,
            "rcs_m2": self.rcs_m2,
            "rcs_size": self.rcs_size,
            "ops_status": self.ops_status,
            "provider": self.provider,
        }


def is_satcat_keys(keys: Iterable[str]) -> bool:
    """Whether a header/key set is a SATCAT record's (NORAD id, object type and owner or
    country, and no mean elements: Space-Track's ``gp`` class also has OBJECT_TYPE)."""
    upper = {k.strip().upper() for k in keys}
    return (
        "NORAD_CAT_ID" in upper
        and "OBJECT_TYPE" in upper
        and bool(upper & {"OWNER", "COUNTRY"})
        and not upper & {"MEAN_MOTION", "EPOCH", "TLE_LINE1"}
    )


def sniff_satcat(text: bytes) -> str | None:
    """``satcat-csv`` or ``satcat-json`` if the start of the data is SATCAT, else None."""
    head = text.lstrip()
    if head[:1] in (b"[", b"{"):
        m = re.search(rb"\{([^{}]*)", head)
        if m is None:
            return None
        keys = re.findall(rb'"([A-Za-z_]+)"\s*:', m.group(1))
        ok = is_satcat_keys(k.decode("ascii") for k in keys)
        return "satcat-json" if ok else None
    first = head.split(b"\n", 1)[0].strip()
    if b"," not in first:
        return None
    cols = [c.strip().strip('"') for c in first.decode("utf-8", "replace").split(",")]
    return "satcat-csv" if is_satcat_keys(cols) else None


class _Row:
    """One input row with its place, for one-line errors naming the field."""

    def __init__(self, source: str, values: Mapping[str, Any], line: int | None,
                 index: int, *, normalized: bool = False) -> None:
        self.source = source
        self.values = values if normalized else {
            str(k).strip().upper(): v for k, v in values.items()}
        self.line = line
        self.index = index

    def error(self, field: str, message: str) -> ElementError:
        return ElementError(self.source, self.line, field, f"{field}: {message}",
                            record_index=self.index)

    def text(self, key: str) -> str:
        v = self.values.get(key)
        return "" if v is None else str(v).strip()

    def first(self, keys: Iterable[str]) -> tuple[str, str]:
        """(key, value) of the first key present with a value (else the first key, '')."""
        keys = list(keys)
        for k in keys:
            v = self.text(k)
            if v:
                return k, v
        return keys[0], ""


def _date(row: _Row, key: str, value: str) -> date | None:
    if not value:
        return None
    m = _DATE.match(value)
    try:
        if m is None:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise _Bad(row.error(key, f"{value[:30]!r} is not a date (YYYY-MM-DD)")) from None


def _number(row: _Row, key: str) -> float | None:
    value = row.text(key)
    if not value or value.upper() in ("N/A", "NULL"):
        return None
    try:
        x = float(value)
    except ValueError:
        raise _Bad(row.error(key, f"{value[:30]!r} is not a number")) from None
    if not math.isfinite(x):
        raise _Bad(row.error(key, f"{value[:30]!r} is not a finite number"))
    return x


class _Bad(Exception):
    def __init__(self, error: ElementError) -> None:
        super().__init__(str(error))
        self.error = error


def _record(row: _Row) -> SatcatRecord | None:
    """The record of a row; None for a Space-Track row that is not the current one."""
    space_track = "SATNAME" in row.values or "INTLDES" in row.values or (
        "COUNTRY" in row.values and "OWNER" not in row.values)
    if space_track and row.text("CURRENT").upper() == "N":
        return None
    nid_text = row.text("NORAD_CAT_ID")
    if not nid_text.isdigit() or not 0 < int(nid_text) <= _MAX_NORAD:
        shown = repr(nid_text[:30]) if nid_text else "missing"
        raise _Bad(row.error("NORAD_CAT_ID", f"{shown}: not a catalog number (1-{_MAX_NORAD})"))
    got: dict[str, tuple[str, str]] = {}
    for name, (ct_key, st_keys) in _FIELDS.items():
        got[name] = row.first(st_keys) if space_track else (ct_key, row.text(ct_key))
    type_key, type_text = got["object_type"]
    object_type = normalize_object_type(type_text)
    if object_type is None:
        raise _Bad(row.error(type_key, f"{type_text[:30]!r} is not an object type "
                                       "(PAY, R/B, DEB, UNK)"))
    rcs_key = got["rcs_m2"][0]
    rcs = _number(row, rcs_key)
    if space_track and rcs == 0:  # Space-Track publishes 0 since RCS values were withdrawn
        rcs = None
    if rcs is not None and rcs < 0:
        raise _Bad(row.error(rcs_key, f"{rcs:g} is negative"))
    rcs_size = row.text("RCS_SIZE").upper()
    if rcs_size and rcs_size not in _RCS_SIZES:
        raise _Bad(row.error("RCS_SIZE", f"{rcs_size[:20]!r} is not SMALL, MEDIUM or LARGE"))
    launch = _date(row, *got["launch_date"])
    decay = _date(row, *got["decay_date"])
    if launch and decay and decay < launch:
        raise _Bad(row.error(got["decay_date"][0], f"{decay} is before the launch ({launch})"))
    return SatcatRecord(
        norad_id=int(nid_text),
        name=got["name"][1],
        intl_designator=got["intl_designator"][1],
        object_type=object_type,
        owner=got["owner"][1].upper(),
        launch_date=launch,
        launch_site=got["launch_site"][1].upper(),
        decay_date=decay,
        period_min=_number(row, "PERIOD"),
        inclination_deg=_number(row, "INCLINATION"),
        apogee_km=_number(row, "APOGEE"),
        perigee_km=_number(row, "PERIGEE"),
        rcs_m2=rcs,
        rcs_size=rcs_size,
        ops_status=row.text("OPS_STATUS_CODE"),
        provider="space-track" if space_track else "celestrak",
    )


def _rows_csv(text: str, source: str) -> Iterable[_Row]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    reader.fieldnames = [f.strip().upper() for f in reader.fieldnames or []]
    for i, values in enumerate(reader, 1):
        if not any((v or "").strip() for v in values.values() if isinstance(v, str)):
            continue
        values.pop(None, None)  # cells beyond the header (DictReader restkey)
        yield _Row(source, values, reader.line_num, i, normalized=True)


def parse_satcat(
    data: bytes, source: str, fmt: str | None = None
) -> tuple[list[SatcatRecord], list[ElementError]]:
    """SATCAT records of CSV or JSON data (either provider; ``fmt`` None sniffs), in input
    order with a repeated NORAD id kept once (its last row), and one error per bad row."""
    text = data.decode("utf-8-sig", errors="replace")
    fmt = fmt or sniff_satcat(data) or "satcat-csv"
    errors: list[ElementError] = []
    rows: Iterable[_Row]
    if fmt == "satcat-json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            return [], [ElementError(source, exc.lineno, "json", f"not valid JSON: {exc.msg}")]
        items = doc if isinstance(doc, list) else [doc]
        rows_list = []
        for i, item in enumerate(items, 1):
            if not isinstance(item, dict):
                errors.append(ElementError(source, None, "record", "not a JSON object",
                                           record_index=i))
                continue
            rows_list.append(_Row(source, item, None, i))
        rows = rows_list
    else:
        rows = _rows_csv(text, source)
    out: dict[int, SatcatRecord] = {}
    for row in rows:
        try:
            rec = _record(row)
        except _Bad as bad:
            errors.append(bad.error)
            continue
        if rec is not None:
            out.pop(rec.norad_id, None)
            out[rec.norad_id] = rec
    return list(out.values()), errors


@functools.cache
def owner_codes() -> dict[str, tuple[str, ...]]:
    """SATCAT owner code → ISO 3166-1 alpha-3 codes (or ESA, EUMETSAT) of the sensor table,
    from ``data/owner_codes.yaml`` (sourced there)."""
    import yaml

    text = (resources.files("overflight") / "data" / "owner_codes.yaml").read_text("utf-8")
    doc = yaml.safe_load(text)
    return {str(k).upper(): tuple(str(c).upper() for c in v["iso"])
            for k, v in doc["codes"].items()}


def owner_aliases(code: str) -> frozenset[str]:
    """``code`` (SATCAT or ISO alpha-3, any case) with the codes it is mapped to in
    :func:`owner_codes`, both ways: ``PRK`` → {PRK, NKOR}, ``US`` → {US, USA}."""
    c = code.strip().upper()
    out = {c}
    table = owner_codes()
    out.update(table.get(c, ()))
    out.update(k for k, isos in table.items() if c in isos)  # joint owners too (CHBZ)
    return frozenset(out)
