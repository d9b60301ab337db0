"""Lighting: clip geometric windows to the parts where the Sun and shadow constraints hold.

:class:`Lighting` takes the :class:`~overflight.access.model.WindowTimes` that ``engine``
assembled from the search and walks through each window: from every sample the next is as far
as no lighting condition can change (the Sun's elevation rate, the satellite's speed against
Earth's shadow: :func:`_shadow_distance_km`), down to 15 s near a possible change. Changes are
bisected to 10 ms and each window is split into the parts where the conditions hold; it hands
back :class:`WindowTimes` with clipped edges marked (``sun``, ``sunlit``). The Sun's position
(:meth:`Lighting.sun_km`) and :func:`sun_elevation_pairs` also serve the reported attributes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from overflight.access.model import F64, I8, I64, WindowTimes
from overflight.access.search import Evaluator, order_by, true_runs
from overflight.constants import WGS84_A_KM

_LIGHT_STEP_S = 15.0
_LIGHT_MAX_STEP_S = 3600.0
_SUN_RATE_DEG_S = 0.0045  # the Sun's elevation changes by at most 361°/day (0.00418°/s)


def _shadow_distance_km(r: F64, sun: F64) -> F64:
    """Distance (km) from each satellite to the edge of Earth's shadow as :func:`is_sunlit`
    draws it (a cylinder of Earth's radius behind Earth, along the line to the Sun)."""
    to_sun = sun - r
    u = to_sun / np.linalg.norm(to_sun, axis=1)[:, None]
    x = np.einsum("ij,ij->i", r, u)  # > 0: the Sun side
    rho = np.sqrt(np.maximum(np.einsum("ij,ij->i", r, r) - x * x, 0.0))
    radius = WGS84_A_KM
    lit_side = np.where(x >= 0.0, np.hypot(x, np.maximum(rho - radius, 0.0)), rho - radius)
    shadow = np.minimum(radius - rho, -x)
    out: F64 = np.abs(np.where((x < 0.0) & (rho < radius), shadow, lit_side))
    return out


def sun_elevation_pairs(sun_km: F64, site_xyz: F64, up: F64) -> F64:
    """Sun elevation (deg) at N sites (ITRS km, geodetic ``up``) with N Sun positions (km)."""
    d = sun_km - site_xyz
    s = np.einsum("ij,ij->i", d, up) / np.linalg.norm(d, axis=1)
    out: F64 = np.degrees(np.arcsin(np.clip(s, -1.0, 1.0)))
    return out


class Lighting:
    """The lighting constraints of one batch (the evaluator's constraints and fleet)."""

    def __init__(self, ev: Evaluator) -> None:
        self.ev = ev
        c = ev.c
        self.active = c.sun_min_deg is not None or c.sun_max_deg is not None or c.sunlit is not None
        # The Sun's elevation changes by at most 360°/day (0.0042°/s): sample finely enough
        # that a narrow Sun band cannot fall between two samples.
        step = _LIGHT_STEP_S
        if c.sun_min_deg is not None and c.sun_max_deg is not None:
            step = min(step, max(0.05, 0.5 * (c.sun_max_deg - c.sun_min_deg) / 0.00417))
        self.step_s = step
        self._sun: Any = None

    def sun_km(self, t: F64) -> F64:
        """Sun positions (km, ITRS) at times ``t`` (s from t0) inside the interval."""
        from overflight.sun import SunTrack

        if self._sun is None:
            fleet = self.ev.fleet
            self._sun = SunTrack(fleet.t0, fleet.times64(np.array([fleet.duration_s])),
                                 step_s=21600.0)
        out: F64 = self._sun.itrs_km(self.ev.fleet.times64(t))
        return out

    def failing(self, sat: I64, site: I64, t: F64) -> I8:
        """0 where lighting constraints hold, 2 where the Sun fails them, 3 where sunlit does."""
        return self._failing(sat, site, t)[0]

    def _failing(self, sat: I64, site: I64, t: F64) -> tuple[I8, F64]:
        """:meth:`failing`, and how long (s) no lighting condition can change from there."""
        from overflight.sun import is_sunlit

        c = self.ev.c
        r, _, _ = self.ev.fleet.states(sat, t)
        sun = self.sun_km(t)
        ss = self.ev.ss
        code = np.zeros(t.size, dtype=np.int8)
        quiet = np.full(t.size, np.inf)
        if c.sunlit is not None:
            lit = is_sunlit(r, sun)
            code[lit != c.sunlit] = 3
            # Distance (km) to the shadow's edge over the speed at which the satellite can
            # move against the shadow (its own plus the Earth's turning under the Sun).
            rate = 1.3 * self.ev.fleet.bounds.v_max_km_s[sat] + 7.5e-5 * np.linalg.norm(r, axis=1)
            quiet = np.minimum(quiet, _shadow_distance_km(r, sun) / rate)
        if c.sun_min_deg is not None or c.sun_max_deg is not None:
            el = sun_elevation_pairs(sun, ss.sites.itrs_km[site], ss.up[site])
            bad_sun = np.zeros(t.size, dtype=bool)
            for limit, below_fails in ((c.sun_min_deg, True), (c.sun_max_deg, False)):
                if limit is None:
                    continue
                bad_sun |= (el < limit) if below_fails else (el > limit)
                quiet = np.minimum(quiet, np.abs(el - limit) / _SUN_RATE_DEG_S)
            code[bad_sun] = 2
        # No lighting limit of a kind: no change to wait for; unknown (SGP4 failed): step.
        quiet = np.where(np.isnan(quiet), 0.0, quiet)
        return code, np.where(np.isinf(quiet), _LIGHT_MAX_STEP_S, quiet)

    def _march(self, w: WindowTimes) -> tuple[F64, I64, I8]:
        """Samples (time, window, code) through each window, sorted by window then time: every
        ``step_s`` where a lighting condition could change, longer strides where it provably
        cannot (up to _LIGHT_MAX_STEP_S; a GEO window can last the whole interval)."""
        sat, site, start, end = w.sat_index, w.site_index, w.start_s, w.end_s
        cur = start.copy()
        active = np.arange(start.size)
        ts: list[F64] = []
        owners: list[I64] = []
        codes: list[I8] = []
        while active.size:
            tc = cur[active]
            code, quiet = self._failing(sat[active], site[active], tc)
            ts.append(tc)
            owners.append(active)
            codes.append(code)
            step = np.clip(0.9 * quiet, self.step_s, _LIGHT_MAX_STEP_S)
            cur[active] = np.minimum(tc + step, end[active])
            active = active[tc < end[active]]
        t, owner = np.concatenate(ts), np.concatenate(owners)
        order = order_by(owner, t)
        return t[order], owner[order], np.concatenate(codes)[order]

    def clip(self, w: WindowTimes) -> WindowTimes:
        """Split each window into the parts where the lighting constraints hold."""
        t, owner, code = self._march(w)
        rises, falls, is_first, is_last = true_runs(owner, code == 0)
        win = owner[rises]
        new_start = t[rises].copy()
        s_clip = np.where(is_first[rises], w.start_clip[win], code[np.maximum(rises - 1, 0)])
        new_end = t[falls].copy()
        e_clip = np.where(
            is_last[falls], w.end_clip[win], code[np.minimum(falls + 1, t.size - 1)]
        )
        inner = ~is_first[rises]
        if inner.any():
            new_start[inner] = self._boundary(
                win[inner], w, t[rises[inner] - 1], t[rises[inner]], True
            )
        inner = ~is_last[falls]
        if inner.any():
            new_end[inner] = self._boundary(
                win[inner], w, t[falls[inner]], t[falls[inner] + 1], False
            )
        out = w.take(win)
        return replace(
            out,
            start_s=new_start,
            end_s=new_end,
            peak_s=np.clip(out.peak_s, new_start, new_end),
            top_s=np.clip(out.top_s, new_start, new_end),
            start_clip=s_clip.astype(np.int8),
            end_clip=e_clip.astype(np.int8),
        )

    def _boundary(self, win: I64, w: WindowTimes, lo: F64, hi: F64, rising: bool) -> F64:
        """Bisect the lighting change between ``lo`` (state A) and ``hi`` (state B) to 10 ms."""
        lo, hi = lo.copy(), hi.copy()
        sat, site = w.sat_index[win], w.site_index[win]
        while True:
            gap = hi - lo
            if gap.max(initial=0.0) <= 0.01:
                break
            mid = (lo + hi) / 2.0
            ok = self.failing(sat, site, mid) == 0
            # rising: lo fails, hi ok; falling: lo ok, hi fails.
            move_lo = ~ok if rising else ok
            lo = np.where(move_lo, mid, lo)
            hi = np.where(move_lo, hi, mid)
        out: F64 = hi if rising else lo
        return out
