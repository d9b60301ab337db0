"""The passes answer cache: keyed on the request before planning and the catalog's data version,
so a hit neither plans nor computes, an import (through the server or by anyone else) is never
answered from before it, and a cached answer is byte for byte the fresh one."""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from overflight.server import Limits, create_app
from overflight.server.models import PassesRequest

TOKEN = "cache-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NORFOLK = "Naval Station Norfolk"
QUERY = {"group": "mine", "site": NORFOLK, "start": "2026-05-31T00:00:00Z", "days": "1"}


def _tle(name: str) -> str:
    from overflight.catalog import snapshot_paths

    return next(p for p in snapshot_paths() if p.stem == name).read_text()


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of the request planner (``overflight.passes.plan_passes``)."""
    calls: list[int] = []
    module = importlib.import_module("overflight.passes")  # `overflight.passes` is the facade's
    real = module.plan_passes

    def spy(**kwargs: Any) -> Any:
        calls.append(1)
        return real(**kwargs)

    monkeypatch.setattr(module, "plan_passes", spy)
    return calls


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The app over a database holding the snapshot's 'military' element sets as 'mine'."""
    with TestClient(create_app(token=TOKEN)) as c:
        resp = c.post("/api/catalog/import", json={"data": _tle("military"), "group": "mine"},
                      headers=AUTH)
        assert resp.status_code == 200, resp.text
        yield c


def test_a_cache_hit_does_not_plan(client: TestClient, planned: list[int]) -> None:
    first = client.get("/api/passes", params=QUERY)
    assert first.status_code == 200 and first.headers["x-overflight-cache"] == "miss"
    assert len(planned) == 1
    for _ in range(3):
        again = client.get("/api/passes", params=QUERY)
        assert again.headers["x-overflight-cache"] == "hit"
        assert again.content == first.content
    # The same question spelled otherwise (POST body, end instead of days, an offset, floats
    # for integers) is the same normalized request.
    body = {"group": ["mine"], "site": [NORFOLK], "start": "2026-05-30T20:00:00-04:00",
            "end": "2026-06-01T00:00Z", "min_duration_s": 0}
    post = client.post("/api/passes", json=body)
    assert post.headers["x-overflight-cache"] == "hit" and post.content == first.content
    assert len(planned) == 1
    # Another question is planned.
    other = client.get("/api/passes", params={**QUERY, "max_off_nadir_deg": "45"})
    assert other.headers["x-overflight-cache"] == "miss" and len(planned) == 2


def test_watch_hits_do_not_plan(client: TestClient, planned: list[int]) -> None:
    q = {"site": NORFOLK, "group": "mine", "start": "2026-05-31T00:00Z", "imaging": "false"}
    first = client.get("/api/watch", params=q)
    assert first.status_code == 200, first.text
    again = client.get("/api/watch", params=q)
    assert again.headers["x-overflight-cache"] == "hit" and again.content == first.content
    assert len(planned) == 1
    # A watch and a passes request with the same fields differ (watch's default group).
    assert client.get("/api/passes", params={**q, "max_off_nadir_deg": "45"}).headers[
        "x-overflight-cache"] == "miss"


def test_cached_answers_are_byte_identical_to_fresh_ones(client: TestClient) -> None:
    cached = [client.get("/api/passes", params=QUERY) for _ in range(2)]
    assert [r.headers["x-overflight-cache"] for r in cached] == ["miss", "hit"]
    # A server without a cache computes every answer afresh, over the same database.
    with TestClient(create_app(token=TOKEN, limits=Limits(cache_entries=0))) as fresh:
        for _ in range(2):
            resp = fresh.get("/api/passes", params=QUERY)
            assert resp.headers["x-overflight-cache"] == "miss"
            assert resp.content == cached[1].content == cached[0].content


def test_an_import_invalidates_the_cache(client: TestClient, planned: list[int]) -> None:
    before = client.get("/api/passes", params=QUERY).json()
    assert client.get("/api/passes", params=QUERY).headers["x-overflight-cache"] == "hit"
    resp = client.post("/api/catalog/import", json={"data": _tle("weather"), "group": "mine"},
                       headers=AUTH)
    assert resp.json()["new"] > 0
    after = client.get("/api/passes", params=QUERY)
    assert after.headers["x-overflight-cache"] == "miss" and len(planned) == 2
    data = after.json()
    assert data["satellites"] > before["satellites"] and data["count"] > before["count"]
    assert client.get("/api/passes", params=QUERY).headers["x-overflight-cache"] == "hit"


