"""Synthetic element-set histories with known impulsive maneuvers, built only from ``sgp4``.

The truth is an SGP4 trajectory (``Satrec.sgp4init``). A maneuver adds a velocity impulse
(radial, along-track, cross-track, m/s) to the truth state at a chosen time; the trajectory
after it is an SGP4 element set fitted to the new state (fixed-point iteration on non-singular
osculating elements). Each published element set is the truth's SGP4 mean elements at its
epoch, re-initialised as a new element set, plus Gaussian scatter of a realistic size.

Nothing here uses overflight's history or maneuver code: the expected answers (bracket, Δv
applied, time of the burn) come from the construction.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sgp4.api import WGS72, Satrec, jday

from overflight.elements import ElementSet

MU = 398600.8
RE = 6378.135
XKE = 60.0 / math.sqrt(RE**3 / MU)
EPOCH0 = datetime(1949, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class Mean:
    """SGP4 mean elements: un-Kozai'd mean motion (rad/min), e, i, node, perigee, anomaly (rad)."""

    n: float
    e: float
    i: float
    node: float
    argp: float
    m: float
    bstar: float


def _jd(t: datetime) -> tuple[float, float]:
    return jday(t.year, t.month, t.day, t.hour, t.minute, t.second + t.microsecond * 1e-6)


def make_satrec(epoch: datetime, mean: Mean, norad: int = 99001) -> Satrec:
    """Satrec whose un-Kozai'd mean motion equals ``mean.n`` (Kozai input solved for)."""
    days = (epoch - EPOCH0).total_seconds() / 86400.0
    no_kozai = mean.n
    for _ in range(30):
        s = Satrec()
        s.sgp4init(WGS72, "i", norad, days, mean.bstar, 0.0, 0.0, mean.e, mean.argp, mean.i,
                   mean.m, no_kozai, mean.node)
        n_unkozai = XKE / s.a**1.5
        if abs(n_unkozai - mean.n) < 1e-15:
            break
        no_kozai *= mean.n / n_unkozai
    return s


def mean_at(s: Satrec, t: datetime) -> Mean:
    """The satrec's SGP4 (secular) mean elements at ``t``."""
    jd, fr = _jd(t)
    err, _, _ = s.sgp4(jd, fr)
    assert err == 0
    return Mean(s.nm, s.em, s.im, s.Om, s.om, s.mm, s.bstar)


def state(s: Satrec, t: datetime) -> tuple[np.ndarray, np.ndarray]:
    jd, fr = _jd(t)
    err, r, v = s.sgp4(jd, fr)
    assert err == 0
    return np.array(r), np.array(v)


