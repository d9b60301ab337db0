"""Grid-aware coverage windows: a compact set of ground points treated as a field per pass.

The per-point window engine (:mod:`overflight.access`) searches every (satellite, point) pair on
its own. Here, per satellite and per *pass segment* (a stretch of track during which the
satellite can reach some point of the set), every point is placed by its cross-track and
along-track angle relative to the pass; points provably out of reach are dropped with one dot
product each, and for the others closest approach and window edges are solved for all points at
once (vectorised Newton steps on the interpolated track, each edge closed by a verified 2-ms
bracket). Whatever this method cannot settle — grazing passes, short windows, a lighting change
inside a window, windows at the interval's ends, satellites outside its premises (not low,
near-circular orbits; SGP4 errors) — is handed back as (satellite, point) pairs for the
per-point engine. Method, no-miss argument and limits: ``docs/coverage.md``, "Grid-aware
coverage".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from overflight.access import Constraints
from overflight.constants import EARTH_ROTATION_RAD_S
from overflight.elements import ElementSet
from overflight.geometry import WGS84, Site, sites_itrs_km, up_vectors

__all__ = [
    "FIELD_MAX_CAP_DEG",
    "FIELD_MIN_POINTS",
    "FieldWindows",
    "field_eligible",
    "field_suits",
    "field_windows",
    "point_cap",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

FIELD_MIN_POINTS = 64
"""``method="auto"`` uses the field method from this many points up (fewer: per point)."""

FIELD_MAX_CAP_DEG = 15.0
"""...and only when all points lie within a cap of this radius (a region, not the globe)."""

_COARSE_S = 60.0  # screening samples
_FINE_S = 15.0  # interpolation nodes inside pass segments (cubic Hermite error < 0.1 m in LEO)
_MAX_SEGMENT_S = 1800.0  # longer pass segments (a third of a LEO orbit): engine
_DEFLECTION_RAD = math.radians(0.1925 + 0.01)  # geodetic vs geocentric vertical, and margin
_SHORT_S = 10.0  # windows shorter than this (grazing passes): engine
# Edges that the engine's interpolation error (≤ 3.3 m in LEO, docs/access.md) could move by
# more than 4 ms go to the engine: with its 5-ms and our 1-ms brackets, edges stay within 10 ms.
_POSITION_TOL_KM = 0.0033
_CONDITION_S = 4e-3
_GRAZE = 2e-3  # margins (sine/cosine units) this close below 0 at closest approach: engine
_GRAZE_KM = 2.0  # the same for a range limit, km
_EDGE_TOL_S = 1e-3  # edges are reported inside the window, within this of the crossing
_NEWTON_STEPS = 8
_SUN_RATE_DEG_S = 0.0045  # the Sun's elevation changes by at most 361°/day (0.00418°/s)
_CHUNK = 1 << 16


def field_eligible(e: ElementSet) -> bool:
    """Orbits the field method handles: low (≥ 11 rev/day) and near-circular (e < 0.05)."""
    return e.mean_motion_rev_day >= 11.0 and e.eccentricity < 0.05


def point_cap(sites: Sequence[Site]) -> tuple[F64, float]:
    """Unit centre (ITRS) and angular radius (rad) of a cap holding every point's direction."""
    xyz = sites_itrs_km([s.lat_deg for s in sites], [s.lon_deg for s in sites],
                        [s.alt_m for s in sites])
    unit = xyz / np.linalg.norm(xyz, axis=1)[:, None]
    centre = unit.sum(axis=0)
    centre /= np.linalg.norm(centre)
    radius = float(np.arccos(np.clip(unit @ centre, -1.0, 1.0)).max())
    return centre, radius


def field_suits(sites: Sequence[Site]) -> bool:
    """Whether ``method="auto"`` picks the field method for these points."""
    if len(sites) < FIELD_MIN_POINTS:
        return False
    return point_cap(sites)[1] <= math.radians(FIELD_MAX_CAP_DEG)


@dataclass(frozen=True)
class FieldWindows:
    """Windows found by the field method (indices into the given satellites and sites; times in
    ns since the epoch), and what is left to the per-point engine."""

    sat: I64
    site: I64
    start_ns: I64
    end_ns: I64
    peak_range_km: F64
    peak_incidence_deg: F64
    engine_sats: I64
    """Satellites the field method does not handle: every point goes to the engine."""
    fallback_sat: I64
    fallback_site: I64
    """(satellite, point) pairs for the engine (their field windows are already left out)."""


