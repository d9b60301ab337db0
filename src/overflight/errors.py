"""One base for every error that means bad input or data the user can fix.

Messages are one line and name the library's own arguments (``days``, ``grid_km``), never a
frontend's flags; the CLI prints them with exit status 2 and the server answers them with 4xx.
"""

from __future__ import annotations

__all__ = ["OverflightError", "WorkerDied", "check_number"]


class OverflightError(ValueError):
    """Bad input or unusable data: a one-line message, no traceback needed."""


class WorkerDied(OverflightError):
    """A worker process ended without its result (killed, out of memory): a one-line message
    naming the process and how it ended, instead of a wait that never ends."""


def check_number(value: float, name: str, low: float, high: float, *,
                 low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a float if it is a finite number within [``low``, ``high``] (an end is
    excluded when ``low_open`` / ``high_open``); else :class:`OverflightError` naming ``name``.

    The one range check for numbers a user gives (CLI options, API fields, library arguments):
    NaN, infinities, ``1e308`` and non-numbers become a one-line error, never an overflow later.
    """
    import math

    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise OverflightError(f"{name}: not a number: {value!r}") from None
    below = x <= low if low_open else x < low
    above = x >= high if high_open else x > high
    if not math.isfinite(x) or below or above:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise OverflightError(f"{name}: must be a finite number in {lo}{low:g}, {high:g}{hi}, "
                              f"got {value!r}")
    return x
