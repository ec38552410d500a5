"""Streamlit serves each browser session on its own thread: concurrent writers must not
clash, on any backend."""

from __future__ import annotations

import threading

from tests.conftest import synapse


def test_two_threads_posting_to_one_table_both_succeed(make_client, synapse_table):
    results: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            c = make_client()
            got: list[int] = []
            for batch in range(10):
                got += c.post_annotation(synapse_table, [synapse(i) for i in range(50)])
                if batch % 3 == 0:
                    c.update_annotation(synapse_table, {"id": got[-1], "size": 1.0})
            results[name] = got
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    every = [i for ids in results.values() for i in ids]
    assert len(every) == 1500 and len(set(every)) == 1500
    client = make_client()
    # 1500 posted + 4 updates per thread.
    assert client.get_annotation_count(synapse_table) == 1500 + 12
    assert client.get_live_count(synapse_table) == 1500
