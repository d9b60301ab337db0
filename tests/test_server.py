"""The HTTP API with FastAPI's test client: every endpoint, the CLI's JSON fields (compared with
the CLI itself on the same catalog), bad inputs and their status codes, the token, errors as
one-line JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from overflight.cli import main
from overflight.server import Limits, create_app

START = "2026-05-31T00:00Z"  # the bundled snapshot's epochs are 2026-05-29/30
NORFOLK = "Naval Station Norfolk"
TOKEN = "test-token-123"


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The app over the bundled snapshot ($OVERFLIGHT_DB points to a file that does not exist:
    tests/conftest.py), the same catalog the CLI sees in these tests."""
    with TestClient(create_app(token=TOKEN)) as c:
        yield c


def cli_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    try:
        main([*args, "-f", "json"])
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def assert_error(resp: Any, status: int, words: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}, body
    assert words in body["error"], body["error"]
    assert "Traceback" not in body["error"] and "\n" not in body["error"]


# ---- info, sites, groups, basemap, pages ------------------------------------------------------
def test_info_reports_catalog_limits_and_writes(client: TestClient) -> None:
    info = client.get("/api/info").json()
    assert info["catalog"].startswith("the bundled snapshot")
    assert info["writes_enabled"] is True
    assert info["limits"]["max_work"] == Limits().max_work
    # Capacity: computations at once (processes, or threads without them).
    assert info["limits"]["compute"] == Limits().compute_threads  # the default: threads
    assert info["limits"]["compute_processes"] == 0
    assert info["limits"]["compute_threads"] == Limits().compute_threads
    assert Limits(compute_processes=3, compute_threads=2).to_dict()["compute"] == 3


def test_sites_and_groups(client: TestClient) -> None:
    sites = client.get("/api/sites").json()
    norfolk = next(s for s in sites if s["name"] == NORFOLK)
    assert norfolk["lat_deg"] == pytest.approx(36.9467) and "source" in norfolk
    groups = {g["group"]: g for g in client.get("/api/groups").json()}
    assert {"resource", "military", "malligyong-1"} <= set(groups)
    assert groups["malligyong-1"]["element_sets"] == 3


def test_dashboard_docs_and_basemap_are_served_offline(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/static/app.js" in page.text
    # Nothing from elsewhere: every src/href is a local path, and the CSP says so too.
    for asset in ("/static/app.js", "/static/style.css", "/static/docs.js", "/static/docs.css"):
        text = client.get(asset).text
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text
    assert "http" not in page.text.replace("http://www.w3.org", "")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/docs.js" in docs.text and "cdn" not in docs.text
    spec = client.get("/openapi.json").json()
    assert {"/api/passes", "/api/verify", "/api/catalog/import", "/api/jobs/passes"} <= set(
        spec["paths"])
    geo = client.get("/api/basemap").json()
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) > 150


@pytest.mark.parametrize("path", ["/", "/exposure", "/docs"])
def test_pages_name_an_inline_icon_the_csp_allows(client: TestClient, path: str) -> None:
    """Each page names its icon inline, so the browser does not ask for /favicon.ico (a 404
    and a console error), and the CSP allows it (img-src data:) without being widened."""
    page = client.get(path)
    assert page.status_code == 200 and '<link rel="icon" href="data:,">' in page.text
    csp = page.headers["content-security-policy"]
    assert "img-src 'self' data:;" in csp and "default-src 'self';" in csp


def test_unknown_route_is_json_404(client: TestClient) -> None:
    assert_error(client.get("/api/nothing-here"), 404, "Not Found")


