"""The dashboard in a real browser (Playwright + Debian's Chromium) against the real service:
pick a site and see passes and tracks, check a claim, open a satellite's orbit history, search
the catalog, read the offline API docs. Each test saves a screenshot under test-artifacts/."""

from __future__ import annotations

import re
from typing import Any

from _browser_support import SHARED_DATA, screenshot

START = "2026-05-31T00:00Z"  # the bundled snapshot's epochs are 2026-05-29/30


def _open(page: Any, server_url: str, hash_: str = "") -> None:
    page.goto(f"{server_url}/{hash_}")
    page.wait_for_selector("body[data-ready='1']")


def test_pick_norfolk_and_see_passes_and_tracks(page: Any, server_url: str) -> None:
    _open(page, server_url)
    form = page.locator("#passes-form")
    form.get_by_label("Named site").select_option("Naval Station Norfolk")
    form.get_by_label("Start").fill(START)
    form.get_by_role("button", name="Find passes").click()
    page.wait_for_selector("#passes-table tbody tr")
    summary = page.locator("#passes-summary").inner_text()
    assert "Naval Station Norfolk" in summary
    assert re.search(r"^\d+ passes of \d+ satellites", summary)
    first = page.locator("#passes-table tbody tr").first.locator("td").nth(1).inner_text()
    assert re.fullmatch(r"2026-05-3\d \d\d:\d\d:\d\dZ", first), first
    # Ground tracks of the first passes are drawn on the map, and bars on the timeline.
    page.wait_for_selector("#passes-map[data-tracks]")
    assert page.locator("#passes-map polyline.track").count() >= 1
    assert page.locator("#passes-timeline rect.bar").count() >= 1
    assert page.locator("#passes-map .site-mark").count() == 1
    # The map zooms to the site and its tracks; one button goes back to the whole world.
    assert page.locator("#passes-map").get_attribute("viewBox") != "-180 -90 360 180"
    page.get_by_role("button", name="Show the whole world").click()
    assert page.locator("#passes-map").get_attribute("viewBox") == "-180 -90 360 180"
    page.get_by_role("button", name="Zoom to the tracks").click()
    # A row's own track can be brought forward from the keyboard.
    button = page.locator("#passes-table tbody tr").nth(2).get_by_role("button")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#passes-table tbody tr.focus")
    assert button.get_attribute("aria-pressed") == "true"
    shot = screenshot(page, "dashboard-passes-norfolk", height=1500)
    assert shot.stat().st_size > 10_000


def test_oversize_request_runs_as_background_job(page: Any, server_url: str) -> None:
    _open(page, server_url)
    form = page.locator("#passes-form")
    form.get_by_label("Named site").select_option("Seoul")
    form.get_by_label("Catalog group").select_option("military")
    form.get_by_label("Start").fill(START)
    form.get_by_label("Days").fill("20")  # 23 satellites × 20 days > 400: over this server's cap
    form.get_by_role("button", name="Find passes").click()
    alert = page.locator("#passes-error")
    alert.wait_for()
    assert "request too large" in alert.inner_text()
    page.get_by_role("button", name="Run as a background job").click()
    page.wait_for_selector("#passes-table tbody tr", timeout=60_000)
    assert "of 23 satellites over Seoul" in page.locator("#passes-summary").inner_text()
    assert page.locator("#passes-job-progress").get_attribute("value") in ("1", "1.0")
    screenshot(page, "dashboard-background-job")


def test_map_click_chooses_coordinates(page: Any, server_url: str) -> None:
    _open(page, server_url)
    page.wait_for_selector("#passes-map[data-ready='1']")
    box = page.locator("#passes-map").bounding_box()
    # The map is 360° × 180° (equirectangular): the centre is 0°N 0°E.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lat, lon = (float(v) for v in page.locator("#site-coords").input_value().split(","))
    assert abs(lat) < 2.0 and abs(lon) < 2.0
    assert page.locator("#site-select").input_value() == ""