def test_a_write_by_another_connection_invalidates_the_cache(
        client: TestClient, planned: list[int]) -> None:
    from overflight.catalog import Catalog
    from overflight.catalog.formats import parse_bytes

    before = client.get("/api/passes", params=QUERY).json()
    sets_before = {g["group"]: g["element_sets"] for g in client.get("/api/groups").json()}
    svc = client.app.state.service  # type: ignore[attr-defined]
    # As another process would (the CLI's import): its own connection, not this server's.
    with Catalog.open(svc.db_path) as cat:
        cat.add(parse_bytes(_tle("resource").encode(), "x").records, group="mine",
                source="test")
    after = client.get("/api/passes", params=QUERY)
    assert after.headers["x-overflight-cache"] == "miss" and len(planned) == 2
    assert after.json()["satellites"] > before["satellites"]
    # The groups' counts (kept per data version too) follow.
    sets_after = {g["group"]: g["element_sets"] for g in client.get("/api/groups").json()}
    assert sets_after["mine"] > sets_before["mine"]


def test_the_snapshot_then_a_new_database(tmp_path: Path, planned: list[int]) -> None:
    # $OVERFLIGHT_DB does not exist yet: the bundled snapshot is served (and cached).
    q = {**QUERY, "group": "military"}
    with TestClient(create_app(token=TOKEN)) as c:
        first = c.get("/api/passes", params=q).json()
        assert c.get("/api/passes", params=q).headers["x-overflight-cache"] == "hit"
        c.post("/api/catalog/import", json={"data": _tle("weather"), "group": "military"},
               headers=AUTH)
        after = c.get("/api/passes", params=q)
        assert after.headers["x-overflight-cache"] == "miss"
        assert after.json()["satellites"] != first["satellites"]


def test_requests_relative_to_the_clock_are_not_kept(client: TestClient) -> None:
    svc = client.app.state.service  # type: ignore[attr-defined]
    now = PassesRequest(group=["mine"], site=[NORFOLK], days=1)
    key = svc.passes_key(now)
    assert key is not None and not key.fixed
    assert svc.passes_key(PassesRequest(group=["mine"], site=[NORFOLK], start="now",
                                        days=1)).fixed is False
    assert svc.passes_key(PassesRequest(**{**QUERY, "group": ["mine"], "site": [NORFOLK],
                                           "days": 1})).fixed
    r = client.get("/api/passes", params={"group": "mine", "site": NORFOLK})
    assert r.status_code in (200, 404, 422)
    assert client.get("/api/passes", params={"group": "mine", "site": NORFOLK}).headers.get(
        "x-overflight-cache", "miss") == "miss"


