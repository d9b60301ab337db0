"""Element-set formats: TLE and CCSDS OMM (JSON, XML, CSV, KVN), strict validation, writing.

Expected values are read from the TLE text by eye or by plain slicing in the test, never taken
from the parser. sgp4's own TLE parser is the independent reference for field units.
"""

from __future__ import annotations

import dataclasses
import gzip
import itertools
import json
import math
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from overflight.catalog.formats import (
    ParseResult,
    detect_format,
    format_tle,
    normalize_format,
    parse_bytes,
    read_path,
    write_elements,
)
from overflight.catalog.omm import parse_epoch
from overflight.catalog.tle import alpha5_to_int, int_to_alpha5, tle_lines
from overflight.elements import ElementError, ElementSet

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
SNAPSHOT = "celestrak-2026-05-30"
HISTORY = "celestrak-history-2026-05-24-to-30"
TLE_FILES = [
    f"{SNAPSHOT}/{g}.tle"
    for g in ("geo", "military", "oneweb", "resource", "science", "starlink", "stations", "weather")
] + [
    f"{HISTORY}/{g}.tle"
    for g in ("geo", "military", "oneweb", "resource", "science", "stations", "weather")
]


# ---- independent helpers (plain slicing, no overflight code) --------------------------------


def tle_checksum(line: str) -> int:
    """Mod-10 checksum of the first 68 characters: digits by value, '-' as 1."""
    return sum(int(c) if c.isdigit() else (c == "-") for c in line[:68]) % 10


def catalog_number(field: str) -> int:
    """5-character catalog field to int, Alpha-5 by its definition (A=10 ... Z=33, no I/O)."""
    if field[0].isalpha():
        return "ABCDEFGHJKLMNPQRSTUVWXYZ".index(field[0]) * 10000 + 100000 + int(field[1:])
    return int(field)


def element_pairs(text: str) -> list[tuple[str, str]]:
    """(line 1, line 2) pairs by plain grouping: a '1 ' line directly followed by a '2 ' line."""
    lines = [line.rstrip() for line in text.splitlines()]
    return [
        (a, b) for a, b in itertools.pairwise(lines) if a.startswith("1 ") and b.startswith("2 ")
    ]


def one_line(error: ElementError, source: str) -> None:
    text = str(error)
    assert isinstance(error, ElementError)
    assert text.startswith(source), text
    assert error.message.strip(), text
    assert "\n" not in text and "\r" not in text, text
    assert "internal error" not in text, text


def valid_ranges(es: ElementSet) -> None:
    assert 0.0 <= es.eccentricity < 1.0
    assert 0.0 <= es.inclination_deg <= 180.0
    for angle in (es.raan_deg, es.arg_perigee_deg, es.mean_anomaly_deg):
        assert 0.0 <= angle < 360.0
    assert es.mean_motion_rev_day > 0.0
    assert es.epoch.tzinfo is not None and es.epoch.utcoffset() == UTC.utcoffset(None)


# ---- real files -------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", TLE_FILES)
def test_real_files_parse_and_round_trip(shared_data: Path, rel: str) -> None:
    path = shared_data / rel
    text = path.read_text(encoding="ascii")
    result = read_path(path)
    assert result.errors == []
    assert result.format == "tle"
    # Counts per object from plain grouping of lines starting with '1 ' (columns 3-7).
    expected = Counter(catalog_number(line[2:7]) for line in text.splitlines() if line[:2] == "1 ")
    assert Counter(es.norad_id for es in result.records) == expected
    # Byte-for-byte round trip of lines 1 and 2 of every record, in file order.
    pairs = element_pairs(text)
    assert len(pairs) == len(result.records)
    for es, (line1, line2) in zip(result.records, pairs, strict=True):
        assert tle_lines(es) == (line1, line2)


def test_three_line_names_and_snapshot_counts(shared_data: Path) -> None:
    # Stations: ISS read by eye from the file.
    result = read_path(shared_data / SNAPSHOT / "stations.tle")
    iss = next(es for es in result.records if es.norad_id == 25544)
    assert iss.name == "ISS (ZARYA)"
    assert iss.intl_designator == "98067A"
    assert len(read_path(shared_data / SNAPSHOT / "starlink.tle").records) == 10395


