"""The exact search: where the constraint function changes sign, and the times that matter.

``engine`` hands :func:`search_spans` the screen's :class:`~overflight.access.screen.Spans`;
the :class:`Evaluator` computes the exact constraint function g(t) (elevation, off-nadir and
range margins; a window is g ≥ 0) from ``Fleet.states``, and each span is split until every gap
between evaluated times is proven negative, positive or a single crossing (central-angle,
Lipschitz and second-order bounds). It hands back :class:`Points`, sorted by span then time.
The refiners then turn sign changes into edges (:func:`illinois`, regula falsi to 5 ms), find
the closest approach and the maximum elevation (:func:`extremum`, :func:`straight_top_step`,
:func:`refine_top`), all from the same evaluator. Values are :class:`Geometry` records.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import numpy as np

from overflight.access.fleet import Fleet
from overflight.access.model import F64, I64, RESOLUTION_S, Constraints, Mask, WindowTimes
from overflight.access.screen import DEFLECTION_RAD, SiteSet, Spans, cap_limit
from overflight.constants import EARTH_ROTATION_RAD_S

_BRACKET_S = 30.0  # sign-change gaps are split down to this before root finding
_ACCEL_KM_S2 = 0.015  # bound on a satellite's acceleration in the Earth-fixed frame
# Windows up to this long (s) have a single elevation maximum (a LEO pass is < 20 min);
# the time of maximum elevation is refined with at most _TOP_STEPS straight-line steps.
UNIMODAL_S = 1200.0
_TOP_STEPS = 4


def _inner_cap(r_sat: F64, r_site_max: float, elev_rad: float) -> F64:
    """Largest Earth-central angle (rad) within which a satellite at radius >= ``r_sat`` is
    surely above ``elev_rad`` from a site at radius <= ``r_site_max`` (geodetic vertical
    included); -inf when there is none."""
    e1 = elev_rad + DEFLECTION_RAD
    if e1 >= math.pi / 2:
        return np.full(np.shape(r_sat), -np.inf)
    ratio = np.clip(r_site_max * math.cos(e1) / r_sat, -1.0, 1.0)
    # (A satellite below the highest site proves nothing.)
    out: F64 = np.where(r_sat > r_site_max, np.arccos(ratio) - e1, -np.inf)
    return out


@dataclass(frozen=True, slots=True)
class Geometry:
    """Satellite-site geometry at N (satellite, site, time) triples (:meth:`Evaluator.raw`)."""

    r_km: F64  # (N, 3) satellite position, ITRS; NaN where SGP4 failed
    v_km_s: F64  # (N, 3) satellite velocity, ITRS
    ok: Mask  # SGP4 succeeded
    range_km: F64  # slant range
    elevation_rad: F64  # geometric elevation at the site (geodetic up)
    range_rate_km_s: F64
    # range² × d(sin elevation)/dt = (v·up)·range − (d·up)·range rate: the elevation rate's sign
    elevation_rate_km2_s: F64
    r_sat_km: F64  # satellite's distance from Earth's centre
    gamma_rad: F64  # Earth-central angle between the satellite's and the site's directions
    off_nadir_rad: F64 | None  # off-nadir angle at the satellite (only with an off-nadir limit)

    def take(self, idx: I64) -> Geometry:
        """The triples ``idx``."""
        values: list[Any] = [getattr(self, f) for f in _GEOMETRY_FIELDS]
        taken: list[Any] = [None if x is None else x[idx] for x in values]
        return Geometry(*taken)


_GEOMETRY_FIELDS = tuple(f.name for f in fields(Geometry))


@dataclass(frozen=True, slots=True)
class Points:
    """Evaluations of g at (span, time) points, what :func:`search_spans` hands on.

    Margins are positive where a constraint holds, -inf where SGP4 failed."""

    span: I64  # index of the span
    t_s: F64  # seconds from t0
    elevation_margin_rad: F64
    off_nadir_margin_rad: F64  # +inf without an off-nadir limit
    range_margin_km: F64  # +inf without a range limit
    range_km: F64
    range_rate_km_s: F64
    elevation_rate_km2_s: F64  # as in Geometry
    gamma_rad: F64  # Earth-central angle between the satellite's and the site's directions
    r_sat_km: F64  # satellite's distance from Earth's centre

    @property
    def g(self) -> F64:
        """The constraint function: least margin, in degrees for angles and 10 km for range."""
        angles = np.minimum(self.elevation_margin_rad, self.off_nadir_margin_rad)
        out: F64 = np.minimum(np.degrees(angles), self.range_margin_km / 10.0)
        return out


_POINT_FIELDS = tuple(f.name for f in fields(Points))


class Evaluator:
    """The exact constraint function and geometry of one batch (fleet, sites, constraints);
    counts the (satellite, time) evaluations in :attr:`evaluations`."""

    def __init__(self, fleet: Fleet, ss: SiteSet, c: Constraints) -> None:
        self.fleet = fleet
        self.ss = ss
        self.c = c
        self.elev_rad = math.radians(c.effective_min_elevation_deg())
        self.off_rad = None if c.max_off_nadir_deg is None else math.radians(c.max_off_nadir_deg)
        self.evaluations = 0

    def raw(self, sat: I64, site: I64, t: F64, *, exact: bool = False) -> Geometry:
        """Geometry at N (satellite, site, time) triples; ``exact`` asks SGP4 itself rather
        than the interpolant (for the values reported, not for the search)."""
        r, v, ok = (self.fleet.direct if exact else self.fleet.states)(sat, t)
        self.evaluations += sat.size
        xyz = np.take(self.ss.sites.itrs_km, site, axis=0)
        up = np.take(self.ss.up, site, axis=0)
        d = r - xyz
        rng = np.sqrt(np.einsum("ij,ij->i", d, d))
        d_up = np.einsum("ij,ij->i", d, up)
        el = np.arcsin(np.clip(d_up / rng, -1.0, 1.0))
        rr = np.einsum("ij,ij->i", d, v) / rng
        # Sign of d(elevation)/dt: (v·up)·range − (d·up)·range_rate.
        el_rate = np.einsum("ij,ij->i", v, up) * rng - d_up * rr
        r_sat = np.sqrt(np.einsum("ij,ij->i", r, r))
        cos_gamma = np.einsum("ij,ij->i", r, np.take(self.ss.unit, site, axis=0)) / r_sat
        off = None
        if self.off_rad is not None:
            from overflight.geometry import off_nadir_arrays

            off = np.radians(off_nadir_arrays(r, xyz))
        return Geometry(
            r_km=r,
            v_km_s=v,
            ok=ok,
            range_km=rng,
            elevation_rad=el,
            range_rate_km_s=rr,
            elevation_rate_km2_s=el_rate,
            r_sat_km=r_sat,
            gamma_rad=np.arccos(np.clip(cos_gamma, -1.0, 1.0)),
            off_nadir_rad=off,
        )

    def margin(self, sat: I64, site: I64, t: F64) -> F64:
        """The constraint function g of :attr:`Points.g` alone (positions only; -inf where
        SGP4 fails): what root finding on window edges needs."""
        r, ok = self.fleet.positions(sat, t)
        self.evaluations += sat.size
        xyz = np.take(self.ss.sites.itrs_km, site, axis=0)
        up = np.take(self.ss.up, site, axis=0)
        d = r - xyz
        rng = np.sqrt(np.einsum("ij,ij->i", d, d))
        el = np.arcsin(np.clip(np.einsum("ij,ij->i", d, up) / rng, -1.0, 1.0))
        g = np.degrees(el - self.elev_rad)
        if self.off_rad is not None:
            from overflight.geometry import off_nadir_arrays

            off = np.radians(off_nadir_arrays(r, xyz))
            g = np.minimum(g, np.degrees(self.off_rad - off))
        if self.c.max_range_km is not None:
            g = np.minimum(g, (self.c.max_range_km - rng) / 10.0)
        out: F64 = np.where(ok, g, -np.inf)
        return out

    def points(self, span: I64, sat: I64, site: I64, t: F64) -> Points:
        """:class:`Points` of spans ``span`` (satellites ``sat``, sites ``site``) at ``t``."""
        raw = self.raw(sat, site, t)
        ok = raw.ok
        m_el = raw.elevation_rad - self.elev_rad
        if self.off_rad is not None and raw.off_nadir_rad is not None:
            m_on = self.off_rad - raw.off_nadir_rad
        else:
            m_on = np.full(t.size, np.inf)
        max_rng = self.c.max_range_km
        m_rng = (max_rng - raw.range_km) if max_rng is not None else np.full(t.size, np.inf)
        neg = -np.inf
        return Points(
            span=span,
            t_s=t,
            elevation_margin_rad=np.where(ok, m_el, neg),
            off_nadir_margin_rad=np.where(ok, m_on, neg),
            range_margin_km=np.where(ok, m_rng, neg),
            range_km=raw.range_km,
            range_rate_km_s=raw.range_rate_km_s,
            elevation_rate_km2_s=raw.elevation_rate_km2_s,
            gamma_rad=raw.gamma_rad,
            r_sat_km=raw.r_sat_km,
        )


def _concat(parts: Sequence[Points]) -> Points:
    return Points(*(np.concatenate([getattr(p, f) for p in parts]) for f in _POINT_FIELDS))


def _take(p: Points, idx: I64) -> Points:
    return Points(*(getattr(p, f)[idx] for f in _POINT_FIELDS))


def search_spans(ev: Evaluator, spans: Spans) -> Points:
    """Evaluate each span densely enough that g's sign structure is proven (see module doc);
    ``Points.span`` indexes ``spans``, sorted by span then time."""
    span_sat, span_site, a, b = spans
    n = span_sat.size
    bounds = ev.fleet.bounds
    v_max = bounds.v_max_km_s
    omega = bounds.h_km2_s / (6300.0**2) + EARTH_ROTATION_RAD_S
    idx = np.arange(n)
    pts = ev.points(
        np.concatenate((idx, idx)),
        np.concatenate((span_sat, span_sat)),
        np.concatenate((span_site, span_site)),
        np.concatenate((a, b)),
    )
    all_pts = [pts]
    left = _take(pts, np.arange(n))
    right = _take(pts, np.arange(n, 2 * n))
    while left.t_s.size:
        length = right.t_s - left.t_s
        s = span_sat[left.span]
        vm = v_max[s]
        rho_lo = np.minimum(left.range_km, right.range_km) - vm * length / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            l_el = np.where(rho_lo > 1.0, vm / rho_lo, np.inf)
        l_on = l_el + omega[s]
        inf = np.inf
        with np.errstate(invalid="ignore"):
            sum_el = left.elevation_margin_rad + right.elevation_margin_rad
            ub_el = (sum_el + l_el * length) / 2.0
            lb_el = (sum_el - l_el * length) / 2.0
            sum_on = left.off_nadir_margin_rad + right.off_nadir_margin_rad
            ub_on = (sum_on + l_on * length) / 2.0 if ev.off_rad is not None else inf
            lb_on = (sum_on - l_on * length) / 2.0 if ev.off_rad is not None else inf
            has_rng = ev.c.max_range_km is not None
            sum_rng = left.range_margin_km + right.range_margin_km
            ub_rng = (sum_rng + vm * length) / 2.0 if has_rng else inf
            lb_rng = (sum_rng - vm * length) / 2.0 if has_rng else inf
        ub = np.minimum(np.minimum(ub_el, ub_on), ub_rng)
        # The screen's bound on the Earth-central angle, now over this gap alone: much tighter
        # than the elevation Lipschitz bound far from the threshold.
        vr = bounds.vr_max_km_s[s]
        r_hi = np.maximum(left.r_sat_km, right.r_sat_km) + vr * length / 2.0
        r_lo = np.maximum(np.minimum(left.r_sat_km, right.r_sat_km) - vr * length / 2.0, 6000.0)
        lam = cap_limit(r_hi, ev.ss.r_min_km, ev.elev_rad, ev.off_rad)
        w_max = bounds.h_km2_s[s] / r_lo**2 + EARTH_ROTATION_RAD_S
        # A gap with one failed end (margins -inf) proves nothing: split it down to where
        # SGP4 starts failing.
        one_failed = np.isneginf(left.elevation_margin_rad) != np.isneginf(
            right.elevation_margin_rad
        )
        with np.errstate(invalid="ignore"):
            far = (left.gamma_rad + right.gamma_rad - w_max * length) / 2.0 > lam + 1e-4
            neg = ((ub < 0.0) | far) & ~one_failed
            # Inside for certain: the central angle stays within the cap where the elevation
            # holds for the lowest radius the satellite can have (much tighter than the
            # Lipschitz bound inside a long pass).
            near = (left.gamma_rad + right.gamma_rad + w_max * length) / 2.0 < _inner_cap(
                r_lo, ev.ss.r_max_km, ev.elev_rad
            ) - 1e-4
            # Second-order bounds on sin(elevation) from its values and rates at both ends.
            el_neg, el_pos = _elevation_bounds(ev.elev_rad, left, right, length, vm, rho_lo)
            neg |= el_neg & ~one_failed
            el_in = near | el_pos
            pos = (np.minimum(np.where(el_in, np.inf, lb_el), np.minimum(lb_on, lb_rng)) >= 0.0)
        gl, gr = left.g, right.g
        change = (gl >= 0.0) != (gr >= 0.0)
        # Two positive ends within _BRACKET_S: one window (a dip would need two crossings).
        # ...unless elevation falls then rises across it: a local minimum that may dip below.
        dip = (left.elevation_rate_km2_s < 0.0) & (right.elevation_rate_km2_s > 0.0)
        both_in = (gl >= 0.0) & (gr >= 0.0) & ~dip
        short = length <= _BRACKET_S
        done = neg | pos | (length <= RESOLUTION_S) | ((change | both_in) & short & ~one_failed)
        todo = np.flatnonzero(~done)
        if todo.size == 0:
            break
        lt, rt = _take(left, todo), _take(right, todo)
        mid_t = (lt.t_s + rt.t_s) / 2.0
        mid = ev.points(lt.span, span_sat[lt.span], span_site[lt.span], mid_t)
        all_pts.append(mid)
        left = _concat((lt, mid))
        right = _concat((mid, rt))
    result = _concat(all_pts)
    return _take(result, order_by(result.span, result.t_s))


def _elevation_bounds(
    elev_rad: float, left: Points, right: Points, length: F64, v_max: F64, rho_min: F64
) -> tuple[Mask, Mask]:
    """Gaps where the elevation is proven below / above the limit throughout.

    With f = sin(elevation) = d·up/ρ, |f''| ≤ 2a/ρ + 5v²/ρ² (a the acceleration, v the speed,
    ρ the slant range; from differentiating twice). From each end f is within M·τ²/2 of its
    tangent; the lower (upper) envelope of the two tangent parabolas is extreme at an end or
    where they cross, which is where it is checked against sin(limit)."""
    s_lim = math.sin(elev_rad)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        fl = np.sin(left.elevation_margin_rad + elev_rad)
        fr = np.sin(right.elevation_margin_rad + elev_rad)
        dl = left.elevation_rate_km2_s / left.range_km**2
        dr = right.elevation_rate_km2_s / right.range_km**2
        m = np.where(rho_min > 1.0, 2.0 * _ACCEL_KM_S2 / rho_min + 5.0 * v_max**2 / rho_min**2,
                     np.inf)
        ln = length
        # Upper envelope: fl + dl·τ + m·τ²/2 and fr − dr·(ln − τ) + m·(ln − τ)²/2 cross at
        tau = (fr - fl - dr * ln + m * ln**2 / 2.0) / (dl - dr + m * ln)
        inside = (tau > 0.0) & (tau < ln)
        top = np.where(inside, fl + dl * tau + m * tau**2 / 2.0, np.maximum(fl, fr))
        below = (fl < s_lim) & (fr < s_lim) & (top < s_lim)
        # Lower envelope: fl + dl·τ − m·τ²/2 and fr − dr·(ln − τ) − m·(ln − τ)²/2.
        tau = (fr - fl - dr * ln - m * ln**2 / 2.0) / (dl - dr - m * ln)
        inside = (tau > 0.0) & (tau < ln)
        low = np.where(inside, fl + dl * tau - m * tau**2 / 2.0, np.minimum(fl, fr))
        above = (fl >= s_lim) & (fr >= s_lim) & (low >= s_lim)
    ok = np.isfinite(fl) & np.isfinite(fr) & np.isfinite(dl) & np.isfinite(dr) & np.isfinite(m)
    return below & ok, above & ok


def order_by(group: I64, t: F64) -> I64:
    """Indices sorting by ``group`` then ``t`` (times in seconds, distinct within a group)."""
    if group.size == 0:
        return np.empty(0, dtype=np.int64)
    lo, hi = float(t.min()), float(t.max())
    width = hi - lo + 1.0
    # One float key sorts ~10× faster than lexsort; exact while its spacing stays below 1 ms.
    if (float(group.max()) + 1.0) * width < 4e12:
        out: I64 = np.argsort(group * width + (t - lo))
        return out
    order: I64 = np.lexsort((t, group))
    return order


def illinois(
    f: Callable[[I64, F64], F64],
    ta: F64,
    tb: F64,
    fa: F64,
    fb: F64,
    *,
    tol_s: float = 5e-3,
    max_iter: int = 40,
    inside: bool = False,
) -> F64:
    """Roots of f in [ta, tb] where f(ta), f(tb) differ in sign (Illinois regula falsi).

    ``f(idx, t)`` evaluates the functions of brackets ``idx`` at times ``t``.
    """
    ta, tb, fa, fb = ta.copy(), tb.copy(), fa.copy(), fb.copy()
    side = np.zeros(ta.size, dtype=np.int8)
    active = np.flatnonzero(np.abs(tb - ta) > tol_s)
    for _ in range(max_iter):
        if active.size == 0:
            break
        a, b, fa_, fb_ = ta[active], tb[active], fa[active], fb[active]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = b - fb_ * (b - a) / (fb_ - fa_)
        # Bisect when the secant step is unusable; otherwise keep it at least tol/2 inside the
        # bracket, so a root next to an endpoint collapses the bracket instead of creeping.
        usable = np.isfinite(t) & np.isfinite(fa_) & np.isfinite(fb_)  # -inf: SGP4 failed
        t = np.where(usable, t, (a + b) / 2.0)
        t = np.clip(t, a + tol_s / 2.0, b - tol_s / 2.0)
        ft = f(active, t)
        sd = side[active]
        like_b = np.sign(ft) == np.sign(fb_)
        like_a = ~like_b & (np.sign(ft) == np.sign(fa_))
        hit = ~like_a & ~like_b
        # f(t) has b's sign: t replaces b, and a's value is halved if b moved last time too.
        tb[active] = np.where(like_b, t, np.where(hit, t, b))
        fb[active] = np.where(like_b, ft, fb_)
        fa[active] = np.where(like_b & (sd == -1), fa_ / 2.0, fa_)
        ta[active] = np.where(like_a | hit, t, a)
        fa[active] = np.where(like_a, ft, fa[active])
        fb[active] = np.where(like_a & (sd == 1), fb[active] / 2.0, fb[active])
        side[active] = np.where(like_b, -1, np.where(like_a, 1, 0))
        active = active[np.abs(tb[active] - ta[active]) > tol_s]
    out: F64 = (ta + tb) / 2.0
    if inside:
        # Window edges: report the bracket end where the constraints hold (f >= 0), so the
        # edge itself is a valid time (e.g. before SGP4 starts failing).
        out = np.where(fa >= 0.0, ta, np.where(fb >= 0.0, tb, out))
    return out


def extremum(
    ev: Evaluator,
    rate_of: Callable[[Geometry], F64],
    sign: float,
    sat: I64,
    site: I64,
    start: F64,
    end: F64,
    edges: Geometry,
    edge_val: F64,
    pts: Points,
    pts_val: F64,
    pts_rate: F64,
    i_lo: I64,
    i_hi: I64,
) -> F64:
    """Time of the global extremum in each window: the least ``val`` (range for the peak, minus
    elevation for the maximum elevation) over the window's evaluated points and edges, refined
    where ``sign × rate`` (``rate_of`` a :class:`Geometry`) crosses from negative to positive
    next to that best point. Windows of long orbits can hold several local extrema."""
    w = start.size
    length = i_hi - i_lo + 3  # the edges, then the evaluated points inside
    owner = np.repeat(np.arange(w), length)
    first = np.cumsum(length) - length
    pos = np.arange(owner.size) - first[owner]
    src = np.clip(i_lo[owner] + pos - 1, 0, pts.t_s.size - 1)
    is_start = pos == 0
    is_end = pos == length[owner] - 1
    t = np.where(is_start, start[owner], np.where(is_end, end[owner], pts.t_s[src]))
    val = np.where(
        is_start, edge_val[:w][owner], np.where(is_end, edge_val[w:][owner], pts_val[src])
    )
    edge_rate = rate_of(edges)
    rate = sign * np.where(
        is_start, edge_rate[:w][owner], np.where(is_end, edge_rate[w:][owner], pts_rate[src])
    )
    # The first least value of each window (windows are contiguous runs of ``owner``).
    v = np.nan_to_num(val, nan=np.inf)
    hit = np.flatnonzero(v == np.minimum.reduceat(v, first)[owner])
    best = hit[np.searchsorted(owner[hit], np.arange(w))]
    k = pos[best]
    r_best = rate[best]
    # The extremum lies before the best point when the rate has already turned, else after;
    # the neighbour is the next evaluated time that differs (edges may repeat a point's time).
    before = r_best > 0.0
    top = owner.size - 1
    step = np.where(before, -1, 1)
    nb = np.clip(best + step, 0, top)
    dup = t[nb] == t[best]
    nb = np.where(dup, np.clip(best + 2 * step, 0, top), nb)
    k_nb = k + np.where(dup, 2, 1) * step
    lo = np.where(before, nb, best)
    hi = np.where(before, best, nb)
    at_edge = (k_nb < 0) | (k_nb > length[np.arange(w)] - 1) | (r_best == 0.0)
    out = t[best].copy()
    idx = np.flatnonzero(~at_edge & (rate[lo] < 0.0) & (rate[hi] > 0.0))
    if idx.size:

        def f(sub: I64, tt: F64) -> F64:
            sel = idx[sub]
            return sign * rate_of(ev.raw(sat[sel], site[sel], tt))

        out[idx] = illinois(f, t[lo[idx]], t[hi[idx]], rate[lo[idx]], rate[hi[idx]], tol_s=1e-2)
    result: F64 = out
    return result


def straight_top_step(d: F64, v: F64, up: F64) -> F64:
    """Seconds to the greatest elevation under straight-line motion, from line of sight ``d``
    (km) and velocity ``v`` (km/s); 0 where undefined.

    With d(t) = d + v·t, sin(elevation) = d(t)·up / |d(t)|; its derivative vanishes where
    (v·up)·|d(t)|² = (d(t)·up)·(d(t)·v), which is linear in t."""
    p0 = np.einsum("ij,ij->i", d, up)
    pv = np.einsum("ij,ij->i", v, up)
    dd = np.einsum("ij,ij->i", d, d)
    dv = np.einsum("ij,ij->i", d, v)
    vv = np.einsum("ij,ij->i", v, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        dt = (pv * dd - p0 * dv) / (p0 * vv - pv * dv)
    out: F64 = np.where(np.isfinite(dt), dt, 0.0)
    return out


def _top_by_bracket(ev: Evaluator, sat: I64, site: I64, start: F64, end: F64) -> F64:
    """Time of greatest elevation in windows with a single maximum: an edge, or the root of
    the elevation rate between them."""
    n = sat.size
    edges = ev.raw(np.concatenate((sat, sat)), np.concatenate((site, site)),
                   np.concatenate((start, end)))
    rate_s, rate_e = edges.elevation_rate_km2_s[:n], edges.elevation_rate_km2_s[n:]
    out: F64 = np.where(edges.elevation_rad[:n] >= edges.elevation_rad[n:], start, end)
    inner = np.flatnonzero((rate_s > 0.0) & (rate_e < 0.0))
    if inner.size:

        def f(sub: I64, t: F64) -> F64:
            sel = inner[sub]
            out_: F64 = -ev.raw(sat[sel], site[sel], t).elevation_rate_km2_s
            return out_

        out[inner] = illinois(f, start[inner], end[inner], -rate_s[inner], -rate_e[inner],
                              tol_s=1e-2)
    return out


def true_runs(group: I64, mask: Mask) -> tuple[I64, I64, Mask, Mask]:
    """First and last index of each run of True in ``mask`` within contiguous groups, and
    where each group starts and ends."""
    first = np.ones(group.size, dtype=bool)
    first[1:] = group[1:] != group[:-1]
    last = np.ones(group.size, dtype=bool)
    last[:-1] = first[1:]
    prev = np.zeros(group.size, dtype=bool)
    prev[1:] = mask[:-1]
    nxt = np.zeros(group.size, dtype=bool)
    nxt[:-1] = mask[1:]
    rises = np.flatnonzero(mask & ~(prev & ~first))
    falls = np.flatnonzero(mask & ~(nxt & ~last))
    return rises, falls, first, last


class Top(NamedTuple):
    """The maximum elevation of each window: its time, the satellite's position there, and
    the elevation itself."""

    t_s: F64
    r_km: F64  # (N, 3) ITRS, from SGP4 itself
    elevation_deg: F64


def refine_top(ev: Evaluator, w: WindowTimes, at_top: Geometry) -> Top:
    """The maximum elevation of windows ``w``, from the first estimate ``w.top_s`` and the
    geometry there by SGP4 itself (``at_top``, from ``ev.raw(..., exact=True)``).

    Near the zenith elevation peaks sharply (3°/s for a low pass), so short windows (one
    maximum) take straight-line steps with SGP4's own state, kept where SGP4 confirms them; a
    last sub-50 ms step runs along the line itself. Long windows come refined by
    :func:`extremum`."""
    sat, site = w.sat_index, w.site_index
    xyz = ev.ss.sites.itrs_km[site]
    up = ev.ss.up[site]
    top = w.top_s.copy()
    r_top, v_top = at_top.r_km.copy(), at_top.v_km_s.copy()
    el_top = np.degrees(at_top.elevation_rad)
    start, end = w.start_s, w.end_s

    def adopt(idx: I64, t_new: F64) -> I64:
        """Move the maximum of windows ``idx`` to ``t_new`` where SGP4 says it is higher there;
        returns the windows where it was not."""
        again = ev.raw(sat[idx], site[idx], t_new, exact=True)
        el_new = np.degrees(again.elevation_rad)
        better = el_new > el_top[idx]
        up_ = idx[better]
        top[up_], r_top[up_], v_top[up_] = t_new[better], again.r_km[better], again.v_km_s[better]
        el_top[up_] = el_new[better]
        out: I64 = idx[~better]
        return out

    # Steps only in short windows (one maximum); long ones come refined from the assembly.
    pending = np.flatnonzero(end - start <= UNIMODAL_S)
    for step in range(_TOP_STEPS + 1):
        dt = straight_top_step(r_top[pending] - xyz[pending], v_top[pending], up[pending])
        new = np.clip(top[pending] + dt, start[pending], end[pending])
        moving = np.abs(new - top[pending]) >= 0.05
        pending, new = pending[moving], new[moving]
        if pending.size == 0:
            break
        # Steps that do not settle, or do not raise the elevation, overshoot on a strongly
        # curved path (a decaying object low over the horizon): bracket the maximum instead.
        stuck = pending if step == _TOP_STEPS else adopt(pending, new)
        pending = np.setdiff1d(pending, stuck, assume_unique=True)
        if stuck.size:
            adopt(stuck, _top_by_bracket(ev, sat[stuck], site[stuck], start[stuck], end[stuck]))
    dt = straight_top_step(r_top - xyz, v_top, up)
    polish = np.clip(top + np.where(np.abs(dt) < 0.05, dt, 0.0), start, end)
    moved = np.flatnonzero(polish != top)
    if moved.size:
        # Along the straight line itself: over < 0.05 s it leaves SGP4's curved path by ~1 cm.
        shift = (polish - top)[moved]
        d_pol = (r_top - xyz)[moved] + v_top[moved] * shift[:, None]
        up_m = up[moved]
        sin_el = np.einsum("ij,ij->i", d_pol, up_m) / np.linalg.norm(d_pol, axis=1)
        el_top[moved] = np.fmax(el_top[moved], np.degrees(np.arcsin(np.clip(sin_el, -1, 1))))
    return Top(top, r_top, el_top)
