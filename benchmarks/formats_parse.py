"""Element-set parsing speed: overflight.catalog.formats against sgp4's and Skyfield's TLE readers.

    .venv/bin/python benchmarks/formats_parse.py [--repeat 5]

Input: the gzip Starlink history of the shared data (193,263 TLEs of 10,409 objects).
``overflight`` is timed end to end from the gzip bytes (gunzip, sniffing, validation, one
frozen ElementSet per record). The peers get the gunzipped text already split into line pairs
(not timed) and do less: sgp4's ``Satrec.twoline2rv`` parses and initialises SGP4 but checks no
checksum; Skyfield's ``parse_tle_file`` builds an EarthSatellite per record. Also timed: writing
OMM JSON and reading it back. Medians of ``--repeat`` runs; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import gzip
import io
import itertools
from pathlib import Path

from _timing import median_time

from overflight.catalog.formats import parse_bytes, write_elements

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "celestrak-history-2026-05-24-to-30" / "starlink.tle.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()

    raw = args.data.read_bytes()
    text = gzip.decompress(raw)
    lines = text.decode("ascii").splitlines()
    pairs = [
        (a.rstrip(), b.rstrip())
        for a, b in itertools.pairwise(lines)
        if a.startswith("1 ") and b.startswith("2 ")
    ]
    n = len(pairs)
    result = parse_bytes(raw, args.data.name)
    assert len(result.records) == n and not result.errors, (len(result.records), n)

    from sgp4.api import Satrec
    from skyfield.iokit import parse_tle_file

    from overflight.times import timescale

    ts = timescale()

    def ours() -> None:
        parse_bytes(raw, args.data.name)

    def ours_plain_text() -> None:
        parse_bytes(text, args.data.name, "tle")

    def sgp4_twoline2rv() -> None:
        for a, b in pairs:
            Satrec.twoline2rv(a, b)

    def skyfield_parse() -> None:
        for _ in parse_tle_file(io.BytesIO(text), ts):
            pass

    json_text = write_elements(result.records, "omm-json").encode()

    def omm_json_write() -> None:
        write_elements(result.records, "omm-json")

    def omm_json_read() -> None:
        parse_bytes(json_text, "x.json")

    rows = [
        ("overflight parse_bytes (gzip, validated)", median_time(ours, args.repeat)),
        ("overflight parse_bytes (plain text)", median_time(ours_plain_text, args.repeat)),
        ("sgp4 Satrec.twoline2rv (pre-split)", median_time(sgp4_twoline2rv, args.repeat)),
        ("skyfield parse_tle_file", median_time(skyfield_parse, max(1, args.repeat // 2))),
        ("overflight write OMM JSON", median_time(omm_json_write, max(1, args.repeat // 2))),
        ("overflight read OMM JSON", median_time(omm_json_read, max(1, args.repeat // 2))),
    ]
    base = rows[0][1]
    print(f"{n:,} element sets from {args.data.name}, median of {args.repeat} runs")
    for label, seconds in rows:
        print(
            f"  {label:<42} {seconds:7.3f} s  {n / seconds:>10,.0f} rec/s  x{seconds / base:5.2f}"
        )


if __name__ == "__main__":
    main()
