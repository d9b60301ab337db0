"""Computations in worker processes (``Limits.compute_processes``): the same answers, headers
and errors as the thread path (the reference here), the time limit, a worker that dies, and
no worker left after shutdown."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from _support import alive
from overflight.server import Limits, create_app
from overflight.server.app import _unexpected
from overflight.server.workers import ComputePool, WorkerBug

NORFOLK = "Naval Station Norfolk"
START = "2026-05-31T00:00:00Z"
PASSES = {"group": "military", "site": NORFOLK, "start": START, "days": "1"}
# Each (method, url, query or JSON body) asked of both paths, in this order, twice.
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/passes", PASSES),
    ("POST", "/api/passes", {"group": ["military"], "site": [NORFOLK], "start": START,
                             "days": 1, "imaging": True}),
    ("GET", "/api/watch", {"site": NORFOLK, "start": START, "days": "1"}),
    ("GET", "/api/exposure", {"site": NORFOLK, "start": START, "days": "1", "by": "country"}),
    ("GET", "/api/passes", {"group": "resource", "area": "Najin port", "start": START,
                            "days": "0.25"}),
    ("GET", "/api/passes", {"group": "resource", "area": "Najin port", "site": NORFOLK,
                            "start": START, "days": "0.25", "area_mode": "all"}),
    ("GET", "/api/track", {"sat": "25544", "start": START}),
    ("GET", "/api/history", {"sat": "25544"}),
    ("GET", "/api/maneuvers", {"group": "stations"}),
    ("POST", "/api/verify", {"claims": [{"satellite": "25544", "lat": 36.9, "lon": -76.3,
                                         "time": "2026-05-31T12:00:00Z"}]}),
    # user errors raised inside the computation
    ("GET", "/api/passes", {"sat": "99999999", "site": NORFOLK, "start": START}),
    ("GET", "/api/passes", {"group": "no-such-group", "site": NORFOLK, "start": START}),
    ("GET", "/api/passes", {"group": "military", "site": "Atlantis", "start": START}),
    ("GET", "/api/passes", {"group": "military", "site": NORFOLK, "start": START,
                            "min_elevation_deg": "95"}),
    ("GET", "/api/passes", {"group": "geo", "site": NORFOLK, "start": START, "days": "30"}),
    ("GET", "/api/exposure", {"site": NORFOLK, "start": START, "end": "2026-05-30T00:00Z"}),
    ("GET", "/api/track", {"sat": "99999999"}),
    ("GET", "/api/history", {"sat": "no such name"}),
    ("POST", "/api/verify", {"claims": []}),
]


def _ask(c: TestClient, method: str, url: str, data: dict[str, Any]) -> Any:
    return c.get(url, params=data) if method == "GET" else c.post(url, json=data)


def _app(tmp: Path | None = None, **limits: Any) -> Any:
    db = (tmp or Path("/nonexistent-overflight")) / "absent.db"
    return create_app(db, token="t", limits=Limits(**limits))


@pytest.fixture(scope="module")
def answers() -> dict[int, list[Any]]:
    """Every request's responses (asked twice: miss, then the cache), by compute_processes."""
    out: dict[int, list[Any]] = {}
    for n in (0, 2):
        with TestClient(_app(compute_processes=n)) as c:
            out[n] = [_ask(c, *r) for _ in range(2) for r in REQUESTS]
    return out


def test_answers_and_headers_are_the_thread_paths(answers: dict[int, list[Any]]) -> None:
    statuses = set()
    for i, (threads, procs) in enumerate(zip(answers[0], answers[2], strict=True)):
        where = REQUESTS[i % len(REQUESTS)][1:]
        statuses.add(threads.status_code)
        assert procs.status_code == threads.status_code, where
        assert procs.content == threads.content, where
        assert dict(procs.headers) == dict(threads.headers), where
    assert statuses == {200, 404, 422}
    # the second round of passes/watch/exposure came from the cache in both
    caches = [r.headers.get("x-overflight-cache") for r in answers[2]]
    assert caches[:6] == ["miss"] * 6 and caches[len(REQUESTS):len(REQUESTS) + 6] == ["hit"] * 6


def test_user_errors_are_one_json_line(answers: dict[int, list[Any]]) -> None:
    for r in answers[2]:
        if r.status_code != 200:
            assert list(r.json()) == ["error"] and "\n" not in r.json()["error"]


def test_a_bug_in_a_worker_is_a_500_naming_only_its_class(tmp_path: Path) -> None:
    pool = ComputePool(tmp_path / "absent.db", Limits(), 1)
    try:
        exc = pool.submit("passes_body", 0, "not a request").exception(timeout=120)
    finally:
        pool.shutdown()
    assert isinstance(exc, WorkerBug) and exc.name == "AttributeError"
    assert "Traceback" in exc.traceback_text and "passes_body" in exc.traceback_text
    err = _unexpected(exc)
    assert (err.status, err.message) == (
        500, "internal error (AttributeError); it was logged on the server")
    # the thread path's line for the same class
    assert _unexpected(AttributeError("x")).message == err.message


