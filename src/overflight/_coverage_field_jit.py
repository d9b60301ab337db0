"""Compiled per-pair core of the field method (:mod:`overflight.coverage_field`), with numba.

The same steps as the NumPy reference there (:meth:`_NumpyCore.closest`, :func:`_edge`,
:meth:`_Margins.values` on :class:`_Track`), pair by pair in scalar code straight from the
Hermite coefficients: the same operations in the same order (no fused multiply-adds, no fast
math; NumPy's error model: division by zero gives inf or NaN), so the results are bit-identical
(tested). The GIL is released. Imported on first use only; without numba the NumPy reference
runs. Constants are arguments, not globals: numba's cache would freeze them.

Track: ``ct`` (nodes, 14) — x, y, z of C0..C3, then the geodetic-up stretch ``k`` and its change
over the piece — with ``t0``, ``nn``, ``first`` per segment; pairs: segment ``seg`` and the
point's ITRS position ``p`` and geodetic up ``u`` as rows (3, N). Margin kinds: 0 elevation,
1 off-nadir, 2 range (as :class:`_Margins`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_EL, _ON, _RNG = 0, 1, 2
_BIG = 1.7976931348623157e308  # np.nan_to_num's stand-in for ±inf


@njit(cache=True, error_model="numpy")
def _piece(t0, nn, first, sg, t, fine_s):
    """Node row and piece fraction of segment ``sg`` at ``t`` (as _Track.piece)."""
    u = (t - t0[sg]) / fine_s
    f = math.floor(u)
    if f < 0.0:
        f = 0.0
    hi = nn[sg] - 2
    if f > hi:
        f = float(hi)
    if math.isnan(f):
        f = 0.0  # not reached (times are finite); keeps the index in bounds
    i = int(f)
    return first[sg] + i, u - i


@njit(cache=True, error_model="numpy")
def _pos(ct, j, s):
    x = ((ct[j, 9] * s + ct[j, 6]) * s + ct[j, 3]) * s + ct[j, 0]
    y = ((ct[j, 10] * s + ct[j, 7]) * s + ct[j, 4]) * s + ct[j, 1]
    z = ((ct[j, 11] * s + ct[j, 8]) * s + ct[j, 5]) * s + ct[j, 2]
    return x, y, z


@njit(cache=True, error_model="numpy")
def _vel(ct, j, s, fine_s):
    vx = ((3.0 * ct[j, 9] * s + 2.0 * ct[j, 6]) * s + ct[j, 3]) / fine_s
    vy = ((3.0 * ct[j, 10] * s + 2.0 * ct[j, 7]) * s + ct[j, 4]) / fine_s
    vz = ((3.0 * ct[j, 11] * s + 2.0 * ct[j, 8]) * s + ct[j, 5]) / fine_s
    return vx, vy, vz


@njit(cache=True, error_model="numpy")
def _acc(ct, j, s, fine_s):
    f2 = fine_s * fine_s
    ax = (6.0 * ct[j, 9] * s + 2.0 * ct[j, 6]) / f2
    ay = (6.0 * ct[j, 10] * s + 2.0 * ct[j, 7]) / f2
    az = (6.0 * ct[j, 11] * s + 2.0 * ct[j, 8]) / f2
    return ax, ay, az


@njit(cache=True, error_model="numpy")
def _up(ct, j, s, x, y, z):
    zk = z * (ct[j, 12] + ct[j, 13] * s)
    inv = 1.0 / math.sqrt(x * x + y * y + zk * zk)
    return x * inv, y * inv, zk * inv


@njit(cache=True, error_model="numpy")
def _margin(kind, x, y, z, vx, vy, vz, nx, ny, nz, px, py, pz, ux, uy, uz, sin_el, cos_on,
            max_rng, rates):
    """Margin ``kind``, its rate (if ``rates``, else 0) and the range (as _Margins.values)."""
    dx, dy, dz = x - px, y - py, z - pz
    rho = math.sqrt(dx * dx + dy * dy + dz * dz)
    inv = 1.0 / rho
    dv_r2 = 0.0
    if rates:
        dv_r2 = (dx * vx + dy * vy + dz * vz) * inv * inv
    der = 0.0
    if kind == _EL:
        d_up = (dx * ux + dy * uy + dz * uz) * inv
        m = d_up - sin_el
        if rates:
            der = (vx * ux + vy * uy + vz * uz) * inv - d_up * dv_r2
    elif kind == _ON:
        dn = (dx * nx + dy * ny + dz * nz) * inv
        m = dn - cos_on
        if rates:
            rr = math.sqrt(x * x + y * y + z * z)
            vn = vx * nx + vy * ny + vz * nz
            dn_rate = ((dx * vx + dy * vy + dz * vz) * inv
                       - vn * (dx * nx + dy * ny + dz * nz) * inv) / rr
            der = dn_rate + vn * inv - dn * dv_r2
    else:
        m = max_rng - rho
        if rates:
            der = -dv_r2 * rho
    return m, der, rho


@njit(cache=True, error_model="numpy")
def _eval(kind, ct, t0, nn, first, sg, t, px, py, pz, ux, uy, uz, sin_el, cos_on, max_rng,
          fine_s, rates):
    """Margin ``kind`` of one pair at ``t``: (margin, rate, range)."""
    j, s = _piece(t0, nn, first, sg, t, fine_s)
    x, y, z = _pos(ct, j, s)
    vx = vy = vz = 0.0
    if rates:
        vx, vy, vz = _vel(ct, j, s, fine_s)
    nx = ny = nz = 0.0
    if kind == _ON:
        nx, ny, nz = _up(ct, j, s, x, y, z)
    return _margin(kind, x, y, z, vx, vy, vz, nx, ny, nz, px, py, pz, ux, uy, uz, sin_el,
                   cos_on, max_rng, rates)


@njit(cache=True, error_model="numpy", nogil=True)
def closest(ct, t0, nn, first, seg, p, u, t, lo, hi, kinds, sin_el, cos_on, max_rng, fine_s,
            steps):
    """Closest approach of every pair by Newton steps on the range rate, from ``t`` (updated in
    place; see _NumpyCore.closest): the last evaluated time, the margins ``kinds`` there (rows),
    cos of the central angle, the angular rate and the last step."""
    n = seg.size
    t_ev = np.empty(n)
    m0 = np.empty((kinds.size, n))
    cos_g = np.empty(n)
    omega = np.empty(n)
    step = np.empty(n)
    need_up = False
    for k in range(kinds.size):
        if kinds[k] == _ON:
            need_up = True
    for i in range(n):
        sg = seg[i]
        px, py, pz = p[0, i], p[1, i], p[2, i]
        ti = t[i]
        x = y = z = vx = vy = vz = nx = ny = nz = 0.0
        ta = ti
        st = np.inf
        for _ in range(steps):
            ta = ti
            j, s = _piece(t0, nn, first, sg, ta, fine_s)
            x, y, z = _pos(ct, j, s)
            vx, vy, vz = _vel(ct, j, s, fine_s)
            ax, ay, az = _acc(ct, j, s, fine_s)
            dx, dy, dz = x - px, y - py, z - pz
            vv = vx * vx + vy * vy + vz * vz
            f1 = vv + dx * ax + dy * ay + dz * az
            dt = -(dx * vx + dy * vy + dz * vz) / (f1 if f1 > 0 else np.nan)
            st = abs(dt)
            if math.isnan(dt):
                dt = 0.0
            elif dt == np.inf:
                dt = _BIG
            elif dt == -np.inf:
                dt = -_BIG
            ti = ta + dt
            if ti < lo[i]:
                ti = lo[i]
            if ti > hi[i]:
                ti = hi[i]
            if st < 0.5:
                break
        t[i] = ti
        t_ev[i] = ta
        step[i] = st
        # What the reference keeps of the last evaluation.
        rn = math.sqrt(x * x + y * y + z * z)
        pn = math.sqrt(px * px + py * py + pz * pz)
        cos_g[i] = (x * px + y * py + z * pz) / (rn * pn)
        vv = vx * vx + vy * vy + vz * vz
        vr = (x * vx + y * vy + z * vz) / rn
        q = vv - vr * vr
        if q < 1e-12:
            q = 1e-12
        omega[i] = math.sqrt(q) / rn
        if need_up:
            j, s = _piece(t0, nn, first, sg, ta, fine_s)
            nx, ny, nz = _up(ct, j, s, x, y, z)
        for k in range(kinds.size):
            m0[k, i] = _margin(kinds[k], x, y, z, vx, vy, vz, nx, ny, nz, px, py, pz, u[0, i],
                               u[1, i], u[2, i], sin_el, cos_on, max_rng, False)[0]
    return t_ev, m0, cos_g, omega, step


@njit(cache=True, error_model="numpy", nogil=True)
def margin(kind, ct, t0, nn, first, seg, p, u, idx, t, sin_el, cos_on, max_rng,
           fine_s):
    """Margin ``kind`` and range of pairs ``idx`` at ``t``."""
    n = idx.size
    m = np.empty(n)
    rho = np.empty(n)
    for i in range(n):
        q = idx[i]
        m[i], _, rho[i] = _eval(kind, ct, t0, nn, first, seg[q], t[i], p[0, q], p[1, q],
                                p[2, q], u[0, q], u[1, q], u[2, q], sin_el, cos_on, max_rng,
                                fine_s, False)
    return m, rho


_LANES = 8  # pairs iterated side by side: independent chains the CPU overlaps


@njit(cache=True, error_model="numpy", nogil=True)
def edge(kind, ct, t0, nn, first, seg, p, u, idx, t_in, t_out, guess, sin_el, cos_on,
         max_rng, fine_s, steps, edge_tol, pos_tol, condition_s):
    """Crossings of margin ``kind`` for pairs ``idx`` between ``t_in`` (≥ 0) and ``t_out``
    (< 0), from ``guess`` where inside the bracket (NaN: none), as _edge: the inside end of
    the verified bracket, flagged (no convergence, no verified bracket, or ill-conditioned)
    and ill-conditioned."""
    n = idx.size
    out = np.empty(n)
    flag = np.zeros(n, dtype=np.bool_)
    ill = np.zeros(n, dtype=np.bool_)
    edges_at(kind, ct, t0, nn, first, seg, p, u, idx, t_in, t_out, np.arange(n), guess, sin_el,
             cos_on, max_rng, fine_s, steps, edge_tol, pos_tol, condition_s, out, flag, ill)
    return out, flag, ill


@njit(cache=True, error_model="numpy", nogil=True)
def edges_at(kind, ct, t0, nn, first, seg, p, u, idx, t_in, t_out, sel, guess, sin_el, cos_on,
             max_rng, fine_s, steps, edge_tol, pos_tol, condition_s, out, flag, ill):
    """:func:`edge` for the entries ``sel`` of ``idx``, ``t_in`` and ``t_out`` (``guess``
    aligned with ``sel``), written into ``out``, ``flag`` and ``ill`` at ``sel``."""
    n = sel.size
    base = sin_el if kind == _EL else cos_on
    near = 0.7 * edge_tol
    shift0 = 0.3 * edge_tol
    la = np.empty(_LANES)  # bracket: margin ≥ 0 at la, < 0 at lb
    lb = np.empty(_LANES)
    lt = np.empty(_LANES)  # next time
    lm = np.empty(_LANES)  # margin, rate and range at the last evaluation
    ld = np.empty(_LANES)
    lr = np.empty(_LANES)
    active = np.zeros(_LANES, dtype=np.bool_)
    done = np.zeros(_LANES, dtype=np.bool_)
    # Each step evaluates every lane (active or not, from its last piece): branch-free
    # chains that the CPU overlaps; the brackets are then updated for the active lanes.
    node = np.zeros(_LANES, dtype=np.int64)  # Hermite piece and fraction of each lane
    frac = np.zeros(_LANES)
    pt = np.ones((6, _LANES))  # each lane's point and its up
    em = np.empty(_LANES)  # margin, rate and range of each lane this step
    pnode = np.zeros((2, _LANES), dtype=np.int64)  # the verification probes, inside/outside
    pfrac = np.zeros((2, _LANES))
    pm = np.empty((2, _LANES))
    ed = np.empty(_LANES)
    er = np.empty(_LANES)
    for i0 in range(0, n, _LANES):
        m = min(_LANES, n - i0)
        for k in range(m):
            i = sel[i0 + k]
            a, b = t_in[i], t_out[i]
            t = a + (b - a) * 0.5
            g = guess[i0 + k]
            if g > min(a, b) and g < max(a, b):
                t = g
            la[k], lb[k], lt[k] = a, b, t
            active[k] = True
            done[k] = False
            q = idx[i]
            for r in range(3):
                pt[r, k], pt[3 + r, k] = p[r, q], u[r, q]
        for k in range(m, _LANES):
            active[k] = False
        for _ in range(steps):
            for k in range(m):
                if active[k]:
                    node[k], frac[k] = _piece(t0, nn, first, seg[idx[sel[i0 + k]]], lt[k],
                                              fine_s)
            for k in range(_LANES):
                j, s = node[k], frac[k]
                x, y, z = _pos(ct, j, s)
                vx, vy, vz = _vel(ct, j, s, fine_s)
                nx = ny = nz = 0.0
                if kind == _ON:
                    nx, ny, nz = _up(ct, j, s, x, y, z)
                em[k], ed[k], er[k] = _margin(kind, x, y, z, vx, vy, vz, nx, ny, nz, pt[0, k],
                                              pt[1, k], pt[2, k], pt[3, k], pt[4, k],
                                              pt[5, k], sin_el, cos_on, max_rng, True)
            more = False
            for k in range(m):
                if not active[k]:
                    continue
                t = lt[k]
                mk, dk = em[k], ed[k]
                lm[k], ld[k], lr[k] = mk, dk, er[k]
                a, b = la[k], lb[k]
                if mk >= 0.0:
                    a = t
                else:
                    b = t
                nt = t - mk / (dk if dk != 0.0 else np.nan)
                off = not (nt > min(a, b) and nt < max(a, b))
                if off:
                    nt = (a + b) / 2.0
                moved = abs(nt - t)
                lt[k], la[k], lb[k] = nt, a, b
                if (moved < 5e-3 and not off) or abs(b - a) <= edge_tol:
                    done[k] = True
                    active[k] = False
                else:
                    more = True
            if not more:
                break
        # Verify: probe 0.3 ms beyond ``t`` on each side not yet closer than 0.7 ms (both
        # probes of every lane evaluated together, then used where needed).
        for k in range(m):
            d = lb[k] - la[k]
            direction = 1.0 if d > 0 else (-1.0 if d < 0 else 0.0)
            shift = shift0 * direction
            sg = seg[idx[sel[i0 + k]]]
            pnode[0, k], pfrac[0, k] = _piece(t0, nn, first, sg, lt[k] - shift, fine_s)
            pnode[1, k], pfrac[1, k] = _piece(t0, nn, first, sg, lt[k] + shift, fine_s)
        for h in range(2):
            for k in range(_LANES):
                j, s = pnode[h, k], pfrac[h, k]
                x, y, z = _pos(ct, j, s)
                nx = ny = nz = 0.0
                if kind == _ON:
                    nx, ny, nz = _up(ct, j, s, x, y, z)
                pm[h, k] = _margin(kind, x, y, z, 0.0, 0.0, 0.0, nx, ny, nz, pt[0, k],
                                   pt[1, k], pt[2, k], pt[3, k], pt[4, k], pt[5, k], sin_el,
                                   cos_on, max_rng, False)[0]
        for k in range(m):
            i = sel[i0 + k]
            a, b, t = la[k], lb[k], lt[k]
            fail = not done[k]
            if not fail:
                d = b - a
                direction = 1.0 if d > 0 else (-1.0 if d < 0 else 0.0)
                fwd = direction > 0
                shift = shift0 * direction
                tp_in, tp_out = t - shift, t + shift
                probe_in = abs(t - a) > near
                probe_out = abs(b - t) > near
                if probe_in:
                    if pm[0, k] >= 0.0:
                        a = max(a, tp_in) if fwd else min(a, tp_in)
                    else:
                        b = min(b, tp_in) if fwd else max(b, tp_in)
                if probe_out:
                    if pm[1, k] >= 0.0:
                        a = max(a, tp_out) if fwd else min(a, tp_out)
                    else:
                        b = min(b, tp_out) if fwd else max(b, tp_out)
            fail = fail or not (abs(b - a) <= 1.2 * edge_tol)
            if kind == _RNG:
                slope = abs(ld[k])
            else:
                w = lm[k] + base
                trig = 1.0 - w * w
                if trig < 1e-12:
                    trig = 1e-12
                slope = abs(ld[k]) * lr[k] / math.sqrt(trig)
            if slope < 1e-12:
                slope = 1e-12
            badly = (not fail) and (pos_tol / slope > condition_s)
            out[i] = a
            flag[i] = fail or badly
            ill[i] = badly


@njit(cache=True, error_model="numpy", nogil=True)
def anchors(order, idx, seg, every):
    """The pairs _field_edge solves from their bracket alone: every ``every``-th in ``order``
    (positions sorted along the field), the last, and each segment's first and last — in that
    order; and the other positions, ascending."""
    n = order.size
    pick = np.zeros(n, dtype=np.bool_)
    for k in range(0, n, every):
        pick[k] = True
    pick[n - 1] = True
    for k in range(1, n):
        if seg[idx[order[k]]] != seg[idx[order[k - 1]]]:
            pick[k] = True
            pick[k - 1] = True
    count = 0
    for k in range(n):
        count += pick[k]
    anc = np.empty(count, dtype=np.int64)
    is_anc = np.zeros(n, dtype=np.bool_)
    c = 0
    for k in range(n):
        if pick[k]:
            anc[c] = order[k]
            is_anc[order[k]] = True
            c += 1
    rest = np.empty(n - count, dtype=np.int64)
    c = 0
    for k in range(n):
        if not is_anc[k]:
            rest[c] = k
            c += 1
    return anc, rest


@njit(cache=True, error_model="numpy")
def _last_at_most(x, xp, g):
    """The last j with xp[j] ≤ x (−1 if none) in increasing ``xp``, searched from ``g``
    outwards (neighbouring pairs have neighbouring keys), as NumPy's interp finds it."""
    m = xp.size
    if x < xp[0]:
        return -1
    if x >= xp[m - 1]:
        return m - 1
    g = min(max(g, 0), m - 2)
    # Bracket xp[lo] ≤ x < xp[hi] by steps doubling from g, then bisect.
    if xp[g] <= x:
        lo, hi, step = g, m - 1, 1
        while lo + step < hi and xp[lo + step] <= x:
            lo += step
            step *= 2
        hi = min(lo + step, hi)
    else:
        lo, hi, step = 0, g, 1
        while hi - step > lo and xp[hi - step] > x:
            hi -= step
            step *= 2
        lo = max(hi - step, lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xp[mid] <= x:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True, error_model="numpy", nogil=True)
