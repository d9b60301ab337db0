"""Computations in worker processes: each worker holds its own read-only :class:`Service` over
the server's database (built once, by the pool's initializer) and runs one of its methods per
call, so that the computations' Python work (planning, window rows, validating the answer) does
not hold the server's interpreter lock, which the event loop and the catalog reads need.

Workers are started with ``spawn`` (never ``fork`` from a threaded server), run nicer than the
server (:data:`~overflight.server.jobs.BACKGROUND_NICE`) and send back what the method returns
(an answer's bytes, or a JSON-ready dict). A user error comes back as an :class:`ApiError`
(its status and line as the thread path answers them); a bug as :class:`WorkerBug` with its
traceback as text, for the server's log. A worker that dies breaks the pool: the calls in it
fail (``BrokenProcessPool``) and the next call starts a new pool.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overflight.server.service import Limits, Service

__all__ = ["ComputePool", "WorkerBug"]

_service: Service | None = None  # the worker's own, set by _start


class WorkerBug(Exception):
    """An unexpected error in a worker: the error's class name and its traceback (text)."""

    def __init__(self, name: str, traceback_text: str) -> None:
        super().__init__(name, traceback_text)
        self.name = name
        self.traceback_text = traceback_text

    def __str__(self) -> str:
        return f"{self.name} in a worker process:\n{self.traceback_text}"


def _exit_with_parent() -> None:
    """End this worker when the server process ends, however it ends (a SIGKILLed server
    cannot stop its workers; without this they would wait for work forever)."""
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="overflight-parent-watch", daemon=True).start()


def _start(db_path: str, limits: dict[str, Any], nice: int) -> None:
    """Worker initializer: end with the server; lower the priority to ``nice`` (the server's
    plus the background step), then build the worker's Service and load what every
    computation needs."""
    global _service
    import signal

    # Ctrl-C reaches the whole process group: the server decides, and ends its workers at
    # shutdown (no traceback from each worker).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, nice)
    from overflight.sensors import shipped_sensors
    from overflight.server.service import Limits, Service

    # No cache here: the server keeps the answers (and their keys).
    _service = Service(db_path, None, Limits(**{**limits, "cache_entries": 0}))
    import overflight.passes  # noqa: F401  (loaded once, not by the first request)

    shipped_sensors()
    _service.catalogs.get()


def _call(method: str, generation: int, args: tuple[Any, ...]) -> Any:
    """``Service.<method>(*args)`` in this worker, on the catalog as of the server's
    ``generation`` (imports so far)."""
    import traceback

    from overflight.errors import OverflightError
    from overflight.server.service import ApiError, user_error_line, user_error_status

    assert _service is not None, "worker not initialized"
    _service.catalogs.follow(generation)
    try:
        return getattr(_service, method)(*args)
    except ApiError:
        raise
    except OverflightError as exc:
        raise ApiError(user_error_status(exc), user_error_line(exc)) from None
    except Exception as exc:
        raise WorkerBug(exc.__class__.__name__, traceback.format_exc()) from None


def _ready() -> int:
    return os.getpid()


class ComputePool:
    """``processes`` worker processes running :class:`Service` methods over ``db_path``."""

    def __init__(self, db_path: Path, limits: Limits, processes: int) -> None:
        self.db_path = db_path
        self.limits = limits
        self.processes = processes
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def _new_pool(self) -> ProcessPoolExecutor:
        from overflight.server.jobs import BACKGROUND_NICE

        nice = min(19, os.getpriority(os.PRIO_PROCESS, 0) + BACKGROUND_NICE)
        pool = ProcessPoolExecutor(
            self.processes, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(str(self.db_path), dataclasses.asdict(self.limits), nice))
        for _ in range(self.processes):  # start every worker now, not on the first requests
            pool.submit(_ready)
        return pool

    def open(self) -> None:
        """Start the workers (again, after a shutdown)."""
        with self._lock:
            self._closed = False
            if self._pool is None:
                self._pool = self._new_pool()

    def submit(self, method: str, generation: int, *args: Any) -> Future[Any]:
        """Run ``Service.<method>(*args)`` in a worker. RuntimeError once shut down; a broken
        pool (a worker died) is replaced first."""
        with self._lock:
            if self._pool is None:
                if self._closed:
                    raise RuntimeError("compute pool shut down")
                self._pool = self._new_pool()
            try:
                return self._pool.submit(_call, method, generation, args)
            except BrokenProcessPool:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
                return self._pool.submit(_call, method, generation, args)

    def pids(self) -> list[int]:
        """The worker processes' ids (those started so far)."""
        with self._lock:
            procs = getattr(self._pool, "_processes", None) or {}
            return sorted(procs)

    def shutdown(self, grace_s: float = 2.0) -> None:
        """Stop the workers: queued calls are cancelled; a computation still running after
        ``grace_s`` is ended with its worker (SIGTERM, then SIGKILL)."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._closed = True
        if pool is None:
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            p.join(grace_s)
            if p.is_alive():
                p.terminate()
                p.join(1.0)
            if p.is_alive():
                p.kill()
                p.join(1.0)
        pool.shutdown(wait=True)
