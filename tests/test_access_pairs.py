"""``pair_window_table`` (chosen satellite-site pairs, each searched only inside its own spans)
against ``window_table`` over the whole interval, restricted to the same spans.

Random fleets (real satellites of every orbit class in the snapshot: LEO, MEO, GEO, HEO, and
hypothetical sun-synchronous satellites), random sites and random constraints, lighting
included; spans either around the reference's windows (a few minutes of margin: the windows must
come out whole) or anywhere (windows cut at a span's end are cut there and marked clipped).
Same windows, edges within the engine's 5-ms edge tolerance (10 ms at a lighting change).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from overflight.access import (
    AccessError,
    Constraints,
    WindowTable,
    pair_window_table,
    window_table,
)
from overflight.catalog.formats import read_path
from overflight.geometry import Site
from overflight.hypothetical import sso

T0 = datetime(2026, 5, 31, tzinfo=UTC)
EDGE_S = 0.0051  # the engine reports the inside end of a bracket of at most 5 ms...
LIGHT_S = 0.0101  # ...and of 10 ms for a lighting change (clipped "sun" or "sunlit")
SHORT_S = 0.05  # RESOLUTION_S: shorter windows may be missed by either search


@pytest.fixture(scope="module")
def fleet(shared_data: Path) -> list:
    recs = list(read_path(shared_data / "celestrak-2026-05-30" / "resource.tle").records)
    for name in ("geo.tle", "science.tle", "stations.tle"):
        path = shared_data / "celestrak-2026-05-30" / name
        if path.exists():
            recs += list(read_path(path).records)
    return recs


def _constraints(rng: random.Random) -> Constraints:
    kinds = [
        Constraints(min_elevation_deg=rng.uniform(0.0, 40.0)),
        Constraints(max_off_nadir_deg=rng.uniform(15.0, 45.0)),
        Constraints(min_elevation_deg=10.0, max_range_km=rng.uniform(1500.0, 3000.0)),
        Constraints(min_elevation_deg=5.0, sun_min_deg=rng.uniform(-10.0, 20.0)),
        Constraints(min_elevation_deg=5.0, sun_max_deg=rng.uniform(-20.0, 0.0)),
        Constraints(min_elevation_deg=5.0, sunlit=rng.choice([True, False])),
        Constraints(min_elevation_deg=10.0, min_duration_s=rng.uniform(30.0, 240.0)),
    ]
    return kinds[rng.randrange(len(kinds))]


def _sites(rng: random.Random, n: int) -> list[Site]:
    return [Site(f"s{k}", rng.uniform(-89.0, 89.0), rng.uniform(-180.0, 180.0),
                 rng.uniform(0.0, 3000.0)) for k in range(n)]


def _restrict(ref: WindowTable, sat: np.ndarray, site: np.ndarray, a: np.ndarray,
              b: np.ndarray, t0: np.datetime64, min_duration_s: float) -> list[tuple]:
    """The reference's windows of each pair cut to its spans: (sat, site, start s, end s,
    cut at start, cut at end)."""
    out = []
    start = (ref.start - t0) / np.timedelta64(1, "s")
    end = (ref.end - t0) / np.timedelta64(1, "s")
    for k in range(sat.size):
        sel = np.flatnonzero((ref.sat_index == sat[k]) & (ref.site_index == site[k]))
        for i in sel:
            lo, hi = max(start[i], a[k]), min(end[i], b[k])
            if hi > lo and hi - lo >= min_duration_s:
                out.append((int(sat[k]), int(site[k]), lo, hi, start[i] < a[k], end[i] > b[k]))
    return sorted(out)


def _rows(t: WindowTable, t0: np.datetime64) -> list[tuple]:
    start = (t.start - t0) / np.timedelta64(1, "s")
    end = (t.end - t0) / np.timedelta64(1, "s")
    return sorted((int(t.sat_index[i]), int(t.site_index[i]), float(start[i]), float(end[i]),
                   int(t.start_clip[i]), int(t.end_clip[i])) for i in range(len(t)))


def _match(got: list[tuple], want: list[tuple]) -> None:
    got = [g for g in got if g[3] - g[2] >= SHORT_S]
    want = [w for w in want if w[3] - w[2] >= SHORT_S]
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want, strict=True):
        assert g[:2] == w[:2]
        assert abs(g[2] - w[2]) <= (LIGHT_S if g[4] > 1 else EDGE_S), (g, w)
        assert abs(g[3] - w[3]) <= (LIGHT_S if g[5] > 1 else EDGE_S), (g, w)
        # A window cut by its span is marked clipped by the interval (1) there.
        if w[4]:
            assert g[4] == 1
        if w[5]:
            assert g[5] == 1


@pytest.mark.parametrize("seed", range(10))
def test_pairs_equal_window_table_in_spans(fleet: list, seed: int) -> None:
    """Even seeds with the screen, odd ones without (the spans searched as given)."""
    rng = random.Random(seed)
    sats = rng.sample(fleet, 8) + sso(500.0 + 100.0 * seed, rng.uniform(0.0, 24.0), T0)
    sites = _sites(rng, 12)
    end = T0 + timedelta(hours=rng.choice([6.0, 12.0, 24.0]))
    c = _constraints(rng)
    t0 = np.datetime64(T0.replace(tzinfo=None), "ns")
    ref = window_table(sats, sites, T0, end, c)
    dur = (end - T0).total_seconds()
    # Pairs: every pair with a window, and as many without (their spans must stay empty).
    with_win = sorted({(int(s), int(p)) for s, p in zip(ref.sat_index, ref.site_index,
                                                        strict=True)})
    others = [(s, p) for s in range(len(sats)) for p in range(len(sites))
              if (s, p) not in set(with_win)]
    pairs = with_win + rng.sample(others, min(len(others), len(with_win) + 4))
    sat_l, site_l, a_l, b_l = [], [], [], []
    r_start = (ref.start - t0) / np.timedelta64(1, "s")
    r_end = (ref.end - t0) / np.timedelta64(1, "s")
    for s, p in pairs:
        sel = np.flatnonzero((ref.sat_index == s) & (ref.site_index == p))
        for i in sel:
            if rng.random() < 0.7:  # around the window, whole
                a = r_start[i] - rng.uniform(1.0, 300.0)
                b = r_end[i] + rng.uniform(1.0, 300.0)
            else:  # through it: a cut
                a = rng.uniform(r_start[i] - 60.0, r_end[i])
                b = rng.uniform(a, r_end[i] + 60.0)
            sat_l.append(s), site_l.append(p), a_l.append(a), b_l.append(b)
        # And a random stretch of the interval.
        a = rng.uniform(-600.0, dur)
        sat_l.append(s), site_l.append(p), a_l.append(a), b_l.append(a + rng.uniform(60, 7200))
    sat, site = np.array(sat_l), np.array(site_l)
    a, b = np.clip(np.array(a_l), 0.0, dur), np.clip(np.array(b_l), 0.0, dur)
    stats: dict = {}
    got = pair_window_table(sats, sites, T0, end, sat, site, a, b, c, screen=seed % 2 == 0,
                            stats=stats)
    assert stats["windows"] == len(got)
    # Reference cut to the union of each pair's spans.
    want = _restrict(ref, *_merged(sat, site, a, b), t0, c.min_duration_s)
    assert len(want) >= 10  # the case compares something
    _match(_rows(got, t0), [(*w[:4], w[4], w[5]) for w in want])
    # Windows found whole have the reference's attributes.
    for i in range(len(got)):
        if got.start_clip[i] or got.end_clip[i]:
            continue
        j = np.flatnonzero((ref.sat_index == got.sat_index[i])
                           & (ref.site_index == got.site_index[i])
                           & (np.abs((ref.start - got.start[i]) / np.timedelta64(1, "s"))
                              <= EDGE_S))
        assert j.size == 1
        assert abs(float(ref.max_elevation_deg[j[0]] - got.max_elevation_deg[i])) < 1e-3
        assert abs(float(ref.min_range_km[j[0]] - got.min_range_km[i])) < 0.01


def _merged(sat: np.ndarray, site: np.ndarray, a: np.ndarray, b: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Union of each pair's spans (written here, not taken from the engine)."""
    out: dict[tuple[int, int], list[list[float]]] = {}
    for k in np.lexsort((a, site, sat)).tolist():
        runs = out.setdefault((int(sat[k]), int(site[k])), [])
        if b[k] <= a[k]:
            continue
        if runs and a[k] <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], float(b[k]))
        else:
            runs.append([float(a[k]), float(b[k])])
    rows = [(s, p, lo, hi) for (s, p), runs in out.items() for lo, hi in runs]
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    return (np.array(cols[0], dtype=np.int64), np.array(cols[1], dtype=np.int64),
            np.array(cols[2], dtype=float), np.array(cols[3], dtype=float))


