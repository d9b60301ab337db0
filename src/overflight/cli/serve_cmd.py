"""`overflight serve`: the web service and dashboard (FastAPI + uvicorn, one server process;
the computations in worker processes, ``--processes``)."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import typer

from overflight.cli._common import DbOption, Terminated, UserError, warn


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def register(app: typer.Typer) -> None:
    """Add `serve`."""

    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: all)."),
        port: int = typer.Option(8080, min=0, max=65535, help="TCP port (0: any free port)."),
        db: Path | None = DbOption,
        max_work: float = typer.Option(
            2000.0, min=1.0, max=1e7, help="Satellites × sites × days one request may compute."),
        max_job_work: float = typer.Option(
            250_000.0, min=1.0, max=1e9, help="Satellites × sites × days of one background job."),
        request_timeout: float = typer.Option(
            30.0, min=0.1, max=3600.0, help="Time limit per request, seconds."),
        max_body_mb: float = typer.Option(4.0, min=0.001, max=1024.0,
                                          help="Request body size cap, MB."),
        processes: int = typer.Option(
            2, min=0, max=256,
            help="Worker processes for the computations (as many run at once); 0: threads "
                 "of the server process (--threads)."),
        threads: int = typer.Option(
            2, min=1, max=256, help="Computations run at once in threads, with --processes 0."),
        max_connections: int = typer.Option(
            1000, min=1, max=100_000,
            help="Open connections; beyond them a new one gets 503 and is closed."),
        header_timeout: float = typer.Option(
            10.0, min=0.1, max=3600.0,
            help="Seconds for a request's line and headers to arrive (408 after)."),
        body_timeout: float = typer.Option(
            30.0, min=0.1, max=3600.0, help="Seconds for a request's whole body (408 after)."),
        keep_alive: int = typer.Option(
            5, min=1, max=3600, help="Seconds an idle keep-alive connection stays open."),
        max_header_kb: int = typer.Option(
            16, min=1, max=1024, help="Request line and headers size cap, KiB (400 above)."),
        max_job_mb: int = typer.Option(
            256, min=1, max=1_000_000,
            help="Memory the results of finished background jobs may hold together, MiB."),
        log_level: str = typer.Option("info", help="uvicorn log level."),
        access_log: bool = typer.Option(False, "--access-log", help="Log every request."),
    ) -> None:
        """Serve the HTTP API (/api, /docs) and the offline dashboard (/).

        Reads are open; writes (catalog import) need the token in $OVERFLIGHT_TOKEN, sent as
        'Authorization: Bearer TOKEN'. Without it, writes are refused.
        """
        try:
            import uvicorn

            from overflight.server import Limits, create_app
        except ImportError as exc:
            raise UserError(
                f"the service needs FastAPI and uvicorn ({exc.name} is missing): "
                "pip install 'overflight[service]'"
            ) from None
        token = os.environ.get("OVERFLIGHT_TOKEN") or None
        from overflight.server.http import uvicorn_options

        limits = Limits(max_work=max_work, max_job_work=max_job_work,
                        request_timeout_s=request_timeout, body_timeout_s=body_timeout,
                        max_body_bytes=int(max_body_mb * 1024 * 1024), compute_threads=threads,
                        compute_processes=processes,
                        max_job_bytes=max_job_mb * 1024 * 1024)
        application = create_app(db, token, limits=limits)
        catalog = application.state.service.describe()
        if not _is_loopback(host):
            warn(f"listening on {host}: anyone who can reach this address can read the "
                 "catalog and run computations" + ("" if token else "; writes stay disabled"))
        sock = _bind(host, port)
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        typer.echo(f"overflight: serving {catalog} on http://{shown}:{bound}/ "
                   f"(API docs /docs; writes {'enabled' if token else 'disabled'})", err=True)
        config = uvicorn.Config(
            application, log_level=log_level, access_log=access_log, workers=1,
            **uvicorn_options(header_timeout_s=header_timeout, max_connections=max_connections,
                              keep_alive_s=keep_alive, max_header_bytes=max_header_kb * 1024))
        try:
            uvicorn.Server(config).run(sockets=[sock])
        except Terminated:
            # SIGTERM (a service manager's stop): uvicorn has shut down, and hands the signal
            # back once done; that is a clean stop, exit 0. Ctrl-C stays an interruption (130).
            pass
        finally:
            sock.close()


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket, so that a taken port or a bad address is a one-line error."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock
