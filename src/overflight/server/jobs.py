"""Background jobs: long computations run in their own threads with a job id, progress 0..1,
cancellation and a time limit; finished jobs are kept for a while and then forgotten."""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Job", "JobCancelled", "JobContext", "JobManager", "JobsBusy",
           "lower_thread_priority"]

BACKGROUND_NICE = 10
"""How much nicer than the process the threads that compute run (requests' computations and
jobs), on the scale of ``nice`` (at most 19)."""


def lower_thread_priority() -> None:
    """Let the calling thread yield the processor to the event loop and the catalog queries
    (a thread pool initializer): its nice value raised by :data:`BACKGROUND_NICE`. Linux
    only, where a thread has its own nice value; a no-op elsewhere, or where refused."""
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, tid,
                       min(19, os.getpriority(os.PRIO_PROCESS, tid) + BACKGROUND_NICE))


_FINISHED = ("done", "failed", "cancelled", "expired")


class JobsBusy(Exception):
    """Too many jobs waiting: the caller should retry later."""


class JobCancelled(Exception):
    """Raised inside a job when it was cancelled or ran past its time limit."""


@dataclass
class Job:
    """One background job; ``result`` is whatever the job function returned."""

    id: str
    kind: str
    work: float
    created: datetime
    status: str = "queued"
    progress: float = 0.0
    started: datetime | None = None
    finished: datetime | None = None
    error: str | None = None
    result: Any = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    finished_at_monotonic: float | None = None
    result_bytes: int = 0


class JobContext:
    """Handed to a job function: report progress, and stop when asked to."""

    def __init__(self, job: Job, deadline: float) -> None:
        self._job = job
        self._deadline = deadline

    def progress(self, done: int, total: int) -> None:
        """Record progress ``done / total`` and stop here if the job was cancelled."""
        self._job.progress = 0.0 if total <= 0 else min(1.0, done / total)
        self.check()

    def check(self) -> None:
        """Raise :class:`JobCancelled` if the job was cancelled or is past its time limit."""
        if self._job.cancel_event.is_set():
            raise JobCancelled("cancelled")
        if time.monotonic() > self._deadline:
            raise JobCancelled("time limit reached")