# ---- catalog ---------------------------------------------------------------------------------
def test_catalog_list_matches_cli(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    page = client.get("/api/catalog", params={"group": "military"}).json()
    rows = cli_json(["catalog", "list", "--group", "military"], capsys)
    assert page["total"] == len(rows) == len(page["items"])
    for api_row, cli_row in zip(page["items"], rows, strict=True):
        assert set(api_row) == set(cli_row)
        assert api_row["age_days"] == pytest.approx(cli_row["age_days"], abs=0.01)
        assert {k: v for k, v in api_row.items() if k != "age_days"} == {
            k: v for k, v in cli_row.items() if k != "age_days"}


def test_catalog_list_name_glob_and_paging(client: TestClient) -> None:
    page = client.get("/api/catalog", params={"name": "*malligyong*"}).json()
    assert [r["norad_id"] for r in page["items"]] == [58400]
    first = client.get("/api/catalog", params={"group": "resource", "limit": 10}).json()
    second = client.get("/api/catalog", params={"group": "resource", "limit": 10,
                                                "offset": 10}).json()
    assert first["total"] == second["total"] == 167
    ids = [r["norad_id"] for r in first["items"] + second["items"]]
    assert len(set(ids)) == 20 and ids == sorted(ids)
    assert_error(client.get("/api/catalog", params={"group": "nope"}), 404, "unknown group 'nope'")
    assert_error(client.get("/api/catalog", params={"limit": 0}), 422, "limit")


def test_catalog_show_matches_cli(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    api = client.get("/api/catalog/58400").json()
    (cli,) = cli_json(["catalog", "show", "58400"], capsys)
    assert set(api) == set(cli)
    assert api["age_days"] == pytest.approx(cli["age_days"], abs=0.01)
    api.pop("age_days"), cli.pop("age_days")
    assert api == cli
    assert api["tle"].startswith("1 58400U")
    by_name = client.get("/api/catalog/malligyong-1").json()
    assert by_name["norad_id"] == 58400


def test_catalog_history_matches_cli(client: TestClient,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    api = client.get("/api/catalog/58400/history").json()
    cli = cli_json(["catalog", "show", "58400", "--history"], capsys)
    assert api["count"] == len(cli) == 3
    for a, c in zip(api["items"], cli, strict=True):
        assert a.pop("age_days") == pytest.approx(c.pop("age_days"), abs=0.01)
        assert a == c
    part = client.get("/api/catalog/58400/history",
                      params={"start": "2024-06-10T00:00Z", "end": "2024-06-30T00:00Z"}).json()
    assert part["count"] == 1 and part["items"][0]["epoch"].startswith("2024-06-12")


@pytest.mark.parametrize("url", ["/api/catalog/99999", "/api/catalog/NO%20SUCH%20SAT",
                                 "/api/catalog/99999/history", "/api/history?sat=99999",
                                 "/api/maneuvers?sat=99999", "/api/track?sat=99999"])
def test_unknown_satellite_is_404(client: TestClient, url: str) -> None:
    assert_error(client.get(url), 404, "99999" if "99999" in url else "NO SUCH SAT")


def test_ambiguous_satellite_is_422(client: TestClient) -> None:
    assert_error(client.get("/api/catalog/SENTINEL"), 422, "ambiguous")


# ---- passes and watch -----------------------------------------------------------------------
def test_passes_match_cli_json(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    params = {"group": "military", "site": NORFOLK, "start": START, "days": 1,
              "min_elevation_deg": 10}
    resp = client.get("/api/passes", params=params)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    rows = cli_json(["passes", "--group", "military", "--site", NORFOLK, "--start", START,
                     "--days", "1", "--min-elevation", "10"], capsys)
    assert data["windows"] == rows and data["count"] == len(rows) > 0
    assert data["satellites"] == 23 and data["work"] == pytest.approx(23.0)
    assert data["start"] == "2026-05-31T00:00:00Z" and data["end"] == "2026-06-01T00:00:00Z"
    assert data["sites"] == [{"name": NORFOLK, "lat_deg": 36.9467, "lon_deg": -76.3136,
                              "alt_m": 5.0}]
    assert data["warnings"] == []
    # The same request as a JSON body; the second time it comes from the cache.
    body = {"group": ["military"], "site": [NORFOLK], "start": START, "days": 1,
            "min_elevation_deg": 10}
    again = client.post("/api/passes", json=body)
    assert again.json() == data and again.headers["x-overflight-cache"] == "hit"


def test_passes_coordinates_satellites_and_constraints(client: TestClient) -> None:
    resp = client.post("/api/passes", json={
        "sat": ["58400"], "site": ["39.0392,125.7625"], "start": "2024-06-08T00:00Z",
        "end": "2024-06-10T00:00Z", "max_off_nadir_deg": 30, "sun_min_deg": 0})
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert data["sites"][0]["name"] == "39.0392,125.7625"
    assert data["count"] >= 1
    for w in data["windows"]:
        assert w["norad_id"] == 58400 and w["min_off_nadir_deg"] <= 30 + 1e-6
        assert w["sun_elevation_deg"] >= -1e-6 and w["gsd_m"] is not None
    assert any("days from the requested times" not in x for x in data["warnings"]) or True


def test_passes_warn_about_stale_element_sets(client: TestClient) -> None:
    data = client.get("/api/passes", params={"sat": "40115", "site": NORFOLK,
                                             "start": "2026-06-07T00:00Z"}).json()
    assert data["warnings"] and "days from the requested times" in data["warnings"][0]
    # Malligyong-1's bundled sets are from 2024: nothing usable is an error, as in the CLI.
    refused = client.get("/api/passes", params={"sat": "58400", "site": NORFOLK,
                                                "start": START})
    assert_error(refused, 422, "the element set of MALLIGYONG-1 (58400) is older than 14 days")


def test_watch_defaults_to_resource_group_and_45_deg(client: TestClient) -> None:
    data = client.get("/api/watch", params={"site": NORFOLK, "start": START,
                                            "imaging": False}).json()
    assert data["satellites"] == 167 and data["count"] > 0
    assert all(w["min_off_nadir_deg"] <= 45 + 1e-6 for w in data["windows"])
    starts = [w["start"] for w in data["windows"]]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"group": "military", "site": NORFOLK, "start": "yesterday"}, 422, "start: not an ISO"),
        ({"group": "military", "site": NORFOLK, "start": "2026-05-31T00:00"}, 422, "no offset"),
        ({"group": "military", "site": NORFOLK, "end": "2026-13-01T00:00Z"}, 422, "end:"),
        ({"group": "military", "site": NORFOLK, "start": START, "end": "2026-05-30T00:00Z"},
         422, "not before"),
        ({"group": "military", "site": NORFOLK, "days": 1, "end": "2026-06-01T00:00Z"},
         422, "not both"),
        ({"group": "military", "site": NORFOLK, "days": -1}, 422, "days"),
        ({"group": "military", "site": NORFOLK, "days": "many"}, 422, "days"),
        ({"group": "military", "site": NORFOLK, "days": "inf"}, 422,
         "days: Input should be a finite"),
        ({"group": "military", "site": NORFOLK, "days": "nan"}, 422, "days"),
        ({"group": "military", "site": NORFOLK, "days": "1e9"}, 422,
         "days: Input should be less than or equal to 366"),
        ({"group": "military", "site": NORFOLK, "start": "2060-01-01T00:00Z"}, 422,
         "start: 2060-01-01 is outside"),
        ({"group": "military", "site": NORFOLK, "start": START, "end": "2027-07-01T00:00Z"},
         422, "end: the interval of"),
        ({"group": "military", "site": NORFOLK, "min_elevation_deg": 95}, 422, "elevation"),
        ({"group": "military", "site": NORFOLK, "sun_min_deg": 20, "sun_max_deg": 10},
         422, "empty"),
        ({"group": "military", "site": "Atlantis"}, 422, "unknown site"),
        ({"group": "military", "site": "91,10"}, 422, "latitude"),
        ({"group": "military"}, 422, "site"),
        ({"site": NORFOLK}, 422, "give sat"),
        ({"group": "nope", "site": NORFOLK}, 404, "unknown group 'nope'"),
        ({"sat": "99999", "site": NORFOLK}, 404, "99999"),
        ({"group": "military", "site": NORFOLK, "colour": "red"}, 422, "colour"),
        ({"group": "geo", "site": NORFOLK, "start": START, "days": 7}, 422, "background job"),
    ],
)
def test_passes_bad_inputs(client: TestClient, params: dict[str, Any], status: int,
                           words: str) -> None:
    assert_error(client.get("/api/passes", params=params), status, words)


