"""A local Dask cluster (``coverage.dask_client``) listens on loopback only, dashboard off."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed")


def test_local_cluster_listens_on_loopback_only() -> None:
    from overflight.coverage import dask_client

    with dask_client(workers=1) as client:
        info = client.scheduler_info()
        assert info["address"].startswith("tcp://127.0.0.1:")
        assert all(w.startswith("tcp://127.0.0.1:") for w in info["workers"])
        http = client.run_on_scheduler(
            lambda dask_scheduler: [s.getsockname()[:2] for s in
                                    dask_scheduler.http_server._sockets.values()])
        assert http and all(host == "127.0.0.1" and port != 8787 for host, port in http)
