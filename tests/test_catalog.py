"""The catalog API: imports of real history, queries, satellite references, the bundled
snapshot, rejected records, atomicity and concurrent imports."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from overflight.catalog import (
    AmbiguousSatellite,
    Catalog,
    CatalogError,
    ImportFailed,
    SatelliteNotFound,
    alpha5_to_norad,
    default_group,
    store,
)
from overflight.elements import ElementSet

HISTORY = "celestrak-history-2026-05-24-to-30"
SNAPSHOT = "celestrak-2026-05-30"


# ---- independent reading of TLE text (plain column slicing, no parser) -------------------------
def tle_pairs(path: Path) -> list[tuple[str, str]]:
    """(line 1, line 2) of every record, by the first two characters of each line."""
    lines = [ln.rstrip() for ln in path.read_text().splitlines()]
    pairs = []
    for a, b in itertools.pairwise(lines):
        if a.startswith("1 ") and b.startswith("2 "):
            pairs.append((a, b))
    return pairs


def orbit_fields(l1: str, l2: str) -> tuple[str, ...]:
    """The columns that make an element set distinct (epoch, drag terms, the six elements);
    the counters (element set number, revolution number) and checksums are left out."""
    cols = [(18, 32), (33, 43), (44, 52), (53, 61)], [(8, 16), (17, 25), (26, 33), (34, 42),
                                                      (43, 51), (52, 63)]  # fmt: skip
    return tuple(l1[a:b].strip() for a, b in cols[0]) + tuple(l2[a:b].strip() for a, b in cols[1])


def tle_epoch(l1: str) -> datetime:
    """Epoch from columns 19-32, with exact decimal arithmetic, rounded to the microsecond."""
    yy = int(l1[18:20])
    day = Decimal(l1[20:32])
    start = datetime(1900 + yy if yy >= 57 else 2000 + yy, 1, 1, tzinfo=UTC)
    micros = int(((day - 1) * 86_400_000_000).to_integral_value())
    return start + timedelta(microseconds=micros)


def independent_counts(path: Path) -> tuple[dict[int, int], dict[int, int], dict[int, datetime]]:
    """Per catalog number (columns 3-7): distinct (line1, line2) pairs, distinct orbit-field
    tuples, and the newest epoch."""
    pairs: dict[int, set[tuple[str, str]]] = defaultdict(set)
    orbits: dict[int, set[tuple[str, ...]]] = defaultdict(set)
    newest: dict[int, datetime] = {}
    for l1, l2 in tle_pairs(path):
        nid = int(l1[2:7])
        pairs[nid].add((l1, l2))
        orbits[nid].add(orbit_fields(l1, l2))
        ep = tle_epoch(l1)
        newest[nid] = max(newest.get(nid, ep), ep)
    return (
        {k: len(v) for k, v in pairs.items()},
        {k: len(v) for k, v in orbits.items()},
        newest,
    )


def db_counts(cat: Catalog, group: str) -> dict[int, int]:
    return {nid: len(sets) for nid, sets in cat.history_many(group=group).items()}


@pytest.fixture(scope="module")
def week(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog holding a week of history of the resource and stations groups."""
    db = tmp_path_factory.mktemp("week") / "catalog.db"
    with Catalog.open(db, create=True) as cat:
        result = cat.import_sources(
            [shared_data / HISTORY / "resource.tle", shared_data / HISTORY / "stations.tle"]
        )
    assert result.stored and result.rejected == 0
    return db


@pytest.mark.parametrize("group", ["resource", "stations"])
def test_history_counts_match_an_independent_count(
    week: Path, shared_data: Path, group: str
) -> None:
    by_pair, by_orbit, newest = independent_counts(shared_data / HISTORY / f"{group}.tle")
    with Catalog.open(week) as cat:
        counts = db_counts(cat, group)
        latest = {es.norad_id: es for es in cat.latest(group=group)}
    # One stored element set per distinct orbit (the key leaves out the revolution counter,
    # which CelesTrak sometimes re-publishes with the same elements).
    assert counts == by_orbit
    for nid, n in counts.items():
        assert n <= by_pair[nid]
    assert {nid: es.epoch for nid, es in latest.items()} == newest
    if group == "resource":  # no re-published counters in this file: pairs are distinct sets
        assert counts == by_pair


