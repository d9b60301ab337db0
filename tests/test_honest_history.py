"""Honest history answers: "not enough history" and data gaps instead of "nothing happened" or a
delta-v across months; uncertainties with their unit; one perigee/apogee definition everywhere.

Expected values come from the construction (tests/_maneuver_synth.py) or from sgp4 itself
(``Satrec.a`` × ``radiusearthkm``), never from the code under test.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from sgp4.api import Satrec

import overflight as of
from _cli import run
from _maneuver_synth import Burn, epochs_every, leo_mean, series
from overflight.catalog.formats import write_elements
from overflight.elements import ElementSet
from overflight.maneuvers import (
    MAX_BRACKET_DAYS,
    assess_decay,
    detect_maneuvers,
    estimate_decay,
)
from overflight.times import format_time_with_uncertainty, format_uncertainty

START = datetime(2024, 6, 1, tzinfo=UTC)
GAP_DAYS = 193.0
BURN = START + timedelta(days=100)  # inside the gap: 30 m/s along-track


@pytest.fixture(scope="module")
def gap_sets() -> list[ElementSet]:
    """Element sets every 8 h for 4 days, 193 days without any, then 4 more days; a 30 m/s burn
    in the gap."""
    first = epochs_every(START, 4, 8, 2, seed=3)
    later = epochs_every(first[-1] + timedelta(days=GAP_DAYS), 4, 8, 2, seed=4)
    sets, _ = series(START, leo_mean(), first + later, [Burn(BURN, (0.0, 30.0, 0.0))], seed=5,
                     name="GAPSAT")
    return sets


@pytest.fixture(scope="module")
def one_set() -> list[ElementSet]:
    sets, _ = series(START, leo_mean(), [START], [], seed=1, name="LONELY")
    return sets


def _write(sets: list[ElementSet], path: Path) -> Path:
    path.write_text(write_elements(sets, "tle"))
    return path


# ---- one element set: not enough history ------------------------------------------------------
def test_one_set_is_not_enough_history_in_the_library(one_set: list[ElementSet]) -> None:
    result = detect_maneuvers(one_set)
    assert result.maneuvers == [] and result.status == "not-enough-history"
    (st,) = result.statuses
    assert (st.status, st.element_sets, st.pairs_compared, st.span_days) == (
        "not-enough-history", 1, 0, 0.0)
    assert "not enough history" in st.reason and "at least 2 sets" in st.reason
    assert result.to_dict()["objects_not_ok"][0]["status"] == "not-enough-history"
    decay = assess_decay(one_set)
    assert decay.status == "not-enough-history" and decay.fit_points == 1
    assert decay.estimate is None and estimate_decay(one_set) is None
    assert "needs 4 sets over 1.5 d" in decay.reason


def test_one_set_is_not_enough_history_in_cli_json(
    one_set: list[ElementSet], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(one_set, tmp_path / "one.tle")
    code, out, err = run(["history", "--tle-history", str(path), "-f", "json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "not-enough-history" and doc["element_sets"] == 1
    assert doc["maneuvers"] == [] and doc["decay_status"] == "not-enough-history"
    code, out, _ = run(["maneuvers", "--tle-history", str(path), "-f", "json"], capsys)
    assert code == 0 and json.loads(out)["status"] == "not-enough-history"
    code, out, _ = run(["decay", "--tle-history", str(path), "-f", "json"], capsys)
    assert code == 0 and json.loads(out)[0]["status"] == "not-enough-history"
    # Tables say so instead of "no maneuvers detected".
    code, out, _ = run(["history", "--tle-history", str(path)], capsys)
    assert code == 0 and "not enough history" in out and "no maneuvers detected" not in out
    code, out, _ = run(["maneuvers", "--tle-history", str(path)], capsys)
    assert code == 0 and "not enough history" in out and "no maneuvers detected" not in out
    code, out, _ = run(["decay", "--tle-history", str(path)], capsys)
    assert code == 0 and "not enough history" in out and "no significant" not in out


def test_one_set_is_not_enough_history_in_the_api(one_set: list[ElementSet]) -> None:
    hist = of.history(one_set)
    assert hist.status == "not-enough-history"
    assert hist.to_dict()["status"] == "not-enough-history"
    assert "not enough history" in hist._caption()
    man = of.maneuvers(one_set)
    assert len(man) == 0 and man.status == "not-enough-history"
    assert man.to_dict()["status"] == "not-enough-history"


def test_one_set_is_not_enough_history_in_the_server(
    one_set: list[ElementSet], tmp_path: Path
) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from overflight.catalog import Catalog
    from overflight.server import create_app

    db = tmp_path / "one.db"
    with Catalog.open(db, create=True) as cat:
        cat.import_sources([str(_write(one_set, tmp_path / "one.tle"))], group="lonely")
    with TestClient(create_app(db)) as c:
        hist = c.get("/api/history", params={"sat": "99001"}).json()
        man = c.get("/api/maneuvers", params={"group": "lonely"}).json()
    assert hist["status"] == "not-enough-history" and hist["decay_status"] == "not-enough-history"
    assert man["status"] == "not-enough-history" and man["maneuvers"] == []


# ---- a 193-day gap: a data gap, never a delta-v --------------------------------------------
def test_long_gap_is_a_data_gap_not_a_delta_v(gap_sets: list[ElementSet]) -> None:
    result = detect_maneuvers(gap_sets)
    assert result.status == "data-gap"
    assert not [m for m in result.maneuvers if m.before_epoch < BURN < m.after_epoch]
    assert all(m.bracket_s < MAX_BRACKET_DAYS * 86400 for m in result.maneuvers)
    (gap,) = result.data_gaps
    assert gap.start < BURN < gap.end
    assert gap.days == pytest.approx(GAP_DAYS, abs=0.5)
    st = result.statuses[0]
    assert st.pairs_compared == len(gap_sets) - 2 and "data gap" in st.reason
    # Decay is fitted only after the gap.
    decay = assess_decay(gap_sets, maneuvers=result.maneuvers)
    assert decay.fit_points == sum(1 for es in gap_sets if es.epoch >= gap.end)


def test_long_gap_in_history_and_maneuvers_cli(
    gap_sets: list[ElementSet], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(gap_sets, tmp_path / "gap.tle")
    code, out, err = run(["history", "--tle-history", str(path), "-f", "json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "data-gap" and len(doc["data_gaps"]) == 1
    assert doc["data_gaps"][0]["days"] == pytest.approx(GAP_DAYS, abs=0.5)
    assert not [m for m in doc["maneuvers"] if m["before_epoch"] < "2024-09-09" < m["after_epoch"]]
    code, out, _ = run(["history", "--tle-history", str(path)], capsys)
    assert code == 0 and "data gap 2024-06-0" in out and "(193.0 d)" in out
    code, out, _ = run(["maneuvers", "--tle-history", str(path), "-f", "json"], capsys)
    doc = json.loads(out)
    assert doc["status"] == "data-gap" and doc["data_gaps"][0]["days"] > MAX_BRACKET_DAYS


def test_long_gap_in_verify_is_undetermined(
    gap_sets: list[ElementSet], tmp_path: Path
) -> None:
    from overflight.catalog import Catalog

    db = tmp_path / "gap.db"
    with Catalog.open(db, create=True) as cat:
        cat.import_sources([str(_write(gap_sets, tmp_path / "gap.tle"))])
    before = max(es.epoch for es in gap_sets if es.epoch < BURN)
    with Catalog.open(db) as cat:
        v = of.verify(99001, (40.0, 120.0), before + timedelta(hours=12), catalog=cat)
    doc = v.to_dict()
    text = json.dumps(doc)
    assert "undetermined" in text and "data gap of 193.0 days" in text
    assert "m/s" not in text  # no delta-v across the gap
    rows = doc.get("rows") or [doc]
    assert all(r.get("maneuver_between_elsets") is None for r in rows)


# ---- times: date and a written-out unit -------------------------------------------------------
@pytest.mark.parametrize(("seconds", "text"), [
    (0.4, "±0 s"), (45, "±45 s"), (89.4, "±89 s"), (90, "±2 min"), (14 * 60, "±14 min"),
    (89 * 60, "±89 min"), (90 * 60, "±1.5 h"), (2.6 * 3600, "±2.6 h"), (47.9 * 3600, "±47.9 h"),
    (48 * 3600, "±2.0 d"), (3.1 * 86400, "±3.1 d"), (141.6 * 86400, "±141.6 d"), (-60, "±60 s"),
])
def test_format_uncertainty(seconds: float, text: str) -> None:
    assert format_uncertainty(seconds) == text


def test_maneuver_times_carry_the_date_and_unit() -> None:
    t = datetime(2024, 2, 19, 12, 48, 42, 600_000, tzinfo=UTC)
    assert format_time_with_uncertainty(t, 840.0) == "2024-02-19T12:48:43Z ±14 min"
    assert format_time_with_uncertainty(t, None) == "2024-02-19T12:48:43Z"


# ---- one perigee/apogee definition --------------------------------------------------------
def _independent(es: ElementSet) -> tuple[float, float, float]:
    """SGP4's mean semi-major axis from sgp4 itself (Satrec.a × radiusearthkm), TLE text in."""
    line1, line2 = write_elements([es], "tle").splitlines()[-2:]
    s = Satrec.twoline2rv(line1, line2)
    a = s.a * s.radiusearthkm
    return a, a * (1 - s.ecco) - s.radiusearthkm, a * (1 + s.ecco) - s.radiusearthkm


