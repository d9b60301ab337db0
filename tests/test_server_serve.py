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