# --------------------------------------------------------------------------------------------
# Reach bounds


def _reach_rad(r_km: F64, r_site_min: float, c: Constraints) -> F64:
    """Upper bound of the Earth-central angle within which a satellite at radius ``r_km`` can
    meet the elevation and off-nadir limits (spherical, with the vertical deflection added)."""
    eps = math.radians(c.effective_min_elevation_deg()) - _DEFLECTION_RAD
    lam: F64 = np.arccos(np.clip(r_site_min * math.cos(eps) / r_km, -1.0, 1.0)) - eps
    if c.max_off_nadir_deg is not None:
        th = min(math.radians(c.max_off_nadir_deg) + _DEFLECTION_RAD, math.pi / 2)
        s = r_km * math.sin(th) / r_site_min
        lam_on = np.where(s < 1.0, np.arcsin(np.clip(s, -1.0, 1.0)) - th, np.inf)
        lam = np.minimum(lam, lam_on)
    return lam + 1e-3


# --------------------------------------------------------------------------------------------
# The interpolated track of every pass segment, as one table of cubics


class _Track:
    """Cubic Hermite pieces of ITRS position over the fine nodes of all pass segments."""

    def __init__(self, t: list[F64], r: list[F64], v: list[F64]) -> None:
        self.seg_t0 = np.array([x[0] for x in t])
        self.seg_n = np.array([x.size for x in t], dtype=np.int64)
        self.seg_first = np.concatenate(([0], np.cumsum(self.seg_n)[:-1])).astype(np.int64)
        p = np.concatenate(r)
        m = np.concatenate(v) * _FINE_S
        p1 = np.roll(p, -1, axis=0)
        m1 = np.roll(m, -1, axis=0)
        # r(s) = C0 + C1 s + C2 s² + C3 s³ on each piece, s in [0, 1].
        k = _z_stretch(p)
        k1 = np.roll(k, -1)
        self.coef = np.concatenate(
            (p, m, 3.0 * (p1 - p) - 2.0 * m - m1, 2.0 * (p - p1) + m + m1, k[:, None],
             (k1 - k)[:, None]), axis=1)

    def piece(self, seg: I64, t: F64) -> tuple[F64, F64]:
        u = (t - self.seg_t0[seg]) / _FINE_S
        i = np.clip(np.floor(u), 0, self.seg_n[seg] - 2).astype(np.int64)
        return self.coef[self.seg_first[seg] + i], u - i

    def state(self, seg: I64, t: F64, order: int, *, up: bool = False) -> tuple[F64, ...]:
        """Position (km), then velocity (km/s) and acceleration (km/s²) up to ``order``, then
        (if ``up``) the geodetic up unit vector at the sub-satellite point."""
        c, s = self.piece(seg, t)
        s1 = s[:, None]
        c0, c1, c2, c3 = c[:, 0:3], c[:, 3:6], c[:, 6:9], c[:, 9:12]
        r = ((c3 * s1 + c2) * s1 + c1) * s1 + c0
        out = [r]
        if order >= 1:
            out.append(((3.0 * c3 * s1 + 2.0 * c2) * s1 + c1) / _FINE_S)
        if order >= 2:
            out.append((6.0 * c3 * s1 + 2.0 * c2) / (_FINE_S * _FINE_S))
        if up:
            nrm = r.copy()
            nrm[:, 2] *= c[:, 12] + c[:, 13] * s
            nrm /= np.sqrt(_dot(nrm, nrm))[:, None]
            out.append(nrm)
        return tuple(out)


def _dot(a: F64, b: F64) -> F64:
    out: F64 = a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1] + a[:, 2] * b[:, 2]
    return out


def _z_stretch(r: F64) -> F64:
    """``k`` with geodetic up ∝ (x, y, k·z) at ITRS points ``r``: with N the prime-vertical
    radius and h the height, x = (N+h)cosφcosλ and z = (N(1−e²)+h)sinφ, so
    k = (N+h)/(N(1−e²)+h). It changes by ~1e-5 over a quarter orbit: linear interpolation
    between 15-s nodes is exact to ~1e-9."""
    from overflight.geometry import nadir_point

    g = nadir_point(r)
    e2 = WGS84.e2
    sl = np.sin(np.radians(g.lat_deg))
    n = WGS84.a_km / np.sqrt(1.0 - e2 * sl * sl)
    out: F64 = (n + g.alt_km) / (n * (1.0 - e2) + g.alt_km)
    return out


