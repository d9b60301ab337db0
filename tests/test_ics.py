"""iCalendar output: valid for the icalendar package, escaped and folded, stable UIDs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from overflight.ics import Event, calendar, ics_fold

icalendar = pytest.importorskip("icalendar")
T = datetime(2026, 5, 31, 1, 2, 3, tzinfo=UTC)


def test_calendar_parses_round_trip_with_escaping_and_folding() -> None:
    long = "Sohae; launch pad, gantry\\north " + "é" * 60
    text = calendar([Event("k1", T, T.replace(minute=9), long, "line 1\nline 2")],
                    name="Test", made=T)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cal = icalendar.Calendar.from_ical(text)
    (ev,) = cal.walk("VEVENT")
    assert str(ev["SUMMARY"]) == long
    assert str(ev["DESCRIPTION"]) == "line 1\nline 2"
    assert ev["DTSTART"].dt == T


def test_uids_are_stable_and_distinct() -> None:
    a = calendar([Event("k1", T, T, "a"), Event("k2", T, T, "b")], made=T)
    b = calendar([Event("k1", T, T, "a"), Event("k2", T, T, "b")],
                 made=T.replace(year=2027))
    uids = [line for line in a.split("\r\n") if line.startswith("UID:")]
    assert len(set(uids)) == 2
    assert uids == [line for line in b.split("\r\n") if line.startswith("UID:")]


def test_fold_never_splits_a_character() -> None:
    folded = ics_fold("X:" + "€" * 40)
    assert "".join(part[1:] if i else part
                   for i, part in enumerate(folded.split("\r\n"))) == "X:" + "€" * 40


def test_passes_ics_is_valid_and_repeatable() -> None:
    import overflight as ovf

    win = ovf.passes(["40115"], "Rajin port", start="2026-05-31T00:00Z", days=2)
    assert len(win) > 0
    one, two = win.to_ics(), win.to_ics()
    uid = [x for x in one.split("\r\n") if x.startswith("UID:")]
    assert uid == [x for x in two.split("\r\n") if x.startswith("UID:")]
    assert len(icalendar.Calendar.from_ical(one).walk("VEVENT")) == len(win)


def test_imaging_windows_describe_sensor_and_resolution() -> None:
    """Imaging windows' events say the sensor (kind), radar incidence and look side, and the
    resolution at the peak; geometry-only windows keep their GSD where they have one."""
    from overflight.access import Window
    from overflight.ics import windows_ics

    t0 = datetime(2026, 5, 31, 0, 12, tzinfo=UTC)
    base = dict(norad_id=40143, name="YAOGAN-26", site="Vostochny", site_lat_deg=51.9,
                site_lon_deg=128.3, start=t0, peak=t0, end=t0, max_elevation_deg=70.0,
                min_off_nadir_deg=9.8, min_range_km=497.0, sun_elevation_deg=42.6,
                satellite_sunlit=True, direction="descending")
    optical = Window(**base, gsd_m=0.514, extra={
        "sensor": "yaogan-optical-hr", "sensor_kind": "optical", "resolution_m": 0.514,
        "incidence_deg": None, "look_side": None})
    radar = Window(**base, extra={
        "sensor": "gaofen-12", "sensor_kind": "sar", "sensor_mode": "spotlight",
        "resolution_m": 1.29, "incidence_deg": 20.0, "look_side": "left"})
    plain = Window(**base, gsd_m=0.8)
    descriptions = [str(e["DESCRIPTION"]) for e in icalendar.Calendar.from_ical(
        windows_ics([optical, radar, plain])).walk("VEVENT")]
    assert descriptions[0].endswith("; sensor yaogan-optical-hr (optical); resolution 0.51 m")
    assert descriptions[1].endswith("; sensor gaofen-12 (sar, spotlight); incidence 20.0° "
                                    "looking left; resolution 1.29 m")
    assert descriptions[2].endswith("; descending; GSD 0.80 m")


def test_passes_imaging_ics_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from _cli import run

    code, out, _ = run(["passes", "--group", "resource", "--site", "Vostochny", "--start",
                        "2026-05-31T00:00Z", "--days", "1", "--imaging", "--kind", "sar",
                        "-f", "ics"], capsys)
    events = icalendar.Calendar.from_ical(out).walk("VEVENT")
    assert code == 0 and events
    for e in events:
        text = str(e["DESCRIPTION"])
        assert "; sensor " in text and "(sar" in text and " m" in text.rsplit("resolution", 1)[1]
