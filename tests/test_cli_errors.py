"""One-line CLI errors name the CLI's options, never the library's argument names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
    (["passes", "--site", "Rome", *TLE, *START, "--max-gsd", "inf"],
     ["--max-gsd", "finite positive"]),
    (["coverage", "--region", "korean-peninsula", *TLE, *START, "--max-gsd", "inf"],
     ["--max-gsd", "finite positive"]),
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
    (["passes", "--site", "Rajin", *TLE, *START, "--imaging", "--kind", "optcal"], ["--kind:"]),
    (["passes", "--site", "Rome", *TLE, "--start", "2026-05-30"],
     ["--start:", "2026-05-30T00:00Z"]),
    (["passes", "--site", "White Hose", *TLE, *START], ["--site NAME", "--sites FILE"]),
    (["watch", "White Hose", *TLE, *START], ["a named site or LAT,LON"]),
    (["verify", "--sat", "58400", "--site", "White Hose", "--time",
      "2023-11-27T23:36:25+09:00"], ["--site:", "--site NAME|LAT,LON"]),
    (["verify", "--sat", "58400", "--site", "Rome", "--time", "2026-05-31 10:15"],
     ["--time:", "--zone"]),
    (["coverage", "--region", "korean-peninsula", *TLE, *START, "--kind", "sar"],
     ["--kind", "--imaging"]),
    # click's own errors (parsing, choices): one line naming the option, no boxed panel
    (["passes", "--group", "resource", "--site", "Seoul", "--days", "abc"],
     ["--days: 'abc' is not a valid number"]),
    (["passes", "--group", "resource", "--site", "Seoul", "-f", "xlsx"],
     ["--format: 'xlsx' is not one of"]),
    (["exposure", "Sohae", "--by", "nation"], ["--by: 'nation' is not one of"]),
    (["passes", "--dayz", "1"], ["--dayz"]),
    (["track", "58400", "--step=x"], ["--step: 'x'"]),
    (["where"], ["Missing argument"]),
    (["history", "58400", "--plot", "/nonexistent-dir/x.png"],
     ["/nonexistent-dir/x.png: No such file or directory"]),
]
# Options a command does not have: never named in its errors (beyond the argument given).
ABSENT = {"verify": ["--sites", "(options:"], "watch": ["--site", "--sites"],
          "passes": ["zone"]}
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
    assert not SNAKE.findall(err.replace("country_kind", "")), err  # a --by value
    for absent in ABSENT.get(args[0], []):
        assert absent not in err.replace(" ".join(args), ""), err
    assert "Usage:" not in err and "╭" not in err, err


def test_first_import_names_no_snapshot(shared_data: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    tle = shared_data / "celestrak-2026-05-30" / "resource.tle"
    code, out, err = run(["catalog", "import", str(tle), "--db", str(tmp_path / "x.db")], capsys)
    assert code == 0, err
    line = next(x for x in (out + err).splitlines() if "seeded" in x)
    assert line.endswith("to start empty: --no-snapshot"), line
    assert "seed_snapshot" not in out + err


def test_help_still_renders(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["passes", "--help"], capsys)
    assert code == 0 and "Usage: overflight passes" in out and "--max-off-nadir" in out
    code, out, _ = run([], capsys)
    assert code == 2 and "Usage: overflight" in out


def test_every_library_argument_has_an_option() -> None:
    """Each argument the library's messages name is an option of some command."""
    import typer.main

    from overflight.cli import app
    from overflight.cli._common import _FLAG_NAMES
    from overflight.errors import ARGUMENTS

    def options(cmd: Any) -> set[str]:
        subs = getattr(cmd, "commands", {}).values()
        own = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
        return own.union(*(options(c) for c in subs))

    known = options(typer.main.get_command(app))
    for name in ARGUMENTS:
        assert _FLAG_NAMES[name].split()[0] in known, name


# Snake-case names in library messages that are not a frontend's options: fields of files
# (sites, sensors, claims, TLE, SATCAT), names that only a programmer meets, and those a
# command maps itself (coverage: spacing_km is --grid-km).
NOT_ARGUMENTS = {
    "lat_deg", "lon_deg", "alt_m", "time_end", "norad_id", "ref_alt_km", "incidence_min_deg",
    "incidence_max_deg", "decay_date", "catalog_number", "sat_index", "site_index",
    "span_start_s", "span_end_s", "sat_itrs_km", "sun_itrs_km", "sun_elevation_deg",
    "chunk_size", "write_element_sets", "write_satcat", "assess_decay", "all_stale_error",
    "shard_satellites", "max_decompressed_bytes", "timeout_s", "spacing_km", "imaging_ended",
}


def test_library_messages_name_only_known_arguments() -> None:
    """Every snake-case name in a library error message (src/overflight outside cli/ and
    server/) is one of errors.ARGUMENTS, which both frontends name in their own words, or
    a file's field or a programmer's name (NOT_ARGUMENTS)."""
    import ast

    import overflight
    from overflight.errors import ARGUMENTS

    root = Path(overflight.__file__).parent
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("cli/", "server/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                for sub in ast.walk(node.exc):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                        for word in SNAKE.findall(sub.value):
                            found.setdefault(word, f"{rel}:{node.lineno}")
    unknown = {w: at for w, at in found.items() if w not in {*ARGUMENTS, *NOT_ARGUMENTS}}
    assert not unknown, unknown


def test_with_flags_keeps_words_and_files() -> None:
    # Plain words are only replaced as a message's head; flags already there stay as they are.
    assert with_flags("days: 400 is longer than 366 days") == "--days: 400 is longer than 366 days"
    assert with_flags("--max-age-days: no") == "--max-age-days: no"
    assert with_flags("x.csv:3: start: bad") == "x.csv:3: start: bad"
    assert with_flags("max_age_days (max age): must be a finite number") == (
        "--max-age-days: must be a finite number")
    assert with_flags("use a larger spacing_km", {"spacing_km": "--grid-km"}) == (
        "use a larger --grid-km")
