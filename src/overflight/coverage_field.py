"""Grid-aware coverage windows: a compact set of ground points treated as a field per pass.

The per-point window engine (:mod:`overflight.access`) searches every (satellite, point) pair on
its own. Here, per satellite and per *pass segment* (a stretch of track during which the
satellite can reach some point of the set), every point is placed by its cross-track and
along-track angle relative to the pass; points provably out of reach are dropped with one dot
product each, and for the others closest approach and window edges are solved for all points at
once (Newton steps on the interpolated track, each edge closed by a verified 2-ms bracket;
compiled per pair with numba where installed, else the NumPy reference here, bit-identical).
Whatever this method cannot settle — grazing passes it cannot prove out of reach, short windows,
a lighting change inside a window, windows at the interval's ends, satellites outside its
premises (not low, near-circular orbits; SGP4 errors) — is handed back as (satellite, point)
pairs for the per-point engine. Method, no-miss argument and limits: ``docs/coverage.md``,
"Grid-aware coverage".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any

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
_GRAZE = 1e-3  # margins (sine/cosine units) this close below 0 at closest approach: engine
_GRAZE_KM = 2.0  # the same for a range limit, km
_EDGE_TOL_S = 1e-3  # edges are reported inside the window, within this of the crossing
_NEWTON_STEPS = 8
_SUN_RATE_DEG_S = 0.0045  # the Sun's elevation changes by at most 361°/day (0.00418°/s)
_CHUNK = 1 << 14
_REDO_BATCH = 8  # chunks whose ill-conditioned edges the engine's states redo in one call


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
    by_engine: B
    """Windows found by the engine's pair-span search (:func:`overflight.access.
    pair_window_table`) in the pass segments the field method could not settle."""
    span_sat: I64
    span_site: I64
    span_start_s: F64
    span_end_s: F64
    """What that search was given: (satellite, point) pairs and their spans (s from start)."""


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
    """Cubic Hermite pieces of ITRS position over the fine nodes of all pass segments, one row
    per coefficient (x, y, z of C0..C3 with r(s) = C0 + C1 s + C2 s² + C3 s³ for s in [0, 1],
    then the geodetic-up stretch ``k`` at both nodes)."""

    def __init__(self, t: list[F64], r: list[F64], v: list[F64]) -> None:
        self.seg_t0 = np.array([x[0] for x in t])
        self.seg_n = np.array([x.size for x in t], dtype=np.int64)
        self.seg_first = np.concatenate(([0], np.cumsum(self.seg_n)[:-1])).astype(np.int64)
        p = np.concatenate(r)
        m = np.concatenate(v) * _FINE_S
        p1 = np.roll(p, -1, axis=0)
        m1 = np.roll(m, -1, axis=0)
        k = _z_stretch(p)
        k1 = np.roll(k, -1)
        self.coef = np.ascontiguousarray(np.concatenate(
            (p, m, 3.0 * (p1 - p) - 2.0 * m - m1, 2.0 * (p - p1) + m + m1, k[:, None],
             (k1 - k)[:, None]), axis=1).T)
        self.nodes = np.ascontiguousarray(self.coef.T)  # (nodes, 14): the compiled core's

    def piece(self, seg: I64, t: F64, rows: int = 14) -> tuple[F64, F64]:
        """The first ``rows`` coefficient rows ``(rows, N)`` of the pieces holding ``t``, and
        the piece fraction."""
        u = (t - self.seg_t0[seg]) / _FINE_S
        i = np.clip(np.floor(u), 0, self.seg_n[seg] - 2).astype(np.int64)
        c: F64 = np.take(self.coef[:rows], self.seg_first[seg] + i, axis=1)
        return c, u - i

    def state(self, seg: I64, t: F64, order: int, *, up: bool = True) -> list[F64]:
        """[x, y, z] (km), then [vx, vy, vz] (km/s) and [ax, ay, az] (km/s²) up to ``order``,
        then (if ``up``) the geodetic up [nx, ny, nz] at the sub-satellite point."""
        c, s = self.piece(seg, t, 14 if up else 12)
        out = [((c[9 + j] * s + c[6 + j]) * s + c[3 + j]) * s + c[j] for j in range(3)]
        if order >= 1:
            out += [((3.0 * c[9 + j] * s + 2.0 * c[6 + j]) * s + c[3 + j]) / _FINE_S
                    for j in range(3)]
        if order >= 2:
            out += [(6.0 * c[9 + j] * s + 2.0 * c[6 + j]) / (_FINE_S * _FINE_S)
                    for j in range(3)]
        if not up:
            return out
        zk = out[2] * (c[12] + c[13] * s)
        inv = 1.0 / np.sqrt(out[0] * out[0] + out[1] * out[1] + zk * zk)
        out += [out[0] * inv, out[1] * inv, zk * inv]
        return out


class _EngineTrack:
    """The window engine's own states (:class:`overflight.access.EngineStates`) with the
    interface of :class:`_Track` (positions, velocities, geodetic up; no acceleration): what
    ill-conditioned edges are solved on. Prepared on first use, for the satellites and
    segments asked then."""

    def __init__(self, elsets: Sequence[ElementSet], start: datetime, end: datetime,
                 sat_of_seg: I64, lo_seg: F64, hi_seg: F64) -> None:
        self.elsets, self.start, self.end = elsets, start, end
        self.sat_of_seg, self.lo_seg, self.hi_seg = sat_of_seg, lo_seg, hi_seg
        self._states: Any = None
        self._local = np.full(len(elsets), -1, dtype=np.int64)
        self._covered = np.zeros(sat_of_seg.size, dtype=bool)

    def prepare(self, seg: I64) -> None:
        """Fine samples over segments ``seg`` (the engine's fleet made on first use)."""
        from overflight.access import EngineStates

        if self._states is None:
            used = np.unique(self.sat_of_seg)
            self._local[used] = np.arange(used.size)
            self._states = EngineStates([self.elsets[i] for i in used.tolist()], self.start,
                                        self.end)
        new = np.unique(seg[~self._covered[seg]])
        if new.size:
            self._states.cover(self._local[self.sat_of_seg[new]], self.lo_seg[new],
                               self.hi_seg[new])
            self._covered[new] = True

    def state(self, seg: I64, t: F64, order: int, *, up: bool = True) -> list[F64]:
        """As :meth:`_Track.state`, for ``order`` ≤ 1 (NaN where SGP4 fails)."""
        assert order <= 1 and self._states is not None
        r, v, _ = self._states.states(self._local[self.sat_of_seg[seg]], t)
        out = [r[:, 0], r[:, 1], r[:, 2]]
        if order >= 1:
            out += [v[:, 0], v[:, 1], v[:, 2]]
        if up:
            n = _unit_rows(r, _z_stretch(r))
            out += [n[:, 0], n[:, 1], n[:, 2]]
        return out


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


class _Pairs:
    """(segment, point) pairs with the point's ITRS position and geodetic up as rows."""

    def __init__(self, seg: I64, p: F64, u: F64) -> None:
        self.seg = seg
        self.p = p  # (3, N)
        self.u = u  # (3, N)

    def __len__(self) -> int:
        return int(self.seg.size)

    def take(self, idx: I64) -> _Pairs:
        return _Pairs(self.seg[idx], np.take(self.p, idx, axis=1), np.take(self.u, idx, axis=1))

    def twice(self) -> _Pairs:
        return _Pairs(np.concatenate((self.seg, self.seg)), np.concatenate((self.p, self.p), 1),
                      np.concatenate((self.u, self.u), 1))


class _Margins:
    """Constraint margins (≥ 0 inside): ``el`` = sin(elevation) − sin(limit), ``on`` =
    cos(off-nadir) − cos(limit), ``rng`` = limit − range (km); and their time derivatives."""

    def __init__(self, track: _Track | _EngineTrack, c: Constraints) -> None:
        self.track = track
        self.sin_el = math.sin(math.radians(c.effective_min_elevation_deg()))
        self.cos_on = (None if c.max_off_nadir_deg is None
                       else math.cos(math.radians(c.max_off_nadir_deg)))
        self.max_rng = c.max_range_km

    def values(self, pr: _Pairs, t: F64, kinds: Sequence[str], *, rates: bool = False,
               state: list[F64] | None = None) -> tuple[dict[str, F64], dict[str, F64], F64]:
        """Margins of ``kinds``, their rates (if asked) and the range (km); ``state`` from
        :meth:`_Track.state` at ``t`` if already known."""
        st = state if state is not None else self.track.state(
            pr.seg, t, 1 if rates else 0, up="on" in kinds)
        dx, dy, dz = st[0] - pr.p[0], st[1] - pr.p[1], st[2] - pr.p[2]
        rho = np.sqrt(dx * dx + dy * dy + dz * dz)
        inv = 1.0 / rho
        out: dict[str, F64] = {}
        der: dict[str, F64] = {}
        if rates:
            vx, vy, vz = st[3], st[4], st[5]
            dv_r2 = (dx * vx + dy * vy + dz * vz) * inv * inv
        for k in kinds:
            if k == "el":
                ux, uy, uz = pr.u[0], pr.u[1], pr.u[2]
                d_up = (dx * ux + dy * uy + dz * uz) * inv
                out[k] = d_up - self.sin_el
                if rates:
                    der[k] = (vx * ux + vy * uy + vz * uz) * inv - d_up * dv_r2
            elif k == "on":
                nx, ny, nz = st[-3], st[-2], st[-1]
                dn = (dx * nx + dy * ny + dz * nz) * inv
                assert self.cos_on is not None
                out[k] = dn - self.cos_on
                if rates:
                    # d(up)/dt as for a sphere (v's part across up, over the radius): a
                    # Newton slope only, the crossing itself is verified.
                    rr = np.sqrt(st[0] * st[0] + st[1] * st[1] + st[2] * st[2])
                    vn = vx * nx + vy * ny + vz * nz
                    dn_rate = ((dx * vx + dy * vy + dz * vz) * inv
                               - vn * (dx * nx + dy * ny + dz * nz) * inv) / rr
                    der[k] = dn_rate + vn * inv - dn * dv_r2
            else:
                assert self.max_rng is not None
                out[k] = self.max_rng - rho
                if rates:
                    der[k] = -dv_r2 * rho
        return out, der, rho


# --------------------------------------------------------------------------------------------
# The per-pair steps: NumPy (the reference) or compiled (numba), behind the same names


class _NumpyCore:
    """The per-pair steps of :func:`_solve` on the pairs ``pr``, in NumPy over all pairs at
    once: the reference (``_coverage_field_jit`` runs the same steps compiled, pair by pair).
    Pairs are named by their index ``idx`` in ``pr``."""

    def __init__(self, mg: _Margins, pr: _Pairs) -> None:
        self.mg, self.pr = mg, pr

    def closest(self, t: F64, lo: F64, hi: F64, every: list[str]
                ) -> tuple[F64, dict[str, F64], F64, F64, F64]:
        """Newton steps on the range rate d·v (derivative v·v + d·a) from ``t`` (s, updated
        in place, clipped to [lo, hi]): the last time evaluated, the margins ``every`` there,
        the cosine of the central angle and the angular rate (rad/s) of the satellite's
        direction seen from the point there, and the last step (s)."""
        mg, pr = self.mg, self.pr
        n = len(pr)
        t_ev = t.copy()
        m0 = {k: np.empty(n) for k in every}
        cos_g = np.empty(n)
        omega = np.empty(n)
        step = np.full(n, np.inf)
        act = np.arange(n)
        on = "on" in every
        for _ in range(_NEWTON_STEPS):
            sub = pr if act.size == n else pr.take(act)
            ta = t[act]
            st = mg.track.state(sub.seg, ta, 2, up=on)
            for k, v in mg.values(sub, ta, every, state=st)[0].items():
                m0[k][act] = v
            t_ev[act] = ta
            x, y, z = st[0], st[1], st[2]
            vx, vy, vz = st[3], st[4], st[5]
            dx, dy, dz = x - sub.p[0], y - sub.p[1], z - sub.p[2]
            rn = np.sqrt(x * x + y * y + z * z)
            pn = np.sqrt(sub.p[0] * sub.p[0] + sub.p[1] * sub.p[1] + sub.p[2] * sub.p[2])
            cos_g[act] = (x * sub.p[0] + y * sub.p[1] + z * sub.p[2]) / (rn * pn)
            vv = vx * vx + vy * vy + vz * vz
            vr = (x * vx + y * vy + z * vz) / rn
            omega[act] = np.sqrt(np.maximum(vv - vr * vr, 1e-12)) / rn
            f1 = vv + dx * st[6] + dy * st[7] + dz * st[8]
            dt = -(dx * vx + dy * vy + dz * vz) / np.where(f1 > 0, f1, np.nan)
            step[act] = np.abs(dt)
            t[act] = np.clip(ta + np.nan_to_num(dt, nan=0.0), lo[act], hi[act])
            act = act[~(step[act] < 0.5)]
            if act.size == 0:
                break
        return t_ev, m0, cos_g, omega, step

    def edge(self, kind: str, idx: I64, t_in: F64, t_out: F64, guess: F64 | None
             ) -> tuple[F64, B, B]:
        """:func:`_edge` for pairs ``idx``."""
        return _edge(self.mg, kind, self.pr.take(idx), t_in, t_out, guess)

    def margin(self, kind: str, idx: I64, t: F64) -> tuple[F64, F64]:
        """Margin ``kind`` and range (km) of pairs ``idx`` at ``t``."""
        m, _, rho = self.mg.values(self.pr.take(idx), t, [kind])
        return m[kind], rho


_KIND_CODE = {"el": 0, "on": 1, "rng": 2}
_USE_JIT = True  # the compiled core where numba is installed (tests switch it off)


@functools.cache
def _jit_module() -> ModuleType | None:
    """The compiled core, imported (and its cached machine code loaded) on first use; None
    (the NumPy reference runs) without numba, or with a warning if numba fails to load."""
    import importlib.util
    import sys
    import warnings

    # numba imports ``coverage`` (coverage.py, a package) where it can; a plain module of that
    # name first on the path — a script called coverage.py, as benchmarks/coverage.py — breaks
    # numba's import: hide it meanwhile.
    hide = False
    if "coverage" not in sys.modules:
        try:
            spec = importlib.util.find_spec("coverage")
        except (ImportError, ValueError):
            spec = None
        hide = spec is not None and spec.submodule_search_locations is None
    if hide:
        sys.modules["coverage"] = None  # type: ignore[assignment]
    try:
        from overflight import _coverage_field_jit
    except ImportError:  # no numba
        return None
    except Exception as exc:  # a broken numba install: the reference still works
        warnings.warn(f"overflight: the compiled field core did not load ({exc}); using the "
                      "NumPy reference", RuntimeWarning, stacklevel=2)
        return None
    finally:
        if hide and sys.modules.get("coverage", 0) is None:
            del sys.modules["coverage"]
    return _coverage_field_jit


class _JitCore:
    """:class:`_NumpyCore`'s steps compiled (``_coverage_field_jit``): the same operations in
    the same order per pair, bit-identical results, no temporaries."""

    def __init__(self, jit: ModuleType, mg: _Margins, pr: _Pairs) -> None:
        assert isinstance(mg.track, _Track)
        tr = mg.track
        self.jit, self.mg, self.pr = jit, mg, pr
        self.track = (tr.nodes, tr.seg_t0, tr.seg_n, tr.seg_first)
        self.pairs = (np.ascontiguousarray(pr.seg), np.ascontiguousarray(pr.p),
                      np.ascontiguousarray(pr.u))
        self.limits = (mg.sin_el, mg.cos_on if mg.cos_on is not None else 0.0,
                       float(mg.max_rng) if mg.max_rng is not None else 0.0)

    def closest(self, t: F64, lo: F64, hi: F64, every: list[str]
                ) -> tuple[F64, dict[str, F64], F64, F64, F64]:
        """As :meth:`_NumpyCore.closest`."""
        kinds = np.array([_KIND_CODE[k] for k in every], dtype=np.int64)
        out = self.jit.closest(*self.track, *self.pairs, t, np.ascontiguousarray(lo),
                               np.ascontiguousarray(hi), kinds, *self.limits, _FINE_S,
                               _NEWTON_STEPS)
        t_ev: F64 = out[0]
        m0: F64 = out[1]
        return t_ev, {k: m0[i] for i, k in enumerate(every)}, out[2], out[3], out[4]

    def edge(self, kind: str, idx: I64, t_in: F64, t_out: F64, guess: F64 | None
             ) -> tuple[F64, B, B]:
        """As :meth:`_NumpyCore.edge`."""
        g = np.full(idx.size, np.nan) if guess is None else np.ascontiguousarray(guess)
        out: tuple[F64, B, B] = self.jit.edge(
            _KIND_CODE[kind], *self.track, *self.pairs, np.ascontiguousarray(idx),
            np.ascontiguousarray(t_in), np.ascontiguousarray(t_out), g, *self.limits,
            _FINE_S, 6 * _NEWTON_STEPS, _EDGE_TOL_S, _POSITION_TOL_KM, _CONDITION_S)
        return out

    def field_edge(self, kind: str, idx: I64, t_in: F64, t_out: F64, key: F64,
                   sphere: tuple[F64, F64, F64], order: I64) -> tuple[F64, B, B]:
        """As :func:`_field_edge` (its reference), with the anchors, the interpolation, the
        guesses and the edges compiled; NumPy's ``arccos`` and ``cos`` as there."""
        jit, n = self.jit, idx.size
        idx = np.ascontiguousarray(idx)
        t_in, t_out = np.ascontiguousarray(t_in), np.ascontiguousarray(t_out)
        anc, rest = jit.anchors(np.ascontiguousarray(order), idx, self.pairs[0],
                                _ANCHOR_EVERY)
        edge = np.empty(n)
        fail = np.empty(n, dtype=bool)
        ill = np.empty(n, dtype=bool)
        self._edges(kind, idx, t_in, t_out, anc, None, edge, fail, ill)
        good = ~fail[anc]
        if not good.any():
            self._edges(kind, idx, t_in, t_out, np.arange(n), None, edge, fail, ill)
            return edge, fail, ill
        cos_g, omega, t_c = (np.ascontiguousarray(x) for x in sphere)
        cos_reach = cos_g[anc] * np.cos(omega[anc] * np.abs(edge[anc] - t_c[anc]))
        ratio = jit.reach_ratio(rest, np.ascontiguousarray(key), key[anc][good],
                                cos_reach[good], cos_g)
        guess = jit.rest_guess(rest, np.arccos(ratio), omega, t_c, t_in, t_out)
        self._edges(kind, idx, t_in, t_out, rest, guess, edge, fail, ill)
        return edge, fail, ill

    def _edges(self, kind: str, idx: I64, t_in: F64, t_out: F64, sel: I64, guess: F64 | None,
               edge: F64, fail: B, ill: B) -> None:
        g = np.full(sel.size, np.nan) if guess is None else guess
        self.jit.edges_at(_KIND_CODE[kind], *self.track, *self.pairs, idx, t_in, t_out, sel, g,
                          *self.limits, _FINE_S, 6 * _NEWTON_STEPS, _EDGE_TOL_S,
                          _POSITION_TOL_KM, _CONDITION_S, edge, fail, ill)

    def margin(self, kind: str, idx: I64, t: F64) -> tuple[F64, F64]:
        """As :meth:`_NumpyCore.margin`."""
        out: tuple[F64, F64] = self.jit.margin(
            _KIND_CODE[kind], *self.track, *self.pairs, np.ascontiguousarray(idx),
            np.ascontiguousarray(t), *self.limits, _FINE_S)
        return out


def _core(mg: _Margins, pr: _Pairs) -> _NumpyCore | _JitCore:
    """The compiled core on the interpolated track where available, else the reference."""
    jit = _jit_module() if _USE_JIT else None
    if jit is not None and isinstance(mg.track, _Track):
        return _JitCore(jit, mg, pr)
    return _NumpyCore(mg, pr)


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
    *,
    need_peak: bool = True,
) -> FieldWindows:
    """Windows of ``elsets`` over ``sites`` in [start, end] by the field method (module doc);
    range and incidence at closest approach only if ``need_peak`` (else NaN)."""
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
    slow = [i for i, e in enumerate(elsets) if _slow(e) and not (
        c.sun_min_deg is not None or c.sun_max_deg is not None or c.sunlit is not None)]
    engine = [i for i, e in enumerate(elsets) if not field_eligible(e) and i not in slow]
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
    fb_a: list[F64] = []
    fb_b: list[F64] = []
    if seg_t:
        track = _Track(seg_t, seg_r, seg_v)
        margins = _Margins(track, c)
        sun = _SunLook(c, tc[0], tc[-1], t0_ns)
        sun.prepare_shadow(track, seg_t, seg_r, seg_v)
        r_top = max(float(np.linalg.norm(x, axis=1).max()) for x in seg_r) + 30.0
        kinds = _kinds(c, r_top, r_site_min, float(rs.max()) + 0.5)
        pair_seg, pair_site, guess, _ = _candidates(seg_t, seg_r, seg_v, unit, r_site_min, c)
        sat_of_seg = np.array(seg_sat, dtype=np.int64)
        lo_seg = np.array([t[0] for t in seg_t])
        hi_seg = np.array([t[-1] for t in seg_t])
        xyz_rows, up_rows = np.ascontiguousarray(xyz.T), np.ascontiguousarray(up.T)
        eng_margins = _Margins(_EngineTrack(elsets, start, end, sat_of_seg, lo_seg, hi_seg), c)
        seg_vmax = np.array([float(np.linalg.norm(x, axis=1).max()) for x in seg_v])
        seg_rmin = np.array([float(np.linalg.norm(x, axis=1).min()) for x in seg_r])
        unsure_at: list[I64] = [np.empty(0, np.int64)]
        chunks = [slice(a, a + _CHUNK) for a in range(0, pair_seg.size, _CHUNK)]
        parts: list[tuple[slice, _Edges]] = []
        for j, sl in enumerate(chunks):
            pt = pair_site[sl]
            # np.take: C-ordered rows (fancy indexing here gives F order), and faster.
            pr = _Pairs(pair_seg[sl], np.take(xyz_rows, pt, axis=1),
                        np.take(up_rows, pt, axis=1))
            parts.append((sl, _solve_edges(margins, pr, guess[sl], lo_seg, hi_seg, kinds)))
            # The engine's redo of ill-conditioned edges runs for a batch of chunks at once
            # (its cost is mostly per call); then each chunk is finished.
            if j + 1 < len(chunks) and len(parts) < _REDO_BATCH:
                continue
            _redo_on_engine(eng_margins, kinds, [p for _, p in parts])
            for sl_p, p in parts:
                w, ta, tb, rng, inc, unsure = _solve_finish(p, margins, sun, dur, c, need_peak)
                ps, pt = pair_seg[sl_p], pair_site[sl_p]
                seg_w, site_w = ps[w], pt[w]
                out_sat.append(sat_of_seg[seg_w])
                out_site.append(site_w)
                out_a.append(ta)
                out_b.append(tb)
                out_rng.append(rng)
                out_inc.append(inc)
                unsure_at.append(int(sl_p.start or 0) + np.flatnonzero(unsure))
            parts = []
        # Unsure pairs (mostly grazing passes) proven out of reach throughout their segment,
        # on our track and the engine's, need no engine search: it would find nothing there.
        u = np.concatenate(unsure_at)
        if u.size:
            su, tu = pair_seg[u], pair_site[u]
            out = _proven_out(margins, kinds, _Pairs(su, xyz_rows[:, tu], up_rows[:, tu]),
                              guess[u], lo_seg[su], hi_seg[su], seg_vmax[su], seg_rmin[su])
            u = u[~out]
        ps = pair_seg[u]
        fb_sat.append(sat_of_seg[ps])
        fb_site.append(pair_site[u])
        # Outside its pass segment no point can be reached: the engine searches it alone.
        fb_a.append(lo_seg[ps])
        fb_b.append(hi_seg[ps])

    def cat_i(parts: list[I64]) -> I64:
        return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)

    def cat_f(parts: list[F64]) -> F64:
        return np.concatenate(parts) if parts else np.empty(0)

    if slow:
        sw = _slow_windows([elsets[i] for i in slow], xyz, up, c, t0_ns, dur, need_peak)
        sl_sat = np.array(slow, dtype=np.int64)
        engine += [slow[k] for k in sw[6].tolist()]
        out_sat.append(sl_sat[sw[0]])
        out_site.append(sw[1])
        out_a.append(sw[2])
        out_b.append(sw[3])
        out_rng.append(sw[4])
        out_inc.append(sw[5])
        fb_sat.append(sl_sat[sw[7]])
        fb_site.append(sw[8])
        fb_a.append(np.zeros(sw[8].size))
        fb_b.append(np.full(sw[8].size, dur))
    w_sat, w_site = cat_i(out_sat), cat_i(out_site)
    f_sat, f_site, f_a, f_b = cat_i(fb_sat), cat_i(fb_site), cat_f(fb_a), cat_f(fb_b)
    # Pairs the field method cannot settle yield no field window in that segment (_solve
    # keeps none): the engine's windows there take their place.
    ta_all, tb_all = cat_f(out_a), cat_f(out_b)
    start_ns = t0_ns + np.round(ta_all * 1e9).astype(np.int64)
    end_ns = t0_ns + np.round(tb_all * 1e9).astype(np.int64)
    rng_all, inc_all = cat_f(out_rng), cat_f(out_inc)
    by_engine = np.zeros(w_sat.size, dtype=bool)
    if f_sat.size:
        from overflight.access import pair_window_table

        # The segments hold whole windows (no point is in reach outside them); the screen
        # then gives the search the spans a whole-interval engine run would search, so that
        # even windows under the engine's 50-ms resolution come out as there.
        tab = pair_window_table(elsets, sites, start, end, f_sat, f_site, f_a, f_b, c,
                                screen=True)
        w_sat = np.concatenate((w_sat, tab.sat_index.astype(np.int64)))
        w_site = np.concatenate((w_site, tab.site_index.astype(np.int64)))
        start_ns = np.concatenate((start_ns, tab.start.astype("datetime64[ns]").view(np.int64)))
        end_ns = np.concatenate((end_ns, tab.end.astype("datetime64[ns]").view(np.int64)))
        rng_all = np.concatenate((rng_all, tab.peak_range_km.astype(np.float64)))
        inc_all = np.concatenate((inc_all, tab.peak_incidence_deg.astype(np.float64)))
        by_engine = np.concatenate((by_engine, np.ones(len(tab), dtype=bool)))
    return FieldWindows(
        sat=w_sat,
        site=w_site,
        start_ns=start_ns,
        end_ns=end_ns,
        peak_range_km=rng_all,
        peak_incidence_deg=inc_all,
        engine_sats=np.array(sorted(set(engine)), dtype=np.int64),
        by_engine=by_engine,
        span_sat=f_sat,
        span_site=f_site,
        span_start_s=f_a,
        span_end_s=f_b,
    )


# --------------------------------------------------------------------------------------------
# Unsure pairs proven out of reach

_ACCEL_KM_S2 = 0.015  # bound on a satellite's acceleration in the Earth-fixed frame (engine's)
_SPEED_PAD_KM_S = 0.05  # the speed between 15-s nodes exceeds the nodes' by < 0.005 km/s (LEO)
_STRETCH_MAX = 1.0 / (1.0 - WGS84.e2)  # the largest stretch k of _z_stretch
# Our track is within 0.1 m of SGP4 (15-s nodes), the engine's within 10 m by its Hermite
# step (docs/access.md; 3.3 m measured in LEO): positions of the two differ by at most this.
_TRACK_GAP_KM = 0.0102
_OUT_MIN_RANGE_KM = 100.0  # nearer than this the bounds below are not used
_OUT_MIN_GAP_S = 0.05
_OUT_LEVELS = 24


def _curvature(kind: str, v: F64, r: F64, rho: F64) -> F64:
    """A bound on |m''| of margin ``kind`` along a track with speed ≤ ``v`` (km/s), radius
    ≥ ``r`` and slant range ≥ ``rho`` (km), in margin units per s².

    With the line of sight d̂ = d/ρ (d = satellite − point): |d̂'| ≤ v/ρ and
    |d̂''| ≤ a/ρ + (2/√3)v²/ρ² (the part of d'' across d̂, and −d̂|q|² − 2ρ'q with q = d'
    across d̂, largest at ρ'² = v²/3); ``el`` = d̂·up (up fixed) has that bound; ``on`` = d̂·n
    with n the geodetic up under the satellite, the normalised (x, y, k z) with 1 ≤ k ≤
    1/(1−e²), adds |n''| + 2|n'||d̂'| with |n'| ≤ k v/r and |n''| ≤ k a/r + (2/√3)k²v²/r²;
    ``rng`` = limit − ρ has m'' = −ρ'' ≥ −(v²/ρ + a). (On our track k is linear per 15-s
    piece: its kinks change m' by ~1e-10/s, nothing next to δ.)"""
    a = _ACCEL_KM_S2
    if kind == "rng":
        out: F64 = v * v / rho + a
        return out
    out = a / rho + 1.16 * v * v / (rho * rho)
    if kind == "on":
        k = _STRETCH_MAX
        out = out + k * a / r + 1.16 * k * k * v * v / (r * r) + 2.0 * k * v * v / (r * rho)
    return out


def _chord_top(ma: F64, mb: F64, h: F64, bound: F64) -> F64:
    """The largest value on [0, h] of a function with values ``ma``, ``mb`` at the ends and
    second derivative ≥ −``bound``: it stays below the chord plus bound·τ(h − τ)/2."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(h > 0.0, (mb - ma) / h, 0.0)
        tau = np.clip(h / 2.0 + s / bound, 0.0, h)
        out: F64 = ma + s * tau + bound * tau * (h - tau) / 2.0
    return np.where(h > 0.0, out, np.maximum(ma, mb))


def _proven_out(mg: _Margins, kinds: tuple[str, list[str]], pr: _Pairs, guess: F64, lo: F64,
                hi: F64, v_max: F64, r_min: F64) -> B:
    """Pairs that provably have no window in their segment [lo, hi], on our track and on the
    engine's: at every time some margin is below −δ, δ what the 10-m difference between the
    two tracks can change it by. From the closest approach (Newton steps on the range rate,
    from ``guess``) and the segment's ends, each gap is proven when, for some margin, the
    largest value its curvature bound (:func:`_curvature`) allows between the gap's ends is
    below −δ; other gaps are halved, down to 50 ms. A pair gives up at a time where every
    margin is ≥ −δ (it may have a window there). ``v_max``/``r_min``: the segment's largest
    node speed and least node radius."""
    every = [kinds[0], *kinds[1]]
    n = len(pr)
    t = np.clip(guess, lo, hi)
    for _ in range(3):
        st = mg.track.state(pr.seg, t, 2, up=False)
        dx, dy, dz = st[0] - pr.p[0], st[1] - pr.p[1], st[2] - pr.p[2]
        f1 = (st[3] * st[3] + st[4] * st[4] + st[5] * st[5]
              + dx * st[6] + dy * st[7] + dz * st[8])
        dt = -(dx * st[3] + dy * st[4] + dz * st[5]) / np.where(f1 > 0.0, f1, np.nan)
        t = np.clip(t + np.nan_to_num(dt, nan=0.0), lo, hi)
    speed = v_max + _SPEED_PAD_KM_S
    radius = r_min - 1.0
    fail = np.zeros(n, dtype=bool)

    def margins(idx: I64, tt: F64) -> tuple[F64, F64]:
        """Margins (kinds × N) and ranges at pairs ``idx``; a time where every margin is ≥
        −δ (at that range) fails its pair."""
        m, _, rho = mg.values(pr.take(idx), tt, every)
        mm = np.stack([m[k] for k in every])
        slack = np.stack([_slack(k, rho, radius[idx]) for k in every])
        fail[idx[(mm >= -slack).all(axis=0)]] = True
        return mm, rho

    ids = np.arange(n)
    m3, rho3 = margins(np.concatenate((ids, ids, ids)), np.concatenate((lo, t, hi)))
    gp = np.concatenate((ids, ids))
    ga, gb = np.concatenate((lo, t)), np.concatenate((t, hi))
    ma, mb = np.concatenate((m3[:, :n], m3[:, n:2 * n]), 1), m3[:, n:]
    ra, rb = np.concatenate((rho3[:n], rho3[n:2 * n])), rho3[n:]
    for _ in range(_OUT_LEVELS):
        live = ~fail[gp]
        gp, ga, gb, ma, mb, ra, rb = (gp[live], ga[live], gb[live], ma[:, live], mb[:, live],
                                      ra[live], rb[live])
        if gp.size == 0:
            break
        h = gb - ga
        rho = np.minimum(ra, rb) - speed[gp] * h / 2.0
        near = rho >= _OUT_MIN_RANGE_KM
        rho = np.where(near, rho, _OUT_MIN_RANGE_KM)
        done = np.zeros(gp.size, dtype=bool)
        for j, k in enumerate(every):
            bound = _curvature(k, speed[gp], radius[gp], rho)
            done |= near & (_chord_top(ma[j], mb[j], h, bound) < -_slack(k, rho, radius[gp]))
        todo = ~done
        fail[gp[todo & (h < 2.0 * _OUT_MIN_GAP_S)]] = True
        todo &= ~fail[gp]
        gp, ga, gb, ma, mb, ra, rb = (gp[todo], ga[todo], gb[todo], ma[:, todo], mb[:, todo],
                                      ra[todo], rb[todo])
        if gp.size == 0:
            break
        mid = (ga + gb) / 2.0
        mm, rm = margins(gp, mid)
        gp = np.concatenate((gp, gp))
        ga, gb = np.concatenate((ga, mid)), np.concatenate((mid, gb))
        ma, mb = np.concatenate((ma, mm), 1), np.concatenate((mm, mb), 1)
        ra, rb = np.concatenate((ra, rm)), np.concatenate((rm, rb))
    else:
        fail[gp] = True
    out: B = ~fail
    return out


def _slack(kind: str, rho: F64, r: F64) -> F64:
    """δ: how much the 10-m difference between our track and the engine's can change margin
    ``kind`` at slant range ≥ ``rho`` and satellite radius ≥ ``r`` (|∇(d̂·n)| ≤ 1/ρ + k/r)."""
    if kind == "rng":
        return np.full(rho.shape, _TRACK_GAP_KM)
    out: F64 = _TRACK_GAP_KM * (1.0 / rho + _STRETCH_MAX / r) + 1e-9
    return out


_SLOW_STEP_S = 900.0
_SLOW_CHUNK = 4096


def _slow(e: ElementSet) -> bool:
    """Geosynchronous orbits (≤ 1.1 rev/day, near-circular): they barely move over a region,
    so each point is seen all the time or never, except near the limits."""
    return e.mean_motion_rev_day <= 1.1 and e.eccentricity < 0.05


def _slow_windows(elsets: Sequence[ElementSet], xyz: F64, up: F64, c: Constraints,
                  t0_ns: int, dur: float, need_peak: bool
                  ) -> tuple[I64, I64, F64, F64, F64, F64, I64, I64, I64]:
    """Windows of slow satellites (no lighting limits): margins every 15 min, and a rate bound
    between samples (the satellite's Earth-fixed speed over the least range, plus the turn of
    its nadir); a point inside throughout gets one window over the whole interval, a point
    outside throughout none, the rest go to the engine. Returns windows (satellite, site,
    start s, end s, range, incidence), satellites with SGP4 errors, and engine pairs."""
    from overflight.propagation import Propagator

    ts = np.append(np.arange(0.0, dur, _SLOW_STEP_S), dur)
    t64 = (t0_ns + np.round(ts * 1e9).astype(np.int64)).astype("datetime64[ns]")
    eph = Propagator(list(elsets)).propagate(t64, workers=1)
    sin_el = math.sin(math.radians(c.effective_min_elevation_deg()))
    cos_on = None if c.max_off_nadir_deg is None else math.cos(math.radians(c.max_off_nadir_deg))
    out: list[list[npt.NDArray[Any]]] = [[] for _ in range(6)]
    fb: list[list[I64]] = [[], []]
    bad: list[int] = []
    h = np.diff(ts)[:, None]
    for k in range(len(elsets)):
        if (eph.error[k] != 0).any():
            bad.append(k)
            continue
        r, v = eph.position_km[k], eph.velocity_km_s[k]
        rn = np.linalg.norm(r, axis=1)
        vmax = float(np.linalg.norm(v, axis=1).max()) * 1.1 + 1e-3
        nadir = _unit_rows(r * np.array([1.0, 1.0, 1.0])[None, :], _z_stretch(r))
        for lo in range(0, xyz.shape[0], _SLOW_CHUNK):
            p, u = xyz[lo:lo + _SLOW_CHUNK], up[lo:lo + _SLOW_CHUNK]
            d = r[:, None, :] - p[None, :, :]  # (T, N, 3)
            rho = np.sqrt(np.einsum("tnk,tnk->tn", d, d))
            margins = [np.einsum("tnk,nk->tn", d, u) / rho - sin_el]
            rates = [vmax]
            if cos_on is not None:
                margins.append(np.einsum("tnk,tk->tn", d, nadir) / rho - cos_on)
                rates.append(vmax + vmax / float(rn.min()))
            if c.max_range_km is not None:
                margins.append(c.max_range_km - rho)
                rates.append(-1.0)
            rho_min = np.maximum(np.minimum(rho[1:], rho[:-1]) - vmax * h / 2.0, 1.0)
            outside_gap = np.zeros(rho_min.shape, dtype=bool)
            all_in_gap = np.ones(rho_min.shape, dtype=bool)
            for m, rate in zip(margins, rates, strict=True):
                lip = vmax if rate < 0 else rate / rho_min  # km/s, or rad/s
                lo_b = (m[1:] + m[:-1] - lip * h) / 2.0
                hi_b = (m[1:] + m[:-1] + lip * h) / 2.0
                all_in_gap &= lo_b > 0.0
                outside_gap |= hi_b < 0.0
            inside: B = np.asarray(all_in_gap.all(axis=0))
            never: B = np.asarray(outside_gap.all(axis=0))
            unsure = ~inside & ~never
            win = np.flatnonzero(inside)
            out[0].append(np.full(win.size, k, dtype=np.int64))
            out[1].append(win + lo)
            out[2].append(np.zeros(win.size))
            out[3].append(np.full(win.size, dur))
            if need_peak and win.size:
                j = np.argmin(rho[:, win], axis=0)
                dd = d[j, win]
                rr = rho[j, win]
                el = np.arcsin(np.clip(np.einsum("nk,nk->n", dd, u[win]) / rr, -1.0, 1.0))
                out[4].append(rr)
                out[5].append(90.0 - np.degrees(el))
            else:
                out[4].append(np.full(win.size, np.nan))
                out[5].append(np.full(win.size, np.nan))
            us = np.flatnonzero(unsure)
            fb[0].append(np.full(us.size, k, dtype=np.int64))
            fb[1].append(us + lo)
    cat = [np.concatenate(o) if o else np.empty(0) for o in out]
    fbc = [np.concatenate(o) if o else np.empty(0, np.int64) for o in fb]
    return (cat[0].astype(np.int64), cat[1].astype(np.int64), cat[2], cat[3], cat[4], cat[5],
            np.array(bad, dtype=np.int64), fbc[0].astype(np.int64), fbc[1].astype(np.int64))


def _unit_rows(r: F64, k: F64) -> F64:
    """Geodetic up at the sub-points of ITRS rows ``r`` with stretch ``k`` (see _z_stretch)."""
    n = r.copy()
    n[:, 2] *= k
    out: F64 = n / np.linalg.norm(n, axis=1)[:, None]
    return out


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
    """Lighting: the Sun's elevation at window ends with its rate bound (a change inside a
    window goes to the engine), and the satellite's shadow crossings found once per pass
    segment (a window is cut at a crossing, as the engine does)."""

    def __init__(self, c: Constraints, lo_s: float, hi_s: float, t0_ns: int) -> None:
        self.c = c
        self.t0_ns = t0_ns
        self.active = (c.sun_min_deg is not None or c.sun_max_deg is not None
                       or c.sunlit is not None)
        self.track = None
        if self.active:
            from overflight.sun import SunTrack

            # Nodes every 6 h on the UTC clock, as the window engine's lighting uses.
            self.track = SunTrack(self._t64(np.array([lo_s])), self._t64(np.array([hi_s])),
                                  step_s=21600.0)
        self.ev_key = np.empty(0)
        self.ev_rise = np.empty(0, dtype=bool)
        self.unc_lo = np.empty(0)
        self.unc_hi = np.empty(0)

    def _t64(self, t: F64) -> npt.NDArray[np.datetime64]:
        return (self.t0_ns + np.round(t * 1e9).astype(np.int64)).astype("datetime64[ns]")

    def _lit(self, r: F64, t: F64) -> B:
        from overflight.sun import is_sunlit

        assert self.track is not None
        out: B = is_sunlit(r, self.track.itrs_km(self._t64(t))) == self.c.sunlit
        return out

    def prepare_shadow(self, track: _Track, seg_t: list[F64], seg_r: list[F64],
                       seg_v: list[F64]) -> None:
        """Shadow crossings of every segment: status at the nodes; between two nodes the
        status holds where the distance to the shadow's edge exceeds what the satellite can
        travel against it; a changing gap is bisected to 1 µs (one crossing: crossings are
        minutes apart); an unproven gap without change is kept as uncertain."""
        if self.c.sunlit is None or not seg_t:
            return
        assert self.track is not None
        seg = np.concatenate([np.full(t.size, j, dtype=np.int64) for j, t in enumerate(seg_t)])
        t = np.concatenate(seg_t)
        r = np.concatenate(seg_r)
        v = np.concatenate(seg_v)
        sun = self.track.itrs_km(self._t64(t))
        lit = self._lit(r, t)
        dist = _shadow_distance_km(r, sun)
        speed = np.sqrt(_dot(v, v)) + EARTH_ROTATION_RAD_S * np.sqrt(_dot(r, r))
        same_seg = seg[1:] == seg[:-1]
        rate = 1.1 * np.maximum(speed[1:], speed[:-1]) + 0.01
        span = t[1:] - t[:-1]
        steady = (dist[1:] + dist[:-1] - rate * span) / 2.0 > 1.0
        change = same_seg & (lit[1:] != lit[:-1])
        unsure = same_seg & ~steady & ~change
        g = np.flatnonzero(change)
        lo, hi = t[g].copy(), t[g + 1].copy()
        gs = seg[g]
        lit_lo = lit[g]
        for _ in range(24):  # 15 s / 2^24 ≈ 1 µs
            mid = (lo + hi) / 2.0
            st = track.state(gs, mid, 0, up=False)
            same = self._lit(np.stack(st[0:3], axis=1), mid) == lit_lo
            lo = np.where(same, mid, lo)
            hi = np.where(same, hi, mid)
        self.ev_key = gs * 1e7 + (lo + hi) / 2.0
        self.ev_rise = ~lit_lo
        u = np.flatnonzero(unsure)
        self.unc_lo = seg[u] * 1e7 + t[u]
        self.unc_hi = seg[u] * 1e7 + t[u + 1]

    def classify(self, margins: _Margins, pr: _Pairs, ta: F64, tb: F64
                 ) -> tuple[F64, F64, B, B]:
        """Windows [ta, tb] cut by the lighting constraints: (start, end, kept, unsure)."""
        n = ta.size
        ok = np.ones(n, dtype=bool)
        unsure = np.zeros(n, dtype=bool)
        ta, tb = ta.copy(), tb.copy()
        if not self.active or n == 0:
            return ta, tb, ok, unsure
        assert self.track is not None
        c = self.c
        if c.sun_min_deg is not None or c.sun_max_deg is not None:
            span = tb - ta
            x, up = pr.p.T, pr.u.T
            el = []
            for t in (ta, tb):
                d = self.track.itrs_km(self._t64(t)) - x
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
            ka, kb = pr.seg * 1e7 + ta, pr.seg * 1e7 + tb
            first = np.searchsorted(self.ev_key, ka, side="left")
            count = np.searchsorted(self.ev_key, kb, side="right") - first
            j = np.searchsorted(self.unc_lo, kb, side="right") - 1
            hit = (j >= 0) & (self.unc_hi[np.maximum(j, 0)] > ka) if self.unc_lo.size else (
                np.zeros(n, dtype=bool))
            unsure |= hit | (count > 1)
            none = np.flatnonzero(count == 0)
            st = margins.track.state(pr.seg[none], ta[none], 0, up=False)
            ok[none] &= self._lit(np.stack(st[0:3], axis=1), ta[none])
            one = np.flatnonzero(count == 1)
            fi = np.minimum(first[one], max(self.ev_key.size - 1, 0))
            tev = self.ev_key[fi] - pr.seg[one] * 1e7
            rise = self.ev_rise[fi]
            # The engine bisects a lighting change to 10 ms and reports the side where the
            # conditions hold: report the crossing 5 ms inside, the middle of that.
            near = (tev - ta[one] < 0.05) | (tb[one] - tev < 0.05)
            unsure[one[near]] = True
            ta[one] = np.where(rise, tev + 0.005, ta[one])
            tb[one] = np.where(rise, tb[one], tev - 0.005)
        return ta, tb, ok & ~unsure, unsure


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


def _kinds(c: Constraints, r_max: float, r_site_min: float, r_site_max: float
           ) -> tuple[str, list[str]]:
    """The margin that defines the pass segments' reach (``el`` or ``on``), and the other
    margins that are not implied by it within that reach (checked at the window edges)."""
    lam_el = float(_reach_rad(np.array([r_max]), r_site_min,
                              Constraints(min_elevation_deg=c.min_elevation_deg))[0])
    lam = float(_reach_rad(np.array([r_max]), r_site_min, c)[0])
    eps = math.radians(c.effective_min_elevation_deg())
    defl = 2.0 * _DEFLECTION_RAD + 1e-3
    primary = "el"
    others: list[str] = []
    if c.max_off_nadir_deg is not None:
        th = math.radians(c.max_off_nadir_deg)
        if lam < lam_el:
            primary = "on"
            # Elevation = 90° − off-nadir − central angle (geocentric triangle), give or take
            # the deflection of the vertical at both ends.
            if not math.pi / 2 - th - lam - defl > eps:
                others.append("el")
        elif not math.pi / 2 - eps + defl < th:
            others.append("on")
    if c.max_range_km is not None:
        rho_max = math.sqrt((r_max - r_site_min) ** 2
                            + 2.0 * r_max * r_site_max * (1.0 - math.cos(lam)))
        if not rho_max < c.max_range_km:
            others.append("rng")
    return primary, others


def _solve(
    mg: _Margins,
    sun: _SunLook,
    pr: _Pairs,
    guess: F64,
    key: F64,
    lo_seg: F64,
    hi_seg: F64,
    dur: float,
    c: Constraints,
    kinds: tuple[str, list[str]],
    need_peak: bool,
    engine: _Margins | None = None,
) -> tuple[I64, F64, F64, F64, F64, B]:
    """Windows of candidate pairs: closest approach, then the crossings of the reach-defining
    margin on both sides of it, then of any other margin negative at those crossings.

    ``key`` orders the pairs by segment, then cross-track angle (neighbours on the field).
    Returns the windows (pair index, start s, end s, range and incidence at closest approach)
    and a mask over the pairs of those left to the engine. (:func:`field_windows` runs the
    same three stages over several chunks at once.)
    """
    part = _solve_edges(mg, pr, guess, lo_seg, hi_seg, kinds)
    _redo_on_engine(engine, kinds, [part])
    return _solve_finish(part, mg, sun, dur, c, need_peak)


@dataclass
class _Edges:
    """A chunk of pairs after closest approach and edges on the interpolated track: the
    pairs with a window (``w``, indices into ``pr``), its edges (s) and flags, the
    ill-conditioned ones to solve again on the engine's states (``redo``, indices into
    ``w``), and the pairs left to the engine so far."""

    core: _NumpyCore | _JitCore
    pr: _Pairs
    w: I64
    peak: F64
    t_in: F64
    lo: F64
    hi: F64
    ta: F64
    tb: F64
    bad: B
    redo: I64
    unsure: B


def _solve_edges(mg: _Margins, pr: _Pairs, guess: F64, lo_seg: F64, hi_seg: F64,
                 kinds: tuple[str, list[str]]) -> _Edges:
    """Steps 1–3 of :func:`_solve`."""
    primary, others = kinds
    every = [primary, *others]
    lo, hi = lo_seg[pr.seg], hi_seg[pr.seg]
    core = _core(mg, pr)
    # 1. Closest approach: Newton on the range rate d·v (derivative v·v + d·a); after a step
    # of s seconds the error is ~s²/1000 s. It only has to be near the maxima of the margins
    # (1 ms moves them by ~1e-10): a time where every margin is ≥ 0 proves a window. The last
    # time evaluated (t_ev) decides: its margins, and it is inside if any window is.
    # The pass seen from each point, as on a sphere: least central angle γ* and the angular
    # rate ω of the satellite's direction; crossings follow cos γ = cos γ*·cos(ω·Δt).
    t = np.clip(guess, lo, hi)
    t_ev, m0, cos_g, omega, step = core.closest(t, lo, hi, every)
    # Converged: the last evaluated time is within 0.5 s of closest approach, and each margin
    # peaks within ~1 s of it; with |m''| ≲ (v/ρ)² ≈ 2.3e-4/s² that leaves each margin within
    # 2.5e-4 of its maximum, a quarter of the grazing band below.
    unsure = ~(step < 0.5)  # no convergence, or not a minimum (NaN)
    unsure |= (t <= lo + 1.0) | (t >= hi - 1.0)
    peak = t
    # Pairs of a segment ordered by the time of closest approach (along the track).
    key = pr.seg * 1e7 + peak
    has = ~unsure
    for k in every:
        graze = _GRAZE_KM if k == "rng" else _GRAZE
        unsure |= has & (m0[k] < 0.0) & (m0[k] >= -graze)
        has &= m0[k] >= 0.0
    has &= ~unsure
    # 2. Crossings of the reach-defining margin: negative at the segment ends, where the
    # satellite is out of reach of every point by construction (verified with the crossing).
    w = np.flatnonzero(has)
    wpk, wkey, w_in = peak[w], key[w], t_ev[w]
    sphere = (np.clip(cos_g[w], -1.0, 1.0), omega[w], wpk)
    order = np.argsort(wkey, kind="stable")
    ta, fa, ia = _field_edge(core, primary, w, w_in, lo[w], wkey, sphere, order)
    tb, fb, ib = _field_edge(core, primary, w, w_in, hi[w], wkey, sphere, order)
    hard = (fa & ~ia) | (fb & ~ib)
    ill = ia | ib
    # 3. Other margins, where negative at those crossings: their own crossing lies between the
    # peak (≥ 0) and there (unimodal margins).
    for k in others:
        m = core.margin(k, np.concatenate((w, w)), np.concatenate((ta, tb)))[0]
        for half, edge in ((m[:w.size], ta), (m[w.size:], tb)):
            need = np.flatnonzero(half < 0.0)
            e, f, i = _field_edge(core, k, w[need], w_in[need], edge[need], wkey[need],
                                  (sphere[0][need], sphere[1][need], wpk[need]))
            edge[need] = e
            hard[need[f & ~i]] = True
            ill[need[i]] = True
    bad = hard | ill
    # Ill-conditioned edges (slow crossings, where the engine's interpolation error could
    # move its edge by more than a few ms) are solved again on the engine's own states
    # (_redo_on_engine): then they are the engine's crossings, whatever the conditioning.
    redo = np.flatnonzero(ill & ~hard)
    return _Edges(core, pr, w, wpk, w_in, lo[w], hi[w], ta, tb, bad, redo, unsure)


def _redo_on_engine(engine: _Margins | None, kinds: tuple[str, list[str]],
                    parts: Sequence[_Edges]) -> None:
    """The ill-conditioned edges of ``parts`` solved again on the engine's states, all in one
    call (each pair on its own: the same result as chunk by chunk, at a fraction of the
    per-call cost); where that succeeds, they replace the field's edges and are no longer
    bad."""
    todo = [p for p in parts if p.redo.size]
    if engine is None or not todo:
        return
    sub = [p.pr.take(p.w[p.redo]) for p in todo]
    pr = _Pairs(np.concatenate([x.seg for x in sub]), np.concatenate([x.p for x in sub], 1),
                np.concatenate([x.u for x in sub], 1))

    def cat(name: str) -> F64:
        return np.concatenate([getattr(p, name)[p.redo] for p in todo])

    ok, ea, eb = _engine_edges(engine, kinds, pr, cat("t_in"), cat("lo"), cat("hi"),
                               cat("ta"), cat("tb"))
    o = 0
    for p in todo:
        k = slice(o, o + p.redo.size)
        good = p.redo[ok[k]]
        p.ta[good], p.tb[good] = ea[k][ok[k]], eb[k][ok[k]]
        p.bad[good] = False
        o += p.redo.size


def _solve_finish(part: _Edges, mg: _Margins, sun: _SunLook, dur: float, c: Constraints,
                  need_peak: bool) -> tuple[I64, F64, F64, F64, F64, B]:
    """The rest of :func:`_solve` after the edges (and their redo on the engine's states)."""
    core, pr, w, wpk = part.core, part.pr, part.w, part.peak
    ta, tb, bad, unsure = part.ta, part.tb, part.bad, part.unsure
    # Cut by the interval; windows touching its ends within 50 ms, short windows, and windows
    # near the duration limit go to the engine.
    ca, cb = np.maximum(ta, 0.0), np.minimum(tb, dur)
    bad |= (np.abs(ta) < 0.05) | (np.abs(tb - dur) < 0.05) | (np.abs(ta - dur) < 0.05) | (
        np.abs(tb) < 0.05)
    inside = cb > ca
    bad |= inside & ((tb - ta) < _SHORT_S)
    ca, cb, lit_ok, lit_unsure = sun.classify(mg, pr.take(w) if sun.active else pr, ca, cb)
    bad |= inside & lit_unsure
    bad |= inside & (np.abs((cb - ca) - c.min_duration_s) < 0.05) & (c.min_duration_s > 0)
    keep = inside & ~bad & lit_ok & ((cb - ca) >= c.min_duration_s)
    unsure[w[bad]] = True
    kk = np.flatnonzero(keep)
    if not need_peak:
        nan = np.full(kk.size, np.nan)
        return w[kk], ca[kk], cb[kk], nan, nan, unsure
    pk = np.clip(wpk[kk], ca[kk], cb[kk])
    m_el, rho = core.margin("el", w[kk], pk)
    el = np.arcsin(np.clip(m_el + mg.sin_el, -1.0, 1.0))
    return w[kk], ca[kk], cb[kk], rho, 90.0 - np.degrees(el), unsure


_ENGINE_TOL_KM = 1e-6  # the engine's states are used as they are: rounding only


def _engine_edges(mg: _Margins, kinds: tuple[str, list[str]], pr: _Pairs, t_in: F64, lo: F64,
                  hi: F64, guess_a: F64, guess_b: F64) -> tuple[B, F64, F64]:
    """Both edges of windows again, as in :func:`_solve` steps 2–3 but on the engine's states
    (``mg`` over an :class:`_EngineTrack`), from the field's edges as first guesses. Checked
    on those states: every margin ≥ 0 at ``t_in`` and at both edges reported, the defining
    margin < 0 at the bracket's outer ends and just beyond each edge (verified 1-ms brackets).
    Returns which pairs passed, and their edges (s)."""
    primary, others = kinds
    every = [primary, *others]
    n = len(pr)
    assert isinstance(mg.track, _EngineTrack)
    mg.track.prepare(pr.seg)
    dur = mg.track._states.duration_s
    # The engine's states exist on [0, duration]: brackets end there at the latest (a window
    # running past an end of the interval stays with the engine).
    lo, hi = np.maximum(lo, 0.0), np.minimum(hi, dur)
    ok = (t_in > lo) & (t_in < hi)
    m_in = mg.values(pr, t_in, every)[0]
    for k in every:
        ok &= m_in[k] >= 0.0
    m_out = mg.values(pr.twice(), np.concatenate((lo, hi)), [primary])[0][primary]
    ok &= (m_out[:n] < 0.0) & (m_out[n:] < 0.0)
    ea, fa, _ = _edge(mg, primary, pr, t_in, lo, guess_a, _ENGINE_TOL_KM)
    eb, fb, _ = _edge(mg, primary, pr, t_in, hi, guess_b, _ENGINE_TOL_KM)
    ok &= ~fa & ~fb
    for k in others:
        m = mg.values(pr.twice(), np.concatenate((ea, eb)), [k])[0][k]
        for half, edge, guess in ((m[:n], ea, guess_a), (m[n:], eb, guess_b)):
            need = np.flatnonzero(half < 0.0)
            e, f, _ = _edge(mg, k, pr.take(need), t_in[need], edge[need], guess[need],
                            _ENGINE_TOL_KM)
            edge[need] = e
            ok[need[f]] = False
    m_a = mg.values(pr.twice(), np.concatenate((ea, eb)), every)[0]
    for k in every:
        ok &= (m_a[k][:n] >= 0.0) & (m_a[k][n:] >= 0.0)
    return ok, ea, eb


_ANCHOR_EVERY = 16


def _field_edge(core: _NumpyCore | _JitCore, kind: str, idx: I64, t_in: F64, t_out: F64,
                key: F64, sphere: tuple[F64, F64, F64], order: I64 | None = None
                ) -> tuple[F64, B, B]:
    """Crossings of margin ``kind`` between ``t_in`` (≥ 0) and ``t_out`` (< 0) for pairs
    ``idx`` of ``core`` ordered on the field by ``key`` (``order``: its stable argsort, if
    known): every 16th pair (and each segment's first and last) is solved from the bracket
    alone; the others start from their neighbours' offset from ``t_in``, interpolated in
    cross-track angle — a guess only: every crossing is verified."""
    n = idx.size
    if n == 0:
        return t_in.copy(), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    if order is None:
        order = np.argsort(key, kind="stable")
    if isinstance(core, _JitCore):
        return core.field_edge(kind, idx, t_in, t_out, key, sphere, order)
    sgs = core.pr.seg[idx[order]]
    pick = np.zeros(n, dtype=bool)
    pick[::_ANCHOR_EVERY] = True
    pick[-1] = True
    pick[1:] |= sgs[1:] != sgs[:-1]
    pick[:-1] |= sgs[1:] != sgs[:-1]
    anc = order[pick]
    e_anc, f_anc, i_anc = core.edge(kind, idx[anc], t_in[anc], t_out[anc], None)
    good = ~f_anc
    if not good.any():
        return core.edge(kind, idx, t_in, t_out, None)
    # The anchors' effective reach (central angle at the crossing, spherical model) changes
    # slowly along the track: interpolate it, and turn it into each pair's time offset.
    cos_g, omega, t_c = sphere
    cos_reach = cos_g[anc] * np.cos(omega[anc] * np.abs(e_anc - t_c[anc]))
    rest = np.ones(n, dtype=bool)
    rest[anc] = False
    r = np.flatnonzero(rest)
    c_r = np.interp(key[r], key[anc][good], cos_reach[good])
    offset = np.arccos(np.clip(c_r / cos_g[r], -1.0, 1.0)) / omega[r]
    t_in_r, t_out_r = t_in[r], t_out[r]
    guess = t_c[r] + np.sign(t_out_r - t_in_r) * offset
    edge = np.empty(n)
    fail = np.empty(n, dtype=bool)
    ill = np.empty(n, dtype=bool)
    edge[anc], fail[anc], ill[anc] = e_anc, f_anc, i_anc
    edge[r], fail[r], ill[r] = core.edge(kind, idx[r], t_in_r, t_out_r, guess)
    return edge, fail, ill


def _edge(mg: _Margins, kind: str, pr: _Pairs, t_in: F64, t_out: F64, guess: F64 | None,
          pos_tol_km: float = _POSITION_TOL_KM) -> tuple[F64, B, B]:
    """The crossing of margin ``kind`` between ``t_in`` (≥ 0) and ``t_out`` (< 0): Newton
    steps kept inside the bracket (bisection where they leave it), then a verified bracket of
    at most 1 ms whose inside end is returned. Flagged: no convergence, no verified bracket,
    or an ill-conditioned crossing."""
    n = len(pr)
    a, b = t_in.copy(), t_out.copy()  # m(a) >= 0 > m(b)
    fail = np.zeros(n, dtype=bool)
    if n == 0:
        return a, fail, fail
    t = a + (b - a) * 0.5
    if guess is not None:
        lo_, hi_ = np.minimum(a, b), np.maximum(a, b)
        t = np.where((guess > lo_) & (guess < hi_), guess, t)
    slope = np.zeros(n)  # speed across the line of sight that moves the margin, km/s
    act = np.arange(n)
    base = mg.sin_el if kind == "el" else (mg.cos_on or 0.0)
    for _ in range(6 * _NEWTON_STEPS):
        sub = pr if act.size == n else pr.take(act)
        m, der, rho = mg.values(sub, t[act], [kind], rates=True)
        mk, dk = m[kind], der[kind]
        # Angle margins are sin(elevation) and cos(off-nadir): angle rate = |dm/dt| / trig.
        if kind == "rng":
            slope[act] = np.abs(dk)
        else:
            trig = np.sqrt(np.maximum(1.0 - (mk + base) ** 2, 1e-12))
            slope[act] = np.abs(dk) * rho / trig
        ins = mk >= 0.0
        ta = t[act]
        aa = np.where(ins, ta, a[act])
        bb = np.where(ins, b[act], ta)
        a[act], b[act] = aa, bb
        nt = ta - mk / np.where(dk != 0.0, dk, np.nan)
        lo_, hi_ = np.minimum(aa, bb), np.maximum(aa, bb)
        off = ~((nt > lo_) & (nt < hi_))  # outside the bracket, or no slope: bisect
        nt = np.where(off, (aa + bb) / 2.0, nt)
        moved = np.abs(nt - ta)
        t[act] = nt
        # After a Newton step of s seconds the error is ~s²/(2 × the edge's distance from the
        # peak): under 5 ms leaves microseconds.
        done = ((moved < 5e-3) & ~off) | (np.abs(bb - aa) <= _EDGE_TOL_S)
        act = act[~done]
        if act.size == 0:
            break
    fail[act] = True
    # Verify: a bracket of at most 1 ms around the converged crossing ``t``: probe 0.3 ms
    # beyond it on each side not yet closer than 0.7 ms.
    direction = np.sign(b - a)  # from inside to outside
    near = 0.7 * _EDGE_TOL_S
    need_in = np.flatnonzero(~fail & (np.abs(t - a) > near))
    need_out = np.flatnonzero(~fail & (np.abs(b - t) > near))
    probe = np.concatenate((need_in, need_out))
    if probe.size:
        k = need_in.size
        shift = 0.3 * _EDGE_TOL_S * direction[probe]
        tp = t[probe] + np.concatenate((-shift[:k], shift[k:]))
        ins = mg.values(pr.take(probe), tp, [kind])[0][kind] >= 0.0
        # A pair may be probed on both sides: apply the two halves one after the other.
        for part in (slice(0, k), slice(k, None)):
            i, tq, q = probe[part], tp[part], ins[part]
            fwd = direction[i] > 0
            a[i] = np.where(q, np.where(fwd, np.maximum(a[i], tq), np.minimum(a[i], tq)), a[i])
            b[i] = np.where(q, b[i], np.where(fwd, np.minimum(b[i], tq), np.maximum(b[i], tq)))
    fail |= ~(np.abs(b - a) <= 1.2 * _EDGE_TOL_S)
    # Ill-conditioned crossings (a grazing edge, where the margin barely changes): the engine
    # decides those.
    ill = ~fail & (pos_tol_km / np.maximum(slope, 1e-12) > _CONDITION_S)
    return a, fail | ill, ill