def test_pairs_errors(fleet: list) -> None:
    sats, sites = fleet[:2], _sites(random.Random(1), 2)
    end = T0 + timedelta(hours=1)
    with pytest.raises(AccessError, match="differ in length"):
        pair_window_table(sats, sites, T0, end, [0, 1], [0], [0.0], [10.0])
    with pytest.raises(AccessError, match="sat_index"):
        pair_window_table(sats, sites, T0, end, [2], [0], [0.0], [10.0])
    with pytest.raises(AccessError, match="site_index"):
        pair_window_table(sats, sites, T0, end, [0], [-1], [0.0], [10.0])
    with pytest.raises(AccessError, match="finite"):
        pair_window_table(sats, sites, T0, end, [0], [0], [np.nan], [10.0])
    empty = pair_window_table(sats, sites, T0, end, [], [], [], [])
    assert len(empty) == 0


def test_engine_states_are_sgp4_within_the_hermite_bound(fleet: list) -> None:
    """``EngineStates``: SGP4 itself outside covered spans, within the engine's 10-m Hermite
    bound inside them (against ``overflight.propagation``, ITRS; velocities within 0.5 m/s)."""
    from overflight.access import EngineStates
    from overflight.propagation import Propagator

    sats = fleet[:3]
    end = T0 + timedelta(hours=6)
    es = EngineStates(sats, T0, end)
    t = np.linspace(0.0, 6 * 3600.0, 97)[1:-1] + 7.3  # off the fine grid
    t64 = np.datetime64(T0.replace(tzinfo=None), "ns") + (t * 1e9).astype("timedelta64[ns]")
    eph = Propagator(sats).propagate(t64, workers=1)
    for covered in (False, True):
        if covered:
            es.cover(np.arange(3), np.zeros(3), np.full(3, 6 * 3600.0))
        for k in range(3):
            r, v, ok = es.states(np.full(t.size, k), t)
            assert ok.all()
            dr = np.linalg.norm(r - eph.position_km[k], axis=1).max()
            dv = np.linalg.norm(v - eph.velocity_km_s[k], axis=1).max()
            assert dr < (0.010 if covered else 0.001), (k, covered, dr)
            # Interpolated velocities: measured within 0.11 m/s in LEO.
            assert dv < (5e-4 if covered else 1e-5), (k, covered, dv)



