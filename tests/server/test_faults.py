"""Faults, bounded and on loopback: concurrent uploaders, and a server killed mid-upload.

Every row carries its own tag in ``size`` (uploader * 1e6 + row), so the check is exact:
each tag stored exactly once, ids unique.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import requests
import requests.adapters

import anno_core
from anno_core.errors import RemoteError


def synapse_frame(n: int, tag: int) -> pd.DataFrame:
    rng = np.random.default_rng(tag)
    pts = rng.integers(0, 10_000, size=(n, 3)).astype(float)
    frame = pd.DataFrame(
        {
            f"{f}_position_{a}": pts[:, j] + k
            for k, f in enumerate(("pre_pt", "post_pt", "ctr_pt"))
            for j, a in enumerate("xyz")
        }
    )
    frame["size"] = tag * 1_000_000 + np.arange(n, dtype=float)
    return frame


def stored_tags(client: anno_core.AnnotationClient, table: str) -> pd.Series:
    rows = client.query_annotations(table, limit=10_000_000)
    return rows["size"]


def test_four_concurrent_uploaders_store_every_row_once(make_client):
    rows = 50_000
    make_client().create_table("syn", "synapse", "d", [4, 4, 40], write_permission="PUBLIC")
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def upload(k: int, user: str) -> None:
        try:
            client = make_client(user)
            vol = client.aligned_volume_name
            results[k] = client.backend.insert_frame(vol, "syn", synapse_frame(rows, k + 1))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    users = ("admin", "olivia", "mia", "sam")
    threads = [threading.Thread(target=upload, args=(k, u)) for k, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    every = [i for ids in results.values() for i in ids]
    assert len(every) == 4 * rows and len(set(every)) == 4 * rows
    client = make_client()
    assert client.get_annotation_count("syn") == 4 * rows
    tags = stored_tags(client, "syn")
    expected = np.concatenate([(k + 1) * 1_000_000 + np.arange(rows) for k in range(4)])
    assert sorted(tags.tolist()) == sorted(expected.astype(float).tolist())
    # Each uploader's ids point at its own rows.
    for k, ids in results.items():
        row = client.get_annotation("syn", [ids[0], ids[-1]])
        assert [r["size"] for r in row] == [(k + 1) * 1e6, (k + 1) * 1e6 + rows - 1]


def _kill_when(server, progress_at: int):
    """A progress callback that SIGKILLs the server 30 ms after ``progress_at`` rows are
    stored: in the middle of the next batch (before or after its commit, by chance)."""
    fired = threading.Event()
    killed = threading.Event()

    def kill() -> None:
        server.kill()
        killed.set()

    def progress(done: int, total: int) -> None:
        if done >= progress_at and not fired.is_set():
            fired.set()
            threading.Timer(0.03, kill).start()

    return progress, killed


def test_killed_mid_upload_then_resumed_loses_and_duplicates_nothing(fresh_server):
    rows = 200_000
    client = fresh_server.connect()
    client.create_table("syn", "synapse", "d", [4, 4, 40])
    vol = client.aligned_volume_name
    frame = synapse_frame(rows, 1)
    backend = client.backend
    backend.retries, backend.backoff = 2, 0.05  # give up quickly while the server is dead
    progress, fired = _kill_when(fresh_server, 60_000)
    try:
        backend.insert_frame(vol, "syn", frame, progress=progress, upload_key="job-1")
    except RemoteError as exc:
        stopped = exc
    else:
        raise AssertionError("the upload went on with the server dead")
    assert fired.is_set()
    assert "job-1" in str(stopped) and stopped.details["stored_rows"] >= 60_000
    fresh_server.start()  # same port, same data
    # The batch in flight may have been committed with its answer lost: at most one more.
    stored = client.get_annotation_count("syn")
    assert stored - stopped.details["stored_rows"] in (0, 10_000)
    ids = backend.insert_frame(vol, "syn", frame, upload_key="job-1")  # resume
    assert len(ids) == rows and len(set(ids)) == rows
    assert ids[: len(stopped.details["stored_ids"])] == stopped.details["stored_ids"]
    assert client.get_annotation_count("syn") == rows
    tags = stored_tags(client, "syn")
    assert sorted(tags.tolist()) == (1_000_000 + np.arange(rows, dtype=float)).tolist()


def _refused_event(monkeypatch, server) -> threading.Event:
    """Set when a request of the upload (not the fixture's /health probes) finds the server
    gone: below any retry logic, at the HTTP adapter every `requests` session sends through."""
    refused = threading.Event()
    send = requests.adapters.HTTPAdapter.send

    def watched(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return send(self, request, *args, **kwargs)
        except requests.ConnectionError:
            if request.url.startswith(server.url) and not request.url.endswith("/health"):
                refused.set()
            raise

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", watched)
    return refused


def test_retries_ride_over_a_restart_without_duplicates(fresh_server, monkeypatch):
    rows = 200_000
    client = fresh_server.connect()
    client.create_table("syn", "synapse", "d", [4, 4, 40])
    vol = client.aligned_volume_name
    backend = client.backend
    backend.retries, backend.backoff = 12, 0.1  # waits up to ~50 s in all (8 s at most each)
    progress, fired = _kill_when(fresh_server, 100_000)
    refused = _refused_event(monkeypatch, fresh_server)

    def restart() -> None:
        # Back up only once the upload has met the dead server, so it must retry.
        fired.wait(timeout=120)
        refused.wait(timeout=120)
        fresh_server.start()

    helper = threading.Thread(target=restart)
    helper.start()
    ids = backend.insert_frame(vol, "syn", synapse_frame(rows, 2), progress=progress)
    helper.join(timeout=120)
    assert fired.is_set() and refused.is_set()
    assert len(ids) == rows and len(set(ids)) == rows
    assert client.get_annotation_count("syn") == rows
    assert (
        sorted(stored_tags(client, "syn").tolist())
        == (2_000_000 + np.arange(rows, dtype=float)).tolist()
    )