def test_starlink_history_gzip(shared_data: Path) -> None:
    """193,263 TLEs of 10,409 objects, read through gzip by content; one non-standard line."""
    path = shared_data / HISTORY / "starlink.tle.gz"
    raw = path.read_bytes()
    text = gzip.decompress(raw).decode("ascii")
    start = time.perf_counter()
    result = parse_bytes(raw, "starlink.tle.gz")
    elapsed = time.perf_counter() - start
    assert result.errors == []
    assert result.format == "tle"
    assert len(result.records) == 193263
    expected = Counter(catalog_number(line[2:7]) for line in text.splitlines() if line[:2] == "1 ")
    assert len(expected) == 10409
    assert Counter(es.norad_id for es in result.records) == expected
    assert elapsed < 30.0  # generous: the benchmark (benchmarks/formats_parse.py) measures it
    pairs = element_pairs(text)
    changed = [
        (es, pair) for es, pair in zip(result.records, pairs, strict=True) if tle_lines(es) != pair
    ]
    # Exactly one published line 1 is 70 characters: BSTAR printed with a two-digit exponent.
    assert len(changed) == 1
    es, (line1, line2) = changed[0]
    assert line1 == "1 60069U 24113L   26148.31797007 -.00000588  00000+0 -66000-10 0  9992"
    assert es.bstar == -0.66000e-10
    written1, written2 = tle_lines(es)
    # Written back as a standard 69-character line, same value, denormalised mantissa.
    assert written1[53:61] == "-06600-9" and len(written1) == 69
    assert written1[:53] == line1[:53] and written1[61:68] == line1[62:69]
    assert written2 == line2
    assert parse_bytes(format_tle(es).encode(), "x").records == [es]


def test_malligyong_zero_exponent_sign(shared_data: Path) -> None:
    """'00000-0' (minus-signed zero exponent) is read as 0 and written as '00000+0'."""
    path = shared_data / "malligyong-1-2024.tle"
    pairs = element_pairs(path.read_text())
    result = read_path(path)
    assert result.errors == [] and len(result.records) == 3
    assert [es.name for es in result.records] == ["MALLIGYONG-1"] * 3
    assert {es.intl_designator for es in result.records} == {"23179A"}
    for es, (line1, line2) in zip(result.records[:2], pairs[:2], strict=True):
        assert tle_lines(es) == (line1, line2)
    es, (line1, line2) = result.records[2], pairs[2]
    assert line1[44:52] == " 00000-0" and es.mean_motion_ddot == 0.0
    written1, written2 = tle_lines(es)
    assert written1[44:52] == " 00000+0"
    assert written1[:44] == line1[:44] and written1[52:68] == line1[52:68]
    assert written2 == line2


def test_against_sgp4_parser(shared_data: Path) -> None:
    """Our fields through ElementSet.to_satrec vs sgp4's own twoline2rv: same orbit."""
    import numpy as np
    from sgp4.api import Satrec

    n = 0
    for rel in TLE_FILES[:8]:
        path = shared_data / rel
        pairs = element_pairs(path.read_text())
        for es, (line1, line2) in list(zip(read_path(path).records, pairs, strict=True))[::25]:
            ref = Satrec.twoline2rv(line1, line2)
            mine = es.to_satrec()
            # Elements: positions one day after epoch, measured from each one's own epoch.
            err_ref, r_ref, _ = ref.sgp4_tsince(1440.0)
            err_mine, r_mine, _ = mine.sgp4_tsince(1440.0)
            assert err_ref == err_mine == 0
            assert np.linalg.norm(np.subtract(r_ref, r_mine)) < 1e-6  # km: 1 mm
            # Epoch: the same instant to better than a microsecond.
            d_days = (ref.jdsatepoch - mine.jdsatepoch) + (ref.jdsatepochF - mine.jdsatepochF)
            assert abs(d_days) * 86400e6 < 1.0
            # Same absolute time: within 5 mm. to_satrec passes the epoch to sgp4init as one
            # float of days since 1949, which rounds it by up to ~0.4 µs (~3 mm in LEO).
            jd, fr = ref.jdsatepoch, ref.jdsatepochF + 1.0
            _, r_ref, _ = ref.sgp4(jd, fr)
            _, r_mine, _ = mine.sgp4(jd, fr)
            assert np.linalg.norm(np.subtract(r_ref, r_mine)) < 5e-6
            n += 1
    assert n > 400


def test_sgp4_misreads_the_wide_bstar_line() -> None:
    """The 70-character line: sgp4's C++ parser reads BSTAR as -0.066; we read -6.6e-11."""
    from sgp4.api import Satrec

    line1 = "1 60069U 24113L   26148.31797007 -.00000588  00000+0 -66000-10 0  9992"
    line2 = "2 60069  53.1579 158.9699 0000891  73.3755 286.7361 15.69699470112067"
    (es,) = parse_bytes(f"{line1}\n{line2}\n".encode(), "x").records
    assert es.bstar == -6.6e-11
    assert Satrec.twoline2rv(line1, line2).bstar == pytest.approx(-0.066)


# ---- fixtures: values read by eye from the TLE text ------------------------------------------

