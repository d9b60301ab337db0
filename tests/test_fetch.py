"""HTTP import against a local server on 127.0.0.1: conditional requests, timeouts, truncated,
HTML and oversize responses, Space-Track login; then the catalog import of URLs."""

from __future__ import annotations

import gzip
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from overflight.catalog import fetch

FIXTURES = Path(__file__).parent / "fixtures" / "fetch"
STATIONS = (FIXTURES / "stations.tle").read_bytes()
LAST_MODIFIED = "Sat, 30 May 2026 22:50:00 GMT"
ETAG = '"stations-v1"'
BIG = 5 * 1024 * 1024


@dataclass
class Log:
    """What the server did: (method, path, status, body bytes sent) per request."""

    requests: list[tuple[str, str, int, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, *entry: Any) -> None:
        with self.lock:
            self.requests.append(entry)  # type: ignore[arg-type]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/plain", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.server.log.add(self.command, self.path, status, len(body))  # before the client sees it
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.posts.append((self.path, body))
        form = parse_qs(body.decode())
        if self.path == "/ajaxauth/login":
            if form.get("identity") == ["analyst"] and form.get("password") == ["secret"]:
                self._send(200, b'""', "application/json", Set_Cookie="chocolatechip=ok; Path=/")
            else:
                self._send(200, b'{"Login":"Failed"}', "application/json")
            return
        self._send(404, b"not found")

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k.upper(): v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        try:
            self._route(path, query)
        except (BrokenPipeError, ConnectionResetError):
            self.server.log.add("GET", self.path, -1, 0)

    def _route(self, path: str, query: dict[str, str]) -> None:
        if path == "/NORAD/elements/gp.php":
            if query.get("FORMAT") == "json":
                self._send(200, (FIXTURES / "stations.json").read_bytes(), "application/json")
                return
            if self.headers.get("If-None-Match") == self.server.etag:
                self._send(304, b"", ETag=self.server.etag)
                return
            self._send(200, self.server.body, ETag=self.server.etag, Last_Modified=LAST_MODIFIED)
        elif path == "/lm/stations.tle":
            if self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                self._send(304, b"")
                return
            self._send(200, STATIONS, Last_Modified=LAST_MODIFIED)
        elif path == "/slow.tle":
            time.sleep(1.5)
            self._send(200, STATIONS)
        elif path == "/truncated.tle":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(STATIONS)))
            self.end_headers()
            self.wfile.write(STATIONS[: len(STATIONS) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.server.log.add("GET", path, 200, len(STATIONS) // 2)
        elif path == "/login":
            self._send(200, (FIXTURES / "login.html").read_bytes(), "text/html; charset=utf-8")
        elif path == "/sniff.tle":
            self._send(200, b"\n\n  " + (FIXTURES / "login.html").read_bytes(), "text/plain")
        elif path == "/big-declared.tle":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(BIG))
            self.end_headers()
            sent = 0
            while sent < BIG:
                self.wfile.write(STATIONS)
                sent += len(STATIONS)
            self.server.log.add("GET", path, 200, sent)
        elif path == "/big-chunked.tle":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            sent = 0
            while sent < BIG:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(STATIONS), STATIONS))
                sent += len(STATIONS)
            self.wfile.write(b"0\r\n\r\n")
            self.server.log.add("GET", path, 200, sent)
        elif path == "/encoded/stations.tle":
            self._send(200, gzip.compress(STATIONS), Content_Encoding="gzip")
        elif path == "/files/stations.tle.gz":
            self._send(200, gzip.compress(STATIONS), "application/gzip")
        elif path == "/empty.tle":
            self._send(200, b"")
        elif path == "/redirect-away.tle":
            self._send(302, b"", Location="http://localhost:1/stations.tle")
        elif path == "/redirect-here.tle":
            self._send(302, b"", Location="/lm/stations.tle")
        elif path == "/trickle.tle":  # every read is quick, the whole takes ~3 s
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.close_connection = True
            for line in STATIONS.splitlines(keepends=True)[:30]:
                self.wfile.write(line)
                self.wfile.flush()
                time.sleep(0.1)
            self.server.log.add("GET", path, 200, 0)
        elif path == "/bomb.tle.gz":
            self._send(200, self.server.bomb, "application/gzip")
        elif path == "/rejected.json":
            self._send(200, b'[{"NORAD_CAT_ID": 1, "MEAN_MOTION": 1e300}]', "application/json")
        elif path.startswith("/basicspacedata/"):
            if "chocolatechip=ok" not in (self.headers.get("Cookie") or ""):
                self._send(401, b'{"error":"You must be logged in"}', "application/json")
                return
            self._send(200, STATIONS)
        else:
            self._send(404, b"not found")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.log = Log()
        self.posts: list[tuple[str, bytes]] = []
        self.bomb = b""
        self.etag = ETAG
        self.body = STATIONS

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:  # client aborts: quiet
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def gp(srv: Server, fmt: str = "tle") -> str:
    return f"{srv.base}/NORAD/elements/gp.php?GROUP=stations&FORMAT={fmt}"


