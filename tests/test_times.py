"""UTC handling and user time parsing (independent references: zoneinfo arithmetic by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from overflight.times import (
    TimeError,
    datetime64_to_utc,
    format_utc,
    parse_duration,
    parse_time,
    skyfield_time,
    time_grid,
    to_datetime64,
)


def test_pyongyang_time_is_utc_plus_9() -> None:
    t = parse_time("2023-11-27T23:36:25", zone="Asia/Pyongyang")
    assert t == datetime(2023, 11, 27, 14, 36, 25, tzinfo=UTC)


def test_offsets_and_z() -> None:
    assert parse_time("2023-11-27T23:36:25+09:00") == datetime(2023, 11, 27, 14, 36, 25, tzinfo=UTC)
    assert parse_time("2023-11-27T14:36:25Z") == datetime(2023, 11, 27, 14, 36, 25, tzinfo=UTC)


def test_daylight_saving_zone() -> None:
    # New York is UTC-4 in summer and UTC-5 in winter.
    assert parse_time("2024-07-01T12:00", zone="America/New_York").hour == 16
    assert parse_time("2024-01-15T12:00", zone="America/New_York").hour == 17


def test_ambiguous_and_missing_local_times_rejected() -> None:
    with pytest.raises(TimeError, match="ambiguous"):
        parse_time("2024-11-03T01:30", zone="America/New_York")
    with pytest.raises(TimeError, match="does not exist"):
        parse_time("2024-03-10T02:30", zone="America/New_York")


@pytest.mark.parametrize("text", ["2023-11-27 25:00", "yesterday", "2023-13-01T00:00Z"])
def test_bad_times(text: str) -> None:
    with pytest.raises(TimeError):
        parse_time(text)


def test_naive_time_needs_zone() -> None:
    with pytest.raises(TimeError, match="no offset"):
        parse_time("2023-11-27T23:36:25")
    with pytest.raises(TimeError, match="unknown time zone"):
        parse_time("2023-11-27T23:36:25", zone="Mars/Olympus")


def test_datetime64_round_trip_and_format() -> None:
    t = datetime(2026, 5, 30, 22, 50, 1, 123456, tzinfo=UTC)
    arr = to_datetime64([t])
    assert arr.dtype == np.dtype("datetime64[ns]")
    assert datetime64_to_utc(arr[0]) == t
    assert format_utc(t) == "2026-05-30T22:50:01Z"
    assert format_utc(t, decimals=3) == "2026-05-30T22:50:01.123Z"
    # Microseconds, as element sets and orbit histories write their epochs (whole seconds keep
    # their six zeros); other zones are converted to UTC.
    assert format_utc(t, decimals=6) == "2026-05-30T22:50:01.123456Z"
    midnight = datetime(2026, 5, 30, tzinfo=UTC)
    assert format_utc(midnight, decimals=6) == "2026-05-30T00:00:00.000000Z"
    tokyo = t.astimezone(timezone(timedelta(hours=9)))
    assert format_utc(tokyo, decimals=6) == "2026-05-30T22:50:01.123456Z"


def test_skyfield_time_matches_from_datetime_and_leap_seconds() -> None:
    from overflight.times import timescale

    t = datetime(2026, 5, 30, 12, 0, 0, 250000, tzinfo=UTC)
    ours = skyfield_time([t])
    ref = timescale().from_datetime(t)
    assert abs((ours.tt[0] - ref.tt) * 86400.0) < 1e-6
    # 2016-12-31 had a leap second: 2 s of UTC are 3 s of TT.
    pair = skyfield_time([datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC),
                          datetime(2017, 1, 1, 0, 0, 1, tzinfo=UTC)])
    assert abs((pair.tt[1] - pair.tt[0]) * 86400.0 - 3.0) < 1e-3


def test_grid_and_durations() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    g = time_grid(t0, t0 + timedelta(seconds=150), 60)
    assert [datetime64_to_utc(x) - t0 for x in g] == [
        timedelta(seconds=s) for s in (0, 60, 120, 150)
    ]
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("90") == timedelta(seconds=90)
    with pytest.raises(TimeError):
        parse_duration("soon")
