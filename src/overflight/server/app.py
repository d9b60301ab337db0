"""The FastAPI application: JSON endpoints under ``/api``, the offline dashboard at ``/``, the
OpenAPI description at ``/openapi.json`` and an offline docs page at ``/docs``.

Guards: a request body size cap (413), a cap on satellites × sites × days per request (422,
larger requests go to background jobs), a per-request time limit (504) and a bounded queue of
computations (503). Writes need ``Authorization: Bearer <OVERFLIGHT_TOKEN>``. Every error is
``{"error": "one line"}``.
"""


import asyncio
import hmac
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Hashable, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from overflight.errors import OverflightError
from overflight.freshness import MAX_AGE_DAYS, REFUSE_AFTER_DAYS
from overflight.server.jobs import Job, JobManager, JobsBusy, lower_thread_priority
from overflight.server.models import (
    AreaOut,
    CatalogPage,
    ErrorOut,
    ExposureQuery,
    ExposureResponse,
    GroupOut,
    HistoryPage,
    ImportRequest,
    ImportResponse,
    InfoOut,
    JobAccepted,
    JobResult,
    JobStatus,
    ManeuversResponse,
    OrbitHistoryResponse,
    PassesRequest,
    PassesResponse,
    SatelliteDetail,
    SiteOut,
    TrackResponse,
    VerifyRequest,
    VerifyResponse,
    WatchQuery,
)
from overflight.server.service import (
    ApiError,
    Limits,
    PassesJobResult,
    PassesKey,
    RawRequest,
    Service,
    user_error_line,
    user_error_status,
)
from overflight.server.workers import ComputePool, WorkerBug
from overflight.times import MAX_STEP_S

__all__ = ["Limits", "create_app"]

log = logging.getLogger("overflight.server")
STATIC = Path(__file__).resolve().parent / "static"
T = TypeVar("T")

_MAX_OFFSET = 10**9
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'")
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown satellite, group, site or job"},
    422: {"model": ErrorOut, "description": "Malformed input or request over a limit"},
    503: {"model": ErrorOut, "description": "Too many computations queued; retry later"},
    504: {"model": ErrorOut, "description": "Request time limit reached"},
}


# ---- ASGI guard: body size cap and security headers -------------------------------------------
class _BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit:,} bytes")


class _BodyTimeout(StarletteHTTPException):
    def __init__(self, limit: float) -> None:
        super().__init__(408, f"request body not received within {limit:g} s")


class _Guard:
    """Rejects bodies over ``max_body_bytes`` (413, by Content-Length or while streaming) or
    slower than ``body_timeout_s`` for the whole body (408), and adds security headers (a
    Content-Security-Policy that only allows this origin)."""

    def __init__(self, app: Any, max_body_bytes: int, body_timeout_s: float = 30.0) -> None:
        self.app = app
        self.max = max_body_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max
            except ValueError:
                too_big = False
            if too_big:
                response = JSONResponse(
                    {"error": f"request body larger than {self.max:,} bytes"}, status_code=413)
                await response(scope, receive, send)
                return
        seen = 0
        body_done = False
        deadline: float | None = None

        async def limited_receive() -> Any:
            nonlocal seen, body_done, deadline
            if body_done:  # afterwards receive() only reports a disconnect: no time limit
                return await receive()
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self.body_timeout_s
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise _BodyTimeout(self.body_timeout_s) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max:
                    raise _BodyTooLarge(self.max)
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, limited_receive, send_with_headers)


# ---- cached answers on the event loop --------------------------------------------------------
def _json_response(body: bytes, cached: bool) -> Response:
    """A stored or computed JSON answer (passes, watch, exposure) as sent."""
    return Response(body, media_type="application/json",
                    headers={"X-Overflight-Cache": "hit" if cached else "miss"})


