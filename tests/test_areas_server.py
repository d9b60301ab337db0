"""Area targets in the HTTP API: ``/api/areas`` and ``/api/passes`` with ``area``: the outline,
each window's footprint and ``area_fraction``, the same windows as the library; shipped areas
only (no file is read for a client)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from overflight.areas import resolve_area
from overflight.server import create_app
from test_areas import inside

START = "2026-05-31T00:00Z"
SATS = ["WORLDVIEW-3", "SENTINEL-2A", "LANDSAT 8", "COSMO-SKYMED 1"]


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(token="t")) as c:
        yield c


def test_areas_list(client: TestClient) -> None:
    areas = client.get("/api/areas").json()
    assert len(areas) == 6
    najin = next(a for a in areas if a["name"] == "Najin port")
    assert najin["geometry"]["type"] == "MultiPolygon" and najin["source"]
    assert najin["geometry"] == resolve_area("najin").geometry()


@pytest.mark.parametrize("imaging", [False, True])
def test_passes_over_an_area(client: TestClient, imaging: bool) -> None:
    from overflight.passes import checked_constraints, plan_passes

    body = {"sat": SATS, "area": "najin", "start": START, "days": 2, "imaging": imaging,
            "max_off_nadir_deg": 45}
    r = client.post("/api/passes", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    area = resolve_area("Najin port")
    assert d["area"]["name"] == "Najin port" and d["area"]["geometry"] == area.geometry()
    assert [s["name"] for s in d["sites"]] == ["Najin port"] and d["imaging"] is imaging
    ws = d["windows"]
    assert ws and d["count"] == len(ws)
    lat, lon = area.centroid
    plan = plan_passes(sats=SATS, sites=[f"{lat},{lon}"], start=START, days=2,
                       imaging=imaging, constraints=checked_constraints(max_off_nadir_deg=45))
    lib = sorted(plan.area_windows(area), key=lambda w: (w.start, w.norad_id))
    assert [(w["norad_id"], w["start"]) for w in ws] == [
        (w.norad_id, w.to_dict()["start"]) for w in lib]
    for w in ws:
        assert w["area"] == "Najin port" and w["area_mode"] == "any"
        assert 0 < w["area_fraction"] <= 1
        ring = np.asarray(w["footprint"]["coordinates"][0])
        assert w["footprint"]["type"] == "Polygon" and np.array_equal(ring[0], ring[-1])
        # imaging: the footprint is the satellite's own reach, which an 'any' window of a
        # small area (a few km across; footprints tens to hundreds of km wide) falls within
        # (geometric requests: the sensor's reach may be narrower than the request's limit)
        if imaging:
            assert inside(ring.tolist(), np.array([lon]), np.array([lat]))[0], w
    again = client.post("/api/passes", json=body)
    assert again.json() == d
    other = client.post("/api/passes", json={**body, "area_mode": "all"}).json()
    assert all(w["area_mode"] == "all" and w["area_fraction"] == 1 for w in other["windows"])


def test_area_with_sites_and_errors(client: TestClient) -> None:
    r = client.post("/api/passes", json={"sat": SATS[:2], "area": "Sohae", "site": ["Seoul"],
                                         "start": START, "days": 1})
    assert r.status_code == 200, r.text
    d = r.json()
    assert {s["name"] for s in d["sites"]} == {"Seoul", "Sohae launching station"}
    assert {w["site"] for w in d["windows"]} <= {"Seoul", "Sohae launching station"}
    for bad, words in (("/etc/passwd", "unknown area"), ("sohae.geojson", "unknown area"),
                       ("Sohaee", "did you mean")):
        r = client.get("/api/passes", params={"area": bad, "sat": "25544", "start": START})
        assert r.status_code in (400, 404, 422), r.text
        assert words in r.json()["error"] and "\n" not in r.json()["error"]
    r = client.post("/api/passes", json={"group": ["resource"], "area": "najin",
                                         "start": START, "days": 1})
    assert r.status_code == 422 and "an area counts as" in r.json()["error"]
    assert "background job" not in r.json()["error"].split(";")[1]
    r = client.post("/api/jobs/passes", json={"sat": SATS, "area": "najin", "start": START},
                    headers={"Authorization": "Bearer t"})
    assert r.status_code == 422 and "area" in r.json()["error"]
    r = client.post("/api/passes", json={"sat": SATS, "area": "najin", "area_mode": "some",
                                         "start": START})
    assert r.status_code == 422


def test_exposure_of_an_area(client: TestClient) -> None:
    """``GET /api/exposure?area=``: the library's exposure of the area (its sample points),
    the same windows as ``/api/passes?area=`` counts; a site or an area, one of them."""
    import overflight as ovf

    q = {"area": "Yongbyon", "sat": SATS, "start": START, "days": 2}
    r = client.get("/api/exposure", params=q)
    assert r.status_code == 200, r.text
    d = r.json()
    area = resolve_area("Yongbyon")
    lib = ovf.exposure(SATS, area, start=START, days=2).to_dict(by=["country", "kind",
                                                                     "country_kind"])
    assert d["target"] == area.name and d["summary"] == lib["summary"]
    assert d["intervals"] == lib["intervals"]
    listed = client.get("/api/passes", params={**q, "imaging": True}).json()
    assert d["summary"]["windows"] == listed["count"] > 0
    assert client.get("/api/exposure", params=q).json() == d  # cached alike
    for bad in ({**q, "site": "Sohae"}, {"sat": SATS, "start": START}):
        res = client.get("/api/exposure", params=bad)
        assert res.status_code == 422 and "give a site or area" in res.json()["error"], res.text
    res = client.get("/api/exposure", params={**q, "area": "/etc/passwd"})
    assert res.status_code == 422 and "unknown area" in res.json()["error"]
