"""Download element sets over HTTP(S): timeouts, a size cap, conditional requests, clear errors.

Works with CelesTrak (``https://celestrak.org/NORAD/elements/gp.php?GROUP=stations&FORMAT=tle``)
and Space-Track style URLs (``.../basicspacedata/query/class/gp/.../format/3le``). Space-Track
needs a login: set ``OVERFLIGHT_SPACETRACK_USER`` and ``OVERFLIGHT_SPACETRACK_PASSWORD`` and
overflight logs in (``POST /ajaxauth/login`` on the same host) before the query.

Nothing here touches the catalog: :func:`fetch` returns the bytes and the validators to store.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

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
]

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
ENV_SPACETRACK_USER = "OVERFLIGHT_SPACETRACK_USER"
ENV_SPACETRACK_PASSWORD = "OVERFLIGHT_SPACETRACK_PASSWORD"

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


def _spacetrack_login(client: httpx.Client, url: str) -> None:
    user = os.environ.get(ENV_SPACETRACK_USER)
    password = os.environ.get(ENV_SPACETRACK_PASSWORD)
    if not user or not password:
        return
    parts = urlsplit(url)
    login = f"{parts.scheme}://{parts.netloc}/ajaxauth/login"
    resp = client.post(login, data={"identity": user, "password": password})
    if resp.status_code >= 400 or "failed" in resp.text[:200].lower():
        raise FetchError(f"{url}: Space-Track login failed (HTTP {resp.status_code})")


def _is_spacetrack(url: str) -> bool:
    parts = urlsplit(url)
    return "space-track" in parts.netloc.lower() or "/basicspacedata/" in parts.path.lower()


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int, int | None], None] | None = None,
) -> FetchResult:
    """GET ``url``; with ``etag``/``last_modified`` a conditional request (304 → no data).

    ``timeout_s`` bounds connecting and each wait for data; bodies larger than ``max_bytes``
    are aborted while streaming. ``progress(received, total)`` is called as bytes arrive.
    Raises :class:`FetchError` for HTTP errors, timeouts, truncated bodies, oversize bodies
    and HTML pages (login or error pages) served instead of element sets.
    """
    import httpx

    from overflight import __version__

    headers = {"User-Agent": f"overflight/{__version__}", "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    start = time.monotonic()
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout_s), follow_redirects=True, headers=headers
        ) as client:
            if _is_spacetrack(url):
                _spacetrack_login(client, url)
            with client.stream("GET", url) as resp:
                return _read(url, resp, max_bytes, start, progress)
    except FetchError:
        raise
    except httpx.TimeoutException as exc:
        raise FetchError(f"{url}: timed out after {timeout_s:g} s ({type(exc).__name__})") from exc
    except httpx.RemoteProtocolError as exc:
        raise FetchError(
            f"{url}: the connection closed before the whole response arrived "
            f"(truncated download): {exc}"
        ) from exc
    except httpx.ConnectError as exc:
        raise FetchError(f"{url}: cannot connect: {exc}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: download failed: {type(exc).__name__}: {exc}") from exc


def _read(
    url: str,
    resp: httpx.Response,
    max_bytes: int,
    start: float,
    progress: Callable[[int, int | None], None] | None,
) -> FetchResult:
    ctype = resp.headers.get("content-type", "")
    new_etag = resp.headers.get("etag")
    new_lm = resp.headers.get("last-modified")
    if resp.status_code == 304:
        return FetchResult(url, 304, None, new_etag, new_lm, ctype, time.monotonic() - start)
    if resp.status_code in (401, 403):
        hint = ""
        if _is_spacetrack(url):
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
