"""The library layer under both frontends: interval resolution, selection, staleness, the
passes plan and its display order (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from overflight.access import Constraints
from overflight.catalog import Catalog, SatelliteNotFound
from overflight.errors import OverflightError
from overflight.freshness import stale_elements
from overflight.passes import (
    WINDOW_DISPLAY_COLUMNS,
    PassesError,
    checked_constraints,
    plan_passes,
    window_display_row,
)
from overflight.selection import (
    GroupNotFound,
    NoElementSets,
    SelectionError,
    check_groups,
    select_elements,
    select_histories,
)
from overflight.times import TimeError, resolve_interval, resolve_time

T0 = datetime(2026, 5, 31, tzinfo=UTC)
START = "2026-05-31T00:00Z"


# ---- resolve_interval ------------------------------------------------------------------------
def test_interval_defaults_and_forms() -> None:
    assert resolve_interval(START) == (T0, T0 + timedelta(days=1))
    assert resolve_interval(T0, days=2.5) == (T0, T0 + timedelta(hours=60))
    assert resolve_interval(START, "2026-06-02T09:00+09:00") == (T0, T0 + timedelta(days=2))
    assert resolve_interval(T0, default_days=0.5) == (T0, T0 + timedelta(hours=12))
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert resolve_interval(None, days=1, now=now) == (now, now + timedelta(days=1))
    assert resolve_interval("now", "", now=now)[0] == now
    assert resolve_time("2026-05-31T09:00+09:00", "at") == T0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": float("inf")}, "days: must be a positive finite number of days, got inf"),
        ({"days": float("nan")}, "days: must be a positive finite number of days, got nan"),
        ({"days": 0}, "days: must be a positive"),
        ({"days": -3}, "days: must be a positive"),
        ({"days": 1e9}, "days: 1e+09 is longer than 366 days"),
        ({"days": 10, "max_days": 7}, "days: 10 is longer than 7 days"),
        ({"end": "2026-05-30T00:00Z"}, "start: 2026-05-31T00:00:00Z is not before end"),
        ({"end": START}, "not before end"),
        ({"end": "2027-06-02T00:00Z"}, "end: the interval of 367 days is longer"),
        ({"end": "2026-06-01T00:00"}, "end: time '2026-06-01T00:00' has no offset"),
        ({"end": "soon"}, "end: not an ISO 8601 time"),
        ({"end": "2026-06-01T00:00Z", "days": 1}, "give end or days, not both"),
        ({"start": "2054-01-01T00:00Z"}, "start: 2054-01-01 is outside 1900-01-01..2053-10-01"),
        ({"start": "1899-12-31T00:00Z"}, "start: 1899-12-31 is outside"),
        ({"start": "9999-12-31T00:00Z", "days": 1}, "start: 9999-12-31 is outside"),
        ({"start": "2053-09-30T12:00Z"}, "end: 2053-10-01 is outside"),
        ({"start": "2026-05-31T00:00"}, "start: time '2026-05-31T00:00' has no offset"),
        ({"start": datetime(2026, 5, 31)}, "start: time 2026-05-31T00:00:00 has no time zone"),
    ],
)
def test_interval_range_checks(kwargs: dict[str, object], message: str) -> None:
    kwargs = {"start": START, **kwargs}
    with pytest.raises(TimeError) as info:
        resolve_interval(**kwargs)  # type: ignore[arg-type]
    assert str(info.value).startswith(message) or message in str(info.value)
    assert "\n" not in str(info.value) and "--" not in str(info.value)


def test_interval_cap_is_inclusive() -> None:
    assert resolve_interval(START, days=366)[1] == T0 + timedelta(days=366)


# ---- selection -------------------------------------------------------------------------------
def test_select_elements_defaults_and_messages() -> None:
    with pytest.raises(SelectionError, match=r"^no satellites selected: give sats, groups"):
        select_elements()
    with Catalog.open(None) as cat:
        military = {e.norad_id for e in cat.latest(group="military")}
        got = select_elements(catalog=cat, default_groups=["military"])
        assert {e.norad_id for e in got} == military
        # Default groups only apply when nothing is selected.
        assert [e.norad_id for e in select_elements(["40115"], catalog=cat,
                                                    default_groups=["military"])] == [40115]
        with pytest.raises(GroupNotFound, match=r"unknown group 'nope' in .*\(groups: .*military"):
            select_elements(groups=["nope"], catalog=cat)
        with pytest.raises(SatelliteNotFound):
            select_elements(["NO SUCH SAT"], catalog=cat)
        check_groups(cat, ["military", "resource"])
        with pytest.raises(GroupNotFound):
            check_groups(cat, ["military", "nope"])
    assert issubclass(GroupNotFound, OverflightError) and issubclass(NoElementSets, LookupError)


def test_select_elements_file_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tle"
    bad.write_text("not a TLE\n")
    with pytest.raises(SelectionError, match=r"^bad.tle: no valid element sets"):
        select_elements(files=[bad])


def test_select_histories() -> None:
    with pytest.raises(SelectionError, match="give sats or groups"):
        select_histories()
    with Catalog.open(None) as cat:
        hist = select_histories(["40115"], catalog=cat)
        assert list(hist) == [40115] and hist[40115]
        with pytest.raises(NoElementSets, match="selected history and interval"):
            select_histories(["40115"], catalog=cat, start=datetime(2040, 1, 1, tzinfo=UTC))
        with pytest.raises(SelectionError, match="more than 1 element sets"):
            select_histories(groups=["military"], catalog=cat, max_sets=1)
        assert select_histories(extra=cat.history(40115)).keys() == {40115}


# ---- staleness -------------------------------------------------------------------------------
def test_stale_report() -> None:
    with Catalog.open(None) as cat:
        fresh = cat.latest(norad_ids=[40115])
        old = select_elements(["58400"], catalog=cat)
    end = T0 + timedelta(days=2)
    assert not stale_elements(fresh, T0, end)
    report = stale_elements(fresh + old, T0, end)
    assert [s.norad_id for s in report.satellites] == [58400]
    # Age from the farther end of the interval, computed from the epoch by hand.
    expected = (end - old[0].epoch).total_seconds() / 86400.0
    assert report.satellites[0].age_days == pytest.approx(expected)
    assert report.worst_age_days == pytest.approx(expected)
    assert report.message().startswith(f"element sets are up to {expected:.0f} days from")
    assert report.message().endswith("(import fresh data)")
    assert report.message("overflight catalog import").endswith(
        "(import fresh data: overflight catalog import)")
    assert report.to_dict()["satellites"][0]["norad_id"] == 58400
    assert not stale_elements(old, T0, end, max_age_days=1e6)


# ---- passes plan -----------------------------------------------------------------------------
def test_plan_passes_checks_in_order() -> None:
    with pytest.raises(OverflightError, match="elevation"):
        plan_passes(sites=["Seoul"], groups=["military"], start=START,
                    constraints=Constraints(min_elevation_deg=95))
    with pytest.raises(OverflightError, match="empty"):
        checked_constraints(sun_min_deg=20, sun_max_deg=10)
    with pytest.raises(TimeError, match=r"^days:"):
        plan_passes(sites=["Seoul"], groups=["military"], start=START, days=float("inf"))
    with pytest.raises(PassesError, match=r"^sites: give at least one site"):
        plan_passes(groups=["military"], start=START)
    with pytest.raises(PassesError, match=r"^sites: 2 sites; at most 1"):
        plan_passes(sites=["Seoul", "Najin"], groups=["military"], start=START, max_sites=1)
    with pytest.raises(SelectionError, match=r"^no satellites selected"):
        plan_passes(sites=["Seoul"], start=START)


def test_plan_windows_in_display_order() -> None:
    plan = plan_passes(groups=["military"], sites=["Seoul", "Najin", "38.0,127.0"],
                       start=START, days=0.5,
                       constraints=checked_constraints(min_elevation_deg=20))
    assert plan.work == pytest.approx(len(plan.elsets) * 3 * 0.5)
    assert not plan.stale and plan.warnings() == []
    windows = plan.windows()
    assert len(windows) > 10
    key = [(w.start, w.site, w.norad_id) for w in windows]
    assert key == sorted(key)
    row = window_display_row(windows[0])
    assert list(row) == WINDOW_DISPLAY_COLUMNS
    assert row["satellite"] == f"{windows[0].name} ({windows[0].norad_id})"
    assert row["lit"] in ("yes", "no") and row["start"].removesuffix("…") == (
        windows[0].start.strftime("%m-%d %H:%M:%S"))
