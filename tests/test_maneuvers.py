"""Maneuver detection against synthetic histories with known burns, plus real element sets.

Synthetic series come from ``tests/_maneuver_synth.py``: an SGP4 truth, impulses applied to its
state, element sets re-fitted with sgp4 alone and given realistic scatter. The expected bracket,
Δv and burn time are the construction's, never the detector's.
"""

from __future__ import annotations

import math
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _maneuver_synth import (
    QUIET,
    RE,
    Burn,
    Scatter,
    epochs_every,
    leo_mean,
    make_satrec,
    malligyong_february,
    mean_at,
    series,
)
from overflight.catalog.formats import read_path
from overflight.elements import ElementSet
from overflight.history import OrbitTable
from overflight.maneuvers import (
    DecayEstimate,
    Maneuver,
    _days_to_fall,
    density_kg_m3,
    detect_maneuvers,
    estimate_decay,
    with_passes,
)
from overflight.sites import resolve_site

START = datetime(2024, 2, 10, tzinfo=UTC)


def _bracket(
    sets: list[ElementSet] | list[datetime], t0: datetime, t1: datetime
) -> tuple[datetime, datetime]:
    epochs = [e if isinstance(e, datetime) else e.epoch for e in sets]
    return max(t for t in epochs if t < t0), min(t for t in epochs if t > t1)


# (alt km, e, incl, burn RTN m/s, expected kind); tangential, normal and a two-burn
# eccentricity change (+dv/2 then -dv/2 half an orbit later: a unchanged, e changed).
CASES = [
    (520.0, 0.0012, 97.4, (0.0, 0.5, 0.0), "raise"),
    (480.0, 0.0005, 53.0, (0.0, -0.5, 0.0), "lower"),
    (700.0, 0.0020, 98.2, (0.0, 2.0, 0.0), "raise"),
    (550.0, 0.0010, 70.0, (0.0, 0.0, 0.5), "plane change"),
    (800.0, 0.0010, 86.4, (0.0, 0.0, -1.5), "plane change"),
    (600.0, 0.0015, 45.0, "ecc", "eccentricity"),
    (1200.0, 0.0100, 63.0, (0.0, 0.5, 0.0), "raise"),
]


@pytest.mark.parametrize(("alt", "ecc", "inc", "burn", "kind"), CASES)
@pytest.mark.parametrize("seed", [1, 2])
def test_finds_injected_maneuver(
    alt: float, ecc: float, inc: float, burn: object, kind: str, seed: int
) -> None:
    mean = leo_mean(alt, e=ecc, inc_deg=inc, node_deg=37.0 * seed, argp_deg=60.0 * seed,
                    m_deg=11.0 * seed, bstar=1e-4)
    epochs = epochs_every(START, 8, 7.0, 2.0, seed=seed)
    when = START + timedelta(days=3.3 + 0.37 * seed)
    if burn == "ecc":
        period_s = 2 * math.pi / mean.n * 60
        burns = [Burn(when, (0.0, 0.25, 0.0)),
                 Burn(when + timedelta(seconds=period_s / 2), (0.0, -0.25, 0.0))]
        # Both halves inside one bracket.
        b0, b1 = _bracket(epochs_every(START, 8, 7.0, 2.0, seed=seed), when, burns[1].time)
        epochs = [t for t in epochs if not b0 < t < b1]
    else:
        assert isinstance(burn, tuple)
        burns = [Burn(when, burn)]
    applied = sum(b.dv_m_s for b in burns)
    sets, _ = series(START, mean, epochs, burns, seed=seed + 10)
    result = detect_maneuvers(sets)
    assert len(result.maneuvers) == 1, [m.to_dict() for m in result.maneuvers]
    m = result.maneuvers[0]
    assert (m.before_epoch, m.after_epoch) == _bracket(sets, burns[0].time, burns[-1].time)
    assert m.delta_v_m_s == pytest.approx(applied, rel=0.2)
    assert m.kind == kind
    assert m.estimated_time is not None and m.time_uncertainty_s is not None
    assert m.before_epoch <= m.estimated_time <= m.after_epoch
    if kind in ("raise", "lower"):
        # A tangential burn: the trajectories cross where it happened.
        err = abs((m.estimated_time - burns[0].time).total_seconds())
        assert err <= m.time_uncertainty_s
        assert m.time_uncertainty_s < 1800
        assert (m.delta_a_km > 0) == (kind == "raise")
        # Gauss: Δa = 2 a Δv / v for a tangential impulse on a near-circular orbit.
        a = RE + alt
        expected_da = 2 * a * burns[0].rtn_m_s[1] / 1000 / math.sqrt(398600.8 / a)
        assert m.delta_a_km == pytest.approx(expected_da, rel=0.2)
    if kind == "plane change":
        assert abs(m.delta_v_plane_m_s) == pytest.approx(applied, rel=0.2)