def test_history_order_and_bracket(week: Path) -> None:
    with Catalog.open(week) as cat:
        hist = cat.history(25544)
        epochs = [es.epoch for es in hist]
        assert epochs == sorted(epochs) and len(hist) > 10
        mid = epochs[5] + timedelta(seconds=1)
        before, after = cat.bracket(25544, mid)
        assert before == hist[5] and after == hist[6]
        exact = cat.bracket(25544, epochs[5])
        assert exact.before == hist[5] and exact.after == hist[6]
        early = cat.bracket(25544, epochs[0] - timedelta(days=1))
        assert early.before is None and early.after == hist[0]
        late = cat.bracket(25544, epochs[-1] + timedelta(days=1))
        assert late.before == hist[-1] and late.after is None
        window = cat.history(25544, start=epochs[2], end=epochs[4])
        assert window == hist[2:5]
        assert cat.history(1) == []
        (as_of,) = cat.latest(norad_ids=[25544], as_of=mid)
        assert as_of == hist[5]
        assert cat.latest(norad_ids=[25544], as_of=epochs[0] - timedelta(seconds=1)) == []


def test_times_as_iso_text(week: Path) -> None:
    """Every query taking a time takes ISO 8601 text as the library calls do (times.py), and
    a bad one is a one-line OverflightError naming the argument."""
    from overflight.errors import OverflightError
    from overflight.times import format_utc

    with Catalog.open(week) as cat:
        hist = cat.history(25544)
        mid = hist[5].epoch + timedelta(seconds=1)
        text = format_utc(mid, decimals=6)
        assert cat.bracket(25544, text) == cat.bracket(25544, mid)
        assert cat.bracket(25544, mid.isoformat()) == (hist[5], hist[6])
        assert cat.history(25544, start=text, end=format_utc(hist[8].epoch, decimals=6)) == \
            hist[6:9]
        assert cat.history_many(norad_ids=[25544], end=text) == {25544: hist[:6]}
        assert cat.latest(norad_ids=[25544], as_of=text) == [hist[5]]
        assert cat.nearest(text, norad_ids=[25544]) == [hist[5]]
        assert cat.select(sats=[25544], as_of=text) == [hist[5]]
        for call, name in [(lambda t: cat.bracket(25544, t), "at"),
                           (lambda t: cat.history(25544, start=t), "start"),
                           (lambda t: cat.latest(as_of=t), "as_of"),
                           (lambda t: cat.nearest(t), "at")]:
            for bad in ("2024-06-09T08:40", "soon", "3000-01-01T00:00Z"):
                with pytest.raises(OverflightError) as info:
                    call(bad)
                assert str(info.value).startswith(f"{name}: ") and "\n" not in str(info.value)


def test_latest_filters(week: Path) -> None:
    with Catalog.open(week) as cat:
        both = cat.latest()
        assert len(both) == len(cat.latest(group="resource")) + len(cat.latest(group="stations"))
        assert [es.norad_id for es in both] == sorted(es.norad_id for es in both)
        css = cat.latest(name="css *")
        assert css and all(es.norad_id in {48274, 53239, 54216} for es in css)
        assert [es.norad_id for es in cat.latest(norad_ids=[25544, 48274, 999999])] == [
            25544,
            48274,
        ]
        assert cat.latest(group="no-such-group") == []
        assert cat.latest(group="stations", name="ISS (ZARYA)")[0].norad_id == 25544


