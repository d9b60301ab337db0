"""The fork pool of the window engine: order of completion, errors, dead workers, clean stop."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from _support import alive
from overflight.access.pool import imap_unordered
from overflight.errors import OverflightError, WorkerDied

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork, /proc")


_BEFORE: set[int] = set()


def _children() -> list[int]:
    """Children of this process started during the test (zombies too), from /proc."""
    return [p for p in _all_children() if p not in _BEFORE]


def _all_children() -> list[int]:
    """This process's children, from /proc."""
    me = os.getpid()
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == me:
                out.append(int(entry))
    return out


def _nap(i: int, delay_s: float) -> tuple[int, int]:
    time.sleep(delay_s)
    return i, os.getpid()


def _fails(i: int) -> int:
    if i == 2:
        raise OverflightError(f"task {i} refused")
    return i


def _dies(i: int) -> int:
    if i == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return i


def test_results_in_order_of_completion() -> None:
    tasks = [(0, 0.6), (1, 0.05), (2, 0.3)]
    got = list(imap_unordered(_nap, tasks, 3))
    assert [k for k, _ in got] == [1, 2, 0]
    assert [v[0] for _, v in got] == [1, 2, 0]
    assert len({v[1] for _, v in got}) == 3 and os.getpid() not in {v[1] for _, v in got}
    assert not [p for p in _children() if alive(p)]


def test_every_task_once_with_fewer_workers() -> None:
    tasks = [(i, 0.01 * (i % 3)) for i in range(20)]
    got = dict(imap_unordered(_nap, tasks, 2))
    assert sorted(got) == list(range(20))
    assert all(v[0] == k for k, v in got.items())
    assert len({v[1] for v in got.values()}) <= 2


def test_exception_in_a_task_propagates() -> None:
    with pytest.raises(OverflightError, match="task 2 refused") as info:
        list(imap_unordered(_fails, [(i,) for i in range(5)], 2))
    assert any("in a worker process" in n for n in getattr(info.value, "__notes__", []))
    assert not [p for p in _children() if alive(p)]


def test_dead_worker_raises_worker_died() -> None:
    t0 = time.monotonic()
    with pytest.raises(WorkerDied, match="signal 9"):
        list(imap_unordered(_dies, [(i,) for i in range(4)], 2))
    assert time.monotonic() - t0 < 5
    assert not [p for p in _children() if alive(p)]


def test_stop_early_ends_every_worker() -> None:
    """A consumer that stops after the first result (as Ctrl-C does) leaves no child: busy
    workers get SIGTERM, and all are reaped (no zombies either)."""
    tasks = [(0, 0.0)] + [(i, 30.0) for i in range(1, 4)]
    it = imap_unordered(_nap, tasks, 3)
    assert next(it)[0] == 0
    assert len(_children()) == 3
    t0 = time.monotonic()
    it.close()
    assert time.monotonic() - t0 < 3
    assert _children() == []


def _ignores_term(i: int) -> int:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(30)
    return i


def test_interrupt_kills_a_worker_that_ignores_sigterm() -> None:
    """Ctrl-C in the parent while workers compute: SIGTERM, then SIGKILL after the 1-s grace
    for a worker that ignores it; every child reaped."""

    def interrupt(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            list(imap_unordered(_ignores_term, [(0,), (1,)], 2))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert 1.4 <= time.monotonic() - t0 < 4
    assert _children() == []


@pytest.fixture(autouse=True)
def _others() -> None:
    """Children other tests of the session left (a resource tracker, a cluster's): not ours."""
    _BEFORE.clear()
    _BEFORE.update(_all_children())


def test_cli_reports_a_dead_worker_with_exit_3(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A worker killed under a job is not a usage error: one line, exit status 3."""
    import overflight.cli as cli

    def boom(**_kw: object) -> None:
        raise WorkerDied("window worker 123 ended by SIGKILL (out of memory?)")

    monkeypatch.setattr(cli, "app", boom)
    with pytest.raises(SystemExit) as info:
        cli.main(["passes"])
    assert info.value.code == 3
    err = capsys.readouterr().err
    assert err.strip() == "overflight: error: window worker 123 ended by SIGKILL (out of memory?)"
