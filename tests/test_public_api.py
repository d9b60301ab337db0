"""The public names are pinned: changing them is a deliberate, reviewed act."""

import importlib

import pytest

PINNED = {
    "overflight": ["__version__"],
    "overflight.access": [
        "RESOLUTION_S", "AccessError", "Constraints", "Window", "WindowTable", "check_interval",
        "find_windows", "iter_window_tables", "table_to_windows", "window_table",
    ],
    "overflight.sites": [
        "NamedSite", "SiteError", "named_sites", "parse_coordinates", "read_sites_file",
        "resolve_site", "resolve_sites",
    ],
    "overflight.sensors": ["Sensor", "SensorError", "load_sensors", "shipped_sensors"],
    "overflight.selection": ["SelectionError", "select_elements"],
}


@pytest.mark.parametrize("module", sorted(PINNED))
def test_all_is_pinned(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(PINNED[module])
    for name in mod.__all__:
        assert hasattr(mod, name)
