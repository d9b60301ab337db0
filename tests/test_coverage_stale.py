"""Coverage without imaging refuses what it cannot know, as passes does: windows peaking more
than ``max_age_days`` (14) from the element set's epoch are not counted, the satellite is listed
as skipped for that span, and the result says its statistics there are not established.

The reference is Skyfield's ``find_events`` (rise, culmination, set above the elevation limit)
for every satellite and point, with the stale satellite's passes kept only where the
culmination is within the limit of its epoch, merged per point in plain Python."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from skyfield.api import EarthSatellite, wgs84
from tests._cli import run

from overflight.access import Constraints
from overflight.catalog import Catalog
from overflight.coverage import CoverageError, compare_coverage, coverage
from overflight.elements import ElementSet
from overflight.freshness import StaleElementsError
from overflight.geometry import Site
from overflight.passes import plan_elements
from overflight.times import format_utc, timescale

# Landsat 8, Sentinel-2A, WorldView-3 (bundled epochs 2026-05-30); Sentinel-2A's copy with its
# epoch moved back 20 days is the stale one.
FRESH_IDS = (39084, 40115)
STALE_ID = 40697
C = Constraints(min_elevation_deg=5.0)
POINTS = [Site("a", 38.5, 125.5), Site("b", 41.0, 129.0), Site("c", 35.0, 127.0),
          Site("d", 45.0, 120.0)]
EDGE_S = 1.0  # edges agree with Skyfield within a second (tests/test_api.py)


def _elsets(*ids: int) -> list[ElementSet]:
    with Catalog.bundled() as cat:
        found = {e.norad_id: e for e in cat.latest(norad_ids=list(ids))}
    return [found[i] for i in ids]


@pytest.fixture(scope="module")
def case() -> tuple[list[ElementSet], ElementSet, datetime, datetime]:
    """The fresh sets, the stale one, and an interval its 14-day limit cuts in the middle."""
    fresh = _elsets(*FRESH_IDS)
    (s2a,) = _elsets(STALE_ID)
    stale = replace(s2a, epoch=s2a.epoch - timedelta(days=20), _key="")
    start = stale.epoch + timedelta(days=12)
    return fresh, stale, start, start + timedelta(days=4)


def _sky_windows(es: ElementSet, site: Site, start: datetime, end: datetime
                 ) -> list[tuple[datetime, datetime, datetime | None]]:
    """Skyfield: (start, end, culmination) of the passes above C's elevation limit, clipped to
    the interval (culmination None for a pass clipped before it culminates)."""
    ts = timescale()
    sat = EarthSatellite.from_satrec(es.to_satrec(), ts)
    topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    t, ev = sat.find_events(topos, ts.from_datetime(start), ts.from_datetime(end),
                            altitude_degrees=C.min_elevation_deg)
    out: list[tuple[datetime, datetime, datetime | None]] = []
    rise: datetime | None = start  # in view at the start unless the first event is a rise
    top: datetime | None = None
    for when, kind in zip(t.utc_datetime(), ev.tolist(), strict=True):
        if kind == 0:
            rise, top = when, None
        elif kind == 1:
            top = when
        else:
            assert rise is not None
            out.append((rise, when, top))
            rise, top = None, None
    if rise is not None:
        out.append((rise, end, top))
    return out


def _reference(fleet: list[ElementSet], stale: ElementSet, start: datetime, end: datetime,
               limit_days: float) -> tuple[list[int], list[list[tuple[datetime, datetime]]], int]:
    """Per point: Skyfield windows kept (the stale set's only when culminating within
    ``limit_days`` of its epoch), their union; and how many of the stale set's were refused."""
    cut = stale.epoch + timedelta(days=limit_days)
    counts, unions, refused = [], [], 0
    for site in POINTS:
        kept: list[tuple[datetime, datetime]] = []
        for es in fleet:
            for a, b, top in _sky_windows(es, site, start, end):
                if es is stale:
                    # A pass clipped at the end before culminating peaks at the clip, after the
                    # cut here; one clipped at the start peaks there, before it.
                    peak = top if top is not None else (end if b == end else start)
                    # the engine's peak (closest approach) is within seconds of culmination
                    assert abs((peak - cut).total_seconds()) > 60, "pass too near the limit"
                    if peak > cut:
                        refused += 1
                        continue
                kept.append((a, b))
        merged: list[tuple[datetime, datetime]] = []
        for a, b in sorted(kept):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        counts.append(len(kept))
        unions.append(merged)
    return counts, unions, refused