def test_perigee_apogee_one_definition(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from overflight.server import create_app

    code, out, _ = run(["catalog", "show", "58400", "-f", "json"], capsys)
    assert code == 0
    (info,) = json.loads(out)
    code, out, _ = run(["history", "58400", "-f", "json"], capsys)
    assert code == 0
    last = json.loads(out)["history"][-1]
    with TestClient(create_app()) as c:
        api = c.get("/api/catalog/58400").json()
    with of.open_catalog() as cat:
        es = cat.history(58400)[-1]
    a, hp, ha = _independent(es)
    assert info["epoch"] == api["epoch"] and last["epoch"].startswith(info["epoch"][:19])
    for key, truth in (("perigee_alt_km", hp), ("apogee_alt_km", ha)):
        # The same number (history's JSON rounds to 0.1 m).
        assert info[key] == api[key]
        assert last[key] == pytest.approx(info[key], abs=5e-5)
        assert info[key] == pytest.approx(truth, abs=1e-6)
    assert es.semi_major_axis_km == pytest.approx(a, abs=1e-6)
    assert last["semi_major_axis_km"] == pytest.approx(a, abs=1e-3)


# ---- gap threshold and the observed largest gap; element sets with a catalog ---------------------
def test_gap_threshold_and_largest_gap(gap_sets: list[ElementSet]) -> None:
    result = detect_maneuvers(gap_sets)
    d = result.to_dict()
    assert "max_gap_days" not in d and d["gap_threshold_days"] == MAX_BRACKET_DAYS
    gaps = [(b.epoch - a.epoch).total_seconds() / 86400 for a, b in pairwise(gap_sets)]
    assert d["largest_gap_days"] == pytest.approx(max(gaps), abs=1e-3)
    assert d["objects_not_ok"][0]["largest_gap_days"] == d["largest_gap_days"]
    st = result.statuses[0]
    assert st.gap_threshold_days == MAX_BRACKET_DAYS
    assert st.largest_gap_days == pytest.approx(GAP_DAYS, abs=1e-6)


def test_one_set_reason_says_why(one_set: list[ElementSet]) -> None:
    (st,) = detect_maneuvers(one_set).statuses
    assert "1 element set, nothing to compare it with" in st.reason
    assert "needs at least 2 sets" in st.reason


def test_api_takes_the_histories_of_given_sets_from_the_catalog(tmp_path: Path) -> None:
    """``ovf.maneuvers(cat.select(...), catalog=cat)``: one set per object given, the stored
    history of those objects examined (as with group=)."""
    from _maneuver_synth import malligyong_february
    from overflight.catalog import Catalog

    sets, _, _ = malligyong_february()
    path = _write(list(sets), tmp_path / "feb.tle")
    with Catalog.open(tmp_path / "c.db", create=True) as cat:
        cat.import_sources([str(path)], group="feb")
        picked = cat.select(group="feb")
        assert len(picked) == 1
        by_group = of.maneuvers(group="feb", catalog=cat)
        by_sets = of.maneuvers(picked, catalog=cat)
        hist = of.history(picked, catalog=cat)
    assert len(by_group) == len(by_sets) == 5 and by_sets.status == "ok"
    assert len(hist) == len(sets) and len(hist.maneuvers) == 5
    alone = of.maneuvers(picked)  # no catalog: the one set is all there is
    assert alone.status == "not-enough-history" and len(alone) == 0