def test_claim_checker_by_keyboard(page: Any, server_url: str) -> None:
    _open(page, server_url, "#/claims")
    form = page.locator("#claim-form")
    form.get_by_label("Satellite").fill("MALLIGYONG-1")
    form.get_by_label("Target").fill("Rome")
    form.get_by_label("Claimed time").fill("2024-06-09T10:40")
    form.get_by_label("Time zone").fill("Europe/Rome")
    form.get_by_label("Time zone").press("Enter")  # submits the form
    page.wait_for_selector("#claim-result:not([hidden])")
    verdict = page.locator("#claim-verdict").inner_text()
    assert verdict.split(" ")[0] in ("consistent", "inconsistent", "cannot-verify")
    assert page.locator("#claim-reasons li").count() >= 1
    assert "Claimed time" in page.locator("#claim-evidence").inner_text()
    assert page.locator("#claim-map polyline.track").count() >= 1
    # Focus moves to the verdict for screen-reader and keyboard users.
    assert page.evaluate("document.activeElement.id") == "claim-verdict-heading"
    screenshot(page, "dashboard-claim", height=1300)


def test_claim_checker_shows_errors(page: Any, server_url: str) -> None:
    _open(page, server_url, "#/claims")
    form = page.locator("#claim-form")
    form.get_by_label("Satellite").fill("MALLIGYONG-1")
    form.get_by_label("Target").fill("Rome")
    form.get_by_label("Claimed time").fill("2024-06-09T10:40")  # no zone, no offset
    form.get_by_role("button", name="Check the claim").click()
    alert = page.get_by_role("alert").filter(has_text="time")
    alert.wait_for()
    assert "no offset" in alert.inner_text()


def test_satellite_page_shows_orbit_history_chart(page: Any, server_url: str) -> None:
    history = (SHARED_DATA / "celestrak-history-2026-05-24-to-30" / "resource.tle").exists()
    sat = "29228" if history else "58400"  # RESURS-DK 1 has a burn in the week of history
    _open(page, server_url, f"#/sat/{sat}")
    page.wait_for_selector("#sat-chart[data-points]")
    points = int(page.locator("#sat-chart").get_attribute("data-points"))
    assert points >= 3
    assert page.locator("#sat-chart path.perigee").count() == 1
    assert page.locator("#sat-chart path.apogee").count() == 1
    assert page.locator("#sat-chart circle.pt-perigee").count() == points
    if history:
        assert int(page.locator("#sat-chart").get_attribute("data-maneuvers")) >= 1
        assert page.locator("#sat-chart line.maneuver").count() >= 1
        assert page.locator("#sat-maneuvers tbody tr").count() >= 1
    page.wait_for_selector("#sat-map polyline.track")
    assert sat in page.locator("#sat-title").inner_text()
    screenshot(page, "dashboard-satellite", height=1300)


def test_catalog_search_links_to_satellite(page: Any, server_url: str) -> None:
    _open(page, server_url, "#/catalog")
    form = page.locator("#catalog-form")
    form.get_by_label("Name or NORAD id").fill("malligyong")
    form.get_by_label("Name or NORAD id").press("Enter")
    page.wait_for_selector("#catalog-table tbody tr")
    assert "MALLIGYONG-1" in page.locator("#catalog-table").inner_text()
    screenshot(page, "dashboard-catalog")
    page.get_by_role("link", name="MALLIGYONG-1").click()
    page.wait_for_selector("#sat-chart[data-points]")
    assert page.url.endswith("#/sat/58400")


def test_loading_indicator_after_half_a_second(page: Any, server_url: str) -> None:
    _open(page, server_url)
    page.evaluate("startLoading('Testing')")
    assert page.locator("#loading").is_hidden()  # not for quick answers
    page.wait_for_selector("#loading:not([hidden])", timeout=3000)
    assert "Testing" in page.locator("#loading").inner_text()
    page.evaluate("stopLoading()")
    assert page.locator("#loading").is_hidden()


def test_offline_api_docs(page: Any, server_url: str) -> None:
    page.goto(f"{server_url}/docs")
    page.wait_for_selector("body[data-ready='1']")
    text = page.locator("#endpoints").inner_text()
    for path in ("/api/passes", "/api/verify", "/api/catalog/import", "/api/jobs/{job_id}"):
        assert path in text
    screenshot(page, "api-docs")


def test_pages_load_without_a_failed_request(page: Any, server_url: str) -> None:
    """No page asks for /favicon.ico (a 404 and a console error): each names an inline icon."""
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
    for path in ("/", "/exposure", "/docs"):
        page.goto(f"{server_url}{path}")
        page.wait_for_load_state("networkidle")
    assert failed == []