def _nonsingular(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Osculating (a, e cos w, e sin w, i, node, u = w + M) from a TEME state (km, km/s)."""
    h = np.cross(r, v)
    rn, vn = np.linalg.norm(r), np.linalg.norm(v)
    a = 1.0 / (2.0 / rn - vn**2 / MU)
    i = math.acos(h[2] / np.linalg.norm(h))
    node = math.atan2(h[0], -h[1])
    evec = ((vn**2 - MU / rn) * r - np.dot(r, v) * v) / MU
    nvec = np.array([math.cos(node), math.sin(node), 0.0])
    w_hat = h / np.linalg.norm(h)
    q = np.cross(w_hat, nvec)
    ex, ey = float(np.dot(evec, nvec)), float(np.dot(evec, q))
    e = math.hypot(ex, ey)
    u_true = math.atan2(np.dot(r, q), np.dot(r, nvec))
    w = math.atan2(ey, ex)
    nu = u_true - w
    ea = 2.0 * math.atan2(math.sqrt(1 - e) * math.sin(nu / 2), math.sqrt(1 + e) * math.cos(nu / 2))
    m = ea - e * math.sin(ea)
    return np.array([a, ex, ey, i, node, w + m])


def _wrap(x: float) -> float:
    return (x + math.pi) % (2 * math.pi) - math.pi


def fit_to_state(t: datetime, r: np.ndarray, v: np.ndarray, guess: Mean) -> Satrec:
    """An SGP4 element set at epoch ``t`` whose state at ``t`` is (r, v) to < 1 m."""
    target = _nonsingular(r, v)
    cur = np.array([(XKE / guess.n) ** (2 / 3) * RE, guess.e * math.cos(guess.argp),
                    guess.e * math.sin(guess.argp), guess.i, guess.node, guess.argp + guess.m])
    s = None
    for _ in range(60):
        e = math.hypot(cur[1], cur[2])
        w = math.atan2(cur[2], cur[1])
        mean = Mean(XKE / (cur[0] / RE) ** 1.5, e, cur[3], cur[4], w, cur[5] - w, guess.bstar)
        s = make_satrec(t, mean)
        rr, vv = state(s, t)
        if np.linalg.norm(rr - r) < 1e-4 and np.linalg.norm(vv - v) < 1e-7:
            break
        got = _nonsingular(rr, vv)
        diff = target - got
        diff[4] = _wrap(diff[4])
        diff[5] = _wrap(diff[5])
        cur = cur + diff
    assert s is not None
    rr, vv = state(s, t)
    assert np.linalg.norm(rr - r) < 1e-3 and np.linalg.norm(vv - v) < 1e-6
    return s


def impulse(r: np.ndarray, v: np.ndarray, rtn_m_s: tuple[float, float, float]) -> np.ndarray:
    """v plus an impulse given in the radial / along-track / cross-track frame (m/s)."""
    rh = r / np.linalg.norm(r)
    nh = np.cross(r, v)
    nh /= np.linalg.norm(nh)
    th = np.cross(nh, rh)
    dv = (rtn_m_s[0] * rh + rtn_m_s[1] * th + rtn_m_s[2] * nh) / 1000.0
    return v + dv


@dataclass(frozen=True)
class Burn:
    time: datetime
    rtn_m_s: tuple[float, float, float]

    @property
    def dv_m_s(self) -> float:
        return math.sqrt(sum(x * x for x in self.rtn_m_s))


@dataclass(frozen=True)
class Scatter:
    """1-sigma scatter of published mean elements: km, -, deg, deg, deg (along-track u)."""

    a_km: float = 0.005
    e: float = 3e-6
    i_deg: float = 0.00015
    node_deg: float = 0.00015
    u_deg: float = 0.002


QUIET = Scatter(0.0, 0.0, 0.0, 0.0, 0.0)


def series(
    start: datetime,
    first: Mean,
    epochs: list[datetime],
    burns: list[Burn],
    *,
    scatter: Scatter = Scatter(),
    seed: int = 0,
    norad: int = 99001,
    name: str = "SYNTH",
) -> tuple[list[ElementSet], list[Satrec]]:
    """Published element sets at ``epochs`` (sorted) of a truth with ``burns`` (sorted).

    Returns the element sets and the truth segments (segment k after k burns).
    """
    rng = np.random.default_rng(seed)
    seg = make_satrec(start, first, norad)
    segments = [seg]
    for b in sorted(burns, key=lambda b: b.time):
        r, v = state(seg, b.time)
        seg = fit_to_state(b.time, r, impulse(r, v, b.rtn_m_s), mean_at(seg, b.time))
        segments.append(seg)
    times = [b.time for b in sorted(burns, key=lambda b: b.time)]
    out = []
    for k, t in enumerate(sorted(epochs)):
        nburn = sum(1 for bt in times if bt <= t)
        m = mean_at(segments[nburn], t)
        a = (XKE / m.n) ** (2 / 3) * RE + rng.normal(0, scatter.a_km)
        ex = m.e * math.cos(m.argp) + rng.normal(0, scatter.e)
        ey = m.e * math.sin(m.argp) + rng.normal(0, scatter.e)
        e = math.hypot(ex, ey)
        w = math.atan2(ey, ex)
        u = m.argp + m.m + math.radians(rng.normal(0, scatter.u_deg))
        noisy = Mean(XKE / (a / RE) ** 1.5, e, m.i + math.radians(rng.normal(0, scatter.i_deg)),
                     m.node + math.radians(rng.normal(0, scatter.node_deg)), w, u - w, m.bstar)
        s = make_satrec(t, noisy, norad)
        out.append(_to_element_set(s, t, noisy, norad, name, k))
    return out, segments


def _to_element_set(s: Satrec, t: datetime, m: Mean, norad: int, name: str, k: int) -> ElementSet:
    return ElementSet(
        norad_id=norad,
        epoch=t,
        mean_motion_rev_day=s.no_kozai * 1440.0 / (2 * math.pi),
        eccentricity=m.e,
        inclination_deg=math.degrees(m.i) % 360.0,
        raan_deg=math.degrees(m.node) % 360.0,
        arg_perigee_deg=math.degrees(m.argp) % 360.0,
        mean_anomaly_deg=math.degrees(m.m) % 360.0,
        bstar=m.bstar,
        name=name,
        element_set_no=k + 1,
    )


def leo_mean(alt_km: float = 500.0, e: float = 0.001, inc_deg: float = 97.4,
             node_deg: float = 40.0, argp_deg: float = 90.0, m_deg: float = 0.0,
             bstar: float = 2e-4) -> Mean:
    """Mean elements of a LEO orbit with mean altitude ``alt_km`` (a - R_e)."""
    a = RE + alt_km
    return Mean(XKE / (a / RE) ** 1.5, e, math.radians(inc_deg), math.radians(node_deg),
                math.radians(argp_deg), math.radians(m_deg), bstar)


def epochs_every(start: datetime, days: float, hours: float, jitter_h: float,
                 seed: int = 1) -> list[datetime]:
    """Epochs from ``start`` every ``hours`` ± ``jitter_h`` (uniform), over ``days``."""
    rng = np.random.default_rng(seed)
    out = []
    t = 0.0
    while t <= days * 24.0:
        out.append(start + timedelta(hours=t + rng.uniform(-jitter_h, jitter_h) if t else 0.0))
        t += hours
    return sorted(out)


# ---- the Malligyong-1 scenario of February 2024 ---------------------------------------------
PYONGYANG = (39.0425, 125.7100, 50.0)  # the control centre used in the public analysis


@dataclass(frozen=True)
class Pass:
    """A pass over the station from Skyfield (rise, culmination, set; elevation at culmination)."""

    rise: datetime
    peak: datetime
    set: datetime
    max_elevation_deg: float


def skyfield_passes(sat: Satrec, day: datetime, lat_lon_alt: tuple[float, float, float]
                    ) -> list[Pass]:
    """Passes above 0° over a site during one day, from Skyfield's ``find_events``."""
    from skyfield.api import EarthSatellite, wgs84

    from overflight.times import timescale

    ts = timescale()
    site = wgs84.latlon(lat_lon_alt[0], lat_lon_alt[1], lat_lon_alt[2])
    es = EarthSatellite.from_satrec(sat, ts)
    t, ev = es.find_events(site, ts.from_datetime(day),
                           ts.from_datetime(day + timedelta(days=1)), altitude_degrees=0.0)
    out = []
    for k in range(len(ev) - 2):
        if (ev[k], ev[k + 1], ev[k + 2]) == (0, 1, 2):
            alt = (es - site).at(t[k + 1]).altaz()[0].degrees
            out.append(Pass(t[k].utc_datetime(), t[k + 1].utc_datetime(),
                            t[k + 2].utc_datetime(), float(alt)))
    return out


@functools.cache
def malligyong_february(seed: int = 11) -> tuple[tuple[ElementSet, ...], tuple[Burn, ...],
                                                  tuple[Pass, ...]]:
    """Five daily +0.5 m/s along-track burns, 19-23 February 2024, each at the culmination of
    the best midday pass over Pyongyang, with apogee placed there (so each burn raises the
    perigee by about 1.8 km: 488 km → about 497 km). Element sets every 8 ± 2.5 hours from
    14 to 26 February with realistic scatter.

    Returns (element sets, burns, the passes the burns were placed in).
    """
    start = datetime(2024, 2, 14, tzinfo=UTC)
    a = RE + 500.0
    m0 = leo_mean(500.0, e=12.0 / a, inc_deg=97.43, node_deg=100.0, argp_deg=0.0,
                  bstar=3e-4)

    def midday_pass(sat: Satrec, d: int) -> Pass:
        day = datetime(2024, 2, d, tzinfo=UTC)
        near_noon = [p for p in skyfield_passes(sat, day, PYONGYANG) if 9 <= p.peak.hour <= 15]
        return max(near_noon, key=lambda p: p.max_elevation_deg)

    # Put the apogee where the satellite culminates over Pyongyang on the 19th (same mean
    # argument of latitude, so the passes stay where they are).
    seg = make_satrec(start, m0)
    first = midday_pass(seg, 19)
    r, v = state(seg, first.peak)
    h = np.cross(r, v)
    node = np.array([-h[1], h[0], 0.0]) / math.hypot(h[0], h[1])
    q = np.cross(h / np.linalg.norm(h), node)
    u = math.atan2(float(r @ q), float(r @ node))
    drift = mean_at(seg, first.peak).argp - mean_at(seg, start).argp
    w = u - math.pi - drift
    m1 = Mean(m0.n, m0.e, m0.i, m0.node, w, (m0.argp + m0.m) - w, m0.bstar)
    seg = make_satrec(start, m1)
    burns, passes = [], []
    for d in range(19, 24):
        p = midday_pass(seg, d)
        b = Burn(p.peak, (0.0, 0.5, 0.0))
        r, v = state(seg, b.time)
        seg = fit_to_state(b.time, r, impulse(r, v, b.rtn_m_s), mean_at(seg, b.time))
        burns.append(b)
        passes.append(p)
    epochs = epochs_every(start, 12, 8, 2.5, seed=3)
    sets, _ = series(start, m1, epochs, burns, seed=seed, norad=58400, name="MALLIGYONG-1")
    return tuple(sets), tuple(burns), tuple(passes)