def test_time_estimate_coverage_over_many_tangential_burns() -> None:
    """Over 30 random tangential burns the burn time lies within the stated uncertainty
    at least 90 % of the time (it is a 2-sigma figure)."""
    rng = np.random.default_rng(42)
    inside = 0
    trials = 30
    for k in range(trials):
        mean = leo_mean(float(rng.uniform(400, 900)), e=float(rng.uniform(2e-4, 3e-3)),
                        inc_deg=float(rng.uniform(30, 99)), node_deg=float(rng.uniform(0, 360)),
                        argp_deg=float(rng.uniform(0, 360)), m_deg=float(rng.uniform(0, 360)))
        dv = float(rng.uniform(0.5, 2.0)) * float(rng.choice([-1.0, 1.0]))
        burn = Burn(START + timedelta(days=float(rng.uniform(2, 5))), (0.0, dv, 0.0))
        sets, _ = series(START, mean, epochs_every(START, 7, float(rng.uniform(4, 12)), 1.5,
                                                   seed=k), [burn], seed=100 + k)
        found = detect_maneuvers(sets).maneuvers
        assert len(found) == 1
        m = found[0]
        assert m.estimated_time is not None and m.time_uncertainty_s is not None
        inside += abs((m.estimated_time - burn.time).total_seconds()) <= m.time_uncertainty_s
    assert inside >= 0.9 * trials


@pytest.mark.parametrize("seed", range(6))
def test_no_maneuvers_in_quiet_series(seed: int) -> None:
    rng = np.random.default_rng(seed)
    histories = {}
    for k in range(8):
        mean = leo_mean(float(rng.uniform(350, 1200)), e=float(rng.uniform(2e-4, 0.01)),
                        inc_deg=float(rng.uniform(0, 99)), node_deg=float(rng.uniform(0, 360)),
                        argp_deg=float(rng.uniform(0, 360)), m_deg=float(rng.uniform(0, 360)),
                        bstar=float(rng.uniform(1e-5, 8e-4)))
        epochs = epochs_every(START, 8, float(rng.uniform(3, 12)), 1.5, seed=seed * 10 + k)
        histories[1000 + k], _ = series(START, mean, epochs, [], seed=seed * 100 + k,
                                        norad=1000 + k)
    result = detect_maneuvers(histories)
    assert result.maneuvers == []
    assert result.objects == 8 and result.pairs == sum(len(h) - 1 for h in histories.values())
    # Each object alone (its own scatter only).
    for h in histories.values():
        assert detect_maneuvers(h).maneuvers == []


def test_geostationary_station_keeping_burn() -> None:
    """A 0.5 m/s east-west burn in GEO (deep-space SGP4 with lunisolar terms)."""
    a = 42164.0
    mean = leo_mean(a - RE, e=2e-4, inc_deg=0.05, node_deg=80.0, argp_deg=10.0, bstar=0.0)
    burn = Burn(START + timedelta(days=3.6), (0.0, 0.5, 0.0))
    geo_scatter = Scatter(a_km=0.02, e=5e-6, i_deg=0.0005, node_deg=0.05, u_deg=0.001)
    sets, _ = series(START, mean, epochs_every(START, 8, 9.0, 2.0, seed=4), [burn],
                     scatter=geo_scatter, seed=5)
    assert make_satrec(START, mean).method == "d"
    found = detect_maneuvers(sets).maneuvers
    assert len(found) == 1
    assert found[0].kind == "raise"
    assert found[0].delta_v_m_s == pytest.approx(0.5, rel=0.2)
    assert (found[0].before_epoch, found[0].after_epoch) == _bracket(sets, burn.time, burn.time)


