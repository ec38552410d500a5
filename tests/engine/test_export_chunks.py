"""The engine's export reads in keyset chunks and holds one moment for the whole file."""

from __future__ import annotations

import io

import pyarrow.parquet as pq

from anno_core.engine import export
from tests.conftest import synapse


def test_chunks_cover_every_row_once_in_id_order(client, synapse_table, monkeypatch):
    ids = client.post_annotation(synapse_table, [synapse(i) for i in range(50)])
    client.delete_annotation(synapse_table, ids[10:17])
    client.update_annotation(synapse_table, [{"id": i, "size": 1.0} for i in ids[30:33]])
    monkeypatch.setattr(export, "CHUNK_ROWS", 7)
    seen = []
    buf = io.BytesIO()
    summary = client.export_table(
        synapse_table, buf, progress=lambda done, total: seen.append((done, total))
    )
    buf.seek(0)
    parquet = pq.ParquetFile(buf)
    assert parquet.metadata.num_row_groups == 7  # one row group per chunk of 7
    frame = parquet.read().to_pandas()
    live = client.query_annotations(synapse_table, limit=1000)
    assert frame["id"].tolist() == live["id"].tolist() and summary["rows"] == 43
    assert seen[0] == (0, 43) and seen[-1] == (43, 43)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_a_write_during_an_export_is_not_in_it(client, synapse_table, monkeypatch):
    ids = client.post_annotation(synapse_table, [synapse(i) for i in range(20)])
    monkeypatch.setattr(export, "CHUNK_ROWS", 5)
    wrote = []

    def meanwhile(done: int, total: int) -> None:
        if done == 5 and not wrote:  # after the first chunk, someone writes
            wrote.append(client.post_annotation(synapse_table, [synapse(99)]))
            client.update_annotation(synapse_table, {"id": ids[15], "size": 2.0})
            client.delete_annotation(synapse_table, [ids[18]])

    buf = io.BytesIO()
    summary = client.export_table(synapse_table, buf, progress=meanwhile)
    buf.seek(0)
    frame = pq.read_table(buf).to_pandas()
    assert wrote and frame["id"].tolist() == ids and summary["rows"] == 20
    assert frame.loc[15, "size"] == 135.0  # as it was when the export began