ISS = {
    "norad_id": 25544,
    "epoch": datetime(2026, 5, 30, 12, 25, 10, 468992, tzinfo=UTC),  # day 150.51748228
    "mean_motion_rev_day": 15.49496548,
    "eccentricity": 0.0007245,
    "inclination_deg": 51.6337,
    "raan_deg": 27.5746,
    "arg_perigee_deg": 114.7080,
    "mean_anomaly_deg": 245.4664,
    "bstar": 0.21767e-3,
    "mean_motion_dot": 0.00011776,
    "mean_motion_ddot": 0.0,
    "name": "ISS (ZARYA)",
    "intl_designator": "98067A",
    "classification": "U",
    "element_set_no": 999,
    "rev_at_epoch": 56901,
    "ephemeris_type": 0,
}
CASSIOPE = dict(
    ISS,
    norad_id=39265,
    epoch=datetime(2026, 5, 30, 13, 41, 35, 427552, tzinfo=UTC),  # day 150.57054893
    mean_motion_rev_day=15.23629708,
    eccentricity=0.0298294,
    inclination_deg=80.9147,
    raan_deg=88.0852,
    arg_perigee_deg=121.4695,
    mean_anomaly_deg=241.6063,
    bstar=0.49138e-3,
    mean_motion_dot=0.00043997,
    mean_motion_ddot=-0.51377e-6,
    name="CASSIOPE",
    intl_designator="13055A",
    rev_at_epoch=66498,
)
STARLINK_1363 = dict(
    ISS,
    norad_id=45568,
    epoch=datetime(2026, 5, 30, 12, 41, 14, 426880, tzinfo=UTC),  # day 150.52863920
    mean_motion_rev_day=16.22327561,
    eccentricity=0.0010599,
    inclination_deg=53.0236,
    raan_deg=339.9835,
    arg_perigee_deg=280.1229,
    mean_anomaly_deg=79.8614,
    bstar=0.75580e-3,
    mean_motion_dot=0.01826407,
    mean_motion_ddot=0.11877e-4,
    name="STARLINK-1363",
    intl_designator="20025AP",
    rev_at_epoch=33908,
)
GOES_16 = dict(
    ISS,
    norad_id=41866,
    epoch=datetime(2026, 5, 30, 13, 17, 16, 530720, tzinfo=UTC),  # day 150.55366355
    mean_motion_rev_day=1.00271295,
    eccentricity=0.0000790,
    inclination_deg=0.2964,
    raan_deg=85.7104,
    arg_perigee_deg=307.6368,
    mean_anomaly_deg=309.3939,
    bstar=0.0,
    mean_motion_dot=-0.00000079,
    mean_motion_ddot=0.0,
    name="GOES 16",
    intl_designator="16071A",
    rev_at_epoch=3492,
)
FOUR = [ElementSet(**v) for v in (ISS, CASSIOPE, STARLINK_1363, GOES_16)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("four.tle", "tle"),
        ("four.json", "omm-json"),
        ("four.csv", "omm-csv"),
        ("four.xml", "omm-xml"),
        ("four.kvn", "omm-kvn"),
    ],
)
def test_fixture_values(name: str, fmt: str) -> None:
    data = (FIXTURES / name).read_bytes()
    assert detect_format(data) == fmt
    result = read_path(FIXTURES / name)
    assert result.errors == []
    assert result.format == fmt
    assert result.records == FOUR
    assert parse_bytes(data, name, fmt).records == FOUR  # explicit override, same result


def test_space_track_json_strings_and_extra_keys() -> None:
    result = read_path(FIXTURES / "space-track.json")
    assert result.errors == []
    assert result.records == [FOUR[0], FOUR[3]]


def test_alpha5() -> None:
    result = read_path(FIXTURES / "alpha5.tle")
    assert result.errors == []
    assert [es.norad_id for es in result.records] == [100001, 182345, 339999]
    text = (FIXTURES / "alpha5.tle").read_text()
    assert write_elements(result.records, "tle") == text
    assert alpha5_to_int("A0001") == 100001 and alpha5_to_int("25544") == 25544
    assert int_to_alpha5(100001) == "A0001" and int_to_alpha5(5) == "00005"
    assert int_to_alpha5(339999) == "Z9999"
    for bad in ("I0001", "O0001", "a0001", "A001", "12a45"):
        with pytest.raises(ValueError):
            alpha5_to_int(bad)
    with pytest.raises(ValueError):
        int_to_alpha5(340000)


def test_bad_records_give_one_clear_error_each() -> None:
    result = read_path(FIXTURES / "bad.tle")
    assert [es.name for es in result.records] == ["ISS (ZARYA)", "GOES 16"]
    assert [str(e) for e in result.errors] == [
        "bad.tle:4: line 2 without a preceding line 1",
        "bad.tle:7: line 2 checksum is 1, computed 7",
        "bad.tle:9: line 1 has 60 characters, expected 69",
        "bad.tle:13: line 2 catalog number 41867 does not match line 1 (41866)",
        "bad.tle:16: line 2 inclination 181.0000 is out of range [0, 180]",
        "bad.tle:19: line 2 eccentricity '00a7245' is malformed (expected 7 digits)",
        "bad.tle:21: line 1 epoch day of year 366.50000000 is not a day of 2026",
        "bad.tle:24: line 1 is not followed by a line 2",
        "bad.tle:26: line 1 has a non-ASCII byte 0xc3 at column 25",
    ]
    assert [e.field for e in result.errors] == [
        "format",
        "checksum",
        "line_length",
        "catalog_number",
        "inclination",
        "eccentricity",
        "epoch",
        "format",
        "encoding",
    ]


