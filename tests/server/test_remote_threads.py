"""One RemoteBackend shared by 8 threads, as the dashboard shares one between every browser
session and upload thread: mixed reads and uploads against our real server process.

The backend is fresh when the threads start (released together by a barrier), so they race
for everything it works out lazily. A `FaultProxy` that injects no fault counts the
requests: the server's kind is asked once, not once per thread.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest

import anno_core
from tests.conftest import synapse
from tests.server.fakes import FaultProxy

THREADS = 8


@pytest.fixture
def proxy(server):
    fake = FaultProxy(server.url)
    yield fake
    fake.close()


def _frame(k: int, n: int) -> pd.DataFrame:
    pts = np.column_stack([np.arange(n, dtype=float), np.full(n, float(k)), np.zeros(n)])
    return pd.DataFrame(
        {
            "pre_pt_position": list(pts),
            "post_pt_position": list(pts + 1),
            "ctr_pt_position": list(pts + 2),
            "size": k * 1_000_000 + np.arange(n, dtype=float),
        }
    )


def _work(client: anno_core.AnnotationClient, k: int, barrier: threading.Barrier) -> dict:
    """What one browser session or upload thread does; returns what it saw."""
    vol = client.aligned_volume_name
    backend = client.backend
    barrier.wait()
    table = f"own{k}"
    client.create_table(table, "synapse", f"thread {k}", [4, 4, 40])
    n = 1_500 + 100 * k
    ids = backend.insert_frame(vol, table, _frame(k, n), upload_key=f"thread-{k}")
    shared = client.post_annotation(
        "shared", [synapse(j, size=float(k * 1000 + j)) for j in range(50)]
    )
    return {
        "ids": ids,
        "n": n,
        "table": table,
        "shared": shared,
        "count": client.get_annotation_count(table),
        "some": client.get_annotation(table, [ids[0], ids[-1]]),
        "page": client.query_annotations(table, limit=10, offset=n - 10),
        "updated": client.update_annotation(table, {"id": ids[0], "size": -1.0 - k}),
        "live": client.get_live_count(table),
        "tables": client.get_tables(),
        "me": client.whoami(),
        "meta": client.get_table_metadata("shared"),
    }


def test_eight_threads_share_one_remote_backend(server, proxy, volume, make_client):
    make_client().create_table("shared", "synapse", "everyone's", [4, 4, 40])
    client = anno_core.connect(
        backend="server",
        server_address=proxy.url,
        token=server.tokens["admin"],
        aligned_volume=volume,
    )
    barrier = threading.Barrier(THREADS)
    results: dict[int, dict[str, Any]] = {}
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            results[k] = _work(client, k, barrier)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert sorted(results) == list(range(THREADS))

    for k, got in results.items():
        n, ids = got["n"], got["ids"]
        assert len(ids) == n == len(set(ids)) == got["count"]
        first, last = got["some"]
        assert (first["size"], last["size"]) == (k * 1e6, k * 1e6 + n - 1)
        assert first["pre_pt_position"] == [0, k, 0]
        assert got["page"]["size"].tolist() == [k * 1e6 + i for i in range(n - 10, n)]
        assert got["page"]["id"].tolist() == ids[-10:]
        assert list(got["updated"]) == [ids[0]]
        assert got["live"] == n
        assert got["table"] in got["tables"] and "shared" in got["tables"]
        assert got["me"]["name"] == "admin"
        assert got["meta"]["schema_type"] == "synapse"

    every_shared = [i for got in results.values() for i in got["shared"]]
    assert len(every_shared) == len(set(every_shared)) == THREADS * 50
    rows = make_client().get_annotation("shared", every_shared)
    by_id = {r["id"]: r["size"] for r in rows}
    for k, got in results.items():
        assert [by_id[i] for i in got["shared"]] == [float(k * 1000 + j) for j in range(50)]
    assert make_client().get_annotation_count("shared") == THREADS * 50

    version_asks = [s for s in proxy.seen if s[1].endswith("/annotation/api/version")]
    assert len(version_asks) == 1  # the server's kind was asked once, for all threads
    assert all(fault == "ok" for *_, fault in proxy.seen)


def test_a_refused_upload_leaves_no_encoding_thread_behind(server, volume, make_client):
    client = make_client()
    client.create_table("syn", "synapse", "d", [4, 4, 40])
    frame = _frame(1, 20)
    frame["size"] = frame["size"].astype(object)
    frame.at[3, "size"] = "big"  # one batch: the server finds it, after the encoding began
    with pytest.raises(anno_core.errors.ValidationFailed):
        client.backend.insert_frame(client.aligned_volume_name, "syn", frame)
    alive = [t.name for t in threading.enumerate() if t.name.startswith("anno-encode")]
    assert alive == []  # closed at once, not left for the garbage collector to close
