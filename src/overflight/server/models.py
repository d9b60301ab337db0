"""Request and response models of the HTTP API (pydantic).

Response models carry exactly the fields of the library objects' ``to_dict()`` (the CLI's JSON);
``tests/test_server_models.py`` checks that they stay in step. Times are ISO 8601 UTC strings with
``Z``; units are in the field names.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from overflight.claims.model import MAX_TOLERANCE_S
from overflight.freshness import MAX_AGE_DAYS, REFUSE_AFTER_DAYS
from overflight.times import MAX_INTERVAL_DAYS

MAX_RANGE_KM = 1_000_000.0
"""Largest ``max_range_km`` a request may give (beyond the Moon's distance)."""

__all__ = [
    "AreaOut",
    "CatalogPage",
    "CatalogRow",
    "ClaimIn",
    "ClaimResultOut",
    "DecayOut",
    "ErrorOut",
    "ExposureIntervalOut",
    "ExposureQuery",
    "ExposureResponse",
    "ExposureSummaryOut",
    "GeometryOut",
    "GroupOut",
    "HistoryPage",
    "HistoryRow",
    "ImportRequest",
    "ImportResponse",
    "InfoOut",
    "JobAccepted",
    "JobResult",
    "JobStatus",
    "KeyStatsOut",
    "LimitsOut",
    "ManeuverOut",
    "ManeuversResponse",
    "ObserverOut",
    "OpportunityOut",
    "OrbitHistoryResponse",
    "OrbitStateOut",
    "PassNoteOut",
    "PassesRequest",
    "PassesResponse",
    "SatelliteDetail",
    "SiteOut",
    "SiteRef",
    "SkippedOut",
    "TrackPoint",
    "TrackResponse",
    "UnobservedOut",
    "VerifyRequest",
    "VerifyResponse",
    "WatchQuery",
    "WindowOut",
]


class _In(BaseModel):
    """Requests: unknown fields are errors (a typo must not be silently ignored); every number
    is finite and within the bounds given on its field (a 422 naming the field otherwise)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ErrorOut(_Out):
    """Every error: one line, never a traceback."""

    error: str


# ---- passes ------------------------------------------------------------------------------------
class _ImagingIn(_In):
    """Sensor rules and satellite filters shared by passes and watch requests."""

    owner: list[str] = Field(default_factory=list,
                             description="SATCAT owner or ISO alpha-3 code, e.g. PRK, CIS")
    object_type: list[str] = Field(default_factory=list,
                                   description="payload, rocket body, debris, unknown")

    imaging: bool = Field(default=False, description="each satellite's own sensor rule")
    include_unknown: bool = Field(default=False,
                                  description="imaging: keep satellites without a sensor entry")
    kind: list[str] = Field(default_factory=list, description="sensor kinds (optical, sar…)")
    max_gsd_m: float | None = Field(default=None, gt=0, le=10_000,
                                    description="only where the achieved resolution "
                                    "(resolution_m) is at most this, m: windows cut to it")
    country: list[str] = Field(default_factory=list, description="operator country, alpha-3")
    operator: list[str] = Field(default_factory=list, description="text in operator's name")
    max_age_days: float = Field(default=REFUSE_AFTER_DAYS, gt=0, le=MAX_AGE_DAYS,
                                description="refuse windows further from the element set")


class PassesRequest(_ImagingIn):
    """Overflight windows of satellites over sites (query parameters or a JSON body).

    ``sat``: NORAD ids or names; ``group``: catalog groups; ``site``: named sites or
    ``LAT,LON[,ALT_M]``. ``start``: ISO 8601 with ``Z`` or an offset, or ``now`` (default);
    ``end`` or ``days`` (default 1 day). The constraints are those of ``overflight passes``.
    """

    sat: list[str] = Field(default_factory=list, description="NORAD id or name (repeatable)")
    group: list[str] = Field(default_factory=list, description="catalog group (repeatable)")
    site: list[str] = Field(default_factory=list,
                            description="named site or LAT,LON[,ALT_M] (repeatable)")
    start: str | None = Field(default=None, description="ISO 8601 with Z or offset, or 'now'")
    end: str | None = Field(default=None, description="ISO 8601 with Z or offset")
    days: float | None = Field(default=None, gt=0, le=MAX_INTERVAL_DAYS,
                               description="length in days instead of end")
    min_elevation_deg: float | None = Field(default=None, gt=-90, lt=90)
    max_off_nadir_deg: float | None = Field(default=None, gt=0, lt=90)
    max_range_km: float | None = Field(default=None, gt=0, le=MAX_RANGE_KM)
    sun_min_deg: float | None = Field(default=None, ge=-90, le=90)
    sun_max_deg: float | None = Field(default=None, ge=-90, le=90)
    sunlit: bool | None = Field(default=None,
                                description="satellite in sunlight (true) / shadow (false)")
    min_duration_s: float = Field(default=0.0, ge=0, le=86_400)
    area: str | None = Field(default=None, max_length=200,
                             description="a shipped area target (GET /api/areas): windows over "
                             "it, with footprints; site may then be left out")
    area_mode: Literal["any", "all"] = Field(default="any",
                                             description="some (any) or all of the area in reach")


class WatchQuery(_ImagingIn):
    """Overflight-warning timeline for one site (``overflight watch``): by default the
    'resource' group, each satellite's own imaging rule, its reach capped at 45° off-nadir."""

    site: str
    sat: list[str] = Field(default_factory=list)
    group: list[str] = Field(default_factory=list)
    start: str | None = None
    days: float = Field(default=1.0, gt=0, le=MAX_INTERVAL_DAYS)
    min_elevation_deg: float | None = Field(default=None, gt=-90, lt=90)
    max_off_nadir_deg: float | None = Field(default=45.0, gt=0, lt=90)
    imaging: bool = Field(default=True, description="each satellite's own sensor rule")


class WindowOut(_Out):
    norad_id: int
    name: str
    site: str
    site_lat_deg: float
    site_lon_deg: float
    start: str
    peak: str
    end: str
    duration_s: float
    max_elevation_deg: float
    min_off_nadir_deg: float
    min_range_km: float
    sun_elevation_deg: float
    satellite_sunlit: bool
    direction: str
    gsd_m: float | None
    start_clipped: str | None
    end_clipped: str | None
    elset_age_days: float | None = Field(
        default=None, description="window peak − element-set epoch, days")
    sensor: str | None = None
    sensor_kind: str | None = None
    resolution_m: float | None = None
    incidence_deg: float | None = None
    look_side: str | None = None
    area: str | None = Field(default=None, description="area target of an area window")
    area_mode: str | None = None
    area_fraction: float | None = Field(
        default=None, description="share of the area within reach at the window's best moment")
    footprint: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon: the ground within the satellite's reach "
        "during the window (area requests)")


