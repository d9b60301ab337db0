"""Overflight windows: when satellites see ground sites, under geometric and lighting constraints.

The request and result types live in ``model``, the calls in ``engine``, which runs the stages
``fleet`` → ``screen`` → ``search`` → ``lighting``; ``docs/access.md`` describes the method."""

from __future__ import annotations

from overflight.access.engine import (
    EngineStates as EngineStates,
)
from overflight.access.engine import (
    find_windows as find_windows,
)
from overflight.access.engine import (
    iter_window_tables as iter_window_tables,
)
from overflight.access.engine import (
    pair_window_table as pair_window_table,
)
from overflight.access.engine import (
    table_to_windows as table_to_windows,
)
from overflight.access.engine import (
    window_table as window_table,
)
from overflight.access.model import (
    RESOLUTION_S as RESOLUTION_S,
)
from overflight.access.model import (
    AccessError as AccessError,
)
from overflight.access.model import (
    Constraints as Constraints,
)
from overflight.access.model import (
    Window as Window,
)
from overflight.access.model import (
    WindowTable as WindowTable,
)
from overflight.access.model import (
    check_interval as check_interval,
)

__all__ = [
    "RESOLUTION_S",
    "AccessError",
    "Constraints",
    "EngineStates",
    "Window",
    "WindowTable",
    "check_interval",
    "find_windows",
    "iter_window_tables",
    "pair_window_table",
    "table_to_windows",
    "window_table",
]