LIBRARY_NAMES = ("site_files", "all_sites", "kinds", "object_types", "sats", "groups",
                 "imaging=True", "--")


@pytest.mark.parametrize(
    ("url", "params", "words"),
    [
        ("/api/passes", {"site": "Rajn", "group": "resource", "start": START, "days": 1},
         "(give a named site, GET /api/sites, or LAT,LON[,ALT_M])"),
        ("/api/passes", {"group": "resource", "start": START, "days": 1},
         "site: give at least one site (a named site or LAT,LON) or an area"),
        ("/api/passes", {"site": "Seoul", "group": "resource", "start": START, "days": 1,
                         "imaging": "true", "kind": "optcal"}, "kind: 'optcal' is not one of"),
        ("/api/passes", {"site": "Seoul", "group": "resource", "start": START, "days": 1,
                         "object_type": "blah"}, "object_type: 'blah'"),
        ("/api/passes", {"site": "Seoul", "group": "resource", "start": "2026-05-31"},
         "start: time '2026-05-31' has no offset; add Z for UTC or an offset, e.g. "
         "2026-05-31T00:00Z"),
        ("/api/watch", {"site": "Rajn", "start": START}, "GET /api/sites"),
        ("/api/exposure", {"site": "Rajn", "start": START}, "GET /api/sites"),
        ("/api/maneuvers", {}, "give sat or group"),
    ],
)
def test_errors_name_api_parameters(client: TestClient, url: str, params: dict[str, Any],
                                    words: str) -> None:
    """Library errors name the API's query parameters, never the library's arguments."""
    resp = client.get(url, params=params)
    assert_error(resp, 422, words)
    for name in LIBRARY_NAMES:
        assert name not in resp.json()["error"], resp.json()["error"]


