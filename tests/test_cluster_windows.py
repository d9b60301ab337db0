"""Window jobs sharded over a Dask cluster give the rows of one process (issue 19): passes,
watch and exposure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _cli import run
from overflight.access import Constraints

distributed = pytest.importorskip("distributed")

START = "2026-05-31T00:00Z"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two single-threaded workers in this process (bounded start-up, no forks)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None, protocol="tcp://") as c:
        yield c


def _resource(shared_data: Path) -> str:
    return str(shared_data / "celestrak-2026-05-30" / "resource.tle")


def test_plan_on_cluster_equals_one_process(shared_data: Path, cluster: Any) -> None:
    from overflight.passes import plan_passes

    plan = plan_passes(files=[_resource(shared_data)], sites=["Seoul", "Rajin port", "10,100"],
                       start=START, days=1, constraints=Constraints(min_elevation_deg=20.0))
    one = plan.table(workers=1)
    seen: list[tuple[int, int]] = []
    with distributed.Client(cluster) as client:
        sharded = plan.table(client=client, progress=lambda d, t: seen.append((d, t)))
        small = plan.table(client=client, progress=None)
    assert len(one) > 100
    for name in one.__dataclass_fields__:
        assert np.array_equal(getattr(one, name), getattr(sharded, name)), name
        assert np.array_equal(getattr(one, name), getattr(small, name)), name
    assert seen[-1] == (len(plan.elsets), len(plan.elsets))


def test_shards_of_a_few_satellites(shared_data: Path, cluster: Any) -> None:
    from overflight.passes import plan_passes

    plan = plan_passes(files=[_resource(shared_data)], sites=["Seoul"], start=START, days=1,
                       imaging=True)  # per-satellite sensor rules travel with each shard
    with distributed.Client(cluster) as client:
        sharded = list(plan.tables(client=client, shard_satellites=7))
    assert len(sharded) == -(-len(plan.elsets) // 7)
    a, b = plan.table(workers=1), plan.ordered(sharded)
    for name in a.__dataclass_fields__:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.parametrize("command", [
    ["passes", "--site", "Seoul", "--site", "Rajin port", "--min-elevation", "30"],
    ["watch", "Pyongyang"],
    ["exposure", "Sohae"],
])
def test_cli_scheduler_same_output(shared_data: Path, cluster: Any, command: list[str],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    args = [*command, "--tle", _resource(shared_data), "--start", START, "--days", "1",
            "-f", "csv"]
    code, here, _ = run(args, capsys)
    assert code == 0 and len(here.splitlines()) > 5
    code, there, err = run([*args, "--scheduler", cluster.scheduler_address], capsys)
    assert code == 0, err
    assert there == here


# ---- exposure: its windows are a PassPlan's, computed through the same cluster path ----------
@pytest.fixture
def few_tle(shared_data: Path, tmp_path: Path) -> Path:
    """The resource file's first 30 satellites: optical and radar imagers (each with its own
    rule, radar band cut and look side), non-imagers and satellites the sensor table lacks."""
    lines = Path(_resource(shared_data)).read_text().splitlines()
    path = tmp_path / "few.tle"
    path.write_text("\n".join(lines[:90]) + "\n")
    return path


def _same_exposure(a: Any, b: Any) -> None:
    assert [i.to_dict() for i in a] == [i.to_dict() for i in b]
    assert a.summary() == b.summary()
    for by in ("country", "kind", "operator", "country_kind"):
        assert a.unobserved(by).records == b.unobserved(by).records, by
        assert a.breakdown(by).records == b.breakdown(by).records, by
    by_all = ["country", "kind", "operator", "country_kind"]
    assert a.to_dict(by=by_all) == b.to_dict(by=by_all)


def test_exposure_on_cluster_equals_one_process(few_tle: Path, cluster: Any) -> None:
    from overflight.exposure import exposure_of_plan
    from overflight.passes import plan_passes
    from overflight.sensors import load_table

    plan = plan_passes(files=[few_tle], sites=["Sohae"], start=START, days=3, imaging=True)
    table = load_table()
    assert any(table[e.norad_id].is_radar for e in plan.elsets)
    assert plan.skipped  # non-imagers and unknown satellites left out, on both paths
    one = exposure_of_plan(plan)
    with distributed.Client(cluster) as client:
        there = exposure_of_plan(plan, client=client)
        # Shards of 3 satellites: many tasks, rule groups split across them.
        shards = list(plan.tables(client=client, shard_satellites=3))
    assert len(shards) == -(-len(plan.elsets) // 3)
    sharded = exposure_of_plan(plan, table=plan.ordered(shards))
    assert len(one) > 5 and one.summary()["satellites"] > 3
    _same_exposure(one, there)
    _same_exposure(one, sharded)


def test_api_exposure_client_equals_one_process(few_tle: Path, cluster: Any) -> None:
    import overflight as ovf
    from overflight.catalog.formats import read_path

    sats = read_path(few_tle).records
    kw: dict[str, Any] = {"start": START, "days": 2}
    one = ovf.exposure(sats, ["Sohae", "Rajin port"], **kw)
    with distributed.Client(cluster) as client:
        there = ovf.exposure(sats, ["Sohae", "Rajin port"], client=client, **kw)
    assert len(one) > 3
    _same_exposure(one, there)


def test_api_passes_client_equals_one_process(few_tle: Path, cluster: Any) -> None:
    import overflight as ovf
    from overflight.catalog.formats import read_path

    sats = read_path(few_tle).records
    kw: dict[str, Any] = {"start": START, "days": 2, "imaging": True}
    one = ovf.passes(sats, ["Sohae", "Rajin port"], **kw)
    with distributed.Client(cluster) as client:
        there = ovf.passes(sats, ["Sohae", "Rajin port"], client=client, **kw)
    assert len(one) > 3
    assert one.to_pandas().equals(there.to_pandas())


@pytest.mark.parametrize("target", [["Sohae"], ["--area", "Najin port"]])
def test_cli_exposure_scheduler_same_json(few_tle: Path, cluster: Any, target: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    args = ["exposure", *target, "--tle", str(few_tle), "--start", START, "--days", "3",
            "--by", "country_kind", "-f", "json"]
    code, here, _ = run(args, capsys)
    assert code == 0 and '"intervals"' in here
    with distributed.Client(cluster) as client, distributed.get_task_stream(client) as tasks:
        code, there, err = run([*args, "--scheduler", cluster.scheduler_address], capsys)
    assert code == 0, err
    assert there == here
    assert any(t["key"].startswith("_shard_table-") for t in tasks.data)  # on the cluster


def test_cli_exposure_scheduler_local(few_tle: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """``--scheduler local``: a local cluster of worker processes, started and closed here."""
    import json

    args = ["exposure", "Sohae", "--tle", str(few_tle), "--start", START, "--days", "2",
            "-f", "json"]
    code, here, _ = run(args, capsys)
    assert code == 0
    code, there, err = run([*args, "--scheduler", "local"], capsys)
    assert code == 0, err
    assert there == here
    assert json.loads(there)["summary"]["intervals"] > 0


def test_api_coverage_client_equals_one_process(few_tle: Path, cluster: Any) -> None:
    """``ovf.coverage(client=)``: the shards on the cluster, the result of one process."""
    import overflight as ovf
    from overflight.catalog.formats import read_path

    sats = read_path(few_tle).records
    kw: dict[str, Any] = {"start": START, "days": 1, "grid_km": 100.0}
    one = ovf.coverage(sats, "korean-peninsula", **kw)
    with distributed.Client(cluster) as client, distributed.get_task_stream(client) as tasks:
        there = ovf.coverage(sats, "korean-peninsula", client=client, **kw)
    assert one.summary()["windows"] > 10
    assert there.result == one.result
    assert tasks.data  # it ran on the cluster