class _Margins:
    """Constraint margins (≥ 0 inside) and their time derivatives at (segment, point, t)."""

    def __init__(self, track: _Track, c: Constraints, xyz: F64, up: F64) -> None:
        self.track = track
        self.xyz = xyz
        self.up = up
        self.sin_el = math.sin(math.radians(c.effective_min_elevation_deg()))
        self.cos_on = (None if c.max_off_nadir_deg is None
                       else math.cos(math.radians(c.max_off_nadir_deg)))
        self.max_rng = c.max_range_km
        self.kinds = ["el"] + (["on"] if self.cos_on is not None else []) + (
            ["rng"] if self.max_rng is not None else [])

    def values(self, seg: I64, site: I64, t: F64, *, rates: bool = False
               ) -> tuple[dict[str, F64], dict[str, F64], F64]:
        """Margins, their rates (if asked) and the range (km)."""
        on = self.cos_on is not None
        st = self.track.state(seg, t, 1 if rates else 0, up=on)
        r = st[0]
        v = st[1] if rates else r
        d = r - self.xyz[site]
        rho = np.sqrt(_dot(d, d))
        inv = 1.0 / rho
        up = self.up[site]
        d_up = _dot(d, up)
        out = {"el": d_up * inv - self.sin_el}
        der: dict[str, F64] = {}
        if rates:
            dv = _dot(d, v)
            der["el"] = (_dot(v, up) - d_up * dv * inv * inv) * inv
        if self.cos_on is not None:
            n = st[-1]
            dn = _dot(d, n)
            out["on"] = dn * inv - self.cos_on
            if rates:
                rn = np.sqrt(_dot(r, r))
                vn = _dot(v, n)
                n_rate = (v - n * vn[:, None]) / rn[:, None]  # spherical approximation
                der["on"] = (_dot(d, n_rate) + vn - dn * dv * inv * inv) * inv
        if self.max_rng is not None:
            out["rng"] = self.max_rng - rho
            if rates:
                der["rng"] = -dv * inv
        return out, der, rho


# --------------------------------------------------------------------------------------------
# Driver