class _KnownAnswers:
    """Answers a GET request seen before (same path and query string) from the cache, on the
    event loop before FastAPI parses it (:meth:`Service.known_answer`): a hit costs a dict
    lookup, the catalog's data version and writing the stored bytes, and never waits for a
    thread (behind computations holding the GIL). Everything else goes on to the app, whose
    handlers note the requests they answer (:meth:`Service.remember`)."""

    def __init__(self, app: Any, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            body = self.service.known_answer((scope["path"], scope["query_string"]))
            if body is not None:
                await _json_response(body, True)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# ---- running computations with a time limit -------------------------------------------------
class _Runner:
    """Runs blocking work in threads: ``heavy`` (computations, ``compute_threads`` at once,
    at most ``max_pending`` queued, at a lower OS priority) or light (catalog queries and
    cache lookups, never queued behind a computation), each with the time limit. With
    ``procs`` (``compute_processes`` > 0) the computations run in worker processes instead
    (:meth:`compute`, :meth:`answer`), with the same queue bound and time limit."""

    def __init__(self, limits: Limits, svc: Service, procs: ComputePool | None = None) -> None:
        self.limits = limits
        self.svc = svc
        self.procs = procs
        self.pending = 0
        self._lock = threading.Lock()
        # Answers being computed in a worker, by cache key: an identical request waits for
        # the same computation (as a thread finds the first one's answer in the cache).
        self._computing: dict[Hashable, Future[Any]] = {}
        self.closed = True
        self._open_threads()

    def open(self) -> None:
        """Start the thread pools and the workers (again, after a shutdown: an app may see
        several lifespans, as under a test client). Without a lifespan, the workers start
        on the first computation."""
        self._open_threads()
        if self.procs is not None:
            self.procs.open()

    def _open_threads(self) -> None:
        if not self.closed:
            return
        self.heavy = ThreadPoolExecutor(self.limits.compute_threads,
                                        thread_name_prefix="overflight-compute",
                                        initializer=lower_thread_priority)
        self.light = ThreadPoolExecutor(4, thread_name_prefix="overflight-query")
        # Catalog writes, one at a time: never abandoned once started (see import_elements).
        self.writes = ThreadPoolExecutor(1, thread_name_prefix="overflight-write")
        self.closed = False

    def _done(self, _: Any) -> None:
        with self._lock:
            self.pending -= 1

    def _start(self, submit: Callable[[], Future[T]], heavy: bool) -> Future[T]:
        """``submit()`` a call, counted among the queued computations when ``heavy`` (503
        when ``max_pending`` are)."""
        if heavy:
            with self._lock:
                if self.pending >= self.limits.max_pending:
                    raise ApiError(503, f"server busy: {self.pending} computations queued; "
                                        "retry in a few seconds", {"Retry-After": "5"})
                self.pending += 1
        try:
            fut = submit()
        except RuntimeError:  # shut down (a broken process pool is replaced in submit)
            if heavy:
                self._done(None)
            raise ApiError(503, "server shutting down") from None
        if heavy:
            fut.add_done_callback(self._done)
        return fut

    async def _wait(self, fut: Future[T], timeout: float | None = -1.0,
                    shared: bool = False) -> T:
        """The result of ``fut`` within ``timeout`` (default: the request time limit; None:
        none), else 504; the wait given up cancels ``fut`` if it has not started, unless it
        is ``shared`` with other requests. Errors mapped: the client's pass, bugs are 500."""
        limit = self.limits.request_timeout_s if timeout == -1.0 else timeout
        waiting: asyncio.Future[T] = asyncio.wrap_future(fut)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting) if shared else waiting, limit)
        except (TimeoutError, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError) and not fut.cancelled():
                raise  # this request was cancelled, not the computation it waited for
            if not fut.done() or fut.cancelled():
                raise ApiError(
                    504, f"the request took longer than {limit:g} s and was abandoned; "
                    "narrow it, or run passes as a background job (POST /api/jobs/passes)",
                ) from None
            raise _unexpected(fut.exception() or TimeoutError()) from None
        except Exception as exc:
            if _expected(exc):
                raise
            raise _unexpected(exc) from None

    async def __call__(self, fn: Callable[..., T], *args: Any, heavy: bool = True,
                       pool: ThreadPoolExecutor | None = None,
                       timeout: float | None = -1.0) -> T:
        """``fn(*args)`` in a thread; ``pool`` overrides the heavy/light choice; ``timeout``
        (default: the request time limit; None: none) ends the wait with a 504."""
        executor = pool or (self.heavy if heavy else self.light)
        return await self._wait(self._start(lambda: executor.submit(fn, *args), heavy),
                                timeout)

    async def compute(self, method: str, *args: Any) -> Any:
        """``Service.<method>(*args)`` as a computation: in a worker process, or in a thread."""
        if self.procs is None:
            return await self(getattr(self.svc, method), *args)
        procs, generation = self.procs, self.svc.catalogs.generation
        return await self._wait(self._start(
            lambda: procs.submit(method, generation, *args), True))

    async def answer(self, key: PassesKey | None, cache_key: Hashable | None, method: str,
                     *args: Any) -> tuple[bytes, bool]:
        """(body, from cache) of a missed passes/watch/exposure answer computed by
        ``Service.<method>(*args)`` in a worker process, cached here under ``cache_key``
        (keyed by ``key``, read before planning) when done, even if no longer awaited."""
        fixed = key is not None and key.fixed and cache_key is not None
        if fixed:
            hit = self.svc.cache.get(cache_key)
            if hit is not None:
                return hit, True
            with self._lock:
                running = self._computing.get(cache_key)
            if running is not None:
                return await self._wait(running, shared=True), True
        assert self.procs is not None
        procs, generation = self.procs, self.svc.catalogs.generation
        fut: Future[bytes] = self._start(lambda: procs.submit(method, generation, *args), True)
        if fixed:
            with self._lock:
                self._computing[cache_key] = fut

            def finished(f: Future[bytes]) -> None:
                with self._lock:
                    if self._computing.get(cache_key) is f:
                        del self._computing[cache_key]
                if not f.cancelled() and f.exception() is None:
                    self.svc.cache.put(cache_key, f.result())

            fut.add_done_callback(finished)
        return await self._wait(fut), False

    def shutdown(self) -> None:
        self.closed = True
        self.heavy.shutdown(wait=False, cancel_futures=True)
        self.light.shutdown(wait=False, cancel_futures=True)
        self.writes.shutdown(wait=True, cancel_futures=True)
        if self.procs is not None:
            self.procs.shutdown()


