"""Element-set age: every set too old is one error everywhere (library, CLI, server), with what
to do; old sets in use are aged over the span they are used for (issue 19, "Honest about
data")."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests._cli import run

import overflight as ovf
from overflight.access import Constraints
from overflight.catalog import Catalog
from overflight.elements import ElementSet
from overflight.errors import OverflightError
from overflight.freshness import (
    SUGGEST_MAX_AGE_DAYS,
    StaleElementsError,
    all_stale_error,
    stale_elements,
    usable_spans,
)
from overflight.geometry import Site
from overflight.passes import plan_elements

C = Constraints(min_elevation_deg=10.0)
SEOUL = Site("Seoul", 37.5665, 126.978)
EPOCH_DAY = "2026-05-30"  # the bundled snapshot's


def _sets(*ids: int) -> list[ElementSet]:
    with Catalog.bundled() as cat:
        found = {e.norad_id: e for e in cat.latest(norad_ids=list(ids))}
    return [found[i] for i in ids]


@pytest.fixture(scope="module")
def wv3() -> ElementSet:
    return _sets(40115)[0]


def _moved(es: ElementSet, days: float) -> ElementSet:
    return replace(es, epoch=es.epoch + timedelta(days=days), _key="")


# ---- the message ------------------------------------------------------------------------------
def test_every_set_older_names_the_newest_and_a_sufficient_max_age(wv3: ElementSet) -> None:
    older = _moved(wv3, -3.0)
    start = wv3.epoch + timedelta(days=15.2)
    exc = all_stale_error([older, wv3], start, start + timedelta(days=1))
    assert isinstance(exc, OverflightError)
    assert str(exc) == (f"every element set is older than 14 days at the requested times "
                        f"(newest epoch {EPOCH_DAY}, 15.2 days before the start); import newer "
                        "elements, or ask for times near the data (start=2026-05-30T13:00Z), or "
                        "use max_age_days 17")
    assert exc.nearest_epoch == wv3.epoch and exc.distance_days == pytest.approx(15.2)
    assert exc.suggested_max_age_days == 17  # 16.2 days at the end: the whole span usable
    assert exc.suggested_start == wv3.epoch.replace(minute=0, second=0, microsecond=0)
    again = pickle.loads(pickle.dumps(exc))  # crosses process boundaries intact
    assert str(again) == str(exc) and again.suggested_max_age_days == 17
    assert again.suggested_start == exc.suggested_start


def test_one_set_after_the_interval_and_mixed(wv3: ElementSet) -> None:
    end = wv3.epoch - timedelta(days=20.0)
    one = all_stale_error([wv3], end - timedelta(days=2), end)
    assert str(one) == (f"the element set of {wv3.name} (40115) is more than 14 days from the "
                        f"requested times (epoch {EPOCH_DAY}, 20.0 days after the end); import "
                        "elements from before then, or ask for times near the data "
                        "(start=2026-05-28T13:00Z), or use max_age_days 22")
    assert one.suggested_start is not None  # two days ending by the epoch
    assert one.suggested_start + timedelta(days=2) <= wv3.epoch
    start = wv3.epoch + timedelta(days=30)
    mixed = all_stale_error([wv3, _moved(wv3, 60)], start, start + timedelta(days=1))
    assert "more than 14 days from the requested times (nearest epoch" in str(mixed)
    assert "29.0 days after the end" in str(mixed)  # the later set is nearer
    assert str(mixed).endswith("import elements nearer those times, or ask for times near the "
                               "data (start=2026-07-28T13:00Z), or use max_age_days 30")


def test_max_age_suggested_only_when_modest(wv3: ElementSet) -> None:
    """Far from the data, a wider age limit only gives windows kilometres off: the message
    offers times near the data instead (README: 'ask for times near the data')."""
    start = wv3.epoch + timedelta(days=188.7)
    exc = all_stale_error([wv3], start, start + timedelta(days=1))
    assert str(exc).endswith("188.7 days before the start); import newer elements, or ask for "
                             "times near the data (start=2026-05-30T13:00Z)")
    assert exc.suggested_max_age_days is None
    start = wv3.epoch + timedelta(days=25)
    at_most = all_stale_error([wv3], start, start + timedelta(days=5))
    assert SUGGEST_MAX_AGE_DAYS == 30.0
    assert at_most.suggested_max_age_days == 30 and str(at_most).endswith("max_age_days 30")
    over = all_stale_error([wv3], start, start + timedelta(days=6))
    assert over.suggested_max_age_days is None and "max_age_days" not in str(over)
    custom = all_stale_error([wv3], wv3.epoch + timedelta(days=4), wv3.epoch
                             + timedelta(days=5), max_age_days=3.0)
    assert "older than 3 days" in str(custom) and custom.suggested_max_age_days == 5


def test_suggested_start_is_within_reach(wv3: ElementSet) -> None:
    """The suggested start, with the same interval length, gives windows: nothing refused."""
    start = wv3.epoch + timedelta(days=100)
    exc = all_stale_error([wv3], start, start + timedelta(days=2))
    assert exc.suggested_start is not None
    s0 = exc.suggested_start
    plan = plan_elements([wv3], [SEOUL], s0, s0 + timedelta(days=2), C)
    assert plan.spans == ((s0, s0 + timedelta(days=2)),) and plan.skipped == ()
    end = wv3.epoch - timedelta(days=100)
    after = all_stale_error([wv3], end - timedelta(days=2), end)
    assert after.suggested_start is not None
    s1 = after.suggested_start
    plan = plan_elements([wv3], [SEOUL], s1, s1 + timedelta(days=2), C)
    assert plan.spans == ((s1, s1 + timedelta(days=2)),) and plan.skipped == ()


# ---- where it is raised -----------------------------------------------------------------------
def test_plan_raises_only_when_nothing_is_usable(wv3: ElementSet) -> None:
    start = wv3.epoch + timedelta(days=15.2)
    end = start + timedelta(days=1)
    with pytest.raises(StaleElementsError, match=r"newest epoch .*15\.2 days before the start"):
        plan_elements([wv3, _moved(wv3, -40)], [SEOUL], start, end, C)
    fresh = _moved(wv3, 10.0)  # one usable set: the stale one is listed, no error
    plan = plan_elements([replace(fresh, norad_id=99001, _key=""), wv3], [SEOUL], start, end, C)
    assert [e.norad_id for e in plan.elsets] == [99001]
    assert [k.norad_id for k in plan.skipped] == [40115]
    plan = plan_elements([wv3], [SEOUL], start, end, C, max_age_days=17.0)  # as suggested
    assert plan.spans == ((start, end),)
    # Before launch is not "too old": an empty plan, as before.
    early = _moved(wv3, -5000.0)  # launched in 2014
    plan = plan_elements([early], [SEOUL], early.epoch, early.epoch + timedelta(days=1), C)
    assert plan.elsets == [] and plan.skipped[0].reason.startswith("before launch")


def test_stale_and_before_launch_is_the_stale_error(wv3: ElementSet) -> None:
    """Nothing usable, some refused as stale and the others as before launch: the all-stale
    error (it counts the others), not an empty answer."""
    l8 = _sets(39084)[0]  # launched 2013; WorldView-3 in 2014
    start = wv3.epoch.replace(year=2013, month=6)
    end = start + timedelta(days=1)
    with pytest.raises(StaleElementsError) as info:
        plan_elements([wv3, l8], [SEOUL], start, end, C)
    assert str(info.value).startswith(
        "1 satellite is not launched by then and the element set of LANDSAT 8 (39084) is "
        "more than 14 days from the requested times (epoch 2026-05-30, ")
    assert str(info.value).endswith("import elements from before then, or ask for times near "
                                    "the data (start=2026-05-29T13:00Z)")
    two = _moved(l8, -1.0)
    with pytest.raises(StaleElementsError, match=r"^1 satellite is not launched by then and "
                       r"every other element set is more than"):
        plan_elements([wv3, l8, replace(two, norad_id=39085, _key="")], [SEOUL], start, end, C)
    with pytest.raises(StaleElementsError, match=r"^1 satellite is not launched"):
        ovf.coverage([wv3, l8], "38,125,39,126", start=start, days=1, grid_km=50.0)


@pytest.mark.parametrize("command", [
    ["passes", "--site", "39.66,124.7", "-f", "json"],
    ["coverage", "--region", "38,125,39,126", "--grid-km", "50"],
])
def test_cli_stale_and_before_launch_exits_2(command: list[str], shared_data: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    tle = str(shared_data / "celestrak-2026-05-30" / "resource.tle")
    code, out, err = run([*command, "--tle", tle, "--start", "2025-01-01T00:00Z", "--days",
                          "1"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("overflight: error: 3 satellites are not launched by then and every "
                          "other element set is more than 14 days from the requested times ")
    assert "ask for times near the data (--start 2026-05-2" in err


def test_library_calls_raise_it(wv3: ElementSet) -> None:
    start = wv3.epoch + timedelta(days=20)
    with pytest.raises(StaleElementsError, match=r"max_age_days 21$"):
        ovf.passes([wv3], "Seoul", start=start, days=1)
    with pytest.raises(StaleElementsError):
        ovf.exposure([wv3], "Seoul", start=start, days=1, imaging=False)
    with pytest.raises(StaleElementsError, match=r"max_age_days 21$"):
        ovf.coverage([wv3], "38,125,39,126", start=start, days=1, grid_km=50.0)


def test_comparison_with_a_wholly_stale_baseline(wv3: ElementSet) -> None:
    from overflight.coverage import compare_coverage
    from overflight.hypothetical import sso

    start = wv3.epoch + timedelta(days=20)
    end = start + timedelta(days=1)
    hyp = sso(600.0, 10.5, start, count=1)
    with pytest.raises(StaleElementsError, match="the element set of WORLDVIEW-3"):
        compare_coverage([wv3], hyp, [SEOUL], start, end, C)


@pytest.mark.parametrize("command", [
    ["passes", "--group", "resource", "--site", "Rajin port"],
    ["watch", "Sohae"],
    ["exposure", "Sohae"],
    ["coverage", "--region", "38,125,39,126", "--grid-km", "50", "--group", "resource"],
])
def test_cli_exits_2_with_one_line(command: list[str], capsys: pytest.CaptureFixture[str]
                                   ) -> None:
    code, out, err = run([*command, "--start", "2026-06-20T00:00Z", "--days", "1"], capsys)
    assert code == 2 and out == ""
    assert err == ("overflight: error: every element set is older than 14 days at the "
                   f"requested times (newest epoch {EPOCH_DAY}, 20.3 days before the start); "
                   "import newer elements, or ask for times near the data "
                   "(--start 2026-05-30T16:00Z), or use --max-age-days 22\n")
    code, _, err = run([*command, "--start", "2027-06-20T00:00Z", "--days", "1"], capsys)
    assert code == 2 and err.endswith("days before the start); import newer elements, or ask "
                                      "for times near the data (--start 2026-05-30T16:00Z)\n")


@pytest.mark.parametrize("path", ["/api/passes", "/api/watch", "/api/exposure"])
def test_server_answers_422_with_the_same_text(path: str) -> None:
    from overflight.server import create_app

    site = {"site": "Sohae"}
    with TestClient(create_app()) as client:
        resp = client.get(path, params={**site, "group": "resource",
                                        "start": "2026-06-20T00:00Z", "days": 1})
    assert resp.status_code == 422, resp.text
    assert resp.json() == {"error": "every element set is older than 14 days at the requested "
                                    f"times (newest epoch {EPOCH_DAY}, 20.3 days before the "
                                    "start); import newer elements, or ask for times near "
                                    "the data (start=2026-05-30T16:00Z), or use "
                                    "max_age_days 22"}


# ---- ageing over the usable span --------------------------------------------------------------
def test_sets_are_aged_over_their_usable_span(wv3: ElementSet) -> None:
    start, end = wv3.epoch + timedelta(days=2), wv3.epoch + timedelta(days=12)
    spans, _ = usable_spans([wv3], start, end, max_age_days=7.0)
    assert spans == [(start, wv3.epoch + timedelta(days=7))]
    whole = stale_elements([wv3], start, end)
    assert whole and whole.worst_age_days == pytest.approx(12.0)
    assert not stale_elements([wv3], start, end, spans=spans)  # used only within 7 days
    assert not stale_elements([wv3], start, end, spans=[None])  # refused: not "used"
    with pytest.raises(ValueError, match="spans"):
        stale_elements([wv3], start, end, spans=[])
    plan = plan_elements([wv3], [SEOUL], start, end, C, max_age_days=7.0)
    assert not plan.stale and plan.warnings() == []
    plan = plan_elements([wv3], [SEOUL], start, end, C, max_age_days=10.0)
    assert plan.stale.worst_age_days == pytest.approx(10.0)  # not 12: refused after day 10


def test_coverage_results_carry_stale(wv3: ElementSet) -> None:
    from overflight.coverage import coverage

    l8 = _sets(39084)[0]
    start = wv3.epoch + timedelta(days=9)
    fresh_l8 = replace(l8, epoch=start, _key="")
    r = coverage([wv3, fresh_l8], [SEOUL], start, start + timedelta(days=2), C)
    assert [s.norad_id for s in r.stale.satellites] == [40115]
    assert r.stale.worst_age_days == pytest.approx(11.0)
    doc: dict[str, Any] = r.to_dict(points=False)
    assert doc["stale"]["satellites"][0]["norad_id"] == 40115
    api = ovf.coverage([wv3, fresh_l8], "38,125,39,126", start=start, days=2, grid_km=50.0,
                       max_off_nadir_deg=None, min_elevation_deg=10.0)
    assert [s.norad_id for s in api.stale.satellites] == [40115]
    assert api.to_dict()["stale"] == api.result.stale.to_dict()
    fresh = coverage([fresh_l8], [SEOUL], start, start + timedelta(days=1), C)
    assert not fresh.stale and "stale" not in fresh.to_dict(points=False)
