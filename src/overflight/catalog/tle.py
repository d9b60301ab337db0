"""Two-line element sets (TLE): strict parsing of two- and three-line text, exact formatting.

The parser works on bytes: one regular expression per line checks the fixed-column layout
(and so that every numeric field holds only digits, blanks, signs and the decimal point where
the format puts them), then the fields are converted with ``int``/``float``. Only a record that
fails takes the slow path, which finds the first offending field for the error message.

Floats are converted from the decimal text (``float("0.0007245")``), the same way a JSON or
CSV reader converts OMM values, so a TLE and the OMM of the same element set give equal
records. Negative zeros are normalised to ``0.0`` (they would change the content hash).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC

from overflight.catalog.validate import check_element_set
from overflight.elements import ElementError, ElementSet, epoch_from_tle, epoch_to_tle

__all__ = [
    "alpha5_to_int",
    "checksum",
    "format_tle",
    "int_to_alpha5",
    "parse_tle",
    "tle_lines",
]

# Alpha-5: the first of five characters is a letter for catalog numbers 100000..339999,
# A=10 ... Z=33, skipping I and O (they read as 1 and 0).
_ALPHA5_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_ALPHA5_VALUE = {ord(c): 10 + i for i, c in enumerate(_ALPHA5_LETTERS)}
MAX_TLE_CATALOG_NUMBER = 339999

# Checksum: digits count their value, '-' counts 1, everything else 0; modulo 10.
_CK_TABLE = bytes((b - 48) if 48 <= b <= 57 else (1 if b == 45 else 0) for b in range(256))

_CAT = rb"([ 0-9]{4}[0-9]|[A-HJ-NP-Z][0-9]{4})"
_DESIG = rb"([0-9]{5}[A-Z]{3}|[0-9]{5}[A-Z]{2} |[0-9]{5}[A-Z]  | {8})"
_EXP = rb"[ +-][0-9]{5}[+-][0-9]"
_EXP_WIDE = rb"[ +-][0-9]{5}[+-][0-9]{2}"
_ANGLE = rb"([ 0-9]{3}\.[0-9]{4})"


def _line1_re(nddot: bytes, bstar: bytes) -> re.Pattern[bytes]:
    return re.compile(
        rb"1 " + _CAT + rb"([UCS]) " + _DESIG + rb" ([0-9]{2})([ 0-9]{2}[0-9]\.[0-9]{8}) "
        rb"([ +-]\.[0-9]{8}) (" + nddot + rb") (" + bstar + rb") ([0-9]) ([ 0-9]{3}[0-9])([0-9])"
    )


_L1 = _line1_re(_EXP, _EXP)
# Tolerated variant, seen in real published data: an exponent below -9 printed with two
# digits (``-66000-10``), which makes line 1 one character longer. Its checksum covers it.
_L1_WIDE = (_line1_re(_EXP, _EXP_WIDE), _line1_re(_EXP_WIDE, _EXP))
_L2 = re.compile(
    rb"2 "
    + _CAT
    + rb" "
    + _ANGLE
    + rb" "
    + _ANGLE
    + rb" ([0-9]{7}) "
    + _ANGLE
    + rb" "
    + _ANGLE
    + rb" ([ 0-9]{2}\.[0-9]{8})([ 0-9]{4}[0-9])([0-9])"
)

# (start, end, field key, description, pattern, expected form) for the slow path's diagnosis.
_Spec = tuple[int, int, str, str, bytes, str]
_LINE1_FIELDS: tuple[_Spec, ...] = (
    (2, 7, "catalog_number", "catalog number", _CAT, "5 digits, or a letter and 4 digits"),
    (7, 8, "classification", "classification", rb"[UCS]", "U, C or S"),
    (9, 17, "intl_designator", "international designator", _DESIG, "like '98067A  '"),
    (18, 20, "epoch", "epoch year", rb"[0-9]{2}", "2 digits"),
    (20, 32, "epoch", "epoch day of year", rb"[ 0-9]{2}[0-9]\.[0-9]{8}", "DDD.DDDDDDDD"),
    (33, 43, "mean_motion_dot", "mean motion derivative", rb"[ +-]\.[0-9]{8}", "like ' .00012345'"),
    (44, 52, "mean_motion_ddot", "mean motion second derivative", _EXP, "like ' 12345-5'"),
    (53, 61, "bstar", "BSTAR", _EXP, "like ' 12345-4'"),
    (62, 63, "ephemeris_type", "ephemeris type", rb"[0-9]", "a digit"),
    (64, 68, "element_set_no", "element set number", rb"[ 0-9]{3}[0-9]", "up to 4 digits"),
)
#: ElementSet attribute -> (TLE line, error field, label) for range errors found after parsing.
_TLE_FIELDS = {
    "norad_id": (1, "catalog_number", "line 1 catalog number"),
    "epoch": (1, "epoch", "line 1 epoch"),
    "mean_motion_rev_day": (2, "mean_motion", "line 2 mean motion"),
    "eccentricity": (2, "eccentricity", "line 2 eccentricity"),
    "inclination_deg": (2, "inclination", "line 2 inclination"),
    "raan_deg": (2, "raan", "line 2 right ascension of the ascending node"),
    "arg_perigee_deg": (2, "arg_perigee", "line 2 argument of perigee"),
    "mean_anomaly_deg": (2, "mean_anomaly", "line 2 mean anomaly"),
    "bstar": (1, "bstar", "line 1 BSTAR"),
    "mean_motion_dot": (1, "mean_motion_dot", "line 1 mean motion derivative"),
    "mean_motion_ddot": (1, "mean_motion_ddot", "line 1 mean motion second derivative"),
    "name": (0, "name", "name"),
}
_LINE1_BLANKS = (1, 8, 17, 32, 43, 52, 61, 63)
_LINE2_FIELDS: tuple[_Spec, ...] = (
    (2, 7, "catalog_number", "catalog number", _CAT, "5 digits, or a letter and 4 digits"),
    (8, 16, "inclination", "inclination", _ANGLE, "DDD.DDDD"),
    (17, 25, "raan", "right ascension of the ascending node", _ANGLE, "DDD.DDDD"),
    (26, 33, "eccentricity", "eccentricity", rb"[0-9]{7}", "7 digits"),
    (34, 42, "arg_perigee", "argument of perigee", _ANGLE, "DDD.DDDD"),
    (43, 51, "mean_anomaly", "mean anomaly", _ANGLE, "DDD.DDDD"),
    (52, 63, "mean_motion", "mean motion", rb"[ 0-9]{2}\.[0-9]{8}", "DD.DDDDDDDD"),
    (63, 68, "rev_at_epoch", "revolution number", rb"[ 0-9]{4}[0-9]", "up to 5 digits"),
)
_LINE2_BLANKS = (1, 7, 16, 25, 33, 42, 51)


def checksum(line: str | bytes) -> int:
    """TLE checksum of a line without its last (checksum) character: digits + one per '-'."""
    data = line.encode("latin-1", "replace") if isinstance(line, str) else line
    return sum(data[:-1].translate(_CK_TABLE)) % 10


def alpha5_to_int(text: str) -> int:
    """Catalog number from its 5-character TLE form ('25544', 'A0001' = 100001)."""
    text = text.strip()
    if text and text[0].isalpha():
        value = _ALPHA5_VALUE.get(ord(text[0]))
        if value is None or len(text) != 5 or not text[1:].isdigit():
            raise ValueError(f"not an Alpha-5 catalog number: {text!r}")
        return value * 10000 + int(text[1:])
    if not text.isdigit() or len(text) > 5:
        raise ValueError(f"not a catalog number: {text!r}")
    return int(text)


def int_to_alpha5(number: int) -> str:
    """5-character TLE form of a catalog number (zero-padded; Alpha-5 above 99999)."""
    if not 0 <= number <= MAX_TLE_CATALOG_NUMBER:
        raise ValueError(f"catalog number {number} cannot be written in a TLE (0..339999)")
    if number < 100000:
        return f"{number:05d}"
    high, low = divmod(number, 10000)
    return f"{_ALPHA5_LETTERS[high - 10]}{low:04d}"


def _catalog(field: bytes) -> int:
    if 65 <= field[0] <= 90:
        return _ALPHA5_VALUE[field[0]] * 10000 + int(field[1:])
    return int(field)


def _exp_value(field: bytes) -> float:
    """Value of an implied-decimal exponent field: ' 21767-3' = 0.21767e-3."""
    return float(field[:1] + b"." + field[1:6] + b"e" + field[6:]) + 0.0


def _year_length(year2: int) -> int:
    year = year2 + (1900 if year2 >= 57 else 2000)
    return 366 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 365


_DAYS_IN_YEAR = [_year_length(y) for y in range(100)]
_CLASSIFICATION = {b"U": "U", b"C": "C", b"S": "S"}


class _Reject(Exception):
    """Internal: one record is invalid (never escapes this module)."""

    def __init__(self, which: int, field: str, message: str) -> None:
        super().__init__(message)
        self.which = which  # 1 or 2: the offending TLE line (0 for the name line)
        self.field = field
        self.message = message


def _build(m1: re.Match[bytes], m2: re.Match[bytes], name: str) -> ElementSet:
    """ElementSet from matched lines; _Reject on a range or consistency error, else ValueError."""
    (cat1, cls, desig, year, day, ndot, nddot, bstar, eph, esn, _ck1) = m1.groups()
    (cat2, inc, raan, ecc, argp, ma, mm, rev, _ck2) = m2.groups()
    # int()/float() raise ValueError on a blank inside a number ('5 1.6337'): the caller
    # then takes the slow path, which names the field.
    norad = _catalog(cat1)
    norad2 = _catalog(cat2)
    year2 = int(year)
    day_f = float(day)
    inc_f = float(inc)
    raan_f = float(raan)
    argp_f = float(argp)
    ma_f = float(ma)
    mm_f = float(mm)
    esn_i = int(esn)
    rev_i = int(rev)
    if norad != norad2:
        raise _Reject(
            2,
            "catalog_number",
            f"line 2 catalog number {cat2.decode()} does not match line 1 ({cat1.decode()})",
        )
    if not 1.0 <= day_f < _DAYS_IN_YEAR[year2] + 1:
        raise _Reject(
            1,
            "epoch",
            f"line 1 epoch day of year {day.decode().strip()} is not a day of "
            f"{year2 + (1900 if year2 >= 57 else 2000)}",
        )
    es = ElementSet(
        norad_id=norad,
        epoch=epoch_from_tle(year2, day_f),
        mean_motion_rev_day=mm_f,
        eccentricity=float(b"." + ecc),
        inclination_deg=inc_f,
        raan_deg=raan_f,
        arg_perigee_deg=argp_f,
        mean_anomaly_deg=ma_f,
        bstar=_exp_value(bstar),
        mean_motion_dot=float(ndot) + 0.0,
        mean_motion_ddot=_exp_value(nddot),
        name=name,
        intl_designator=desig.decode().rstrip(),
        classification=_CLASSIFICATION[cls],
        element_set_no=esn_i,
        rev_at_epoch=rev_i,
        ephemeris_type=int(eph),
    )
    problem = check_element_set(es)
    if problem is not None:
        which, key, label = _TLE_FIELDS[problem.attribute]
        texts = {"mean_motion_rev_day": mm, "eccentricity": ecc, "inclination_deg": inc,
                 "raan_deg": raan, "arg_perigee_deg": argp, "mean_anomaly_deg": ma,
                 "bstar": bstar, "mean_motion_dot": ndot, "mean_motion_ddot": nddot}  # fmt: skip
        text = texts.get(problem.attribute)
        shown = text.decode().strip() if text is not None else None
        raise _Reject(which, key, problem.message({problem.attribute: label}, shown))
    return es


def _show(data: bytes) -> str:
    return repr(data.decode("latin-1"))


def _diagnose(which: int, line: bytes) -> _Reject | None:
    """The first problem of one TLE line, in reading order; None if the line looks valid."""
    label = f"line {which}"
    bad = next((i for i, b in enumerate(line) if b > 126 or b < 32), None)
    if bad is not None:
        kind = "non-ASCII" if line[bad] > 127 else "control"
        return _Reject(
            which,
            "encoding",
            f"{label} has a {kind} byte 0x{line[bad]:02x} at column {bad + 1}",
        )
    wide = which == 1 and len(line) == 70 and any(p.fullmatch(line) for p in _L1_WIDE)
    if len(line) != 69 and not wide:
        return _Reject(which, "line_length", f"{label} has {len(line)} characters, expected 69")
    last = line[-1:]
    if not last.isdigit():
        return _Reject(which, "checksum", f"{label} checksum {_show(last)} is not a digit")
    computed = checksum(line)
    if int(last) != computed:
        return _Reject(
            which, "checksum", f"{label} checksum is {last.decode()}, computed {computed}"
        )
    if wide:
        return None
    fields, blanks = (
        (_LINE1_FIELDS, _LINE1_BLANKS) if which == 1 else (_LINE2_FIELDS, _LINE2_BLANKS)
    )
    for start, end, key, desc, pattern, form in fields:
        text = line[start:end]
        # Blanks may only pad a number on the left (or follow a designator).
        if re.fullmatch(pattern, text) is None or b" " in text.strip():
            return _Reject(
                which, key, f"{label} {desc} {_show(text)} is malformed (expected {form})"
            )
    for col in blanks:
        if line[col] != 32:
            return _Reject(
                which,
                "format",
                f"{label} column {col + 1} should be blank, found {_show(line[col : col + 1])}",
            )
    return None


def _parse_pair(l1: bytes, l2: bytes, name: str) -> ElementSet:
    """One record from its two lines (trailing blanks already stripped); raises _Reject."""
    m1 = _L1.fullmatch(l1)
    m2 = _L2.fullmatch(l2)
    if (
        m1 is not None
        and m2 is not None
        and sum(l1[:68].translate(_CK_TABLE)) % 10 == l1[68] - 48
        and sum(l2[:68].translate(_CK_TABLE)) % 10 == l2[68] - 48
    ):
        try:
            return _build(m1, m2, name)
        except ValueError:
            pass
    # Slow path: find the first offending field (or accept the tolerated wide line 1).
    for which, line in ((1, l1), (2, l2)):
        problem = _diagnose(which, line)
        if problem is not None:
            raise problem
    if m1 is None and len(l1) == 70:
        m1 = next(m for p in _L1_WIDE if (m := p.fullmatch(l1)) is not None)
    if m1 is None or m2 is None:  # pragma: no cover - _diagnose names every mismatch
        raise _Reject(1 if m1 is None else 2, "format", "line does not match the TLE layout")
    try:
        return _build(m1, m2, name)
    except ValueError:
        raise _Reject(1, "format", "line 1 has a blank inside a number") from None


def _decode_name(raw: bytes) -> str:
    """Name line text without a '0 ' prefix; raises _Reject for undecodable or control bytes."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Reject(
            0,
            "name",
            f"name line is not valid text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
        ) from None
    if not text.isprintable():
        col = next(i for i, c in enumerate(text) if not c.isprintable())
        raise _Reject(0, "name", f"name line has a control character at column {col + 1}")
    if text.startswith("0 "):
        text = text[2:]
    return text.strip()