def _iss_lines() -> tuple[str, str]:
    text = (FIXTURES / "four.tle").read_text().splitlines()
    return text[1].rstrip(), text[2].rstrip()


def _with_checksum(line: str) -> str:
    return line[:68] + str(tle_checksum(line))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ((1, 7, "X"), "line 1 classification 'X' is malformed (expected U, C or S)"),
        ((1, 53, " 2176a-3"), "line 1 BSTAR ' 2176a-3' is malformed (expected like ' 12345-4')"),
        ((1, 8, "_"), "line 1 column 9 should be blank, found '_'"),
        ((2, 8, " 5 .6337"), "line 2 inclination ' 5 .6337' is malformed (expected DDD.DDDD)"),
        ((2, 17, "360.0000"), "line 2 right ascension of the ascending node 360.0000 is out of"),
        ((2, 52, " 0.00000000"), "line 2 mean motion 0.00000000 must be > 0"),
        ((1, 20, "000.50000000"), "line 1 epoch day of year 000.50000000 is not a day of 2026"),
        ((2, 2, "25545"), "line 2 catalog number 25545 does not match line 1 (25544)"),
    ],
)
def test_field_errors(edit: tuple[int, int, str], message: str) -> None:
    which, col, text = edit
    lines = list(_iss_lines())
    line = lines[which - 1]
    lines[which - 1] = _with_checksum(line[:col] + text + line[col + len(text) :])
    result = parse_bytes(("\n".join(lines) + "\n").encode(), "t.tle", "tle")
    assert result.records == []
    assert len(result.errors) == 1
    assert str(result.errors[0]).startswith(f"t.tle:{which}: {message}")


def test_leap_year_day_366_and_two_line_form() -> None:
    line1, line2 = _iss_lines()
    line1 = _with_checksum(line1[:18] + "24366.50000000" + line1[32:])
    (es,) = parse_bytes(f"{line1}\r\n{line2}\r\n".encode(), "t").records
    assert es.epoch == datetime(2024, 12, 31, 12, tzinfo=UTC)
    assert es.name == ""
    assert format_tle(es) == f"{line1}\n{line2}\n"


def test_format_tle_name_line_and_limits() -> None:
    iss = FOUR[0]
    line1, line2 = _iss_lines()
    assert format_tle(iss) == f"ISS (ZARYA)\n{line1}\n{line2}\n"
    assert format_tle(iss, name_line=False) == f"{line1}\n{line2}\n"
    for name in ("1 HOPE", "0 X", "2 Y"):
        text = format_tle(dataclasses.replace(iss, name=name))
        assert text.startswith(f"0 {name}\n")
        assert parse_bytes(text.encode(), "t").records[0].name == name
    with pytest.raises(ValueError):
        format_tle(dataclasses.replace(iss, name="A\nB"))
    for bad in (
        {"norad_id": 340000},
        {"mean_motion_rev_day": 100.0},
        {"mean_motion_dot": 1.0},
        {"bstar": 5e9},
        {"epoch": datetime(2057, 1, 1, tzinfo=UTC)},
    ):
        with pytest.raises(ValueError):
            format_tle(dataclasses.replace(iss, **bad))


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (0.999996e-3, " 10000-2"),  # mantissa rounds up into the next decade
        (-1.1606e-5, "-11606-4"),
        (0.5, " 50000+0"),
        (0.0, " 00000+0"),
        (1.234e-12, " 00123-9"),  # below 1e-10: denormalised to keep 69 characters
        (1e-16, " 00000+0"),
    ],
)
def test_exponent_fields(value: float, field: str) -> None:
    line1, _ = tle_lines(dataclasses.replace(FOUR[0], bstar=value))
    assert line1[53:61] == field
    assert int(line1[68]) == tle_checksum(line1)


