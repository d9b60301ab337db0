"""Regression tests for issue 18 (service side): each reproduces a reported failure.

5. unchecked numbers and times: 500s / tracebacks before, one-line 422 / exit 2 now;
6. an import answered with a failure was stored later;
7. finished jobs' results were unbounded in memory;
9. /api/info showed the database's absolute path to anyone;
10. error bodies that were not ``{"error": readable line}`` with the documented status.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from overflight.cli import main
from overflight.server import Limits, create_app
from overflight.server.jobs import JobManager

TOKEN = "hardening-token"
ROME = {"satellite": "MALLIGYONG-1", "target": "Rome", "time": "2024-06-09T10:40",
        "zone": "Europe/Rome"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(token=TOKEN), raise_server_exceptions=False) as c:
        yield c


def assert_error(resp: Any, status: int, words: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}, body
    assert words in body["error"], body["error"]
    assert "\n" not in body["error"] and "internal error" not in body["error"]


# ---- 5. numbers and times ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/api/catalog/99999999999999999999999", "out of range [0, 999999999]"),
        ("/api/catalog/" + "9" * 5000, "out of range"),
        ("/api/track?sat=58400&start=0001-01-01T00:00Z", "start: 0001-01-01 is outside"),
        ("/api/track?sat=58400&step_s=nan", "step_s"),
        ("/api/track?sat=58400&step_s=1e-300", "step_s"),
        ("/api/track?sat=58400&step_s=inf", "step_s"),
        ("/api/catalog/58400/history?start=0001-01-01T00:00Z", "start: 0001-01-01"),
        ("/api/history?sat=58400&end=9999-01-01T00:00Z", "end: 9999-01-01"),
        ("/api/maneuvers?sat=58400&threshold=inf", "threshold"),
        ("/api/passes?sat=58400&site=Rome&min_duration_s=1e308", "min_duration_s"),
        ("/api/catalog?offset=99999999999999999999999", "offset"),
    ],
)
def test_unchecked_numbers_are_422(client: TestClient, url: str, words: str) -> None:
    assert_error(client.get(url), 422, words)


def test_non_ascii_digits_are_a_name_not_a_crash(client: TestClient) -> None:
    assert_error(client.get("/api/catalog/%C2%B2"), 404, "no satellite matching")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"claims": [ROME], "tolerance_s": 1e308}, "tolerance_s"),
        ({"claims": [ROME], "max_age_days": 1e308}, "max_age_days"),
        ({"claims": [{**ROME, "time": "0001-01-01T00:00", "zone": "UTC"}]}, "0001-01-01"),
        ({"claims": [{**ROME, "time": "9999-12-31T00:00", "zone": "UTC"}]}, "9999-12-31"),
        ({"claims": [{**ROME, "tolerance_s": 1e308}]}, "tolerance_s"),
    ],
)
def test_verify_numbers_and_years_are_422(client: TestClient, body: dict[str, Any],
                                          words: str) -> None:
    assert_error(client.post("/api/verify", json=body), 422, words)


def test_claims_text_in_year_one_is_an_error_row(client: TestClient) -> None:
    text = "id,satellite,target,time\nr,58400,Rome,0001-01-01T00:00:00Z\n"
    resp = client.post("/api/verify", json={"text": text, "kind": "csv"})
    assert resp.status_code == 200, resp.text
    (row,) = resp.json()["results"]
    assert row["verdict"] == "error" and "0001-01-01" in " ".join(row["reasons"])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["catalog", "show", "²"], "no satellite matching"),
        (["catalog", "show", "99999999999999999999999"], "out of range"),
        (["track", "58400", "--start", "2024-06-09T00:00Z", "--step", "nan"], "--step"),
        (["track", "58400", "--start", "2024-06-09T00:00Z", "--step", "inf"], "--step"),
        (["where", "58400", "--at", "0001-01-01T00:00Z"], "at: 0001-01-01 is outside"),
        (["verify", "--sat", "58400", "--site", "Rome", "--time", "2024-06-09T08:40Z",
          "--tolerance", "1e308"], "--tolerance"),
    ],
)
def test_cli_numbers_are_one_line_exit_2(args: list[str], words: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert words in err and "Traceback" not in err


# ---- 6. an import that cannot take the write lock is not stored --------------------------------
def _tle_text() -> str:
    snap = Path(__file__).resolve().parents[1] / "src" / "overflight" / "data" / "snapshot"
    return (snap / "stations.tle").read_text()


def test_import_waiting_for_a_locked_database_fails_and_stores_nothing(tmp_path: Path) -> None:
    """The write lock held (by another process) past the request's budget: before, the
    client got 504 "abandoned" and the element sets were stored when the lock freed."""
    db = tmp_path / "catalog.db"
    lim = Limits(request_timeout_s=1.5)
    with TestClient(create_app(db, TOKEN, limits=lim), raise_server_exceptions=False) as c:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        first = c.post("/api/catalog/import", headers=auth,
                       json={"data": _tle_text(), "group": "first"})
        assert first.status_code == 200, first.text
        holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
        release = threading.Timer(3.0, holder.execute, args=("COMMIT",))
        release.start()
        try:
            t0 = time.monotonic()
            resp = c.post("/api/catalog/import", headers=auth,
                          json={"data": _tle_text(), "group": "late"})
            assert time.monotonic() - t0 < 2.5
            assert_error(resp, 503, "nothing was stored")
            assert resp.headers["retry-after"] == "5"
        finally:
            release.join()
            holder.close()
        time.sleep(0.2)
        groups = {g["group"] for g in c.get("/api/groups").json()}
        assert "first" in groups and "late" not in groups


def test_import_answered_200_is_stored_even_when_the_write_is_slow(tmp_path: Path) -> None:
    """The lock frees within the budget: the import is answered (200) and stored, never a
    504 for a write that happened."""
    db = tmp_path / "catalog.db"
    lim = Limits(request_timeout_s=3.0)
    with TestClient(create_app(db, TOKEN, limits=lim), raise_server_exceptions=False) as c:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert c.post("/api/catalog/import", headers=auth,
                      json={"data": _tle_text(), "group": "first"}).status_code == 200
        holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.8, holder.execute, args=("COMMIT",))
        release.start()
        try:
            resp = c.post("/api/catalog/import", headers=auth,
                          json={"data": _tle_text(), "group": "second"})
        finally:
            release.join()
            holder.close()
        assert resp.status_code == 200, resp.text
        assert "second" in {g["group"] for g in c.get("/api/groups").json()}


# ---- 7. job results bounded in bytes -----------------------------------------------------------
def test_finished_job_results_are_bounded_in_bytes() -> None:
    jobs = JobManager(max_result_bytes=1000, size_of=len, ttl_s=3600.0)
    try:
        ids = []
        for _ in range(4):
            job = jobs.submit("x", 1.0, lambda _ctx: b"x" * 400)
            ids.append(job.id)
            while jobs.get(job.id).status != "done":
                time.sleep(0.01)
        states = [jobs.get(i).status for i in ids]
        # 4 × 400 bytes, 1000 kept: the two oldest are dropped, the newest stay.
        assert states == ["expired", "expired", "done", "done"]
        assert jobs.held_bytes() == 800
        assert "run the job again" in (jobs.get(ids[0]).error or "")
        big = jobs.submit("x", 1.0, lambda _ctx: b"x" * 5000)
        while jobs.get(big.id).status in ("queued", "running"):
            time.sleep(0.01)
        assert jobs.get(big.id).status == "failed" and jobs.held_bytes() == 800
    finally:
        jobs.shutdown()


def test_expired_job_result_is_409_with_the_reason() -> None:
    lim = Limits(max_job_bytes=1)  # any result is larger: the job fails, nothing is kept
    with TestClient(create_app(token=TOKEN, limits=lim)) as c:
        body = {"sat": ["58400"], "site": ["Rome"], "start": "2024-06-09T00:00Z", "days": 2}
        job = c.post("/api/jobs/passes", json=body).json()
        for _ in range(200):
            status = c.get(job["status_url"]).json()
            if status["status"] not in ("queued", "running"):
                break
            time.sleep(0.05)
        assert status["status"] == "failed" and "MiB" in status["error"]
        assert_error(c.get(job["result_url"]), 409, "failed")
        assert c.get("/api/info").json()["limits"]["max_job_bytes"] == 1


# ---- 9. the database path --------------------------------------------------------------------
def test_info_shows_the_full_path_only_to_token_holders(tmp_path: Path) -> None:
    db = tmp_path / "secret-dir" / "catalog.db"
    db.parent.mkdir()
    with TestClient(create_app(db, TOKEN)) as c:
        c.post("/api/catalog/import", headers={"Authorization": f"Bearer {TOKEN}"},
               json={"data": _tle_text(), "group": "stations"})
        public = c.get("/api/info").json()["catalog"]
        assert "catalog.db" in public and "secret-dir" not in public
        bad = c.get("/api/info", headers={"Authorization": "Bearer wrong"}).json()["catalog"]
        assert "secret-dir" not in bad
        full = c.get("/api/info", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert str(db) in full["catalog"]
        missing = c.get("/api/catalog/NO-SUCH-SATELLITE").json()["error"]
        assert "catalog.db" in missing and "secret-dir" not in missing
        assert "secret-dir" not in c.get("/api/catalog").json()["catalog"]


# ---- 10. error shape -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", "body: not valid JSON at character 1"),
        (b"[" * 100_000 + b"]" * 100_000, "body: not valid JSON"),
        (b'{"sat": ["\xff\xfe"]}', "body: not valid JSON (not UTF-8"),
        (b"", "body"),
    ],
)
def test_malformed_bodies_are_422_with_a_readable_line(client: TestClient, body: bytes,
                                                       words: str) -> None:
    resp = client.post("/api/passes", content=body, headers={"Content-Type": "application/json"})
    assert_error(resp, 422, words)


def test_slow_body_is_408_json() -> None:
    import asyncio

    from overflight.server.app import _Guard

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise AssertionError("the body arrived")

    sent: list[Any] = []

    async def receive() -> Any:
        await asyncio.sleep(10)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    guard = _Guard(app, max_body_bytes=100, body_timeout_s=0.1)
    # A fresh event loop in its own thread: another test in this worker (Playwright's sync API)
    # may have left this thread's loop running.
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(guard({"type": "http", "headers": []}, receive, send))
        except BaseException as e:  # handed to the test thread
            errors.append(e)

    import threading

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    with pytest.raises(Exception, match=r"not received within 0\.1 s") as exc:
        raise errors[0] if errors else AssertionError("no error")
    assert getattr(exc.value, "status_code", None) == 408
