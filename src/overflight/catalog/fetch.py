"""Download element sets over HTTP(S): timeouts, a size cap, conditional requests, clear errors.

Works with CelesTrak (``https://celestrak.org/NORAD/elements/gp.php?GROUP=stations&FORMAT=tle``)
and Space-Track (``https://www.space-track.org/basicspacedata/query/class/gp/.../format/3le``).
Space-Track needs a login: set ``OVERFLIGHT_SPACETRACK_USER`` and
``OVERFLIGHT_SPACETRACK_PASSWORD`` and overflight logs in (``POST /ajaxauth/login``) before the
query. The credentials go to :data:`SPACETRACK_ORIGIN` only (exactly that scheme and host,
never over plain http, never on a redirect); other URLs are fetched without them.

Redirects are followed only to the same host (or from http to https on it); ``timeout_s`` is
a deadline for the whole download; user:password in a URL never appears in messages
(:func:`redact_url`).

Nothing here touches the catalog: :func:`fetch` returns the bytes and the validators to store.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

from overflight.errors import OverflightError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT_S",
    "FetchError",
    "FetchResult",
    "fetch",
    "format_hint",
    "group_hint",
    "is_url",
    "redact_url",
]

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
ENV_SPACETRACK_USER = "OVERFLIGHT_SPACETRACK_USER"
ENV_SPACETRACK_PASSWORD = "OVERFLIGHT_SPACETRACK_PASSWORD"
#: The only origin Space-Track credentials are ever sent to.
SPACETRACK_ORIGIN = "https://www.space-track.org"
MAX_REDIRECTS = 5

#: URL format names (CelesTrak ``FORMAT=``, Space-Track ``/format/``) to overflight format names.
_URL_FORMATS = {
    "tle": "tle",
    "3le": "tle",
    "2le": "tle",
    "json": "omm-json",
    "xml": "omm-xml",
    "csv": "omm-csv",
    "kvn": "omm-kvn",
}


_HTML_MESSAGE = "the server sent an HTML page, not element sets (a login, error or landing page?)"


class FetchError(OverflightError):
    """A download that did not yield usable data; the message is one line naming the URL."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """Outcome of one request: ``data`` is None when the server said "not modified" (304)."""

    url: str
    status: int
    data: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str
    elapsed_s: float

    @property
    def not_modified(self) -> bool:
        return self.data is None


def is_url(text: str) -> bool:
    """True for ``http://`` and ``https://`` references."""
    return text.lower().startswith(("http://", "https://"))