def test_epoch_rounding_into_next_year() -> None:
    es = dataclasses.replace(FOUR[0], epoch=datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    line1, _ = tle_lines(es)
    assert line1[18:32] == "27001.00000000"


# ---- OMM ----------------------------------------------------------------------------------------


def test_omm_json_write_then_parse_identical(shared_data: Path) -> None:
    records = []
    for rel in TLE_FILES[:8]:
        records += read_path(shared_data / rel).records
    records += read_path(FIXTURES / "alpha5.tle").records
    for fmt in ("omm-json", "csv", "omm-kvn", "omm-xml", "tle"):
        text = write_elements(records, fmt)
        back = parse_bytes(text.encode(), f"out.{fmt}")
        assert back.errors == [], fmt
        assert back.records == records, fmt
        assert [es.key for es in back.records] == [es.key for es in records]


def test_omm_json_written_layout() -> None:
    doc = json.loads(write_elements(FOUR[:1], "omm-json"))
    assert doc == [
        {
            "OBJECT_NAME": "ISS (ZARYA)",
            "OBJECT_ID": "1998-067A",
            "EPOCH": "2026-05-30T12:25:10.468992",
            "MEAN_MOTION": 15.49496548,
            "ECCENTRICITY": 0.0007245,
            "INCLINATION": 51.6337,
            "RA_OF_ASC_NODE": 27.5746,
            "ARG_OF_PERICENTER": 114.708,
            "MEAN_ANOMALY": 245.4664,
            "EPHEMERIS_TYPE": 0,
            "CLASSIFICATION_TYPE": "U",
            "NORAD_CAT_ID": 25544,
            "ELEMENT_SET_NO": 999,
            "REV_AT_EPOCH": 56901,
            "BSTAR": 0.00021767,
            "MEAN_MOTION_DOT": 0.00011776,
            "MEAN_MOTION_DDOT": 0.0,
        }
    ]
    assert write_elements([], "omm-json") == "[]\n"


def _json_record(**changes: object) -> bytes:
    obj = json.loads((FIXTURES / "four.json").read_text())[0]
    for key, value in changes.items():
        if value is None:
            del obj[key]
        else:
            obj[key] = value
    return json.dumps([json.loads((FIXTURES / "four.json").read_text())[1], obj]).encode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ECCENTRICITY": 1.2}, "ECCENTRICITY 1.2 is out of range [0, 1)"),
        ({"EPOCH": None}, "EPOCH is missing"),
        ({"EPOCH": "2026-02-30T00:00:00"}, "EPOCH '2026-02-30T00:00:00' is not a real date"),
        ({"INCLINATION": "abc"}, "INCLINATION is not a number: 'abc'"),
        ({"INCLINATION": 180.5}, "INCLINATION 180.5 is out of range [0, 180]"),
        ({"MEAN_ANOMALY": 360.0}, "MEAN_ANOMALY 360.0 is out of range [0, 360)"),
        ({"MEAN_MOTION": -1}, "MEAN_MOTION -1.0 must be > 0"),
        ({"NORAD_CAT_ID": "25544x"}, "NORAD_CAT_ID is not an integer: '25544x'"),
        ({"NORAD_CAT_ID": True}, "NORAD_CAT_ID is not an integer: True"),
        ({"OBJECT_ID": "ISS"}, "OBJECT_ID 'ISS' is not an international designator"),
        ({"REF_FRAME": "GCRF"}, "REF_FRAME is 'GCRF', only TEME is supported"),
        ({"TIME_SYSTEM": "TAI"}, "TIME_SYSTEM is 'TAI', only UTC is supported"),
        ({"CLASSIFICATION_TYPE": "X"}, "CLASSIFICATION_TYPE 'X' is not U, C or S"),
        ({"BSTAR": "nan"}, "BSTAR is not a number: 'nan'"),
        ({"MEAN_MOTION_DOT": 1e400}, "MEAN_MOTION_DOT is not a finite number"),
    ],
)
def test_omm_json_record_errors(changes: dict[str, object], message: str) -> None:
    result = parse_bytes(_json_record(**changes), "gp.json")
    assert [es.norad_id for es in result.records] == [39265]  # the other record still parses
    assert len(result.errors) == 1
    assert str(result.errors[0]).startswith(f"gp.json: record 2: {message}")


def test_omm_whole_file_errors() -> None:
    cases = [
        (b'[{"OBJECT_NAME": "X",\n "EPOCH" 1}]', "omm-json", "bad.json:2: invalid JSON"),
        (b'{"a": 1', "omm-json", "bad.json:1: invalid JSON"),
        (b'"just a string"', "omm-json", "bad.json: JSON is not an array"),
        (b"[1]", "omm-json", "bad.json: record 1: not a JSON object"),
        (b'["\xff"]', "omm-json", "bad.json: JSON is not valid UTF-8 text"),
        (b"<ndm><omm>", "omm-xml", "bad.json:1: invalid XML"),
        (b"<html><body/></html>", "omm-xml", "bad.json: XML has no <omm> element (root is <html>)"),
        (
            b"OBJECT_NAME,EPOCH\nISS,2026-01-01T00:00:00\n",
            "omm-csv",
            "bad.json:1: CSV header lacks",
        ),
        (b"NAME\xff,x\n", "omm-csv", "bad.json:1: CSV is not valid UTF-8"),
    ]
    for data, fmt, start in cases:
        result = parse_bytes(data, "bad.json", fmt)
        assert result.records == []
        assert len(result.errors) == 1, (data, result.errors)
        assert str(result.errors[0]).startswith(start), (str(result.errors[0]), start)
        one_line(result.errors[0], "bad.json")


def test_omm_csv_row_errors() -> None:
    lines = (FIXTURES / "four.csv").read_text().splitlines()
    data = "\n".join([lines[0], lines[1] + ",extra", lines[2].replace(",80.9147,", ",-1,")])
    result = parse_bytes(data.encode(), "gp.csv")
    assert result.records == []
    assert [str(e) for e in result.errors] == [
        "gp.csv: record 1: row has 18 fields, the header has 17",
        "gp.csv: record 2: INCLINATION -1.0 is out of range [0, 180]",
    ]


