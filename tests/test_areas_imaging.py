"""Imaging rules over area targets: each satellite's own reach, lighting and radar incidence
band applied to every sample point of the area, against the independent Skyfield dense-sample
reference of ``tests/test_areas.py`` (Skyfield propagation from the TLE text, Skyfield's DE421
Sun)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from skyfield.api import wgs84
from skyfield.framelib import itrs

from _access_reference import satellite, times
from _claims_reference import ts_eph
from _cli import run
from overflight.access import Constraints
from overflight.areas import AreaWindow, area_from_geojson, resolve_area, sample_area
from overflight.catalog import Catalog
from overflight.catalog.tle import tle_lines
from overflight.freshness import StaleElementsError
from overflight.passes import plan_elements
from test_areas import SkyPoints, dense_points, inside, runs

T0 = datetime(2026, 5, 31, tzinfo=UTC)
TOL_DEG = 0.05
L8, SAR, WV3, S2A = 39084, 31598, 40115, 40697


def _elsets(*ids: int) -> list[Any]:
    with Catalog.bundled() as cat:
        found = {e.norad_id: e for e in cat.latest(norad_ids=list(ids))}
    return [found[i] for i in ids]


def _sky(es: Any) -> Any:
    return satellite(es.name, *tle_lines(es))


def _sun_deg(lat: float, lon: float, when: list[datetime]) -> np.ndarray:
    """Skyfield: topocentric Sun elevation (DE421) at a ground point."""
    ts, eph = ts_eph()
    topos = eph["earth"] + wgs84.latlon(lat, lon)
    alt, _, _ = topos.at(ts.from_datetimes(when)).observe(eph["sun"]).apparent().altaz()
    return np.atleast_1d(alt.degrees)


def _elevation(pts: SkyPoints, sat: Any, t0: datetime, t_s: np.ndarray) -> np.ndarray:
    """Skyfield: elevation (deg, geodetic up) of the satellite above each point, (P, T)."""
    s = sat.at(times(t0, t_s)).frame_xyz(itrs).km.T
    d = s[None, :, :] - pts.xyz[:, None, :]
    sin_el = np.einsum("pk,ptk->pt", pts.up, d) / np.linalg.norm(d, axis=-1)
    return np.degrees(np.arcsin(sin_el))


def _box(lon0: float, lat0: float, dlon: float, dlat: float) -> Any:
    ring = [[lon0, lat0], [lon0 + dlon, lat0], [lon0 + dlon, lat0 + dlat],
            [lon0, lat0 + dlat], [lon0, lat0]]
    return area_from_geojson({"type": "Polygon", "coordinates": [ring]}, "test", "box"), ring


def _reference(sat: Any, ring: list[list[float]], centre: SkyPoints, duration_s: float,
               ok_fn: Any, near_fn: Any) -> list[tuple[float, float]]:
    """Times (s from T0) when some point of a dense sample of ``ring`` satisfies ``ok_fn``,
    searched every 0.1 s around the spans where the centroid satisfies ``near_fn``."""
    lon, lat = dense_points(ring, 16, 0.0005)
    pts = SkyPoints(lon, lat)
    t = np.arange(0.0, duration_s, 5.0)
    out: list[tuple[float, float]] = []
    for a, b in runs(t, near_fn(centre, t)):
        tt = np.arange(max(0.0, a - 60.0), min(duration_s, b + 60.0), 0.1)
        out += runs(tt, ok_fn(pts, tt).any(axis=0))
    return out


def test_landsat_8_area_windows_never_beyond_its_reach() -> None:
    area = resolve_area("Vostochny launch complex")
    ring = area.geometry()["coordinates"][0][0]
    (l8,) = _elsets(L8)
    days = 10
    end = T0 + timedelta(days=days)
    plan = plan_elements([l8], [], T0, end, Constraints(), imaging=True)
    img = plan.area_windows(area)
    assert img and all(isinstance(w, AreaWindow) for w in img)
    sat = _sky(l8)
    lat0, lon0 = area.centroid
    centre = SkyPoints(np.array([lon0]), np.array([lat0]))
    # The sample points the engine used: at every moment of every window one of them is
    # within 7.5° of nadir (Skyfield), and the Sun is at least 10° up.
    sample = sample_area(area)
    used = SkyPoints(sample.lon_deg, sample.lat_deg)
    for w in img:
        tt = np.linspace(0.0, w.duration_s, 50)
        off = used.off_nadir(sat, w.start, tt)
        assert off.min(axis=0).max() <= 7.5 + TOL_DEG, w
        assert w.min_off_nadir_deg <= 7.5 + TOL_DEG
        assert _sun_deg(lat0, lon0, [w.peak])[0] >= 10.0 - TOL_DEG
        assert w.extra["sensor_kind"] == "optical" and w.extra["resolution_m"] is not None
    # The windows are exactly the Skyfield dense-sample ones: some point within 7.5° and the
    # Sun at least 10° up (the night passes, ascending at about 22:00 local time, drop out).
    def lit_in_reach(p: SkyPoints, tt: np.ndarray) -> np.ndarray:
        coarse = tt[::50]
        sun = np.interp(tt, coarse, _sun_deg(lat0, lon0, [T0 + timedelta(seconds=float(x))
                                                          for x in coarse]))
        return (p.off_nadir(sat, T0, tt) <= 7.5) & (sun >= 10.0)[None, :]

    ref = _reference(sat, ring, centre, days * 86400.0, lit_in_reach,
                     lambda c, t: c.off_nadir(sat, T0, t)[0] < 9.0)
    assert len(img) == len(ref), (img, ref)
    for w, (a, b) in zip(img, ref, strict=True):
        s, e = (w.start - T0).total_seconds(), (w.end - T0).total_seconds()
        assert abs(s - a) <= 1.0 and abs(e - b) <= 1.0, (s, a, e, b)
    # geometry only, 30° off nadir: more and longer windows than the sensor's own reach
    wide = plan_elements([l8], [], T0, end, Constraints(max_off_nadir_deg=30.0))
    assert sum(w.duration_s for w in wide.area_windows(area)) > 2 * sum(
        w.duration_s for w in img)


def test_area_fraction_uses_each_satellites_reach() -> None:
    # 100 × 100 km: larger than Landsat 8's ±7.5° field of regard is wide at times, so the
    # area is partly in reach; the share is checked against a Skyfield grid with each
    # satellite's own reach (Landsat 8 7.5°, Sentinel-2A 10.3°).
    area, ring = _box(124.0, 39.3, 1.2, 0.9)
    sats = _elsets(L8, S2A)
    reach = {L8: 7.5, S2A: 10.3}
    plan = plan_elements(sats, [], T0, T0 + timedelta(days=8), Constraints(), imaging=True)
    got = plan.area_windows(area)
    assert {w.norad_id for w in got} == {L8, S2A}
    xs, ys = np.meshgrid(np.linspace(124.0, 125.2, 40), np.linspace(39.3, 40.2, 40))
    keep = inside(ring, xs.ravel(), ys.ravel())
    pts = SkyPoints(xs.ravel()[keep], ys.ravel()[keep])
    sky = {es.norad_id: _sky(es) for es in sats}
    partial = 0
    for w in got:
        tt = np.linspace(0.0, w.duration_s, 200)
        share = (pts.off_nadir(sky[w.norad_id], w.start, tt) <= reach[w.norad_id]
                 ).mean(axis=0).max()
        assert abs(w.area_fraction - share) <= 0.05, (w.name, w.area_fraction, share)
        partial += w.area_fraction < 0.9
    assert partial >= 1


def test_radar_keeps_night_area_windows_optical_loses() -> None:
    # southern winter at Cape Town: dawn-dusk and night passes
    area, ring = _box(18.40, -33.93, 0.03, 0.025)
    sar, opt = _elsets(SAR, WV3)
    days = 6
    plan = plan_elements([sar, opt], [], T0, T0 + timedelta(days=days), Constraints(),
                         imaging=True)
    got = plan.area_windows(area)
    lat0, lon0 = area.centroid
    by_sat: dict[int, list[AreaWindow]] = {}
    for w in got:
        by_sat.setdefault(w.norad_id, []).append(w)
    sar_sun = _sun_deg(lat0, lon0, [w.peak for w in by_sat[SAR]])
    assert (sar_sun < -6).any(), "the radar should keep night-time area windows"
    # geometry only, WorldView-3 has dark passes over the area that imaging drops
    geo = plan_elements([opt], [], T0, T0 + timedelta(days=days),
                        Constraints(max_off_nadir_deg=45.0)).area_windows(area)
    assert (_sun_deg(lat0, lon0, [w.peak for w in geo]) < 0).any()
    assert 0 < len(by_sat[WV3]) < len(geo)
    for w in by_sat[WV3]:
        tt = np.linspace(0.0, w.duration_s, 5)
        sun = _sun_deg(lat0, lon0, [w.start + timedelta(seconds=float(s)) for s in tt])
        assert sun.min() >= 10.0 - 0.1, w
    # the radar's windows: some point of the area within its 20–60° incidence band
    # (elevation 30–70°), as Skyfield finds on a dense sample
    sky = _sky(sar)
    centre = SkyPoints(np.array([lon0]), np.array([lat0]))

    def band(p: SkyPoints, tt: np.ndarray) -> np.ndarray:
        el = _elevation(p, sky, T0, tt)
        return (el >= 30.0) & (el <= 70.0)

    ref = _reference(sky, ring, centre, days * 86400.0, band,
                     lambda c, t: _elevation(c, sky, T0, t)[0] > 25.0)
    mine = by_sat[SAR]
    assert len(mine) == len(ref), (mine, ref)
    for w, (a, b) in zip(mine, ref, strict=True):
        s, e = (w.start - T0).total_seconds(), (w.end - T0).total_seconds()
        assert abs(s - a) <= 1.0 and abs(e - b) <= 1.0, (s, a, e, b)
        assert w.extra["sensor_kind"] == "sar" and w.extra["look_side"] in ("left", "right")


def test_area_imaging_refuses_stale_and_non_imagers() -> None:
    iono, l8 = _elsets(61735, L8)
    late = l8.epoch + timedelta(days=20)
    # The imager left is stale wholly: nothing usable is an error (tests/test_freshness.py).
    with pytest.raises(StaleElementsError, match="LANDSAT 8"):
        plan_elements([iono, l8], [], late, late + timedelta(days=1), Constraints(),
                      imaging=True)
    plan = plan_elements([iono, l8], [], late, late + timedelta(days=1), Constraints(),
                         imaging=True, max_age_days=30.0)
    assert [e.norad_id for e in plan.elsets] == [L8]
    assert {k.norad_id for k in plan.skipped} == {61735}


def test_api_and_cli_apply_imaging_to_areas(capsys: pytest.CaptureFixture[str]) -> None:
    import overflight.api as api

    res = api.passes([L8], resolve_area("Vostochny launch complex"), start=T0, days=10,
                     imaging=True)
    assert len(res) and all(w.min_off_nadir_deg <= 7.5 + TOL_DEG for w in res)
    geo = api.passes([L8], resolve_area("Vostochny launch complex"), start=T0, days=10,
                     max_off_nadir_deg=30.0)
    assert len(geo) > len(res)
    code, out, err = run(["passes", "--sat", str(L8), "--area", "Vostochny launch complex",
                          "--start", T0.isoformat(), "--days", "10", "--imaging",
                          "-f", "json"], capsys)
    assert code == 0, err
    assert "not applied" not in err
    rows = json.loads(out)
    assert [r["start"] for r in rows] == [w.to_dict()["start"] for w in res]
    assert all(r["sensor_kind"] == "optical" and "area_fraction" in r for r in rows)
