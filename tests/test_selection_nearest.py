"""Past requests use the element set nearest the requested time, for groups as for named
satellites: the bundled snapshot holds MALLIGYONG-1 (58400, group ``malligyong-1``) at
2024-06-07 23:19, 2024-06-12 05:56 and 2024-07-07 21:39 UTC."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from _cli import run
from overflight.catalog import Catalog
from overflight.passes import plan_passes
from overflight.selection import select_elements

EPOCHS = (datetime(2024, 6, 7, tzinfo=UTC), datetime(2024, 6, 12, tzinfo=UTC),
          datetime(2024, 7, 7, tzinfo=UTC))


def _day(es_epoch: datetime) -> datetime:
    return es_epoch.replace(hour=0, minute=0, second=0, microsecond=0)


def test_catalog_nearest_picks_either_side() -> None:
    with Catalog.bundled() as cat:
        hist = cat.history(58400)
        assert [_day(e.epoch) for e in hist] == list(EPOCHS)
        for at, want in ((datetime(2024, 6, 1, tzinfo=UTC), 0),      # before all: the first
                         (datetime(2024, 6, 8, tzinfo=UTC), 0),
                         (datetime(2024, 6, 11, tzinfo=UTC), 1),     # nearer the one after
                         (datetime(2024, 6, 30, tzinfo=UTC), 2),
                         (datetime(2024, 7, 8, tzinfo=UTC), 2),
                         (datetime(2026, 1, 1, tzinfo=UTC), 2)):     # after all: the last
            got = cat.nearest(at, norad_ids=[58400])
            assert [e.epoch for e in got] == [hist[want].epoch], at
        # an object with one stored set keeps it, at any time
        one = cat.latest(group="resource")[0]
        assert cat.nearest(datetime(2000, 1, 1, tzinfo=UTC), norad_ids=[one.norad_id]) == [one]
        assert ({e.norad_id: e.epoch for e in cat.nearest(datetime(2024, 6, 8, tzinfo=UTC),
                                                          group="resource")}
                == {e.norad_id: e.epoch for e in cat.latest(group="resource")})


@pytest.mark.parametrize(("start", "want"), [("2024-06-08T00:00Z", 0),
                                             ("2024-07-08T00:00Z", 2)])
def test_group_selection_uses_the_nearest_set(start: str, want: int) -> None:
    at = datetime.fromisoformat(start.replace("Z", "+00:00"))
    by_group = select_elements(groups=["malligyong-1"], as_of=at)
    by_name = select_elements(["MALLIGYONG-1"], as_of=at)
    assert _day(by_group[0].epoch) == EPOCHS[want]
    assert by_group[0].epoch == by_name[0].epoch
    latest = select_elements(groups=["malligyong-1"])  # no time: the newest
    assert _day(latest[0].epoch) == EPOCHS[2]
    plan = plan_passes(groups=["malligyong-1"], sites=["Seoul"], start=start, days=1)
    assert not plan.skipped and _day(plan.elsets[0].epoch) == EPOCHS[want]
    assert plan.windows()


def test_cli_group_past_request_gets_windows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["passes", "--group", "malligyong-1", "--site", "Seoul",
                          "--start", "2024-06-08T00:00Z", "--days", "1", "-f", "json"], capsys)
    assert code == 0, err
    rows = json.loads(out)
    assert rows and all(r["norad_id"] == 58400 for r in rows)
    # the 06-07 23:19 set: every peak within a day of it (the 07-07 set would be 29 days off)
    assert all(-1.0 < r["elset_age_days"] < 1.5 for r in rows), rows
    assert "refus" not in err and "left out" not in err


def test_server_group_past_request_gets_windows() -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from overflight.server import create_app

    with TestClient(create_app(token="t")) as client:
        r = client.post("/api/passes", json={"group": ["malligyong-1"], "site": ["Seoul"],
                                             "start": "2024-07-08T00:00Z", "days": 1})
    assert r.status_code == 200, r.text
    ws = r.json()["windows"]
    assert ws and all(abs(w["elset_age_days"]) < 1.5 for w in ws)
