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


# ---- what a name was taken as (site_note) ------------------------------------------------------
@pytest.mark.parametrize(("name", "note"), [
    ("Najin port", '"Najin port" is taken as the point site "Rajin port" (an alias); the area '
     'target "Najin port" goes by that name too: for the area use --area "Najin port"'),
    ("Rajin port", '"Rajin port" is taken as the point site of that name; the area target '
     '"Najin port" goes by that name too: for the area use --area "Najin port"'),
    ("Vostochny", '"Vostochny" is taken as the point site "Vostochny Cosmodrome" (an alias)'),
    ("komsomolsk on amur air", '"komsomolsk on amur air" is taken as the point site '
     '"Komsomolsk-on-Amur aircraft plant" (a prefix of its name)'),
    ("Seoul", None), ("white-house", None),  # its own name (case and punctuation ignored)
    ("39.04N,125.71E", None), ("Atlantis", None),  # coordinates; unknown (resolve_site's error)
])
def test_site_note(name: str, note: str | None) -> None:
    from overflight.sites import site_note

    assert site_note(name, area_option="--area") == note
    if note is not None:  # the note names the site the name resolves to
        assert f'"{resolve_site(name).name}"' in note or "of that name" in note


def test_site_note_without_areas_and_with_user_sites() -> None:
    from overflight.geometry import Site
    from overflight.sites import NamedSite, site_note

    assert site_note("najin", areas=False) == (
        '"najin" is taken as the point site "Rajin port" (an alias)')
    assert site_note("Sohae").endswith(  # no option named: the library's own words
        'the area target "Sohae launching station" goes by that name too')
    mine = [NamedSite(Site("Najin", 42.0, 130.0))]  # a user's site of that exact name
    assert resolve_site("Najin", mine).lat_deg == 42.0
    assert site_note("Najin", mine, areas=False) is None


@pytest.mark.parametrize("command", [
    ["passes", "--group", "military", "--site", "SITE", "--site", "Seoul"],
    ["watch", "SITE"],
    ["exposure", "SITE"],
])
def test_cli_notes_what_a_site_name_was_taken_as(command: list[str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tests._cli import run

    def args(site: str) -> list[str]:
        return [site if a == "SITE" else a for a in command] + [
            "--start", "2026-05-31T00:00Z", "--days", "0.1", "-f", "csv"]

    code, _, err = run(args("Najin port"), capsys)
    assert code == 0, err
    notes = [ln for ln in err.splitlines() if ln.startswith("overflight: note: ")]
    assert notes == ['overflight: note: "Najin port" is taken as the point site "Rajin port" '
                     '(an alias); the area target "Najin port" goes by that name too: for the '
                     'area use --area "Najin port"']
    code, _, err = run(args("Busan naval base"), capsys)
    assert code == 0 and "note:" not in err


def test_cli_verify_notes_an_alias_without_areas(capsys: pytest.CaptureFixture[str]) -> None:
    from tests._cli import run

    code, _, err = run(["verify", "--sat", "40115", "--site", "najin", "--time",
                        "2026-05-31T10:15Z", "-f", "json"], capsys)
    assert code == 0, err
    assert 'overflight: note: "najin" is taken as the point site "Rajin port" (an alias)\n' in err
    assert "--area" not in err


def test_an_area_name_given_as_a_site_points_to_the_area() -> None:
    with pytest.raises(SiteError, match=r"area target 'Yongbyon.*area='Yongbyon'"):
        resolve_site("Yongbyon")


def test_cli_names_the_area_option_for_an_area_name() -> None:
    from overflight.cli._common import with_flags

    msg = "'Yongbyon' is not a point site but the area target 'Y': ask for it as an area " \
          "(area='Yongbyon')"
    assert with_flags(msg).endswith("(--area 'Yongbyon')")