def test_objects_groups_info(week: Path, shared_data: Path) -> None:
    _, by_orbit, _ = independent_counts(shared_data / HISTORY / "resource.tle")
    with Catalog.open(week) as cat:
        groups = {g.name: g for g in cat.groups()}
        assert set(groups) == {"resource", "stations"}
        assert groups["resource"].objects == len(by_orbit)
        assert groups["resource"].element_sets == sum(by_orbit.values())
        iss = cat.get(25544)
        assert iss.name == "ISS (ZARYA)" and iss.groups == ("stations",)
        assert iss.element_sets == len(cat.history(25544))
        assert iss.first_epoch == cat.history(25544)[0].epoch
        info = cat.info()
        assert not info.snapshot and info.schema_version == store.SCHEMA_VERSION
        assert info.element_sets == sum(g.element_sets for g in groups.values())
        with pytest.raises(SatelliteNotFound, match="NORAD 1 is not in the catalog"):
            cat.get(1)


# ---- references ------------------------------------------------------------------------------
def es(norad_id: int, day: int, name: str) -> ElementSet:
    return ElementSet(
        norad_id=norad_id,
        epoch=datetime(2026, 5, day, tzinfo=UTC),
        mean_motion_rev_day=15.2 + norad_id * 1e-6,
        eccentricity=0.001,
        inclination_deg=97.4,
        raan_deg=10.0 + day,
        arg_perigee_deg=90.0,
        mean_anomaly_deg=0.0,
        name=name,
    )


@pytest.fixture
def refs() -> Catalog:
    cat = Catalog.memory()
    cat.add([es(58400, 1, "OBJECT A"), es(58400, 5, "MALLIGYONG-1")], group="dprk")
    cat.add([es(100001, 2, "A0001 TEST"), es(25544, 2, "ISS (ZARYA)")])
    cat.add([es(49044, 2, "ISS (NAUKA)"), es(20000, 2, "SL-16 R/B"), es(20001, 2, "SL-16 R/B")])
    return cat


def test_alpha5() -> None:
    assert alpha5_to_norad("A0001") == 100001
    assert alpha5_to_norad("a0001") == 100001
    assert alpha5_to_norad("H9999") == 179999
    assert alpha5_to_norad("J0000") == 180000  # I is skipped
    assert alpha5_to_norad("Z9999") == 339999
    assert alpha5_to_norad(" 58400 ") == 58400
    assert alpha5_to_norad("I0000") is None and alpha5_to_norad("ISS") is None


def test_resolve(refs: Catalog) -> None:
    assert refs.resolve("58400").norad_id == 58400
    assert refs.resolve(58400).name == "MALLIGYONG-1"
    assert refs.resolve("A0001").norad_id == 100001
    assert refs.resolve("malligyong-1").norad_id == 58400  # exact, case-insensitive
    assert refs.resolve("Object A").norad_id == 58400  # a former name
    assert refs.resolve("mallig*").norad_id == 58400  # glob
    assert refs.resolve("zarya").norad_id == 25544  # substring
    assert refs.resolve("ISS (NAUKA)").norad_id == 49044
    assert [n.name for n in refs.names(58400)] == ["OBJECT A", "MALLIGYONG-1"]
    assert [o.norad_id for o in refs.resolve_many(["58400", "malligyong-1", "zarya"])] == [
        58400,
        25544,
    ]


def test_resolve_errors(refs: Catalog) -> None:
    with pytest.raises(AmbiguousSatellite) as exc:
        refs.resolve("iss*")
    assert [c.norad_id for c in exc.value.candidates] == [25544, 49044]
    assert "25544 ISS (ZARYA), 49044 ISS (NAUKA)" in str(exc.value)
    with pytest.raises(AmbiguousSatellite, match="2 satellites with a name 'sl-16 r/b'"):
        refs.resolve("sl-16 r/b")
    with pytest.raises(SatelliteNotFound, match="no satellite matching 'nothing'"):
        refs.resolve("nothing")
    with pytest.raises(SatelliteNotFound, match="NORAD 12345"):
        refs.resolve("12345")
    with pytest.raises(SatelliteNotFound):
        refs.resolve("  ")


def test_default_group() -> None:
    assert default_group("/x/starlink.tle.gz") == "starlink"
    assert default_group("malligyong-1-2024.tle") == "malligyong-1-2024"
    assert default_group("https://celestrak.org/NORAD/elements/gp.php?GROUP=weather") == "weather"


