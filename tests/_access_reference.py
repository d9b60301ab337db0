"""Independent reference for overflight windows: brute force with Skyfield, nothing from the engine.

Element sets are read as plain text lines and propagated by Skyfield's ``EarthSatellite``; look
angles come from ``(sat - topos).at(t).altaz()``, off-nadir from ``wgs84.subpoint_of``, the Sun
from ``(earth + topos).at(t).observe(sun).apparent()``, shadow from Skyfield's ``is_sunlit``.

Method, for one satellite-site pair: the constraint margin g(t) (elevation, off-nadir and range
margins; -inf where SGP4 fails) is sampled every second over the whole interval. Every 1 s gap
with a sign change, and every gap next to a sampled local extremum of g that comes near zero
(a grazing pass, or a dip between two passes), is resampled every 0.1 s; extrema still near zero
are then located by ternary search, so windows down to a few milliseconds are found. Edges are
bisected to 0.1 ms. The peak is the time of minimum slant range over the window (roots of the
range rate, bisected, and the window's ends as candidates).

Only overflight's offline timescale and ephemeris loaders are used (``overflight.times``), so
that Skyfield runs without a network.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from skyfield.api import EarthSatellite, wgs84
from skyfield.framelib import itrs
from skyfield.nutationlib import iau2000b_radians

from overflight.times import ephemeris, timescale

Array = Any  # numpy float arrays; kept loose so this helper stays readable

# Margins are combined into one function whose sign says "inside": degrees for angles and
# tenths of km for range (the scale only matters for the near-zero tests below).
_RANGE_SCALE_KM = 10.0
# How close to zero (in g units) a sampled local extremum must come to be examined at 0.1 s.
_NEAR = 1.5
_EDGE_TOL_S = 1e-4


# ---------------------------------------------------------------------------------------------
# Element sets as text


def read_tle_file(path: Path) -> list[tuple[str, str, str]]:
    """(name, line 1, line 2) of every element set in a 2- or 3-line TLE file, plain Python."""
    lines = [ln.rstrip() for ln in path.read_text(encoding="ascii").splitlines() if ln.strip()]
    out: list[tuple[str, str, str]] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("1 ") and i + 1 < len(lines) and lines[i + 1].startswith("2 "):
            out.append((lines[i][2:7].strip(), lines[i], lines[i + 1]))
            i += 2
        elif (
            i + 2 < len(lines) and lines[i + 1].startswith("1 ") and lines[i + 2].startswith("2 ")
        ):
            out.append((lines[i].strip(), lines[i + 1], lines[i + 2]))
            i += 3
        else:
            raise ValueError(f"{path}: line {i + 1} is not part of a TLE")
    return out


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 columns (digits count, '-' counts 1)."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


def norad_id(line1: str) -> int:
    """Catalog number (columns 3-7; alpha-5 not needed for the files used here)."""
    return int(line1[2:7])


def satellite(name: str, line1: str, line2: str) -> EarthSatellite:
    """Skyfield satellite on overflight's offline timescale."""
    return EarthSatellite(line1, line2, name, ts=timescale())


# ---------------------------------------------------------------------------------------------
# Times


def times(t0: datetime, t_s: Array) -> Any:
    """Skyfield Time for seconds ``t_s`` after the aware UTC datetime ``t0``.

    Nutation is IAU 2000B (Skyfield's documented speed-up; within 1 mas of 2000A, and it cancels
    between satellite and site in topocentric vectors anyway).
    """
    t0 = t0.astimezone(UTC)
    sec = t0.second + t0.microsecond * 1e-6 + np.asarray(t_s, dtype=np.float64)
    t = timescale().utc(t0.year, t0.month, t0.day, t0.hour, t0.minute, sec)
    t._nutation_angles_radians = iau2000b_radians(t)
    return t


@functools.lru_cache(maxsize=4)
def _grid(t0: datetime, duration_s: float, step_s: float) -> tuple[Array, Any]:
    """The sampling grid [0, duration] and its Skyfield Time, shared by every pair (Skyfield
    caches the frame rotations on the Time object, the costly part)."""
    t_s = np.append(np.arange(0.0, duration_s, step_s), duration_s)
    return t_s, times(t0, t_s)


def seconds_since(t0: datetime, t64: Array) -> Array:
    """Seconds from ``t0`` of a ``datetime64`` array (or of datetimes)."""
    base = np.datetime64(t0.astimezone(UTC).replace(tzinfo=None), "ns")
    arr = np.asarray(t64)
    if arr.dtype == object:
        arr = np.array([np.datetime64(d.astimezone(UTC).replace(tzinfo=None), "ns") for d in arr])
    return (arr.astype("datetime64[ns]") - base) / np.timedelta64(1, "s")


