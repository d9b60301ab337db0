"""One base for every error that means bad input or data the user can fix.

Messages are one line and name the library's own arguments (``days``, ``grid_km``), never a
frontend's flags; the CLI prints them with exit status 2 and the server answers them with 4xx.
"""

from __future__ import annotations

__all__ = ["OverflightError"]


class OverflightError(ValueError):
    """Bad input or unusable data: a one-line message, no traceback needed."""
