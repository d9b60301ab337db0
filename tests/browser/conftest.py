"""Browser tests: the dashboard served by uvicorn on loopback, driven by Playwright + Debian's
Chromium (never a browser downloaded by Playwright). Skipped, with the reason, when Chromium or
Playwright is missing. Screenshots go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _browser_support import CHROMIUM, CHROMIUM_ARGS, build_catalog


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the app (uvicorn, one worker, a thread of this process, ephemeral port)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (make test does)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    import uvicorn

    from overflight.server import Limits, create_app

    db = tmp_path_factory.mktemp("service") / "catalog.db"
    build_catalog(db)
    # A small work cap, so that a quick request already needs a background job.
    app = create_app(db, token="browser-test-token", limits=Limits(max_work=400))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def browser(server_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server_url: str) -> Iterator[Any]:
    """A fresh page (1366×900, a laptop screen) that fails the test on any request leaving
    this server, and on JavaScript errors."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = context.new_page()
    outside: list[str] = []
    errors: list[str] = []

    def on_request(request: Any) -> None:
        if not request.url.startswith(server_url) and not request.url.startswith("data:"):
            outside.append(request.url)

    pg.on("request", on_request)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.set_default_timeout(30_000)
    yield pg
    context.close()
    assert not outside, f"requests left the server: {outside}"
    assert not errors, f"JavaScript errors: {errors}"
