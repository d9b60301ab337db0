"""Connection limits for ``overflight serve`` (uvicorn's h11 protocol, tightened).

uvicorn bounds idle keep-alive connections (``timeout_keep_alive``) but not a client that
opens a connection and sends its request line or headers slowly, or never: each such socket
holds a file descriptor forever. :func:`protocol_class` adds what is missing:

- a header deadline: a request's line and headers must arrive within ``header_timeout_s``
  (from the connection's start, or from the first byte of a later keep-alive request), else
  the client gets ``408 {"error": ...}`` and the connection is closed;
- a connection cap: beyond ``max_connections`` open connections a new one is answered
  ``503 {"error": ...}`` and closed at once, so file descriptors stay bounded;
- malformed HTTP (a non-numeric Content-Length, headers over the size cap) is answered
  ``400 {"error": ...}`` in JSON, like every other error of the service.

The body's read timeout is applied inside the application (``app.py``'s guard, 408).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["protocol_class", "raw_error"]

_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 503: b"Service Unavailable"}


def raw_error(status: int, message: str) -> bytes:
    """A complete ``HTTP/1.1`` error response with a JSON ``{"error": message}`` body that
    closes the connection (for use below the application, where no ASGI response exists)."""
    body = json.dumps({"error": message}).encode("utf-8")
    head = (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: %d\r\n\r\n" % (status, _REASONS.get(status, b"Error"), len(body)))
    return head + body


def protocol_class(*, header_timeout_s: float, max_connections: int,
                   max_header_bytes: int = 16 * 1024) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a header deadline, a connection cap, a header size cap
    (h11's own applies only to headers still incomplete) and JSON errors."""

    class Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _head: bytes = b""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                transport.write(raw_error(503, f"server busy: more than {max_connections} "
                                               "open connections; retry later"))
                transport.close()
                return
            self._arm()

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout_s, self._expired)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _waiting_for_request(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _expired(self) -> None:
            self._header_timer = None
            if self._waiting_for_request() and not self.transport.is_closing():
                self.transport.write(raw_error(
                    408, f"request line and headers not received within {header_timeout_s:g} s"))
                self.transport.close()

        def data_received(self, data: bytes) -> None:
            if self._waiting_for_request():
                self._arm()  # a (next) request is starting: its headers are on the clock
                self._head = (self._head + data)[: max_header_bytes + 4]
                end = self._head.find(b"\r\n\r\n")
                if (end < 0 and len(self._head) > max_header_bytes) or end > max_header_bytes:
                    self.send_400_response("headers too large")
                    return
            super().data_received(data)
            if not self._waiting_for_request():
                self._head = b""
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # Idle keep-alive connections are uvicorn's (timeout_keep_alive); the deadline
            # restarts with the next request's first byte.
            self._disarm()

        def send_400_response(self, msg: str) -> None:
            del msg  # uvicorn's text: "Invalid HTTP request received."
            self._disarm()
            self.transport.write(raw_error(
                400, "malformed HTTP request: bad request line, header or Content-Length, or "
                     "headers larger than the server accepts"))
            self.transport.close()

    return Protocol


def uvicorn_options(*, header_timeout_s: float, max_connections: int, keep_alive_s: float,
                    max_header_bytes: int) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` with these limits."""
    return {
        "http": protocol_class(header_timeout_s=header_timeout_s,
                               max_connections=max_connections,
                               max_header_bytes=max_header_bytes),
        # A backstop above our own cap (whose 503 is JSON): uvicorn's answer is plain text.
        "limit_concurrency": max_connections + 1,
        "timeout_keep_alive": keep_alive_s,
        "h11_max_incomplete_event_size": max_header_bytes,
    }


__all__ += ["uvicorn_options"]