# ---- errors --------------------------------------------------------------------------------
def _expected(exc: BaseException) -> bool:
    """Errors that are the client's (mapped to 4xx by the handlers below)."""
    return isinstance(exc, (ApiError, StarletteHTTPException, OverflightError))


def _unexpected(exc: BaseException) -> ApiError:
    """A bug: logged here with its traceback; the client gets one line without internals."""
    if isinstance(exc, WorkerBug):
        log.error("internal error in a worker process: %s", exc.traceback_text.rstrip())
        name = exc.name
    else:
        log.error("internal error", exc_info=exc)
        name = exc.__class__.__name__
    return ApiError(500, f"internal error ({name}); it was logged on the server")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


_BODY_UNPARSABLE = "There was an error parsing the body"  # FastAPI's 400 detail


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        if err.get("type") == "json_invalid":
            pos = [x for x in err.get("loc", ()) if isinstance(x, int)]
            reason = str((err.get("ctx") or {}).get("error") or "malformed")
            at = f" at character {pos[0]}" if pos else ""
            parts.append(f"body: not valid JSON{at}: {reason}")
            continue
        where = [str(x) for x in err.get("loc", ())]
        if where and where[0] in ("body", "query", "path", "header"):
            where = where[1:] or where
        loc = ".".join(where) or "body"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _install_error_handlers(app: FastAPI, svc: Service) -> None:
    # Messages may name the database file (catalog errors): its directory is not shown.
    async def api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error(exc.status, svc.redact(exc.message), exc.headers)

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and exc.detail == _BODY_UNPARSABLE:
            # Not UTF-8, or nested deeper than the JSON parser goes: a malformed body (422).
            return _error(422, "body: not valid JSON (not UTF-8 text, or nested too deeply)")
        return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}) or None)

    async def validation_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _error(422, _validation_message(exc))

    async def user_error(_: Request, exc: Exception) -> Response:
        return _error(user_error_status(exc), svc.redact(user_error_line(exc)))

    async def internal_error(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path,
                      exc_info=exc)
        return _error(500, f"internal error ({exc.__class__.__name__}); it was logged on the "
                           "server")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(OverflightError, user_error)
    app.add_exception_handler(Exception, internal_error)