def test_omm_kvn_errors_name_the_line() -> None:
    text = (FIXTURES / "four.kvn").read_text()
    lines = text.splitlines()
    ecc_line = next(i for i, line in enumerate(lines) if line.startswith("ECCENTRICITY"))
    lines[ecc_line] = "ECCENTRICITY        = 1.5"
    junk_line = next(i for i, line in enumerate(lines) if line.startswith("EPOCH") and i > 40)
    lines[junk_line] = "this is not a key value line"
    result = parse_bytes("\n".join(lines).encode(), "gp.kvn", "omm-kvn")
    assert [es.norad_id for es in result.records] == [45568, 41866]
    assert [str(e) for e in result.errors] == [
        f"gp.kvn:{ecc_line + 1}: ECCENTRICITY 1.5 is out of range [0, 1)",
        f"gp.kvn:{junk_line + 1}: not a 'KEY = value' line: 'this is not a key value line'",
    ]


def test_omm_kvn_keeps_brackets_in_names() -> None:
    text = (FIXTURES / "four.kvn").read_text().replace("= GOES 16", "= STARLINK-11171 [DTC]")
    result = parse_bytes(text.encode(), "gp.kvn")
    assert result.records[3].name == "STARLINK-11171 [DTC]"
    assert result.records[3].mean_motion_rev_day == 1.00271295  # unit '[rev/day]' dropped


def test_omm_epoch_forms() -> None:
    expect = datetime(2026, 5, 30, 12, 25, 10, 468992, tzinfo=UTC)
    assert parse_epoch("2026-05-30T12:25:10.468992") == expect
    assert parse_epoch("2026-05-30T12:25:10.468992Z") == expect
    assert parse_epoch("2026-150T12:25:10.468992") == expect  # ordinal date (CCSDS)
    assert parse_epoch("2026-05-30T12:25:10.46899249") == expect  # rounded to the µs
    assert parse_epoch("2026-05-30T14:25:10.468992+02:00") == expect
    assert parse_epoch("2026-05-30T12:25:10.9999996") == datetime(
        2026, 5, 30, 12, 25, 11, tzinfo=UTC
    )
    for bad in ("2026-366T00:00:00", "2026-05-30", "2026-05-30T24:00:00", "0000-01-01T00:00:00"):
        with pytest.raises(ValueError):
            parse_epoch(bad)


def test_billion_laughs_is_rejected_not_expanded() -> None:
    start = time.perf_counter()
    result = read_path(FIXTURES / "billion-laughs.xml")
    assert time.perf_counter() - start < 1.0
    assert result.records == []
    assert [str(e) for e in result.errors] == [
        "billion-laughs.xml: XML has a document type declaration (DTD); rejected: entity "
        "definitions could expand without limit, and OMM XML never needs one"
    ]
    external = (
        b'<?xml version="1.0"?><!DOCTYPE ndm [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<ndm><omm><OBJECT_NAME>&x;</OBJECT_NAME></omm></ndm>"
    )
    (error,) = parse_bytes(external, "x.xml").errors
    assert "document type declaration" in str(error)


# ---- gzip, sniffing, files -----------------------------------------------------------------------


def test_gzip_is_detected_by_content() -> None:
    raw = (FIXTURES / "four.json").read_bytes()
    packed = gzip.compress(raw)
    assert detect_format(packed) == "omm-json"
    result = parse_bytes(packed, "four.tle")  # the name does not matter
    assert result.format == "omm-json" and result.records == FOUR
    two_members = gzip.compress(raw[:100]) + gzip.compress(raw[100:])
    assert parse_bytes(two_members, "x").records == FOUR
    (error,) = parse_bytes(packed[:-20], "cut.gz").errors
    assert str(error) == "cut.gz: gzip data is truncated"
    (error,) = parse_bytes(packed[:10] + b"\x00" * 40, "bad.gz").errors
    assert str(error).startswith("bad.gz: gzip data is corrupt")


def test_detect_and_unknown_input() -> None:
    assert detect_format(b"") is None
    assert detect_format(b"\x00\x01binary") is None
    assert detect_format(b"hello\nworld\n") is None
    assert detect_format((FIXTURES / "bad.tle").read_bytes()) == "tle"
    (error,) = parse_bytes(b"hello\nworld\n", "notes.txt").errors
    assert str(error).startswith("notes.txt: cannot recognise the format")
    (error,) = parse_bytes(b"  \n", "empty.tle").errors
    assert str(error) == "empty.tle: no data (empty input)"
    # An explicit format wins over sniffing: JSON read as TLE is simply not TLE.
    result = parse_bytes((FIXTURES / "four.json").read_bytes(), "four.json", "tle")
    assert result.records == [] and len(result.errors) == 1
    with pytest.raises(ValueError, match="unknown element-set format"):
        parse_bytes(b"", "x", "yaml")
    assert normalize_format("JSON") == "omm-json" and normalize_format("csv") == "omm-csv"