# ---------------------------------------------------------------------------------------------
# Geometry with Skyfield


@dataclass(frozen=True)
class RefSite:
    """A WGS-84 site for the reference (degrees, metres)."""

    name: str
    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0

    @property
    def topos(self) -> Any:
        return wgs84.latlon(self.lat_deg, self.lon_deg, elevation_m=self.alt_m)


@dataclass(frozen=True)
class RefConstraints:
    min_elevation_deg: float = 0.0
    max_off_nadir_deg: float | None = None
    max_range_km: float | None = None


def look(
    sat: EarthSatellite, site: RefSite, t0: datetime, t_s: Array, off_nadir: bool, t: Any = None
) -> dict:
    """Elevation (deg), range (km), range rate (km/s), off-nadir (deg, if asked), ok mask at
    ``t_s`` seconds after ``t0`` (``t``: the matching Skyfield Time, if already built)."""
    if t is None:
        t = times(t0, np.atleast_1d(np.asarray(t_s, dtype=np.float64)))
    topos = site.topos
    with np.errstate(invalid="ignore"):
        topo = (sat - topos).at(t)
        alt, _, dist = topo.altaz()
        d = topo.position.km
        v = topo.velocity.km_per_s
        rng = np.sqrt(np.einsum("i...,i...->...", d, d))
        out = {
            "el": np.atleast_1d(alt.degrees),
            "rng": np.atleast_1d(dist.km),
            "rr": np.atleast_1d(np.einsum("i...,i...->...", d, v) / rng),
        }
        out["ok"] = np.isfinite(out["el"]) & np.isfinite(out["rng"])
        if off_nadir:
            geo = sat.at(t)
            sat_xyz = geo.frame_xyz(itrs).km
            sub_xyz = wgs84.subpoint_of(geo).itrs_xyz.km
            site_xyz = topos.itrs_xyz.km.reshape(3, 1)
            nadir = sub_xyz - sat_xyz
            los = site_xyz - sat_xyz
            cross = np.cross(nadir, los, axis=0)
            out["off"] = np.atleast_1d(
                np.degrees(
                    np.arctan2(
                        np.sqrt(np.einsum("i...,i...->...", cross, cross)),
                        np.einsum("i...,i...->...", nadir, los),
                    )
                )
            )
            out["ok"] &= np.isfinite(out["off"])
    return out


def margin(g: dict, c: RefConstraints) -> Array:
    """Combined constraint margin: >= 0 inside; -inf where SGP4 failed."""
    m = g["el"] - c.min_elevation_deg
    if c.max_off_nadir_deg is not None:
        m = np.minimum(m, c.max_off_nadir_deg - g["off"])
    if c.max_range_km is not None:
        m = np.minimum(m, (c.max_range_km - g["rng"]) / _RANGE_SCALE_KM)
    return np.where(g["ok"], m, -np.inf)


# ---------------------------------------------------------------------------------------------
# Generic interval search on sampled predicates


def _bisect(
    f: Callable[[Array], Array], lo: Array, hi: Array, lo_true: Array, tol: float
) -> tuple[Array, Array]:
    """Vectorized bisection of a boolean predicate's change in each [lo, hi]; returns the
    bracket (lo, hi) narrowed below ``tol``. ``lo_true`` is the predicate's value at ``lo``."""
    lo, hi = np.array(lo, dtype=np.float64), np.array(hi, dtype=np.float64)
    lo_true = np.asarray(lo_true, dtype=bool)
    while lo.size and (hi - lo).max() > tol:
        mid = (lo + hi) / 2.0
        val = f(mid)
        same = val == lo_true
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    return lo, hi


def true_intervals(
    pred: Callable[[Array], Array], duration_s: float, step_s: float, tol_s: float = 1e-3
) -> list[tuple[float, float]]:
    """Intervals of [0, duration] where the boolean ``pred(t_s)`` holds, from samples every
    ``step_s`` (the predicate must not change twice within a step) refined by bisection."""
    t = np.arange(0.0, duration_s, step_s)
    t = np.append(t, duration_s)
    v = np.asarray(pred(t), dtype=bool)
    ch = np.flatnonzero(v[1:] != v[:-1])
    lo, hi = _bisect(pred, t[ch], t[ch + 1], v[ch], tol_s)
    edges = (lo + hi) / 2.0
    out: list[tuple[float, float]] = []
    cur = 0.0 if v[0] else None
    for k, e in zip(ch.tolist(), edges.tolist(), strict=True):
        if v[k]:  # true -> false
            out.append((cur if cur is not None else 0.0, e))
            cur = None
        else:
            cur = e
    if cur is not None:
        out.append((cur, duration_s))
    return out


