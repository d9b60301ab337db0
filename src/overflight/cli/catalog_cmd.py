"""`overflight catalog ...` commands (placeholder until the catalog lands)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