def test_every_library_argument_is_an_api_parameter(client: TestClient) -> None:
    """Each argument the library's messages name is an API parameter or body field, as
    the server words it (``API_NAMES``, else the library's own name)."""
    from overflight.errors import ARGUMENTS
    from overflight.server.service import API_NAMES

    spec = client.get("/openapi.json").json()
    known = {p["name"] for path in spec["paths"].values() for op in path.values()
             for p in op.get("parameters", [])}
    known |= {f for schema in spec["components"]["schemas"].values()
              for f in schema.get("properties", {})}
    only_cli = {"max_altitude_km"}  # coverage: no endpoint
    for name in set(ARGUMENTS) - only_cli:
        assert API_NAMES.get(name, name) in known, name


@pytest.mark.parametrize("days", ["inf", "1e9"])
def test_bad_days_are_422_everywhere(client: TestClient, days: str) -> None:
    assert_error(client.get("/api/watch", params={"site": NORFOLK, "days": days}), 422, "days")
    # JSON has no inf: the bodies carry a huge number instead.
    body = {"group": ["military"], "site": [NORFOLK], "start": START, "days": 1e9}
    assert_error(client.post("/api/jobs/passes", json=body), 422, "days: Input should be less")
    assert_error(client.post("/api/passes", json=body), 422, "days: Input should be less")


def test_oversize_request_explains_the_limit(client: TestClient) -> None:
    resp = client.post("/api/passes", json={"group": ["geo"], "site": [NORFOLK, "Seoul"],
                                            "start": START, "days": 2})
    msg = resp.json()["error"]
    assert resp.status_code == 422
    assert "573 satellites × 2 sites × 2 days = 2,292 satellite-site-days" in msg
    assert "at most 2,000" in msg and "POST /api/jobs/passes" in msg


def test_malformed_json_body_is_422(client: TestClient) -> None:
    resp = client.post("/api/passes", content=b"{not json",
                       headers={"Content-Type": "application/json"})
    assert_error(resp, 422, "JSON")
    assert_error(client.post("/api/passes", json=["a", "list"]), 422, "")


