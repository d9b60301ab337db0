"""Overflight windows: when satellites see ground sites, under geometric and lighting constraints.

Method (details and the no-miss guarantee in ``docs/access.md``):

1. *Coarse screen.* Each satellite is propagated on a coarse grid (15 min for LEO). Between
   two samples, in the Earth-fixed frame of the gap's midpoint (which does not rotate), the
   satellite runs along the great-circle arc between the two sample directions; a site can
   only be served while within reach of that arc (the visibility cap for the largest radius
   the satellite can reach, the site's own motion, a margin for SGP4's perturbations), and the
   satellite's angle along the arc bounds when. Sites are grouped in spatial cells; a (gap,
   cell) test then a (gap, site) test give candidate spans of a few minutes.
2. *Exact search.* SGP4 fills a fine grid (cubic Hermite between samples) inside the spans
   only. Each span is searched with the exact constraint function g(t) = min(elevation margin,
   off-nadir margin, range margin). A gap between two evaluated times is discarded only when a
   Lipschitz or central-angle bound on g proves it negative throughout; otherwise it is split.
   Gaps shorter than ``RESOLUTION_S`` are not split further, so any window longer than that is
   found.
3. *Refinement.* Start and end are roots of g (Illinois regula falsi to 5 ms); the peak is the
   root of the range rate (closest approach); the maximum elevation comes from straight-line
   steps with SGP4's state. Lighting constraints (Sun elevation at the site, satellite sunlit)
   then clip windows, and clipped edges say why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from overflight.elements import ElementSet
from overflight.errors import OverflightError
from overflight.geometry import Site, Sites

__all__ = [
    "RESOLUTION_S",
    "AccessError",
    "Constraints",
    "Window",
    "WindowTable",
    "check_interval",
    "find_windows",
    "iter_window_tables",
    "table_to_windows",
    "window_table",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

RESOLUTION_S = 0.05
"""Windows shorter than this may be missed (they are grazing passes within ~0.001° of the limit)."""

_MU = 398600.8  # km^3/s^2, WGS-72 as SGP4
_J2 = 1.082616e-3  # WGS-72 as SGP4
_RE_KM = 6378.135
_OMEGA_EARTH = 7.2921158553e-5  # rad/s
_R_POLAR_KM = 6356.752
# Largest angle between the geodetic vertical and the geocentric radius on WGS-84 (0.1924°).
_DEFLECTION_RAD = math.radians(0.1925)
_MAX_INTERVAL_DAYS = 366.0
# Where the bundled DE421 ephemeris gives the Sun (every window reports Sun elevation).
_EPHEMERIS_SPAN = (datetime(1900, 1, 1, tzinfo=UTC), datetime(2053, 10, 1, tzinfo=UTC))
# Bound on the cubic Hermite interpolation error of positions between SGP4 samples (km).
_HERMITE_KM = 0.010
# Coarse screening grid: at most this step (s) and this swept angle (rad) per step.
_COARSE_S = 900.0
_COARSE_SWEEP_RAD = 1.5
# Margins of the arc screen: angular momentum change within one coarse step (relative; J2
# short-period terms are ~0.05 %), angular-rate bounds (relative), the satellite's excursion
# from the plane of two samples (rad; J2 moves it ~0.01° in ten minutes) and span padding (s).
_H_MARGIN = 0.01
_RATE_MARGIN = 0.01
_PLANE_RAD = 2e-3
_SPAN_PAD_S = 1.0
# Fine samples computed per block in _Fleet.add_fine.
_FINE_BLOCK = 1_000_000
# Largest dense (satellite × fine sample) index of the fine samples (8 bytes each).
_DENSE_INDEX_MAX = 16_000_000
# Windows up to this long (s) have a single elevation maximum (a LEO pass is < 20 min);
# the time of maximum elevation is refined with at most _TOP_STEPS straight-line steps.
_UNIMODAL_S = 1200.0
_TOP_STEPS = 4
# Fewest satellites worth a worker process of their own.
_MIN_BATCH = 24


class AccessError(OverflightError):
    """Impossible or malformed window request (one-line message)."""


@dataclass(frozen=True)
class Constraints:
    """What makes a satellite-site geometry count as a window.

    ``min_elevation_deg`` at the site (geodetic, no refraction) and/or ``max_off_nadir_deg`` at
    the satellite; ``max_range_km`` slant range; Sun elevation at the site within
    [``sun_min_deg``, ``sun_max_deg``]; ``sunlit`` True/False requires the satellite in
    sunlight/in Earth's shadow; windows shorter than ``min_duration_s`` are dropped.
    """

    min_elevation_deg: float | None = None
    max_off_nadir_deg: float | None = None
    max_range_km: float | None = None
    sun_min_deg: float | None = None
    sun_max_deg: float | None = None
    sunlit: bool | None = None
    min_duration_s: float = 0.0

    def effective_min_elevation_deg(self) -> float:
        """The elevation limit in force: the given one, else 0° (above the horizon)."""
        if self.min_elevation_deg is not None:
            return self.min_elevation_deg
        return 0.0

    def validate(self) -> None:
        """Raise AccessError for impossible constraints."""
        for name in ("min_elevation_deg", "max_off_nadir_deg", "max_range_km", "sun_min_deg",
                     "sun_max_deg", "min_duration_s"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise AccessError(f"{name.replace('_', ' ')} must be a finite number, not {value}")
        e = self.min_elevation_deg
        if e is not None and not -90.0 < e < 90.0:
            raise AccessError(f"min elevation {e}° must be in (-90, 90)")
        o = self.max_off_nadir_deg
        if o is not None and not 0.0 < o < 90.0:
            raise AccessError(f"max off-nadir {o}° must be in (0, 90)")
        if self.max_range_km is not None and self.max_range_km <= 0:
            raise AccessError(f"max range {self.max_range_km} km must be positive")
        lo, hi = self.sun_min_deg, self.sun_max_deg
        for v, n in ((lo, "sun min"), (hi, "sun max")):
            if v is not None and not -90.0 <= v <= 90.0:
                raise AccessError(f"{n} elevation {v}° must be in [-90, 90]")
        if lo is not None and hi is not None and lo > hi:
            raise AccessError(f"sun elevation range is empty: min {lo}° > max {hi}°")
        if self.min_duration_s < 0:
            raise AccessError("min duration must not be negative")


@dataclass(frozen=True)
class Window:
    """One overflight window of a satellite over a site (times aware UTC)."""

    norad_id: int
    name: str
    site: str
    site_lat_deg: float
    site_lon_deg: float
    start: datetime
    peak: datetime
    end: datetime
    max_elevation_deg: float
    min_off_nadir_deg: float
    min_range_km: float
    sun_elevation_deg: float
    satellite_sunlit: bool
    direction: str
    gsd_m: float | None = None
    start_clipped: str | None = None
    end_clipped: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def duration_s(self) -> float:
        """Window length in seconds."""
        return (self.end - self.start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; times ISO 8601 UTC with ``Z`` (millisecond precision)."""
        from overflight.times import format_utc

        return {
            "norad_id": self.norad_id,
            "name": self.name,
            "site": self.site,
            "site_lat_deg": self.site_lat_deg,
            "site_lon_deg": self.site_lon_deg,
            "start": format_utc(self.start, decimals=3),
            "peak": format_utc(self.peak, decimals=3),
            "end": format_utc(self.end, decimals=3),
            "duration_s": round(self.duration_s, 3),
            "max_elevation_deg": round(self.max_elevation_deg, 4),
            "min_off_nadir_deg": round(self.min_off_nadir_deg, 4),
            "min_range_km": round(self.min_range_km, 3),
            "sun_elevation_deg": round(self.sun_elevation_deg, 3),
            "satellite_sunlit": self.satellite_sunlit,
            "direction": self.direction,
            "gsd_m": None if self.gsd_m is None else round(self.gsd_m, 3),
            "start_clipped": self.start_clipped,
            "end_clipped": self.end_clipped,
        }


# --------------------------------------------------------------------------------------------
# Orbit bounds used by the screen


@dataclass(frozen=True)
class _OrbitBounds:
    h_km2_s: F64  # specific angular momentum (upper bound incl. margin)
    vr_max_km_s: F64  # radial speed bound
    v_max_km_s: F64  # speed bound in the Earth-fixed frame
    step_s: F64  # fine (Hermite) step chosen for each satellite
    omega_max_rad_s: F64  # bound on the sub-satellite direction's angular rate