# ---- bundled snapshot ------------------------------------------------------------------------
def test_snapshot_served_when_no_database(tmp_path: Path, shared_data: Path) -> None:
    missing = tmp_path / "none" / "catalog.db"
    with Catalog.open(missing) as cat:
        assert cat.snapshot and "bundled snapshot" in cat.description
        groups = {g.name: g for g in cat.groups()}
        assert set(groups) == {
            "resource", "military", "stations", "weather", "science", "geo", "malligyong-1",
        }  # fmt: skip
        for name in ("resource", "stations", "geo"):
            _, by_orbit, _ = independent_counts(shared_data / SNAPSHOT / f"{name}.tle")
            assert db_counts(cat, name) == by_orbit
        mal = cat.history(cat.resolve("malligyong-1").norad_id)
        assert [e.epoch.date().isoformat() for e in mal] == [
            "2024-06-07", "2024-06-12", "2024-07-07",
        ]  # fmt: skip
        with pytest.raises(CatalogError, match="read-only"):
            cat.add([es(1, 1, "X")])
    assert not missing.exists() and not missing.parent.exists()


def test_snapshot_loads_fast_in_a_fresh_process() -> None:
    code = (
        "import time; t = time.perf_counter()\n"
        "from overflight.catalog import Catalog\n"
        "cat = Catalog.open('/nonexistent/overflight/catalog.db')\n"
        "assert cat.snapshot and cat.latest(group='malligyong-1')\n"
        "print(time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) < 2.0  # measured ~0.2 s; generous for a loaded 2-core machine


# ---- rejected records --------------------------------------------------------------------------
def _corrupt(lines: list[str], index: int, kind: int) -> None:
    """Break record ``index`` (3 lines each: name, line 1, line 2)."""
    l1, l2 = 3 * index + 1, 3 * index + 2
    if kind == 0:  # a digit changed: the checksum no longer matches
        digit = lines[l2][55]
        lines[l2] = lines[l2][:55] + ("7" if digit != "7" else "3") + lines[l2][56:]
    elif kind == 1:  # a letter in a numeric field (checksum fixed up is not needed to fail)
        lines[l1] = lines[l1][:20] + "X" + lines[l1][21:]
    else:  # line 2 cut short
        lines[l2] = lines[l2][:40]


@pytest.fixture(scope="module")
def station_lines(shared_data: Path) -> list[str]:
    return (shared_data / SNAPSHOT / "stations.tle").read_text().splitlines()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    bad=st.dictionaries(st.integers(0, 24), st.integers(0, 2), min_size=1, max_size=6),
    strict=st.booleans(),
)
def test_rejected_records_leave_the_database_unchanged(
    station_lines: list[str], tmp_path: Path, bad: dict[int, int], strict: bool
) -> None:
    from overflight.catalog.formats import parse_bytes

    n_records = len(station_lines) // 3
    lines = list(station_lines)
    for index, kind in bad.items():
        _corrupt(lines, index, kind)
    dirty = tmp_path / "stations.tle"
    dirty.write_text("\n".join(lines) + "\n")
    good_text = "\n".join(
        "\n".join(station_lines[3 * i : 3 * i + 3]) for i in range(n_records) if i not in bad
    )
    expected = parse_bytes(good_text.encode(), "clean").records
    assert len(expected) == n_records - len(bad)

    cat = Catalog.memory()
    cat.add([es(58400, 1, "ALREADY THERE")], group="old")
    before = sorted(e.key for e in cat.iter_element_sets())
    result = cat.import_sources([dirty], strict=strict)
    assert result.rejected == len(bad)
    for err in result.sources[0].errors:  # each error points into its broken record
        assert err.line is not None and (err.line - 1) // 3 in bad, str(err)
        assert str(err).startswith(f"{dirty.as_posix()}:{err.line}: ") or str(err).startswith(
            f"{dirty}:{err.line}: "
        )
    stored = sorted(e.key for e in cat.iter_element_sets())
    if strict:
        assert not result.stored and stored == before
        assert [g.name for g in cat.groups()] == ["old"]
    else:
        assert result.stored and result.new == len(expected)
        assert stored == sorted(before + [e.key for e in expected])
        assert {e.norad_id for e in cat.latest(group="stations")} == {e.norad_id for e in expected}
    cat.close()