def _segments(ok_gap: B) -> list[tuple[int, int]]:
    """Runs of True gaps as sample index ranges [first, last] (inclusive samples)."""
    flag = np.concatenate(([False], ok_gap, [False])).astype(np.int8)
    d = np.diff(flag)
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def field_windows(
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    c: Constraints,
) -> FieldWindows:
    """Windows of ``elsets`` over ``sites`` in [start, end] by the field method (module doc)."""
    from overflight.propagation import Propagator
    from overflight.times import to_datetime64, utc

    t0_ns = int(to_datetime64(utc(start))[0].astype(np.int64))
    dur = (utc(end) - utc(start)).total_seconds()
    lat = np.array([s.lat_deg for s in sites])
    lon = np.array([s.lon_deg for s in sites])
    xyz = sites_itrs_km(lat, lon, np.array([s.alt_m for s in sites]))
    up = up_vectors(lat, lon)
    rs = np.linalg.norm(xyz, axis=1)
    unit = xyz / rs[:, None]
    centre = unit.sum(axis=0)
    centre /= np.linalg.norm(centre)
    cap = float(np.arccos(np.clip(unit @ centre, -1.0, 1.0)).max())
    r_site_min = float(rs.min()) - 0.5

    idx = np.array([i for i, e in enumerate(elsets) if field_eligible(e)], dtype=np.int64)
    engine = [i for i, e in enumerate(elsets) if not field_eligible(e)]
    # Coarse samples a little beyond the interval, so windows cut by its ends are whole here.
    tc = np.arange(-2.0 * _COARSE_S, dur + 2.0 * _COARSE_S + 1e-9, _COARSE_S)

    def times64(t: F64) -> npt.NDArray[np.datetime64]:
        return (t0_ns + np.round(t * 1e9).astype(np.int64)).astype("datetime64[ns]")

    seg_sat: list[int] = []
    seg_t: list[F64] = []
    seg_r: list[F64] = []
    seg_v: list[F64] = []
    if idx.size:
        prop = Propagator([elsets[i] for i in idx])
        eph = prop.propagate(times64(tc), workers=1)
        bad = (eph.error != 0).any(axis=1)
        r, v = eph.position_km, eph.velocity_km_s
        rn = np.linalg.norm(r, axis=2)
        alpha = np.arccos(np.clip(np.einsum("stk,k->st", r, centre) / rn, -1.0, 1.0))
        turn = np.linalg.norm(v, axis=2) / rn
        vr = np.abs(np.einsum("stk,stk->st", r, v)) / rn
        omega = 1.02 * np.maximum(turn[:, 1:], turn[:, :-1])
        r_max = (np.maximum(rn[:, 1:], rn[:, :-1]) + 0.5 * _COARSE_S
                 * np.maximum(vr[:, 1:], vr[:, :-1]) + 1.0)
        lam = _reach_rad(r_max, r_site_min, c)
        # Within a gap the angle to the cap's centre is at least (α_j + α_j+1 − ω·step)/2;
        # a point of the cap can be reached only where it is at most cap + reach.
        near = (alpha[:, 1:] + alpha[:, :-1] - omega * _COARSE_S) / 2.0 <= cap + lam
        for k, i in enumerate(idx.tolist()):
            if bad[k]:
                engine.append(i)
                continue
            segs = _segments(near[k])
            if any((tc[b] - tc[a]) > _MAX_SEGMENT_S for a, b in segs):
                engine.append(i)
                continue
            for a, b in segs:
                seg_sat.append(i)
                seg_t.append(np.arange(tc[a], tc[b] + 1e-9, _FINE_S))
    if seg_t:
        # Fine nodes per satellite in one call each (every segment of it at once).
        by_sat: dict[int, list[int]] = {}
        for j, i in enumerate(seg_sat):
            by_sat.setdefault(i, []).append(j)
        seg_r = [np.empty(0)] * len(seg_t)
        seg_v = [np.empty(0)] * len(seg_t)
        failed: set[int] = set()
        for i, js in by_sat.items():
            tt = np.concatenate([seg_t[j] for j in js])
            eph = Propagator([elsets[i]]).propagate(times64(tt), workers=1)
            if (eph.error != 0).any():
                failed.add(i)
            pos, vel = eph.position_km[0], eph.velocity_km_s[0]
            o = 0
            for j in js:
                n = seg_t[j].size
                seg_r[j], seg_v[j] = pos[o:o + n], vel[o:o + n]
                o += n
        if failed:
            keep = [j for j, i in enumerate(seg_sat) if i not in failed]
            engine += sorted(failed)
            seg_sat = [seg_sat[j] for j in keep]
            seg_t = [seg_t[j] for j in keep]
            seg_r = [seg_r[j] for j in keep]
            seg_v = [seg_v[j] for j in keep]

    out_sat: list[I64] = []
    out_site: list[I64] = []
    out_a: list[F64] = []
    out_b: list[F64] = []
    out_rng: list[F64] = []
    out_inc: list[F64] = []
    fb_sat: list[I64] = []
    fb_site: list[I64] = []
    if seg_t:
        track = _Track(seg_t, seg_r, seg_v)
        margins = _Margins(track, c, xyz, up)
        sun = _SunLook(c, tc[0], tc[-1], t0_ns)
        pair_seg, pair_site, guess, key = _candidates(seg_t, seg_r, seg_v, unit, r_site_min, c)
        sat_of_seg = np.array(seg_sat, dtype=np.int64)
        lo_seg = np.array([t[0] for t in seg_t])
        hi_seg = np.array([t[-1] for t in seg_t])
        for a in range(0, pair_seg.size, _CHUNK):
            sl = slice(a, a + _CHUNK)
            res = _solve(margins, sun, pair_seg[sl], pair_site[sl], guess[sl], key[sl], lo_seg,
                         hi_seg, dur, c)
            seg_w, site_w, ta, tb, rng, inc, unsure = res
            out_sat.append(sat_of_seg[seg_w])
            out_site.append(site_w)
            out_a.append(ta)
            out_b.append(tb)
            out_rng.append(rng)
            out_inc.append(inc)
            fb_sat.append(sat_of_seg[pair_seg[sl][unsure]])
            fb_site.append(pair_site[sl][unsure])

    def cat_i(parts: list[I64]) -> I64:
        return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)

    def cat_f(parts: list[F64]) -> F64:
        return np.concatenate(parts) if parts else np.empty(0)

    w_sat, w_site = cat_i(out_sat), cat_i(out_site)
    f_sat, f_site = cat_i(fb_sat), cat_i(fb_site)
    # A pair left to the engine keeps none of its field windows (the engine redoes them all).
    n_sites = len(sites)
    fb_key = np.unique(f_sat * n_sites + f_site)
    keep = ~np.isin(w_sat * n_sites + w_site, fb_key)
    ta_all, tb_all = cat_f(out_a)[keep], cat_f(out_b)[keep]
    return FieldWindows(
        sat=w_sat[keep],
        site=w_site[keep],
        start_ns=t0_ns + np.round(ta_all * 1e9).astype(np.int64),
        end_ns=t0_ns + np.round(tb_all * 1e9).astype(np.int64),
        peak_range_km=cat_f(out_rng)[keep],
        peak_incidence_deg=cat_f(out_inc)[keep],
        engine_sats=np.array(sorted(set(engine)), dtype=np.int64),
        fallback_sat=(fb_key // n_sites).astype(np.int64),
        fallback_site=(fb_key % n_sites).astype(np.int64),
    )


def _candidates(seg_t: list[F64], seg_r: list[F64], seg_v: list[F64], unit: F64,
                r_site_min: float, c: Constraints) -> tuple[I64, I64, F64, F64]:
    """Points that may be reached during each segment, with a first guess of closest approach.

    Cross-track angle ``c`` about the pole ``n`` of the plane through the segment's ends: the
    central angle between a point and the satellite is at least the difference of their cross-
    track angles, and the satellite's lies within [c_lo, c_hi] (samples, and at most ω·step/2
    between them), so a point outside [c_lo − reach, c_hi + reach] is out of reach throughout.
    """
    segs: list[I64] = []
    sites: list[I64] = []
    guesses: list[F64] = []
    keys: list[F64] = []
    for j, (t, r, v) in enumerate(zip(seg_t, seg_r, seg_v, strict=True)):
        rn = np.linalg.norm(r, axis=1)
        rh = r / rn[:, None]
        n = np.cross(rh[0], rh[-1])
        n /= np.linalg.norm(n)
        m = rh[0] + rh[-1]
        m /= np.linalg.norm(m)
        b = np.cross(n, m)
        cs = np.arcsin(np.clip(rh @ n, -1.0, 1.0))
        psi = np.arctan2(rh @ b, rh @ m)
        turn = np.linalg.norm(v, axis=1) / rn
        om = 1.02 * np.maximum(turn[1:], turn[:-1])
        c_hi = float(((cs[1:] + cs[:-1] + om * _FINE_S) / 2.0).max())
        c_lo = float(((cs[1:] + cs[:-1] - om * _FINE_S) / 2.0).min())
        vr = np.abs(np.einsum("ij,ij->i", r, v)) / rn
        r_max = float((rn + 0.5 * _FINE_S * vr).max()) + 1.0
        lam = float(_reach_rad(np.array([r_max]), r_site_min, c)[0])
        cp = np.arcsin(np.clip(unit @ n, -1.0, 1.0))
        near = np.flatnonzero((cp >= c_lo - lam) & (cp <= c_hi + lam))
        if near.size == 0:
            continue
        if not np.all(np.diff(psi) > 0):
            # Not a simple pass (cannot happen for the orbits admitted): every point, guess
            # in the middle; the solver's checks then send what it cannot settle to the engine.
            guess = np.full(near.size, (t[0] + t[-1]) / 2.0)
        else:
            pp = np.arctan2(unit[near] @ b, unit[near] @ m)
            guess = np.interp(pp, psi, t)
        segs.append(np.full(near.size, j, dtype=np.int64))
        sites.append(near.astype(np.int64))
        guesses.append(guess)
        keys.append(10.0 * j + 2.0 + cp[near])
    if not segs:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0)
    return (np.concatenate(segs), np.concatenate(sites), np.concatenate(guesses),
            np.concatenate(keys))