class AreaOut(_Out):
    """A shipped area target (``overflight areas``) and its outline."""

    name: str
    title: str
    source: str
    precision: str
    aliases: list[str]
    centroid_lat_deg: float
    centroid_lon_deg: float
    area_km2: float
    bbox: list[float]
    geometry: dict[str, Any] = Field(description="GeoJSON MultiPolygon, lon/lat degrees")


class SkippedOut(_Out):
    """A satellite left out of the answer, wholly or from ``start`` to ``end``."""

    norad_id: int
    name: str
    reason: str
    start: str | None
    end: str | None


class SiteRef(_Out):
    name: str
    lat_deg: float
    lon_deg: float
    alt_m: float


class PassesResponse(_Out):
    """Windows sorted by start time, with what was computed and any warnings."""

    start: str
    end: str
    satellites: int
    sites: list[SiteRef]
    work: float = Field(description="satellites × sites × days of this request")
    count: int
    windows: list[WindowOut]
    warnings: list[str]
    skipped: list[SkippedOut] = Field(default_factory=list)
    imaging: bool = False
    area: AreaOut | None = None


# ---- exposure ----------------------------------------------------------------------------------
ExposureBy = Literal["country", "kind", "operator", "country_kind"]


def _default_by() -> list[ExposureBy]:
    return ["country", "kind", "country_kind"]