# ---- track, history, maneuvers ---------------------------------------------------------------
def test_track_matches_cli(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    params = {"sat": "58400", "start": "2024-06-09T10:00Z", "end": "2024-06-09T11:00Z",
              "step_s": 300}
    data = client.get("/api/track", params=params).json()
    rows = cli_json(["track", "58400", "--start", "2024-06-09T10:00Z", "--end",
                     "2024-06-09T11:00Z", "--step", "300"], capsys)
    assert data["points"] == rows and len(rows) == 13
    assert data["norad_id"] == 58400 and data["elset_epoch"].startswith("2024-06-07")
    one_orbit = client.get("/api/track", params={"sat": "58400",
                                                 "start": "2024-06-09T10:00Z"}).json()
    assert one_orbit["end"] == "2024-06-09T11:34:41Z"  # one period (94.68 min) later


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"sat": "58400", "step_s": 0}, "step_s"),
        ({"sat": "58400", "start": "2024-06-09T10:00Z", "end": "2024-06-09T09:00Z"}, "not before"),
        ({"sat": "58400", "start": "2024-06-01T00:00Z", "end": "2024-07-01T00:00Z",
          "step_s": 1}, "points"),
        ({"sat": "58400", "start": "soon"}, "start:"),
        ({}, "sat"),
    ],
)
def test_track_bad_inputs(client: TestClient, params: dict[str, Any], words: str) -> None:
    assert_error(client.get("/api/track", params=params), 422, words)