def _orbit_bounds(elsets: Sequence[ElementSet]) -> _OrbitBounds:
    n = np.array([e.mean_motion_rev_day for e in elsets]) * 2 * math.pi / 86400.0
    ecc = np.clip(np.array([e.eccentricity for e in elsets]), 0.0, 0.999)
    a = (_MU / n**2) ** (1.0 / 3.0)
    p = a * (1 - ecc**2)
    h = np.sqrt(_MU * p)
    r_p = a * (1 - ecc)
    r_a = a * (1 + ecc)
    # SGP4 osculating orbits differ from these mean ones by J2 short-period terms (~0.1% in
    # radius, tens of m/s in radial speed) and drift with drag; margins cover that generously.
    h_bound = h * 1.03
    vr = _MU / h * (ecc + 0.01) + 0.08
    v_in = np.sqrt(_MU * (2.0 / (r_p * 0.99) - 1.0 / (a * 1.01)))
    v_max = v_in * 1.02 + _OMEGA_EARTH * r_a * 1.02
    omega_max = h_bound / (r_p * 0.98) ** 2 + _OMEGA_EARTH
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
    return _OrbitBounds(h_bound, vr, v_max, classes[idx], omega_max)


def _inner_cap(r_sat: F64, r_site_max: float, elev_rad: float) -> F64:
    """Largest Earth-central angle (rad) within which a satellite at radius >= ``r_sat`` is
    surely above ``elev_rad`` from a site at radius <= ``r_site_max`` (geodetic vertical
    included); -inf when there is none."""
    e1 = elev_rad + _DEFLECTION_RAD
    if e1 >= math.pi / 2:
        return np.full(np.shape(r_sat), -np.inf)
    ratio = np.clip(r_site_max * math.cos(e1) / r_sat, -1.0, 1.0)
    # (A satellite below the highest site proves nothing.)
    out: F64 = np.where(r_sat > r_site_max, np.arccos(ratio) - e1, -np.inf)
    return out


def _cap_limit(r_sat: F64, r_site_min: float, elev_rad: float, off_nadir_rad: float | None) -> F64:
    """Largest Earth-central angle (rad) at which a satellite at radius ``r_sat`` can meet the
    constraints from a site at radius >= ``r_site_min`` (spherical model, conservative)."""
    e0 = elev_rad - _DEFLECTION_RAD
    ratio = np.clip(r_site_min * math.cos(e0) / r_sat, -1.0, 1.0)
    lam = np.arccos(ratio) - e0
    if off_nadir_rad is not None:
        th = min(off_nadir_rad + _DEFLECTION_RAD, math.pi / 2)
        s = r_sat * math.sin(th) / r_site_min
        lam_o = np.where(
            s >= 1.0,
            np.arccos(np.clip(r_site_min / r_sat, -1, 1)),
            np.arcsin(np.clip(s, -1.0, 1.0)) - th,
        )
        lam = np.minimum(lam, lam_o)
    out: F64 = np.clip(lam, 0.0, math.pi)
    return out


# --------------------------------------------------------------------------------------------
# States of satellites at arbitrary (satellite, time) pairs