class ExposureQuery(_ImagingIn):
    """Exposure of one site or area (``overflight exposure``): by default the 'resource' group
    with each satellite's own imaging rule; ``by``: the breakdown (country, kind, operator,
    country_kind). Sensor rules, filters and bounds as for passes."""

    imaging: bool = Field(default=True, description="each satellite's own sensor rule")
    site: str | None = Field(default=None, description="named site or LAT,LON[,ALT_M]; or area")
    area: str | None = Field(default=None, max_length=200,
                             description="a shipped area target (GET /api/areas) instead of a "
                             "site: watched whenever any part of it is")
    sat: list[str] = Field(default_factory=list)
    group: list[str] = Field(default_factory=list)
    start: str | None = Field(default=None, description="ISO 8601 with Z or offset, or 'now'")
    end: str | None = None
    days: float | None = Field(default=None, gt=0, le=MAX_INTERVAL_DAYS,
                               description="length in days (default 1)")
    min_elevation_deg: float | None = Field(default=None, gt=-90, lt=90)
    max_off_nadir_deg: float | None = Field(default=None, gt=0, lt=90)
    by: list[ExposureBy] = Field(default_factory=_default_by,
                                 description="breakdowns to return")
    max_unobserved: int = Field(default=200, ge=1, le=10_000,
                                description="unobserved intervals returned per list")


class ObserverOut(_Out):
    norad_id: int
    name: str
    country: str
    operator: str
    kind: str


class ExposureIntervalOut(_Out):
    start: str
    end: str
    duration_s: float
    satellites: list[ObserverOut]
    countries: list[str]
    kinds: list[str]
    windows: int
    best_gsd_m: float | None


class UnobservedOut(_Out):
    start: str
    end: str
    duration_s: float
    by: str | None
    key: str | None


class KeyStatsOut(_Out):
    by: str
    key: str
    satellites: int
    windows: int
    intervals: int
    exposed_s: float
    exposed_fraction: float
    longest_unobserved_s: float
    longest_unobserved_start: str | None
    longest_unobserved_end: str | None
    next_exposure: str | None


class ExposureSummaryOut(_Out):
    span_s: float
    exposed_s: float
    exposed_fraction: float
    unobserved_s: float
    longest_unobserved_s: float
    longest_unobserved_start: str | None
    longest_unobserved_end: str | None
    satellites: int
    satellites_computed: int
    windows: int
    intervals: int
    next_exposure: str | None
    next_exposure_satellites: list[str]
    satellites_by_country: dict[str, int]
    satellites_by_kind: dict[str, int]
    incomplete_s: float = Field(description="time some satellite's element set was too old")
    incomplete_from: str | None


class ExposureResponse(_Out):
    """:meth:`overflight.exposure.Exposure.to_dict`: the request, summary, exposure intervals,
    unobserved intervals (longest first) and the breakdowns."""

    kind: str
    target: str
    sites: list[SiteRef]
    start: str
    end: str
    imaging: bool
    constraints: dict[str, float | bool | None]
    skipped: list[SkippedOut]
    warnings: list[str]
    summary: ExposureSummaryOut
    count: int
    intervals: list[ExposureIntervalOut]
    unobserved: list[UnobservedOut]
    breakdown: dict[str, list[KeyStatsOut]]
    unobserved_by: dict[str, list[UnobservedOut]]


# ---- jobs ----------------------------------------------------------------------------------------
class JobAccepted(_Out):
    id: str
    status: str
    status_url: str
    result_url: str


class JobStatus(_Out):
    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed", "cancelled", "expired"]
    progress: float = Field(description="0..1, satellites done / satellites")
    created: str
    started: str | None
    finished: str | None
    error: str | None
    count: int | None = Field(description="windows found (when done)")
    work: float
    result_url: str


class JobResult(_Out):
    """One page of a finished job's windows (``offset``, ``limit`` of ``count``)."""

    id: str
    start: str
    end: str
    satellites: int
    sites: list[SiteRef]
    count: int
    offset: int
    limit: int
    windows: list[WindowOut]
    warnings: list[str]
    skipped: list[SkippedOut] = Field(default_factory=list)
    imaging: bool = False