def parse_tle(data: bytes, source: str) -> tuple[list[ElementSet], list[ElementError]]:
    """All element sets in two- or three-line TLE text, and one error per rejected record.

    Line numbers in errors are 1-based physical lines of ``data``. After a broken record the
    parser re-synchronises on the next line starting with ``'1 '``; text lines in between
    belong to the broken record and are not reported again.
    """
    records: list[ElementSet] = []
    errors: list[ElementError] = []
    lines = data.splitlines()
    n = len(lines)
    pending: list[int] = []  # non-blank lines seen since the last element pair
    in_bad = False  # after an error, until the next valid record: stray lines are not reported

    def problem(index: int, field: str, message: str) -> None:
        nonlocal in_bad
        if not in_bad:
            errors.append(ElementError(source, index + 1, field, message))
        in_bad = True

    i = 0
    while i < n:
        line = lines[i]
        head = line[:2]
        if head == b"1 ":
            # A line 1 is where a new record starts: stray lines before its name line belong
            # to the previous broken record if there was one, otherwise they are an error.
            name_index = pending.pop() if pending else None
            if pending:
                problem(pending[0], "format", f"unexpected line {_show(lines[pending[0]][:40])}")
            pending.clear()
            in_bad = False
            if i + 1 < n and lines[i + 1][:2] == b"2 ":
                try:
                    name = "" if name_index is None else _decode_name(lines[name_index].rstrip())
                    records.append(_parse_pair(line.rstrip(), lines[i + 1].rstrip(), name))
                except _Reject as rej:
                    index = {0: name_index, 1: i, 2: i + 1}[rej.which]
                    line_no = (i if index is None else index) + 1
                    errors.append(ElementError(source, line_no, rej.field, rej.message))
                    in_bad = True
                i += 2
                continue
            problem(i, "format", "line 1 is not followed by a line 2")
        elif head == b"2 ":
            pending.clear()
            problem(i, "format", "line 2 without a preceding line 1")
        elif line.strip():
            pending.append(i)
        i += 1
    if pending:
        problem(
            pending[0],
            "format",
            f"text without element lines: {_show(lines[pending[0]].rstrip()[:40])}",
        )
    return records, errors


