"""Background jobs: a passes job gives the same windows as the interactive endpoint, reports
progress, pages its result, can be cancelled, has a time limit and a bounded queue."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from overflight.server import Limits, create_app
from overflight.server.jobs import JobCancelled, JobContext, JobManager, JobsBusy

NORFOLK = "Naval Station Norfolk"
PASSES = {"group": ["military"], "site": [NORFOLK, "Seoul"], "start": "2026-05-31T00:00Z",
          "days": 1, "min_elevation_deg": 5}


def _wait(c: TestClient, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        st: dict[str, Any] = c.get(f"/api/jobs/{job_id}").json()
        if st["status"] in ("done", "failed", "cancelled") or time.monotonic() > deadline:
            return st
        time.sleep(0.05)


def test_passes_job_matches_the_interactive_answer() -> None:
    with TestClient(create_app()) as c:
        direct = c.post("/api/passes", json=PASSES).json()
        resp = c.post("/api/jobs/passes", json=PASSES)
        assert resp.status_code == 202
        job = resp.json()
        assert resp.headers["location"] == job["status_url"] == f"/api/jobs/{job['id']}"
        st = _wait(c, job["id"])
        assert st["status"] == "done" and st["progress"] == 1.0 and st["error"] is None
        assert st["count"] == direct["count"] > 0
        assert st["created"].endswith("Z") and st["finished"].endswith("Z")
        result = c.get(job["result_url"]).json()
        assert result["windows"] == direct["windows"]
        assert result["count"] == direct["count"] and result["offset"] == 0
        # Pages: offset/limit cut the same list.
        page = c.get(job["result_url"], params={"offset": 3, "limit": 4}).json()
        assert page["windows"] == direct["windows"][3:7]
        tail = c.get(job["result_url"], params={"offset": 10_000}).json()
        assert tail["windows"] == [] and tail["count"] == direct["count"]


def test_a_job_may_be_larger_than_one_request() -> None:
    big = {**PASSES, "group": ["geo"], "site": [NORFOLK], "days": 7}
    with TestClient(create_app(limits=Limits(max_job_work=5000))) as c:
        assert c.post("/api/passes", json=big).status_code == 422
        job = c.post("/api/jobs/passes", json=big).json()
        assert job["status"] in ("queued", "running", "done")
        too_big = {**big, "days": 30}
        resp = c.post("/api/jobs/passes", json=too_big)
        assert resp.status_code == 422
        assert "a background job may compute at most 5,000" in resp.json()["error"]
        c.delete(f"/api/jobs/{job['id']}")


def test_job_input_errors_are_immediate() -> None:
    with TestClient(create_app()) as c:
        resp = c.post("/api/jobs/passes", json={**PASSES, "start": "tomorrow"})
        assert resp.status_code == 422 and "start:" in resp.json()["error"]
        resp = c.post("/api/jobs/passes", json={**PASSES, "sat": ["99999"]})
        assert resp.status_code == 404


def test_unknown_job_and_unfinished_result() -> None:
    with TestClient(create_app()) as c:
        assert c.get("/api/jobs/nope").status_code == 404
        assert "no job 'nope'" in c.get("/api/jobs/nope/result").json()["error"]
        assert c.delete("/api/jobs/nope").status_code == 404
        svc = c.app.state.service  # type: ignore[attr-defined]
        gate = threading.Event()

        def blocked(plan: Any) -> Any:
            def run(ctx: JobContext) -> Any:
                while not gate.wait(0.02):
                    ctx.check()
                return None

            return run

        svc.passes_job = blocked
        job = c.post("/api/jobs/passes", json=PASSES).json()
        resp = c.get(job["result_url"])
        assert resp.status_code == 409
        assert " is queued" in resp.json()["error"] or " is running" in resp.json()["error"]
        cancelled = c.delete(f"/api/jobs/{job['id']}").json()
        assert cancelled["id"] == job["id"]
        st = _wait(c, job["id"])
        assert st["status"] == "cancelled"
        assert c.get(job["result_url"]).status_code == 409


def test_job_time_limit() -> None:
    with TestClient(create_app(limits=Limits(job_max_runtime_s=0.0))) as c:
        job = c.post("/api/jobs/passes", json=PASSES).json()
        st = _wait(c, job["id"])
        assert st["status"] == "failed" and "time limit" in st["error"]


def test_too_many_jobs_is_503() -> None:
    with TestClient(create_app(limits=Limits(max_queued_jobs=1))) as c:
        svc = c.app.state.service  # type: ignore[attr-defined]
        gate = threading.Event()

        def blocked(plan: Any) -> Any:
            def run(ctx: JobContext) -> Any:
                while not gate.wait(0.02):
                    ctx.check()

            return run

        svc.passes_job = blocked
        first = c.post("/api/jobs/passes", json=PASSES).json()
        resp = c.post("/api/jobs/passes", json=PASSES)
        assert resp.status_code == 503 and resp.headers["retry-after"] == "30"
        gate.set()
        assert _wait(c, first["id"])["status"] == "done"
        assert c.post("/api/jobs/passes", json=PASSES).status_code == 202


# ---- the job manager on its own --------------------------------------------------------------
def _settle(jobs: JobManager, job_id: str) -> str:
    deadline = time.monotonic() + 10
    while (status := jobs.get(job_id).status) in ("queued", "running"):
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.01)
    return status


def test_job_manager_progress_errors_and_forgetting() -> None:
    jobs = JobManager(threads=1, max_queued=2, max_kept=2, ttl_s=60.0,
                      on_error=lambda exc: f"failed: {exc}")
    try:
        seen: list[float] = []
        started = threading.Event()

        def work(ctx: JobContext) -> str:
            started.wait(5)
            for i in range(1, 5):
                ctx.progress(i, 4)
                seen.append(jobs.get(job.id).progress)
            return "result"

        job = jobs.submit("test", 1.0, work)
        started.set()
        assert _settle(jobs, job.id) == "done"
        assert seen == [0.25, 0.5, 0.75, 1.0] and jobs.get(job.id).result == "result"

        def bad(ctx: JobContext) -> None:
            raise ValueError("no good")

        failed = jobs.submit("test", 1.0, bad)
        assert _settle(jobs, failed.id) == "failed"
        assert jobs.get(failed.id).error == "failed: no good"
        third = jobs.submit("test", 1.0, lambda ctx: None)
        assert _settle(jobs, third.id) == "done"
        # Only the two most recently finished jobs are kept.
        with pytest.raises(KeyError):
            jobs.get(job.id)
    finally:
        jobs.shutdown()


def test_job_manager_queue_bound_and_cancel_before_start() -> None:
    jobs = JobManager(threads=1, max_queued=2)
    gate = threading.Event()
    try:
        first = jobs.submit("t", 1.0, lambda ctx: gate.wait(5))
        second = jobs.submit("t", 1.0, lambda ctx: None)
        with pytest.raises(JobsBusy):
            jobs.submit("t", 1.0, lambda ctx: None)
        jobs.cancel(second.id)
        gate.set()
        assert _settle(jobs, first.id) == "done"
        assert jobs.get(second.id).status == "cancelled"
    finally:
        jobs.shutdown()


def test_job_context_raises_when_cancelled() -> None:
    from datetime import UTC, datetime

    from overflight.server.jobs import Job

    job = Job(id="x", kind="t", work=1.0, created=datetime.now(UTC))
    ctx = JobContext(job, deadline=time.monotonic() + 60)
    ctx.progress(1, 2)
    job.cancel_event.set()
    with pytest.raises(JobCancelled):
        ctx.progress(2, 2)
