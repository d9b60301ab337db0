"""Orbit history: derived elements checked against sgp4's own TLE reader and Skyfield."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec
from sgp4.propagation import gstime

from overflight.catalog.formats import parse_bytes
from overflight.elements import ElementSet
from overflight.history import (
    OrbitTable,
    gmst82_rad,
    group_histories,
    ltan_hours,
    orbit_history,
)

RE = 6378.135


def _tle_blocks(path: Path) -> list[tuple[str, str, str]]:
    lines = path.read_text().splitlines()
    return [(lines[k], lines[k + 1], lines[k + 2]) for k in range(0, len(lines) - 2, 3)
            if lines[k + 1].startswith("1 ") and lines[k + 2].startswith("2 ")]


def test_derived_elements_match_sgp4_reader(shared_data: Path) -> None:
    """a, perigee, apogee from sgp4's own TLE reader (twoline2rv), independent of our parser."""
    path = shared_data / "celestrak-history-2026-05-24-to-30" / "resource.tle"
    blocks = _tle_blocks(path)[:300]
    text = "\n".join("\n".join(b) for b in blocks).encode()
    records = parse_bytes(text, "resource.tle").records
    assert len(records) == len(blocks)
    states = [orbit_history([es])[0] for es in records]
    for (_name, l1, l2), s in zip(blocks, states, strict=True):
        sat = Satrec.twoline2rv(l1, l2, WGS72)
        assert s.norad_id == sat.satnum
        assert s.semi_major_axis_km == pytest.approx(sat.a * RE, abs=1e-6)
        assert s.perigee_alt_km == pytest.approx(sat.altp * RE, abs=1e-6)
        assert s.apogee_alt_km == pytest.approx(sat.alta * RE, abs=1e-6)
        assert s.eccentricity == pytest.approx(sat.ecco, abs=1e-12)
        assert s.node_rate_deg_day == pytest.approx(math.degrees(sat.nodedot) * 1440, rel=1e-9)
        # dn/dt is twice the TLE's first-derivative field (sgp4 keeps ndot in rad/min^2).
        assert s.mean_motion_dot_rev_day2 == pytest.approx(
            2 * sat.ndot * 1440**2 / (2 * math.pi), rel=1e-6, abs=1e-12)
    # The table path (all objects at once) gives the same numbers as one set at a time.
    table = {(s.norad_id, s.epoch): s for s in orbit_history(records)}
    for s in states:
        t = table.get((s.norad_id, s.epoch))
        assert t is None or t == s or t.eccentricity != s.eccentricity  # re-publication


def test_gmst_matches_sgp4() -> None:
    jd = np.linspace(2451545.0, 2461545.0, 97) + 0.123
    expected = np.array([gstime(x) for x in jd])
    assert np.allclose(gmst82_rad(jd), expected, atol=1e-12)


def _ascending_node_lmst_h(l1: str, l2: str, near: datetime) -> tuple[datetime, float]:
    """Skyfield: first ascending equator crossing after ``near`` and its local mean solar time
    (UT + longitude / 15), found by bisection on the geocentric z coordinate."""
    from skyfield.api import EarthSatellite, wgs84

    from overflight.times import timescale

    ts = timescale()
    sat = EarthSatellite(l1, l2, "x", ts)

    def z(t: datetime) -> float:
        return float(sat.at(ts.from_datetime(t)).position.km[2])

    step = timedelta(minutes=1)
    t0 = near
    while not (z(t0) < 0 <= z(t0 + step)):
        t0 += step
    lo, hi = t0, t0 + step
    for _ in range(40):
        mid = lo + (hi - lo) / 2
        lo, hi = (mid, hi) if z(mid) < 0 else (lo, mid)
    lon = wgs84.subpoint_of(sat.at(ts.from_datetime(lo))).longitude.degrees
    ut = lo.hour + lo.minute / 60 + (lo.second + lo.microsecond * 1e-6) / 3600
    return lo, (ut + lon / 15.0) % 24.0


@pytest.mark.parametrize("norad", [39084, 60989, 40697])  # Landsat 8, Sentinel-2C, Sentinel-2A
def test_ltan_against_skyfield_node_crossing(shared_data: Path, norad: int) -> None:
    blocks = [b for b in _tle_blocks(shared_data / "celestrak-2026-05-30" / "resource.tle")
              if b[1][2:7].strip() == str(norad)]
    assert blocks
    name, l1, l2 = blocks[0]
    es = parse_bytes("\n".join((name, l1, l2)).encode(), "x").records[0]
    state = orbit_history([es])[0]
    assert state.ltan_hours is not None
    crossing, lmst = _ascending_node_lmst_h(l1, l2, es.epoch)
    jd = 2440587.5 + crossing.timestamp() / 86400.0
    ours_then = float(ltan_hours(
        state.raan_deg + state.node_rate_deg_day * (crossing - es.epoch).total_seconds() / 86400,
        jd))
    # Mean node vs the osculating crossing: short-period J2 terms, well under a minute.
    diff_min = ((ours_then - lmst + 12) % 24 - 12) * 60
    assert abs(diff_min) < 1.0
    assert abs(((state.ltan_hours - lmst + 12) % 24 - 12) * 60) < 1.0


def test_ltan_only_for_sun_synchronous(shared_data: Path) -> None:
    records = parse_bytes(
        (shared_data / "celestrak-2026-05-30" / "stations.tle").read_bytes(), "stations").records
    iss = [s for s in orbit_history(records) if s.norad_id == 25544]
    assert iss and iss[0].ltan_hours is None
    assert abs(iss[0].node_rate_deg_day + 5.0) < 0.5  # ISS node regresses ~5°/day


def _es(norad: int, epoch: datetime, n: float = 15.0, name: str = "X") -> ElementSet:
    return ElementSet(norad_id=norad, epoch=epoch, mean_motion_rev_day=n, eccentricity=0.001,
                      inclination_deg=51.6, raan_deg=10.0, arg_perigee_deg=20.0,
                      mean_anomaly_deg=30.0, name=name)


def test_group_histories_sorts_and_keeps_last_publication_of_an_epoch() -> None:
    t = datetime(2026, 5, 1, tzinfo=UTC)
    recs = [_es(2, t + timedelta(hours=5)), _es(1, t + timedelta(hours=3)), _es(2, t, n=15.0),
            _es(2, t + timedelta(milliseconds=200), n=15.1), _es(1, t)]
    out = group_histories(recs)
    assert list(out) == [1, 2]
    assert [e.epoch for e in out[1]] == [t, t + timedelta(hours=3)]
    assert len(out[2]) == 2 and out[2][0].mean_motion_rev_day == 15.1


def test_table_rows_per_object() -> None:
    t = datetime(2026, 5, 1, tzinfo=UTC)
    table = OrbitTable.from_histories({5: [_es(5, t), _es(5, t + timedelta(hours=1))],
                                       3: [_es(3, t)]})
    assert table.objects == 2 and len(table) == 3
    assert [table.elsets[k].norad_id for k in range(3)] == [3, 5, 5]
    assert table.rows(1) == slice(1, 3)
    assert orbit_history([]) == []