# ---- writing -------------------------------------------------------------------------------


def _fmt_exp(value: float, what: str) -> str:
    """8-character implied-decimal exponent field: 2.1767e-4 -> ' 21767-3'."""
    sign = "-" if value < 0 else " "
    mag = abs(value)
    if mag == 0.0:
        return " 00000+0"
    text = f"{mag:.4e}"  # 'd.dddde-XX': mantissa 0.ddddd with exponent XX+1
    exp = int(text[7:]) + 1
    if exp > 9:
        raise ValueError(f"{what} {value!r} is too large for a TLE")
    if exp < -9:
        # Keep the standard 69-character line: denormalise to exponent -9 (drops digits).
        digits = round(mag * 1e14)
        return f"{sign if digits else ' '}{digits:05d}-9" if digits else " 00000+0"
    return f"{sign}{text[0]}{text[2:6]}{'-' if exp < 0 else '+'}{abs(exp)}"


def _fmt_angle(value: float, what: str, wrap: bool) -> str:
    text = f"{value:8.4f}"
    if wrap and text == "360.0000":
        text = "  0.0000"
    if len(text) != 8 or value < 0:
        raise ValueError(f"{what} {value!r} cannot be written in a TLE")
    return text


def tle_lines(es: ElementSet) -> tuple[str, str]:
    """Lines 1 and 2 (69 characters each, with checksums) of an element set.

    Raises ValueError for values a TLE cannot hold (catalog number > 339999, mean motion
    >= 100 rev/day, |mean motion derivative| >= 1, epoch outside 1957..2056).
    """
    cat = int_to_alpha5(es.norad_id)
    epoch = es.epoch.astimezone(UTC)
    if not 1957 <= epoch.year <= 2056:
        raise ValueError(f"epoch {epoch.isoformat()} cannot be written in a TLE (1957..2056)")
    year2, day = epoch_to_tle(epoch)
    day_text = f"{day:012.8f}"
    if float(day_text) >= _year_length(year2) + 1:  # rounds up into the next year
        year2, day_text = (year2 + 1) % 100, "001.00000000"
    ndot = f"{abs(es.mean_motion_dot):.8f}"
    if not ndot.startswith("0."):
        raise ValueError(f"mean motion derivative {es.mean_motion_dot!r} is too large for a TLE")
    ndot_sign = "-" if es.mean_motion_dot < 0 and ndot != "0.00000000" else " "
    if len(es.classification) != 1:
        raise ValueError(f"classification {es.classification!r} must be one character")
    if len(es.intl_designator) > 8:
        raise ValueError(f"international designator {es.intl_designator!r} is too long")
    if not 0 <= es.ephemeris_type <= 9:
        raise ValueError(f"ephemeris type {es.ephemeris_type} must be one digit")
    line1 = (
        f"1 {cat}{es.classification} {es.intl_designator:<8} {year2:02d}{day_text} "
        f"{ndot_sign}{ndot[1:]} {_fmt_exp(es.mean_motion_ddot, 'mean motion second derivative')} "
        f"{_fmt_exp(es.bstar, 'BSTAR')} {es.ephemeris_type} {es.element_set_no % 10000:4d}"
    )
    ecc = f"{es.eccentricity:.7f}"
    if not ecc.startswith("0.") or es.eccentricity < 0:
        raise ValueError(f"eccentricity {es.eccentricity!r} cannot be written in a TLE")
    mm = f"{es.mean_motion_rev_day:11.8f}"
    if len(mm) != 11 or es.mean_motion_rev_day <= 0:
        raise ValueError(f"mean motion {es.mean_motion_rev_day!r} cannot be written in a TLE")
    line2 = (
        f"2 {cat} {_fmt_angle(es.inclination_deg, 'inclination', False)} "
        f"{_fmt_angle(es.raan_deg, 'RAAN', True)} {ecc[2:]} "
        f"{_fmt_angle(es.arg_perigee_deg, 'argument of perigee', True)} "
        f"{_fmt_angle(es.mean_anomaly_deg, 'mean anomaly', True)} {mm}"
        f"{es.rev_at_epoch % 100000:5d}"
    )
    return line1 + str(checksum(line1 + "0")), line2 + str(checksum(line2 + "0"))


def format_tle(es: ElementSet, *, name_line: bool = True) -> str:
    """Three-line (name, line 1, line 2) or two-line TLE text, each line ending in '\\n'.

    The name line is the name without padding (prefixed ``'0 '`` if it would otherwise read as
    a prefix or an element line: ``'0 1 HOPE'``), omitted when the name is empty. Raises
    ValueError for values a TLE cannot hold (see ``tle_lines``) or a name with control
    characters.
    """
    line1, line2 = tle_lines(es)
    if name_line and es.name:
        if not es.name.isprintable():
            raise ValueError(f"name {es.name!r} has control characters")
        name = f"0 {es.name}" if es.name[:2] in ("0 ", "1 ", "2 ") else es.name
        return f"{name}\n{line1}\n{line2}\n"
    return f"{line1}\n{line2}\n"


def format_tles(records: Iterable[ElementSet], *, name_line: bool = True) -> str:
    """Concatenated TLE text of many records."""
    return "".join(format_tle(es, name_line=name_line) for es in records)