class _Fleet:
    """Satellites prepared for repeated evaluation; times are seconds from ``t0``.

    SGP4 runs on two grids per satellite. The *coarse* grid (``coarse_s``, 15 minutes
    for LEO) covers the whole interval and feeds the screen. The *fine* grid (``step``, the
    Hermite step of ``_orbit_bounds``) is filled only where the screen found candidates
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
        self.bounds = _orbit_bounds(self.elsets)
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
        self.ok: npt.NDArray[np.bool_] = np.empty(0, dtype=bool)
        self._row: I64 | None = None
        self._angle: tuple[F64, F64, F64] | None = None
        self._angle_exact = False  # polar motion or a leap second: no interpolated angle

    def times64(self, t_s: F64) -> npt.NDArray[np.datetime64]:
        out: npt.NDArray[np.datetime64] = self.t0 + np.round(t_s * 1e9).astype("timedelta64[ns]")
        return out

    def add_fine(self, sat_idx: I64, a_s: F64, b_s: F64) -> None:
        """Compute the fine samples that cover [a_s, b_s] for each satellite in ``sat_idx``."""
        if sat_idx.size == 0:
            return
        # One merged interval list per satellite (spans of many sites overlap), expanded to
        # sample indices a block at a time so a year of GEO stays small.
        sat_m, _, a_m, b_m = _merge_spans(sat_idx, np.zeros_like(sat_idx), a_s, b_s)
        h = self.step[sat_m]
        last = self.count[sat_m] - 1
        k0 = np.clip(np.floor(a_m / h).astype(np.int64), 0, last - 1)
        k1 = np.clip(np.floor(b_m / h).astype(np.int64) + 1, k0 + 1, last)
        n = k1 - k0 + 1
        new_keys: list[I64] = []
        new_r: list[F64] = []
        new_v: list[F64] = []
        new_ok: list[npt.NDArray[np.bool_]] = []
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
            r, v, ok = self._direct(sat, (keys % self._base) * self.step[sat])
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

    def states(self, sat_idx: I64, t_s: F64) -> tuple[F64, F64, npt.NDArray[np.bool_]]:
        """ITRS position (km), velocity (km/s) and an ok mask for N (satellite, time) pairs."""
        r, v, ok = self._interpolate(sat_idx, t_s, True)
        assert v is not None
        return r, v, ok

    def positions(self, sat_idx: I64, t_s: F64) -> tuple[F64, npt.NDArray[np.bool_]]:
        """ITRS positions (km) and an ok mask: :meth:`states` without the velocities."""
        r, _, ok = self._interpolate(sat_idx, t_s, False)
        return r, ok

    def _interpolate(
        self, sat_idx: I64, t_s: F64, velocity: bool
    ) -> tuple[F64, F64 | None, npt.NDArray[np.bool_]]:
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
            rb, vb, okb = self._direct(sat_idx[bad], t_s[bad])
            r[bad], ok[bad] = rb, okb
            if v is not None:
                v[bad] = vb
        return r, v, ok

    def _direct(self, sat_idx: I64, t_s: F64) -> tuple[F64, F64, npt.NDArray[np.bool_]]:
        """SGP4 itself at N (satellite, time) pairs, rotated to ITRS."""
        n = sat_idx.size
        r = np.full((n, 3), np.nan)
        v = np.full((n, 3), np.nan)
        ok = np.zeros(n, dtype=bool)
        if n == 0:
            return r, v, ok
        fr = self.jd_frac + t_s / 86400.0
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
        return r_itrs, v_itrs, ok

    def _to_itrs(self, r: F64, v: F64, t_s: F64) -> tuple[F64, F64]:
        """TEME position and velocity at times ``t_s`` rotated to ITRS (km, km/s), as
        ``frames.teme_to_itrs_matrices`` does.

        The Earth rotation angle is computed exactly every hour and interpolated linearly in
        between (it is linear in UT1, and UT1 − UTC drifts by ~1 ms a day: < 1e-10 rad); with
        polar motion, or a leap second in the interval, every time is computed exactly."""
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
        node_t, theta, w = self._angle
        th = np.interp(t_s, node_t, theta)
        wt = np.interp(t_s, node_t, w)
        c, sn = np.cos(th), np.sin(th)
        x, y = r[:, 0], r[:, 1]
        r_i = np.empty_like(r)
        r_i[:, 0] = c * x + sn * y
        r_i[:, 1] = c * y - sn * x
        r_i[:, 2] = r[:, 2]
        v_i = np.empty_like(v)
        v_i[:, 0] = c * v[:, 0] + sn * v[:, 1] + wt * r_i[:, 1]
        v_i[:, 1] = c * v[:, 1] - sn * v[:, 0] - wt * r_i[:, 0]
        v_i[:, 2] = v[:, 2]
        return r_i, v_i

    def _rotation_nodes(self) -> tuple[F64, F64, F64] | None:
        from skyfield.sgp4lib import theta_GMST1982

        from overflight.times import skyfield_time

        node_t: F64 = np.arange(-3600.0, self.duration_s + 7200.0, 3600.0)
        t = skyfield_time(self.times64(node_t))
        if t.ts.polar_motion_table is not None:
            return None
        whole = np.asarray(t.whole, dtype=np.float64)
        theta, theta_dot = theta_GMST1982(whole, np.asarray(t.ut1_fraction, dtype=np.float64))
        theta = np.unwrap(np.asarray(theta, dtype=np.float64))
        w = np.asarray(theta_dot, dtype=np.float64) / 86400.0
        # A leap second inside the interval makes UT1 jump against UTC seconds: no interpolation.
        if np.abs(np.diff(theta) - w[:-1] * 3600.0).max(initial=0.0) > 1e-7:
            return None
        return node_t, theta, w

    def grid(self, sats: I64) -> tuple[F64, F64, npt.NDArray[np.bool_], F64]:
        """Coarse positions and velocities ``(S, T, 3)``, ok mask and times of satellites that
        share one coarse step."""
        count = int(self.coarse_count[sats[0]])
        rows = self.coarse_offset[sats][:, None] + np.arange(count)[None, :]
        t: F64 = np.arange(count, dtype=np.float64) * float(self.coarse_s[sats[0]])
        ok: npt.NDArray[np.bool_] = self.coarse_ok[rows]
        return self.coarse_pos[rows], self.coarse_vel[rows], ok, t


# --------------------------------------------------------------------------------------------
# Sites and the spatial cells used by the screen


@dataclass(frozen=True)
class _SiteSet:
    sites: Sites
    unit: F64  # (M, 3) geocentric unit vectors
    up: F64  # (M, 3) geodetic up
    r_min_km: float
    r_max_km: float
    cell_of: I64  # (M,) cell index of each site
    cell_unit: F64  # (C, 3)
    cell_radius: F64  # (C,) radians
    cell_members: I64  # sites ordered by cell
    cell_start: I64  # (C+1,) CSR offsets into cell_members


def _site_set(sites: Sequence[Site]) -> _SiteSet:
    ss = Sites.from_sites(sites)
    xyz = ss.itrs_km
    norm = np.linalg.norm(xyz, axis=1)
    unit = xyz / norm[:, None]
    m = len(ss)
    if m <= 48:
        cell_of = np.arange(m)
    else:
        # ~8° cells: few enough that the (sample, cell) test is cheap, small enough to prune.
        lat_bin = np.floor((ss.lat_deg + 90.0) / 8.0).astype(np.int64)
        ncols = np.maximum(1, np.floor(45.0 * np.cos(np.radians((lat_bin + 0.5) * 8.0 - 90.0))))
        lon = np.mod(ss.lon_deg + 180.0, 360.0)
        col = np.floor(lon / 360.0 * ncols).astype(np.int64)
        _, cell_of = np.unique(lat_bin * 1000 + col, return_inverse=True)
    ncell = int(cell_of.max()) + 1
    sums = np.zeros((ncell, 3))
    np.add.at(sums, cell_of, unit)
    cell_unit = sums / np.linalg.norm(sums, axis=1)[:, None]
    ang = np.arccos(np.clip(np.einsum("ij,ij->i", unit, cell_unit[cell_of]), -1.0, 1.0))
    radius = np.zeros(ncell)
    np.maximum.at(radius, cell_of, ang)
    members = np.argsort(cell_of, kind="stable")
    start = np.concatenate(([0], np.cumsum(np.bincount(cell_of, minlength=ncell))))
    return _SiteSet(
        sites=ss,
        unit=unit,
        up=ss.enu[:, 2, :],
        r_min_km=float(norm.min()) - 0.5,
        r_max_km=float(norm.max()) + 0.5,
        cell_of=cell_of,
        cell_unit=cell_unit,
        cell_radius=radius + 1e-6,
        cell_members=members,
        cell_start=start,
    )


# --------------------------------------------------------------------------------------------
# 1. Coarse screen


def _screen(
    fleet: _Fleet,
    ss: _SiteSet,
    group: I64,
    duration_s: float,
    c: Constraints,
) -> tuple[I64, I64, F64, F64]:
    """Candidate spans (satellite, site, start_s, end_s) for satellites ``group`` that share
    one coarse step (the arc test of the module doc)."""
    _, _, _, t = fleet.grid(group[:1])
    step = float(fleet.coarse_s[group[0]])
    elev = math.radians(c.effective_min_elevation_deg())
    off = None if c.max_off_nadir_deg is None else math.radians(c.max_off_nadir_deg)
    ngap = t.size - 1
    ncell = ss.cell_unit.shape[0]
    # Chunk satellites so one (gaps × cells) block stays around 1 M entries.
    per_chunk = max(1, int(1_000_000 // max(1, ngap * ncell)))
    parts: list[tuple[I64, I64, F64, F64]] = []
    for lo in range(0, group.size, per_chunk):
        sats = group[lo : lo + per_chunk]
        # Chunks hold different satellites: merging each keeps the memory to merged spans.
        parts.append(_merge_spans(*_screen_chunk(fleet, ss, sats, t, step, duration_s, elev,
                                                 off)))
    sat, site, a, b = (np.concatenate([p[i] for p in parts]) for i in range(4))
    return sat.astype(np.int64), site.astype(np.int64), a, b


def _screen_chunk(
    fleet: _Fleet,
    ss: _SiteSet,
    sats: I64,
    t: F64,
    step: float,
    duration_s: float,
    elev: float,
    off: float | None,
) -> tuple[I64, I64, F64, F64]:
    pos, vel, ok, _ = fleet.grid(sats)
    r = np.linalg.norm(pos, axis=-1)
    # Inertial velocity (the ITRS one plus ω × r) gives the angular momentum at each sample.
    v_in = vel.copy()
    v_in[..., 0] -= _OMEGA_EARTH * pos[..., 1]
    v_in[..., 1] += _OMEGA_EARTH * pos[..., 0]
    h = np.linalg.norm(np.cross(pos, v_in), axis=-1)
    vr = np.abs(np.einsum("...i,...i->...", pos, vel)) / r
    unit = pos / r[..., None]
    half = step / 2.0
    # Gap k runs from sample k to k+1. Both ends rotated into the Earth-fixed frame of the
    # gap's midpoint: in that non-rotating frame the orbit stays in its plane, so the
    # satellite's direction runs along the great-circle arc from A to B.
    a_vec = _spin_z(unit[:, :-1], -_OMEGA_EARTH * half)
    b_vec = _spin_z(unit[:, 1:], _OMEGA_EARTH * half)
    both = ok[:, :-1] & ok[:, 1:]
    one = ok[:, :-1] != ok[:, 1:]
    with np.errstate(invalid="ignore"):
        vr_gap = np.maximum(
            fleet.bounds.vr_max_km_s[sats][:, None], np.maximum(vr[:, :-1], vr[:, 1:])
        ) * 1.1
        r_hi = (r[:, :-1] + r[:, 1:] + vr_gap * step) / 2.0
        r_lo = np.maximum((r[:, :-1] + r[:, 1:] - vr_gap * step) / 2.0, 6000.0)
        h_hi = np.maximum(h[:, :-1], h[:, 1:]) * (1.0 + _H_MARGIN)
        h_lo = np.minimum(h[:, :-1], h[:, 1:]) * (1.0 - _H_MARGIN)
        w_hi = h_hi / r_lo**2
        w_lo = h_lo / r_hi**2
        # |d²φ/dt²| ≤ 2 h |ṙ| / r³ + |ḣ| / r² (ḣ from J2's torque, tripled): the along-arc
        # angle stays within dev of linear interpolation between the gap's ends.
        a_j2 = 3.0 * 1.5 * _J2 * _MU * _RE_KM**2 / r_lo**4
        curv = 2.0 * h_hi * vr_gap / r_lo**3 + r_hi * a_j2 / r_lo**2
        dev = 1.5 * curv * step**2 / 8.0
        lam = _cap_limit(r_hi, ss.r_min_km, elev, off)
    # The site moves by up to ω⊕·step/2 in that frame; _PLANE_RAD covers the perturbations
    # that take the satellite out of the plane of A and B within one gap.
    reach = lam + _OMEGA_EARTH * half + _PLANE_RAD
    normal = np.cross(a_vec, b_vec)
    sin_t = np.linalg.norm(normal, axis=-1)
    theta = np.arctan2(sin_t, np.einsum("...i,...i->...", a_vec, b_vec))
    with np.errstate(invalid="ignore", divide="ignore"):
        n_hat = normal / sin_t[..., None]
        # The arc is the path only if the swept angle is below π and agrees with the rates.
        arc_ok = (
            both
            & (sin_t > 1e-9)
            & (w_hi * step < 0.9 * math.pi)
            & (theta >= w_lo * step * 0.999)
            & (theta <= w_hi * step * 1.001)
        )
        # Times along the arc need a reach well inside a hemisphere; beyond (GEO near the
        # horizon) a site within reach of the arc gets the whole gap.
        narrow = (reach < 0.45 * math.pi) & (theta + reach < 0.9 * math.pi)
    # Gaps the arc test cannot judge: every site over the whole gap (a failed end included).
    whole = (both | one) & ~arc_ok
    flat = np.flatnonzero(arc_ok.reshape(-1))
    ngap = t.size - 1
    out_sat: list[I64] = []
    out_site: list[I64] = []
    out_a: list[F64] = []
    out_b: list[F64] = []
    # Blocks of gaps small enough that every site of a block being a candidate stays cheap.
    block = max(16, 4_000_000 // max(ss.unit.shape[0], ss.cell_unit.shape[0]))
    arrays = {
        "a_vec": a_vec.reshape(-1, 3), "b_vec": b_vec.reshape(-1, 3),
        "n_hat": n_hat.reshape(-1, 3), "theta": theta.reshape(-1), "reach": reach.reshape(-1),
        "narrow": narrow.reshape(-1), "dev": dev.reshape(-1), "w_hi": w_hi.reshape(-1),
        "w_lo": w_lo.reshape(-1),
    }
    for lo in range(0, flat.size, block):
        gap, site, a_s, b_s = _arc_candidates(ss, flat[lo : lo + block], arrays, step, half)
        k = gap % ngap
        out_sat.append(sats[gap // ngap])
        out_site.append(site)
        out_a.append(t[k] + a_s)
        out_b.append(t[k] + b_s)
    wg = np.flatnonzero(whole.reshape(-1))
    if wg.size:
        m = ss.unit.shape[0]
        k = np.repeat(wg % ngap, m)
        out_sat.append(np.repeat(sats[wg // ngap], m))
        out_site.append(np.tile(np.arange(m), wg.size))
        out_a.append(t[k])
        out_b.append(t[k + 1])
    if not out_sat:
        ei = np.empty(0, dtype=np.int64)
        return ei, ei, np.empty(0), np.empty(0)
    a = np.clip(np.concatenate(out_a), 0.0, duration_s)
    b = np.clip(np.concatenate(out_b), 0.0, duration_s)
    keep = a < b
    return np.concatenate(out_sat)[keep], np.concatenate(out_site)[keep], a[keep], b[keep]


def _arc_candidates(
    ss: _SiteSet, flat: I64, arrays: dict[str, Any], step: float, half: float
) -> tuple[I64, I64, F64, F64]:
    """(gap, site, start, end) candidates of the gaps ``flat`` (times from the gap's start)."""
    A = np.take(arrays["a_vec"], flat, axis=0)
    th = arrays["theta"][flat]
    L = arrays["reach"][flat]
    mid = A + np.take(arrays["b_vec"], flat, axis=0)
    mid /= np.linalg.norm(mid, axis=1)[:, None]
    # Cells first: a cap around the arc's midpoint (widened by the cell radius).
    cap = th / 2.0 + L
    dots = _dots(mid, ss.cell_unit)
    if ss.cell_radius.max() <= 1e-5:
        cell_hit = dots >= np.cos(np.minimum(cap + 1e-5, math.pi))[:, None]
    else:
        # cos(cap + radius) by the addition theorem: no trigonometry per (gap, cell).
        cap_c, cap_s = np.cos(cap)[:, None], np.sin(cap)[:, None]
        limit = cap_c * np.cos(ss.cell_radius) - cap_s * np.sin(ss.cell_radius)
        limit[cap[:, None] + ss.cell_radius[None, :] >= math.pi] = -2.0
        cell_hit = dots >= limit
    del dots
    g_idx, c_idx = np.nonzero(cell_hit)
    del cell_hit
    counts = ss.cell_start[c_idx + 1] - ss.cell_start[c_idx]
    rep = np.repeat(np.arange(g_idx.size), counts)
    offsets = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts)
    site = ss.cell_members[ss.cell_start[c_idx][rep] + offsets]
    g = g_idx[rep]
    s_unit = np.take(ss.unit, site, axis=0)
    parts: list[tuple[I64, I64, F64, F64]] = []
    wide = ~arrays["narrow"][flat[g]]
    if wide.any():
        w_idx = np.flatnonzero(wide)
        cap_w = cap[g[w_idx]]
        near_mid = np.einsum("ij,ij->i", np.take(mid, g[w_idx], axis=0), s_unit[w_idx])
        keep = w_idx[(cap_w >= math.pi) | (near_mid >= np.cos(np.minimum(cap_w, math.pi)))]
        parts.append((flat[g[keep]], site[keep], np.zeros(keep.size), np.full(keep.size, step)))
        g, site, s_unit = g[~wide], site[~wide], s_unit[~wide]
    n_g = np.take(arrays["n_hat"], flat[g], axis=0)
    z = np.einsum("ij,ij->i", n_g, s_unit)
    near = np.abs(z) <= np.sin(L[g])
    g, site, s_unit, z, n_g = g[near], site[near], s_unit[near], z[near], n_g[near]
    a_g = np.take(A, g, axis=0)
    x = np.einsum("ij,ij->i", a_g, s_unit)
    y = np.einsum("ij,ij->i", np.cross(n_g, a_g), s_unit)  # along the in-plane normal
    phi = np.arctan2(y, x)
    gap = flat[g]
    arc = (th[g], L[g] - _OMEGA_EARTH * half, arrays["dev"][gap],
           arrays["w_hi"][gap] * (1.0 + _RATE_MARGIN), arrays["w_lo"][gap] * (1.0 - _RATE_MARGIN))
    lo_s, hi_s = _along_arc(phi, z, _OMEGA_EARTH * half, step, *arc)
    # Again with the site's motion over the times found, smaller than its largest motion
    # in the gap (ω⊕·step/2 at the equator): the second pass only narrows the first.
    live = np.flatnonzero(lo_s <= hi_s)
    cos_lat = np.sqrt(np.maximum(1.0 - s_unit[live, 2] ** 2, 0.0))
    moved = np.maximum(np.abs(lo_s[live] - half), np.abs(hi_s[live] - half))
    lo2, hi2 = _along_arc(phi[live], z[live], _OMEGA_EARTH * moved * cos_lat, step,
                          *(a[live] for a in arc))
    lo_s[live] = np.maximum(lo_s[live], lo2)
    hi_s[live] = np.minimum(hi_s[live], hi2)
    fine = lo_s <= hi_s
    # Whole seconds (padded): last-bit differences between batches cannot move a span's edges.
    parts.append((gap[fine], site[fine], np.floor(lo_s[fine] - _SPAN_PAD_S),
                  np.ceil(hi_s[fine] + _SPAN_PAD_S)))
    gap_o, site_o, a_o, b_o = (np.concatenate([p[i] for p in parts]) for i in range(4))
    return gap_o.astype(np.int64), site_o.astype(np.int64), a_o, b_o