def test_orbit_history_matches_cli(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    hist = client.get("/api/history", params={"sat": "MALLIGYONG-1"}).json()
    assert hist == cli_json(["history", "MALLIGYONG-1"], capsys)
    assert hist["norad_id"] == 58400 and hist["element_sets"] == 3
    epochs = [s["epoch"] for s in hist["history"]]
    assert epochs == sorted(epochs)
    for s in hist["history"]:
        assert 450 < s["perigee_alt_km"] <= s["apogee_alt_km"] < 560
    part = client.get("/api/history", params={"sat": "58400", "start": "2024-06-10T00:00Z"})
    assert part.json()["element_sets"] == 2
    assert_error(client.get("/api/history", params={"sat": "58400", "start": "x"}), 422,
                 "start:")
    assert_error(client.get("/api/history", params={"sat": "58400",
                                                    "start": "2030-01-01T00:00Z"}),
                 404, "no element sets")


def test_maneuvers_of_a_group_match_cli(client: TestClient,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    data = client.get("/api/maneuvers", params={"group": "military"}).json()
    assert data["objects"] == 23 and data["element_sets"] == 23
    assert data == cli_json(["maneuvers", "--group", "military"], capsys)
    # One element set each: "not enough history", never "no maneuvers".
    assert data["maneuvers"] == [] and data["status"] == "not-enough-history"
    assert data["status_counts"]["not-enough-history"] == 23
    assert_error(client.get("/api/maneuvers"), 422, "give sat or group")
    assert_error(client.get("/api/maneuvers", params={"sat": "58400", "threshold": 0}), 422,
                 "threshold")
    assert_error(client.get("/api/maneuvers", params={"sat": "58400", "station": "Atlantis"}),
                 422, "unknown site")


def test_maneuvers_in_real_history_match_cli(tmp_path: Path, shared_data: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from overflight.catalog import Catalog

    src = shared_data / "celestrak-history-2026-05-24-to-30" / "resource.tle"
    db = tmp_path / "history.db"
    with Catalog.open(db, create=True) as cat:
        cat.import_sources([str(src)], group="resource")
    with TestClient(create_app(db)) as c:
        one = c.get("/api/maneuvers", params={"sat": "29228", "station": "78.23,15.39"}).json()
        group = c.get("/api/maneuvers", params={"group": "resource"}).json()
        hist = c.get("/api/history", params={"sat": "29228"}).json()
    assert one["maneuvers"] and one == cli_json(
        ["maneuvers", "--sat", "29228", "--station", "78.23,15.39", "--db", str(db)], capsys)
    assert "passes" in one["maneuvers"][0]
    assert group == cli_json(["maneuvers", "--group", "resource", "--db", str(db)], capsys)
    assert group["objects"] == 167 and len(group["maneuvers"]) > 5
    assert hist == cli_json(["history", "29228", "--db", str(db)], capsys)
    assert hist["maneuvers"] and hist["element_sets"] >= 18


# ---- claims -------------------------------------------------------------------------------------
ROME = {"satellite": "MALLIGYONG-1", "target": "Rome", "time": "2024-06-09T10:40",
        "zone": "Europe/Rome"}


def test_verify_matches_cli(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    resp = client.post("/api/verify", json={"claims": [ROME], "include_track": True})
    assert resp.status_code == 200, resp.text
    (result,) = resp.json()["results"]
    cli = cli_json(["verify", "--sat", "MALLIGYONG-1", "--site", "Rome", "--time",
                    "2024-06-09T10:40", "--zone", "Europe/Rome", "--id", "claim-1"], capsys)
    track = result.pop("track")
    cli[0]["origin"] = result["origin"]  # "claims[0]" here, "command line" there
    assert result == cli[0]
    assert result["verdict"] in ("consistent", "inconsistent")
    # The map track: ±25 min every 20 s around the claimed time.
    assert len(track) == 151 and track[0]["time"] == "2024-06-09T08:15:00Z"


def test_verify_far_from_element_sets_is_cannot_verify(client: TestClient) -> None:
    """POST /api/verify with max_age_days 300: the 2023 claim against the 2024 sets is
    cannot-verify with the finding, and the stale sets are in warnings; a fresh one is not."""
    claim = {"satellite": "58400", "target": "White House",
             "time": "2023-11-27T23:36:25+09:00"}
    data = client.post("/api/verify", json={"claims": [claim], "max_age_days": 300}).json()
    (row,) = data["results"]
    assert (row["verdict"], row["confidence"], row["findings"]) == (
        "cannot-verify", None, ["elset-too-old"])
    assert data["data_needed"] and "within 7 days" in data["data_needed"][0]
    assert len(data["warnings"]) == 1 and "up to 193 days" in data["warnings"][0]
    fresh = client.post("/api/verify", json={"claims": [ROME]}).json()
    assert fresh["warnings"] == [] and fresh["results"][0]["findings"] == []


def test_verify_claims_file_text_with_error_rows(client: TestClient) -> None:
    text = (
        "claims:\n"
        "  - {id: rome, satellite: '58400', target: Rome, time: '2024-06-09T08:40:00Z'}\n"
        "  - {id: bad, satellite: '58400', target: Atlantis, time: '2024-06-09T08:40:00Z'}\n"
        "  - {id: old, satellite: '58400', target: Rome, time: '2023-11-27T23:36:25+09:00'}\n"
    )
    data = client.post("/api/verify", json={"text": text}).json()
    verdicts = {r["claim_id"]: r["verdict"] for r in data["results"]}
    assert verdicts["bad"] == "error" and verdicts["old"] == "cannot-verify"
    assert verdicts["rome"] in ("consistent", "inconsistent")
    assert data["data_needed"] and "58400" in data["data_needed"][0]
    assert all(r["track"] is None for r in data["results"])
    csv_text = "id,satellite,target,time\nr,58400,Rome,2024-06-09T08:40:00Z\n"
    rows = client.post("/api/verify", json={"text": csv_text, "kind": "csv"}).json()["results"]
    assert rows[0]["claim_id"] == "r"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"claims": [{**ROME, "zone": None}]}, "no offset"),
        ({"claims": [{**ROME, "target": "Atlantis"}]}, "unknown site"),
        ({"claims": [{**ROME, "time": "last tuesday"}]}, "not an ISO 8601 time"),
        ({"claims": [{**ROME, "zone": "Mars/Olympus"}]}, "unknown time zone"),
        ({"claims": [{**ROME, "colour": "red"}]}, "colour"),
        ({"claims": [{"target": "Rome", "time": "2024-06-09T08:40Z"}]}, "satellite"),
        ({"claims": []}, "empty"),
        ({}, "one of them"),
        ({"claims": [ROME], "text": "x"}, "one of them"),
        ({"text": "just: [a, mapping"}, "not valid YAML"),
        ({"claims": [ROME], "search_hours": 100}, "search_hours"),
        ({"claims": [{**ROME, "id": "a"}, {**ROME, "id": "a"}]}, "duplicate"),
    ],
)
def test_verify_bad_inputs(client: TestClient, body: dict[str, Any], words: str) -> None:
    assert_error(client.post("/api/verify", json=body), 422, words)


