"""Several processes writing one table at once: every row stored once, ids unique."""

from __future__ import annotations

import multiprocessing as mp

import anno_core
from anno_core.errors import ValidationFailed

ROWS = 50_000


def _records(n: int, offset: int) -> list[dict]:
    return [
        {
            "pre_pt": {"position": [i, offset, 1]},
            "post_pt": {"position": [i, offset, 2]},
            "ctr_pt": {"position": [i, offset, 3]},
            "size": float(offset),
        }
        for i in range(n)
    ]


def _writer(settings: dict, offset: int, bad: bool, out: mp.Queue) -> None:
    client = anno_core.connect(**settings)
    records = _records(ROWS if not bad else 1000, offset)
    if bad:
        records[500]["ctr_pt"] = {"position": [1, 2]}
    try:
        ids = client.post_annotation("syn", records)
        out.put((offset, ids))
    except ValidationFailed as exc:
        out.put((offset, str(exc)))


def test_four_processes_and_a_bad_batch(make_client, synapse_table, data_dir, database_url):
    settings = {"data_dir": str(data_dir)}
    if database_url:
        settings["database_url"] = database_url
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(settings, k, False, out)) for k in range(4)]
    procs.append(ctx.Process(target=_writer, args=(settings, 99, True, out)))
    for p in procs:
        p.start()
    results = dict(out.get(timeout=300) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert "annotation 501" in results[99] and "nothing was stored" in results[99]
    ids = [i for k in range(4) for i in results[k]]
    assert len(ids) == 4 * ROWS and len(set(ids)) == 4 * ROWS
    client = make_client()
    assert client.get_annotation_count(synapse_table) == 4 * ROWS
    # Each writer's rows carry its own offset, and none of the bad batch's rows exist.
    for k in range(4):
        sample = client.get_annotation(synapse_table, results[k][::5000])
        assert {r["size"] for r in sample} == {float(k)}
    sizes = client.query_annotations(synapse_table, filters={"size": 99.0})
    assert sizes.empty