def _along_arc(
    phi: F64, z: F64, site_motion: F64 | float, step: float, theta: F64, base_reach: F64,
    dev: F64, w_hi: F64, w_lo: F64,
) -> tuple[F64, F64]:
    """Times (s from the gap's start; lo > hi when none) at which the satellite can be within
    reach of a site at angle ``phi`` along the arc and ``z`` off its plane (sine)."""
    reach = np.minimum(base_reach + site_motion, 0.45 * math.pi)
    with np.errstate(invalid="ignore", divide="ignore"):
        # A point of the circle within reach of the site lies within dphi of its foot.
        cos_d = np.sqrt(np.maximum(1.0 - z * z, 1e-300))
        dphi = np.where(np.abs(z) <= np.sin(reach),
                        np.arccos(np.clip(np.cos(reach) / cos_d, -1.0, 1.0)), -1.0)
        # The satellite's angle along the arc grows from 0 to θ at a rate in [w_lo, w_hi], and
        # stays within dev of the straight line θ·τ/step; it must come within dphi of φ.
        lo = np.maximum((phi - dphi) / w_hi, step - (theta - phi + dphi) / w_lo)
        hi = np.minimum((phi + dphi) / w_lo, step - (theta - phi - dphi) / w_hi)
        lo = np.maximum(lo, (phi - dphi - dev) * step / theta)
        hi = np.minimum(hi, (phi + dphi + dev) * step / theta)
    none = (dphi < 0.0) | (phi < -dphi) | (phi > theta + dphi)
    lo = np.where(none, np.inf, np.clip(lo, 0.0, step))
    hi = np.where(none, -np.inf, np.clip(hi, 0.0, step))
    return lo, hi


def _dots(a: F64, b: F64) -> F64:
    """``a @ b.T`` for (N, 3) and (M, 3) arrays, without BLAS when M is small: OpenBLAS would
    start threads for this thin product, and their spinning costs more than it saves."""
    if b.shape[0] > 64:
        out: F64 = a @ b.T
        return out
    cols = np.ascontiguousarray(a.T)
    res = np.empty((b.shape[0], a.shape[0]))
    for m in range(b.shape[0]):
        np.multiply(cols[0], b[m, 0], out=res[m])
        res[m] += cols[1] * b[m, 1]
        res[m] += cols[2] * b[m, 2]
    out = res.T
    return out


