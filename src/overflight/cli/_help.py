"""``--help`` that stays readable at 80 columns: option names are never cut.

typer draws each command's options as a rich table without column settings, and rich then
shrinks every column alike when the terminal is narrow, so ``--include-unknown`` became
``--include-unkno…``. Here the option tables keep their name columns whole (``no_wrap``), put a
flag's negative form (``--no-imaging``) under it instead of in a column of its own, and fold
the type and help columns instead of cutting them. typer has no setting for this: its
``rich_utils`` builds the table with the module's ``Table``, which :func:`install` replaces on
the first help shown (so commands that show none never import rich).
"""

from __future__ import annotations

from typing import Any

_installed = [False]


def install() -> None:
    """Make typer's help option tables keep option names whole (once)."""
    if _installed[0]:
        return
    import typer.rich_utils
    from rich.table import Table
    from rich.text import Text

    def fold(renderable: Any) -> None:
        for item in getattr(renderable, "renderables", [renderable]):
            if isinstance(item, Text):
                item.overflow = "fold"

    class OptionsTable(Table):
        """A typer options table (typer declares no columns for those): name columns never
        wrapped nor cut, the negative form under the flag, type and help folded."""

        def add_row(self, *renderables: Any, **kwargs: Any) -> None:
            if self.columns and not getattr(self, "_options", False):
                super().add_row(*renderables, **kwargs)  # the commands table, as typer made it
                return
            self._options = True
            cells = list(renderables)
            # [required], long, short, negative long, negative short, type, help
            long_at = len(cells) - 6
            negative = cells[long_at + 2]
            if isinstance(negative, Text) and negative.plain and isinstance(cells[long_at], Text):
                cells[long_at] = Text.assemble(cells[long_at], "\n", negative)
                cells[long_at + 2] = Text("")
            for cell in cells[-2:]:
                fold(cell)
            super().add_row(*cells, **kwargs)
            for column in self.columns[:-2]:
                column.no_wrap = True
            for column in self.columns[-2:]:
                column.overflow = "fold"

    typer.rich_utils.Table = OptionsTable  # type: ignore[attr-defined]
    _installed[0] = True
