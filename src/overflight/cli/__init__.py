"""The ``overflight`` command: a thin typer shell over the library modules.

Each command group lives in its own module; heavy libraries are imported inside the commands,
so ``overflight --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import sys

import typer

from overflight.cli import _common
from overflight.errors import OverflightError, WorkerDied

app = typer.Typer(
    name="overflight",
    help="Open space intelligence from public orbital element sets: who passes over a place, "
    "whether an imaging claim is possible, what a satellite did.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _register() -> None:
    from overflight.cli import (
        areas_cmd,
        catalog_cmd,
        claims_cmd,
        coverage_cmd,
        demo_cmd,
        exposure_cmd,
        history_cmd,
        passes_cmd,
        sensors_cmd,
        serve_cmd,
        track_cmd,
    )

    app.add_typer(
        catalog_cmd.app, name="catalog", help="Import, list, show and export element sets."
    )
    passes_cmd.register(app)
    exposure_cmd.register(app)
    sensors_cmd.register(app)
    areas_cmd.register(app)
    track_cmd.register(app)
    claims_cmd.register(app)
    history_cmd.register(app)
    coverage_cmd.register(app)
    serve_cmd.register(app)
    demo_cmd.register(app)


_register()


def _print_version(value: bool) -> None:
    if value:
        from overflight import __version__

        typer.echo(__version__)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    del version  # handled by _print_version, eagerly: before typer asks for a command


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user mistakes become one-line errors with exit status 2; Ctrl-C
    and SIGTERM one line and exit status 130 / 143 (:class:`_common.Interrupted`)."""
    with _common.stop_on_sigterm():
        _main(argv)


def _main(argv: list[str] | None) -> None:
    try:
        app(args=argv if argv is not None else sys.argv[1:], prog_name="overflight")
    except _common.UserError as exc:
        _common.fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _interrupted(_common.interrupted_line())
    except SystemExit as exc:
        if exc.code == _common.EXIT_INTERRUPTED:  # typer's silent exit on KeyboardInterrupt
            _interrupted(_common.interrupted_line())
        raise
    except _common.Interrupted as exc:
        _interrupted(str(exc))
    except WorkerDied as exc:  # not the user's mistake: a status of its own
        _common.fail(str(exc), _common.EXIT_WORKER)
    except OverflightError as exc:
        _common.fail(_common.with_flags(str(exc)), _common.EXIT_USAGE)


def _interrupted(line: str) -> None:
    """Ctrl-C or SIGTERM: one line on stderr, exit 130 or 143 (workers were ended where they
    ran, partial output already marked)."""
    import signal

    # A second Ctrl-C while this line is written must not print a traceback instead.
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with contextlib.suppress(OSError):
            sys.stdout.flush()
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    finally:
        for sig, was in old.items():
            signal.signal(sig, was)
    raise SystemExit(_common.interrupted_exit_code())
