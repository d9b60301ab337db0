"""Hypothetical satellites: sun-synchronous precession and LTAN checked by propagation (sgp4 and
Skyfield), Walker geometry against its definition, labels and spec errors."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from overflight.hypothetical import (
    HYPOTHETICAL_ID_BASE,
    HypotheticalError,
    from_classical,
    is_hypothetical,
    parse_orbit_spec,
    parse_sso_spec,
    parse_walker_spec,
    sso,
    sso_inclination_deg,
    walker,
)

EPOCH = datetime(2026, 5, 31, 6, 0, tzinfo=UTC)
SUN_DEG_PER_DAY = 360.0 / 365.2422


def _raan_drift_deg_day(es: object, days: float = 30.0) -> float:
    """RAAN slope from sgp4 TEME states: node direction of the angular momentum r × v."""
    sat = es.to_satrec()  # type: ignore[attr-defined]
    t = np.linspace(0.0, days, 721)
    err, r, v = sat.sgp4_array(np.full(t.size, sat.jdsatepoch), sat.jdsatepochF + t)
    assert (err == 0).all()
    h = np.cross(r, v)
    raan = np.unwrap(np.arctan2(h[:, 0], -h[:, 1]))
    return float(np.degrees(np.polyfit(t, raan, 1)[0]))


@pytest.mark.parametrize("alt", [400.0, 600.0, 800.0, 1200.0])
def test_sso_precesses_with_the_mean_sun(alt: float) -> None:
    es = sso(alt, 10.5, EPOCH)[0]
    assert _raan_drift_deg_day(es) == pytest.approx(SUN_DEG_PER_DAY, abs=0.002)
    # J2-only textbook value, as a sanity bound on the refined inclination.
    a = 6378.137 + alt
    n = math.sqrt(398600.4418 / a**3)
    cos_i = -math.radians(SUN_DEG_PER_DAY) / 86400 / (1.5 * n * 1.08263e-3 * (6378.137 / a) ** 2)
    assert es.inclination_deg == pytest.approx(math.degrees(math.acos(cos_i)), abs=0.1)
    assert es.perigee_alt_km == pytest.approx(alt, abs=1e-6)


@pytest.mark.parametrize(
    ("ltan", "epoch"),
    [
        (10.5, EPOCH),
        (6.0, datetime(2026, 1, 15, 0, 0, tzinfo=UTC)),
        (13.75, datetime(2026, 11, 3, 17, 30, tzinfo=UTC)),
        (22.25, datetime(2025, 2, 11, 9, 0, tzinfo=UTC)),
    ],
)
def test_sso_ascending_node_at_the_requested_mean_local_time(ltan: float,
                                                             epoch: datetime) -> None:
    """Skyfield propagates; the node is where the ITRS z crosses upward; mean local solar time
    there is UT + longitude/15°."""
    from skyfield.api import EarthSatellite, wgs84
    from skyfield.framelib import itrs

    from overflight.times import timescale

    ts = timescale()
    es = sso(550.0, ltan, epoch)[0]
    sat = EarthSatellite.from_satrec(es.to_satrec(), ts)
    start = epoch - timedelta(minutes=20)
    secs = np.arange(0.0, 2400.0, 1.0)
    t = ts.utc(start.year, start.month, start.day, start.hour, start.minute, secs)
    geo = sat.at(t)
    z = geo.frame_xyz(itrs).km[2]
    k = int(np.flatnonzero((z[:-1] < 0) & (z[1:] >= 0))[0])
    frac = z[k] / (z[k] - z[k + 1])
    lon = wgs84.subpoint_of(geo).longitude.degrees
    lon_node = lon[k] + frac * (((lon[k + 1] - lon[k] + 180) % 360) - 180)
    ut_h = start.hour + start.minute / 60 + (secs[k] + frac) / 3600
    local = (ut_h + lon_node / 15.0) % 24.0
    diff_min = ((local - ltan + 12) % 24 - 12) * 60
    assert abs(diff_min) < 0.1  # measured: below 0.003 min


def test_walker_pattern_matches_its_definition() -> None:
    sats = walker(550.0, 53.0, 6, 3, 1, EPOCH, raan0_deg=10.0, first_id=900_100)
    assert [s.norad_id for s in sats] == list(range(900_100, 900_106))
    expected = [(10.0, 0.0), (10.0, 180.0), (130.0, 60.0), (130.0, 240.0),
                (250.0, 120.0), (250.0, 300.0)]
    got = [(round(s.raan_deg, 9), round(s.mean_anomaly_deg, 9)) for s in sats]
    assert got == expected
    assert all(s.inclination_deg == 53.0 and s.eccentricity == 0.0 for s in sats)
    assert all(s.name.startswith("HYPOTHETICAL-WALKER-550KM") for s in sats)
    # Propagated an hour on, the two satellites of a plane are still half an orbit apart.
    a, b = (s.to_satrec() for s in sats[:2])
    _, ra, _ = a.sgp4(a.jdsatepoch, a.jdsatepochF + 1 / 24)
    _, rb, _ = b.sgp4(b.jdsatepoch, b.jdsatepochF + 1 / 24)
    cos = np.dot(ra, rb) / np.linalg.norm(ra) / np.linalg.norm(rb)
    assert math.degrees(math.acos(cos)) == pytest.approx(180.0, abs=1.0)


def test_classical_elements_and_labels() -> None:
    es = from_classical(altitude_km=700.0, inclination_deg=45.0, raan_deg=400.0, epoch=EPOCH,
                        eccentricity=0.01, arg_perigee_deg=-90.0, norad_id=900_123)
    assert es.raan_deg == 40.0 and es.arg_perigee_deg == 270.0
    assert es.semi_major_axis_km == pytest.approx(6378.135 + 700.0)
    assert es.name.startswith("HYPOTHETICAL-") and is_hypothetical(es)
    assert es.bstar == 0.0 and es.epoch == EPOCH
    # Mean radius over an orbit from SGP4 is the semi-major axis within the J2 terms.
    sat = es.to_satrec()
    t = np.linspace(0, es.period_min / 1440.0, 200)
    _, r, _ = sat.sgp4_array(np.full(t.size, sat.jdsatepoch), sat.jdsatepochF + t)
    assert np.linalg.norm(r, axis=1).mean() == pytest.approx(6378.135 + 700.0, abs=15.0)
    three = sso(500.0, 10.5, EPOCH, count=3, first_id=900_200)
    assert [s.norad_id for s in three] == [900_200, 900_201, 900_202]
    assert [s.mean_anomaly_deg for s in three] == pytest.approx([0.0, 120.0, 240.0])
    assert three[0].name == "HYPOTHETICAL-SSO-500KM-1030-1"
    assert all(s.norad_id >= HYPOTHETICAL_ID_BASE for s in three)


def test_specs() -> None:
    assert len(parse_sso_spec("500:10.5:3", EPOCH, 900_000)) == 3
    assert parse_sso_spec("500:10h30", EPOCH, 900_000)[0].raan_deg == pytest.approx(
        sso(500.0, 10.5, EPOCH)[0].raan_deg)
    w = parse_walker_spec("600:sso:4/2/1", EPOCH, 900_010)
    assert len(w) == 4 and w[0].inclination_deg == pytest.approx(sso_inclination_deg(600.0))
    assert parse_walker_spec("550:53:6/3/1:15", EPOCH, 900_000)[0].raan_deg == 15.0
    o = parse_orbit_spec("600:45:120", EPOCH, 900_050)[0]
    assert (o.inclination_deg, o.raan_deg, o.norad_id) == (45.0, 120.0, 900_050)


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("sso", "500", "expected ALT_KM:LTAN"),
        ("sso", "abc:10", "altitude 'abc' is not a number"),
        ("sso", "500:25", r"must be in \[0, 24\)"),
        ("sso", "7000:10", "no sun-synchronous orbit"),
        ("sso", "50:10", "between 150"),
        ("sso", "500:10:0", "count 0"),
        ("walker", "550:53:5/2/1", "multiple of the number of planes"),
        ("walker", "550:53:6/3/3", "phasing 3"),
        ("walker", "550:53:6-3-1", "expected ALT_KM:INC_DEG"),
        ("orbit", "600:200:0", "inclination 200"),
        ("orbit", "600:45:0:0.95", "eccentricity"),
    ],
)
def test_bad_specs(kind: str, text: str, message: str) -> None:
    parse = {"sso": parse_sso_spec, "walker": parse_walker_spec, "orbit": parse_orbit_spec}[kind]
    with pytest.raises(HypotheticalError, match=message):
        parse(text, EPOCH, 900_000)


def test_reserved_ids_and_aware_epoch() -> None:
    with pytest.raises(HypotheticalError, match="start at 900000"):
        from_classical(altitude_km=500, inclination_deg=50, raan_deg=0, epoch=EPOCH,
                       norad_id=25544)
    with pytest.raises(HypotheticalError, match="timezone"):
        from_classical(altitude_km=500, inclination_deg=50, raan_deg=0,
                       epoch=datetime(2026, 1, 1))