def intersect(
    a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Intersection of two sorted lists of disjoint intervals."""
    out: list[tuple[float, float]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


# ---------------------------------------------------------------------------------------------
# Windows


@dataclass(frozen=True)
class RefWindow:
    """A reference window; times in seconds after the interval start."""

    start: float
    peak: float
    end: float
    start_clipped: bool
    end_clipped: bool
    min_range_km: float
    max_elevation_deg: float


def _ternary(f: Callable[[Array], Array], lo: Array, hi: Array, sign: float) -> Array:
    """Vectorized ternary search for the maximum of ``sign * f`` in each [lo, hi]."""
    lo, hi = lo.copy(), hi.copy()
    for _ in range(40):
        if (hi - lo).max(initial=0.0) < 1e-4:
            break
        m1 = lo + (hi - lo) / 3.0
        m2 = hi - (hi - lo) / 3.0
        v = sign * f(np.concatenate((m1, m2)))
        n = lo.size
        left_better = v[:n] >= v[n:]
        hi = np.where(left_better, m2, hi)
        lo = np.where(left_better, lo, m1)
    out: Array = (lo + hi) / 2.0
    return out


def reference_windows(
    sat: EarthSatellite,
    site: RefSite,
    t0: datetime,
    duration_s: float,
    c: RefConstraints,
    *,
    step_s: float = 1.0,
) -> list[RefWindow]:
    """All windows of one satellite over one site in [t0, t0 + duration_s]."""
    need_off = c.max_off_nadir_deg is not None

    def g_of(t: Array) -> Array:
        return margin(look(sat, site, t0, t, need_off), c)

    t, t_sky = _grid(t0, duration_s, step_s)
    grid = look(sat, site, t0, t, need_off, t_sky)
    grid["t"] = t
    g = margin(grid, c)
    # Gaps to resample at 0.1 s: sign changes, and both gaps beside a near-zero extremum.
    pos = g >= 0.0
    gaps = set(np.flatnonzero(pos[1:] != pos[:-1]).tolist())
    finite = np.isfinite(g)
    inner = np.arange(1, t.size - 1)
    ext_max = (g[inner] >= g[inner - 1]) & (g[inner] >= g[inner + 1]) & (g[inner] < 0)
    ext_min = (g[inner] <= g[inner - 1]) & (g[inner] <= g[inner + 1]) & (g[inner] >= 0)
    near = finite[inner] & (np.abs(g[inner]) < _NEAR) & (ext_max | ext_min)
    for k in inner[near].tolist():
        gaps.update((k - 1, k))
    if gaps:
        ks = np.array(sorted(gaps))
        fine = (t[ks][:, None] + (t[ks + 1] - t[ks])[:, None] * np.arange(1, 10) / 10.0).ravel()
        t = np.concatenate((t, fine))
        g = np.concatenate((g, g_of(fine)))
        order = np.argsort(t)
        t, g = t[order], g[order]
        # Extrema that still come close to zero: find the extremum itself.
        inner = np.arange(1, t.size - 1)
        gi = g[inner]
        ext_max = (gi >= g[inner - 1]) & (gi >= g[inner + 1]) & (gi < 0) & (gi > -0.05)
        ext_min = (gi <= g[inner - 1]) & (gi <= g[inner + 1]) & (gi >= 0) & (gi < 0.05)
        extra = []
        for mask, sign in ((ext_max, 1.0), (ext_min, -1.0)):
            ks = inner[mask & np.isfinite(gi)]
            if ks.size:
                extra.append(_ternary(g_of, t[ks - 1], t[ks + 1], sign))
        if extra:
            tx = np.concatenate(extra)
            t = np.concatenate((t, tx))
            g = np.concatenate((g, g_of(tx)))
            order = np.argsort(t)
            t, g = t[order], g[order]
    pos = g >= 0.0
    rise = np.flatnonzero(~pos[:-1] & pos[1:])  # between k and k+1
    fall = np.flatnonzero(pos[:-1] & ~pos[1:])
    # Edges: the inside end of each final bracket (so a window cut by an SGP4 failure ends at
    # a time that still propagates).
    _, hi = _bisect(lambda x: g_of(x) >= 0.0, t[rise], t[rise + 1], pos[rise], _EDGE_TOL_S)
    starts = list(hi)
    lo, _ = _bisect(lambda x: g_of(x) >= 0.0, t[fall], t[fall + 1], pos[fall], _EDGE_TOL_S)
    ends = list(lo)
    start_clip = bool(pos[0])
    end_clip = bool(pos[-1])
    if start_clip:
        starts.insert(0, 0.0)
    if end_clip:
        ends.append(duration_s)
    assert len(starts) == len(ends)
    return [
        _with_peak(
            sat, site, t0, a, b, a == 0.0 and start_clip, b == duration_s and end_clip, grid
        )
        for a, b in zip(starts, ends, strict=True)
    ]


def _with_peak(
    sat: EarthSatellite,
    site: RefSite,
    t0: datetime,
    a: float,
    b: float,
    start_clipped: bool,
    end_clipped: bool,
    grid: dict,
) -> RefWindow:
    """Minimum slant range over [a, b]: range-rate roots (− to +) and both ends as candidates;
    maximum elevation likewise. ``grid``: the 1 s samples already computed (t, el, rng, rr)."""
    inside = (grid["t"] > a) & (grid["t"] < b)
    ends = look(sat, site, t0, [a, b], False)
    t = np.concatenate(([a], grid["t"][inside], [b]))
    rr = np.concatenate(([ends["rr"][0]], grid["rr"][inside], [ends["rr"][1]]))
    el = np.concatenate(([ends["el"][0]], grid["el"][inside], [ends["el"][1]]))
    k = np.flatnonzero((rr[:-1] < 0.0) & (rr[1:] >= 0.0))
    lo, hi = _bisect(
        lambda x: look(sat, site, t0, x, False)["rr"] >= 0.0,
        t[k],
        t[k + 1],
        np.zeros(k.size, dtype=bool),
        1e-4,
    )
    cand = np.concatenate(([a, b], (lo + hi) / 2.0))
    cg = look(sat, site, t0, cand, False)
    best = int(np.nanargmin(cg["rng"]))
    # Maximum elevation: samples, refined by ternary search around the best sample.
    j = int(np.nanargmax(el))
    top = _ternary(
        lambda x: look(sat, site, t0, x, False)["el"],
        np.array([t[max(j - 1, 0)]]),
        np.array([t[min(j + 1, t.size - 1)]]),
        1.0,
    )
    max_el = float(max(np.nanmax(el), look(sat, site, t0, top, False)["el"][0]))
    return RefWindow(
        start=a,
        peak=float(cand[best]),
        end=b,
        start_clipped=start_clipped,
        end_clipped=end_clipped,
        min_range_km=float(cg["rng"][best]),
        max_elevation_deg=max_el,
    )


# ---------------------------------------------------------------------------------------------
# Lighting


def sun_elevation(site: RefSite, t0: datetime, t_s: Array) -> Array:
    """Apparent topocentric Sun elevation (deg, no refraction) at ``site``."""
    eph = ephemeris()
    t = times(t0, np.atleast_1d(np.asarray(t_s, dtype=np.float64)))
    alt, _, _ = (eph["earth"] + site.topos).at(t).observe(eph["sun"]).apparent().altaz()
    return np.atleast_1d(alt.degrees)


def sunlit(sat: EarthSatellite, t0: datetime, t_s: Array) -> Array:
    """Skyfield's ``is_sunlit`` for the satellite at ``t_s``."""
    t = times(t0, np.atleast_1d(np.asarray(t_s, dtype=np.float64)))
    with np.errstate(invalid="ignore"):
        return np.atleast_1d(sat.at(t).is_sunlit(ephemeris()))


def sun_intervals(
    site: RefSite,
    t0: datetime,
    duration_s: float,
    sun_min_deg: float | None,
    sun_max_deg: float | None,
    step_s: float = 60.0,
) -> list[tuple[float, float]]:
    """Where the Sun's elevation at the site is within [min, max] (samples + bisection)."""

    def ok(t: Array) -> Array:
        el = sun_elevation(site, t0, t)
        good = np.ones(el.shape, dtype=bool)
        if sun_min_deg is not None:
            good &= el >= sun_min_deg
        if sun_max_deg is not None:
            good &= el <= sun_max_deg
        return good

    return true_intervals(ok, duration_s, step_s)


def sunlit_intervals(
    sat: EarthSatellite, t0: datetime, duration_s: float, want: bool = True
) -> list[tuple[float, float]]:
    """Where the satellite is (``want`` True) or is not sunlit (10 s samples + bisection)."""
    return true_intervals(lambda t: sunlit(sat, t0, t) == want, duration_s, 10.0)