class _SunLook:
    """Lighting at window ends, and whether it can change inside a window (rate bounds)."""

    def __init__(self, c: Constraints, lo_s: float, hi_s: float, t0_ns: int) -> None:
        self.c = c
        self.t0_ns = t0_ns
        self.active = (c.sun_min_deg is not None or c.sun_max_deg is not None
                       or c.sunlit is not None)
        self.track = None
        if self.active:
            from overflight.sun import SunTrack

            self.track = SunTrack(self._t64(np.array([lo_s])), self._t64(np.array([hi_s])))

    def _t64(self, t: F64) -> npt.NDArray[np.datetime64]:
        return (self.t0_ns + np.round(t * 1e9).astype(np.int64)).astype("datetime64[ns]")

    def classify(self, margins: _Margins, seg: I64, site: I64, ta: F64, tb: F64
                 ) -> tuple[B, B]:
        """(all lit as required, possibly changing) for windows [ta, tb]."""
        n = ta.size
        ok = np.ones(n, dtype=bool)
        unsure = np.zeros(n, dtype=bool)
        if not self.active or n == 0:
            return ok, unsure
        from overflight.sun import is_sunlit

        assert self.track is not None
        c = self.c
        span = tb - ta
        sun_a = self.track.itrs_km(self._t64(ta))
        sun_b = self.track.itrs_km(self._t64(tb))
        if c.sun_min_deg is not None or c.sun_max_deg is not None:
            x, up = margins.xyz[site], margins.up[site]
            el = []
            for s in (sun_a, sun_b):
                d = s - x
                el.append(np.degrees(np.arcsin(np.clip(
                    _dot(d, up) / np.sqrt(_dot(d, d)), -1.0, 1.0))))
            for limit, sign in ((c.sun_min_deg, 1.0), (c.sun_max_deg, -1.0)):
                if limit is None:
                    continue
                ma, mb = sign * (el[0] - limit), sign * (el[1] - limit)
                reach = _SUN_RATE_DEG_S * span + 1e-3
                inside = (ma + mb - reach) / 2.0 > 0.0
                outside = (ma + mb + reach) / 2.0 < 0.0
                ok &= ~outside
                unsure |= ~inside & ~outside
        if c.sunlit is not None:
            lit_ends = []
            dist = []
            speed = []
            for t, s in ((ta, sun_a), (tb, sun_b)):
                r, v = margins.track.state(seg, t, 1)
                lit_ends.append(is_sunlit(r, s) == c.sunlit)
                dist.append(_shadow_distance_km(r, s))
                speed.append(np.sqrt(_dot(v, v)) + EARTH_ROTATION_RAD_S * np.sqrt(_dot(r, r)))
            rate = 1.1 * np.maximum(speed[0], speed[1]) + 0.01
            steady = (dist[0] + dist[1] - rate * span) / 2.0 > 0.5
            same = lit_ends[0] == lit_ends[1]
            unsure |= ~(steady & same)
            ok &= lit_ends[0]
        return ok & ~unsure, unsure