def test_outlier_element_set_is_not_a_maneuver() -> None:
    mean = leo_mean(600.0, e=0.001, inc_deg=97.8, bstar=1e-4)
    sets, _ = series(START, mean, epochs_every(START, 8, 8.0, 1.0, seed=2), [], seed=3)
    bad = sets[10]
    sets[10] = ElementSet(**{**{f: getattr(bad, f) for f in (
        "norad_id", "epoch", "mean_motion_rev_day", "eccentricity", "raan_deg",
        "arg_perigee_deg", "mean_anomaly_deg", "bstar", "name")},
        "inclination_deg": bad.inclination_deg + 0.004})
    result = detect_maneuvers(sets)
    assert result.maneuvers == []
    assert result.glitches >= 1


def test_malligyong_february_scenario() -> None:
    """Five daily ~0.5 m/s raises at Pyongyang passes (the March 2024 analysis), re-created:
    five maneuvers, right brackets, perigee +~1.8 km each, burn times inside the passes."""
    sets, burns, passes = malligyong_february()
    table = OrbitTable.from_histories(list(sets))
    assert table.perigee_alt_km[0] == pytest.approx(488.0, abs=0.5)
    assert table.perigee_alt_km[-1] == pytest.approx(497.0, abs=1.0)
    result = detect_maneuvers(list(sets))
    found = result.maneuvers
    assert len(found) == 5
    site = resolve_site("Pyongyang General Satellite Control Center")
    noted = with_passes(found, result.table, site)
    for m, b, p in zip(noted, burns, passes, strict=True):
        assert (m.before_epoch, m.after_epoch) == _bracket(list(sets), b.time, b.time)
        assert m.kind == "raise"
        assert m.delta_v_m_s == pytest.approx(0.5, rel=0.2)
        assert m.delta_perigee_km == pytest.approx(1.8, abs=0.4)
        assert abs(m.delta_apogee_km) < 0.4
        assert m.estimated_time is not None and m.time_uncertainty_s is not None
        unc = timedelta(seconds=m.time_uncertainty_s)
        # Skyfield's pass (independent of overflight.access) overlaps estimate ± uncertainty.
        assert p.rise - unc <= m.estimated_time <= p.set + unc
        assert m.passes and any(q.within_uncertainty for q in m.passes)
        # overflight.access finds the same pass Skyfield does (within a few seconds).
        near = min(m.passes, key=lambda q: abs((q.peak - p.peak).total_seconds()))
        assert abs((near.peak - p.peak).total_seconds()) < 10
        d = m.to_dict()
        assert d["pass_within_uncertainty"] is True and d["passes"]


def test_maneuver_to_dict_keys() -> None:
    sets, _, _ = malligyong_february()
    d = detect_maneuvers(list(sets)).maneuvers[0].to_dict()
    for key in ("norad_id", "name", "before_epoch", "after_epoch", "estimated_time",
                "time_uncertainty_s", "delta_a_km", "delta_perigee_km", "delta_apogee_km",
                "delta_inclination_deg", "delta_v_m_s", "kind"):
        assert key in d
    assert d["before_epoch"].endswith("Z") and d["name"] == "MALLIGYONG-1"


def test_too_few_sets_and_empty() -> None:
    mean = leo_mean(500.0)
    one, _ = series(START, mean, [START], [], scatter=QUIET)
    r = detect_maneuvers(one)
    assert r.maneuvers == [] and r.pairs == 0
    assert detect_maneuvers([]).maneuvers == []


# ---- decay ------------------------------------------------------------------------------------
def test_density_model_layers_are_continuous_enough() -> None:
    # The table's layers are fitted separately; at each boundary the two sides agree to 20 %.
    for h in (150, 200, 300, 400, 500, 600, 800):
        below = float(density_kg_m3(h - 1e-6))
        above = float(density_kg_m3(h))
        assert below == pytest.approx(above, rel=0.2)


def test_days_to_fall_within_one_layer_matches_the_integral() -> None:
    # Inside 450-500 km, rho = rho0 exp(-(h-450)/H), H = 60.828 km. With da/dt ∝ rho sqrt(a):
    # t = ∫ dh / (rate * rho(h) sqrt(R+h) / (rho(h0) sqrt(R+h0))), integrated here with scipy-
    # free fine quadrature (independent of the code's grid).
    h0, h1, rate, big_h = 495.0, 452.0, -0.2, 60.828
    hs = np.linspace(h1, h0, 200001)
    integrand = np.exp((hs - h0) / big_h) * np.sqrt((RE + h0) / (RE + hs)) / abs(rate)
    expected = float(np.sum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(hs)))
    assert _days_to_fall(h0, rate, h1) == pytest.approx(expected, rel=2e-3)


