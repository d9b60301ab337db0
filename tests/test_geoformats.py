"""GeoJSON, KML and CZML of windows with footprints: parsed back and checked structurally
(independent of the writers), plus the CLI wiring (`overflight areas`, `--area`, formats)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from defusedxml import ElementTree

from _cli import run
from overflight.access import Constraints
from overflight.areas import area_windows, resolve_area
from overflight.catalog.formats import read_path
from overflight.footprints import window_footprints
from overflight.geoformats import czml_document, geo_document, geojson_document, kml_document

T0 = datetime(2026, 5, 31, tzinfo=UTC)
KML = "{http://www.opengis.net/kml/2.2}"


def valid_ring(ring: list[list[float]]) -> None:
    """Closed, counter-clockwise (RFC 7946 exterior), not self-intersecting."""
    r = np.asarray(ring, dtype=float)
    assert r.shape[0] >= 4 and np.array_equal(r[0], r[-1])
    x, y = r[:, 0], r[:, 1]
    assert float(np.dot(x[:-1], y[1:]) - np.dot(y[:-1], x[1:])) > 0
    p, q = r[:-1], r[1:]
    n = len(p)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            a, b, c, d = p[i], q[i], p[j], q[j]

            def o(u: Any, v: Any, w: Any) -> float:
                return float((v[0] - u[0]) * (w[1] - u[1]) - (v[1] - u[1]) * (w[0] - u[0]))

            assert not (o(a, b, c) * o(a, b, d) < 0 and o(c, d, a) * o(c, d, b) < 0), (i, j)


@pytest.fixture(scope="module")
def result(shared_data: Path) -> tuple[Any, list[Any], list[Any]]:
    path = shared_data / "celestrak-2026-05-30" / "resource.tle"
    recs = [r for r in read_path(path).records
            if r.name in ("WORLDVIEW-3 (WV-3)", "SENTINEL-2A", "CARTOSAT-2A")]
    area = resolve_area("Sohae")
    c = Constraints(max_off_nadir_deg=30.0)
    wins = area_windows(recs, area, T0, T0 + timedelta(days=2), c)
    assert len(wins) >= 2
    return area, wins, window_footprints(wins, recs, c)


def test_geojson(result: tuple[Any, list[Any], list[Any]]) -> None:
    area, wins, fps = result
    doc = json.loads(geo_document("geojson", area, wins, fps))
    assert doc == json.loads(json.dumps(geojson_document(area, wins, fps)))
    assert doc["type"] == "FeatureCollection"
    target, *feats = doc["features"]
    assert target["properties"]["role"] == "target" and target["properties"]["source"]
    assert target["geometry"]["type"] == "MultiPolygon"
    for poly in target["geometry"]["coordinates"]:
        valid_ring(poly[0])
    assert len(feats) == len(wins)
    for f, w in zip(feats, wins, strict=True):
        p = f["properties"]
        assert {"norad_id", "name", "start", "end", "peak", "gsd_m", "area_fraction"} <= set(p)
        assert p["norad_id"] == w.norad_id and p["start"].endswith("Z")
        assert 0 < p["area_fraction"] <= 1
        assert f["geometry"]["type"] == "Polygon"
        valid_ring(f["geometry"]["coordinates"][0])


def test_kml_is_what_google_earth_reads(result: tuple[Any, list[Any], list[Any]]) -> None:
    area, wins, fps = result
    root = ElementTree.fromstring(kml_document(area, wins, fps).encode())
    assert root.tag == f"{KML}kml"
    doc = root.find(f"{KML}Document")
    assert doc is not None
    marks = doc.findall(f"{KML}Placemark")
    assert len(marks) == 1 + len(wins)
    for pm, w in zip(marks[1:], wins, strict=True):
        span = pm.find(f"{KML}TimeSpan")
        assert span is not None
        assert span.findtext(f"{KML}begin") == w.to_dict()["start"]
        assert span.findtext(f"{KML}end") == w.to_dict()["end"]
        assert pm.findtext(f"{KML}name") and "start" in (pm.findtext(f"{KML}description") or "")
        text = pm.findtext(f"{KML}Polygon/{KML}outerBoundaryIs/{KML}LinearRing/{KML}coordinates")
        assert text
        ring = [[float(v) for v in c.split(",")[:2]] for c in text.split()]
        valid_ring(ring)
    target = marks[0].find(f"{KML}MultiGeometry/{KML}Polygon/{KML}outerBoundaryIs/"
                           f"{KML}LinearRing/{KML}coordinates")
    assert target is not None and target.text


def test_czml_packets(result: tuple[Any, list[Any], list[Any]]) -> None:
    area, wins, fps = result
    packets = json.loads(json.dumps(czml_document(area, wins, fps)))
    assert packets[0]["id"] == "document" and packets[0]["version"] == "1.0"
    a, b = packets[0]["clock"]["interval"].split("/")
    assert a.endswith("Z") and b.endswith("Z") and a < b
    windows = [p for p in packets if p["id"].startswith("window-")]
    assert len(windows) == len(wins)
    assert any(p["id"].startswith("target") and "polygon" in p for p in packets)
    for p, w in zip(windows, wins, strict=True):
        start, end = p["availability"].split("/")
        assert start == w.to_dict()["start"] and end == w.to_dict()["end"]
        pos = p["polygon"]["positions"]["cartographicDegrees"]
        assert len(pos) % 3 == 0 and len(pos) >= 9


def test_cli_areas_and_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(["areas", "-f", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 6 and all(r["source"] and r["precision"] for r in rows)
    base = ["passes", "--sat", "40115", "--start", "2026-05-31T00:00Z", "--days", "2",
            "--max-off-nadir", "30"]
    code, out, err = run([*base, "--area", "najin", "-f", "json"], capsys)
    assert code == 0, err
    rows = json.loads(out)
    assert rows and all(r["area"] == "Najin port" and 0 < r["area_fraction"] <= 1 for r in rows)
    code, out, _ = run([*base, "--area", "najin", "--area-mode", "all"], capsys)
    assert code == 0 and "area %" in out
    code, out, _ = run([*base, "--site", "Rajin port", "-f", "geojson"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["features"][0]["geometry"]["type"] == "Point"
    code, out, _ = run([*base, "--area", "najin", "-f", "kml"], capsys)
    assert code == 0 and ElementTree.fromstring(out.encode()).tag == f"{KML}kml"
    code, out, _ = run(["watch", "--area", "sohae", "--sat", "40115", "--start",
                        "2026-05-31T00:00Z", "-f", "czml"], capsys)
    assert code == 0 and json.loads(out)[0]["id"] == "document"
    code, _, err = run(["watch", "--sat", "40115"], capsys)
    assert code == 2 and "give a site or --area" in err
    bad = tmp_path / "pt.geojson"
    bad.write_text('{"type": "Point", "coordinates": [1, 2]}')
    code, _, err = run([*base, "--area", str(bad)], capsys)
    assert code == 2 and "pt.geojson" in err and len(err.strip().splitlines()) == 1
