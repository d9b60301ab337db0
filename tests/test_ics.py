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