def _job_message(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return exc.message
    if isinstance(exc, OverflightError):
        return user_error_line(exc)
    log.error("background job failed", exc_info=exc)
    return f"internal error ({exc.__class__.__name__}); it was logged on the server"


def _job_status(job: Job) -> dict[str, Any]:
    from overflight.times import format_utc

    count = None
    if isinstance(job.result, PassesJobResult):
        count = len(job.result.table)
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": round(job.progress, 4),
        "created": format_utc(job.created),
        "started": None if job.started is None else format_utc(job.started),
        "finished": None if job.finished is None else format_utc(job.finished),
        "error": job.error,
        "count": count,
        "work": round(job.work, 1),
        "result_url": f"/api/jobs/{job.id}/result",
    }


# ---- the application -----------------------------------------------------------------------
def create_app(
    db: str | os.PathLike[str] | None = None,
    token: str | None = None,
    *,
    limits: Limits | None = None,
) -> FastAPI:
    """The overflight web service over the catalog at ``db`` (default: ``$OVERFLIGHT_DB``, else
    the user data directory; the bundled snapshot while no database exists).

    ``token``: bearer token for writes (default ``$OVERFLIGHT_TOKEN``; none: writes refused).
    """
    from overflight import __version__

    lim = limits or Limits()
    svc = Service(db, token if token is not None else os.environ.get("OVERFLIGHT_TOKEN"), lim)
    procs = (ComputePool(svc.db_path, lim, lim.compute_processes)
             if lim.compute_processes > 0 else None)
    run = _Runner(lim, svc, procs)
    jobs = JobManager(threads=lim.job_threads, max_queued=lim.max_queued_jobs,
                      ttl_s=lim.job_ttl_s, max_runtime_s=lim.job_max_runtime_s,
                      on_error=lambda exc: svc.redact(_job_message(exc)),
                      max_result_bytes=lim.max_job_bytes,
                      size_of=lambda r: r.nbytes if isinstance(r, PassesJobResult) else 0)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        run.open()
        jobs.open()
        yield
        jobs.shutdown()
        run.shutdown()

    app = FastAPI(
        title="overflight",
        version=__version__,
        summary="Overflight windows, imaging-claim checks and orbit forensics from public "
                "orbital element sets.",
        docs_url=None,  # the default pulls Swagger UI from a CDN; /docs is served offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = svc
    app.state.jobs = jobs
    app.state.limits = lim
    app.state.compute_pool = procs
    _install_error_handlers(app, svc)
    app.add_middleware(_KnownAnswers, service=svc)  # inside the guard: its checks and headers
    app.add_middleware(_Guard, max_body_bytes=lim.max_body_bytes,
                       body_timeout_s=lim.body_timeout_s)

    def has_token(authorization: str | None) -> bool:
        scheme, _, value = (authorization or "").partition(" ")
        return svc.token is not None and scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode("utf-8"), svc.token.encode("utf-8"))

    def require_token(
        authorization: Annotated[str | None, Header(description="Bearer <token>")] = None,
    ) -> None:
        if svc.token is None:
            raise ApiError(403, "writes are disabled: start the server with OVERFLIGHT_TOKEN "
                                "set")
        if not authorization:
            raise ApiError(401, "missing token: send 'Authorization: Bearer <token>'",
                           {"WWW-Authenticate": "Bearer"})
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode("utf-8"), svc.token.encode("utf-8")
        ):
            raise ApiError(403, "bad token", {"WWW-Authenticate": "Bearer"})

    # ---- pages -----------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/exposure", include_in_schema=False)
    async def exposure_page() -> FileResponse:
        return FileResponse(STATIC / "exposure.html", media_type="text/html")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html", media_type="text/html")

    @app.get("/api/basemap", tags=["dashboard"],
             summary="World countries (Natural Earth 1:110m, GeoJSON) for the dashboard map")
    async def basemap() -> FileResponse:
        path = Path(__file__).resolve().parents[1] / "data" / "ne_110m_countries.geojson"
        return FileResponse(path, media_type="application/geo+json",
                            headers={"Cache-Control": "public, max-age=86400"})

    # ---- info, sites, groups ------------------------------------------------------------------
    @app.get("/api/info", response_model=InfoOut, tags=["info"],
             summary="Version, catalog in use, whether writes are enabled, and the limits")
    async def info(
        authorization: Annotated[str | None, Header(
            description="Bearer <token>: also shows the database's full path")] = None,
    ) -> Any:
        return await run(svc.info, has_token(authorization), heavy=False)

    @app.get("/api/sites", response_model=list[SiteOut], tags=["info"],
             summary="The named sites shipped with overflight")
    async def sites() -> Any:
        from overflight.sites import named_sites

        return [n.to_dict() for n in named_sites()]

    @app.get("/api/areas", response_model=list[AreaOut], tags=["info"],
             summary="The area targets shipped with overflight, with their outlines")
    async def areas() -> Any:
        from overflight.server.service import area_rows

        return area_rows()

    @app.get("/api/groups", response_model=list[GroupOut], tags=["catalog"],
             summary="Catalog groups with object and element-set counts")
    async def groups() -> Any:
        return await run(svc.groups, heavy=False)

    # ---- catalog -------------------------------------------------------------------------------
    @app.get("/api/catalog", response_model=CatalogPage, responses=_ERRORS, tags=["catalog"],
             summary="List objects with their latest element set (overflight catalog list)")
    async def catalog_list(
        group: Annotated[str | None, Query(description="only this group")] = None,
        name: Annotated[str | None, Query(description="name glob, case-insensitive")] = None,
        limit: Annotated[int, Query(ge=1, le=lim.max_catalog_page)] = 500,
        offset: Annotated[int, Query(ge=0, le=_MAX_OFFSET)] = 0,
    ) -> Any:
        return await run(svc.catalog_page, group, name, limit, offset, heavy=False)

    @app.get("/api/catalog/{sat}", response_model=SatelliteDetail, responses=_ERRORS,
             tags=["catalog"],
             summary="Latest element set of one object with derived values (catalog show)")
    async def catalog_show(sat: str) -> Any:
        return await run(svc.satellite, sat, heavy=False)

    @app.get("/api/catalog/{sat}/history", response_model=HistoryPage, responses=_ERRORS,
             tags=["catalog"], summary="Every stored element set of one object, oldest first")
    async def catalog_history(sat: str, start: str | None = None, end: str | None = None) -> Any:
        return await run(svc.element_history, sat, start, end, heavy=False)

    @app.post("/api/catalog/import", response_model=ImportResponse, tags=["catalog"],
              responses={**_ERRORS, 401: {"model": ErrorOut}, 403: {"model": ErrorOut},
                         413: {"model": ErrorOut}},
              dependencies=[Depends(require_token)],
              summary="Import element sets sent in the body (token required)")
    async def catalog_import(body: ImportRequest) -> Any:
        # The lock wait ends at the deadline (503, nothing stored); a started write is
        # awaited to its end, so an answered failure never hides a stored import.
        deadline = time.monotonic() + svc.import_budget_s()
        return await run(svc.import_elements, body, deadline, heavy=False, pool=run.writes,
                         timeout=None)

    # ---- passes, watch, jobs -----------------------------------------------------------------
    def _raw(request: Request) -> RawRequest:
        return request.scope["path"], request.scope["query_string"]

    async def _cached(req: PassesRequest, default_groups: tuple[str, ...],
                      raw: RawRequest | None) -> tuple[PassesKey | None, bytes | None]:
        # A cached answer is found in the query pool: no planning, no wait behind the
        # computations; only a miss is queued for a computation. A GET request is
        # noted, so that asked again it is answered before parsing (_KnownAnswers).
        key, hit = await run(svc.cached_passes, req, default_groups, heavy=False)
        if raw is not None:
            svc.remember(raw, key)
        return key, hit

    def _interval(key: PassesKey | None) -> tuple[Any, Any] | None:
        return None if key is None else (key.start, key.end)

    async def _passes(req: PassesRequest, raw: RawRequest | None = None) -> Response:
        key, hit = await _cached(req, (), raw)
        if hit is not None:
            return _json_response(hit, True)
        if procs is None:
            return _json_response(*await run(svc.passes, req))
        return _json_response(*await run.answer(key, key, "passes_body", req, (),
                                                _interval(key)))

    @app.get("/api/passes", response_model=PassesResponse, responses=_ERRORS, tags=["passes"],
             summary="Overflight windows (overflight passes), within the per-request limit")
    async def passes_get(request: Request, q: Annotated[PassesRequest, Query()]) -> Any:
        return await _passes(q, _raw(request))

    @app.post("/api/passes", response_model=PassesResponse, responses=_ERRORS, tags=["passes"],
              summary="Overflight windows, the request as a JSON body")
    async def passes_post(body: PassesRequest) -> Any:
        return await _passes(body)

    @app.get("/api/watch", response_model=PassesResponse, responses=_ERRORS, tags=["passes"],
             summary="Overflight-warning timeline for one site (overflight watch)")
    async def watch(request: Request, q: Annotated[WatchQuery, Query()]) -> Any:
        req, default_groups = svc.watch_request(q)
        key, hit = await _cached(req, default_groups, _raw(request))
        if hit is not None:
            return _json_response(hit, True)
        if procs is None:
            return _json_response(*await run(svc.watch, q))
        return _json_response(*await run.answer(key, key, "passes_body", req, default_groups,
                                                _interval(key)))

    @app.get("/api/exposure", response_model=ExposureResponse, responses=_ERRORS,
             tags=["passes"], summary="Exposure of one site: when it is watched, by whom, and "
             "when not (overflight exposure)")
    async def exposure(request: Request, q: Annotated[ExposureQuery, Query()]) -> Any:
        key, cache_key, hit = await run(svc.cached_exposure, q, heavy=False)
        svc.remember(_raw(request), key, cache_key)
        if hit is not None:
            return _json_response(hit, True)
        if procs is None:
            return _json_response(*await run(svc.exposure, q))
        return _json_response(*await run.answer(key, cache_key, "exposure_body", q,
                                                _interval(key)))

    @app.post("/api/jobs/passes", response_model=JobAccepted, status_code=202,
              responses=_ERRORS, tags=["jobs"],
              summary="Run a large passes request as a background job")
    async def job_passes(body: PassesRequest, response: Response) -> Any:
        plan = await run(lambda: svc.plan_passes(body, job=True), heavy=False)
        try:
            job = jobs.submit("passes", plan.work, svc.passes_job(plan))
        except JobsBusy as exc:
            raise ApiError(503, f"too many background jobs: {exc}; retry later",
                           {"Retry-After": "30"}) from None
        response.headers["Location"] = f"/api/jobs/{job.id}"
        return {"id": job.id, "status": job.status, "status_url": f"/api/jobs/{job.id}",
                "result_url": f"/api/jobs/{job.id}/result"}

    def _job(job_id: str) -> Job:
        try:
            return jobs.get(job_id)
        except KeyError:
            raise ApiError(404, f"no job {job_id!r} (unknown, or finished more than "
                                f"{lim.job_ttl_s:g} s ago)") from None

    @app.get("/api/jobs/{job_id}", response_model=JobStatus, responses=_ERRORS, tags=["jobs"],
             summary="Status and progress (0..1) of a background job")
    async def job_status(job_id: str) -> Any:
        return _job_status(_job(job_id))

    @app.delete("/api/jobs/{job_id}", response_model=JobStatus, responses=_ERRORS,
                tags=["jobs"], summary="Cancel a background job")
    async def job_cancel(job_id: str) -> Any:
        _job(job_id)
        return _job_status(jobs.cancel(job_id))

    # exclude_unset: a window has the area fields only in answers about an area, as /api/passes.
    @app.get("/api/jobs/{job_id}/result", response_model=JobResult,
             response_model_exclude_unset=True,
             responses={**_ERRORS, 409: {"model": ErrorOut}}, tags=["jobs"],
             summary="Windows of a finished job, a page at a time")
    async def job_result(
        job_id: str,
        offset: Annotated[int, Query(ge=0, le=_MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=50_000)] = 10_000,
    ) -> Any:
        job = _job(job_id)
        if job.status != "done":
            detail = f" ({job.progress:.0%})" if job.status == "running" else ""
            why = f": {job.error}" if job.error else ""
            raise ApiError(409, f"job {job_id} is {job.status}{detail}{why}")
        result = job.result
        assert isinstance(result, PassesJobResult)
        out = await run(result.page, offset, limit, heavy=False)
        out["id"] = job.id
        return out

    # ---- track, history, maneuvers, claims -----------------------------------------------------
    @app.get("/api/track", response_model=TrackResponse, responses=_ERRORS, tags=["track"],
             summary="Ground track (nadir points) of one satellite (overflight track)")
    async def track(
        sat: Annotated[str, Query(description="NORAD id or name")],
        start: Annotated[str | None, Query(description="ISO 8601; default now")] = None,
        end: Annotated[str | None, Query(description="ISO 8601; default one orbit")] = None,
        step_s: Annotated[float, Query(ge=1e-6, le=MAX_STEP_S, allow_inf_nan=False,
                                       description="seconds between points")] = 60.0,
        max_age_days: Annotated[float, Query(gt=0, le=MAX_AGE_DAYS, allow_inf_nan=False,
                                             description="refuse times further than this "
                                             "from the element set's epoch, days")
                                ] = REFUSE_AFTER_DAYS,
    ) -> Any:
        return await run.compute("track", sat, start, end, step_s, max_age_days)

    @app.get("/api/history", response_model=OrbitHistoryResponse, responses=_ERRORS,
             tags=["history"], response_model_exclude_unset=True,
             summary="Orbit history of one object: derived orbit per element set, maneuvers, "
                     "decay estimate (overflight history)")
    async def history(
        sat: Annotated[str, Query(description="NORAD id or name")],
        start: Annotated[str | None, Query(description="only element sets from")] = None,
        end: Annotated[str | None, Query(description="only element sets up to")] = None,
    ) -> Any:
        return await run.compute("orbit_history", sat, start, end)

    @app.get("/api/maneuvers", response_model=ManeuversResponse, responses=_ERRORS,
             tags=["history"], response_model_exclude_unset=True,
             summary="Maneuvers detected in stored element-set histories (overflight maneuvers)")
    async def maneuvers(
        sat: Annotated[list[str], Query(description="NORAD id or name (repeatable)")] = [],  # noqa: B006
        group: Annotated[list[str], Query(description="catalog group (repeatable)")] = [],  # noqa: B006
        start: str | None = None,
        end: str | None = None,
        station: Annotated[str | None, Query(
            description="also list passes over this site in each bracket")] = None,
        threshold: Annotated[float, Query(gt=0, le=1e6, allow_inf_nan=False,
                                          description="robust sigmas")] = 7.0,
        min_dv_m_s: Annotated[float, Query(ge=0, le=1e5, allow_inf_nan=False,
                                           description="smallest Δv, m/s")] = 0.02,
    ) -> Any:
        return await run.compute("maneuvers", sat, group, start, end, station, threshold,
                                 min_dv_m_s)

    @app.post("/api/verify", response_model=VerifyResponse, responses=_ERRORS, tags=["claims"],
              summary="Verify imaging claims (overflight verify)")
    async def verify(body: VerifyRequest) -> Any:
        return await run.compute("verify", body)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