def test_time_limit_is_504_and_the_abandoned_answer_is_kept() -> None:
    with TestClient(_app(compute_processes=1, request_timeout_s=0.001)) as c:
        resp = c.get("/api/passes", params=PASSES)
        assert resp.status_code == 504
        msg = resp.json()["error"]
        assert "longer than 0.001 s" in msg and "/api/jobs/passes" in msg
        # The computation finishes in its worker and its answer is cached; asked again,
        # the GET request is answered from the cache before any time limit applies.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            again = c.get("/api/passes", params=PASSES)
            if again.status_code == 200:
                break
            time.sleep(0.2)
        assert again.status_code == 200 and again.headers["x-overflight-cache"] == "hit"


def test_full_queue_is_503_in_process_mode() -> None:
    with TestClient(_app(compute_processes=1, max_pending=0)) as c:
        resp = c.get("/api/passes", params=PASSES)
        assert resp.status_code == 503 and resp.headers["retry-after"] == "5"
        assert c.get("/api/catalog/25544").status_code == 200


def test_identical_requests_share_one_computation() -> None:
    with TestClient(_app(compute_processes=1)) as c:
        c.get("/api/track", params={"sat": "25544", "start": START})  # workers ready
        got: list[Any] = []
        threads = [threading.Thread(target=lambda: got.append(c.get("/api/passes",
                                                                    params=PASSES)))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [r.status_code for r in got] == [200] * 4
        assert len({r.content for r in got}) == 1
        assert sorted(r.headers["x-overflight-cache"] for r in got).count("miss") == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice values: Linux")
def test_workers_run_nicer_and_none_is_left_after_shutdown() -> None:
    app = _app(compute_processes=2)
    with TestClient(app) as c:
        assert c.get("/api/passes", params=PASSES).status_code == 200
        pids = app.state.compute_pool.pids()
        assert len(pids) == 2
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert all(os.getpriority(os.PRIO_PROCESS, p) == min(19, mine + 10) for p in pids)
    assert not [p for p in pids if Path(f"/proc/{p}").exists()]


def _kill_workers(app: Any) -> None:
    for pid in app.state.compute_pool.pids():
        os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and /proc")
def test_a_worker_that_dies_is_a_500_and_the_pool_recovers() -> None:
    app = _app(compute_processes=1, max_work=1e5, request_timeout_s=120)
    slow = {"group": ["resource"], "start": START, "days": 5,
            "site": [NORFOLK, *(f"{lat},{lat}" for lat in range(-60, 61, 20))]}
    with TestClient(app) as c:
        assert c.get("/api/passes", params=PASSES).status_code == 200  # the worker is up
        got: list[Any] = []
        t = threading.Thread(target=lambda: got.append(c.post("/api/passes", json=slow)))
        t.start()
        time.sleep(1.0)
        _kill_workers(app)
        t.join(120)
        assert got[0].status_code == 500
        assert got[0].json() == {
            "error": "internal error (BrokenProcessPool); it was logged on the server"}
        # the next computation starts a new pool
        fresh = c.get("/api/passes", params={**PASSES, "days": "0.5"})
        assert fresh.status_code == 200 and fresh.headers["x-overflight-cache"] == "miss"
        # a worker that dies while idle: the next request is answered too
        _kill_workers(app)
        time.sleep(0.5)
        assert c.get("/api/passes", params={**PASSES, "days": "0.25"}).status_code == 200


def test_imports_are_seen_by_the_workers(tmp_path: Path) -> None:
    from overflight.catalog import snapshot_paths

    (stations,) = [p for p in snapshot_paths() if p.name.startswith("stations")]
    text = stations.read_text()
    with TestClient(_app(tmp_path, compute_processes=1)) as c:
        mine = {"group": "mine", "site": NORFOLK, "start": START}
        assert c.get("/api/passes", params=mine).status_code == 404  # the bundled snapshot
        imported = c.post("/api/catalog/import", json={"data": text, "group": "mine"},
                          headers={"Authorization": "Bearer t"})
        assert imported.status_code == 200, imported.text
        after = c.get("/api/passes", params=mine)
        assert after.status_code == 200, after.text
        assert after.json()["satellites"] == imported.json()["new"] > 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and /proc")
def test_workers_end_with_a_killed_server(tmp_path: Path) -> None:
    import subprocess

    env = {**os.environ, "OVERFLIGHT_DB": str(tmp_path / "absent.db")}
    env.pop("OVERFLIGHT_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "overflight", "serve", "--port", "0", "--processes", "2",
         "--log-level", "warning"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None and "serving" in proc.stderr.readline()
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit()
                       and _ppid(int(d.name)) == proc.pid and b"spawn_main" in _cmd(d)]
        assert len(workers) == 2
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 20
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in workers)


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _cmd(d: Path) -> bytes:
    try:
        return (d / "cmdline").read_bytes()
    except OSError:
        return b""


@pytest.fixture(autouse=True)
def _no_leftover_children() -> Iterator[None]:
    import multiprocessing

    yield
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children()
