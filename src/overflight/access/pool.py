"""A small fork-based worker pool: tasks out, results back in order of completion.

Why not ``concurrent.futures``: its management thread, queues and semaphores make a Ctrl-C at
the wrong moment hang the shutdown or print a traceback from that thread. Here every worker is
a forked child with one socket pair to the parent; the tasks are known before the fork, so only
a task's index travels out and its pickled result back. Workers ignore SIGINT (a terminal sends
it to the whole process group; the parent decides), and whenever the parent stops — the last
result, an error, Ctrl-C, or a consumer that closes the iterator — it sends SIGTERM to the
workers still running, SIGKILL to those alive 1 s later, and reaps every one. No
``multiprocessing`` object is created, so no semaphore can leak. A worker that dies raises
:class:`~overflight.errors.WorkerDied` instead of leaving the parent waiting.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import selectors
import signal
import socket
import struct
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from overflight.errors import WorkerDied

__all__ = ["STOP_GRACE_S", "imap_unordered"]

R = TypeVar("R")

STOP_GRACE_S = 1.0
"""Seconds between SIGTERM and SIGKILL when the pool stops workers that are still running."""

_HEADER = struct.Struct("!Q")  # frame length, bytes
_STOP = 2**64 - 1  # task index that tells a worker to exit


def imap_unordered(fn: Callable[..., R], tasks: Sequence[tuple[Any, ...]], workers: int
                   ) -> Iterator[tuple[int, R]]:
    """``(i, fn(*tasks[i]))`` for every task, in order of completion, from ``workers`` forked
    processes (Linux). An exception raised by a task is raised here (with the worker's
    traceback as a note) after the workers are stopped; a worker that dies raises
    :class:`~overflight.errors.WorkerDied`. Closing the iterator early stops the workers."""
    n = max(1, min(workers, len(tasks)))
    pool = _Pool(fn, tasks, n)
    try:
        yield from pool.results()
    finally:
        pool.stop()


class _Worker:
    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock
        self.task: int | None = None
        self.status: int | None = None  # waitpid status once reaped


class _Pool:
    def __init__(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], n: int
                 ) -> None:
        self.fn, self.tasks = fn, tasks
        self.workers: list[_Worker] = []
        try:
            for _ in range(n):
                self.workers.append(self._fork())
        except BaseException:
            self.stop()
            raise

    def _fork(self) -> _Worker:
        parent_sock, child_sock = socket.socketpair()
        # SIGINT blocked across the fork: the worker ignores it before it can arrive there,
        # and the parent gets one that came meanwhile as soon as it unblocks.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
            if pid == 0:  # the worker: never returns into the parent's code
                code = 1
                try:
                    signal.signal(signal.SIGINT, signal.SIG_IGN)
                    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                    parent_sock.close()
                    for w in self.workers:  # the siblings' sockets are not ours
                        w.sock.close()
                    _serve(self.fn, self.tasks, child_sock)
                    code = 0
                finally:
                    os._exit(code)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        child_sock.close()
        return _Worker(pid, parent_sock)

    def results(self) -> Iterator[tuple[int, Any]]:
        todo = iter(range(len(self.tasks)))
        sel = selectors.DefaultSelector()
        try:
            busy = 0
            for w in self.workers:
                busy += self._give(w, next(todo, None))
                sel.register(w.sock, selectors.EVENT_READ, w)
            while busy:
                for key, _ in sel.select():
                    w = key.data
                    frame = _recv(w.sock)
                    if frame is None:
                        raise self._died(w)
                    index, ok, value = pickle.loads(frame)
                    w.task = None
                    busy -= 1
                    if not ok:
                        raise _remote(value)
                    if self._give(w, next(todo, None)):
                        busy += 1
                    else:
                        sel.unregister(w.sock)  # it exits: its EOF is no death
                    yield index, value
        finally:
            sel.close()

    def _give(self, w: _Worker, index: int | None) -> int:
        """Send task ``index`` to ``w`` (None: nothing left, tell it to exit); 1 if sent."""
        try:
            w.sock.sendall(_HEADER.pack(_STOP if index is None else index))
        except OSError:
            if index is None:
                return 0
            raise self._died(w) from None
        w.task = index
        return 0 if index is None else 1

    def _died(self, w: _Worker) -> WorkerDied:
        _, status = os.waitpid(w.pid, 0)
        w.status = status
        how = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exit status {os.waitstatus_to_exitcode(status)}")
        return WorkerDied(f"worker process {w.pid} died ({how}) while computing task {w.task}")

    def stop(self) -> None:
        """End every worker (SIGTERM, SIGKILL after :data:`STOP_GRACE_S`) and reap it."""
        for w in self.workers:
            w.sock.close()  # a worker waiting for a task sees EOF and exits by itself
        live = [w for w in self.workers if w.status is None]
        for w in live:
            if _reap(w) is None and w.task is not None:
                _kill(w.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while live:
            live = [w for w in live if _reap(w) is None]
            if not live:
                break
            if time.monotonic() >= deadline:
                for w in live:
                    _kill(w.pid, signal.SIGKILL)
                for w in live:
                    w.status = os.waitpid(w.pid, 0)[1]
                break
            time.sleep(0.005)


def _reap(w: _Worker) -> int | None:
    """``w``'s exit status if it has ended (reaping it), else None."""
    if w.status is None:
        try:
            pid, status = os.waitpid(w.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = w.pid, 0
        if pid:
            w.status = status
    return w.status


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _serve(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], sock: socket.socket
           ) -> None:
    """The worker's loop: read a task index, run it, send ``(index, ok, result)``."""
    # Whatever the parent installed (a CLI's SIGTERM handler) is not the worker's: it dies.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        head = _recv_exact(sock, _HEADER.size)
        if head is None:
            return
        (index,) = _HEADER.unpack(head)
        if index == _STOP:
            return
        try:
            reply = pickle.dumps((index, True, fn(*tasks[index])), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            reply = pickle.dumps((index, False, _portable(exc)), pickle.HIGHEST_PROTOCOL)
        sock.sendall(_HEADER.pack(len(reply)) + reply)


def _portable(exc: Exception) -> tuple[Exception, str]:
    """``exc`` and its traceback text, as something that pickles (else a RuntimeError)."""
    text = "".join(traceback.format_exception(exc))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc, text


def _remote(value: tuple[Exception, str]) -> Exception:
    exc, text = value
    exc.add_note("in a worker process:\n" + text.rstrip())
    return exc


def _recv(sock: socket.socket) -> bytes | None:
    head = _recv_exact(sock, _HEADER.size)
    if head is None:
        return None
    return _recv_exact(sock, _HEADER.unpack(head)[0])


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    """``n`` bytes from ``sock``, or None at EOF (the other end closed or died)."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            return None
        got += k
    return bytes(buf)
