"""The element-set catalog: TLE/OMM parsing (``tle``, ``omm``, ``formats``), SATCAT object
metadata (``satcat``), downloads (``fetch``), the SQLite store (``store``) and the query layer
(``core``: ``Catalog``)."""

from __future__ import annotations

from overflight.catalog.core import (
    AmbiguousSatellite as AmbiguousSatellite,
)
from overflight.catalog.core import (
    Bracket as Bracket,
)
from overflight.catalog.core import (
    Catalog as Catalog,
)
from overflight.catalog.core import (
    CatalogError as CatalogError,
)
from overflight.catalog.core import (
    CatalogInfo as CatalogInfo,
)
from overflight.catalog.core import (
    CatalogObject as CatalogObject,
)
from overflight.catalog.core import (
    GroupInfo as GroupInfo,
)
from overflight.catalog.core import (
    ImportFailed as ImportFailed,
)
from overflight.catalog.core import (
    ImportResult as ImportResult,
)
from overflight.catalog.core import (
    NameRecord as NameRecord,
)
from overflight.catalog.core import (
    ProgressFn as ProgressFn,
)
from overflight.catalog.core import (
    SatelliteNotFound as SatelliteNotFound,
)
from overflight.catalog.core import (
    SeedReport as SeedReport,
)
from overflight.catalog.core import (
    SourceReport as SourceReport,
)
from overflight.catalog.core import (
    StoreError as StoreError,
)
from overflight.catalog.core import (
    WriteStats as WriteStats,
)
from overflight.catalog.core import (
    alpha5_to_norad as alpha5_to_norad,
)
from overflight.catalog.core import (
    default_group as default_group,
)
from overflight.catalog.core import (
    history_rows as history_rows,
)
from overflight.catalog.core import (
    info_row as info_row,
)
from overflight.catalog.core import (
    list_rows as list_rows,
)
from overflight.catalog.core import (
    snapshot_paths as snapshot_paths,
)
from overflight.catalog.core import (
    summary_row as summary_row,
)

__all__ = [
    "AmbiguousSatellite",
    "Bracket",
    "Catalog",
    "CatalogError",
    "CatalogInfo",
    "CatalogObject",
    "GroupInfo",
    "ImportFailed",
    "ImportResult",
    "NameRecord",
    "ProgressFn",
    "SatelliteNotFound",
    "SeedReport",
    "SourceReport",
    "StoreError",
    "WriteStats",
    "alpha5_to_norad",
    "default_group",
    "history_rows",
    "info_row",
    "list_rows",
    "snapshot_paths",
    "summary_row",
]