# ---- sites, track ----------------------------------------------------------------------------
class SiteOut(_Out):
    name: str
    lat_deg: float
    lon_deg: float
    alt_m: float
    precision_m: float | None
    country: str
    aliases: list[str]
    source: str


class TrackPoint(_Out):
    time: str
    lat_deg: float | None
    lon_deg: float | None
    alt_km: float | None
    speed_km_s: float | None
    sunlit: bool | None
    error: str | None


class TrackResponse(_Out):
    norad_id: int
    name: str
    elset_epoch: str
    start: str
    end: str
    step_s: float
    points: list[TrackPoint]


# ---- catalog -----------------------------------------------------------------------------------
class _SummaryRow(_Out):
    """The fields of ``overflight.catalog.summary_row``."""

    norad_id: int
    name: str
    intl_designator: str
    epoch: str
    age_days: float
    period_min: float
    inclination_deg: float
    eccentricity: float
    perigee_alt_km: float
    apogee_alt_km: float
    orbit_class: str


class _SatcatFields(_Out):
    """``overflight.catalog.SATCAT_ROW_FIELDS``: None where no SATCAT entry is imported."""

    owner: str | None = None
    object_type: str | None = None
    launch_date: str | None = None
    launch_site: str | None = None
    decay_date: str | None = None
    rcs_m2: float | None = None


class CatalogRow(_SummaryRow, _SatcatFields):
    """``overflight catalog list -f json`` row."""

    element_sets: int
    groups: str


class CatalogPage(_Out):
    catalog: str
    total: int
    offset: int
    limit: int
    items: list[CatalogRow]


class SatelliteDetail(_SatcatFields):
    """``overflight catalog show -f json``: the latest element set with derived values."""

    norad_id: int
    name: str
    intl_designator: str
    epoch: str
    mean_motion_rev_day: float
    eccentricity: float
    inclination_deg: float
    raan_deg: float
    arg_perigee_deg: float
    mean_anomaly_deg: float
    bstar: float
    mean_motion_dot: float
    mean_motion_ddot: float
    classification: str
    element_set_no: int
    rev_at_epoch: int
    ephemeris_type: int
    period_min: float
    semi_major_axis_km: float
    perigee_alt_km: float
    apogee_alt_km: float
    age_days: float
    orbit_class: str
    groups: str
    element_sets_stored: int
    first_epoch: str
    former_names: str
    tle: str


class HistoryRow(_SummaryRow):
    """``overflight catalog show --history -f json`` row."""

    raan_deg: float
    bstar: float
    element_set_no: int
    gap_h: float | None


class HistoryPage(_Out):
    norad_id: int
    name: str
    count: int
    items: list[HistoryRow]


class GroupOut(_Out):
    group: str
    objects: int
    element_sets: int
    last_epoch: str | None


class ImportRequest(_In):
    """Element-set text (TLE or OMM JSON/XML/CSV/KVN) in the body, filed under ``group``.

    Nothing is ever read from the server's disk or fetched from a URL on a client's say-so.
    ``include_snapshot`` also imports the snapshot bundled with overflight (useful when the
    catalog database does not exist yet: it is created, and the snapshot would otherwise no
    longer be served).
    """

    data: str = Field(description="element-set text")
    group: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
    input_format: str | None = Field(default=None,
                                     description="tle, omm-json, omm-xml, omm-csv, omm-kvn")
    strict: bool = Field(default=False, description="store nothing if any record is bad")
    include_snapshot: bool = False


class ImportResponse(_Out):
    catalog: str
    group: str
    received: int
    new: int
    duplicates: int
    rejected: int
    stored: bool
    errors: list[str]


# ---- orbit history, maneuvers -------------------------------------------------------------------
class OrbitStateOut(_Out):
    norad_id: int
    name: str
    epoch: str
    semi_major_axis_km: float
    perigee_alt_km: float
    apogee_alt_km: float
    eccentricity: float
    inclination_deg: float
    raan_deg: float
    arg_perigee_deg: float
    mean_motion_rev_day: float
    mean_motion_dot_rev_day2: float
    bstar: float
    period_min: float
    node_rate_deg_day: float
    ltan_hours: float | None