def reach_ratio(rest, key, xp, fp, cos_g):
    """clip(interp(key, xp, fp) / cos_g, −1, 1) at positions ``rest``, the interpolation as
    NumPy's ``np.interp`` computes it (``xp`` increasing)."""
    n = rest.size
    out = np.empty(n)
    m = xp.size
    j = 0
    for i in range(n):
        r = rest[i]
        x = key[r]
        if m == 1:
            c = fp[0]
        elif math.isnan(x):
            c = x
        else:
            j = _last_at_most(x, xp, j)
            if j == -1:
                c = fp[0]
            elif j >= m - 1:
                c = fp[m - 1]
            elif xp[j] == x:
                c = fp[j]
            else:
                slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
                c = slope * (x - xp[j]) + fp[j]
                if math.isnan(c):
                    c = slope * (x - xp[j + 1]) + fp[j + 1]
                    if math.isnan(c) and fp[j] == fp[j + 1]:
                        c = fp[j]
        v = c / cos_g[r]
        if v < -1.0:
            v = -1.0
        if v > 1.0:
            v = 1.0
        out[i] = v
    return out


@njit(cache=True, error_model="numpy", nogil=True)
def rest_guess(rest, angle, omega, t_c, t_in, t_out):
    """First guesses t_c + sign(t_out − t_in)·angle/ω at positions ``rest`` (``angle``
    aligned with ``rest``)."""
    n = rest.size
    out = np.empty(n)
    for i in range(n):
        r = rest[i]
        d = t_out[r] - t_in[r]
        sign = 1.0 if d > 0 else (-1.0 if d < 0 else (0.0 if d == 0 else d))
        out[i] = t_c[r] + sign * (angle[i] / omega[r])
    return out
