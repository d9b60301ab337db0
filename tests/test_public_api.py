"""The public names are pinned: changing them is a deliberate, reviewed act."""

import importlib

import pytest

PINNED = {
    "overflight": [
        "OverflightError", "__version__", "area_passes", "coverage", "exposure", "history",
        "maneuvers", "open_catalog", "passes", "plot", "site", "track", "verify",
    ],
    "overflight.api": [
        "area_passes", "coverage", "exposure", "history", "maneuvers", "open_catalog", "passes",
        "site", "track", "verify",
    ],
    "overflight.plot": ["coverage", "exposure", "history", "timeline", "track"],
    "overflight.exposure": [
        "BY", "Breakdown", "Exposure", "ExposureError", "ExposureInterval", "KeyStats",
        "Observer", "Unobserved", "UnobservedInterval", "complement_intervals",
        "exposure_of_plan", "union_intervals",
    ],
    "overflight.results": [
        "Coverage", "CoveragePoint", "History", "Maneuvers", "Passes", "Track", "TrackPoint",
        "Verification",
    ],
    "overflight.access": [
        "RESOLUTION_S", "AccessError", "Constraints", "EngineStates", "Window", "WindowTable",
        "check_interval",
        "find_windows", "iter_window_tables", "pair_window_table", "table_to_windows",
        "window_table",
    ],
    "overflight.sites": [
        "NamedSite", "SiteError", "named_sites", "parse_coordinates", "provenance",
        "read_sites_file",
        "resolve_site", "resolve_sites", "site_note",
    ],
    "overflight.sensors": ["Sensor", "SensorError", "load_sensors", "shipped_sensors"],
    "overflight.selection": [
        "GroupNotFound", "NoElementSets", "SelectionError", "check_groups", "filter_by_sensor",
        "filter_elements", "satellite_note",
        "select_elements", "select_from_catalog", "select_histories",
    ],
    "overflight.freshness": [
        "MAX_AGE_DAYS", "REFUSE_AFTER_DAYS", "STALE_AFTER_DAYS", "Skipped", "StaleElementSet",
        "StaleReport", "check_max_age_days", "launch_year", "stale_elements", "usable_spans",
        "StaleElementsError", "all_stale_error", "check_not_all_stale", "SUGGEST_MAX_AGE_DAYS",
    ],
    "overflight.workload": [
        "AREA_S_PER_POINT_WINDOW", "COVERAGE_FIELD_S_PER_SAT_DAY", "COVERAGE_FIELD_S_PER_WINDOW",
        "COVERAGE_IMAGING_S_PER_WINDOW", "COVERAGE_STARTUP_S", "COVERAGE_S_PER_WINDOW",
        "DEFAULT_MAX_JOB_S", "EXPOSURE_STARTUP_S", "EXPOSURE_S_PER_WINDOW",
        "HISTORY_S_PER_ELSET", "IMAGING_S_PER_SAT_DAY", "IMAGING_S_PER_UNIT",
        "LOCAL_CLUSTER_START_S", "MAX_JOB_ENV",
        "PARALLEL_EFFICIENCY", "REFERENCE_ALT_KM", "STARTUP_S", "TRACK_S_PER_STEP",
        "WINDOWS_PER_CONE_DEG", "WINDOWS_STARTUP_S", "WINDOW_S", "WINDOW_S_PER_SAT_DAY",
        "WRITE_S_PER_ROW", "JobTooLarge", "Workload", "check_workload", "cone_deg",
        "coverage_workload", "duration_text", "exposure_workload", "history_workload",
        "local_cluster_pays", "max_job_s", "track_workload", "windows_per_unit",
        "windows_workload",
    ],
    "overflight.passes": [
        "IMAGING_DISPLAY_COLUMNS", "SHARD_SATELLITES", "WATCH_GROUP", "WATCH_MAX_OFF_NADIR_DEG",
        "WINDOW_DISPLAY_COLUMNS", "PassPlan", "PassesError", "SatelliteRule",
        "checked_constraints", "clip_note", "cut_resolution", "imaging_rule", "look_sides",
        "plan_elements", "plan_passes", "resolution_pieces", "search_end", "span_text",
        "window_dict", "window_display_row",
    ],
    "overflight.claims": [
        "CANNOT_VERIFY", "CONSISTENT", "Claim", "ClaimError", "ClaimProblem", "ClaimResult",
        "ClaimsFile", "ClaimsFileError", "DataNeeded", "ERROR", "FIELDS", "Finding", "Geometry",
        "INCONSISTENT", "ManeuverCheck", "Opportunity", "VerifyOptions", "check_maneuver",
        "claim_from_fields", "data_needed_summary", "parse_claims_text", "read_claims",
        "render_html", "render_markdown", "stale_report", "verdict", "verify_claim",
        "verify_claims",
    ],
    "overflight.history": [
        "OrbitState", "OrbitTable", "SSO_NODE_RATE_TOLERANCE_DEG_DAY",
        "SUN_MEAN_MOTION_DEG_DAY", "gmst82_rad", "group_histories", "ltan_hours",
        "orbit_history",
    ],
    "overflight.maneuvers": [
        "DECAY_HORIZON_DAYS", "DEFAULT_CONFIG", "MAX_BRACKET_DAYS", "MIN_DECAY_SETS",
        "MIN_DECAY_SPAN_DAYS", "MIN_MANEUVER_SETS", "NON_MANEUVERING_TYPES", "DataGap",
        "DecayAssessment", "DecayEstimate", "DetectionConfig", "DetectionResult",
        "HistoryStatus", "Maneuver", "PassNote", "Status", "assess_decay", "detect_maneuvers",
        "estimate_decay", "format_decay_rate", "history_document", "object_type_of",
        "with_passes",
    ],
    "overflight.track": [
        "check_track_age", "track_rows",
    ],
    "overflight.areas": [
        "AREA_MODES", "Area", "AreaError", "AreaSample", "AreaWindow", "area_from_geojson",
        "area_windows", "combine_point_windows", "default_spacing_km", "named_areas",
        "read_area_file", "resolve_area", "sample_area",
    ],
    "overflight.footprints": [
        "DEFAULT_STEP_S", "Footprint", "FootprintError", "footprint", "reach_off_nadir_deg",
        "window_footprints",
    ],
    "overflight.geoformats": [
        "GEO_FORMATS", "KML_NAMESPACE", "czml_document", "geo_document", "geojson_document",
        "kml_document", "window_properties",
    ],
}


@pytest.mark.parametrize("module", sorted(PINNED))
def test_all_is_pinned(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(PINNED[module])
    for name in mod.__all__:
        assert hasattr(mod, name)
