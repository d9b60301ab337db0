"""The field method's compiled core (numba) against its NumPy reference: bit-identical.

Both run the same per-pair steps (closest approach, edges with their verification, margins) in
the same floating-point operations, so every window, every pair kept or left to the engine and
every edge must be exactly equal — on random regions, fleets and constraints (elevation,
off-nadir, both, range, Sun elevation, sunlit/shadow, minimum duration), and step by step on
random pairs, times and brackets.
"""

from __future__ import annotations

import random
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _support import random_constraints
from overflight import coverage_field as cf
from overflight.access import Constraints
from overflight.catalog.formats import read_path
from overflight.geometry import Site
from overflight.hypothetical import sso, walker
from overflight.regions import box_region, grid

pytest.importorskip("numba")

T0 = datetime(2026, 5, 31, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalog(shared_data: Path) -> list:
    return list(read_path(shared_data / "celestrak-2026-05-30" / "resource.tle").records)


def _box(rng: random.Random) -> list[Site]:
    lat = rng.uniform(-75.0, 75.0)
    lon = rng.uniform(-180.0, 180.0)
    h = rng.uniform(1.5, 3.0)
    w = h / max(np.cos(np.radians(lat)), 0.2)
    west = (lon + 180.0) % 360.0 - 180.0
    east = (lon + w + 180.0) % 360.0 - 180.0
    return grid(box_region(lat, west, lat + h, east), rng.choice([8.0, 12.0])).sites()


def _fleet(rng: random.Random, catalog: list) -> list:
    leo = [e for e in catalog if e.apogee_alt_km < 2000.0]
    hyp = sso(rng.uniform(350.0, 900.0), rng.uniform(6.0, 18.0), T0, count=2)
    hyp += walker(rng.uniform(500.0, 1200.0), rng.uniform(40.0, 98.0), 4, 2, 1, T0,
                  first_id=900_100)
    return rng.sample(leo, 10) + hyp


def _run(monkeypatch: pytest.MonkeyPatch, jit: bool, *args: Any) -> cf.FieldWindows:
    monkeypatch.setattr(cf, "_USE_JIT", jit)
    return cf.field_windows(*args)


@pytest.mark.parametrize("seed", range(8))
def test_compiled_windows_equal_the_reference(seed: int, catalog: list,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(100 + seed)
    points = _box(rng)
    fleet = _fleet(rng, catalog)
    c = random_constraints(rng, seed, with_off_nadir_min_el_deg=(20.0, 35.0))
    start = T0 + timedelta(hours=rng.uniform(0.0, 48.0))
    end = start + timedelta(hours=12.0)
    got = _run(monkeypatch, True, fleet, points, start, end, c)
    ref = _run(monkeypatch, False, fleet, points, start, end, c)
    assert ref.sat.size > 100
    for f in fields(cf.FieldWindows):
        a, b = getattr(got, f.name), getattr(ref, f.name)
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), f.name


def _captured(monkeypatch: pytest.MonkeyPatch, catalog: list, c: Constraints
              ) -> tuple[cf._Margins, cf._Pairs]:
    """The margins and candidate pairs of the first chunk of a real run."""
    seen: list[tuple[cf._Margins, cf._Pairs]] = []
    solve = cf._solve_edges

    def spy(mg: cf._Margins, pr: cf._Pairs, *a: Any) -> Any:
        seen.append((mg, pr))
        return solve(mg, pr, *a)

    monkeypatch.setattr(cf, "_solve_edges", spy)
    leo = [e for e in catalog if e.apogee_alt_km < 2000.0][:6]
    points = grid(box_region(36.0, 126.0, 38.0, 128.5), 10.0).sites()
    cf.field_windows(leo, points, T0, T0 + timedelta(hours=12), c)
    return seen[0]


@pytest.mark.parametrize("kind", ["el", "on", "rng"])
def test_compiled_steps_equal_the_reference_on_random_pairs(
        kind: str, catalog: list, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each step on its own, on random times and brackets (crossing or not, guesses inside,
    outside or none): closest approach, margins and edges agree to the bit."""
    c = Constraints(min_elevation_deg=10.0, max_off_nadir_deg=40.0, max_range_km=1500.0)
    mg, pr = _captured(monkeypatch, catalog, c)
    jit = cf._jit_module()
    assert jit is not None
    fast, ref = cf._JitCore(jit, mg, pr), cf._NumpyCore(mg, pr)
    rng = np.random.default_rng(7)
    n = len(pr)
    track = mg.track
    assert isinstance(track, cf._Track)
    lo = track.seg_t0[pr.seg]
    hi = lo + (track.seg_n[pr.seg] - 1) * cf._FINE_S
    t = lo + rng.uniform(-0.05, 1.05, n) * (hi - lo)
    t1, t2 = np.clip(t, lo, hi), np.clip(t, lo, hi)
    out_f = fast.closest(t1, lo, hi, ["el", "on", "rng"])
    out_r = ref.closest(t2, lo, hi, ["el", "on", "rng"])
    assert np.array_equal(t1, t2, equal_nan=True)
    for a, b in zip(out_f, out_r, strict=True):
        pairs = [(a[k], b[k]) for k in a] if isinstance(a, dict) else [(a, b)]
        for x, y in pairs:
            assert np.array_equal(x, y, equal_nan=True)
    idx = np.sort(rng.choice(n, size=min(n, 3000), replace=False))
    tt = lo[idx] + rng.uniform(0.0, 1.0, idx.size) * (hi[idx] - lo[idx])
    for a, b in zip(fast.margin(kind, idx, tt), ref.margin(kind, idx, tt), strict=True):
        assert np.array_equal(a, b)
    # Brackets from closest approach (margin ≥ 0 there for most) out to a segment end, and
    # random ones; guesses inside the bracket, outside it, or none.
    t_in = np.where(rng.random(idx.size) < 0.7, t1[idx], tt)
    t_out = np.where(rng.random(idx.size) < 0.5, lo[idx], hi[idx])
    guess = t_in + rng.uniform(-0.2, 1.2, idx.size) * (t_out - t_in)
    for g in (None, guess):
        got = fast.edge(kind, idx, t_in, t_out, g)
        want = ref.edge(kind, idx, t_in, t_out, g)
        for a, b in zip(got, want, strict=True):
            assert np.array_equal(a, b)
        assert (~got[1]).sum() > 100  # many crossings solved, not only failures


def test_compiled_field_edges_equal_the_reference(catalog: list,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Anchors, their interpolation along the field and the guessed edges, on real pairs:
    whole sets, small ones (one or two anchors), and brackets where every anchor fails."""
    c = Constraints(min_elevation_deg=10.0, max_off_nadir_deg=40.0)
    mg, pr = _captured(monkeypatch, catalog, c)
    jit = cf._jit_module()
    assert jit is not None
    fast, ref = cf._JitCore(jit, mg, pr), cf._NumpyCore(mg, pr)
    track = mg.track
    assert isinstance(track, cf._Track)
    n = len(pr)
    lo = track.seg_t0[pr.seg]
    hi = lo + (track.seg_n[pr.seg] - 1) * cf._FINE_S
    t = np.clip(lo + 0.5 * (hi - lo), lo, hi)
    t_ev, m0, cos_g, omega, _ = ref.closest(t, lo, hi, ["on", "el"])
    w = np.flatnonzero((m0["on"] >= 0.0) & (m0["el"] >= 0.0))
    assert w.size > 200
    key = pr.seg[w] * 1e7 + t[w]
    sphere = (np.clip(cos_g[w], -1.0, 1.0), omega[w], t[w])
    rng = np.random.default_rng(3)
    cases = [np.arange(w.size)] + [np.sort(rng.choice(w.size, k, replace=False))
                                   for k in (1, 2, 3, 17, 40)]
    solved = 0
    for sel in cases:
        for side in (lo, hi):
            for t_in in (t_ev[w][sel], side[w][sel]):  # the second: no crossing anywhere
                args = ("on", w[sel], t_in, side[w][sel], key[sel],
                        tuple(x[sel] for x in sphere))
                got = cf._field_edge(fast, *args)
                want = cf._field_edge(ref, *args)
                for a, b in zip(got, want, strict=True):
                    assert np.array_equal(a, b)
                solved += int((~got[1]).sum())
    assert solved > w.size
    assert n > w.size


def test_compiled_interpolation_anchors_and_guesses_equal_numpy() -> None:
    """The helpers of the compiled _field_edge against the NumPy expressions of the reference:
    np.interp (ends, repeated and hit nodes, one node), the anchor pick, the guesses."""
    jit = cf._jit_module()
    assert jit is not None
    rng = np.random.default_rng(11)
    for m in (1, 2, 3, 7, 300):
        xp = np.sort(rng.uniform(0.0, 100.0, m))
        if m > 3:
            xp[3] = xp[2]  # a repeated node
        fp = rng.uniform(0.5, 1.0, m)
        key = np.concatenate((rng.uniform(-10.0, 110.0, 2000), xp, [xp[0], xp[-1]]))
        cos_g = rng.uniform(0.6, 1.0, key.size)
        rest = np.sort(rng.choice(key.size, key.size // 2, replace=False))
        want = np.clip(np.interp(key[rest], xp, fp) / cos_g[rest], -1.0, 1.0)
        assert np.array_equal(jit.reach_ratio(rest, key, xp, fp, cos_g), want)
    for n in (1, 2, 16, 17, 1000):
        seg = np.sort(rng.integers(0, 5, n)).astype(np.int64)
        idx = rng.permutation(n).astype(np.int64)
        order = np.argsort(rng.uniform(size=n) + seg[idx] * 10.0, kind="stable")
        sgs = seg[idx[order]]
        pick = np.zeros(n, dtype=bool)
        pick[::16] = True
        pick[-1] = True
        pick[1:] |= sgs[1:] != sgs[:-1]
        pick[:-1] |= sgs[1:] != sgs[:-1]
        anc, rest = jit.anchors(order, idx, seg, 16)
        assert np.array_equal(anc, order[pick])
        assert np.array_equal(rest, np.setdiff1d(np.arange(n), order[pick]))
    n = 500
    t_in, t_out, t_c = (rng.uniform(0.0, 100.0, n) for _ in range(3))
    t_out[:5] = t_in[:5]  # no direction: sign 0
    omega = rng.uniform(1e-3, 2e-3, n)
    rest = np.concatenate((np.arange(5),
                           np.sort(rng.choice(np.arange(5, n), 200, replace=False))))
    angle = rng.uniform(0.0, 0.1, rest.size)
    want = t_c[rest] + np.sign(t_out[rest] - t_in[rest]) * (angle / omega[rest])
    assert np.array_equal(jit.rest_guess(rest, angle, omega, t_c, t_in, t_out), want)


def test_compiled_core_loads_beside_a_script_called_coverage(tmp_path: Path) -> None:
    """numba imports ``coverage`` if it can: a script of that name first on the path (as
    benchmarks/coverage.py run as a script) must not stop the compiled core from loading."""
    import os
    import subprocess
    import sys

    (tmp_path / "coverage.py").write_text("x = 1\n")
    src = str(Path(cf.__file__).resolve().parents[1])
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from overflight.coverage_field import _jit_module; "
            "assert _jit_module() is not None; import coverage; assert coverage.x == 1")
    env = {**os.environ, "PYTHONPATH": src}
    subprocess.run([sys.executable, "-W", "error", "-c", code, str(tmp_path)], env=env,
                   check=True, timeout=120)
