"""The arc screen: which (satellite, site) pairs can meet the constraints, and roughly when.

From the coarse grid of :class:`~overflight.access.fleet.Fleet` (``Fleet.grid``) and the sites
(:func:`site_set`, grouped in ~8° cells), :func:`screen_spans` tests every gap between two
coarse samples: in the Earth-fixed frame of the gap's midpoint the satellite runs along the
great-circle arc between the two sample directions, so a site can only be served while it lies
within the reach :func:`cap_limit` (plus its own motion and a margin for SGP4's perturbations)
of that arc, and the satellite's angle along the arc bounds when. It hands on :class:`Spans`:
candidate intervals per (satellite, site), padded to whole seconds and merged
(:func:`merge_spans`), which ``engine`` gives to ``Fleet.add_fine`` and ``search``. Outside the
spans no site can be served (the bounds and their tests: ``docs/access.md``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from overflight.access.fleet import Fleet
from overflight.access.model import F64, I64, Constraints, Mask
from overflight.constants import EARTH_ROTATION_RAD_S, WGS72_J2, WGS72_MU_KM3_S2, WGS72_RADIUS_KM
from overflight.geometry import Site, Sites

# Largest angle between the geodetic vertical and the geocentric radius on WGS-84 (0.1924°).
DEFLECTION_RAD = math.radians(0.1925)
# Margins of the arc screen: angular momentum change within one coarse step (relative; J2
# short-period terms are ~0.05 %), angular-rate bounds (relative), the satellite's excursion
# from the plane of two samples (rad; J2 moves it ~0.01° in ten minutes) and span padding (s).
_H_MARGIN = 0.01
_RATE_MARGIN = 0.01
_PLANE_RAD = 2e-3
_SPAN_PAD_S = 1.0


class Spans(NamedTuple):
    """Candidate intervals: satellite and site indices, start and end (s from t0)."""

    sat_index: I64
    site_index: I64
    start_s: F64
    end_s: F64

    @classmethod
    def concat(cls, parts: Sequence[Spans]) -> Spans:
        """All spans of ``parts``, in order (indices as int64)."""
        if not parts:
            ei = np.empty(0, dtype=np.int64)
            return cls(ei, ei, np.empty(0), np.empty(0))
        sat, site, a, b = (np.concatenate([p[i] for p in parts]) for i in range(4))
        return cls(sat.astype(np.int64), site.astype(np.int64), a, b)


class _GapArcs(NamedTuple):
    """The arc of each coarse gap (flattened over satellites × gaps) in the Earth-fixed frame
    of the gap's midpoint."""

    a_unit: F64  # (G, 3) direction at the gap's start
    b_unit: F64  # (G, 3) direction at the gap's end
    normal_unit: F64  # (G, 3) normal of the arc's plane
    theta_rad: F64  # the arc's length
    reach_rad: F64  # largest central angle from the arc at which a site can be served
    narrow: Mask  # reach small enough for times along the arc
    dev_rad: F64  # bound on the along-arc angle's departure from linear in time
    w_hi_rad_s: F64  # bounds on the along-arc angular rate
    w_lo_rad_s: F64


@dataclass(frozen=True, slots=True)
class SiteSet:
    """Sites as the screen and the search use them, and the spatial cells that group them."""

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