def _check_against(r: Any, counts: list[int], unions: list[list[tuple[datetime, datetime]]]
                   ) -> None:
    assert r.windows.tolist() == counts
    for i, want in enumerate(unions):
        got = r.intervals(i)
        assert len(got) == len(want)
        for (ga, gb), (wa, wb) in zip(got, want, strict=True):
            assert abs((ga - wa).total_seconds()) < EDGE_S
            assert abs((gb - wb).total_seconds()) < EDGE_S


@pytest.mark.parametrize("method", ["points", "field"])
def test_stale_windows_refused_as_skyfield_says(case: Any, method: str) -> None:
    fresh, stale, start, end = case
    fleet = [fresh[0], stale, fresh[1]]
    r = coverage(fleet, POINTS, start, end, C, method=method)
    counts, unions, refused = _reference(fleet, stale, start, end, 14.0)
    assert refused >= 3 and sum(counts) >= 15  # the cut matters, and there is coverage left
    _check_against(r, counts, unions)
    assert not r.imaging and [s.norad_id for s in r.satellites] == [39084, STALE_ID, 40115]
    # listed as passes lists it, with the same words
    cut = stale.epoch + timedelta(days=14)
    plan = plan_elements(fleet, POINTS, start, end, C)
    assert r.skipped == plan.skipped and len(r.skipped) == 1
    k = r.skipped[0]
    assert (k.norad_id, k.start, k.end) == (STALE_ID, cut, end)
    assert k.reason == ("stale: more than 14 days from the element set epoch "
                        f"{format_utc(stale.epoch)}; import fresh data")
    assert r.skipped_note == plan.skipped_note()
    # and says the statistics there are not established
    assert r.incomplete == [(cut, end)]
    s = r.summary()
    assert s["incomplete_s"] == (end - cut).total_seconds()
    assert s["incomplete_from"] == format_utc(cut)
    doc = json.loads(json.dumps(r.to_dict(points=False)))
    assert doc["skipped"][0]["start"] == format_utc(cut)
    assert "stale" in doc["skipped_note"] and "not established" in doc["incomplete_note"]


def test_max_age_days_without_imaging(case: Any) -> None:
    fresh, stale, start, end = case
    fleet = [fresh[0], stale]
    tight = coverage(fleet, POINTS, start, end, C, method="points", max_age_days=13.0)
    counts, unions, _ = _reference(fleet, stale, start, end, 13.0)
    _check_against(tight, counts, unions)
    assert tight.incomplete == [(stale.epoch + timedelta(days=13), end)]
    loose = coverage(fleet, POINTS, start, end, C, method="points", max_age_days=30.0)
    counts, unions, refused = _reference(fleet, stale, start, end, 30.0)
    assert refused == 0
    _check_against(loose, counts, unions)
    assert loose.skipped == () and loose.incomplete == []
    assert loose.summary()["incomplete_s"] == 0 and loose.summary()["incomplete_from"] is None
    with pytest.raises(CoverageError, match="max_age_days: must be a finite number in"):
        coverage(fleet, POINTS, start, end, C, max_age_days=0.0)


def test_wholly_stale_satellites_left_out(case: Any) -> None:
    fresh, stale, _, _ = case
    start = stale.epoch + timedelta(days=15)
    end = start + timedelta(days=1)
    r = coverage([fresh[0], stale], POINTS, start, end, C)
    assert [s.norad_id for s in r.satellites] == [39084]
    assert [(k.norad_id, k.start) for k in r.skipped] == [(STALE_ID, None)]
    assert r.skipped[0].reason.startswith("stale: the interval is 15 days from")
    assert r.incomplete == [] and r.skipped_note is not None
    alone = coverage([fresh[0]], POINTS, start, end, C)
    assert r == replace(alone, skipped=r.skipped, skipped_note=r.skipped_note)
    with pytest.raises(StaleElementsError, match=r"older than 14 days at the requested times "
                       r"\(epoch .*, 15\.0 days before the start\); import newer elements, or "
                       r"ask for times near the data \(start=\S+Z\), or use max_age_days 16$"):
        coverage([stale], POINTS, start, end, C)


def test_fresh_fleet_takes_the_fast_path(case: Any) -> None:
    """No span cuts the interval: no rules, the fleet computed as a whole, nothing listed."""
    from overflight.coverage import _select

    fresh, _, _, _ = case
    start = fresh[0].epoch
    end = start + timedelta(days=1)
    sel = _select(fresh, POINTS, start, end, C, None, imaging=False, include_unknown=False,
                  kinds=(), max_gsd_m=None, countries=(), operators=(), max_age_days=None)
    assert sel.imaging is None and sel.elsets == fresh and sel.skipped == ()
    r = coverage(fresh, POINTS, start, end, C)
    assert r.skipped == () and r.skipped_note is None and r.incomplete == []
    assert "skipped" not in r.to_dict(points=False)
    assert r == coverage(fresh, POINTS, start, end, C, max_age_days=366.0)


