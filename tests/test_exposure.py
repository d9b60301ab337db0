"""Exposure (union of windows) and unobserved intervals (its complement): against windows found
independently with Skyfield (dense sampling, bisection at the edges), invariants, per-key
breakdowns, ICS validated with icalendar, the timeline figure, the CLI and the service."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests._access_reference import RefConstraints, RefSite, reference_windows, satellite
from tests._claims_reference import ts_eph
from tests._cli import run

import overflight as ovf
from overflight.access import Constraints
from overflight.catalog import Catalog
from overflight.catalog.tle import tle_lines
from overflight.exposure import (
    BY,
    ExposureError,
    complement_intervals,
    exposure_of_plan,
    union_intervals,
)
from overflight.passes import plan_elements
from overflight.sensors import load_table
from overflight.sites import resolve_site

T0 = datetime(2026, 5, 31, tzinfo=UTC)  # the bundled snapshot's epochs are 2026-05-29/30
EDGE_TOL_S = 1.0
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _elsets(*ids: int) -> list[Any]:
    with Catalog.bundled() as cat:
        found = {e.norad_id: e for e in cat.latest(norad_ids=list(ids))}
    return [found[i] for i in ids]


def _ref_site(site: Any) -> RefSite:
    return RefSite(site.name, site.lat_deg, site.lon_deg, site.alt_m)


# ---- independent reference: union and complement written plainly ------------------------------
def _ref_union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _ref_gaps(union: list[tuple[float, float]], t1: float) -> list[tuple[float, float]]:
    gaps, cur = [], 0.0
    for a, b in union:
        if a > cur:
            gaps.append((cur, a))
        cur = max(cur, b)
    if t1 > cur:
        gaps.append((cur, t1))
    return gaps


def _secs(t: datetime) -> float:
    return (t - T0).total_seconds()


def _assert_same(got: list[tuple[float, float]], want: list[tuple[float, float]]) -> None:
    # A reference gap shorter than the tolerance may merge in one model and not the other.
    want = [g for g in want if g[1] - g[0] > EDGE_TOL_S]
    got = [g for g in got if g[1] - g[0] > EDGE_TOL_S]
    assert len(got) == len(want), (got, want)
    for (ga, gb), (wa, wb) in zip(got, want, strict=True):
        assert abs(ga - wa) <= EDGE_TOL_S, (ga, wa)
        assert abs(gb - wb) <= EDGE_TOL_S, (gb, wb)


def _check_invariants(r: Any) -> None:
    span = r.span_s
    iv = list(r)
    gaps = sorted(r.unobserved(), key=lambda u: u.start)
    assert all(a.end < b.start for a, b in itertools.pairwise(iv)), "sorted, disjoint"
    assert all(a.end <= b.start for a, b in itertools.pairwise(gaps))
    exposed = sum(x.duration_s for x in iv)
    unobserved = sum(u.duration_s for u in gaps)
    assert exposed + unobserved == pytest.approx(span, abs=1e-3)
    # exposure and gaps alternate and tile the span
    pieces = sorted([(x.start, x.end) for x in iv] + [(u.start, u.end) for u in gaps])
    assert pieces[0][0] == r.start and pieces[-1][1] == r.end
    assert all(abs((a[1] - b[0]).total_seconds()) < 1e-5
               for a, b in itertools.pairwise(pieces))
    durations = [u.duration_s for u in r.unobserved()]
    assert durations == sorted(durations, reverse=True), "longest first"
    s = r.summary()
    assert s["exposed_s"] == pytest.approx(exposed, abs=1e-3)
    assert s["longest_unobserved_s"] == pytest.approx(max(durations, default=0.0), abs=1e-3)


# ---- union / complement ------------------------------------------------------------------------
def test_union_and_complement_match_a_brute_force_grid() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(0, 40))
        s = rng.integers(0, 1000, n)
        e = s + rng.integers(0, 60, n)
        order, group, us, ue = union_intervals(s, e)
        gs, ge = complement_intervals(us, ue, 0, 1000)
        covered = np.zeros(2200, dtype=bool)  # half-unit grid: touching intervals merge
        for a, b in zip(s, e, strict=True):
            covered[2 * a: 2 * b + 1] = True
        got = np.zeros(2200, dtype=bool)
        for a, b in zip(us, ue, strict=True):
            got[2 * a: 2 * b + 1] = True
        assert (got == covered).all()
        assert (np.diff(us) > 0).all() and (us[1:] > ue[:-1]).all()
        assert sorted(order.tolist()) == list(range(n))
        assert (s[order] >= us[group]).all() and (e[order] <= ue[group]).all()
        exposed = int((np.clip(ue, 0, 1000) - np.clip(us, 0, 1000)).sum())
        assert exposed + int((ge - gs).sum()) == 1000
        assert (gs[1:] > gs[:-1]).all() and not covered[gs + ge].any()  # gap midpoints


def test_complement_of_nothing_is_the_span() -> None:
    none = np.empty(0, dtype=np.int64)
    gs, ge = complement_intervals(none, none, 5, 10)
    assert gs.tolist() == [5] and ge.tolist() == [10]


# ---- against Skyfield ---------------------------------------------------------------------------
def test_geometry_unobserved_is_complement_of_skyfield_windows() -> None:
    site = resolve_site("Sohae")
    elsets = _elsets(39084, 40697, 31598)  # LANDSAT 8, SENTINEL-2A, COSMO-SKYMED 1
    days = 1.0
    c = Constraints(min_elevation_deg=10.0, max_off_nadir_deg=50.0)
    plan = plan_elements(elsets, [site], T0, T0 + timedelta(days=days), c)
    r = exposure_of_plan(plan)
    _check_invariants(r)
    ref: list[tuple[float, float]] = []
    for es in elsets:
        sat = satellite(es.name, *tle_lines(es))
        for w in reference_windows(sat, _ref_site(site), T0, days * 86400.0,
                                   RefConstraints(10.0, 50.0)):
            ref.append((w.start, w.end))
    assert len(ref) >= 4, "expected several windows over Sohae in a day"
    union = _ref_union(ref)
    _assert_same([(_secs(x.start), _secs(x.end)) for x in r], union)
    got = sorted((_secs(u.start), _secs(u.end)) for u in r.unobserved())
    _assert_same(got, _ref_gaps(union, days * 86400.0))


def _sun_intervals(site: Any, min_deg: float, duration_s: float) -> list[tuple[float, float]]:
    """Skyfield: where the Sun is at least ``min_deg`` above the site (60 s grid, bisection)."""
    from skyfield.api import wgs84

    ts, eph = ts_eph()
    topos = eph["earth"] + wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)

    def el(t_s: np.ndarray) -> np.ndarray:
        t = ts.from_datetimes([T0 + timedelta(seconds=float(x)) for x in t_s])
        alt, _, _ = topos.at(t).observe(eph["sun"]).apparent().altaz()
        return np.atleast_1d(alt.degrees) - min_deg

    grid = np.append(np.arange(0.0, duration_s, 60.0), duration_s)
    g = el(grid)
    edges = []
    for k in np.flatnonzero((g[1:] >= 0) != (g[:-1] >= 0)).tolist():
        lo, hi = grid[k], grid[k + 1]
        up = g[k + 1] >= 0
        while hi - lo > 1e-3:
            mid = 0.5 * (lo + hi)
            if (el(np.array([mid]))[0] >= 0) == up:
                hi = mid
            else:
                lo = mid
        edges.append(0.5 * (lo + hi))
    bounds = ([0.0] if g[0] >= 0 else []) + edges + ([duration_s] if g[-1] >= 0 else [])
    return list(zip(bounds[::2], bounds[1::2], strict=True))


def _intersect(a: list[tuple[float, float]], b: list[tuple[float, float]]
               ) -> list[tuple[float, float]]:
    out = []
    for x0, x1 in a:
        for y0, y1 in b:
            lo, hi = max(x0, y0), min(x1, y1)
            if hi > lo:
                out.append((lo, hi))
    return out


def test_imaging_unobserved_is_complement_of_skyfield_windows() -> None:
    """Optical imagers: within each sensor's reach (off-nadir) with the Sun at least its
    rule above the site; the reach and rule are the sensor table's figures."""
    site = resolve_site("Vostochny")
    ids = (39084, 40697, 32060, 33331)  # LANDSAT 8, SENTINEL-2A, WORLDVIEW-1, GEOEYE 1
    elsets = _elsets(*ids)
    days = 2.0
    table = load_table()
    plan = plan_elements(elsets, [site], T0, T0 + timedelta(days=days), Constraints(),
                         imaging=True)
    r = exposure_of_plan(plan)
    _check_invariants(r)
    assert r.imaging and not [k for k in r.skipped if k.norad_id in ids]
    ref: list[tuple[float, float]] = []
    for es in elsets:
        s = table[es.norad_id]
        assert s.kind == "optical" and s.max_off_nadir_deg is not None
        sat = satellite(es.name, *tle_lines(es))
        geo = [(w.start, w.end) for w in reference_windows(
            sat, _ref_site(site), T0, days * 86400.0,
            RefConstraints(0.0, s.max_off_nadir_deg))]
        sun = _sun_intervals(site, s.sun_rule_deg or 0.0, days * 86400.0)
        ref += _intersect(geo, sun)
    assert len(ref) >= 4, "expected daylight imaging windows over Vostochny in two days"
    union = _ref_union(ref)
    _assert_same([(_secs(x.start), _secs(x.end)) for x in r], union)
    got = sorted((_secs(u.start), _secs(u.end)) for u in r.unobserved())
    _assert_same(got, _ref_gaps(union, days * 86400.0))
    assert all(x.best_gsd_m is not None and x.best_gsd_m > 0 for x in r)


