"""The API's response models carry exactly the fields of the library objects' ``to_dict()``
(the CLI's JSON): a field added to a library object must be added to its model too, or the
API would silently drop it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
from pydantic import BaseModel

from overflight.server import models as m


def same_fields(model: type[BaseModel], data: dict[str, Any],
                optional: tuple[str, ...] = ()) -> None:
    fields = set(model.model_fields)
    assert set(data) - fields == set(), f"{model.__name__} lacks {set(data) - fields}"
    missing = fields - set(data) - set(optional)
    assert missing == set(), f"{model.__name__} has fields the library does not give: {missing}"
    model.model_validate(data)  # and the values fit the declared types


def test_window_site_group_models() -> None:
    from overflight.access import Constraints, find_windows
    from overflight.catalog import Catalog
    from overflight.sites import named_sites, resolve_site
    from overflight.track import track_rows

    with Catalog.bundled() as cat:
        elsets = cat.latest(group="military")
        groups = cat.groups()
    t0 = datetime(2026, 5, 31, tzinfo=UTC)
    windows = find_windows(elsets, [resolve_site("Naval Station Norfolk")], t0,
                           t0 + timedelta(hours=6), Constraints())
    area_fields = ("area", "area_mode", "area_fraction", "footprint")
    same_fields(m.WindowOut, windows[0].to_dict(), optional=(
        "elset_age_days", "sensor", "sensor_kind", "resolution_m", "incidence_deg", "look_side",
        *area_fields))
    from overflight.passes import plan_elements, window_dict

    with Catalog.bundled() as cat:
        radar = cat.latest(norad_ids=[31598])  # COSMO-SKYMED 1: every imaging field filled
    plan = plan_elements(radar, [resolve_site("Naval Station Norfolk")], t0,
                         t0 + timedelta(hours=48), Constraints(), imaging=True)
    same_fields(m.WindowOut, window_dict(plan.windows()[0]), optional=area_fields)
    from overflight.areas import resolve_area

    area = resolve_area("Najin port")
    (aw, *_) = plan.area_windows(area)
    (fp,) = plan.footprints([aw])
    same_fields(m.WindowOut, {**window_dict(aw), "footprint": fp.geometry()})
    same_fields(m.AreaOut, {**area.to_dict(), "geometry": area.geometry()})
    from overflight.freshness import Skipped

    same_fields(m.SkippedOut, Skipped(1, "X", "stale", t0, t0).to_dict())
    same_fields(m.SiteOut, named_sites()[0].to_dict())
    same_fields(m.GroupOut, groups[0].to_dict())
    same_fields(m.TrackPoint, track_rows(elsets[0], [t0])[0])


def test_claim_models() -> None:
    from overflight.catalog import Catalog
    from overflight.claims import claim_from_fields, verify_claim

    claim = claim_from_fields({"satellite": "58400", "target": "Rome",
                               "time": "2024-06-09T08:40:00Z"})
    with Catalog.bundled() as cat:
        result = verify_claim(claim, cat)
    d = result.to_dict()
    same_fields(m.ClaimResultOut, d, optional=("track",))
    assert result.at_claimed_time is not None
    same_fields(m.GeometryOut, result.at_claimed_time.to_dict())
    far = claim_from_fields({"satellite": "58400", "target": "White House",
                             "time": "2024-06-09T08:40:00Z"})
    with Catalog.bundled() as cat:
        other = verify_claim(far, cat)
    opp = other.nearest_opportunity or other.nearest_visible or result.nearest_opportunity
    if opp is not None:
        same_fields(m.OpportunityOut, opp.to_dict())


def test_history_and_maneuver_models(shared_data: Path) -> None:
    from overflight.catalog.formats import read_path
    from overflight.history import group_histories, orbit_history
    from overflight.maneuvers import detect_maneuvers, estimate_decay, with_passes
    from overflight.sites import resolve_site

    records = read_path(shared_data / "celestrak-history-2026-05-24-to-30" / "resource.tle")
    hist = group_histories(r for r in records.records if r.norad_id == 29228)
    states = orbit_history(hist[29228])
    same_fields(m.OrbitStateOut, states[0].to_dict())
    result = detect_maneuvers(hist)
    assert result.maneuvers
    same_fields(m.ManeuverOut, result.maneuvers[0].to_dict(),
                optional=("passes", "estimate_in_pass", "pass_within_uncertainty"))
    summary = result.to_dict()
    same_fields(m.ManeuversResponse, summary)
    noted = with_passes(result.maneuvers, result.table, resolve_site("78.23,15.39"))
    d = noted[0].to_dict()
    same_fields(m.ManeuverOut, d)
    if d["passes"]:
        same_fields(m.PassNoteOut, d["passes"][0])
    # Resurs-DK 1 falls below 150 km only after the 5-year horizon: a date only without it.
    decay = estimate_decay(hist[29228], maneuvers=result.maneuvers, horizon_days=1e6)
    assert decay is not None
    same_fields(m.DecayOut, decay.to_dict())
    from overflight.maneuvers import assess_decay, history_document

    doc = history_document(result.table, result, assess_decay(result.table,
                                                              maneuvers=result.maneuvers))
    assert doc["decay_status"] == "beyond-horizon" and doc["decay_rate_m_day"] < 0
    same_fields(m.OrbitHistoryResponse, doc)


def test_catalog_models_with_and_without_satcat(tmp_path: Path) -> None:
    from overflight.catalog import Catalog, info_row, list_rows

    fixture = Path(__file__).parent / "fixtures" / "satcat" / "celestrak-satcat.csv"
    now = datetime(2026, 6, 1, tzinfo=UTC)
    with Catalog.open(tmp_path / "c.db", create=True) as cat:
        cat.import_sources([fixture], seed_snapshot=True)
        plain = next(o.norad_id for o in cat.objects() if o.satcat is None)
        for nid, owner in ((58400, "NKOR"), (plain, None)):  # with and without SATCAT
            (obj,) = cat.objects(norad_ids=[nid])
            row = list_rows(cat.latest(norad_ids=[nid]), [obj], now)[0]
            same_fields(m.CatalogRow, row)
            detail = info_row(obj, cat.history(nid), cat.names(nid), now)
            same_fields(m.SatelliteDetail, detail)
            assert row["owner"] == detail["owner"] == owner