def test_read_path_unreadable(tmp_path: Path) -> None:
    result = read_path(tmp_path / "missing.tle")
    assert isinstance(result, ParseResult) and result.records == []
    assert [str(e) for e in result.errors] == [
        "missing.tle: cannot read: No such file or directory"
    ]
    (error,) = read_path(tmp_path).errors
    assert str(error).startswith(f"{tmp_path.name}: cannot read")
    with pytest.raises(ValueError):
        write_elements(FOUR, "yaml")


def test_parse_result_to_dict() -> None:
    d = read_path(FIXTURES / "bad.tle").to_dict()
    assert d["format"] == "tle" and len(d["records"]) == 2
    assert d["errors"][0] == "bad.tle:4: line 2 without a preceding line 1"
    json.dumps(d)


# ---- mutation properties ---------------------------------------------------------------------

BASE = (FIXTURES / "four.tle").read_bytes().replace(b"\r\n", b"\n")
BASE_LINES = BASE.split(b"\n")[:-1]
ORIGINAL = {tle_lines(es): es for es in FOUR}

_mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("checksum"), st.integers(0, 10**6), st.integers(1, 9)),
    st.tuples(st.just("swap"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("non_ascii"), st.integers(0, 10**6), st.integers(0x80, 0xFF)),
    st.tuples(st.just("delete_line"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("duplicate_line"), st.integers(0, 10**6), st.just(0)),
)


def _mutate(data: bytes, mutation: tuple[str, int, int]) -> bytes:
    kind, a, b = mutation
    lines = data.split(b"\n")
    if kind == "flip" and data:
        i = a % len(data)
        return data[:i] + bytes([data[i] ^ (1 << b)]) + data[i + 1 :]
    if kind == "truncate":
        return data[: a % (len(data) + 1)]
    if kind == "non_ascii":
        i = a % (len(data) + 1)
        return data[:i] + bytes([b]) + data[i:]
    if kind == "checksum":
        i = a % len(lines)
        line = lines[i]
        if len(line) >= 69 and line[68:69].isdigit():
            lines[i] = line[:68] + str((int(line[68:69]) + b) % 10).encode() + line[69:]
    elif kind == "swap":
        i, j = a % len(lines), b % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "delete_line":
        del lines[a % len(lines)]
    elif kind == "duplicate_line":
        i = a % len(lines)
        lines.insert(i, lines[i])
    return b"\n".join(lines)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_mutation, min_size=1, max_size=3))
def test_mutated_tle_never_raises(mutations: list[tuple[str, int, int]]) -> None:
    data = BASE
    for mutation in mutations:
        data = _mutate(data, mutation)
    result = parse_bytes(data, "mutant.tle", "tle")
    for error in result.errors:
        one_line(error, "mutant.tle")
    lines = [line.rstrip() for line in data.splitlines()]
    present = {pair: i + 1 for i, pair in enumerate(itertools.pairwise(lines))}
    error_lines = {e.line: e for e in result.errors}
    produced = set()
    for es in result.records:
        valid_ranges(es)
        line1, line2 = tle_lines(es)
        produced.add((line1, line2))
        assert tle_checksum(line1) == int(line1[68]) and tle_checksum(line2) == int(line2[68])
        assert parse_bytes(format_tle(es).encode(), "again").records == [es]
        original = ORIGINAL.get((line1, line2))
        if original is not None and (line1.encode(), line2.encode()) in present:
            assert es == dataclasses.replace(original, name=es.name)
    # Every original record whose two lines survived unchanged and adjacent is found, unless
    # its name line (the line before) is not text: then the error names that line.
    for line1, line2 in ORIGINAL:
        number = present.get((line1.encode(), line2.encode()))
        if number is not None and (line1, line2) not in produced:
            assert error_lines[number - 1].field == "name", result.errors
    auto = parse_bytes(data, "mutant.tle")  # sniffing must not raise either
    for error in auto.errors:
        one_line(error, "mutant.tle")


_FIXTURE_BYTES = {
    name: (FIXTURES / name).read_bytes()
    for name in ("four.json", "four.csv", "four.xml", "four.kvn", "space-track.json")
}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(_FIXTURE_BYTES)),
    st.lists(_mutation.filter(lambda m: m[0] in ("flip", "truncate", "non_ascii")), max_size=4),
    st.sampled_from([None, "tle", "omm-json", "omm-xml", "omm-csv", "omm-kvn"]),
)
def test_mutated_omm_never_raises(
    name: str, mutations: list[tuple[str, int, int]], fmt: str | None
) -> None:
    data = _FIXTURE_BYTES[name]
    for mutation in mutations:
        data = _mutate(data, mutation)
    result = parse_bytes(data, "mutant", fmt)
    for error in result.errors:
        one_line(error, "mutant")
    for es in result.records:
        valid_ranges(es)
        assert math.isfinite(es.bstar) and math.isfinite(es.mean_motion_dot)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([None, "tle", "omm-json", "omm-xml", "omm-csv"]))
def test_binary_junk_gives_errors(data: bytes, fmt: str | None) -> None:
    for blob in (data, gzip.compress(data)):
        result = parse_bytes(blob, "junk.bin", fmt)
        for error in result.errors:
            one_line(error, "junk.bin")