def test_comparison_and_hypothetical_satellites(case: Any) -> None:
    """The baseline's stale member is held to its span; hypothetical satellites are not held
    to their synthetic epoch (11 days before the start here): nothing to refuse, as in passes."""
    from overflight.hypothetical import sso

    fresh, stale, start, end = case
    hyp = sso(600.0, 10.5, start - timedelta(days=11), count=1)
    cmp = compare_coverage([fresh[0], stale], hyp, POINTS, start, end, C, method="points")
    plan = plan_elements([fresh[0], stale, *hyp], POINTS, start, end, C)
    assert cmp.combined.skipped == plan.skipped
    assert [k.norad_id for k in cmp.combined.skipped] == [STALE_ID]
    assert [k.norad_id for k in cmp.baseline.skipped] == [STALE_ID]
    assert cmp.baseline == coverage([fresh[0], stale], POINTS, start, end, C, method="points")
    assert cmp.combined.incomplete == [(stale.epoch + timedelta(days=14), end)]
    assert hyp[0].epoch + timedelta(days=14) < end  # it would have been refused at the end
    assert (cmp.combined.accesses >= cmp.baseline.accesses).all()


def test_cli_warns_and_reports(case: Any, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from overflight.catalog.tle import format_tles

    fresh, stale, start, end = case
    tle = tmp_path / "fleet.tle"
    tle.write_text(format_tles([fresh[0], stale]), encoding="ascii")
    args = ["coverage", "--region", "38,125,39,126", "--grid-km", "50", "--tle", str(tle),
            "--start", format_utc(start), "--days", "4", "--min-elevation", "5"]
    code, out, err = run([*args, "-f", "json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert [k["norad_id"] for k in doc["skipped"]] == [STALE_ID]
    assert doc["summary"]["incomplete_s"] == pytest.approx(
        (end - stale.epoch - timedelta(days=14)).total_seconds(), abs=1.0)  # whole seconds
    lines = err.splitlines()
    assert sum("left out" in ln and "stale" in ln for ln in lines) == 1
    assert sum("not established" in ln for ln in lines) == 1
    code, out, err = run(args, capsys)
    assert code == 0 and "NOT ESTABLISHED" in out and "INCOMPLETE" in out
    code, out, err = run([*args, "--max-age-days", "30", "-f", "json"], capsys)
    assert code == 0, err
    assert "skipped" not in json.loads(out) and "left out" not in err
    later = [*args[:7], "--min-elevation", "5", "--days", "1",
             "--start", format_utc(stale.epoch + timedelta(days=15))]
    code, out, err = run(later, capsys)
    assert code == 0 and "stale: the interval is 15 days" in err  # Landsat 8 is still fresh
    assert "NOT ESTABLISHED" not in out


def test_cli_all_stale_is_a_one_line_error(case: Any, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from overflight.catalog.tle import format_tles

    _, stale, _, _ = case
    tle = tmp_path / "stale.tle"
    tle.write_text(format_tles([stale]), encoding="ascii")
    late = format_utc(stale.epoch + timedelta(days=20))
    code, _, err = run(["coverage", "--region", "38,125,39,126", "--grid-km", "50", "--tle",
                        str(tle), "--start", late, "--days", "1"], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("overflight: error: the element set of SENTINEL-2A (40697) is older "
                          "than 14 days at the requested times (epoch ")
    assert re.search(r"20\.0 days before the start\); import newer elements, or ask for "
                     r"times near the data \(--start \S+Z\), or use --max-age-days 21\n$", err)


def test_spans_travel_through_shards_and_dask(case: Any) -> None:
    """Each satellite's span goes with it through any shard plan and to Dask workers."""
    distributed = pytest.importorskip("distributed")
    from overflight.coverage import ShardPlan

    fresh, stale, start, end = case
    fleet = [fresh[0], stale, fresh[1]]
    local = coverage(fleet, POINTS, start, end, C, method="points")
    plan = ShardPlan(sat_batch=1, tile_points=2)
    cut = coverage(fleet, POINTS, start, end, C, method="points", plan=plan)
    # another plan: the same windows, edges within the engine's 5 ms (so for a fresh fleet too)
    assert cut.windows.tolist() == local.windows.tolist() and cut.skipped == local.skipped
    assert cut.accesses.tolist() == local.accesses.tolist()
    for k in ("interval_start", "interval_end"):
        diff = (getattr(cut, k) - getattr(local, k)) / np.timedelta64(1, "ms")
        assert np.abs(diff).max() <= 5.0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = coverage(fleet, POINTS, start, end, C, method="points", plan=plan,
                          client=client)
    assert remote == cut  # the same plan on a cluster: identical
