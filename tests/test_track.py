"""Positions are bounded by element-set age: `where`/`track` and ``track_rows`` refuse times
more than max_age_days from the epoch (the bundled MALLIGYONG-1 set is from 2024-07-07)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from _cli import run
from overflight.freshness import StaleElementsError
from overflight.selection import select_elements
from overflight.times import parse_time
from overflight.track import check_track_age, track_rows


def test_where_far_from_the_epoch_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["where", "58400", "--at", "2026-12-01T00:00Z"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "older than 14 days" in err and "876.1 days before" in err
    code, _, err = run(["where", "58400", "--at", "2024-07-20T00:00Z", "-f", "json"], capsys)
    assert code == 0, err
    code, _, err = run(["where", "58400", "--at", "2024-08-01T00:00Z", "--max-age-days", "30"],
                       capsys)
    assert code == 0, err
    code, _, err = run(["where", "58400", "--at", "2024-08-01T00:00Z", "--max-age-days", "367"],
                       capsys)
    assert code == 2 and "--max-age-days: must be" in err


def test_track_partly_too_far_is_refused_with_the_usable_span(
        capsys: pytest.CaptureFixture[str]) -> None:
    args = ["track", "58400", "--start", "2024-07-15T00:00Z", "--end", "2024-07-25T00:00Z",
            "--step", "3600", "-f", "csv"]
    code, _, err = run(args, capsys)
    assert code == 2 and err.count("\n") == 1
    assert "part of the requested times" in err and "2024-07-21T21:39:33Z" in err
    assert "use --max-age-days 18" in err and "max_age_days" not in err
    code, out, err = run([*args, "--max-age-days", "18"], capsys)
    assert code == 0 and len(out.splitlines()) == 1 + 241, err


def test_library_bound() -> None:
    (es,) = select_elements(["58400"])
    near = es.epoch + timedelta(days=13)
    assert len(track_rows(es, [near])) == 1
    far = es.epoch - timedelta(days=15)
    with pytest.raises(StaleElementsError, match="more than 14 days") as exc:
        track_rows(es, [far])
    assert exc.value.nearest_epoch == es.epoch
    assert track_rows(es, [far], max_age_days=None)[0]["lat_deg"] is not None
    check_track_age(es, far, far, max_age_days=16)
    with pytest.raises(Exception, match="max_age_days: must be"):
        check_track_age(es, near, near, max_age_days=float("nan"))
    assert parse_time("2024-07-20T00:00Z") > es.epoch