# ---- breakdowns ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rajin() -> Any:
    with Catalog.bundled() as cat:
        sats = cat.select(group="resource")
    return ovf.exposure(sats, "Rajin port", start=T0, days=1)


def test_breakdowns_sum_and_tile_the_span(rajin: Any) -> None:
    r = rajin
    _check_invariants(r)
    total_windows = r.summary()["windows"]
    for by in BY:
        stats = list(r.breakdown(by))
        assert stats, by
        for k in stats:
            gaps = r.unobserved(by, k.key)
            assert k.exposed_s + sum(u.duration_s for u in gaps) == pytest.approx(r.span_s,
                                                                                   abs=1e-3)
            spans = r.spans(by, k.key)
            assert sum((b - a).total_seconds() for a, b in spans) == pytest.approx(k.exposed_s)
            # a key's exposure lies inside the whole target's
            for a, b in spans:
                assert any(x.start <= a and b <= x.end for x in r), (by, k.key, a)
            assert 0 <= k.exposed_fraction <= r.summary()["exposed_fraction"] + 1e-12
        # the union of the keys' exposure is the whole exposure
        merged = _ref_union([(_secs(a), _secs(b)) for k in stats for a, b in r.spans(by, k.key)])
        assert len(merged) == len(r)
        if by in ("kind", "operator"):  # one key per satellite: counts add up
            assert sum(k.windows for k in stats) == total_windows
            assert sum(k.satellites for k in stats) == r.summary()["satellites"]
    countries = r.summary()["satellites_by_country"]
    assert sum(countries.values()) >= r.summary()["satellites"]
    assert {k.key for k in r.breakdown("country")} >= set(countries)
    with pytest.raises(ExposureError, match="by: 'weather'"):
        r.unobserved("weather")


