"""``--help`` at 80 columns: every command shows every option's full name (never cut)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main

from _cli import run
from overflight.cli import app


def _commands(cmd: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _commands(sub, [*path, name])


COMMANDS = list(_commands(typer.main.get_command(app), []))


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=[" ".join(p) or "overflight"
                                                        for p, _ in COMMANDS])
def test_help_at_80_columns_names_every_option(path: list[str], cmd: Any,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run([*path, "--help"], capsys)
    assert code == 0 and "Usage:" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    options = [o for p in cmd.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")]
    for option in [*options, "--help"]:
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w…-])", out), (path, option)
    assert not re.search(r"--[\w-]*…", out)  # no option name cut with an ellipsis