class PassNoteOut(_Out):
    station: str
    start: str
    peak: str
    end: str
    max_elevation_deg: float
    contains_estimate: bool
    within_uncertainty: bool
    offset_s: float


class ManeuverOut(_Out):
    norad_id: int
    name: str
    before_epoch: str
    after_epoch: str
    estimated_time: str | None
    time_uncertainty_s: float | None
    time_uncertainty: str | None
    delta_a_km: float
    delta_perigee_km: float
    delta_apogee_km: float
    delta_inclination_deg: float
    delta_v_m_s: float
    kind: str
    delta_v_tangential_m_s: float
    delta_v_eccentricity_m_s: float
    delta_v_plane_m_s: float
    significance: float
    closest_km: float | None
    confirmed: bool
    lat_deg: float | None
    lon_deg: float | None
    place: str | None
    object_type: str | None
    event: str
    passes: list[PassNoteOut] | None = None
    estimate_in_pass: bool | None = None
    pass_within_uncertainty: bool | None = None


class DecayOut(_Out):
    norad_id: int
    name: str
    epoch: str
    perigee_alt_km: float
    decay_rate_m_day: float
    decay_rate_sigma_m_day: float
    threshold_alt_km: float
    estimated_date: str
    days_left: float
    uncertainty_days: float
    fit_start: str
    fit_points: int
    label: str


class DataGapOut(_Out):
    """Consecutive element sets too far apart to bracket a maneuver (``days`` long)."""

    norad_id: int
    start: str
    end: str
    days: float


class HistoryStatusOut(_Out):
    """What one object's maneuver answer rests on: ``status`` ``ok`` / ``not-enough-history``
    / ``data-gap``, with the counts and span that led to it."""

    norad_id: int
    name: str
    status: Literal["ok", "not-enough-history", "data-gap"]
    reason: str
    element_sets: int
    pairs_compared: int
    first_epoch: str | None
    last_epoch: str | None
    span_days: float
    largest_gap_days: float
    data_gaps: list[DataGapOut]


class OrbitHistoryResponse(_Out):
    """``overflight history SAT -f json``: what the answer rests on (``status``, ``reason``,
    ``data_gaps``), derived orbit per element set, maneuvers and a decay estimate (None unless
    ``decay_status`` is ``ok``; ``decay_reason`` says why)."""

    norad_id: int
    name: str
    element_sets: int
    status: Literal["ok", "not-enough-history", "data-gap"]
    reason: str
    span_days: float
    pairs_compared: int
    gap_threshold_days: float
    largest_gap_days: float
    data_gaps: list[DataGapOut]
    history: list[OrbitStateOut]
    maneuvers: list[ManeuverOut]
    decay: DecayOut | None
    decay_status: Literal["ok", "not-enough-history", "data-gap", "no-significant-decay",
                          "beyond-horizon", "eccentric", "below-threshold"]
    decay_reason: str
    decay_rate_m_day: float | None
    decay_rate_sigma_m_day: float | None


class ManeuversResponse(_Out):
    """``overflight maneuvers -f json`` (the ``maneuvers`` list) with what was looked at."""

    status: Literal["ok", "not-enough-history", "data-gap"]
    status_counts: dict[str, int]
    objects: int
    element_sets: int
    pairs: int
    pairs_compared: int
    sgp4_failures: int
    glitches: int
    gap_threshold_days: float
    largest_gap_days: float
    objects_not_ok: list[HistoryStatusOut]
    data_gaps: list[DataGapOut]
    maneuvers: list[ManeuverOut]


