"""Imaging mode (each satellite's own sensor rule), element-set age and launch refusals, sensor
filters and ``overflight sensors``; geometry and Sun checked with Skyfield, independently."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from tests._access_reference import RefSite, look, satellite
from tests._claims_reference import ts_eph
from tests._cli import run

from overflight.access import Constraints
from overflight.catalog import Catalog
from overflight.catalog.tle import tle_lines
from overflight.freshness import StaleElementsError
from overflight.passes import plan_elements
from overflight.sites import resolve_site

T0 = datetime(2026, 5, 31, tzinfo=UTC)
TOL_DEG = 0.05


def _elsets(*ids: int) -> list[Any]:
    with Catalog.bundled() as cat:
        found = {e.norad_id: e for e in cat.latest(norad_ids=list(ids))}
    return [found[i] for i in ids]


def _ref(es: Any) -> Any:
    return satellite(es.name, *tle_lines(es))


def _sun_deg(site: Any, when: list[datetime]) -> np.ndarray:
    """Skyfield: topocentric Sun elevation (DE421) at the site."""
    from skyfield.api import wgs84

    ts, eph = ts_eph()
    t = ts.from_datetimes(when)
    topos = eph["earth"] + wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    alt, _, _ = topos.at(t).observe(eph["sun"]).apparent().altaz()
    return np.atleast_1d(alt.degrees)


def _ref_site(site: Any) -> RefSite:
    return RefSite(site.name, site.lat_deg, site.lon_deg, site.alt_m)


def test_landsat_8_never_beyond_its_reach() -> None:
    site = resolve_site("Vostochny")
    (l8,) = _elsets(39084)
    days = 10
    end = T0 + timedelta(days=days)
    img = plan_elements([l8], [site], T0, end, Constraints(), imaging=True).windows()
    wide = plan_elements([l8], [site], T0, end, Constraints(max_off_nadir_deg=30.0)).windows()
    sat, ref = _ref(l8), _ref_site(site)
    assert img, "Landsat 8 should have imaging windows over Vostochny in 10 days"
    for w in img:
        g = look(sat, ref, w.peak, np.array([0.0]), True)
        assert g["off"][0] <= 7.5 + TOL_DEG
        assert _sun_deg(site, [w.peak])[0] >= 10.0 - TOL_DEG
    # Dense Skyfield search over each 30° window: imaging keeps exactly those where the site
    # comes within 7.5° with the Sun at least 10° up.
    kept = {w.peak.replace(microsecond=0) for w in img}
    for w in wide:
        n = int(w.duration_s) + 1
        g = look(sat, ref, w.start, np.linspace(0.0, w.duration_s, n), True)
        sun = _sun_deg(site, [w.start + timedelta(seconds=float(s))
                              for s in np.linspace(0.0, w.duration_s, 5)])
        ok = g["off"] <= 7.5
        inside = any(abs((k - w.peak).total_seconds()) < w.duration_s for k in kept)
        if g["off"].min() > 7.5 + TOL_DEG or sun.max() < 10.0 - 1.0:
            assert not inside, f"{w.start}: beyond reach or dark, yet imaged"
        elif ok.sum() > 3 and sun.min() > 10.0 + 1.0:
            assert inside, f"{w.start}: within 7.5° in daylight, yet dropped"


def test_radar_images_at_night_optical_does_not() -> None:
    site = resolve_site("-33.9,18.4")  # southern winter: dawn-dusk orbits pass in the dark
    sar, opt = _elsets(31598, 40115)  # COSMO-SKYMED 1, WORLDVIEW-3
    end = T0 + timedelta(days=3)
    plan = plan_elements([sar, opt], [site], T0, end, Constraints(), imaging=True)
    windows = plan.windows()
    by_sat: dict[int, list[Any]] = {}
    for w in windows:
        by_sat.setdefault(w.norad_id, []).append(w)
    sar_sun = _sun_deg(site, [w.peak for w in by_sat[31598]])
    assert (sar_sun < -6).any(), "a SAR should have night-time imaging windows"
    opt_sun = _sun_deg(site, [w.peak for w in by_sat.get(40115, [])] or [T0])
    if 40115 in by_sat:
        assert (opt_sun >= 10.0 - TOL_DEG).all()
    # radar rows carry the incidence (Skyfield: 90° − elevation) and look side
    ref = _ref_site(site)
    for w in by_sat[31598]:
        g = look(_ref(sar), ref, w.peak, np.array([0.0]), False)
        assert w.extra["incidence_deg"] == pytest.approx(90.0 - g["el"][0], abs=0.05)
        assert 20.0 - 0.05 <= w.extra["incidence_deg"] <= 60.0 + 0.05
        assert w.extra["look_side"] in ("left", "right") and w.extra["sensor_kind"] == "sar"


def test_non_imagers_and_unknown_are_left_out_and_counted() -> None:
    site = resolve_site("Vostochny")
    iono, l8 = _elsets(61735, 39084)
    plan = plan_elements([iono, l8], [site], T0, T0 + timedelta(days=1), Constraints(),
                         imaging=True)
    assert [e.norad_id for e in plan.elsets] == [39084]
    assert [(k.norad_id, k.reason.split(" (")[0]) for k in plan.skipped] == [
        (61735, "does not image")]
    assert plan.skipped_note() is not None and "IONOSFERA" in str(plan.skipped_note())
    geometry = plan_elements([iono, l8], [site], T0, T0 + timedelta(days=1), Constraints())
    assert len(geometry.elsets) == 2 and not geometry.skipped


def test_stale_and_pre_launch_refused() -> None:
    site = resolve_site("Vostochny")
    (l8,) = _elsets(39084)  # epoch 2026-05-30, launched 2013
    late = l8.epoch + timedelta(days=20)
    with pytest.raises(StaleElementsError, match=r"20\.0 days before the start"):
        plan_elements([l8], [site], late, late + timedelta(days=1), Constraints())
    plan = plan_elements([l8, replace(l8, norad_id=99001, epoch=late, _key="")], [site], late,
                         late + timedelta(days=1), Constraints())
    assert plan.skipped[0].norad_id == 39084 and plan.skipped[0].reason.startswith("stale")
    # Launched in 2026 (designator rewritten): 2025-12 is within the largest max_age_days.
    new = replace(l8, intl_designator="26001A")
    early = datetime(2025, 12, 1, tzinfo=UTC)
    plan = plan_elements([new], [site], early, early + timedelta(days=1), Constraints(),
                         max_age_days=366)
    assert plan.skipped[0].reason == "before launch (launched in 2026)"
    # partly stale: windows after epoch + 3 days refused, the rest given with their age
    plan = plan_elements([l8], [site], T0, T0 + timedelta(days=8), Constraints(),
                         max_age_days=3.0)
    windows = plan.windows()
    assert windows and plan.skipped and plan.skipped[0].start is not None
    for w in windows:
        age = (w.peak - l8.epoch).total_seconds() / 86400
        assert w.extra["elset_age_days"] == pytest.approx(age, abs=1e-3) and abs(age) <= 3.0


def test_sensor_filters() -> None:
    site = resolve_site("Vostochny")
    sats = _elsets(31598, 40115, 39084, 61735)
    plan = plan_elements(sats, [site], T0, T0 + timedelta(hours=2), Constraints(),
                         kinds=["sar"])
    assert [e.norad_id for e in plan.elsets] == [31598]
    plan = plan_elements(sats, [site], T0, T0 + timedelta(hours=2), Constraints(),
                         max_gsd_m=1.0, countries=["USA"])
    assert [e.norad_id for e in plan.elsets] == [40115]
    plan = plan_elements(sats, [site], T0, T0 + timedelta(hours=2), Constraints(),
                         operators=["maxar"])
    assert [e.norad_id for e in plan.elsets] == [40115]


def test_sensors_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["sensors", "--kind", "sar", "--country", "ITA", "-f", "json"], capsys)
    rows = json.loads(out)
    assert code == 0 and rows and all(r["kind"] == "sar" and "ITA" in r["country"]
                                      for r in rows)
    assert all(r["source"] for r in rows)
    code, out, _ = run(["sensors", "-f", "csv"], capsys)
    assert code == 0 and out.splitlines()[0].startswith("norad_id,name,images")
    code, _, err = run(["sensors", "--kind", "lidar"], capsys)
    assert code == 2 and "lidar" in err


def test_cli_imaging_json_columns(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["passes", "--sat", "39084", "--sat", "61735", "--site", "Vostochny",
                          "--start", "2026-05-31T00:00Z", "--days", "7", "--imaging",
                          "-f", "json"], capsys)
    assert code == 0 and "IONOSFERA-M 1 (61735): does not image" in err
    rows = json.loads(out)
    assert rows and all(r["norad_id"] == 39084 and r["sensor_kind"] == "optical"
                        and r["min_off_nadir_deg"] <= 7.5 + 1e-6 for r in rows)
    assert all(r["elset_age_days"] > 0 for r in rows)
