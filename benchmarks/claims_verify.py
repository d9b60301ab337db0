"""Claim verification speed: overflight.claims.verify_claim against the same check in Skyfield.

    .venv/bin/python benchmarks/claims_verify.py [--repeat 5] [--claims 40]

Claims: ``--claims`` (satellite, site, time) triples drawn with a fixed seed from the 2026-05-30
resource snapshot of the shared data (satellites with a shipped sensor), the 22 named sites and
times within a day of the snapshot. overflight does the whole verification (two window searches
over ±3 h, a 5 s closest-approach scan refined to 50 ms, geometry and Sun at the claimed time, the
report sentences). The Skyfield peer does the core of it only: ``find_events`` over ±3 h for the
passes, and altitude of the satellite and of the Sun at the claimed time. Medians of ``--repeat``
runs of the whole batch; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import random
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _timing import median_time

from overflight.catalog import Catalog
from overflight.catalog.formats import read_path
from overflight.claims import claim_from_fields, verify_claim
from overflight.sensors import shipped_sensors
from overflight.sites import named_sites

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "celestrak-2026-05-30" / "resource.tle"


def _at_pass(triple: tuple[Any, Any, datetime]) -> tuple[Any, Any, datetime]:
    from skyfield.api import EarthSatellite, load, wgs84

    es, site, t = triple
    text = DATA.read_text().splitlines()
    i = next(k for k, ln in enumerate(text) if ln.startswith("1 ") and int(ln[2:7]) == es.norad_id)
    ts = load.timescale(builtin=True)
    sat = EarthSatellite(text[i], text[i + 1], ts=ts)
    tt, ev = sat.find_events(wgs84.latlon(site.lat_deg, site.lon_deg), ts.from_datetime(t),
                             ts.from_datetime(t + timedelta(days=2)), 45.0)
    peaks = [x.utc_datetime() for x, e in zip(tt, ev, strict=True) if e == 1]
    return (es, site, peaks[0]) if peaks else triple


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--claims", type=int, default=40)
    args = parser.parse_args()

    records = read_path(DATA).records
    sensors = shipped_sensors()
    sats = [r for r in records if r.norad_id in sensors]
    sites = [n.site for n in named_sites()]
    rng = random.Random(1)
    t0 = datetime(2026, 5, 30, 12, tzinfo=UTC)
    triples = [(rng.choice(sats), rng.choice(sites), t0 + timedelta(seconds=rng.uniform(0, 86400)))
               for _ in range(args.claims)]
    # Every other claim at a real pass (Skyfield culmination in the next two days), so both
    # verdicts are timed.
    triples = [_at_pass(tr) if i % 2 == 0 else tr for i, tr in enumerate(triples)]
    cat = Catalog.memory()
    cat.add(records, group="resource")
    claims = [claim_from_fields({"satellite": str(es.norad_id),
                                 "target": f"{s.lat_deg},{s.lon_deg}",
                                 "time": t.strftime("%Y-%m-%dT%H:%M:%SZ")})
              for es, s, t in triples]

    def ours() -> list[str]:
        return [verify_claim(c, cat).verdict for c in claims]

    from skyfield.api import EarthSatellite, Loader, wgs84
    from skyfield_data import get_skyfield_data_path

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load = Loader(get_skyfield_data_path(), expire=False, verbose=False)
    ts = load.timescale(builtin=False)
    eph = load("de421.bsp")
    lines = {}
    text = DATA.read_text().splitlines()
    for i, ln in enumerate(text):
        if ln.startswith("1 "):
            lines[int(ln[2:7])] = (ln, text[i + 1])

    def peer() -> int:
        n = 0
        for es, s, t in triples:
            sat = EarthSatellite(*lines[es.norad_id], ts=ts)
            topos = wgs84.latlon(s.lat_deg, s.lon_deg, s.alt_m)
            _, events = sat.find_events(topos, ts.from_datetime(t - timedelta(hours=3)),
                                         ts.from_datetime(t + timedelta(hours=3)), 0.0)
            at = ts.from_datetime(t)
            alt = (sat - topos).at(at).altaz()[0].degrees
            sun = (eph["earth"] + topos).at(at).observe(eph["sun"]).apparent().altaz()[0].degrees
            n += len(events) + int(alt > 0) + int(sun > 0)
        return n

    ours()
    peer()
    t_ours = median_time(ours, args.repeat)
    t_peer = median_time(peer, args.repeat)
    verdicts = ours()
    print(f"claims: {len(claims)} (verdicts: "
          + ", ".join(f"{v} {verdicts.count(v)}" for v in sorted(set(verdicts))) + ")")
    print(f"overflight verify_claim : {t_ours / len(claims) * 1e3:7.1f} ms per claim")
    print(f"Skyfield core check     : {t_peer / len(claims) * 1e3:7.1f} ms per claim")
    print(f"ratio overflight/Skyfield: {t_ours / t_peer:.2f}")


if __name__ == "__main__":
    main()