CHUNK_CASES = [
    Constraints(min_elevation_deg=10.0),
    Constraints(max_off_nadir_deg=30.0),
    Constraints(min_elevation_deg=10.0, max_range_km=2000.0),
    Constraints(max_off_nadir_deg=45.0, sun_min_deg=10.0),
    Constraints(min_elevation_deg=5.0, sun_max_deg=-6.0),
    Constraints(min_elevation_deg=5.0, sunlit=True),
    Constraints(min_elevation_deg=10.0, min_duration_s=120.0),
]


@pytest.mark.parametrize("c", CHUNK_CASES)
def test_search_chunks_give_identical_tables(fleet: list, c: Constraints,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Spans searched in chunks of a few evaluated points (``SEARCH_CHUNK_POINTS``) give the
    tables of one chunk, every column bit for bit (each span is searched on its own): whole
    intervals and chosen pair spans, a geostationary satellite among them."""
    import overflight.access.engine as engine

    rng = random.Random(7)
    geo = [e for e in fleet if e.mean_motion_rev_day < 1.1][:1]
    sats = rng.sample(fleet, 7) + geo
    sites = _sites(rng, 10)
    end = T0 + timedelta(hours=12)
    sat = np.repeat(np.arange(len(sats)), len(sites))
    site = np.tile(np.arange(len(sites)), len(sats))
    a = np.array([rng.uniform(0.0, 30000.0) for _ in range(sat.size)])
    b = a + np.array([rng.uniform(600.0, 14000.0) for _ in range(sat.size)])
    tables = {}
    for budget in (10**12, 30):
        monkeypatch.setattr(engine, "SEARCH_CHUNK_POINTS", budget)
        tables[budget] = (window_table(sats, sites, T0, end, c),
                          pair_window_table(sats, sites, T0, end, sat, site, a, b, c))
    assert geo and len(tables[30][0]) > 0
    for one, cut in zip(tables[10**12], tables[30], strict=True):
        for f in one.__dataclass_fields__:
            x, y = getattr(one, f), getattr(cut, f)
            assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f