# ---- hardening (issue 18) ---------------------------------------------------------------------


def test_gzip_bomb_is_capped_while_streaming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 18.2: the whole output was collected (10 MB -> 10 GB died with MemoryError). A bomb of
    # 32 MB of zeros (~32 KB compressed) against a 4 MB cap: refused after ~4 MB of output.
    bomb = gzip.compress(b"\0" * (32 * 1024 * 1024), 9)
    assert len(bomb) < 64 * 1024
    path = tmp_path / "bomb.tle.gz"
    path.write_bytes(bomb)
    result = read_path(path, max_decompressed_bytes=4 * 1024 * 1024)
    assert result.records == []
    assert [str(e) for e in result.errors] == [
        "bomb.tle.gz: gzip data expands to more than 4 MB, the decompression limit "
        "(max_decompressed_bytes, $OVERFLIGHT_MAX_DECOMPRESSED_MB); not read"
    ]
    monkeypatch.setenv("OVERFLIGHT_MAX_DECOMPRESSED_MB", "1.5")
    (error,) = read_path(path).errors
    assert "more than 2 MB" in str(error) or "more than 1,572,864 bytes" in str(error)
    # Under the cap (and a multi-member file) nothing changes.
    four = (FIXTURES / "four.tle").read_bytes()
    two_members = gzip.compress(four[:300]) + gzip.compress(four[300:])
    assert len(parse_bytes(two_members, "x", max_decompressed_bytes=len(four)).records) == 4
    assert parse_bytes(two_members, "x", max_decompressed_bytes=len(four) - 1).errors
    monkeypatch.setenv("OVERFLIGHT_MAX_DECOMPRESSED_MB", "lots")
    with pytest.raises(ValueError, match="OVERFLIGHT_MAX_DECOMPRESSED_MB='lots'"):
        read_path(path)


def test_utf8_bom_does_not_cost_the_first_record() -> None:
    four = (FIXTURES / "four.tle").read_bytes()
    for data in (b"\xef\xbb\xbf" + four, gzip.compress(b"\xef\xbb\xbf" + four)):
        result = parse_bytes(data, "bom.tle")
        assert [es.name for es in result.records] == [es.name for es in FOUR]
        assert result.errors == []
    json_bom = b"\xef\xbb\xbf" + (FIXTURES / "four.json").read_bytes()
    assert len(parse_bytes(json_bom, "bom.json").records) == 4


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"MEAN_MOTION": 1e300}, "MEAN_MOTION 1e+300 is out of range [0.01, 20] rev/day"),
        ({"MEAN_MOTION": 1e-200}, "MEAN_MOTION 1e-200 is out of range [0.01, 20] rev/day"),
        ({"BSTAR": 1e300}, "BSTAR 1e+300 is out of range [-10, 10]"),
        ({"MEAN_MOTION_DOT": 5}, "MEAN_MOTION_DOT 5.0 is out of range (-1, 1)"),
        ({"EPOCH": "1900-01-01T00:00:00"}, "EPOCH 1900-01-01T00:00:00+00:00 is out of range"),
        ({"EPOCH": "2200-01-01T00:00:00"}, "EPOCH 2200-01-01T00:00:00+00:00 is out of range"),
        ({"NORAD_CAT_ID": 10**12}, "NORAD_CAT_ID 1000000000000 is out of range [0, 999999999]"),
        ({"OBJECT_NAME": "X" * 201}, "OBJECT_NAME (201 characters) is longer than 200"),
    ],
)
def test_omm_values_out_of_physical_range(changes: dict[str, object], message: str) -> None:
    # 18.3: MEAN_MOTION 1e300 was stored; list/show/passes then died with OverflowError.
    result = parse_bytes(_json_record(**changes), "gp.json")
    assert [es.norad_id for es in result.records] == [39265]
    (error,) = result.errors
    assert str(error).startswith(f"gp.json: record 2: {message}")
    assert error.record_index == 2


def test_tle_values_out_of_physical_range_and_long_names() -> None:
    line1, line2 = _iss_lines()
    fast = _with_checksum(line2[:52] + "25.00000000" + line2[63:])
    result = parse_bytes(f"ISS\n{line1}\n{fast}\n".encode(), "t.tle")
    assert [str(e) for e in result.errors] == [
        "t.tle:3: line 2 mean motion 25.00000000 is out of range [0.01, 20] rev/day"
    ]
    assert result.errors[0].field == "mean_motion"
    long_name = "N" * 10_000
    result = parse_bytes(f"{long_name}\n{line1}\n{line2}\n".encode(), "t.tle")
    assert [str(e) for e in result.errors] == [
        "t.tle:1: name (10000 characters) is longer than 200 characters"
    ]
    for fmt in ("omm-csv", "omm-kvn", "omm-xml"):
        text = write_elements([dataclasses.replace(FOUR[0], name="N" * 201)], fmt)
        (error,) = parse_bytes(text.encode(), f"t.{fmt}", fmt).errors
        assert "OBJECT_NAME (201 characters) is longer than 200 characters" in str(error)
