"""The exposure page in a real browser (Playwright + Debian's Chromium) against the real
service: choose a site, see the summary, the timeline (one row per country × kind, gaps
shaded) and the tables; nothing is loaded from elsewhere (the page fixture fails otherwise)."""

from __future__ import annotations

import re
from typing import Any

from _browser_support import screenshot

START = "2026-05-31T00:00Z"  # the bundled snapshot's epochs are 2026-05-29/30


def test_exposure_of_rajin_port(page: Any, server_url: str) -> None:
    page.goto(f"{server_url}/exposure")
    page.wait_for_selector("body[data-ready='1']")
    form = page.locator("#exp-form")
    form.get_by_label("Site").fill("Rajin port")
    form.get_by_label("Start").fill(START)
    form.get_by_label("Days").fill("0.5")
    form.get_by_role("button", name="Show exposure").click()
    page.wait_for_selector("#exp-intervals tbody tr")
    summary = page.locator("#exp-summary").inner_text()
    assert re.search(r"^Rajin port: exposed \d+\.\d\d% of the time by \d+ satellites", summary)
    rows = int(page.locator("#exp-timeline").get_attribute("data-rows"))
    assert rows >= 2
    assert page.locator("#exp-timeline rect.exp-on").count() >= 1
    assert page.locator("#exp-timeline rect.exp-longest").count() == rows
    assert page.locator("#exp-gaps tbody tr").count() >= 1
    assert page.locator("#exp-by-country tbody tr").count() >= 1
    shot = screenshot(page, "dashboard-exposure-rajin", height=1400)
    assert shot.stat().st_size > 10_000


def test_exposure_error_is_one_line(page: Any, server_url: str) -> None:
    page.goto(f"{server_url}/exposure")
    page.wait_for_selector("body[data-ready='1']")
    page.locator("#exp-site").fill("Nowhere at all")
    page.get_by_role("button", name="Show exposure").click()
    page.wait_for_selector("#exp-error:not([hidden])")
    assert "Nowhere" in page.locator("#exp-error").inner_text()
