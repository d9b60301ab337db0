"""overflight: open space intelligence from public orbital element sets.

The front door for scripts and notebooks (``overflight.api``)::

    import overflight as ovf

    cat = ovf.open_catalog()
    win = ovf.passes(cat.select(group="resource"), "Rajin port", start="2026-05-31T00:00Z",
                     days=1, max_off_nadir_deg=30)
    win.to_pandas()
    ovf.plot.timeline(win)

The names are loaded on first use (PEP 562), so ``import overflight`` stays instant: nothing
heavy (numpy, sgp4, skyfield, pandas, matplotlib) is imported until a call needs it.

``ovf.history``, ``ovf.track`` and ``ovf.coverage`` are the API's functions; the library modules
of the same names stay importable as ``from overflight.history import ...``.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from overflight import plot as plot
    from overflight.api import area_passes as area_passes
    from overflight.api import coverage as coverage
    from overflight.api import exposure as exposure
    from overflight.api import history as history
    from overflight.api import maneuvers as maneuvers
    from overflight.api import open_catalog as open_catalog
    from overflight.api import passes as passes
    from overflight.api import site as site
    from overflight.api import track as track
    from overflight.api import verify as verify
    from overflight.errors import OverflightError as OverflightError

_API = ("area_passes", "coverage", "exposure", "history", "maneuvers", "open_catalog", "passes",
        "site", "track", "verify")

__all__ = [
    "OverflightError",
    "__version__",
    "area_passes",
    "coverage",
    "exposure",
    "history",
    "maneuvers",
    "open_catalog",
    "passes",
    "plot",
    "site",
    "track",
    "verify",
]


def __getattr__(name: str) -> Any:
    import importlib

    if name in _API:
        value = getattr(importlib.import_module("overflight.api"), name)
    elif name == "plot":
        value = importlib.import_module("overflight.plot")
    elif name == "OverflightError":
        value = importlib.import_module("overflight.errors").OverflightError
    else:
        raise AttributeError(f"module 'overflight' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


class _Package(types.ModuleType):
    """Importing the submodules ``overflight.history``/``track``/``coverage`` must not replace
    the API functions of the same names on the package (the import system sets a package
    attribute for each submodule it loads)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