def test_decay_estimate_for_a_decaying_object() -> None:
    # A low object with strong drag and no maneuvers: decays measurably within a week.
    mean = leo_mean(300.0, e=0.0005, inc_deg=51.6, bstar=6e-4)
    sets, segs = series(START, mean, epochs_every(START, 7, 8.0, 1.0, seed=8), [], seed=9)
    d = estimate_decay(sets)
    assert isinstance(d, DecayEstimate)
    assert d.label == "estimate"
    assert d.decay_rate_km_day < 0 and d.uncertainty_days > 0
    # The truth's own mean semi-major-axis decay rate over the same week (sgp4).
    a0 = (segs[0].xke / mean_at(segs[0], sets[0].epoch).n) ** (2 / 3) * RE
    a1 = (segs[0].xke / mean_at(segs[0], sets[-1].epoch).n) ** (2 / 3) * RE
    truth_rate = (a1 - a0) / ((sets[-1].epoch - sets[0].epoch).total_seconds() / 86400)
    assert d.decay_rate_km_day == pytest.approx(truth_rate, rel=0.15)
    assert sets[-1].epoch < d.estimated_date < sets[-1].epoch + timedelta(days=365)
    assert d.to_dict()["label"] == "estimate"


def test_no_decay_estimate_for_a_stable_or_short_history() -> None:
    high = leo_mean(1100.0, e=0.001, inc_deg=60.0, bstar=1e-5)
    sets, _ = series(START, high, epochs_every(START, 7, 8.0, 1.0, seed=1), [], seed=2)
    assert estimate_decay(sets) is None
    low = leo_mean(300.0, e=0.0005, inc_deg=51.6, bstar=6e-4)
    short, _ = series(START, low, [START, START + timedelta(hours=8)], [], seed=2)
    assert estimate_decay(short) is None


def test_decay_fit_starts_after_the_last_maneuver() -> None:
    mean = leo_mean(320.0, e=0.0005, inc_deg=51.6, bstar=5e-4)
    burn = Burn(START + timedelta(days=2.5), (0.0, 3.0, 0.0))
    sets, _ = series(START, mean, epochs_every(START, 8, 8.0, 1.0, seed=3), [burn], seed=4)
    found: list[Maneuver] = detect_maneuvers(sets).maneuvers
    assert len(found) == 1
    d = estimate_decay(sets, maneuvers=found)
    assert d is not None and d.fit_start == found[0].after_epoch


# ---- real element sets -------------------------------------------------------------------------
def _two_body_a_km(n_rev_day: float) -> float:
    n = n_rev_day * 2 * math.pi / 86400
    return float((398600.8 / n**2) ** (1 / 3))


def test_real_history_resource_group(shared_data: Path) -> None:
    path = shared_data / "celestrak-history-2026-05-24-to-30" / "resource.tle"
    records = read_path(path).records
    t = time.perf_counter()
    result = detect_maneuvers(records)
    assert time.perf_counter() - t < 10
    assert result.objects == 167 and result.maneuvers
    by_id: dict[int, list[Maneuver]] = {}
    for m in result.maneuvers:
        by_id.setdefault(m.norad_id, []).append(m)
    # WorldView-1 raised its orbit by ~2 km on 27 May: from the published mean motions alone
    # (two-body, Kozai: crude but independent), the two bracketing sets differ by that much.
    wv1 = [m for m in by_id[32060] if m.kind == "raise"]
    assert len(wv1) == 1
    sets = sorted((r for r in records if r.norad_id == 32060), key=lambda r: r.epoch)
    before = next(r for r in sets if r.epoch == wv1[0].before_epoch)
    after = next(r for r in sets if r.epoch == wv1[0].after_epoch)
    da = _two_body_a_km(after.mean_motion_rev_day) - _two_body_a_km(before.mean_motion_rev_day)
    assert wv1[0].delta_a_km == pytest.approx(da, rel=0.2)
    # Landsat 8's inclination manoeuvre on 28 May: Δi from the printed inclinations.
    l8 = [m for m in by_id[39084] if m.kind == "plane change"]
    assert len(l8) == 1
    sets = sorted((r for r in records if r.norad_id == 39084), key=lambda r: r.epoch)
    before = next(r for r in sets if r.epoch == l8[0].before_epoch)
    after = next(r for r in sets if r.epoch == l8[0].after_epoch)
    di = after.inclination_deg - before.inclination_deg
    assert l8[0].delta_inclination_deg == pytest.approx(di, abs=0.003)
    v = math.sqrt(398600.8 / _two_body_a_km(after.mean_motion_rev_day)) * 1000
    assert l8[0].delta_v_m_s == pytest.approx(v * math.radians(abs(di)), rel=0.2)


