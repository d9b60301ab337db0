"""`overflight serve`: starts uvicorn on loopback and answers; one-line errors for bad options."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("uvicorn")


def test_serve_answers_on_loopback(tmp_path: Path) -> None:
    env = {**os.environ, "OVERFLIGHT_DB": str(tmp_path / "none.db"),
           "OVERFLIGHT_TOKEN": "s3cret"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "overflight", "serve", "--port", "0", "--max-work", "50"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
            port = int(found.group(1)) if found else None
        assert port, "".join(lines)
        assert "serving the bundled snapshot" in "".join(lines)
        assert "writes enabled" in "".join(lines)
        base = f"http://127.0.0.1:{port}"
        info = httpx.get(f"{base}/api/info", timeout=10).json()
        assert info["writes_enabled"] and info["limits"]["max_work"] == 50
        page = httpx.get(f"{base}/", timeout=10)
        assert page.status_code == 200 and "overflight" in page.text
        big = httpx.get(f"{base}/api/passes", params={"group": "resource", "site": "Seoul",
                                                         "start": "2026-05-31T00:00Z"},
                        timeout=10)
        assert big.status_code == 422 and "at most 50" in big.json()["error"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_port_in_use_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "OVERFLIGHT_DB": str(tmp_path / "none.db")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "overflight", "serve", "--port", str(port)],
                             capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith(f"overflight: error: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in out.stderr


# ---- connection limits (issue 18, item 8): slow clients, malformed HTTP ------------------------
def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """`overflight serve` on 127.0.0.1, any free port: (process, base URL)."""
    env = {**os.environ, "OVERFLIGHT_DB": str(tmp_path / "none.db")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "overflight", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
        if found:
            return proc, f"http://127.0.0.1:{found.group(1)}"
    proc.kill()
    proc.wait()
    raise AssertionError("".join(lines))


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _read_all(sock: socket.socket, timeout_s: float) -> bytes:
    sock.settimeout(timeout_s)
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return out


@pytest.mark.slow
def test_half_open_connections_time_out_while_requests_are_answered(tmp_path: Path) -> None:
    """100 clients that send half a request line and stall (bounded: 100 sockets, a few
    seconds, loopback only): a normal request is still answered at once, and each stalled
    connection gets a JSON 408 and is closed when the header deadline passes."""
    proc, base = _start(tmp_path, "--header-timeout", "2", "--max-connections", "150")
    port = int(base.rsplit(":", 1)[1])
    stalled: list[socket.socket] = []
    try:
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /api/info HTTP/1.1\r\nHost: x\r\n")  # headers never finished
            stalled.append(s)
        t0 = time.monotonic()
        resp = httpx.get(f"{base}/api/info", timeout=5)
        assert resp.status_code == 200 and time.monotonic() - t0 < 1.5
        # Past the deadline, every stalled connection was answered 408 and closed.
        time.sleep(2.5)
        answers = [_read_all(s, 2.0) for s in stalled[:10]]
        for a in answers:
            assert a.startswith(b"HTTP/1.1 408"), a[:80]
            assert b'{"error": "request line and headers not received within 2 s"}' in a
        assert httpx.get(f"{base}/api/info", timeout=5).status_code == 200
    finally:
        for s in stalled:
            s.close()
        _stop(proc)


@pytest.mark.slow
def test_connection_cap_and_malformed_http_answer_json(tmp_path: Path) -> None:
    proc, base = _start(tmp_path, "--max-connections", "5", "--max-header-kb", "4")
    port = int(base.rsplit(":", 1)[1])
    held: list[socket.socket] = []
    try:
        # A non-numeric Content-Length: uvicorn's plain-text 400 before; JSON now.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /api/passes HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}")
            answer = _read_all(s, 5)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
        head, _, body = answer.partition(b"\r\n\r\n")
        assert b"application/json" in head and b'"error": "malformed HTTP request' in body
        # Headers over the cap (4 KiB).
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8192 + b"\r\n\r\n")
            assert _read_all(s, 5).startswith(b"HTTP/1.1 400")
        # Beyond 5 open connections, a new one is answered 503 in JSON and closed.
        for _ in range(5):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            answer = _read_all(s, 5)
        assert answer.startswith(b"HTTP/1.1 503") and b"open connections" in answer, answer
    finally:
        for s in held:
            s.close()
        _stop(proc)


def test_cached_answers_over_http_are_the_computed_ones(tmp_path: Path) -> None:
    """Through uvicorn: a miss, an ordinary hit (a new spelling, parsed) and a hit answered
    before parsing (a known request) send the same body and the same headers (but
    ``x-overflight-cache`` and ``date``)."""
    proc, base = _start(tmp_path)
    q = {"group": "military", "site": "Naval Station Norfolk", "start": "2026-05-31T00:00Z",
         "days": "1", "max_off_nadir_deg": "45"}

    def get(params: dict[str, str]) -> tuple[str, list[tuple[str, str]], bytes]:
        resp = httpx.get(f"{base}/api/passes", params=params, timeout=60)
        assert resp.status_code == 200, resp.text
        head = [(k, v) for k, v in resp.headers.multi_items()
                if k not in ("x-overflight-cache", "date")]
        return resp.headers["x-overflight-cache"], head, resp.content

    try:
        answers = [get(q), get(dict(reversed(q.items()))), get(q), get(q)]
    finally:
        _stop(proc)
    assert [a[0] for a in answers] == ["miss", "hit", "hit", "hit"]
    assert all(a[1:] == answers[0][1:] for a in answers)
    assert ("content-type", "application/json") in answers[0][1]
