"""Satellites whose imaging mission ended (``Sensor.imaging_ended``): imaging jobs give their
windows up to that day and none after, and list the rest as skipped with the reason; plain
window searches are unaffected; a claim after the end is inconsistent. Each job is checked
against the same job without the end date."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests._cli import run

import overflight as ovf
from overflight.access import Constraints
from overflight.catalog import Catalog
from overflight.claims import CONSISTENT, INCONSISTENT, claim_from_fields, rules, verify_claim
from overflight.freshness import Skipped, usable_spans
from overflight.passes import plan_elements
from overflight.sensors import Sensor, load_table, shipped_table
from overflight.sites import resolve_site

T0 = datetime(2026, 5, 31, tzinfo=UTC)
T1 = T0 + timedelta(days=3)
ENDED = datetime(2026, 6, 1, tzinfo=UTC)  # inside [T0, T1]
SATS = (40115, 33331, 35946)  # WORLDVIEW-3, GEOEYE 1, WORLDVIEW-2: in the bundled snapshot
HJ1A, HJ1B = 33320, 33321  # imaging ended 2023-03-01 (eoPortal)


def _elsets(*ids: int) -> list[Any]:
    with Catalog.bundled() as cat:
        found = {e.norad_id: e for e in cat.latest(norad_ids=list(ids))}
    return [found[i] for i in ids]


def _ended(ids: tuple[int, ...], when: datetime | None) -> dict[int, Sensor]:
    table = dict(load_table())
    for i in ids:
        table[i] = replace(table[i], imaging_ended=when)
    return table


def _key(w: Any) -> tuple[Any, ...]:
    return (w.norad_id, w.site, w.start, w.peak, w.end, round(w.min_off_nadir_deg, 9))


@pytest.fixture(scope="module")
def sites() -> list[Any]:
    return [resolve_site(n) for n in ("Seoul", "Vostochny", "Sohae", "Rajin port")]


def test_windows_stop_at_the_end_and_match_the_job_without_it(sites: list[Any]) -> None:
    elsets = _elsets(*SATS)
    base = plan_elements(elsets, sites, T0, T1, Constraints(), imaging=True,
                         sensors=_ended(SATS, None))
    cut = plan_elements(elsets, sites, T0, T1, Constraints(), imaging=True,
                        sensors=_ended(SATS, ENDED))
    before = [_key(w) for w in base.windows() if w.peak <= ENDED]
    after = [w for w in base.windows() if w.peak > ENDED]
    assert before and after  # the date really cuts this job
    assert [_key(w) for w in cut.windows()] == before
    assert not base.skipped
    assert list(cut.skipped) == [
        Skipped(e.norad_id, e.name, "imaging mission ended 2026-06-01", ENDED, T1)
        for e in elsets]
    assert "imaging mission ended 2026-06-01 (2026-06-01 00:00Z → 2026-06-03 00:00Z)" in str(
        cut.skipped_note())
    # The search and the estimates count only the usable part.
    assert cut.usable_days == pytest.approx(1.0) and base.usable_days == pytest.approx(3.0)


def test_a_whole_interval_after_the_end_is_skipped_plain_passes_are_not(
        sites: list[Any]) -> None:
    elsets = _elsets(HJ1A, HJ1B, 40115)
    img = plan_elements(elsets, sites, T0, T1, Constraints(), imaging=True)
    assert [e.norad_id for e in img.elsets] == [40115]
    assert [(k.norad_id, k.reason, k.start) for k in img.skipped] == [
        (HJ1A, "imaging mission ended 2023-03-01", None),
        (HJ1B, "imaging mission ended 2023-03-01", None)]
    plain = plan_elements(elsets, sites, T0, T1, Constraints(min_elevation_deg=10.0))
    assert not plain.skipped and {w.norad_id for w in plain.windows()} >= {HJ1A, HJ1B}
    # The same with the sensor table's end dates removed: the HJ-1 satellites image again.
    back = plan_elements(elsets, sites, T0, T1, Constraints(), imaging=True,
                         sensors=_ended((HJ1A, HJ1B), None))
    assert [e.norad_id for e in back.elsets] == [HJ1A, HJ1B, 40115] and not back.skipped


def test_usable_spans_combines_the_end_with_age_and_launch() -> None:
    (wv3,) = _elsets(40115)  # epoch 2026-05-30, launched 2014
    far = T0 + timedelta(days=30)
    # End after the element set's 14 days: the age limit stops it first, no end reported.
    spans, skipped = usable_spans([wv3], T0, far, ended=[far - timedelta(days=1)])
    assert spans[0] is not None and spans[0][1] == wv3.epoch + timedelta(days=14)
    assert [k.reason.split(":")[0] for k in skipped] == ["imaging mission ended 2026-06-29",
                                                         "stale"]
    assert skipped[1].end == far - timedelta(days=1)  # stale only up to the end
    # End inside: the span stops there; no stale refusal after it.
    spans, skipped = usable_spans([wv3], T0, T1, ended=[ENDED])
    assert spans == [(T0, ENDED)] and [k.end for k in skipped] == [T1]
    assert usable_spans([wv3], T0, T1, ended=[None]) == usable_spans([wv3], T0, T1)
    with pytest.raises(ValueError, match="ended: 2 dates for 1 element sets"):
        usable_spans([wv3], T0, T1, ended=[None, None])


def test_exposure_and_coverage_use_the_same_refusal() -> None:
    elsets = _elsets(HJ1A, 40115)
    exp = ovf.exposure(elsets, "Sohae", start=T0, days=1)
    assert [(k.norad_id, k.reason) for k in exp.skipped] == [
        (HJ1A, "imaging mission ended 2023-03-01")]
    cov = ovf.coverage(elsets, "38,125,39,126", start=T0, days=1, grid_km=50.0, imaging=True)
    assert [(k.norad_id, k.reason) for k in cov.skipped] == [
        (HJ1A, "imaging mission ended 2023-03-01")]
    # What happens after the end is known (nothing is imaged): not an incomplete span.
    assert cov.summary()["incomplete_s"] == 0


def test_cli_names_the_reason_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["passes", "--sat", str(HJ1A), "--sat", "40115", "--site", "Seoul", "--imaging",
            "--start", "2026-05-31T00:00Z", "--days", "1", "-f", "json"]
    code, out, err = run(args, capsys)
    assert code == 0 and out.startswith("[")
    lines = [ln for ln in err.splitlines() if "HJ-1A" in ln]
    assert lines == ["overflight: warning: left out: HUANJING 1A (HJ-1A) (33320): imaging "
                     "mission ended 2023-03-01"]
    code, out, err = run([a for a in args if a != "--imaging"], capsys)
    assert code == 0 and "HJ-1A" not in err


def test_cli_sensors_lists_the_end(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code, out, _ = run(["sensors", "-f", "json"], capsys)
    rows = {r["norad_id"]: r for r in json.loads(out)}
    assert code == 0 and rows[41848]["imaging_ended"] == "2019-01-07"
    code, out, _ = run(["sensors", "--kind", "optical"], capsys)
    assert code == 0 and "imaging_ended" in out.replace("\n", "")


def test_server_returns_the_skipped_reason() -> None:
    from overflight.server import create_app

    with TestClient(create_app()) as client:
        r = client.post("/api/passes", json={"sat": [str(HJ1A), "40115"], "site": ["Seoul"],
                                             "start": "2026-05-31T00:00Z", "days": 1,
                                             "imaging": True})
    assert r.status_code == 200, r.text
    assert {"norad_id": HJ1A, "name": "HUANJING 1A (HJ-1A)",
            "reason": "imaging mission ended 2023-03-01", "start": None,
            "end": None} in r.json()["skipped"]


# ---- claims ------------------------------------------------------------------------------------


def test_rule() -> None:
    at = datetime(2019, 1, 7, tzinfo=UTC)

    def claim(t: str, end: str | None = None) -> Any:
        return claim_from_fields({"satellite": "41848", "target": "Seoul", "time": t,
                                  **({"time_end": end} if end else {})})

    assert rules.imaging_ended(None, claim("2020-01-01T00:00Z")) == []
    assert rules.imaging_ended(at, claim("2019-01-06T23:59Z")) == []
    (f,) = rules.imaging_ended(at, claim("2019-01-07T00:00Z"))
    assert (f.rule, f.outcome, f.code, f.time) == ("sensor", "contradicts", "imaging-ended", at)
    (g,) = rules.imaging_ended(at, claim("2019-01-06T12:00Z", "2019-01-07T12:00Z"))
    assert (g.outcome, g.code, g.lowers_confidence) == ("note", "imaging-ended-during", True)


@pytest.fixture(scope="module")
def catalog(resource_catalog: Catalog) -> Catalog:
    return resource_catalog


def test_a_claim_after_the_end_is_inconsistent(catalog: Catalog, shared_data: Path) -> None:
    from _claims_reference import passes

    found = passes(shared_data / "celestrak-2026-05-30" / "resource.tle", 40115, 38.8977,
                   -77.0365, datetime(2026, 5, 29, 12, tzinfo=UTC),
                   datetime(2026, 6, 1, 12, tzinfo=UTC), 60.0)
    day = next(p for p in found if p.sun_deg > 20)  # Skyfield: high pass in daylight
    t = day.culmination
    claim = claim_from_fields({"satellite": "40115", "target": "White House",
                               "time": t.strftime("%Y-%m-%dT%H:%M:%SZ")})
    table = shipped_table()
    assert verify_claim(claim, catalog, sensors=table).verdict == CONSISTENT
    midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
    later = verify_claim(claim, catalog, sensors=_ended((40115,), midnight + timedelta(days=1)))
    assert later.verdict == CONSISTENT and "imaging-ended" not in later.codes
    r = verify_claim(claim, catalog, sensors=_ended((40115,), midnight))
    assert r.verdict == INCONSISTENT and "in-reach" in r.codes  # the geometry was fine
    assert r.to_dict()["findings"] == ["imaging-ended"]
    assert any(f"no imaging from {midnight:%Y-%m-%d} on" in x for x in r.reasons)


def test_an_ended_mission_decides_without_element_sets(catalog: Catalog) -> None:
    """HJ-1A's imaging ended 2023-03-01; the catalog holds no element set near 2024-06-01, yet
    the sensor table alone makes the claim inconsistent (not cannot-verify), with both
    reasons given."""
    claim = claim_from_fields({"satellite": str(HJ1A), "target": "Rome",
                               "time": "2024-06-01T10:00:00Z"})
    r = verify_claim(claim, catalog, sensors=shipped_table())
    assert r.verdict == INCONSISTENT
    assert "imaging-ended" in r.codes and "no-recent-elements" in r.codes
    assert any("no imaging from 2023-03-01 on" in x for x in r.reasons)