def _merge_spans(sat: I64, site: I64, a: F64, b: F64) -> tuple[I64, I64, F64, F64]:
    """Union of overlapping or touching spans of each (satellite, site) pair."""
    if sat.size == 0:
        return sat, site, a, b
    order = np.lexsort((a, site, sat))
    sat, site, a, b = sat[order], site[order], a[order], b[order]
    new_pair = np.ones(sat.size, dtype=bool)
    new_pair[1:] = (sat[1:] != sat[:-1]) | (site[1:] != site[:-1])
    pair_id = np.cumsum(new_pair) - 1
    # Running maximum of the ends within each pair, exactly: on integer codes pair × U +
    # rank of the end among the U distinct ends, so pairs cannot mix.
    ends, rank = np.unique(b, return_inverse=True)
    code = pair_id * ends.size + rank.reshape(-1)
    reach = ends[np.maximum.accumulate(code) - pair_id * ends.size]
    new_run = new_pair.copy()
    new_run[1:] |= a[1:] > reach[:-1]
    starts = np.flatnonzero(new_run)
    ends = np.concatenate((starts[1:], [sat.size])) - 1
    return sat[starts], site[starts], a[starts], reach[ends]


def _spin_z(vec: F64, angle_rad: float) -> F64:
    """Rotate vectors ``(..., 3)`` counter-clockwise about z by ``angle_rad``."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    out = np.empty_like(vec)
    out[..., 0] = c * vec[..., 0] - s * vec[..., 1]
    out[..., 1] = s * vec[..., 0] + c * vec[..., 1]
    out[..., 2] = vec[..., 2]
    return out


# --------------------------------------------------------------------------------------------
# 2. Exact constraint function


@dataclass
class _Points:
    """Evaluations at (span, time) points; margins in radians (angles) and km (range)."""

    span: I64
    t: F64
    m_el: F64
    m_on: F64
    m_rng: F64
    rng: F64
    rr: F64
    el_rate: F64
    gamma: F64  # Earth-central angle between the satellite's and the site's directions, rad
    r_sat: F64  # satellite's distance from Earth's centre, km

    @property
    def g(self) -> F64:
        out: F64 = np.minimum(
            np.minimum(np.degrees(self.m_el), np.degrees(self.m_on)), self.m_rng / 10.0
        )
        return out


class _Evaluator:
    def __init__(self, fleet: _Fleet, ss: _SiteSet, c: Constraints) -> None:
        self.fleet = fleet
        self.ss = ss
        self.c = c
        self.elev_rad = math.radians(c.effective_min_elevation_deg())
        self.off_rad = None if c.max_off_nadir_deg is None else math.radians(c.max_off_nadir_deg)
        self.evaluations = 0

    def raw(self, sat: I64, site: I64, t: F64, *, exact: bool = False) -> dict[str, F64]:
        """Geometry at N (satellite, site, time) triples; ``exact`` asks SGP4 itself rather
        than the interpolant (for the values reported, not for the search)."""
        r, v, ok = (self.fleet._direct if exact else self.fleet.states)(sat, t)
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
        out = {
            "r": r,
            "v": v,
            "ok": ok.astype(np.float64),
            "rng": rng,
            "el": el,
            "rr": rr,
            "el_rate": el_rate,
            "r_sat": np.sqrt(np.einsum("ij,ij->i", r, r)),
        }
        cos_gamma = np.einsum("ij,ij->i", r, np.take(self.ss.unit, site, axis=0)) / out["r_sat"]
        out["gamma"] = np.arccos(np.clip(cos_gamma, -1.0, 1.0))
        if self.off_rad is not None:
            from overflight.geometry import view_geometry_arrays

            out["off"] = np.radians(view_geometry_arrays(r, xyz, up).off_nadir_deg)
        return out

    def margin(self, sat: I64, site: I64, t: F64) -> F64:
        """The constraint function g of :attr:`_Points.g` alone (positions only; -inf where
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
            from overflight.geometry import view_geometry_arrays

            off = np.radians(view_geometry_arrays(r, xyz, up).off_nadir_deg)
            g = np.minimum(g, np.degrees(self.off_rad - off))
        if self.c.max_range_km is not None:
            g = np.minimum(g, (self.c.max_range_km - rng) / 10.0)
        out: F64 = np.where(ok, g, -np.inf)
        return out

    def points(self, span: I64, sat: I64, site: I64, t: F64) -> _Points:
        raw = self.raw(sat, site, t)
        ok = raw["ok"] > 0
        m_el = raw["el"] - self.elev_rad
        m_on = (self.off_rad - raw["off"]) if self.off_rad is not None else np.full(t.size, np.inf)
        max_rng = self.c.max_range_km
        m_rng = (max_rng - raw["rng"]) if max_rng is not None else np.full(t.size, np.inf)
        neg = -np.inf
        return _Points(
            span=span,
            t=t,
            m_el=np.where(ok, m_el, neg),
            m_on=np.where(ok, m_on, neg),
            m_rng=np.where(ok, m_rng, neg),
            rng=raw["rng"],
            rr=raw["rr"],
            el_rate=raw["el_rate"],
            gamma=raw["gamma"],
            r_sat=raw["r_sat"],
        )


def _concat(parts: Sequence[_Points]) -> _Points:
    return _Points(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in _Points.__dataclass_fields__)
    )


def _take(p: _Points, idx: I64) -> _Points:
    return _Points(*(getattr(p, f)[idx] for f in _Points.__dataclass_fields__))


_BRACKET_S = 30.0  # sign-change gaps are split down to this before root finding