def test_no_satellite_of_a_key_means_unobserved_throughout(rajin: Any) -> None:
    (u,) = rajin.unobserved("country", "ATLANTIS")
    assert u.start == rajin.start and u.end == rajin.end


def test_target_of_several_sites_counts_any(rajin: Any) -> None:
    sats = _elsets(39084, 40697, 31598)
    one = ovf.exposure(sats, "Sohae", start=T0, days=1, imaging=False, max_off_nadir_deg=40)
    two = ovf.exposure(sats, "Rajin port", start=T0, days=1, imaging=False,
                       max_off_nadir_deg=40)
    both = ovf.exposure(sats, ["Sohae", "Rajin port"], start=T0, days=1, imaging=False,
                        max_off_nadir_deg=40)
    want = _ref_union([(_secs(x.start), _secs(x.end)) for x in [*one, *two]])
    got = [t for x in both for t in (_secs(x.start), _secs(x.end))]
    assert got == pytest.approx([t for w in want for t in w], abs=1e-5)

    class Area:  # what an area target provides: a name and its sample sites
        name = "north-east coast"

        def sites(self) -> list[str]:
            return ["Sohae", "Rajin port"]

    area = ovf.exposure(sats, Area(), start=T0, days=1, imaging=False, max_off_nadir_deg=40)
    assert area.target == "north-east coast" and len(area) == len(both)