def _shadow_distance_km(r: F64, sun: F64) -> F64:
    """A lower bound (km) of the distance from each satellite to the boundary of the region
    :func:`overflight.sun.is_sunlit` calls shadow: a point leaves or enters it only by crossing
    the plane through Earth's centre facing the Sun or the cylinder of Earth's radius around the
    Sun line (distance to the line is 1-Lipschitz)."""
    to_sun = sun - r
    ts = np.sqrt(_dot(to_sun, to_sun))
    st = _dot(r, to_sun) / ts
    miss = np.sqrt(np.maximum(_dot(r, r) - st * st, 0.0))
    out: F64 = np.minimum(np.abs(st), np.abs(miss - WGS84.a_km))
    return out


def _solve(
    mg: _Margins,
    sun: _SunLook,
    seg: I64,
    site: I64,
    guess: F64,
    key: F64,
    lo_seg: F64,
    hi_seg: F64,
    dur: float,
    c: Constraints,
) -> tuple[I64, I64, F64, F64, F64, F64, B]:
    """Windows of candidate pairs: closest approach, then each binding margin's two crossings.

    ``key`` orders the pairs by segment, then cross-track angle (neighbours on the field).
    Returns the windows (segment, site, start s, end s, range and incidence at closest
    approach) and a mask over the pairs of those left to the engine.
    """
    n = seg.size
    lo, hi = lo_seg[seg], hi_seg[seg]
    unsure = np.zeros(n, dtype=bool)
    # 1. Closest approach: Newton on the range rate d·v (derivative v·v + d·a). It only has to
    # be near the maximum of each margin (10 ms moves a margin by ~1e-9); a point where every
    # margin is ≥ 0 is inside the window whatever its accuracy.
    t = np.clip(guess, lo, hi)
    x = mg.xyz[site]
    step = np.full(n, np.inf)
    act = np.arange(n)
    for _ in range(_NEWTON_STEPS):
        r, v, a = mg.track.state(seg[act], t[act], 2)
        d = r - x[act]
        f1 = _dot(v, v) + _dot(d, a)
        dt = -_dot(d, v) / np.where(f1 > 0, f1, np.nan)
        step[act] = np.abs(dt)
        t[act] = np.clip(t[act] + np.nan_to_num(dt, nan=0.0), lo[act], hi[act])
        act = act[~(step[act] < 1e-2)]
        if act.size == 0:
            break
    unsure |= ~(step < 1e-2)  # no convergence, or not a minimum (NaN)
    unsure |= (t <= lo + 1.0) | (t >= hi - 1.0)
    peak = t
    m0 = mg.values(seg, site, peak)[0]
    has = ~unsure
    for k in mg.kinds:
        graze = _GRAZE_KM if k == "rng" else _GRAZE
        unsure |= has & (m0[k] < 0.0) & (m0[k] >= -graze)
        has &= m0[k] >= 0.0
    has &= ~unsure
    # 2. Edges of each margin on both sides of the peak; the window is their intersection.
    w = np.flatnonzero(has)
    ws, wsite, wpk, wkey = seg[w], site[w], peak[w], key[w]
    ta = lo[w].copy()
    tb = hi[w].copy()
    bad = np.zeros(w.size, dtype=bool)
    binding_a = np.zeros(w.size, dtype=bool)
    binding_b = np.zeros(w.size, dtype=bool)
    for side in (-1.0, 1.0):
        outer = lo[w] if side < 0 else hi[w]
        m_out = mg.values(ws, wsite, outer)[0]
        for k in mg.kinds:
            need = np.flatnonzero(m_out[k] < 0.0)
            edge, fail = _field_edge(mg, k, ws[need], wsite[need], wpk[need], outer[need],
                                     wkey[need])
            bad[need[fail]] = True
            if side < 0:
                ta[need] = np.maximum(edge, ta[need])
                binding_a[need] = True
            else:
                tb[need] = np.minimum(edge, tb[need])
                binding_b[need] = True
    # An edge no margin closes lies at a segment end, where the satellite is out of reach by
    # construction; it can only be outside the interval (the nodes reach beyond it).
    bad |= (~binding_a & (ta >= 0.0)) | (~binding_b & (tb <= dur))
    # Cut by the interval; windows touching its ends within 50 ms, short windows, and windows
    # near the duration limit go to the engine.
    ca, cb = np.maximum(ta, 0.0), np.minimum(tb, dur)
    bad |= (np.abs(ta) < 0.05) | (np.abs(tb - dur) < 0.05) | (np.abs(ta - dur) < 0.05) | (
        np.abs(tb) < 0.05)
    inside = cb > ca
    bad |= inside & ((tb - ta) < _SHORT_S)
    bad |= inside & (np.abs((cb - ca) - c.min_duration_s) < 0.05) & (c.min_duration_s > 0)
    keep = inside & ~bad & ((cb - ca) >= c.min_duration_s)
    lit_ok, lit_unsure = sun.classify(mg, ws, wsite, ca, cb)
    bad |= inside & lit_unsure
    keep &= lit_ok & ~lit_unsure
    unsure[w[bad]] = True
    kk = np.flatnonzero(keep)
    pk = np.clip(wpk[kk], ca[kk], cb[kk])
    m_pk, _, rho = mg.values(ws[kk], wsite[kk], pk)
    el = np.arcsin(np.clip(m_pk["el"] + mg.sin_el, -1.0, 1.0))
    return (ws[kk], wsite[kk], ca[kk], cb[kk], rho, 90.0 - np.degrees(el), unsure)


