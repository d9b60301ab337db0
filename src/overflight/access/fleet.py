"""Satellite states for the search: SGP4 on a coarse grid everywhere, on a fine grid where asked.

:class:`Fleet` takes a batch of element sets and the interval, derives each satellite's
:class:`OrbitBounds` (angular momentum, radial speed, speed, turn rate: the margins every later
bound rests on, and the Hermite step), and runs SGP4 on the *coarse* grid over the whole
interval (:meth:`Fleet.grid`, what ``screen`` reads). ``engine`` then asks for *fine* samples
inside the screen's spans (:meth:`Fleet.add_fine`); :meth:`Fleet.states` hands ``search`` and
``lighting`` ITRS positions and velocities at any (satellite, time) pairs, cubic Hermite
between fine samples and SGP4 itself elsewhere (:meth:`Fleet.direct`). TEME → ITRS uses the
Earth rotation angle and the polar-motion matrix, both interpolated between hourly nodes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from overflight.access.model import F64, I64, Mask
from overflight.constants import DAY_S, EARTH_ROTATION_RAD_S, WGS72_MU_KM3_S2
from overflight.elements import ElementSet

# Bound on the cubic Hermite interpolation error of positions between SGP4 samples (km).
_HERMITE_KM = 0.010
# Coarse screening grid: at most this step (s) and this swept angle (rad) per step.
_COARSE_S = 900.0
_COARSE_SWEEP_RAD = 1.5
# Fine samples computed per block in Fleet.add_fine.
_FINE_BLOCK = 1_000_000
# Largest dense (satellite × fine sample) index of the fine samples (8 bytes each).
_DENSE_INDEX_MAX = 16_000_000


class _Rotation(NamedTuple):
    """TEME → ITRS at hourly nodes (seconds from t0): GMST (unwrapped, rad), its rate (rad/s)
    and the polar-motion matrix W as ``(W at the hour's start, W's change over the hour)``,
    each ``(9, nodes - 1)`` (row-major entries by hour), or None without a polar-motion
    table."""

    node_t: F64
    theta: F64
    rate: F64
    pole: tuple[F64, F64] | None


class States(NamedTuple):
    """ITRS states at N (satellite, time) pairs; NaN where SGP4 failed (``ok`` False)."""

    r_km: F64  # (N, 3)
    v_km_s: F64  # (N, 3)
    ok: Mask


class CoarseGrid(NamedTuple):
    """The coarse SGP4 samples of S satellites that share one coarse step."""

    r_km: F64  # (S, T, 3) ITRS positions, NaN where SGP4 failed
    v_km_s: F64  # (S, T, 3) ITRS velocities
    ok: Mask  # (S, T)
    t_s: F64  # (T,) seconds from t0


@dataclass(frozen=True, slots=True)
class OrbitBounds:
    """Per-satellite bounds (arrays over the batch) that the screen and the search rely on."""

    h_km2_s: F64  # specific angular momentum (upper bound incl. margin)
    vr_max_km_s: F64  # radial speed bound
    v_max_km_s: F64  # speed bound in the Earth-fixed frame
    step_s: F64  # fine (Hermite) step chosen for each satellite
    omega_max_rad_s: F64  # bound on the sub-satellite direction's angular rate


def orbit_bounds(elsets: Sequence[ElementSet]) -> OrbitBounds:
    """Bounds of :class:`OrbitBounds` from the mean elements, with margins for SGP4's
    short-period terms and drag."""
    n = np.array([e.mean_motion_rev_day for e in elsets]) * 2 * math.pi / DAY_S
    ecc = np.clip(np.array([e.eccentricity for e in elsets]), 0.0, 0.999)
    a = (WGS72_MU_KM3_S2 / n**2) ** (1.0 / 3.0)
    p = a * (1 - ecc**2)
    h = np.sqrt(WGS72_MU_KM3_S2 * p)
    r_p = a * (1 - ecc)
    r_a = a * (1 + ecc)
    # SGP4 osculating orbits differ from these mean ones by J2 short-period terms (~0.1% in
    # radius, tens of m/s in radial speed) and drift with drag; margins cover that generously.
    h_bound = h * 1.03
    vr = WGS72_MU_KM3_S2 / h * (ecc + 0.01) + 0.08
    v_in = np.sqrt(WGS72_MU_KM3_S2 * (2.0 / (r_p * 0.99) - 1.0 / (a * 1.01)))
    v_max = v_in * 1.02 + EARTH_ROTATION_RAD_S * r_a * 1.02
    omega_max = h_bound / (r_p * 0.98) ** 2 + EARTH_ROTATION_RAD_S
    # The step serves both the screen (the sub-satellite direction moves at most ~12° per
    # step) and cubic Hermite interpolation between SGP4 samples: its error is at most
    # step⁴/384 · max|x|, and |x| ≲ ω_p⁴ r_p (ω_p the angular rate at perigee) times a
    # safety factor growing with eccentricity (set from measured errors, MMS at e = 0.83 the
    # worst). The step keeps that bound under _HERMITE_KM.
    safety = 4.0 * ((1.0 + ecc) / (1.0 - ecc)) ** 3
    m4 = safety * omega_max**4 * r_p
    hermite = (_HERMITE_KM * 384.0 / m4) ** 0.25
    ideal = np.minimum(math.radians(12.0) / omega_max, hermite)
    classes = np.array([15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 240.0, 360.0, 480.0,
                        720.0, 900.0])
    idx = np.clip(np.searchsorted(classes, ideal, side="right") - 1, 0, len(classes) - 1)
    return OrbitBounds(h_bound, vr, v_max, classes[idx], omega_max)


class Fleet:
    """Satellites prepared for repeated evaluation; times are seconds from ``t0``.

    SGP4 runs on two grids per satellite. The *coarse* grid (``coarse_s``, 15 minutes
    for LEO) covers the whole interval and feeds the screen. The *fine* grid (``step``, the
    Hermite step of ``orbit_bounds``) is filled only where the screen found candidates
    (:meth:`add_fine`); positions and velocities at any time inside it are cubic Hermite
    interpolants of the two neighbouring fine samples, within ``_HERMITE_KM`` of SGP4 (tested in
    ``tests/test_access_hermite.py`` for every orbit class). Elsewhere, and next to failed
    samples, :meth:`states` asks SGP4 directly.
    """

    def __init__(
        self,
        elsets: Sequence[ElementSet],
        t0: np.datetime64,
        duration_s: float,
        workers: int | None = None,
    ) -> None:
        from overflight.propagation import propagate

        self.elsets = list(elsets)
        self.satrecs = [e.to_satrec() for e in self.elsets]
        self.bounds = orbit_bounds(self.elsets)
        self.t0: Any = np.asarray(t0).astype("datetime64[ns]")
        days = (self.t0 - np.datetime64("1970-01-01T00:00:00", "ns")) / np.timedelta64(1, "D")
        whole = math.floor(days)
        self.jd_whole = whole + 2440587.5
        self.jd_frac = days - whole
        self.duration_s = duration_s
        self.errors: dict[int, int] = {}  # satellite index -> first SGP4 error code seen
        self.step = self.bounds.step_s
        self.count = np.ceil(duration_s / self.step).astype(np.int64) + 2
        self._base = int(self.count.max()) + 2
        # The coarse step is a whole number of fine steps (satellites sharing it are screened
        # together; it depends on the satellite alone, so batches do not change results).
        longest = np.minimum(_COARSE_S, _COARSE_SWEEP_RAD / self.bounds.omega_max_rad_s)
        self.coarse_s = self.step * np.maximum(1.0, np.floor(longest / self.step))
        self.coarse_count = np.ceil(duration_s / self.coarse_s).astype(np.int64) + 2
        self.coarse_offset = np.concatenate(([0], np.cumsum(self.coarse_count)[:-1]))
        total = int(self.coarse_count.sum())
        self.coarse_pos = np.empty((total, 3))
        self.coarse_vel = np.empty((total, 3))
        self.coarse_ok = np.empty(total, dtype=bool)
        for coarse in np.unique(self.coarse_s):
            group = np.flatnonzero(self.coarse_s == coarse)
            t: F64 = np.arange(int(self.coarse_count[group[0]]), dtype=np.float64) * coarse
            times = self.times64(t)
            for lo in range(0, group.size, 2048):
                sats = group[lo : lo + 2048]
                eph = propagate([self.satrecs[i] for i in sats.tolist()], times, frame="itrs",
                                workers=workers)
                rows = (self.coarse_offset[sats][:, None] + np.arange(t.size)[None, :]).reshape(-1)
                self.coarse_pos[rows] = eph.position_km.reshape(-1, 3)
                self.coarse_vel[rows] = eph.velocity_km_s.reshape(-1, 3)
                err = eph.error
                self.coarse_ok[rows] = (err == 0).reshape(-1)
                for row in np.flatnonzero((err != 0).any(axis=1)).tolist():
                    e = err[row]
                    self.errors.setdefault(int(sats[row]), int(e[e != 0][0]))
        self.coarse_pos[~self.coarse_ok] = np.nan
        self.coarse_vel[~self.coarse_ok] = np.nan
        # Fine samples: sorted keys (satellite × _base + sample index) and their states.
        self.keys: I64 = np.empty(0, dtype=np.int64)
        self.pos: F64 = np.empty((0, 3))
        self.vel: F64 = np.empty((0, 3))
        self.ok: Mask = np.empty(0, dtype=bool)
        self._row: I64 | None = None
        self._angle: _Rotation | None = None
        self._angle_exact = False  # a leap second in the interval: no interpolated angle

    def times64(self, t_s: F64) -> npt.NDArray[np.datetime64]:
        out: npt.NDArray[np.datetime64] = self.t0 + np.round(t_s * 1e9).astype("timedelta64[ns]")
        return out

    def add_fine(self, sat_idx: I64, a_s: F64, b_s: F64) -> None:
        """Compute the fine samples that cover [a_s, b_s] for each satellite in ``sat_idx``.

        Intervals may overlap (samples are stored once), but each costs its own expansion:
        merge the spans of many sites per satellite first (``screen.merge_spans``)."""
        if sat_idx.size == 0:
            return
        # Intervals expanded to sample indices a block at a time so a year of GEO stays small.
        sat_m, a_m, b_m = sat_idx, a_s, b_s
        h = self.step[sat_m]
        last = self.count[sat_m] - 1
        k0 = np.clip(np.floor(a_m / h).astype(np.int64), 0, last - 1)
        k1 = np.clip(np.floor(b_m / h).astype(np.int64) + 1, k0 + 1, last)
        n = k1 - k0 + 1
        new_keys: list[I64] = []
        new_r: list[F64] = []
        new_v: list[F64] = []
        new_ok: list[Mask] = []
        ends = np.cumsum(n)
        lo = 0
        while lo < sat_m.size:
            hi = max(lo + 1, int(np.searchsorted(ends, ends[lo] - n[lo] + _FINE_BLOCK, "right")))
            nn = n[lo:hi]
            owner = np.repeat(np.arange(lo, hi), nn)
            k = k0[owner] + np.arange(owner.size) - np.repeat(np.cumsum(nn) - nn, nn)
            keys = np.unique(sat_m[owner] * self._base + k)
            if self.keys.size:
                keys = keys[~np.isin(keys, self.keys, assume_unique=True)]
            sat = keys // self._base
            r, v, ok = self.direct(sat, (keys % self._base) * self.step[sat])
            new_keys.append(keys)
            new_r.append(r)
            new_v.append(v)
            new_ok.append(ok)
            lo = hi
        # (Neighbouring intervals in different blocks can share a sample: keep one copy.)
        keys, first = np.unique(np.concatenate(new_keys), return_index=True)
        if keys.size == 0:
            return
        r = np.concatenate(new_r)[first]
        v = np.concatenate(new_v)[first]
        ok = np.concatenate(new_ok)[first]
        keys = np.concatenate((self.keys, keys))
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.pos = np.concatenate((self.pos, r))[order]
        self.vel = np.concatenate((self.vel, v))[order]
        self.ok = np.concatenate((self.ok, ok))[order]
        # Row of each fine sample whose successor is also stored (-1 otherwise): a dense
        # table when it is small, else binary search in states().
        size = len(self.elsets) * self._base
        if size <= _DENSE_INDEX_MAX:
            pair = np.flatnonzero(self.keys[1:] == self.keys[:-1] + 1)
            self._row = np.full(size, -1, dtype=np.int64)
            self._row[self.keys[pair]] = pair
        else:
            self._row = None

    def states(self, sat_idx: I64, t_s: F64) -> States:
        """ITRS position (km), velocity (km/s) and an ok mask for N (satellite, time) pairs."""
        r, v, ok = self._interpolate(sat_idx, t_s, True)
        assert v is not None
        return States(r, v, ok)

    def positions(self, sat_idx: I64, t_s: F64) -> tuple[F64, Mask]:
        """ITRS positions (km) and an ok mask: :meth:`states` without the velocities."""
        r, _, ok = self._interpolate(sat_idx, t_s, False)
        return r, ok

    def _interpolate(
        self, sat_idx: I64, t_s: F64, velocity: bool
    ) -> tuple[F64, F64 | None, Mask]:
        h = self.step[sat_idx]
        x = t_s / h
        k = np.clip(np.floor(x).astype(np.int64), 0, self.count[sat_idx] - 2)
        u = (x - k)[:, None]
        key = sat_idx * self._base + k
        nkeys = self.keys.size
        if nkeys >= 2 and self._row is not None:
            i0 = self._row[key]
            have = i0 >= 0
        elif nkeys >= 2:
            i0 = np.minimum(np.searchsorted(self.keys, key), nkeys - 2)
            have = (self.keys[i0] == key) & (self.keys[i0 + 1] == key + 1)
        else:
            have = np.zeros(key.size, dtype=bool)
        v: F64 | None = None
        if not have.any():
            r = np.full((key.size, 3), np.nan)
            v = np.full((key.size, 3), np.nan) if velocity else None
            ok = have
        else:
            i0 = np.where(have, i0, 0)
            i1 = i0 + 1
            # np.take: several times faster than fancy indexing of (N, 3) rows.
            r0, r1 = np.take(self.pos, i0, axis=0), np.take(self.pos, i1, axis=0)
            v0, v1 = np.take(self.vel, i0, axis=0), np.take(self.vel, i1, axis=0)
            hv0 = v0 * h[:, None]
            hv1 = v1 * h[:, None]
            u2 = u * u
            u3 = u2 * u
            h00 = 2 * u3 - 3 * u2 + 1
            h10 = u3 - 2 * u2 + u
            h01 = 1 - h00
            h11 = u3 - u2
            r = h00 * r0 + h10 * hv0 + h01 * r1 + h11 * hv1
            if velocity:
                d00 = 6 * u2 - 6 * u
                d10 = 3 * u2 - 4 * u + 1
                d11 = 3 * u2 - 2 * u
                v = (d00 * (r0 - r1) + d10 * hv0 + d11 * hv1) / h[:, None]
            ok = have & self.ok[i0] & self.ok[i1]
        if not ok.all():
            # Outside the fine samples, or next to a failed one (e.g. decay): ask SGP4.
            bad = np.flatnonzero(~ok)
            rb, vb, okb = self.direct(sat_idx[bad], t_s[bad])
            r[bad], ok[bad] = rb, okb
            if v is not None:
                v[bad] = vb
        return r, v, ok

    def direct(self, sat_idx: I64, t_s: F64) -> States:
        """SGP4 itself at N (satellite, time) pairs, rotated to ITRS."""
        n = sat_idx.size
        r = np.full((n, 3), np.nan)
        v = np.full((n, 3), np.nan)
        ok = np.zeros(n, dtype=bool)
        if n == 0:
            return States(r, v, ok)
        fr = self.jd_frac + t_s / DAY_S
        order = np.argsort(sat_idx, kind="stable")
        bounds = np.flatnonzero(np.diff(sat_idx[order])) + 1
        for sel in np.split(order, bounds):
            s = int(sat_idx[sel[0]])
            err, rr, vv = self.satrecs[s].sgp4_array(np.full(sel.size, self.jd_whole), fr[sel])
            good = err == 0
            r[sel] = np.where(good[:, None], rr, np.nan)
            v[sel] = np.where(good[:, None], vv, np.nan)
            ok[sel] = good
        r_itrs, v_itrs = self._to_itrs(r, v, t_s)
        return States(r_itrs, v_itrs, ok)

    def _to_itrs(self, r: F64, v: F64, t_s: F64) -> tuple[F64, F64]:
        """TEME position and velocity at times ``t_s`` rotated to ITRS (km, km/s), as
        ``frames.teme_to_itrs_matrices`` does.

        The Earth rotation angle is computed exactly every hour and interpolated linearly in
        between (it is linear in UT1, and UT1 − UTC drifts by ~1 ms a day: < 1e-10 rad), and so
        is the polar-motion matrix W (the pole moves < 10 mas a day, piecewise linearly between
        the table's daily values: < 0.2 mas, 1e-9 rad, from the exact W, 7 mm at low-orbit
        radius, 5 cm at GEO). With a leap second in the interval every time is computed
        exactly."""
        if self._angle is None and not self._angle_exact:
            self._angle = self._rotation_nodes()
            self._angle_exact = self._angle is None
        if self._angle is None:
            from overflight.frames import teme_to_itrs_matrices

            ut, inv = np.unique(t_s, return_inverse=True)
            rot, rate = teme_to_itrs_matrices(self.times64(ut))
            rot, rate = rot[inv], rate[inv]
            r_i = np.einsum("nij,nj->ni", rot, r)
            return r_i, np.einsum("nij,nj->ni", rot, v) + np.einsum("nij,nj->ni", rate, r)
        # A rotation about the pole by θ (and its rate ω), written out: no (N, 3, 3) arrays.
        node_t, theta, w, pole = self._angle
        th = np.interp(t_s, node_t, theta)
        wt = np.interp(t_s, node_t, w)
        c, sn = np.cos(th), np.sin(th)
        x, y, z = r[:, 0], r[:, 1], r[:, 2]
        vx, vy, vz = v[:, 0], v[:, 1], v[:, 2]
        xi = c * x + sn * y
        yi = c * y - sn * x
        vxi = c * vx + sn * vy + wt * yi
        vyi = c * vy - sn * vx - wt * xi
        r_w = np.empty_like(r)
        v_w = np.empty_like(v)
        if pole is None:
            r_w[:, 0], r_w[:, 1], r_w[:, 2] = xi, yi, z
            v_w[:, 0], v_w[:, 1], v_w[:, 2] = vxi, vyi, vz
            return r_w, v_w
        # Then polar motion: W interpolated linearly between the (uniform, hourly) nodes, its
        # nine entries gathered at once from the per-hour tables. Its rate is neglected, as in
        # frames.
        w0, dw = pole
        k = np.clip(((t_s - node_t[0]) // 3600.0).astype(np.int64), 0, node_t.size - 2)
        u = (t_s - node_t[k]) / 3600.0
        m = np.take(dw, k, axis=1)
        m *= u
        m += np.take(w0, k, axis=1)
        for i in range(3):
            a, b, e = m[3 * i], m[3 * i + 1], m[3 * i + 2]
            r_w[:, i] = a * xi + b * yi + e * z
            v_w[:, i] = a * vxi + b * vyi + e * vz
        return r_w, v_w

    def _rotation_nodes(self) -> _Rotation | None:
        from skyfield.sgp4lib import theta_GMST1982

        from overflight.frames import _polar_motion_matrices
        from overflight.times import skyfield_time

        node_t: F64 = np.arange(-3600.0, self.duration_s + 7200.0, 3600.0)
        t = skyfield_time(self.times64(node_t))
        whole = np.asarray(t.whole, dtype=np.float64)
        theta, theta_dot = theta_GMST1982(whole, np.asarray(t.ut1_fraction, dtype=np.float64))
        theta = np.unwrap(np.asarray(theta, dtype=np.float64))
        w = np.asarray(theta_dot, dtype=np.float64) / DAY_S
        # A leap second inside the interval makes UT1 jump against UTC seconds: no interpolation.
        if np.abs(np.diff(theta) - w[:-1] * 3600.0).max(initial=0.0) > 1e-7:
            return None
        pm = _polar_motion_matrices(t)
        if pm is None:
            return _Rotation(node_t, theta, w, None)
        flat = np.ascontiguousarray(np.asarray(pm, dtype=np.float64).reshape(-1, 9).T)
        pole = (flat[:, :-1].copy(), flat[:, 1:] - flat[:, :-1])
        return _Rotation(node_t, theta, w, pole)

    def grid(self, sats: I64) -> CoarseGrid:
        """Coarse positions and velocities ``(S, T, 3)``, ok mask and times of satellites that
        share one coarse step."""
        count = int(self.coarse_count[sats[0]])
        rows = self.coarse_offset[sats][:, None] + np.arange(count)[None, :]
        t: F64 = np.arange(count, dtype=np.float64) * float(self.coarse_s[sats[0]])
        ok: Mask = self.coarse_ok[rows]
        return CoarseGrid(self.coarse_pos[rows], self.coarse_vel[rows], ok, t)