class JobManager:
    """Runs jobs on ``threads`` threads; at most ``max_queued`` wait; finished jobs are kept
    ``ttl_s`` seconds (and at most ``max_kept``); each job may run ``max_runtime_s``.

    Memory: the results of finished jobs together hold at most ``max_result_bytes`` (as
    measured by ``size_of``); a larger result fails its job, and older results are dropped
    (their jobs become ``expired``) to make room for a new one."""

    def __init__(
        self,
        *,
        threads: int = 1,
        max_queued: int = 4,
        max_kept: int = 32,
        ttl_s: float = 3600.0,
        max_runtime_s: float = 1800.0,
        on_error: Callable[[BaseException], str] | None = None,
        max_result_bytes: int | None = None,
        size_of: Callable[[Any], int] | None = None,
    ) -> None:
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="overflight-job",
                                        initializer=lower_thread_priority)
        self._closed = False
        self._jobs: dict[str, Job] = {}
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self.max_queued = max_queued
        self.max_kept = max_kept
        self.ttl_s = ttl_s
        self.max_runtime_s = max_runtime_s
        self._on_error = on_error or (lambda exc: f"{exc.__class__.__name__}: {exc}")
        self.max_result_bytes = max_result_bytes
        self._size_of = size_of or (lambda _: 0)

    def submit(self, kind: str, work: float, fn: Callable[[JobContext], Any]) -> Job:
        """Queue ``fn(context)``; raises :class:`JobsBusy` when too many jobs are waiting."""
        with self._lock:
            self._prune()
            waiting = sum(1 for j in self._jobs.values() if j.status in ("queued", "running"))
            if waiting >= self.max_queued:
                raise JobsBusy(f"{waiting} jobs are queued or running (limit {self.max_queued})")
            job = Job(id=secrets.token_urlsafe(9), kind=kind, work=work,
                      created=datetime.now(UTC))
            self._jobs[job.id] = job
            self._futures[job.id] = self._pool.submit(self._run, job, fn)
        return job

    def _run(self, job: Job, fn: Callable[[JobContext], Any]) -> None:
        if job.cancel_event.is_set():
            self._finish(job, "cancelled", "cancelled before it started")
            return
        job.status = "running"
        job.started = datetime.now(UTC)
        ctx = JobContext(job, time.monotonic() + self.max_runtime_s)
        try:
            job.result = fn(ctx)
        except JobCancelled as exc:
            reason = str(exc)
            if reason == "time limit reached":
                reason = f"time limit of {self.max_runtime_s:g} s reached"
                self._finish(job, "failed", reason)
            else:
                self._finish(job, "cancelled", reason)
            return
        except Exception as exc:  # reported on the job, never raised into the pool
            self._finish(job, "failed", self._on_error(exc))
            return
        size = self._size_of(job.result)
        cap = self.max_result_bytes
        if cap is not None and size > cap:
            job.result = None
            self._finish(job, "failed", f"the result takes {size / 2**20:,.0f} MiB, more than "
                                        f"the {cap / 2**20:,.0f} MiB a server keeps; add "
                                        "constraints or narrow the request")
            return
        with self._lock:
            job.result_bytes = size
            job.progress = 1.0
            self._finish(job, "done", None)
            self._bound_memory()

    def _finish(self, job: Job, status: str, error: str | None) -> None:
        job.error = error
        job.finished = datetime.now(UTC)
        job.finished_at_monotonic = time.monotonic()
        job.status = status

    def get(self, job_id: str) -> Job:
        """The job; KeyError if unknown or forgotten."""
        with self._lock:
            self._prune()
            return self._jobs[job_id]

    def cancel(self, job_id: str) -> Job:
        """Ask the job to stop (it stops at its next progress report); KeyError if unknown."""
        with self._lock:
            job = self._jobs[job_id]
            if job.status not in _FINISHED:
                job.cancel_event.set()
                fut = self._futures.get(job_id)
                if fut is not None and fut.cancel():
                    self._finish(job, "cancelled", "cancelled before it started")
        return job

    def _prune(self) -> None:
        now = time.monotonic()
        done = [j for j in self._jobs.values() if j.finished_at_monotonic is not None]
        for j in done:
            assert j.finished_at_monotonic is not None
            if now - j.finished_at_monotonic > self.ttl_s:
                self._forget(j.id)
        done = sorted((j for j in self._jobs.values() if j.finished_at_monotonic is not None),
                      key=lambda j: j.finished_at_monotonic or 0.0)
        while len(self._jobs) > self.max_kept and done:
            self._forget(done.pop(0).id)

    def held_bytes(self) -> int:
        """Bytes held by the results of finished jobs."""
        return sum(j.result_bytes for j in self._jobs.values() if j.status == "done")

    def _bound_memory(self) -> None:
        """Drop the oldest results until the rest fit in ``max_result_bytes`` (lock held)."""
        cap = self.max_result_bytes
        if cap is None:
            return
        done = sorted((j for j in self._jobs.values() if j.status == "done"),
                      key=lambda j: j.finished_at_monotonic or 0.0)
        total = sum(j.result_bytes for j in done)
        while total > cap and done:
            old = done.pop(0)
            total -= old.result_bytes
            old.result, old.result_bytes, old.status = None, 0, "expired"
            old.error = (f"its result was dropped to keep the server's job results under "
                         f"{cap / 2**20:,.0f} MiB; run the job again")

    def _forget(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)
        self._futures.pop(job_id, None)

    def open(self) -> None:
        """Start the threads again after :meth:`shutdown` (a new lifespan of the app)."""
        with self._lock:
            if self._closed:
                self._pool = ThreadPoolExecutor(max_workers=self._threads,
                                                thread_name_prefix="overflight-job",
                                                initializer=lower_thread_priority)
                self._closed = False

    def shutdown(self) -> None:
        """Cancel everything and stop the threads (without waiting for running jobs)."""
        with self._lock:
            for job in self._jobs.values():
                job.cancel_event.set()
            self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
