"""``max_gsd_m``: windows cut to where the achieved resolution is that fine (passes, coverage),
checked against Skyfield's geometry; window tables' dates and clip marks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from overflight.access import Constraints, Window
from overflight.catalog.formats import read_path
from overflight.coverage import coverage
from overflight.geometry import Site
from overflight.gsd import gsd
from overflight.passes import clip_note, plan_elements, window_display_row
from overflight.sensors import shipped_table

T0 = datetime(2026, 5, 30, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
SITE = Site("Rajin port", 42.24, 130.3)
MAX_GSD_M = 1.0
GSD_TOL_M = 0.005  # resolution_m is rounded to the millimetre; a clamped peak sits on the limit
EDGE_TOL_S = 0.05  # the GSD must cross the limit within this of a cut edge (Skyfield geometry)


@pytest.fixture(scope="module")
def fleet() -> list:
    from importlib import resources

    path = resources.files("overflight") / "data" / "snapshot" / "resource.tle"
    return list(read_path(Path(str(path))).records)


@pytest.fixture(scope="module")
def plans(fleet: list) -> tuple:
    cut = plan_elements(fleet, [SITE], T0, T1, Constraints(), imaging=True, max_gsd_m=MAX_GSD_M)
    whole = plan_elements(fleet, [SITE], T0, T1, Constraints(), imaging=True,
                          max_gsd_m=1e6)
    return cut, whole


def test_every_window_is_that_fine(plans: tuple) -> None:
    cut, whole = plans
    windows = cut.windows()
    assert len(windows) > 20
    res = [w.extra["resolution_m"] for w in windows]
    assert all(r is not None and r <= MAX_GSD_M + GSD_TOL_M for r in res)
    # The nominal (nadir) filter alone kept coarser windows: the cut is what removed them.
    assert any(w.extra["resolution_m"] > MAX_GSD_M
               for w in whole.windows() if w.norad_id in {c.norad_id for c in cut.elsets})


def _skyfield_gsd(es, sensor, t: datetime) -> float:
    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    sat = EarthSatellite.from_satrec(es.to_satrec(), ts)
    topo = wgs84.latlon(SITE.lat_deg, SITE.lon_deg, elevation_m=SITE.alt_m)
    alt, _az, dist = (sat - topo).at(ts.from_datetime(t)).altaz()
    if sensor.is_radar:
        r = sensor.resolution_m(float(dist.km), 90.0 - float(alt.degrees))
        return float("nan") if r is None else r
    return float(gsd(sensor.nadir_gsd_m, sensor.ref_alt_km, dist.km,
                     90.0 - alt.degrees).mean_m)


def test_cut_edges_are_where_the_gsd_crosses_the_limit(plans: tuple) -> None:
    """Edges that the cut moved (not the uncut window's) bracket GSD = limit, by Skyfield."""
    cut, whole = plans
    sensors = shipped_table()
    uncut = whole.windows()
    by_id = {e.norad_id: e for e in cut.elsets}
    checked = 0
    for w in cut.windows():
        parent = [u for u in uncut if u.norad_id == w.norad_id and u.start <= w.start
                  and w.end <= u.end]
        assert len(parent) == 1
        u = parent[0]
        s = sensors[w.norad_id]
        for edge, outward, moved in ((w.start, -1, w.start > u.start + timedelta(seconds=0.01)),
                                     (w.end, 1, w.end < u.end - timedelta(seconds=0.01))):
            if not moved:
                continue
            inside = _skyfield_gsd(by_id[w.norad_id], s, edge - outward * timedelta(
                seconds=EDGE_TOL_S))
            outside = _skyfield_gsd(by_id[w.norad_id], s, edge + outward * timedelta(
                seconds=EDGE_TOL_S))
            assert inside <= MAX_GSD_M < outside, (w.name, edge, inside, outside)
            checked += 1
    assert checked > 20


def test_coverage_and_passes_agree(fleet: list, plans: tuple) -> None:
    cut, _ = plans
    table = cut.table()
    iv = sorted(zip(table.start.astype(np.int64).tolist(), table.end.astype(np.int64).tolist(),
                    strict=True))
    covered_ns, cur = 0, None
    for a, b in iv:
        if cur is None or a > cur[1]:
            covered_ns += 0 if cur is None else cur[1] - cur[0]
            cur = [a, b]
        else:
            cur[1] = max(cur[1], b)
    covered_ns += 0 if cur is None else cur[1] - cur[0]
    cov = coverage(fleet, [SITE], T0, T1, Constraints(), imaging=True, max_gsd_m=MAX_GSD_M,
                   method="points")
    assert int(cov.windows[0]) == len(table)
    assert float(cov.covered_s[0]) == pytest.approx(covered_ns / 1e9, abs=0.01)
    assert float(cov.best_gsd_m[0]) <= MAX_GSD_M


def _window(start: datetime, peak: datetime, end: datetime, **kw: object) -> Window:
    return Window(norad_id=41194, name="GAOFEN-4", site="Rajin port", site_lat_deg=42.24,
                  site_lon_deg=130.3, start=start, peak=peak, end=end, max_elevation_deg=35.5,
                  min_off_nadir_deg=7.1, min_range_km=38125.0, sun_elevation_deg=20.0,
                  satellite_sunlit=True, direction="ascending", **kw)  # type: ignore[arg-type]


def test_table_dates_a_window_crossing_midnight() -> None:
    w = _window(datetime(2026, 5, 30, 20, 49, 2, tzinfo=UTC),
                datetime(2026, 5, 31, 9, 41, 24, tzinfo=UTC),
                datetime(2026, 5, 31, 9, 41, 30, tzinfo=UTC))
    row = window_display_row(w)
    assert (row["start"], row["peak"], row["end"]) == (
        "05-30 20:49:02", "05-31 09:41:24", "05-31 09:41:30")
    same = _window(w.start, w.start + timedelta(minutes=1), w.start + timedelta(minutes=2))
    row = window_display_row(same)
    assert (row["peak"], row["end"]) == ("20:50:02", "20:51:02")
    assert clip_note([w, same]) is None


def test_table_marks_clipped_times() -> None:
    w = _window(datetime(2026, 5, 30, 0, 0, tzinfo=UTC),
                datetime(2026, 5, 30, 9, 41, 42, tzinfo=UTC),
                datetime(2026, 5, 31, 0, 0, tzinfo=UTC),
                start_clipped="interval", end_clipped="sun")
    row = window_display_row(w)
    assert (row["start"], row["peak"], row["end"]) == (
        "05-30 00:00:00…", "09:41:42", "05-31 00:00:00…")
    note = clip_note([w])
    assert note is not None and note.startswith("… clipped")
    assert "interval" in note and "Sun" in note


def test_cli_table_shows_dates_and_clip_note(capsys: pytest.CaptureFixture[str]) -> None:
    from _cli import run

    code, out, _ = run(["passes", "--sat", "GAOFEN-4", "--site", "Rajin port", "--imaging",
                        "--start", "2026-05-30T00:00Z", "--days", "1"], capsys)
    assert code == 0
    assert "05-31 00:00:00…" in out and "… clipped" in out


# ---- the invariant: every window kept is that fine, densely and independently -------------

DENSE_S = 1.0  # the independent check samples every window at most this far apart
REL_TOL = 2e-3  # Skyfield's and the engine's geometry differ by metres: 0.2 % of resolution
INVARIANT_SITES = [Site("Andersen AFB", 13.5811, 144.9244), Site("Vostochny", 51.8844, 128.3339),
                   Site("Rajin port", 42.24, 130.3), Site("Pretoria", -25.75, 28.19)]
SAR_IDS = [48079, 31598, 31698, 32382, 36605, 39227, 39634, 39766]
OPTICAL_IDS = [40536, 25994, 33331, 35946, 38338, 40053, 40118, 32783]


def _dense_resolution(es, sensor, site: Site, start: datetime, end: datetime) -> np.ndarray:
    """Resolution (m) of ``sensor`` on ``es`` at ``site`` every DENSE_S from start to end (both
    included): Skyfield's topocentric geometry and the sensor's own model."""
    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    sat = EarthSatellite.from_satrec(es.to_satrec(), ts)
    topo = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    span = (end - start).total_seconds()
    offs = np.unique(np.concatenate((np.arange(0.0, span, DENSE_S), [span])))
    t0 = ts.from_datetime(start)
    t = ts.tt_jd(t0.tt + offs / 86400.0)
    alt, _az, dist = (sat - topo).at(t).altaz()
    return np.asarray(sensor.resolution_m_array(dist.km, 90.0 - alt.degrees))


@pytest.mark.parametrize("imaging", [False, True])
@pytest.mark.parametrize(("ids", "limit_m"), [(SAR_IDS, 3.0), (SAR_IDS, 8.0),
                                              (OPTICAL_IDS, 1.0), (OPTICAL_IDS, 20.0)])
def test_every_piece_is_within_the_limit_at_dense_sampling(fleet: list, imaging: bool,
                                                           ids: list[int],
                                                           limit_m: float) -> None:
    sensors = shipped_table()
    chosen = [e for e in fleet if e.norad_id in ids]
    c = Constraints() if imaging else Constraints(min_elevation_deg=10.0)
    plan = plan_elements(chosen, INVARIANT_SITES, T0, T1, c, imaging=imaging,
                         max_gsd_m=limit_m)
    by_id = {e.norad_id: e for e in chosen}
    windows = plan.windows()
    assert windows
    for w in windows:
        site = next(s for s in INVARIANT_SITES if s.name == w.site)
        r = _dense_resolution(by_id[w.norad_id], sensors[w.norad_id], site, w.start, w.end)
        assert np.nanmax(r) <= limit_m * (1 + REL_TOL), (w.name, w.site, w.start, np.nanmax(r))


def test_a_radar_pass_overhead_loses_its_coarse_middle(fleet: list) -> None:
    """Gaofen-12 (48079) nearly overhead Andersen AFB: every 10-s sample is within 3 m, the
    middle (incidence a few degrees) is not; the window becomes two."""
    es = [e for e in fleet if e.norad_id == 48079]
    site = INVARIANT_SITES[0]
    c = Constraints(min_elevation_deg=10.0)
    whole = plan_elements(es, [site], T0, T1, c, max_gsd_m=1e4).windows()
    over = [w for w in whole if w.max_elevation_deg > 85.0]
    assert over and over[0].extra["resolution_m"] > 3.0
    cut = plan_elements(es, [site], T0, T1, c, max_gsd_m=3.0).windows()
    inside = [w for w in cut if over[0].start <= w.start and w.end <= over[0].end]
    assert len(inside) == 2
    assert all(w.extra["resolution_m"] <= 3.0 + GSD_TOL_M for w in inside)


# ---- the prefilter: the best resolution the orbit allows -------------------------------------

def test_prefilter_keeps_a_satellite_flying_below_its_reference_altitude(fleet: list) -> None:
    """KOMPSAT-3A: 0.55 m nominal at 528 km, flying lower, reaches 0.45 m at Vostochny."""
    es = [e for e in fleet if e.norad_id == 40536]
    plan = plan_elements(es, [INVARIANT_SITES[1]], T0, T1, Constraints(), imaging=True,
                         max_gsd_m=0.5)
    assert not plan.skipped
    windows = plan.windows()
    assert windows and all(w.extra["resolution_m"] <= 0.5 + GSD_TOL_M for w in windows)


def test_prefilter_skips_a_satellite_that_cannot_reach_the_limit(fleet: list) -> None:
    es = [e for e in fleet if e.norad_id == 40536]
    plan = plan_elements(es, [INVARIANT_SITES[1]], T0, T1, Constraints(), imaging=True,
                         max_gsd_m=0.3)
    assert not plan.elsets
    (sk,) = plan.skipped
    assert "coarser than 0.3 m" in sk.reason and "from" in sk.reason


def test_prefilter_never_leaves_out_what_the_cut_would_keep(fleet: list) -> None:
    """Over the resource fleet and the four sites, no window's resolution at closest approach
    is finer than the prefilter's best from the orbit (so the prefilter only saves work)."""
    from overflight.selection import PREFILTER_ALT_MARGIN_KM

    sensors = shipped_table()
    plan = plan_elements(fleet, INVARIANT_SITES, T0, T1, Constraints(), imaging=True,
                         max_gsd_m=1e4)
    by_id = {e.norad_id: e for e in plan.elsets}
    checked = 0
    for w in plan.windows():
        s, r = sensors.get(w.norad_id), w.extra.get("resolution_m")
        if s is None or r is None:
            continue
        best = s.best_resolution_m(by_id[w.norad_id].perigee_alt_km - PREFILTER_ALT_MARGIN_KM)
        assert r >= best - GSD_TOL_M, (w.name, r, best)
        checked += 1
    assert checked > 100


def test_passes_and_coverage_agree_without_imaging(fleet: list) -> None:
    """Same prefilter (a 1000-m weather imager and the unknown are left out alike) and the same
    cut windows, without imaging rules."""
    ids = {48079, 33331, 40536, 41194, 25544}  # radar, optical, GEO imager, unknown
    chosen = [e for e in fleet if e.norad_id in ids]
    c = Constraints(min_elevation_deg=10.0)
    plan = plan_elements(chosen, [SITE], T0, T1, c, max_gsd_m=3.0)
    table = plan.table()
    cov = coverage(chosen, [SITE], T0, T1, c, max_gsd_m=3.0, sensors=shipped_table(),
                   method="points")
    assert {k.norad_id for k in cov.skipped} == {k.norad_id for k in plan.skipped}
    assert int(cov.windows[0]) == len(table)