def test_change_in_the_last_bracket_is_reported_unconfirmed() -> None:
    mean = leo_mean(550.0, e=0.001, inc_deg=53.0, bstar=1e-4)
    epochs = epochs_every(START, 5, 8.0, 1.0, seed=6)
    burn = Burn(epochs[-2] + (epochs[-1] - epochs[-2]) / 2, (0.0, 1.0, 0.0))
    sets, _ = series(START, mean, epochs, [burn], seed=7)
    found = detect_maneuvers(sets).maneuvers
    assert len(found) == 1 and found[0].after_epoch == sets[-1].epoch
    assert not found[0].confirmed and found[0].to_dict()["confirmed"] is False
    sets_more, _ = series(START, mean, [*epochs, epochs[-1] + timedelta(hours=8)], [burn],
                          seed=7)
    again = detect_maneuvers(sets_more).maneuvers
    assert len(again) == 1 and again[0].confirmed


# ---- where the burn was, and objects that cannot maneuver --------------------------------------
def _subpoint_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance, km (mean Earth radius), between (lat, lon) points in degrees."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dl = math.radians(b[1] - a[1])
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.acos(max(-1.0, min(1.0, c)))) * math.pi / 180.0 * 6371.0


def test_burn_point_is_the_sub_satellite_point_at_the_estimate() -> None:
    """The reported point is Skyfield's sub-satellite point of the set before at the estimated
    time; and within the along-track distance of the time error from the true burn's point."""
    from skyfield.api import EarthSatellite, load, wgs84

    from overflight.catalog.formats import write_elements as write

    ts = load.timescale(builtin=True)
    sets, burns, _ = malligyong_february()
    result = detect_maneuvers(list(sets))
    by_epoch = {es.epoch: es for es in sets}
    for m, b in zip(result.maneuvers, burns, strict=True):
        assert m.lat_deg is not None and m.lon_deg is not None and m.estimated_time is not None
        line1, line2 = write([by_epoch[m.before_epoch]], "tle").splitlines()[-2:]
        sat = EarthSatellite(line1, line2, ts=ts)
        sky = wgs84.subpoint_of(sat.at(ts.from_datetime(m.estimated_time)))
        assert _subpoint_km((m.lat_deg, m.lon_deg),
                            (sky.latitude.degrees, sky.longitude.degrees)) < 1.0
        truth = wgs84.subpoint_of(sat.at(ts.from_datetime(b.time)))
        error_s = abs((m.estimated_time - b.time).total_seconds())
        assert _subpoint_km((m.lat_deg, m.lon_deg), (truth.latitude.degrees,
                                                      truth.longitude.degrees)) < (
            7.2 * error_s + 5.0)  # ground speed ~7 km/s at 500 km
        d = m.to_dict()
        assert d["place"] == m.place and "km from" in (m.place or "")
        assert (d["lat_deg"], d["object_type"], d["event"]) == (round(m.lat_deg, 3), None,
                                                               "maneuver")


@pytest.mark.parametrize(("name", "satcat", "expected"), [
    ("FREGAT DEB", None, "debris"), ("COSMOS 2251 DEB (A)", None, "debris"),
    ("SL-16 R/B", None, "rocket body"), ("CZ-4C R/B(2)", None, "rocket body"),
    ("DEBRISSAT", None, None), ("WORLDVIEW-1", None, None), ("WORLDVIEW-1", "unknown", "unknown"),
    ("ODD DEB", "payload", "payload"), ("TANK", "rocket body", "rocket body"),
])
def test_object_type_of(name: str, satcat: str | None, expected: str | None) -> None:
    from overflight.maneuvers import object_type_of

    assert object_type_of(name, satcat) == expected