def site_set(sites: Sequence[Site]) -> SiteSet:
    """The :class:`SiteSet` of ``sites``: one cell per site up to 48 sites, ~8° cells beyond."""
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
    return SiteSet(
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


def cap_limit(r_sat: F64, r_site_min: float, elev_rad: float, off_nadir_rad: float | None) -> F64:
    """Largest Earth-central angle (rad) at which a satellite at radius ``r_sat`` can meet the
    constraints from a site at radius >= ``r_site_min`` (spherical model, conservative)."""
    e0 = elev_rad - DEFLECTION_RAD
    ratio = np.clip(r_site_min * math.cos(e0) / r_sat, -1.0, 1.0)
    lam = np.arccos(ratio) - e0
    if off_nadir_rad is not None:
        th = min(off_nadir_rad + DEFLECTION_RAD, math.pi / 2)
        s = r_sat * math.sin(th) / r_site_min
        lam_o = np.where(
            s >= 1.0,
            np.arccos(np.clip(r_site_min / r_sat, -1, 1)),
            np.arcsin(np.clip(s, -1.0, 1.0)) - th,
        )
        lam = np.minimum(lam, lam_o)
    out: F64 = np.clip(lam, 0.0, math.pi)
    return out


def screen_spans(
    fleet: Fleet,
    ss: SiteSet,
    group: I64,
    duration_s: float,
    c: Constraints,
) -> Spans:
    """Candidate spans of satellites ``group`` that share one coarse step (the arc test of
    the module doc), merged per (satellite, site)."""
    _, _, _, t = fleet.grid(group[:1])
    step = float(fleet.coarse_s[group[0]])
    elev = math.radians(c.effective_min_elevation_deg())
    off = None if c.max_off_nadir_deg is None else math.radians(c.max_off_nadir_deg)
    ngap = t.size - 1
    ncell = ss.cell_unit.shape[0]
    # Chunk satellites so one (gaps × cells) block stays around 1 M entries.
    per_chunk = max(1, int(1_000_000 // max(1, ngap * ncell)))
    parts: list[Spans] = []
    for lo in range(0, group.size, per_chunk):
        sats = group[lo : lo + per_chunk]
        # Chunks hold different satellites: merging each keeps the memory to merged spans.
        parts.append(merge_spans(_screen_chunk(fleet, ss, sats, t, step, duration_s, elev,
                                               off)))
    return Spans.concat(parts)


def _screen_chunk(
    fleet: Fleet,
    ss: SiteSet,
    sats: I64,
    t: F64,
    step: float,
    duration_s: float,
    elev: float,
    off: float | None,
) -> Spans:
    """Candidate spans (unmerged) of satellites ``sats`` over the gaps of the times ``t``."""
    pos, vel, ok, _ = fleet.grid(sats)
    r = np.linalg.norm(pos, axis=-1)
    # Inertial velocity (the ITRS one plus ω × r) gives the angular momentum at each sample.
    v_in = vel.copy()
    v_in[..., 0] -= EARTH_ROTATION_RAD_S * pos[..., 1]
    v_in[..., 1] += EARTH_ROTATION_RAD_S * pos[..., 0]
    h = np.linalg.norm(np.cross(pos, v_in), axis=-1)
    vr = np.abs(np.einsum("...i,...i->...", pos, vel)) / r
    unit = pos / r[..., None]
    half = step / 2.0
    # Gap k runs from sample k to k+1. Both ends rotated into the Earth-fixed frame of the
    # gap's midpoint: in that non-rotating frame the orbit stays in its plane, so the
    # satellite's direction runs along the great-circle arc from A to B.
    a_vec = _spin_z(unit[:, :-1], -EARTH_ROTATION_RAD_S * half)
    b_vec = _spin_z(unit[:, 1:], EARTH_ROTATION_RAD_S * half)
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
        a_j2 = 3.0 * 1.5 * WGS72_J2 * WGS72_MU_KM3_S2 * WGS72_RADIUS_KM**2 / r_lo**4
        curv = 2.0 * h_hi * vr_gap / r_lo**3 + r_hi * a_j2 / r_lo**2
        dev = 1.5 * curv * step**2 / 8.0
        lam = cap_limit(r_hi, ss.r_min_km, elev, off)
    # The site moves by up to ω⊕·step/2 in that frame; _PLANE_RAD covers the perturbations
    # that take the satellite out of the plane of A and B within one gap.
    reach = lam + EARTH_ROTATION_RAD_S * half + _PLANE_RAD
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
    arcs = _GapArcs(
        a_unit=a_vec.reshape(-1, 3), b_unit=b_vec.reshape(-1, 3),
        normal_unit=n_hat.reshape(-1, 3), theta_rad=theta.reshape(-1),
        reach_rad=reach.reshape(-1), narrow=narrow.reshape(-1), dev_rad=dev.reshape(-1),
        w_hi_rad_s=w_hi.reshape(-1), w_lo_rad_s=w_lo.reshape(-1),
    )
    for lo in range(0, flat.size, block):
        gap, site, a_s, b_s = _arc_candidates(ss, flat[lo : lo + block], arcs, step, half)
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
        return Spans.concat([])
    a = np.clip(np.concatenate(out_a), 0.0, duration_s)
    b = np.clip(np.concatenate(out_b), 0.0, duration_s)
    keep = a < b
    return Spans(np.concatenate(out_sat)[keep], np.concatenate(out_site)[keep], a[keep], b[keep])


def _arc_candidates(
    ss: SiteSet, flat: I64, arcs: _GapArcs, step: float, half: float
) -> tuple[I64, I64, F64, F64]:
    """(gap, site, start, end) candidates of the gaps ``flat`` (times from the gap's start)."""
    A = np.take(arcs.a_unit, flat, axis=0)
    th = arcs.theta_rad[flat]
    L = arcs.reach_rad[flat]
    mid = A + np.take(arcs.b_unit, flat, axis=0)
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
    wide = ~arcs.narrow[flat[g]]
    if wide.any():
        w_idx = np.flatnonzero(wide)
        cap_w = cap[g[w_idx]]
        near_mid = np.einsum("ij,ij->i", np.take(mid, g[w_idx], axis=0), s_unit[w_idx])
        keep = w_idx[(cap_w >= math.pi) | (near_mid >= np.cos(np.minimum(cap_w, math.pi)))]
        parts.append((flat[g[keep]], site[keep], np.zeros(keep.size), np.full(keep.size, step)))
        g, site, s_unit = g[~wide], site[~wide], s_unit[~wide]
    n_g = np.take(arcs.normal_unit, flat[g], axis=0)
    z = np.einsum("ij,ij->i", n_g, s_unit)
    near = np.abs(z) <= np.sin(L[g])
    g, site, s_unit, z, n_g = g[near], site[near], s_unit[near], z[near], n_g[near]
    a_g = np.take(A, g, axis=0)
    x = np.einsum("ij,ij->i", a_g, s_unit)
    y = np.einsum("ij,ij->i", np.cross(n_g, a_g), s_unit)  # along the in-plane normal
    phi = np.arctan2(y, x)
    gap = flat[g]
    arc = (th[g], L[g] - EARTH_ROTATION_RAD_S * half, arcs.dev_rad[gap],
           arcs.w_hi_rad_s[gap] * (1.0 + _RATE_MARGIN), arcs.w_lo_rad_s[gap] * (1.0 - _RATE_MARGIN))
    lo_s, hi_s = _along_arc(phi, z, EARTH_ROTATION_RAD_S * half, step, *arc)
    # Again with the site's motion over the times found, smaller than its largest motion
    # in the gap (ω⊕·step/2 at the equator): the second pass only narrows the first.
    live = np.flatnonzero(lo_s <= hi_s)
    cos_lat = np.sqrt(np.maximum(1.0 - s_unit[live, 2] ** 2, 0.0))
    moved = np.maximum(np.abs(lo_s[live] - half), np.abs(hi_s[live] - half))
    lo2, hi2 = _along_arc(phi[live], z[live], EARTH_ROTATION_RAD_S * moved * cos_lat, step,
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


def merge_spans(spans: Spans) -> Spans:
    """Union of overlapping or touching spans of each (satellite, site) pair, sorted by
    satellite, site and start."""
    sat, site, a, b = spans
    if sat.size == 0:
        return spans
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
    return Spans(sat[starts], site[starts], a[starts], reach[ends])


def _spin_z(vec: F64, angle_rad: float) -> F64:
    """Rotate vectors ``(..., 3)`` counter-clockwise about z by ``angle_rad``."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    out = np.empty_like(vec)
    out[..., 0] = c * vec[..., 0] - s * vec[..., 1]
    out[..., 1] = s * vec[..., 0] + c * vec[..., 1]
    out[..., 2] = vec[..., 2]
    return out
