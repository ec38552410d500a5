"""The engine's spatial index of a table: written with nothing but a queue entry, brought up
to date when the table is opened in Neuroglancer, resumable, and followed by the views."""

from __future__ import annotations

import itertools
import struct

import sqlalchemy as sa

from anno_core.engine import db, migrations, spatial_index
from tests.conftest import synapse


def _ids(view, level_cells) -> list[int]:
    out = []
    size = 0
    for level, cell in level_cells:
        raw = view.cell("lines", level, cell)
        (n,) = struct.unpack_from("<Q", raw)
        size = (len(raw) - 8 - 8 * n) // n if n else size
        out += list(struct.unpack_from(f"<{n}Q", raw, 8 + n * size)) if n else []
    return out


def _all_cells(view):
    return [
        (level, cell)
        for level in range(view.grid.levels)
        for cell in itertools.product(*(range(s) for s in view.grid.shape(level)))
    ]


def test_writes_queue_rows_and_opening_indexes_them(client, synapse_table):
    b = client.backend
    vol = client.aligned_volume_name
    client.post_annotation(synapse_table, [synapse(i) for i in range(30)])
    meta = b.meta(vol, synapse_table)
    with b.engine.connect() as conn:
        pending = conn.execute(sa.select(db.spatial_pending)).mappings().all()
        assert [(p["lo"], p["hi"]) for p in pending] == [(1, 30)]
        assert not spatial_index.up_to_date(conn, meta["id"])
    view, version = b.neuroglancer_view(vol, synapse_table)
    assert version == 30 and sorted(_ids(view, _all_cells(view))) == list(range(1, 31))
    with b.engine.connect() as conn:
        assert spatial_index.up_to_date(conn, meta["id"])
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(db.spatial_pending)).scalar() == 0
        )

    # more rows, an update and a delete: the next view has the new rows and not the old
    client.post_annotation(synapse_table, [synapse(i) for i in range(30, 40)])
    [(old, new)] = client.update_annotation(synapse_table, {"id": 3, "size": 1.0}).items()
    client.delete_annotation(synapse_table, [4])
    view, version = b.neuroglancer_view(vol, synapse_table)
    seen = sorted(_ids(view, _all_cells(view)))
    assert version == new and old not in seen and 4 not in seen and new in seen
    assert len(seen) == 40 - 2 + 1
    # the old view (its version) never shows rows stored after it
    old_view, _ = b.neuroglancer_view(vol, synapse_table, version=30)
    assert max(_ids(old_view, _all_cells(old_view))) == 30


def test_catch_up_is_done_in_batches_and_resumes(client, synapse_table, monkeypatch):
    client.post_annotation(synapse_table, [synapse(i) for i in range(25)])
    monkeypatch.setattr(spatial_index, "BATCH", 10)
    b = client.backend
    meta = b.meta(client.aligned_volume_name, synapse_table)
    t, spec = b.table_of(meta)
    from anno_core.neuroglancer.layout import layout

    spatial_index.catch_up(b, meta, layout(spec), t)
    side = db.spatial_table(meta["id"])
    with b.engine.connect() as conn:
        ids = sorted(conn.execute(sa.select(side.c.id)).scalars())
        box = spatial_index.extent(conn, meta["id"])
    assert ids == list(range(1, 26))
    lo, hi = box
    assert lo[0] == (10 + 11) / 2 * 4 and hi[0] == (10 + 24 + 11 + 24) / 2 * 4  # nm


def test_a_table_stored_before_the_index_is_indexed_whole_once(client, synapse_table):
    client.post_annotation(synapse_table, [synapse(i) for i in range(12)])
    b = client.backend
    with b.engine.begin() as conn:  # as if the rows had been stored by an older version
        conn.execute(db.spatial_pending.delete())
    view, _ = b.neuroglancer_view(client.aligned_volume_name, synapse_table)
    assert sorted(_ids(view, _all_cells(view))) == list(range(1, 13))


def test_old_databases_get_the_volume_layer_columns(client, synapse_table):
    b = client.backend
    with b.engine.begin() as conn:
        assert {"image_source", "segmentation_source"} <= migrations.columns_of(
            conn, "aligned_volumes"
        )
        step = dict(migrations.STEPS)["aligned_volume_neuroglancer_layers"]
        step(conn)  # idempotent on a database that has them
    if b.engine.dialect.name == "sqlite":  # SQLite can drop them to play an old database
        with b.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE aligned_volumes DROP COLUMN image_source")
            conn.exec_driver_sql("ALTER TABLE aligned_volumes DROP COLUMN segmentation_source")
            assert "image_source" not in migrations.columns_of(conn, "aligned_volumes")
            step(conn)
            assert {"image_source", "segmentation_source"} <= migrations.columns_of(
                conn, "aligned_volumes"
            )
    assert client.get_volume_sources() == {"image_source": None, "segmentation_source": None}