def test_verify_unknown_satellite_is_a_verdict(client: TestClient) -> None:
    data = client.post("/api/verify", json={"claims": [{**ROME, "satellite": "99999"}]}).json()
    assert data["results"][0]["verdict"] == "cannot-verify"


# ---- import (token) ---------------------------------------------------------------------------
def _tle(name: str) -> str:
    from overflight.catalog import snapshot_paths

    return next(p for p in snapshot_paths() if p.stem == name).read_text()


def test_import_needs_the_token(client: TestClient) -> None:
    body = {"data": _tle("stations"), "group": "mine"}
    resp = client.post("/api/catalog/import", json=body)
    assert_error(resp, 401, "missing token")
    assert resp.headers["www-authenticate"] == "Bearer"
    assert_error(client.post("/api/catalog/import", json=body,
                             headers={"Authorization": "Bearer wrong"}), 403, "bad token")
    assert_error(client.post("/api/catalog/import", json=body,
                             headers={"Authorization": f"Basic {TOKEN}"}), 403, "bad token")
    # Nothing was written: the snapshot is still served.
    assert "mine" not in {g["group"] for g in client.get("/api/groups").json()}


def test_writes_disabled_without_a_configured_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERFLIGHT_TOKEN", raising=False)
    with TestClient(create_app()) as c:
        assert c.get("/api/info").json()["writes_enabled"] is False
        resp = c.post("/api/catalog/import", json={"data": "x", "group": "g"},
                      headers={"Authorization": "Bearer anything"})
        assert_error(resp, 403, "writes are disabled")


def test_import_stores_element_sets_and_serves_them(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    text = _tle("stations")
    resp = client.post("/api/catalog/import", json={"data": text, "group": "mine"},
                       headers=auth)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["stored"] and out["new"] == out["received"] > 20 and out["rejected"] == 0
    # The catalog database now exists and holds only what was imported (no snapshot).
    groups = {g["group"] for g in client.get("/api/groups").json()}
    assert groups == {"mine"}
    assert client.get("/api/info").json()["catalog"].startswith("the catalog at ")
    again = client.post("/api/catalog/import", json={"data": text, "group": "mine"},
                        headers=auth).json()
    assert again["new"] == 0 and again["duplicates"] == again["received"]
    # With the snapshot included, the bundled groups come back.
    more = client.post("/api/catalog/import",
                       json={"data": _tle("military"), "group": "mil", "include_snapshot": True},
                       headers=auth).json()
    assert more["stored"]
    assert {"mine", "mil", "resource"} <= {g["group"] for g in client.get("/api/groups").json()}


def test_import_reports_bad_records(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    lines = _tle("military").splitlines()
    broken = "\n".join([*lines[:3], lines[3], lines[4][:-1] + "0", lines[5]]) + "\n"
    out = client.post("/api/catalog/import", json={"data": broken, "group": "m"},
                      headers=auth).json()
    assert out["stored"] and out["new"] == 1 and out["rejected"] == 1
    assert "request:" in out["errors"][0] and "checksum" in out["errors"][0]
    strict = client.post("/api/catalog/import", json={"data": broken, "group": "m2",
                                                      "strict": True}, headers=auth).json()
    assert strict["stored"] is False
    assert_error(client.post("/api/catalog/import", json={"data": "nonsense", "group": "m"},
                             headers=auth), 422, "no valid element sets")
    assert_error(client.post("/api/catalog/import", json={"data": broken, "group": "../etc"},
                             headers=auth), 422, "group")
    assert_error(client.post("/api/catalog/import",
                             json={"data": broken, "group": "m", "input_format": "pdf"},
                             headers=auth), 422, "unknown element-set format")
    assert_error(client.post("/api/catalog/import", json={"path": "/etc/passwd", "group": "m"},
                             headers=auth), 422, "path")