# ---- atomicity and concurrency -----------------------------------------------------------------
def test_failure_mid_import_stores_nothing(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "c.db"
    with Catalog.open(db, create=True) as cat:
        cat.import_sources([shared_data / SNAPSHOT / "weather.tle"])
        before = sorted(e.key for e in cat.iter_element_sets())
        real = store.write_element_sets
        calls = []

        def failing(*args: object, **kw: object) -> store.WriteStats:
            calls.append(1)
            if len(calls) == 2:  # the first source is written, then the second fails
                raise KeyboardInterrupt
            return real(*args, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(store, "write_element_sets", failing)
        with pytest.raises(KeyboardInterrupt):
            cat.import_sources(
                [shared_data / SNAPSHOT / "resource.tle", shared_data / SNAPSHOT / "geo.tle"]
            )
        monkeypatch.undo()
        assert sorted(e.key for e in cat.iter_element_sets()) == before
        assert [g.name for g in cat.groups()] == ["weather"]
        with pytest.raises(ImportFailed, match="no such file"):
            cat.import_sources([shared_data / SNAPSHOT / "resource.tle", tmp_path / "nope.tle"])
        assert sorted(e.key for e in cat.iter_element_sets()) == before


def test_two_cli_processes_import_overlapping_files(tmp_path: Path, shared_data: Path) -> None:
    lines = (shared_data / HISTORY / "resource.tle").read_text().splitlines()
    n = len(lines) // 3
    first = tmp_path / "first.tle"  # records 0 .. 2/3
    second = tmp_path / "second.tle"  # records 1/3 .. end: a third overlaps
    first.write_text("\n".join(lines[: 3 * (2 * n // 3)]) + "\n")
    second.write_text("\n".join(lines[3 * (n // 3) :]) + "\n")
    db = tmp_path / "shared.db"
    cmd = [sys.executable, "-m", "overflight", "catalog", "import", "--format", "json",
           "--no-snapshot"]
    procs = [
        subprocess.Popen(
            [*cmd, str(path), "--group", "resource", "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in (first, second)
    ]
    import json

    news = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        news.append(json.loads(out)[0]["new"])
    _, by_orbit, _ = independent_counts(shared_data / HISTORY / "resource.tle")
    with Catalog.open(db) as cat:
        assert db_counts(cat, "resource") == by_orbit
        total = cat.info().element_sets
    assert total == sum(by_orbit.values()) == sum(news)  # nothing lost, nothing twice


def test_catalog_open_errors(tmp_path: Path) -> None:
    with pytest.raises(store.StoreError, match="is a directory"):
        Catalog.open(tmp_path, create=True)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    with pytest.raises(CatalogError, match="cannot open"):  # StoreError is a CatalogError
        Catalog.open(junk)
    started = time.perf_counter()
    with Catalog.open(tmp_path / "new.db", create=True) as cat:
        assert not cat.snapshot and cat.info().element_sets == 0
    assert (tmp_path / "new.db").exists() and time.perf_counter() - started < 5


def test_public_description_names_the_data_never_the_path(tmp_path: Path) -> None:
    path = tmp_path / "secret-dir" / "catalog.db"
    path.parent.mkdir()
    with Catalog.open(path, create=True) as cat:
        assert cat.public_description == "an overflight catalog (0 element sets of 0 objects)"
        cat.import_sources([Path(__file__).parent / "fixtures" / "formats" / "four.tle"],
                           seed_snapshot=False)
        text = cat.public_description
        assert str(tmp_path) not in text and text.startswith("an overflight catalog (")
        n = cat.info().element_sets
        assert f"({n:,} element sets of " in text and ", epochs " in text