def redact_url(url: str) -> str:
    """``url`` without the password (and user) of a ``user:password@`` part: ``***@host``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port made explicit; ValueError if malformed."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _redirect_allowed(current: str, target: str) -> bool:
    """Same scheme, host and port, or an upgrade from http to https on the same host."""
    try:
        cur, new = _origin(current), _origin(target)
    except ValueError:
        return False
    if cur == new:
        return True
    return cur[0] == "http" and new[0] == "https" and cur[1] == new[1] and new[2] == 443


def format_hint(url: str) -> str | None:
    """The element-set format a URL asks for (``FORMAT=json`` → ``omm-json``), if it says."""
    parts = urlsplit(url)
    for key, values in parse_qs(parts.query).items():
        if key.lower() == "format" and values:
            return _URL_FORMATS.get(values[-1].lower())
    segments = [s for s in parts.path.split("/") if s]
    for i, seg in enumerate(segments[:-1]):
        if seg.lower() == "format":
            return _URL_FORMATS.get(segments[i + 1].lower())
    return None


def group_hint(url: str) -> str | None:
    """A group name for what a URL serves: CelesTrak's ``GROUP=``, else the file name's stem
    for a URL ending in a data file (``.../stations.txt`` → ``stations``), else None."""
    parts = urlsplit(url)
    for key, values in parse_qs(parts.query).items():
        if key.lower() == "group" and values and values[-1]:
            return values[-1].lower()
    name = PurePosixPath(parts.path).name
    suffixes = {".tle", ".txt", ".3le", ".json", ".xml", ".csv", ".kvn", ".gz"}
    if name and PurePosixPath(name).suffix.lower() in suffixes:
        while PurePosixPath(name).suffix.lower() in suffixes:
            name = PurePosixPath(name).stem
        return name or None
    return None


def _looks_like_html(head: bytes, content_type: str) -> bool:
    if "html" in content_type.lower():
        return True
    sniff = head[:1024].lstrip().lower()
    return sniff.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
        b"<html" in sniff and not sniff.startswith(b"<?xml")
    )


def _spacetrack_login(client: httpx.Client, shown: str, origin: str, timeout: Any) -> None:
    user = os.environ.get(ENV_SPACETRACK_USER)
    password = os.environ.get(ENV_SPACETRACK_PASSWORD)
    if not user or not password:
        return
    # Never follows a redirect: the form goes to the trusted origin or nowhere.
    resp = client.post(
        f"{origin}/ajaxauth/login",
        data={"identity": user, "password": password},
        follow_redirects=False,
        timeout=timeout,
    )
    if resp.status_code >= 300 or "failed" in resp.text[:200].lower():
        raise FetchError(f"{shown}: Space-Track login failed (HTTP {resp.status_code})")


def _is_spacetrack(url: str, origin: str = SPACETRACK_ORIGIN) -> bool:
    """True only for URLs on exactly the trusted Space-Track origin (scheme, host, port)."""
    try:
        return _origin(url) == _origin(origin)
    except ValueError:
        return False


class _Deadline:
    """Closes the connection of a response when the total time is up, so that a server
    trickling bytes cannot stretch a download past ``timeout_s``."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.expired = True
        return max(left, 0.001)

    def watch(self, resp: httpx.Response) -> None:
        stream = resp.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is None:
            return

        def expire() -> None:
            self.expired = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        self._timer = threading.Timer(self.remaining(), expire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int, int | None], None] | None = None,
    spacetrack_origin: str = SPACETRACK_ORIGIN,
) -> FetchResult:
    """GET ``url``; with ``etag``/``last_modified`` a conditional request (304 → no data).

    ``timeout_s`` is a deadline for the whole download (connecting, redirects, every byte);
    bodies larger than ``max_bytes`` are aborted while streaming. ``progress(received,
    total)`` is called as bytes arrive. Redirects are followed (at most
    :data:`MAX_REDIRECTS`) only to the same host, or from http to https on it.
    Space-Track credentials are sent only to ``spacetrack_origin`` (a parameter for tests
    against a local server; leave it). Messages show the URL with any password removed.
    Raises :class:`FetchError` for HTTP errors, timeouts, truncated bodies, oversize bodies,
    refused redirects and HTML pages (login or error pages) served instead of element sets.
    """
    import httpx

    from overflight import __version__

    shown = redact_url(url)
    headers = {"User-Agent": f"overflight/{__version__}", "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    start = time.monotonic()
    deadline = _Deadline(start + timeout_s)
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout_s), follow_redirects=False, headers=headers
        ) as client:
            if _is_spacetrack(url, spacetrack_origin):
                _spacetrack_login(
                    client, shown, spacetrack_origin, httpx.Timeout(deadline.remaining())
                )
            elif "space-track" in (urlsplit(url).hostname or "") and os.environ.get(
                ENV_SPACETRACK_USER
            ):
                raise FetchError(
                    f"{shown}: Space-Track credentials are only sent to {spacetrack_origin}; "
                    "use a URL there"
                )
            current = url
            for _ in range(MAX_REDIRECTS + 1):
                request = client.build_request(
                    "GET", current, timeout=httpx.Timeout(deadline.remaining())
                )
                resp = client.send(request, stream=True)
                try:
                    if resp.is_redirect and "location" in resp.headers:
                        target = urljoin(current, resp.headers["location"])
                        if not _redirect_allowed(current, target):
                            raise FetchError(
                                f"{shown}: redirected to {redact_url(target)[:200]}, another "
                                "host: not followed (give that URL if you trust it)"
                            )
                        current = target
                        continue
                    deadline.watch(resp)
                    try:
                        result = _read(shown, resp, max_bytes, start, progress, spacetrack_origin)
                    finally:
                        deadline.cancel()
                    if deadline.expired:  # the watchdog cut a body without a declared length
                        raise httpx.ReadTimeout("deadline reached")
                    return result
                finally:
                    resp.close()
            raise FetchError(f"{shown}: more than {MAX_REDIRECTS} redirects")
    except FetchError as exc:
        if deadline.expired:
            raise FetchError(
                f"{shown}: timed out after {timeout_s:g} s (timeout_s is the limit for the "
                "whole download)"
            ) from exc
        raise
    except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as exc:
        if deadline.expired or isinstance(exc, httpx.TimeoutException):
            raise FetchError(
                f"{shown}: timed out after {timeout_s:g} s ({type(exc).__name__}; timeout_s "
                "is the limit for the whole download)"
            ) from exc
        raise FetchError(
            f"{shown}: the connection closed before the whole response arrived "
            f"(truncated download): {_clean(exc, url, shown)}"
        ) from exc
    except httpx.ConnectError as exc:
        raise FetchError(f"{shown}: cannot connect: {_clean(exc, url, shown)}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(
            f"{shown}: download failed: {type(exc).__name__}: {_clean(exc, url, shown)}"
        ) from exc