def _search(ev: _Evaluator, span_sat: I64, span_site: I64, a: F64, b: F64) -> _Points:
    """Evaluate each span densely enough that g's sign structure is proven (see module doc)."""
    n = span_sat.size
    bounds = ev.fleet.bounds
    v_max = bounds.v_max_km_s
    omega = bounds.h_km2_s / (6300.0**2) + _OMEGA_EARTH
    spans = np.arange(n)
    pts = ev.points(
        np.concatenate((spans, spans)),
        np.concatenate((span_sat, span_sat)),
        np.concatenate((span_site, span_site)),
        np.concatenate((a, b)),
    )
    all_pts = [pts]
    left = _take(pts, np.arange(n))
    right = _take(pts, np.arange(n, 2 * n))
    while left.t.size:
        length = right.t - left.t
        s = span_sat[left.span]
        vm = v_max[s]
        rho_lo = np.minimum(left.rng, right.rng) - vm * length / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            l_el = np.where(rho_lo > 1.0, vm / rho_lo, np.inf)
        l_on = l_el + omega[s]
        inf = np.inf
        with np.errstate(invalid="ignore"):
            ub_el = (left.m_el + right.m_el + l_el * length) / 2.0
            lb_el = (left.m_el + right.m_el - l_el * length) / 2.0
            ub_on = (
                (left.m_on + right.m_on + l_on * length) / 2.0 if ev.off_rad is not None else inf
            )
            lb_on = (
                (left.m_on + right.m_on - l_on * length) / 2.0 if ev.off_rad is not None else inf
            )
            has_rng = ev.c.max_range_km is not None
            ub_rng = (left.m_rng + right.m_rng + vm * length) / 2.0 if has_rng else inf
            lb_rng = (left.m_rng + right.m_rng - vm * length) / 2.0 if has_rng else inf
        ub = np.minimum(np.minimum(ub_el, ub_on), ub_rng)
        # The screen's bound on the Earth-central angle, now over this gap alone: much tighter
        # than the elevation Lipschitz bound far from the threshold.
        vr = bounds.vr_max_km_s[s]
        r_hi = np.maximum(left.r_sat, right.r_sat) + vr * length / 2.0
        r_lo = np.maximum(np.minimum(left.r_sat, right.r_sat) - vr * length / 2.0, 6000.0)
        lam = _cap_limit(r_hi, ev.ss.r_min_km, ev.elev_rad, ev.off_rad)
        w_max = bounds.h_km2_s[s] / r_lo**2 + _OMEGA_EARTH
        # A gap with one failed end (margins -inf) proves nothing: split it down to where
        # SGP4 starts failing.
        one_failed = np.isneginf(left.m_el) != np.isneginf(right.m_el)
        with np.errstate(invalid="ignore"):
            far = (left.gamma + right.gamma - w_max * length) / 2.0 > lam + 1e-4
            neg = ((ub < 0.0) | far) & ~one_failed
            # Inside for certain: the central angle stays within the cap where the elevation
            # holds for the lowest radius the satellite can have (much tighter than the
            # Lipschitz bound inside a long pass).
            near = (left.gamma + right.gamma + w_max * length) / 2.0 < _inner_cap(
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
        dip = (left.el_rate < 0.0) & (right.el_rate > 0.0)
        both_in = (gl >= 0.0) & (gr >= 0.0) & ~dip
        short = length <= _BRACKET_S
        done = neg | pos | (length <= RESOLUTION_S) | ((change | both_in) & short & ~one_failed)
        todo = np.flatnonzero(~done)
        if todo.size == 0:
            break
        lt, rt = _take(left, todo), _take(right, todo)
        mid_t = (lt.t + rt.t) / 2.0
        mid = ev.points(lt.span, span_sat[lt.span], span_site[lt.span], mid_t)
        all_pts.append(mid)
        left = _concat((lt, mid))
        right = _concat((mid, rt))
    result = _concat(all_pts)
    return _take(result, _order_by(result.span, result.t))


_ACCEL_KM_S2 = 0.015  # bound on a satellite's acceleration in the Earth-fixed frame


def _elevation_bounds(
    elev_rad: float, left: _Points, right: _Points, length: F64, v_max: F64, rho_min: F64
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Gaps where the elevation is proven below / above the limit throughout.

    With f = sin(elevation) = d·up/ρ, |f''| ≤ 2a/ρ + 5v²/ρ² (a the acceleration, v the speed,
    ρ the slant range; from differentiating twice). From each end f is within M·τ²/2 of its
    tangent; the lower (upper) envelope of the two tangent parabolas is extreme at an end or
    where they cross, which is where it is checked against sin(limit)."""
    s_lim = math.sin(elev_rad)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        fl = np.sin(left.m_el + elev_rad)
        fr = np.sin(right.m_el + elev_rad)
        dl = left.el_rate / left.rng**2
        dr = right.el_rate / right.rng**2
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


def _order_by(group: I64, t: F64) -> I64:
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


# --------------------------------------------------------------------------------------------
# 3. Refinement and window assembly


def _illinois(
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


@dataclass
class WindowTable:
    """Windows as columns (numpy arrays), the compact form for large jobs.

    ``norad_id``, ``sat_index`` (into the satellites given), ``site_index`` (into the sites),
    ``start``/``peak``/``end`` as ``datetime64[ns]`` UTC, ``max_elevation_deg``,
    ``min_off_nadir_deg``, ``min_range_km``, ``sun_elevation_deg``, ``satellite_sunlit``,
    ``ascending``, ``start_clip``/``end_clip`` (0 none, 1 interval, 2 sun, 3 sunlit).
    """

    sat_index: I64
    site_index: I64
    start: npt.NDArray[np.datetime64]
    peak: npt.NDArray[np.datetime64]
    end: npt.NDArray[np.datetime64]
    max_elevation_deg: F64
    min_off_nadir_deg: F64
    min_range_km: F64
    peak_range_km: F64
    peak_incidence_deg: F64
    sun_elevation_deg: F64
    satellite_sunlit: npt.NDArray[np.bool_]
    ascending: npt.NDArray[np.bool_]
    start_clip: npt.NDArray[np.int8]
    end_clip: npt.NDArray[np.int8]

    def __len__(self) -> int:
        return int(self.sat_index.size)

    @classmethod
    def empty(cls) -> WindowTable:
        i = np.empty(0, dtype=np.int64)
        f = np.empty(0)
        t = np.empty(0, dtype="datetime64[ns]")
        b = np.empty(0, dtype=bool)
        c = np.empty(0, dtype=np.int8)
        return cls(i, i, t, t, t, f, f, f, f, f, f, b, b, c, c)

    def take(self, idx: npt.NDArray[Any]) -> WindowTable:
        return WindowTable(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})

    @classmethod
    def concat(cls, parts: Sequence[WindowTable]) -> WindowTable:
        if not parts:
            return cls.empty()
        return cls(
            **{k: np.concatenate([getattr(p, k) for p in parts]) for k in cls.__dataclass_fields__}
        )


_CLIP_NAMES = {0: None, 1: "interval", 2: "sun", 3: "sunlit"}


def _extremum(
    ev: _Evaluator,
    key: str,
    sign: float,
    sat: I64,
    site: I64,
    start: F64,
    end: F64,
    edges: dict[str, F64],
    edge_val: F64,
    pts: _Points,
    pts_val: F64,
    pts_rate: F64,
    i_lo: I64,
    i_hi: I64,
) -> F64:
    """Time of the global extremum in each window: the least ``val`` (range for the peak, minus
    elevation for the maximum elevation) over the window's evaluated points and edges, refined
    where ``sign × rate`` (``key`` from the evaluator) crosses from negative to positive next
    to that best point. Windows of long orbits can hold several local extrema."""
    w = start.size
    length = i_hi - i_lo + 3  # the edges, then the evaluated points inside
    owner = np.repeat(np.arange(w), length)
    first = np.cumsum(length) - length
    pos = np.arange(owner.size) - first[owner]
    src = np.clip(i_lo[owner] + pos - 1, 0, pts.t.size - 1)
    is_start = pos == 0
    is_end = pos == length[owner] - 1
    t = np.where(is_start, start[owner], np.where(is_end, end[owner], pts.t[src]))
    val = np.where(
        is_start, edge_val[:w][owner], np.where(is_end, edge_val[w:][owner], pts_val[src])
    )
    rate = sign * np.where(
        is_start, edges[key][:w][owner], np.where(is_end, edges[key][w:][owner], pts_rate[src])
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
            return sign * ev.raw(sat[sel], site[sel], tt)[key]

        out[idx] = _illinois(f, t[lo[idx]], t[hi[idx]], rate[lo[idx]], rate[hi[idx]], tol_s=1e-2)
    result: F64 = out
    return result


def _straight_top_step(d: F64, v: F64, up: F64) -> F64:
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


def _top_by_bracket(ev: _Evaluator, sat: I64, site: I64, start: F64, end: F64) -> F64:
    """Time of greatest elevation in windows with a single maximum: an edge, or the root of
    the elevation rate between them."""
    n = sat.size
    edges = ev.raw(np.concatenate((sat, sat)), np.concatenate((site, site)),
                   np.concatenate((start, end)))
    rate_s, rate_e = edges["el_rate"][:n], edges["el_rate"][n:]
    out: F64 = np.where(edges["el"][:n] >= edges["el"][n:], start, end)
    inner = np.flatnonzero((rate_s > 0.0) & (rate_e < 0.0))
    if inner.size:

        def f(sub: I64, t: F64) -> F64:
            sel = inner[sub]
            out_: F64 = -ev.raw(sat[sel], site[sel], t)["el_rate"]
            return out_

        out[inner] = _illinois(f, start[inner], end[inner], -rate_s[inner], -rate_e[inner],
                               tol_s=1e-2)
    return out


def _true_runs(
    group: I64, mask: npt.NDArray[np.bool_]
) -> tuple[I64, I64, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
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


def _assemble(
    ev: _Evaluator, span_sat: I64, span_site: I64, pts: _Points, duration_s: float
) -> dict[str, Any]:
    """Geometric windows (seconds from t0) from the proven sign structure of each span."""
    g = pts.g
    pos = g >= 0.0
    sp = pts.span
    rise, fall, first_of_span, last_of_span = _true_runs(sp, pos)
    sat = span_sat[sp[rise]]
    site = span_site[sp[rise]]

    def g_of(sel: I64) -> Callable[[I64, F64], F64]:
        def f(sub: I64, t: F64) -> F64:
            s = sel[sub]
            return ev.margin(sat[s], site[s], t)

        return f

    start = pts.t[rise].copy()
    start_clip = np.where(first_of_span[rise] & (pts.t[rise] <= 0.0), 1, 0).astype(np.int8)
    need = np.flatnonzero(~first_of_span[rise])
    if need.size:
        r = rise[need]
        start[need] = _illinois(g_of(need), pts.t[r - 1], pts.t[r], g[r - 1], g[r], inside=True)
    end = pts.t[fall].copy()
    end_clip = np.where(last_of_span[fall] & (pts.t[fall] >= duration_s), 1, 0).astype(np.int8)
    need = np.flatnonzero(~last_of_span[fall])
    if need.size:
        f_ = fall[need]
        end[need] = _illinois(g_of(need), pts.t[f_], pts.t[f_ + 1], g[f_], g[f_ + 1], inside=True)
    edges = ev.raw(
        np.concatenate((sat, sat)), np.concatenate((site, site)), np.concatenate((start, end))
    )
    peak = _extremum(ev, "rr", 1.0, sat, site, start, end, edges, edges["rng"], pts, pts.rng,
                     pts.rr, rise, fall)
    # Maximum elevation. Short windows (a LEO pass) have one maximum, next to the closest
    # approach: a straight-line step from there, refined with SGP4 in _finish. Long ones may
    # have several: the least elevation margin negated over the evaluated points and edges.
    r_pk, v_pk, _ = ev.fleet.states(sat, peak)
    top = np.clip(peak + _straight_top_step(r_pk - ev.ss.sites.itrs_km[site], v_pk,
                                            ev.ss.up[site]), start, end)
    # ...unless an edge is higher (elevation still rising where SGP4 fails, or the window
    # cut by the interval or another constraint).
    w = sat.size
    el_top = ev.raw(sat, site, top)["el"]
    edge_el = np.nan_to_num(edges["el"], nan=-np.inf)
    top = np.where(edge_el[:w] > el_top, start, top)
    top = np.where(edge_el[w:] > np.fmax(el_top, edge_el[:w]), end, top)
    long = np.flatnonzero(end - start > _UNIMODAL_S)
    if long.size:
        sub = {k: np.concatenate((x[:w][long], x[w:][long])) for k, x in edges.items()}
        top[long] = _extremum(ev, "el_rate", -1.0, sat[long], site[long], start[long],
                              end[long], sub, ev.elev_rad - sub["el"], pts, -pts.m_el,
                              pts.el_rate, rise[long], fall[long])
    return {
        "sat": sat,
        "site": site,
        "start": start,
        "end": end,
        "peak": peak,
        "top": top,
        "start_clip": start_clip,
        "end_clip": end_clip,
    }


# --------------------------------------------------------------------------------------------
# 4. Lighting constraints, attributes, driver

_LIGHT_STEP_S = 15.0
_LIGHT_MAX_STEP_S = 3600.0
_SUN_RATE_DEG_S = 0.0045  # the Sun's elevation changes by at most 361°/day (0.00418°/s)


def _shadow_distance_km(r: F64, sun: F64) -> F64:
    """Distance (km) from each satellite to the edge of Earth's shadow as :func:`is_sunlit`
    draws it (a cylinder of Earth's radius behind Earth, along the line to the Sun)."""
    from overflight.geometry import WGS84

    to_sun = sun - r
    u = to_sun / np.linalg.norm(to_sun, axis=1)[:, None]
    x = np.einsum("ij,ij->i", r, u)  # > 0: the Sun side
    rho = np.sqrt(np.maximum(np.einsum("ij,ij->i", r, r) - x * x, 0.0))
    radius = WGS84.a_km
    lit_side = np.where(x >= 0.0, np.hypot(x, np.maximum(rho - radius, 0.0)), rho - radius)
    shadow = np.minimum(radius - rho, -x)
    out: F64 = np.abs(np.where((x < 0.0) & (rho < radius), shadow, lit_side))
    return out


def _sun_elevation_pairs(sun_km: F64, site_xyz: F64, up: F64) -> F64:
    d = sun_km - site_xyz
    s = np.einsum("ij,ij->i", d, up) / np.linalg.norm(d, axis=1)
    out: F64 = np.degrees(np.arcsin(np.clip(s, -1.0, 1.0)))
    return out


class _Lighting:
    def __init__(self, ev: _Evaluator) -> None:
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

    def failing(self, sat: I64, site: I64, t: F64) -> npt.NDArray[np.int8]:
        """0 where lighting constraints hold, 2 where the Sun fails them, 3 where sunlit does."""
        return self._failing(sat, site, t)[0]

    def _failing(self, sat: I64, site: I64, t: F64) -> tuple[npt.NDArray[np.int8], F64]:
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
            el = _sun_elevation_pairs(sun, ss.sites.itrs_km[site], ss.up[site])
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

    def _march(self, w: dict[str, Any]) -> tuple[F64, I64, npt.NDArray[np.int8]]:
        """Samples (time, window, code) through each window, sorted by window then time: every
        ``step_s`` where a lighting condition could change, longer strides where it provably
        cannot (up to _LIGHT_MAX_STEP_S; a GEO window can last the whole interval)."""
        sat, site, start, end = w["sat"], w["site"], w["start"], w["end"]
        cur = start.copy()
        active = np.arange(start.size)
        ts: list[F64] = []
        owners: list[I64] = []
        codes: list[npt.NDArray[np.int8]] = []
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
        order = _order_by(owner, t)
        return t[order], owner[order], np.concatenate(codes)[order]

    def clip(self, w: dict[str, Any]) -> dict[str, Any]:
        """Split each window into the parts where the lighting constraints hold."""
        t, owner, code = self._march(w)
        rises, falls, is_first, is_last = _true_runs(owner, code == 0)
        win = owner[rises]
        new_start = t[rises].copy()
        s_clip = np.where(is_first[rises], w["start_clip"][win], code[np.maximum(rises - 1, 0)])
        new_end = t[falls].copy()
        e_clip = np.where(
            is_last[falls], w["end_clip"][win], code[np.minimum(falls + 1, t.size - 1)]
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
        out = {k: v[win] for k, v in w.items()}
        out["start"], out["end"] = new_start, new_end
        out["start_clip"], out["end_clip"] = s_clip.astype(np.int8), e_clip.astype(np.int8)
        out["peak"] = np.clip(out["peak"], new_start, new_end)
        out["top"] = np.clip(out["top"], new_start, new_end)
        return out

    def _boundary(self, win: I64, w: dict[str, Any], lo: F64, hi: F64, rising: bool) -> F64:
        """Bisect the lighting change between ``lo`` (state A) and ``hi`` (state B) to 10 ms."""
        lo, hi = lo.copy(), hi.copy()
        sat, site = w["sat"][win], w["site"][win]
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


def _finish(ev: _Evaluator, w: dict[str, Any]) -> WindowTable:
    """Attributes at peak (closest approach) and at maximum elevation; seconds → datetime64."""
    from overflight.geometry import view_geometry_arrays
    from overflight.sun import is_sunlit

    sat, site = w["sat"], w["site"]
    n = sat.size
    both_sat = np.concatenate((sat, sat))
    both_site = np.concatenate((site, site))
    raw = ev.raw(both_sat, both_site, np.concatenate((w["peak"], w["top"])), exact=True)
    r, v = raw["r"][:n], raw["v"][:n]
    xyz = ev.ss.sites.itrs_km[site]
    up = ev.ss.up[site]
    light = _Lighting(ev)
    sun = light.sun_km(w["peak"])
    sun_el = _sun_elevation_pairs(sun, xyz, up)
    lit = is_sunlit(r, sun)
    # Ascending when the geocentric latitude increases: d(z/|r|)/dt > 0.
    rn = np.linalg.norm(r, axis=1)
    ascending = (v[:, 2] * rn * rn - r[:, 2] * np.einsum("ij,ij->i", r, v)) > 0.0
    el_peak = np.degrees(raw["el"][:n])
    # The time of maximum elevation, refined with SGP4's own state and straight-line steps
    # (near the zenith elevation peaks sharply, 3°/s for a low pass, so this matters).
    top = w["top"].copy()
    r_top, v_top = raw["r"][n:].copy(), raw["v"][n:].copy()
    el_top = np.degrees(raw["el"][n:])
    start, end = w["start"], w["end"]

    def adopt(idx: I64, t_new: F64) -> I64:
        """Move the maximum of windows ``idx`` to ``t_new`` where SGP4 says it is higher there;
        returns the windows where it was not."""
        again = ev.raw(sat[idx], site[idx], t_new, exact=True)
        el_new = np.degrees(again["el"])
        better = el_new > el_top[idx]
        up_ = idx[better]
        top[up_], r_top[up_], v_top[up_] = t_new[better], again["r"][better], again["v"][better]
        el_top[up_] = el_new[better]
        out: I64 = idx[~better]
        return out

    # Steps only in short windows (one maximum); long ones come refined from _assemble.
    pending = np.flatnonzero(end - start <= _UNIMODAL_S)
    for step in range(_TOP_STEPS + 1):
        dt = _straight_top_step(r_top[pending] - xyz[pending], v_top[pending], up[pending])
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
    view = view_geometry_arrays(r_top, xyz, up)
    dt = _straight_top_step(r_top - xyz, v_top, up)
    polish = np.clip(top + np.where(np.abs(dt) < 0.05, dt, 0.0), w["start"], w["end"])
    moved = np.flatnonzero(polish != top)
    if moved.size:
        # Along the straight line itself: over < 0.05 s it leaves SGP4's curved path by ~1 cm.
        shift = (polish - top)[moved]
        d_pol = (r_top - xyz)[moved] + v_top[moved] * shift[:, None]
        up_m = up[moved]
        sin_el = np.einsum("ij,ij->i", d_pol, up_m) / np.linalg.norm(d_pol, axis=1)
        el_top[moved] = np.fmax(el_top[moved], np.degrees(np.arcsin(np.clip(sin_el, -1, 1))))
    fleet = ev.fleet
    return WindowTable(
        sat_index=sat,
        site_index=site,
        start=fleet.times64(w["start"]),
        peak=fleet.times64(w["peak"]),
        end=fleet.times64(w["end"]),
        max_elevation_deg=np.maximum(el_top, el_peak),
        min_off_nadir_deg=view.off_nadir_deg,
        min_range_km=raw["rng"][:n],
        peak_range_km=raw["rng"][:n],
        peak_incidence_deg=90.0 - el_peak,
        sun_elevation_deg=sun_el,
        satellite_sunlit=lit,
        ascending=ascending,
        start_clip=w["start_clip"],
        end_clip=w["end_clip"],
    )


def _check_request(
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    c: Constraints,
) -> None:

    c.validate()
    if not elsets:
        raise AccessError("no satellites selected")
    if not sites:
        raise AccessError("no sites given")
    check_interval(start, end)


def check_interval(start: datetime, end: datetime) -> None:
    """Raise AccessError unless start < end and the interval is at most 366 days."""
    from overflight.times import utc

    s, e = utc(start), utc(end)
    if e <= s:
        raise AccessError(f"start {s.isoformat()} is not before end {e.isoformat()}")
    if (e - s).total_seconds() > _MAX_INTERVAL_DAYS * 86400:
        raise AccessError(f"interval is longer than {_MAX_INTERVAL_DAYS:.0f} days")
    lo, hi = _EPHEMERIS_SPAN
    if s < lo or e > hi:
        raise AccessError(
            f"interval {s:%Y-%m-%d}..{e:%Y-%m-%d} is outside {lo:%Y-%m-%d}..{hi:%Y-%m-%d}, "
            "the span of the bundled Sun ephemeris (DE421)"
        )


def iter_window_tables(
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    constraints: Constraints | None = None,
    *,
    batch_size: int = 512,
    workers: int | None = 1,
    progress: Callable[[int, int], None] | None = None,
    stats: dict[str, Any] | None = None,
) -> Iterator[WindowTable]:
    """Windows of ``elsets`` over ``sites`` in [start, end], one table per satellite batch.

    Each table is sorted by start time; ``sat_index``/``site_index`` index the given sequences.
    ``batch_size``: satellites per batch, scaled down for intervals longer than 7 days.
    ``workers``: processes (None = all CPUs; batches are shared out, results are identical to
    one process). ``progress(done, total)`` is called after each batch (satellites).
    ``stats``, if given, receives counters (candidate spans, evaluations, SGP4 errors).
    """
    c = constraints or Constraints()
    _check_request(elsets, sites, start, end, c)
    steps = _orbit_bounds(elsets).step_s
    # Batches of satellites that share a screening step keep the grids uniform; fewer
    # satellites per batch over long intervals keep a batch's samples (and memory) bounded.
    duration_days = (end - start).total_seconds() / 86400.0
    batch_size = max(1, min(batch_size, max(16, int(batch_size * 7.0 / duration_days))))
    order = np.lexsort((np.arange(len(elsets)), steps))
    batches = [order[lo : lo + batch_size] for lo in range(0, order.size, batch_size)]
    wanted = _worker_count(workers, order.size // _MIN_BATCH)
    if len(batches) < wanted:
        # A small job still uses every worker: satellites dealt out in turn.
        batches = [np.sort(order[i::wanted]) for i in range(wanted)]
    counters: dict[str, Any] = {"candidate_spans": 0, "evaluations": 0, "windows": 0,
                                "sgp4_errors": {}}
    nproc = _worker_count(workers, len(batches))
    done = 0

    def account(batch: I64, table: WindowTable, part: dict[str, Any]) -> WindowTable:
        nonlocal done
        for key in ("candidate_spans", "evaluations", "windows"):
            counters[key] += part[key]
        counters["sgp4_errors"].update(part["sgp4_errors"])
        done += batch.size
        if progress is not None:
            progress(done, order.size)
        return table

    if nproc <= 1:
        for batch in batches:
            table, part = _run_batch([elsets[i] for i in batch], batch, sites, start, end, c,
                                     None)
            yield account(batch, table, part)
    else:
        import concurrent.futures as cf
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        with cf.ProcessPoolExecutor(max_workers=nproc, mp_context=ctx) as pool:
            futures = [
                pool.submit(_run_batch, [elsets[i] for i in b], b, sites, start, end, c, 1)
                for b in batches
            ]
            for batch, fut in zip(batches, futures, strict=True):
                table, part = fut.result()
                yield account(batch, table, part)
    if stats is not None:
        stats.update(counters)


def _worker_count(workers: int | None, n_batches: int) -> int:
    import os
    import sys

    if workers == 1 or n_batches < 2 or not sys.platform.startswith("linux"):
        return 1
    cpus = len(os.sched_getaffinity(0))
    return max(1, min(cpus if workers is None else workers, n_batches))


def _run_batch(
    batch_elsets: Sequence[ElementSet],
    batch_index: I64,
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    c: Constraints,
    sgp4_workers: int | None,
) -> tuple[WindowTable, dict[str, Any]]:
    """Windows of one batch of satellites (``sat_index`` mapped back through ``batch_index``)."""
    from overflight.times import to_datetime64, utc

    t0 = to_datetime64(utc(start))[0]
    duration = (utc(end) - utc(start)).total_seconds()
    fleet = _Fleet(batch_elsets, t0, duration, workers=sgp4_workers)
    ss = _site_set(sites)
    ev = _Evaluator(fleet, ss, c)
    light = _Lighting(ev)
    coarse = fleet.coarse_s
    local = np.arange(len(batch_elsets))
    found = [_screen(fleet, ss, local[coarse == step], duration, c) for step in np.unique(coarse)]
    span_sat, span_site, a, b = (np.concatenate([f[i] for f in found]) for i in range(4))
    spans = int(span_sat.size)
    parts = []
    if spans:
        fleet.add_fine(span_sat, a, b)
        pts = _search(ev, span_sat, span_site, a, b)
        w = _assemble(ev, span_sat, span_site, pts, duration)
        if w["sat"].size and light.active:
            w = light.clip(w)
        if c.min_duration_s > 0:
            keep = (w["end"] - w["start"]) >= c.min_duration_s
            w = {k: v[keep] for k, v in w.items()}
        if w["sat"].size:
            parts.append(_finish(ev, w))
    table = WindowTable.concat(parts)
    table = table.take(np.argsort(table.start, kind="stable"))
    table.sat_index = np.asarray(batch_index, dtype=np.int64)[table.sat_index]
    part = {
        "candidate_spans": spans,
        "evaluations": ev.evaluations,
        "windows": len(table),
        "sgp4_errors": {batch_elsets[i].norad_id: code for i, code in fleet.errors.items()},
    }
    return table, part


def window_table(
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    constraints: Constraints | None = None,
    **kwargs: Any,
) -> WindowTable:
    """All windows as one :class:`WindowTable`, sorted by start time."""
    table = WindowTable.concat(
        list(iter_window_tables(elsets, sites, start, end, constraints, **kwargs))
    )
    return table.take(np.argsort(table.start, kind="stable"))


def find_windows(
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    constraints: Constraints | None = None,
    *,
    sensors: dict[int, Any] | None = None,
    **kwargs: Any,
) -> list[Window]:
    """All windows as :class:`Window` objects, sorted by start time."""
    table = window_table(elsets, sites, start, end, constraints, **kwargs)
    return list(table_to_windows(table, elsets, sites, sensors=sensors))


def table_to_windows(
    table: WindowTable,
    elsets: Sequence[ElementSet],
    sites: Sequence[Site],
    *,
    sensors: dict[int, Any] | None = None,
) -> Iterator[Window]:
    """:class:`Window` objects for rows of ``table`` (GSD where ``sensors`` knows the satellite)."""
    from overflight.times import datetime64_to_utc

    for i in range(len(table)):
        es = elsets[int(table.sat_index[i])]
        site = sites[int(table.site_index[i])]
        gsd_m = None
        sensor = (sensors or {}).get(es.norad_id)
        if sensor is not None:
            gsd_m = sensor.gsd_m(float(table.peak_range_km[i]), float(table.peak_incidence_deg[i]))
        yield Window(
            norad_id=es.norad_id,
            name=es.name,
            site=site.name,
            site_lat_deg=site.lat_deg,
            site_lon_deg=site.lon_deg,
            start=datetime64_to_utc(table.start[i]),
            peak=datetime64_to_utc(table.peak[i]),
            end=datetime64_to_utc(table.end[i]),
            max_elevation_deg=float(table.max_elevation_deg[i]),
            min_off_nadir_deg=float(table.min_off_nadir_deg[i]),
            min_range_km=float(table.min_range_km[i]),
            sun_elevation_deg=float(table.sun_elevation_deg[i]),
            satellite_sunlit=bool(table.satellite_sunlit[i]),
            direction="ascending" if table.ascending[i] else "descending",
            gsd_m=gsd_m,
            start_clipped=_CLIP_NAMES[int(table.start_clip[i])],
            end_clipped=_CLIP_NAMES[int(table.end_clip[i])],
        )