def test_changes_of_debris_are_not_maneuvers() -> None:
    mean = leo_mean(550.0, e=0.001, inc_deg=70.0)
    burn = Burn(START + timedelta(days=3.3), (0.0, 0.0, 1.0))
    epochs = epochs_every(START, 7, 8.0, 2.0, seed=5)
    deb, _ = series(START, mean, epochs, [burn], seed=6, name="FREGAT DEB")
    (m,) = detect_maneuvers(deb).maneuvers
    assert m.object_type == "debris" and not m.is_maneuver
    assert m.to_dict()["event"] == ("not a maneuver (debris): element-set noise or "
                                    "fragmentation")
    # The SATCAT type decides when it is known.
    (p,) = detect_maneuvers(deb, object_types={deb[0].norad_id: "payload"}).maneuvers
    assert p.is_maneuver and p.object_type == "payload"


# ---- decay: the horizon -------------------------------------------------------------------------
def test_decay_beyond_the_horizon_has_a_rate_and_no_date() -> None:
    from overflight.maneuvers import DECAY_HORIZON_DAYS, assess_decay

    mean = leo_mean(300.0, e=0.0005, inc_deg=51.6, bstar=6e-4)
    sets, _ = series(START, mean, epochs_every(START, 7, 8.0, 1.0, seed=8), [], seed=9)
    ok = assess_decay(sets)
    assert ok.status == "ok" and ok.estimate is not None
    assert ok.estimate.days_left < DECAY_HORIZON_DAYS
    assert ok.decay_rate_m_day == pytest.approx(ok.estimate.decay_rate_km_day * 1000)
    assert ok.estimate.to_dict()["decay_rate_m_day"] == pytest.approx(
        ok.estimate.decay_rate_km_day * 1000, abs=1e-3)
    far = assess_decay(sets, horizon_days=ok.estimate.days_left - 1.0)
    assert far.status == "beyond-horizon" and far.estimate is None
    assert far.decay_rate_m_day == ok.decay_rate_m_day and far.decay_rate_sigma_m_day
    assert "m/day" in far.reason and "horizon" in far.reason
    d = far.to_dict()
    assert d["estimate"] is None and d["decay_rate_m_day"] < 0


def test_no_significant_decay_says_the_rate() -> None:
    from overflight.maneuvers import assess_decay

    high = leo_mean(1100.0, e=0.001, inc_deg=60.0, bstar=1e-5)
    sets, _ = series(START, high, epochs_every(START, 7, 8.0, 1.0, seed=1), [], seed=2)
    a = assess_decay(sets)
    assert a.status in ("no-significant-decay", "beyond-horizon") and a.estimate is None
    assert a.decay_rate_m_day is not None and a.decay_rate_sigma_m_day is not None
    assert a.rate_text.endswith(" m/day") and " ± " in a.rate_text


@pytest.mark.parametrize(("rate", "sigma", "text"), [
    (-0.16, 0.0104, "-0.160 ± 0.010 m/day"), (-3.412, 0.041, "-3.412 ± 0.041 m/day"),
    (-52.51, 2.1, "-52.5 ± 2.1 m/day"), (0.04, 1.31, "+0.0 ± 1.3 m/day"),
    (-178.35, 13.02, "-178 ± 13 m/day"),
])
def test_format_decay_rate(rate: float, sigma: float, text: str) -> None:
    from overflight.maneuvers import format_decay_rate

    assert format_decay_rate(rate, sigma) == text


def test_jason3_has_no_decay_date(shared_data: Path) -> None:
    """A week of sets cannot date the re-entry of a 1,300 km orbit (it was "5931 ± 368,142
    days"): beyond the horizon, with the fitted rate in m/day."""
    from overflight.maneuvers import assess_decay

    records = read_path(shared_data / "celestrak-history-2026-05-24-to-30" / "resource.tle")
    sets = [r for r in records.records if r.norad_id == 41240]
    a = assess_decay(sets, maneuvers=detect_maneuvers(sets).maneuvers)
    assert a.status in ("beyond-horizon", "no-significant-decay") and a.estimate is None
    assert a.decay_rate_m_day is not None and abs(a.decay_rate_m_day) < 1.0