# ---- claims ------------------------------------------------------------------------------------
class ClaimIn(_In):
    """One imaging claim (the fields of a claims file; see docs/claims.md)."""

    id: str | None = None
    satellite: str
    target: str | None = Field(default=None, description="named site or LAT,LON[,ALT_M]")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=360)
    time: str = Field(description="ISO 8601 with Z or offset, or local time with zone")
    time_end: str | None = None
    zone: str | None = Field(default=None,
                             description="IANA zone of a local time, e.g. Asia/Pyongyang")
    tolerance_s: float | None = Field(default=None, ge=0, lt=MAX_TOLERANCE_S)
    max_off_nadir_deg: float | None = Field(default=None, gt=0, lt=90)
    nadir_gsd_m: float | None = Field(default=None, gt=0, le=1e6)
    sensor: Literal["optical", "sar"] | None = None
    source: str | None = None
    notes: str | None = None


class VerifyRequest(_In):
    """Claims as a list (``claims``; a malformed claim is a 422) or as the text of a claims
    file (``text`` + ``kind``; malformed claims become ``error`` rows, as in the CLI)."""

    claims: list[ClaimIn] | None = None
    text: str | None = None
    kind: Literal["yaml", "csv"] = "yaml"
    tolerance_s: float = Field(default=120.0, ge=0, le=MAX_TOLERANCE_S)
    max_age_days: float = Field(default=3.0, gt=0, le=MAX_AGE_DAYS)
    search_hours: float = Field(default=3.0, gt=0, le=48)
    include_track: bool = Field(default=False,
                                description="ground track ±25 min around each claim")


class GeometryOut(_Out):
    time: str
    ground_distance_km: float
    off_nadir_deg: float
    elevation_deg: float
    range_km: float
    sun_elevation_deg: float
    satellite_sunlit: bool
    nadir_lat_deg: float
    nadir_lon_deg: float
    gsd_m: float | None


class OpportunityOut(_Out):
    start: str
    peak: str
    end: str
    offset_s: float
    off_nadir_deg: float
    max_elevation_deg: float
    sun_elevation_deg: float


class ClaimResultOut(_Out):
    """``overflight verify -f json`` row, plus the ground track when asked for."""

    claim_id: str
    verdict: str
    confidence: str | None
    reasons: list[str]
    findings: list[str]
    satellite: str | None
    norad_id: int | None
    satellite_name: str | None
    target: str | None
    target_lat_deg: float | None
    target_lon_deg: float | None
    claimed_time: str | None
    claimed_time_end: str | None
    claimed_time_as_given: str | None
    tolerance_s: float | None
    max_off_nadir_deg: float | None
    max_off_nadir_source: str | None
    sensor_kind: str | None
    closest_approach_time: str | None
    time_offset_s: float | None
    ground_distance_km: float | None
    off_nadir_deg: float | None
    elevation_deg: float | None
    sun_elevation_deg: float | None
    satellite_sunlit: bool | None
    gsd_m: float | None
    at_claimed_time: GeometryOut | None
    best_in_tolerance: GeometryOut | None
    nearest_opportunity: OpportunityOut | None
    nearest_visible_pass: OpportunityOut | None
    elset_epoch: str | None
    elset_age_days: float | None
    elset_before_epoch: str | None
    elset_before_age_days: float | None
    elset_after_epoch: str | None
    elset_after_age_days: float | None
    maneuver_between_elsets: bool | None
    maneuver_delta_a_km: float | None
    data_needed: str | None
    source: str | None
    notes: str | None
    origin: str
    track: list[TrackPoint] | None = None


class VerifyResponse(_Out):
    catalog: str
    results: list[ClaimResultOut]
    data_needed: list[str]
    warnings: list[str]


# ---- info --------------------------------------------------------------------------------------
class LimitsOut(_Out):
    max_work: float
    max_job_work: float
    max_sites: int
    max_body_bytes: int
    request_timeout_s: float
    max_track_points: int
    max_claims: int
    max_job_windows: int
    max_job_bytes: int = Field(description="memory all kept job results may hold, bytes")
    compute: int = Field(description="computations run at once (the rest queue): "
                         "compute_processes, or compute_threads when that is 0")
    compute_processes: int = Field(description="worker processes for the computations "
                                   "(0: threads of the server process)")
    compute_threads: int = Field(description="computation threads, used when "
                                 "compute_processes is 0")


class InfoOut(_Out):
    version: str
    catalog: str
    writes_enabled: bool
    limits: LimitsOut
