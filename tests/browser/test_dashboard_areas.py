"""The dashboard draws area targets: pick a shipped area, see its outline on the map at once,
then the windows over it with each window's footprint and the share of the area in reach."""

from __future__ import annotations

import re
from typing import Any

from _browser_support import screenshot

START = "2026-05-31T00:00Z"  # the bundled snapshot's epochs are 2026-05-29/30


def test_pick_an_area_and_see_outline_and_footprints(page: Any, server_url: str) -> None:
    page.goto(f"{server_url}/")
    page.wait_for_selector("body[data-ready='1']")
    form = page.locator("#passes-form")
    form.get_by_label("or area target").select_option("Najin port")
    # the outline is drawn as soon as the area is chosen, and the map zooms to it
    page.wait_for_selector("#passes-map path.area-outline")
    assert page.locator("#passes-map").get_attribute("viewBox") != "-180 -90 360 180"
    assert page.locator("#site-select").input_value() == ""
    screenshot(page, "dashboard-area-outline")
    # a small request (this server's cap is 400 satellite-site-days; an area counts as 40)
    form.get_by_label("or satellites").fill("WORLDVIEW-3, SENTINEL-2A, LANDSAT 8, COSMO-SKYMED 1")
    form.get_by_label("Start").fill(START)
    form.get_by_label("Days").fill("2")
    form.get_by_label("Imaging").check()
    form.get_by_role("button", name="Find passes").click()
    page.wait_for_selector("#passes-table tbody tr")
    summary = page.locator("#passes-summary").inner_text()
    assert re.search(r"^\d+ passes of \d+ satellites over Najin port", summary), summary
    page.wait_for_selector("#passes-map[data-tracks]")
    assert page.locator("#passes-map path.area-outline").count() == 1
    footprints = page.locator("#passes-map path.footprint")
    assert footprints.count() >= 1
    assert int(page.locator("#passes-map").get_attribute("data-footprints")) >= 1
    d = footprints.first.get_attribute("d")
    assert d.startswith("M") and d.endswith("Z") and d.count("L") > 20
    # the share of the area in reach is in the table (last numeric column before Track)
    cells = page.locator("#passes-table tbody tr").first.locator("td")
    share = cells.nth(cells.count() - 2).inner_text()
    assert re.fullmatch(r"\d{1,3}", share), share
    # focusing a row's track highlights its footprint
    page.locator("#passes-table tbody tr").first.get_by_role("button").click()
    page.wait_for_selector("#passes-map path.footprint.focus")
    shot = screenshot(page, "dashboard-area-najin", height=1100)
    assert shot.stat().st_size > 10_000