# ---- fetch() ---------------------------------------------------------------------------------
def test_plain_download(server: Server) -> None:
    res = fetch.fetch(gp(server))
    assert res.status == 200 and res.data == STATIONS and not res.not_modified
    assert res.etag == ETAG and res.last_modified == LAST_MODIFIED


def test_etag_conditional_request_downloads_nothing(server: Server) -> None:
    first = fetch.fetch(gp(server))
    again = fetch.fetch(gp(server), etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.data is None and again.status == 304
    assert server.log.requests[-1][2:] == (304, 0)
    server.etag = '"stations-v2"'  # changed upstream: downloaded again
    assert fetch.fetch(gp(server), etag=first.etag).data == STATIONS


def test_last_modified_conditional_request(server: Server) -> None:
    url = f"{server.base}/lm/stations.tle"
    first = fetch.fetch(url)
    assert first.etag is None and first.last_modified == LAST_MODIFIED
    assert fetch.fetch(url, last_modified=first.last_modified).not_modified


def test_slow_server_times_out(server: Server) -> None:
    start = time.monotonic()
    with pytest.raises(fetch.FetchError, match=r"slow\.tle: timed out after 0\.3 s"):
        fetch.fetch(f"{server.base}/slow.tle", timeout_s=0.3)
    assert time.monotonic() - start < 1.4


def test_truncated_body_is_an_error(server: Server) -> None:
    with pytest.raises(fetch.FetchError, match="truncated"):
        fetch.fetch(f"{server.base}/truncated.tle")


@pytest.mark.parametrize("path", ["/login", "/sniff.tle"])
def test_html_instead_of_data(server: Server, path: str) -> None:
    with pytest.raises(fetch.FetchError, match="HTML page, not element sets"):
        fetch.fetch(server.base + path)


def test_oversize_declared_length_is_refused_before_download(server: Server) -> None:
    with pytest.raises(fetch.FetchError, match="over the 1,048,576-byte limit"):
        fetch.fetch(f"{server.base}/big-declared.tle", max_bytes=1024 * 1024)


def test_oversize_stream_is_aborted(server: Server) -> None:
    seen: list[int] = []
    with pytest.raises(fetch.FetchError, match="exceeds the 1,048,576-byte limit"):
        fetch.fetch(
            f"{server.base}/big-chunked.tle",
            max_bytes=1024 * 1024,
            progress=lambda n, total: seen.append(n),
        )
    assert seen and max(seen) <= 1024 * 1024 and seen == sorted(seen)


def test_gzip_content_encoding_is_decoded(server: Server) -> None:
    assert fetch.fetch(f"{server.base}/encoded/stations.tle").data == STATIONS


def test_http_errors_and_unreachable(server: Server) -> None:
    with pytest.raises(fetch.FetchError, match="HTTP 404"):
        fetch.fetch(f"{server.base}/nothing-here")
    with pytest.raises(fetch.FetchError, match="empty response"):
        fetch.fetch(f"{server.base}/empty.tle")
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    with pytest.raises(fetch.FetchError, match="cannot connect"):
        fetch.fetch(f"http://127.0.0.1:{port}/x.tle", timeout_s=2)


def test_spacetrack_login(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"{server.base}/basicspacedata/query/class/gp/NORAD_CAT_ID/25544/format/3le"
    trusted = server.base  # stands in for https://www.space-track.org (tests only)
    monkeypatch.delenv(fetch.ENV_SPACETRACK_USER, raising=False)
    with pytest.raises(fetch.FetchError, match="login required; set OVERFLIGHT_SPACETRACK_USER"):
        fetch.fetch(url, spacetrack_origin=trusted)
    monkeypatch.setenv(fetch.ENV_SPACETRACK_USER, "analyst")
    monkeypatch.setenv(fetch.ENV_SPACETRACK_PASSWORD, "wrong")
    with pytest.raises(fetch.FetchError, match="login failed"):
        fetch.fetch(url, spacetrack_origin=trusted)
    monkeypatch.setenv(fetch.ENV_SPACETRACK_PASSWORD, "secret")
    assert fetch.fetch(url, spacetrack_origin=trusted).data == STATIONS


def test_spacetrack_credentials_go_to_the_trusted_origin_only(
    server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Issue 18.1: any URL with /basicspacedata/ got identity=u&password=p POSTed to its host.
    monkeypatch.setenv(fetch.ENV_SPACETRACK_USER, "u")
    monkeypatch.setenv(fetch.ENV_SPACETRACK_PASSWORD, "p")
    url = f"{server.base}/basicspacedata/query/class/gp/format/3le"
    with pytest.raises(fetch.FetchError, match="HTTP 401") as exc:
        fetch.fetch(url)
    assert "OVERFLIGHT_SPACETRACK" not in str(exc.value)  # no hint: not Space-Track
    from overflight.cli import main

    with pytest.raises(SystemExit):
        main(["catalog", "import", url, "--db", str(tmp_path / "c.db")])
    assert server.posts == []  # nothing was sent: not a login, not the password
    assert fetch.SPACETRACK_ORIGIN == "https://www.space-track.org"
    assert fetch._is_spacetrack("https://www.space-track.org/basicspacedata/query")
    for other in (
        "http://www.space-track.org/basicspacedata/query",  # plain http
        "https://www.space-track.org.evil.example/basicspacedata/query",
        "https://space-track.org/basicspacedata/query",
        "https://www.space-track.org:8443/basicspacedata/query",
    ):
        assert not fetch._is_spacetrack(other), other


def test_redirects_only_to_the_same_host(server: Server) -> None:
    with pytest.raises(fetch.FetchError, match="another host: not followed"):
        fetch.fetch(f"{server.base}/redirect-away.tle")
    assert fetch.fetch(f"{server.base}/redirect-here.tle").data == STATIONS
    assert fetch._redirect_allowed("http://a.org/x", "https://a.org/y")
    assert not fetch._redirect_allowed("https://a.org/x", "http://a.org/y")
    assert not fetch._redirect_allowed("https://a.org/x", "https://b.org/y")


def test_timeout_is_a_total_deadline(server: Server) -> None:
    # Issue 18.9: a server sending a line every 0.1 s never hit the per-read timeout.
    start = time.monotonic()
    with pytest.raises(fetch.FetchError, match=r"timed out after 0\.5 s"):
        fetch.fetch(f"{server.base}/trickle.tle", timeout_s=0.5)
    assert time.monotonic() - start < 1.2


def test_password_in_url_is_redacted(server: Server, tmp_path: Path) -> None:
    from overflight.catalog import Catalog, ImportFailed

    port = server.server_address[1]
    assert fetch.redact_url("https://u:pw@h.org/a?b=1") == "https://***@h.org/a?b=1"
    with pytest.raises(fetch.FetchError) as exc:
        fetch.fetch(f"http://agent:hunter2@127.0.0.1:{port}/nothing")
    assert "hunter2" not in str(exc.value) and "***@127.0.0.1" in str(exc.value)
    db = tmp_path / "c.db"
    with Catalog.open(db, create=True) as cat:
        res = cat.import_sources([f"http://agent:hunter2@127.0.0.1:{port}/lm/stations.tle"])
        assert res.new == 25 and "hunter2" not in res.sources[0].source
        with pytest.raises(ImportFailed) as failed:
            cat.import_sources([f"http://agent:hunter2@127.0.0.1:{port}/nothing"])
        assert "hunter2" not in str(failed.value)
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert "hunter2" not in dump and "***@127.0.0.1" in dump


def test_gzip_bomb_through_a_url_is_capped(server: Server, tmp_path: Path) -> None:
    from overflight.catalog import Catalog

    server.bomb = gzip.compress(b"0" * (8 * 1024 * 1024), 9)
    with Catalog.open(tmp_path / "c.db", create=True) as cat:
        res = cat.import_sources(
            [f"{server.base}/bomb.tle.gz"], max_decompressed_bytes=2 * 1024 * 1024
        )
    assert res.new == 0
    assert [str(e) for e in res.errors] == [
        f"{server.base}/bomb.tle.gz: gzip data expands to more than 2 MB, the decompression "
        "limit (max_decompressed_bytes, $OVERFLIGHT_MAX_DECOMPRESSED_MB); not read"
    ]


def test_fully_rejected_url_leaves_no_rows(server: Server, tmp_path: Path) -> None:
    from overflight.catalog import Catalog

    db = tmp_path / "c.db"
    with Catalog.open(db, create=True) as cat:
        res = cat.import_sources([f"{server.base}/rejected.json"], group="junk")
        assert res.rejected == 1 and res.new == 0
        assert cat.groups() == []
    conn = sqlite3.connect(db)
    for table in ("sources", "fetch_state", "groups", "objects"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_url_hints() -> None:
    ct = "https://celestrak.org/NORAD/elements/gp.php?GROUP=Stations&FORMAT=json"
    assert fetch.format_hint(ct) == "omm-json" and fetch.group_hint(ct) == "stations"
    st = "https://www.space-track.org/basicspacedata/query/class/gp/NORAD_CAT_ID/58400/format/3le"
    assert fetch.format_hint(st) == "tle" and fetch.group_hint(st) is None
    assert fetch.format_hint("https://x.org/a/b.tle") is None
    assert fetch.group_hint("https://x.org/a/starlink.tle.gz") == "starlink"
    assert fetch.group_hint("https://celestrak.org/NORAD/elements/gp.php?CATNR=25544") is None
    assert fetch.is_url("HTTPS://x") and not fetch.is_url("ftp://x") and not fetch.is_url("a.tle")


# ---- importing URLs into the catalog ---------------------------------------------------------
def _count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM element_sets").fetchone()[0])
    finally:
        conn.close()


def test_import_url_then_unchanged_refetch(server: Server, tmp_path: Path) -> None:
    from overflight.catalog import Catalog

    db = tmp_path / "c.db"
    with Catalog.open(db, create=True) as cat:
        first = cat.import_sources([gp(server)])
        assert (first.new, first.rejected) == (25, 0)
        assert first.sources[0].group == "stations"
        assert [g.name for g in cat.groups()] == ["stations"]
        again = cat.import_sources([gp(server)])
    assert again.sources[0].not_modified and again.new == 0
    assert server.log.requests[-1][2:] == (304, 0)  # nothing downloaded
    assert _count(db) == 25


def test_import_url_formats(server: Server, tmp_path: Path) -> None:
    from overflight.catalog import Catalog

    with Catalog.open(tmp_path / "c.db", create=True) as cat:
        json_res = cat.import_sources([gp(server, "json")])
        assert (json_res.new, json_res.rejected) == (2, 0)
        # The same element sets in TLE form are duplicates of the OMM ones.
        tle_res = cat.import_sources([f"{server.base}/files/stations.tle.gz"])
        assert (tle_res.new, tle_res.duplicates) == (23, 2)
        assert tle_res.sources[0].group == "stations"


@pytest.mark.parametrize(
    ("path", "message"),
    [("/truncated.tle", "truncated"), ("/login", "HTML page"), ("/nothing", "HTTP 404")],
)
def test_failed_download_stores_nothing(
    server: Server, tmp_path: Path, path: str, message: str
) -> None:
    from overflight.catalog import Catalog, ImportFailed

    db = tmp_path / "c.db"
    local = tmp_path / "weather.tle"
    local.write_bytes(STATIONS)
    with Catalog.open(db, create=True) as cat, pytest.raises(ImportFailed, match=message):
        cat.import_sources([local, server.base + path])  # the good file is not stored either
    assert _count(db) == 0


def test_cli_import_url(server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from overflight.cli import main

    db = str(tmp_path / "c.db")
    try:  # success returns (or exits 0)
        main(["catalog", "import", gp(server), "--db", db, "--format", "json",
              "--no-snapshot"])
    except SystemExit as done:
        assert done.code in (0, None)
    assert '"new": 25' in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["catalog", "import", f"{server.base}/slow.tle", "--timeout", "0.3", "--db", db])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "timed out" in err and "Traceback" not in err