# ---- exports ------------------------------------------------------------------------------------
def test_ics_is_valid_rfc5545(rajin: Any) -> None:
    import copy

    from icalendar import Calendar

    r = copy.copy(rajin)
    r.target = 'Rajin port; "north", pier\\2'  # characters that must be escaped
    text = r.to_ics()
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    cal = Calendar.from_ical(text)
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(r)
    for ev, x in zip(events, r, strict=True):
        assert ev.decoded("DTSTART") == x.start.replace(microsecond=0)
        assert ev.decoded("DTEND") == x.end.replace(microsecond=0)
        assert str(ev["SUMMARY"]).startswith('Rajin port; "north", pier\\2: exposed to')
        desc = str(ev["DESCRIPTION"])
        for o in x.satellites:
            assert f"{o.name} ({o.norad_id})" in desc
    assert len({str(ev["UID"]) for ev in events}) == len(events)


def test_dict_json_and_pandas(rajin: Any) -> None:
    d = json.loads(json.dumps(rajin.to_dict(), allow_nan=False))
    assert d["kind"] == "exposure" and d["count"] == len(rajin)
    assert set(d["breakdown"]) == {"country", "kind"}
    df = rajin.to_pandas()
    assert len(df) == len(rajin) and str(df["start"].dtype) == "datetime64[ns, UTC]"
    assert len(rajin.unobserved("kind").to_pandas()) == len(rajin.unobserved("kind"))
    assert "<table>" in rajin._repr_html_()


def test_figure_fits_a_page_and_shows_rows_and_gaps(rajin: Any) -> None:
    fig = ovf.plot.exposure(rajin)
    dpi = 110
    w, h = fig.get_size_inches() * dpi
    assert w <= 1600 and h <= 1200
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    keys = [k.key for k in rajin.breakdown("country_kind")]
    assert labels[0] == "all satellites" and labels[1:] == keys[: len(labels) - 1]
    # per row: shaded gaps, the longest gap, the exposure bars
    from matplotlib.collections import PolyCollection

    bars = [c for c in ax.collections if isinstance(c, PolyCollection)]
    n_gap_boxes = sum(len(c.get_paths()) for c in bars)
    assert n_gap_boxes >= len(rajin.unobserved()) + len(rajin)
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "exposure-rajin.png"
    fig.savefig(out, dpi=dpi)
    from PIL import Image

    with Image.open(out) as im:
        assert im.size[0] <= 1600 and im.size[1] <= 1200


def test_html_report_is_self_contained(rajin: Any) -> None:
    text = rajin.to_html()
    assert text.startswith("<!doctype html>") and "<svg" in text
    import re

    # nothing loaded from elsewhere (XML namespace names are not fetched)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert not re.search(r"url\((?!#)", text)  # only local references (clip paths)
    assert "<script" not in text and "<link" not in text
    assert "Longest unobserved intervals" in text


# ---- CLI and service ----------------------------------------------------------------------------
def test_cli_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from icalendar import Calendar

    base = ["exposure", "Rajin port", "--start", "2026-05-31T00:00Z", "--days", "0.5",
            "--sat", "39084", "--sat", "40697", "--sat", "31598", "--no-imaging",
            "--max-off-nadir", "45"]
    code, out, err = run(base, capsys)
    assert code == 0, err
    assert "Exposure of Rajin port" in out and "Longest unobserved" in out
    code, out, _ = run([*base, "-f", "json", "--by", "kind"], capsys)
    d = json.loads(out)
    assert code == 0 and set(d["breakdown"]) == {"kind"}
    code, out, _ = run([*base, "-f", "csv"], capsys)
    lines = out.splitlines()
    assert lines[0].startswith("status,by,key,start,end,duration_s")
    assert sum(1 for x in lines if x.startswith("exposed,")) == d["count"]
    code, out, _ = run([*base, "-f", "ics"], capsys)
    assert len(list(Calendar.from_ical(out).walk("VEVENT"))) == d["count"]
    for fmt in ("png", "svg", "html"):
        path = tmp_path / f"x.{fmt}"
        code, out, err = run([*base, "-f", fmt, "-o", str(path)], capsys)
        assert code == 0 and path.stat().st_size > 1000, err
    code, _, err = run(["exposure", "Nowhere at all", "--days", "1"], capsys)
    assert code == 2 and "Nowhere" in err