_ANCHOR_EVERY = 16


def _field_edge(mg: _Margins, kind: str, seg: I64, site: I64, t_in: F64, t_out: F64,
                key: F64) -> tuple[F64, B]:
    """Crossings of margin ``kind`` between ``t_in`` (≥ 0) and ``t_out`` (< 0) for pairs
    ordered on the field by ``key``: every 16th pair (and each segment's first and last) is
    solved from the bracket alone; the others start from their neighbours' offset from the
    peak, interpolated in cross-track angle — a guess only: every crossing is verified."""
    n = seg.size
    if n == 0:
        return t_in.copy(), np.zeros(0, dtype=bool)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    sgs = seg[order]
    pick = np.zeros(n, dtype=bool)
    pick[::_ANCHOR_EVERY] = True
    pick[-1] = True
    pick[1:] |= sgs[1:] != sgs[:-1]
    pick[:-1] |= sgs[1:] != sgs[:-1]
    anc = order[pick]
    e_anc, f_anc = _edge(mg, kind, seg[anc], site[anc], t_in[anc], t_out[anc], None)
    good = ~f_anc
    off = np.abs(e_anc - t_in[anc])[good]
    guess = t_in + np.sign(t_out - t_in) * np.interp(key, ks[pick][good], off) if good.any() \
        else None
    edge, fail = _edge(mg, kind, seg, site, t_in, t_out, guess)
    return edge, fail