def _clean(exc: Exception, url: str, shown: str) -> str:
    """An exception's text on one line, with the URL's password removed."""
    return " ".join(str(exc).replace(url, shown).split())[:300]


def _read(
    url: str,
    resp: httpx.Response,
    max_bytes: int,
    start: float,
    progress: Callable[[int, int | None], None] | None,
    spacetrack_origin: str = SPACETRACK_ORIGIN,
) -> FetchResult:
    ctype = resp.headers.get("content-type", "")
    new_etag = resp.headers.get("etag")
    new_lm = resp.headers.get("last-modified")
    if resp.status_code == 304:
        return FetchResult(url, 304, None, new_etag, new_lm, ctype, time.monotonic() - start)
    if resp.status_code in (401, 403):
        hint = ""
        if _is_spacetrack(url, spacetrack_origin):
            hint = f"; set {ENV_SPACETRACK_USER} and {ENV_SPACETRACK_PASSWORD}"
        raise FetchError(
            f"{url}: HTTP {resp.status_code} {resp.reason_phrase}: login required{hint}"
        )
    if resp.status_code >= 400:
        raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason_phrase}")
    if resp.status_code != 200:
        raise FetchError(f"{url}: unexpected HTTP {resp.status_code} {resp.reason_phrase}")

    declared = resp.headers.get("content-length")
    length = int(declared) if declared and declared.isdigit() else None
    if length is not None and length > max_bytes:
        raise FetchError(
            f"{url}: the response is {length:,} bytes, over the {max_bytes:,}-byte limit"
        )
    chunks: list[bytes] = []
    received = 0
    for chunk in resp.iter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise FetchError(f"{url}: the response exceeds the {max_bytes:,}-byte limit; aborted")
        if not chunks and _looks_like_html(chunk, ctype):
            raise FetchError(f"{url}: {_HTML_MESSAGE}")
        chunks.append(chunk)
        if progress is not None:
            progress(resp.num_bytes_downloaded, length)
    if length is not None and resp.num_bytes_downloaded != length:
        raise FetchError(
            f"{url}: truncated download: {resp.num_bytes_downloaded:,} of {length:,} bytes"
        )
    data = b"".join(chunks)
    if not data.strip():
        raise FetchError(f"{url}: the server sent an empty response")
    if _looks_like_html(data[:1024], ctype):
        raise FetchError(f"{url}: {_HTML_MESSAGE}")
    return FetchResult(url, 200, data, new_etag, new_lm, ctype, time.monotonic() - start)
