"""Named sites, coordinates and site files."""

from __future__ import annotations

from pathlib import Path

import pytest

from overflight.sites import SiteError, named_sites, read_sites_file, resolve_site, resolve_sites

REQUIRED = [
    "White House", "Pentagon", "Naval Station Norfolk", "Newport News Shipbuilding",
    "Joint Base Pearl Harbor-Hickam", "Andersen AFB", "Apra Harbor", "Camp Humphreys",
    "Osan AB", "Gunsan AB", "Busan naval base", "Jinhae", "Mokpo", "Seoul", "Rome",
    "Sohae Satellite Launching Station", "Pyongyang General Satellite Control Center",
    "Vostochny Cosmodrome", "Rajin port", "Tumangang-Khasan rail crossing",
    "Komsomolsk-on-Amur aircraft plant",
]


def test_named_sites_complete_with_sources() -> None:
    names = {n.site.name for n in named_sites()}
    assert set(REQUIRED) <= names
    for n in named_sites():
        assert n.source and n.precision_m and n.precision_m > 0


def test_issue_coordinates() -> None:
    gscc = resolve_site("Pyongyang General Satellite Control Center")
    assert (gscc.lat_deg, gscc.lon_deg) == (39.0425, 125.71)
    najin = resolve_site("najin")  # alias, case-insensitive
    assert abs(najin.lat_deg - 42.24) < 0.01 and abs(najin.lon_deg - 130.30) < 0.01


def test_coordinates() -> None:
    s = resolve_site("39.04N,125.71E")
    assert (s.lat_deg, s.lon_deg) == (39.04, 125.71)
    s = resolve_site("-33.9, 151.2, 50")
    assert (s.lat_deg, s.lon_deg, s.alt_m) == (-33.9, 151.2, 50.0)
    with pytest.raises(SiteError, match="latitude"):
        resolve_site("95,10")


def test_unknown_site_suggests() -> None:
    with pytest.raises(SiteError, match="did you mean 'Pentagon'"):
        resolve_site("Pentagn")


def test_site_files(tmp_path: Path) -> None:
    csv = tmp_path / "s.csv"
    csv.write_text("name,lat_deg,lon_deg\nA,10,20\nB,-5,190\n")
    sites = read_sites_file(csv)
    assert [s.site.name for s in sites] == ["A", "B"] and sites[1].site.lon_deg == -170
    gj = tmp_path / "s.geojson"
    gj.write_text('{"type":"FeatureCollection","features":[{"type":"Feature",'
                  '"properties":{"name":"P"},"geometry":{"type":"Point","coordinates":[1,2]}}]}')
    assert read_sites_file(gj)[0].site.lat_deg == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lat_deg,lon_deg\nA,10,20\nB,north,20\n")
    with pytest.raises(SiteError, match=r"bad.csv:3: field 'lat_deg' is not a number"):
        read_sites_file(bad)
    assert len(resolve_sites(["Seoul"], [csv])) == 3
