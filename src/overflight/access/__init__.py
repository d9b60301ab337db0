"""Overflight windows: when satellites see ground sites, under geometric and lighting constraints.

The search itself lives in ``engine``; ``docs/access.md`` describes the method."""

from __future__ import annotations

from overflight.access.engine import (
    RESOLUTION_S as RESOLUTION_S,
)
from overflight.access.engine import (
    AccessError as AccessError,
)
from overflight.access.engine import (
    Constraints as Constraints,
)
from overflight.access.engine import (
    Window as Window,
)
from overflight.access.engine import (
    WindowTable as WindowTable,
)
from overflight.access.engine import (
    check_interval as check_interval,
)
from overflight.access.engine import (
    find_windows as find_windows,
)
from overflight.access.engine import (
    iter_window_tables as iter_window_tables,
)
from overflight.access.engine import (
    table_to_windows as table_to_windows,
)
from overflight.access.engine import (
    window_table as window_table,
)

__all__ = [
    "RESOLUTION_S",
    "AccessError",
    "Constraints",
    "Window",
    "WindowTable",
    "check_interval",
    "find_windows",
    "iter_window_tables",
    "table_to_windows",
    "window_table",
]