def test_service_endpoint_mirrors_the_library() -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from tests.test_server_models import same_fields

    from overflight.server import create_app
    from overflight.server import models as m

    with TestClient(create_app(token="t")) as client:
        res = client.get("/api/exposure", params={
            "site": "Rajin port", "start": "2026-05-31T00:00Z", "days": 1,
            "sat": ["39084", "40697", "31598"], "by": ["country", "kind"]})
        assert res.status_code == 200, res.text
        d = res.json()
        page = client.get("/exposure")
        assert page.status_code == 200 and "exposure.js" in page.text
        bad = client.get("/api/exposure", params={"site": "Rajin port", "by": "weather"})
        assert bad.status_code == 422 and "error" in bad.json()
    sats = _elsets(39084, 40697, 31598)
    lib = ovf.exposure(sats, "Rajin port", start=T0, days=1).to_dict(by=["country", "kind"])
    same_fields(m.ExposureResponse, lib)
    same_fields(m.ExposureSummaryOut, lib["summary"])
    if lib["intervals"]:
        same_fields(m.ExposureIntervalOut, lib["intervals"][0])
        same_fields(m.ObserverOut, lib["intervals"][0]["satellites"][0])
    same_fields(m.UnobservedOut, lib["unobserved"][0])
    same_fields(m.KeyStatsOut, lib["breakdown"]["country"][0])
    assert d["intervals"] == lib["intervals"] and d["summary"] == lib["summary"]


def test_area_target_exposure_covers_its_points() -> None:
    """An area is watched whenever any part of it is: at least as often as a point inside it,
    in library and CLI alike."""
    import overflight as ovf
    from overflight.areas import resolve_area

    area = resolve_area("Najin port")
    sats = ["40115", "38012", "39084", "42063"]
    kw = {"start": "2026-05-31T00:00Z", "days": 1.0, "imaging": False,
          "max_off_nadir_deg": 30.0}
    whole = ovf.exposure(sats, area, **kw)
    lat, lon = area.centroid
    point = ovf.exposure(sats, (lat, lon), **kw)
    assert whole.target == area.name
    assert whole.summary()["exposed_s"] >= point.summary()["exposed_s"] > 0
    for p in point:  # every exposure of the point lies inside one of the area's
        assert any(a.start <= p.start and p.end <= a.end for a in whole)


def test_area_windows_are_passes_over_the_area(capsys: pytest.CaptureFixture[str]) -> None:
    """An area's windows are a satellite's passes over it (the union of its sample points'
    windows), the same number per satellite as `passes --area` gives, not one per point."""
    from collections import Counter

    from overflight.areas import resolve_area, sample_area

    area = resolve_area("Yongbyon")
    sats = ["40115", "38012", "39084", "42063"]
    kw: dict[str, Any] = {"start": "2026-05-31T00:00Z", "days": 2.0}
    passes = ovf.passes(sats, area, imaging=True, **kw)
    per_sat = Counter(w.norad_id for w in passes)
    assert len(per_sat) >= 2, per_sat
    for sat in sats:
        alone = ovf.exposure([sat], area, **kw)  # imaging rules, as passes --imaging
        assert alone.summary()["windows"] == per_sat.get(int(sat), 0), sat
    whole = ovf.exposure(sats, area, **kw)
    assert whole.summary()["windows"] == len(passes) == sum(x.windows for x in whole)
    assert len(passes) < len(sample_area(area))  # far fewer than windows × points

    # the CLI alike: exposure --area counts what passes --area lists
    opts = [a for s in sats for a in ("--sat", s)] + ["--start", kw["start"], "--days", "2"]
    code, out, err = run(["passes", "--area", "Yongbyon", "--imaging", *opts, "-f", "json"],
                         capsys)
    assert code == 0, err
    listed = json.loads(out)
    code, out, err = run(["exposure", "--area", "Yongbyon", *opts, "-f", "json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["summary"]["windows"] == len(listed) == len(passes)
    assert sum(x["windows"] for x in d["intervals"]) == len(listed)