def test_errors_are_unchanged_and_not_cached(client: TestClient, planned: list[int]) -> None:
    # A malformed interval has no key: planning reports it, as without the cache.
    bad = client.get("/api/passes", params={**QUERY, "start": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"].startswith("start:")
    both = client.get("/api/passes", params={**QUERY, "min_elevation_deg": "10",
                                             "max_off_nadir_deg": "1", "start": "x"})
    assert both.status_code == 422
    big = {**QUERY, "days": "366"}
    for _ in range(2):
        assert client.get("/api/passes", params=big).status_code == 422
    assert len(planned) >= 2


def test_hits_do_not_wait_for_the_computation_threads(client: TestClient) -> None:
    svc = client.app.state.service  # type: ignore[attr-defined]
    fresh, cached = svc.passes(PassesRequest(group=["mine"], site=[NORFOLK],
                                             start=QUERY["start"], days=1))
    assert not cached
    # A server whose computation queue is full (max_pending=0) still answers a cached
    # question, from the query pool; an uncached one is refused (503).
    with TestClient(create_app(token=TOKEN, limits=Limits(max_pending=0))) as busy:
        busy.app.state.service.cache = svc.cache  # type: ignore[attr-defined]
        hit = busy.get("/api/passes", params=QUERY)
        assert hit.status_code == 200 and hit.content == fresh
        assert busy.get("/api/passes", params={**QUERY, "days": "2"}).status_code == 503


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_computation_threads_yield_to_queries() -> None:
    from overflight.server.jobs import BACKGROUND_NICE, lower_thread_priority

    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    with ThreadPoolExecutor(1, initializer=lower_thread_priority) as pool:
        assert pool.submit(nice).result() == min(19, nice() + BACKGROUND_NICE)
    with TestClient(create_app(token=TOKEN)) as c:  # queries keep the process's priority
        svc = c.app.state.service  # type: ignore[attr-defined]
        svc.groups = lambda: [{"group": str(nice()), "objects": 0, "element_sets": 0,
                               "last_epoch": None}]
        assert c.get("/api/groups").json()[0]["group"] == str(nice())


# ---- known requests: answered before parsing, on the event loop (issue 19) ------------------
def _headers(resp: Any) -> list[tuple[str, str]]:
    return [(k, v) for k, v in resp.headers.multi_items() if k != "x-overflight-cache"]


def test_a_known_request_is_answered_before_parsing(
        client: TestClient, planned: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    svc = client.app.state.service  # type: ignore[attr-defined]
    miss = client.get("/api/passes", params=QUERY)
    assert miss.headers["x-overflight-cache"] == "miss"
    # The same question spelled otherwise (parameters in another order) is parsed and found in
    # the cache by its normalized key: the ordinary hit.
    ordinary = client.get("/api/passes", params=dict(reversed(QUERY.items())))
    assert ordinary.headers["x-overflight-cache"] == "hit"
    # From now on neither spelling reaches the handler: no parsing, no key, no thread.
    keyed: list[int] = []
    real = svc.cached_passes
    monkeypatch.setattr(svc, "cached_passes", lambda *a: keyed.append(1) or real(*a))
    for params in (QUERY, dict(reversed(QUERY.items()))):
        known = client.get("/api/passes", params=params)
        assert known.headers["x-overflight-cache"] == "hit"
        assert known.content == ordinary.content == miss.content
        assert _headers(known) == _headers(ordinary) == _headers(miss)
    assert keyed == [] and len(planned) == 1
    # Another spelling is new: parsed once, then known.
    client.get("/api/passes", params={**QUERY, "days": "1.0"})
    client.get("/api/passes", params={**QUERY, "days": "1.0"})
    assert keyed == [1] and len(planned) == 1
    # A HEAD or a POST of a known question takes the ordinary path (405; parsed).
    assert client.head("/api/passes", params=QUERY).status_code == 405
    assert client.post("/api/passes", json={"group": ["mine"], "site": [NORFOLK],
                                            "start": QUERY["start"], "days": 1}
                       ).headers["x-overflight-cache"] == "hit"
    assert keyed == [1, 1]


def test_known_requests_follow_the_data_version(
        client: TestClient, planned: list[int]) -> None:
    svc = client.app.state.service  # type: ignore[attr-defined]
    for _ in range(2):
        client.get("/api/passes", params=QUERY)
    raw = ("/api/passes", client.get("/api/passes", params=QUERY).request.url.query)
    assert svc.known_answer(raw) is not None
    # While another thread probes the data version, the event loop does not wait for it: the
    # request takes the ordinary path.
    with svc.data_version._lock:
        assert svc.known_answer(raw) is None
    client.post("/api/catalog/import", json={"data": _tle("weather"), "group": "mine"},
                headers=AUTH)
    assert svc.known_answer(raw) is None  # keyed with the version before the import
    assert client.get("/api/passes", params=QUERY).headers["x-overflight-cache"] == "miss"
    assert svc.known_answer(raw) is not None and len(planned) == 2


def test_requests_relative_to_the_clock_are_not_known(client: TestClient) -> None:
    svc = client.app.state.service  # type: ignore[attr-defined]
    for q in ({"group": "mine", "site": NORFOLK, "days": "1"},
              {"group": "mine", "site": NORFOLK, "start": "now", "days": "1"}):
        client.get("/api/passes", params=q)
    assert len(svc.known._items) == 0


def test_exposure_and_watch_hits_do_not_plan(client: TestClient, planned: list[int]) -> None:
    answers = {}
    for path in ("/api/exposure", "/api/watch"):
        first = client.get(path, params=QUERY)
        assert first.status_code == 200 and first.headers["x-overflight-cache"] == "miss"
        n = len(planned)
        for params in (QUERY, dict(reversed(QUERY.items())), QUERY):
            again = client.get(path, params=params)
            assert again.headers["x-overflight-cache"] == "hit"
            assert again.content == first.content and _headers(again) == _headers(first)
        assert len(planned) == n
        svc = client.app.state.service  # type: ignore[attr-defined]
        assert svc.known_answer((path, again.request.url.query)) == first.content
        answers[path] = first.content
    # Another breakdown is another answer; a passes request with the same fields too.
    assert client.get("/api/exposure", params={**QUERY, "max_unobserved": "5"}).headers[
        "x-overflight-cache"] == "miss"
    assert client.get("/api/passes", params=QUERY).headers["x-overflight-cache"] == "miss"
    # The cached answers are the ones a server without a cache computes.
    with TestClient(create_app(token=TOKEN, limits=Limits(cache_entries=0))) as fresh:
        for path, content in answers.items():
            assert fresh.get(path, params=QUERY).content == content
