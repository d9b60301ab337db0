"""`overflight coverage` and `overflight regions` from the command line: formats, labels of
hypothetical satellites, a Dask scheduler, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _cli import run

# Four imaging satellites of the bundled catalog over the Russia–DPRK border box, 20 km grid.
BASE = ["coverage", "--region", "tumen", "--grid-km", "20", "--start", "2026-05-31T00:00Z",
        "--days", "1", "--sat", "40115", "--sat", "40536", "--sat", "38338", "--sat", "41601",
        "--max-off-nadir", "40"]


def test_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(BASE, capsys)
    assert code == 0
    assert "russia-dprk-border" in out and "max gap incl. edges (h) p50" in out
    assert "off-nadir ≤ 40°" in out and "HYPOTHETICAL satellites" not in out


def test_json_with_hypothetical_satellites(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([*BASE, "--add-sso", "500:10.5:2", "--add-orbit", "600:45:120",
                        "-f", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["region"]["name"] == "russia-dprk-border" and doc["grid_km"] == 20.0
    assert doc["grid_points"] == doc["summary"]["points"] == len(doc["points"]) > 10
    assert doc["satellites"] == 7 and doc["summary"]["hypothetical_satellites"] == 3
    assert sorted(doc["norad_ids"]) == [38338, 40115, 40536, 41601]
    assert [h["norad_id"] for h in doc["hypothetical"]] == [900000, 900001, 900002]
    assert all(h["name"].startswith("HYPOTHETICAL-") and h["hypothetical"]
               for h in doc["hypothetical"])
    assert doc["constraints"]["max_off_nadir_deg"] == 40.0


def test_compare_json_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*BASE, "--add-walker", "500:sso:4/2/1", "--compare"]
    code, out, _ = run([*args, "-f", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["baseline"]["hypothetical"] == []
    assert len(doc["with_added"]["hypothetical"]) == 4
    assert doc["difference"]["satellites"] == 4
    base, more = doc["baseline"]["points"], doc["with_added"]["points"]
    assert all(m["max_gap_s"] <= b["max_gap_s"] for b, m in zip(base, more, strict=True))
    code, out, _ = run(args, capsys)
    assert code == 0 and "baseline" in out and "HYPOTHETICAL" in out and "change" in out


def test_geojson(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "cov.geojson"
    code, out, err = run([*BASE, "--add-sso", "550:13.5", "-f", "geojson", "-o", str(out_file)],
                         capsys)
    assert code == 0 and out == "" and f"wrote {out_file}" in err
    doc = json.loads(out_file.read_text())
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == doc["grid_points"]
    props = doc["features"][0]["properties"]
    assert {"accesses", "max_gap_s", "revisit_mean_s", "coverage_fraction"} <= set(props)
    assert doc["hypothetical"][0]["name"].startswith("HYPOTHETICAL-SSO-550KM-1330")


@pytest.mark.parametrize("compare", [False, True])
def test_png(capsys: pytest.CaptureFixture[str], tmp_path: Path, compare: bool) -> None:
    out_file = tmp_path / "cov.png"
    extra = ["--add-sso", "500:10.5", "--compare"] if compare else []
    code, out, err = run([*BASE, *extra, "-f", "png", "-o", str(out_file)], capsys)
    assert code == 0 and out == "" and f"wrote {out_file}" in err
    assert out_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scheduler_gives_the_same_json(capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed")
    args = [*BASE, "--add-sso", "500:10.5", "-f", "json"]
    code, single, _ = run([*args, "--workers", "1"], capsys)
    assert code == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        code, remote, _ = run([*args, "--scheduler", cluster.scheduler_address], capsys)
    assert code == 0
    assert json.loads(remote) == json.loads(single)


def test_regions_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["regions", "-f", "json"], capsys)
    assert code == 0
    names = {r["name"] for r in json.loads(out)}
    assert {"korean-peninsula", "russia-dprk-border"} <= names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "atlantis"], "unknown region 'atlantis'"),
        (["--region", "tumen", "--grid-km", "0"], "grid spacing must be a positive"),
        (["--region", "tumen", "--grid-km", "-3"], "grid spacing must be a positive"),
        (["--region", "tumen", "--add-sso", "500"], "--add-sso '500': expected ALT_KM:LTAN"),
        (["--region", "tumen", "--add-sso", "500:99"], "--add-sso '500:99'"),
        (["--region", "tumen", "--add-walker", "500:53:5/2/1"], "--add-walker"),
        (["--region", "tumen", "--compare"], "--compare needs hypothetical satellites"),
        (["--region", "tumen", "--workers", "0"], "--workers must be at least 1"),
        (["--region", "tumen", "--max-off-nadir", "95"], "off-nadir"),
        (["--region", "tumen", "--days", "400"], "longer than 366 days"),
        (["--region", "tumen", "--sat", "NO SUCH SAT"], "no satellite matching"),
        (["--region", "tumen", "--max-altitude", "100"], "apogee below 100 km"),
    ],
)
def test_one_line_errors(capsys: pytest.CaptureFixture[str], args: list[str],
                         message: str) -> None:
    code, _, err = run(["coverage", "--start", "2026-05-31T00:00Z", *args], capsys)
    assert code == 2
    assert err.startswith("overflight: error: ") and err.count("\n") == 1
    assert message in err and "Traceback" not in err


def test_malformed_geojson_error_names_the_file(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    bad = tmp_path / "aoi.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [\n  {"type": "Feature",')
    code, _, err = run(["coverage", "--region", str(bad)], capsys)
    assert code == 2 and str(bad) in err and "not valid JSON" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("filters", [["--kind", "optical", "--max-gsd", "1"], []])
def test_compare_with_sensorless_added_satellites_names_the_remedy(
        filters: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Added satellites left out for want of a sensor entry: the one line says so, counts
    their own reasons (not the whole fleet's), and names --hypothetical-gsd, which fixes it."""
    args = [*BASE, "--imaging", *filters, "--add-sso", "500:10.5:3", "--compare"]
    code, out, err = run(args, capsys)
    assert code == 2 and out == ""
    (line,) = [ln for ln in err.strip().splitlines() if "warning" not in ln]
    assert line.startswith("overflight: error: no added satellite left to compare (3 added, ")
    assert "no sensor entry: 3" in line or "not in the sensor table: 3" in line, line
    assert "--hypothetical-gsd M" in line and "sensors)" not in line, line
    code, out, err = run([*args, "--hypothetical-gsd", "0.5"], capsys)
    assert code == 0, err


def test_compare_with_added_satellites_filtered_by_resolution(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([*BASE, "--imaging", "--max-gsd", "1", "--add-sso", "500:10.5:3",
                        "--compare", "--hypothetical-gsd", "3"], capsys)
    assert code == 2 and "(3 added, left out by reason: filtered out: best resolution" in err
    assert "--hypothetical-gsd M" not in err
