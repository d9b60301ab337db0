"""Window jobs sharded over a Dask cluster give the rows of one process (issue 19)."""

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