def _edge(mg: _Margins, kind: str, seg: I64, site: I64, t_in: F64, t_out: F64,
          guess: F64 | None) -> tuple[F64, B]:
    """The crossing of margin ``kind`` between ``t_in`` (≥ 0) and ``t_out`` (< 0): Newton
    steps kept inside the bracket (bisection where they leave it), then a verified bracket of
    at most 1 ms whose inside end is returned; pairs that do not converge are flagged."""
    n = seg.size
    a, b = t_in.copy(), t_out.copy()  # m(a) >= 0 > m(b)
    fail = np.zeros(n, dtype=bool)
    if n == 0:
        return a, fail
    if guess is None:
        t = a + (b - a) * 0.5
    else:
        lo_, hi_ = np.minimum(a, b), np.maximum(a, b)
        t = np.where((guess > lo_) & (guess < hi_), guess, a + (b - a) * 0.5)
    active = np.arange(n)
    slope = np.zeros(n)  # speed across the line of sight that moves the margin, km/s
    for _ in range(6 * _NEWTON_STEPS):
        if active.size == 0:
            break
        m, der, rho = mg.values(seg[active], site[active], t[active], rates=True)
        mk, dk = m[kind], der[kind]
        # Angle margins are sin(elevation) and cos(off-nadir): angle rate = |dm/dt| / trig.
        if kind == "rng":
            slope[active] = np.abs(dk)
        else:
            base = mk + (mg.sin_el if kind == "el" else (mg.cos_on or 0.0))
            trig = np.sqrt(np.maximum(1.0 - base * base, 1e-12))
            slope[active] = np.abs(dk) * rho / trig
        ins = mk >= 0.0
        a[active] = np.where(ins, t[active], a[active])
        b[active] = np.where(ins, b[active], t[active])
        nt = t[active] - mk / np.where(dk != 0.0, dk, np.nan)
        aa, bb = a[active], b[active]
        lo_, hi_ = np.minimum(aa, bb), np.maximum(aa, bb)
        # Outside the bracket (or no slope): bisect.
        off = ~((nt > lo_) & (nt < hi_))
        nt = np.where(off, (aa + bb) / 2.0, nt)
        moved = np.abs(nt - t[active])
        t[active] = nt
        # A Newton step under 0.2 ms leaves the next within ~1e-7 s of the crossing.
        done = ((moved < 2e-4) & ~off) | (np.abs(bb - aa) <= _EDGE_TOL_S)
        active = active[~done]
    fail[active] = True
    # Verify: a bracket of at most 1 ms around the converged crossing ``t``. One end is usually
    # the last evaluated time (within 0.2 ms); probe 0.3 ms beyond ``t`` on the other side.
    direction = np.sign(b - a)  # from inside to outside
    near = 0.7 * _EDGE_TOL_S
    need_in = np.flatnonzero(~fail & (np.abs(t - a) > near))
    need_out = np.flatnonzero(~fail & (np.abs(b - t) > near))
    probe = np.concatenate((need_in, need_out))
    if probe.size:
        k = need_in.size
        shift = 0.3 * _EDGE_TOL_S * direction[probe]
        tp = t[probe] + np.concatenate((-shift[:k], shift[k:]))
        m = mg.values(seg[probe], site[probe], tp)[0][kind]
        ins = m >= 0.0
        a[probe] = np.where(ins, np.where(direction[probe] > 0, np.maximum(a[probe], tp),
                                          np.minimum(a[probe], tp)), a[probe])
        b[probe] = np.where(ins, b[probe], np.where(direction[probe] > 0,
                                                    np.minimum(b[probe], tp),
                                                    np.maximum(b[probe], tp)))
    fail |= ~(np.abs(b - a) <= 1.2 * _EDGE_TOL_S)
    # Ill-conditioned crossings (a grazing edge, where the margin barely changes): a few metres
    # of difference between two interpolations of the same SGP4 track would move them by
    # milliseconds; the engine decides those.
    fail |= _POSITION_TOL_KM / np.maximum(slope, 1e-12) > _CONDITION_S
    return a, fail
