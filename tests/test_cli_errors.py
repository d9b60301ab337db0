"""One-line CLI errors name the CLI's options, never the library's argument names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from _cli import run
from overflight.cli._common import with_flags

TLE = ["--tle", "resource.tle"]  # placeholder: replaced by the shared file in the test
START = ["--start", "2026-05-31T00:00Z"]
ROME = ["--sat", "58400", "--site", "Rome", "--time", "2026-05-31T00:00Z"]

CASES = [
    (["coverage", "--region", "korean-peninsula", "--grid-km", "0.5", "--no-limit", *TLE,
      *START], ["--grid-km", "--no-limit does not lift"]),
    (["coverage", "--region", "korean-peninsula", "--grid-km", "-1", *TLE, *START],
     ["--grid-km"]),
    (["passes", "--site", "Rome", *TLE, *START, "--days", "-1"], ["--days"]),
    (["passes", "--site", "Rome", *TLE, *START, "--end", "2026-05-30T00:00Z"], ["--start"]),
    (["passes", "--site", "Rome", *TLE, *START, "--min-duration", "nan"], ["--min-duration"]),
    (["passes", "--site", "Rome", *TLE, *START, "--max-gsd", "-1"], ["--max-gsd"]),
    (["passes", "--site", "Rome", *TLE, *START, "--object-type", "blah"], ["--object-type"]),
    (["passes", *TLE, *START], ["--site", "--sites FILE", "--all-sites"]),
    (["exposure", "Rome", *TLE, *START, "--days", "1e9"], ["--days"]),
    (["track", "58400", *START, "--step", "nan"], ["--step"]),
    (["track", "58400", *START, "--step", "0.000001"], ["--step"]),
    (["where", "58400", "--at", "0001-01-01T00:00Z"], ["--at"]),
    (["verify", *ROME, "--max-age-days", "367"], ["--max-age-days"]),
    (["verify", *ROME, "--tolerance", "1e308"], ["--tolerance"]),
    (["verify", *ROME, "--search-hours", "-1"], ["--search-hours"]),
    (["verify", *ROME, "--max-off-nadir", "100"], ["--max-off-nadir"]),
    (["verify", *ROME, "--nadir-gsd", "-1"], ["--nadir-gsd"]),
    (["verify", *ROME, "--time-end", "2026-05-30T00:00Z"], ["--time-end"]),
    (["history", "58400", "--since", "garbage"], ["--since"]),
]
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


@pytest.mark.parametrize(("args", "flags"), CASES, ids=lambda v: " ".join(v)[:60])
def test_errors_name_flags(args: list[str], flags: list[str], shared_data: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    tle = str(shared_data / "celestrak-2026-05-30" / "resource.tle")
    args = [tle if a == "resource.tle" else a for a in args]
    code, _, err = run(args, capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("overflight: error: "), err
    for flag in flags:
        assert flag in err, err
    assert not SNAKE.findall(err), err


def test_with_flags_keeps_words_and_files() -> None:
    # Plain words are only replaced as a message's head; flags already there stay as they are.
    assert with_flags("days: 400 is longer than 366 days") == "--days: 400 is longer than 366 days"
    assert with_flags("--max-age-days: no") == "--max-age-days: no"
    assert with_flags("x.csv:3: start: bad") == "x.csv:3: start: bad"
    assert with_flags("max_age_days (max age): must be a finite number") == (
        "--max-age-days: must be a finite number")
    assert with_flags("use a larger spacing_km", {"spacing_km": "--grid-km"}) == (
        "use a larger --grid-km")
