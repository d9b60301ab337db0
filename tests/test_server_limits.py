"""What keeps one request from taking the service down: body size cap (413), time limit (504),
bounded queue (503), work cap (422, in test_server.py); and bugs answered as one JSON line (500)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from overflight.server import Limits, create_app

NORFOLK = "Naval Station Norfolk"
PASSES = {"group": ["military"], "site": [NORFOLK], "start": "2026-05-31T00:00Z", "days": 1}


def _client(**limits: Any) -> TestClient:
    return TestClient(create_app(token="t", limits=Limits(**limits)))


def test_body_over_the_cap_by_content_length_is_413() -> None:
    with _client(max_body_bytes=1000) as c:
        resp = c.post("/api/verify", content=b"x" * 5000,
                      headers={"Content-Type": "application/json"})
        assert resp.status_code == 413
        assert resp.json() == {"error": "request body larger than 1,000 bytes"}
        ok = c.post("/api/passes", json=PASSES)  # small bodies still pass
        assert ok.status_code == 200


def test_streamed_body_over_the_cap_is_413() -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    with _client(max_body_bytes=1000) as c:
        resp = c.post("/api/verify", content=chunks(),
                      headers={"Content-Type": "application/json"})
        assert resp.status_code == 413
        assert "larger than 1,000 bytes" in resp.json()["error"]


def test_import_body_over_the_cap_is_413_before_the_token_matters() -> None:
    with _client(max_body_bytes=2000) as c:
        resp = c.post("/api/catalog/import", json={"data": "1 " * 5000, "group": "g"})
        assert resp.status_code == 413


def test_slow_request_is_abandoned_with_504() -> None:
    with _client(request_timeout_s=0.2) as c:
        svc = c.app.state.service  # type: ignore[attr-defined]
        release = threading.Event()
        real = svc.passes

        def slow(req: Any) -> Any:
            release.wait(5)
            return real(req)

        svc.passes = slow
        t0 = time.monotonic()
        resp = c.post("/api/passes", json=PASSES)
        assert time.monotonic() - t0 < 3
        release.set()
        assert resp.status_code == 504
        msg = resp.json()["error"]
        assert "longer than 0.2 s" in msg and "/api/jobs/passes" in msg


def test_full_queue_is_503_with_retry_after() -> None:
    with _client(max_pending=0) as c:
        resp = c.post("/api/passes", json=PASSES)
        assert resp.status_code == 503
        assert resp.headers["retry-after"] == "5"
        assert "server busy" in resp.json()["error"]
        # Catalog queries are not computations: still answered.
        assert c.get("/api/groups").status_code == 200


def test_queue_drains_after_requests() -> None:
    with _client(max_pending=1, compute_threads=1) as c:
        for _ in range(3):
            assert c.post("/api/passes", json=PASSES).status_code == 200
        assert c.app.state.service is not None  # type: ignore[attr-defined]


def test_internal_errors_are_one_json_line_without_internals() -> None:
    with _client() as c:
        svc = c.app.state.service  # type: ignore[attr-defined]

        def broken(*_: Any) -> Any:
            raise RuntimeError("secret detail /etc/overflight")

        svc.groups = broken
        svc.passes = broken
        for resp in (c.get("/api/groups"), c.post("/api/passes", json=PASSES)):
            assert resp.status_code == 500
            body = resp.json()
            assert set(body) == {"error"} and "RuntimeError" in body["error"]
            assert "secret" not in body["error"] and "Traceback" not in body["error"]


def test_security_headers_on_every_response() -> None:
    with _client() as c:
        for url in ("/", "/api/info", "/api/nothing", "/static/app.js"):
            headers = c.get(url).headers
            assert "default-src 'self'" in headers["content-security-policy"]
            assert headers["x-content-type-options"] == "nosniff"
