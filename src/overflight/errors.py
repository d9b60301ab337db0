"""One base for every error that means bad input or data the user can fix.

Messages are one line and name the library's own arguments (``days``, ``grid_km``), never a
frontend's flags; the CLI prints them with exit status 2 and the server answers them with 4xx,
both in their own words (:func:`reword`: CLI options, API query parameters).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["ARGUMENTS", "OverflightError", "WorkerDied", "check_number", "reword"]

ARGUMENTS = (
    # snake-case names, replaced wherever they stand as a word
    "all_sites", "area_mode", "countries", "include_unknown", "kinds", "max_age_days",
    "max_altitude_km", "max_gsd_m", "max_off_nadir_deg", "max_range_km", "min_duration_s",
    "min_elevation_deg", "nadir_gsd_m", "object_types", "operators", "owners", "search_hours",
    "site_files", "step_s", "sun_max_deg", "sun_min_deg", "tolerance_s",
)
"""The library arguments that its error messages name and that a user sets through a frontend:
each frontend gives its own name for every one (tests/test_cli_errors.py, test_server.py).
Plain words (``days``, ``start``, ``sites``) are named only at a message's head."""


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


def reword(message: str, names: Mapping[str, str], *, heads: Mapping[str, str] | None = None,
           phrases: Iterable[tuple[str, str]] = ()) -> str:
    """A library error ``message`` in a frontend's words: each of ``phrases`` (library text,
    the frontend's) replaced as it stands, then each library argument of ``names`` by the
    frontend's name for it (a CLI option, an API parameter) wherever it stands as a word, a
    gloss dropped ("max_age_days (max age): …" → "--max-age-days: …"), and the plain words of
    ``heads`` only at the head of the message ("days: …", not "… 400 days")."""
    for old, new in phrases:
        message = message.replace(old, new)
    if names:
        pattern = "|".join(re.escape(k) for k in sorted(names, key=len, reverse=True))
        message = re.sub(rf"(?<![\w-])({pattern})(?: \([a-z ]+\))?(?=:)",
                         lambda m: names[m.group(1)], message)
        message = re.sub(rf"(?<![\w-])({pattern})(?!\w)", lambda m: names[m.group(1)], message)
    head, colon, rest = message.partition(": ")
    if colon and heads and head in heads:
        message = f"{heads[head]}: {rest}"
    return message
