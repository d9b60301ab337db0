"""The ``overflight`` command: a thin typer shell over the library modules.

Each command group lives in its own module; heavy libraries are imported inside the commands,
so ``overflight --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

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


def _reflow(doc: str) -> str:
    """A docstring as help text: the lines of a paragraph joined, so that rich wraps them at
    the terminal's width (its markup mode keeps every newline of the source, which broke
    sentences mid-line); blank lines, list items and indented lines stay as they are."""
    import inspect
    import re

    out: list[str] = []
    for line in inspect.cleandoc(doc).splitlines():
        keep = (not line.strip() or not out or not out[-1].strip()
                or line.startswith((" ", "\t")) or re.match(r"[-*•]\s|\d+[.)]\s", line))
        if keep:
            out.append(line)
        else:
            out[-1] = f"{out[-1]} {line.strip()}"
    return "\n".join(out)


def _reflow_help(typer_app: typer.Typer) -> None:
    """:func:`_reflow` every command's docstring that is its help, in groups too."""
    for info in typer_app.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = _reflow(info.callback.__doc__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


def _lazy_help_layout() -> None:
    """Every command's and group's help first installs :mod:`overflight.cli._help`."""
    import typer.core

    for cls in (typer.core.TyperCommand, typer.core.TyperGroup):
        original = cls.format_help

        def format_help(self: Any, ctx: Any, formatter: Any, _original: Any = original) -> None:
            from overflight.cli import _help

            _help.install()
            _original(self, ctx, formatter)

        cls.format_help = format_help  # type: ignore[method-assign]


_register()
_reflow_help(app)
_lazy_help_layout()


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
    args = list(argv if argv is not None else sys.argv[1:])
    _common.ARGV[0] = args
    # typer 0.29 vendors click; its ClickException is the base of every command-line error.
    from typer._click.exceptions import ClickException

    try:
        # Not standalone: click's errors come here, to be one line instead of a boxed panel.
        code = app(args=args, prog_name="overflight", standalone_mode=False)
    except ClickException as exc:
        if exc.__class__.__name__ == "NoArgsIsHelpError":  # the help is printed already
            raise SystemExit(exc.exit_code) from None
        _common.fail(_usage_line(exc, args), exc.exit_code)
    except typer.Abort:  # end of input at a prompt
        _common.fail("aborted", 1)
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
    except OSError as exc:  # a path the user gave (--plot, a file argument) that cannot be used
        if exc.filename is None:
            raise
        _common.fail(f"{exc.filename}: {exc.strerror or exc}", _common.EXIT_USAGE)
    # Not standalone, click returns the status of typer.Exit and of a KeyboardInterrupt.
    if code == _common.EXIT_INTERRUPTED:
        _interrupted(_common.interrupted_line())
    if isinstance(code, int) and code:
        raise SystemExit(code)


def _usage_line(exc: Exception, args: list[str]) -> str:
    """A command-line error of click's as one line naming the option, e.g. ``--days: 'abc'
    is not a valid number`` (click's own: a usage line, a hint and a boxed message)."""
    import re

    param = getattr(exc, "param", None)
    if param is None or exc.__class__.__name__ != "BadParameter":  # no such option, missing…
        return " ".join(str(getattr(exc, "format_message", exc.__str__)()).split())
    opts = [o for o in param.opts if o.startswith("-")]
    name = max(opts, key=len) if opts else str(param.name or "argument").upper()
    message = str(getattr(exc, "message", "") or exc).removeprefix("Value error, ").rstrip(".")
    number = re.match(r"Input should be a valid (number|integer)", message)
    if number:
        given = _given(args, opts)
        what = "whole number" if number.group(1) == "integer" else "number"
        message = (f"{given!r} is not a valid {what}" if given is not None
                   else f"not a valid {what}")
    return f"{name}: {' '.join(message.split())}"


def _given(args: list[str], opts: list[str]) -> str | None:
    """The value ``args`` give the option ``opts`` last (``--days 3`` or ``--days=3``)."""
    found = None
    for i, word in enumerate(args):
        for opt in opts:
            if word == opt and i + 1 < len(args):
                found = args[i + 1]
            elif opt.startswith("--") and word.startswith(opt + "="):
                found = word[len(opt) + 1:]
    return found


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
