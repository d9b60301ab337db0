"""Run the ``overflight`` command in-process for CLI tests."""

from __future__ import annotations

import pytest

from overflight.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``overflight ARGS``: (exit status, stdout, stderr)."""
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
