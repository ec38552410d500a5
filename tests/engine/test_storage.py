"""The embedded engine's SQL layout: one SQL table per annotation table, named by its
metadata id (no user-typed name reaches SQL), with the columns ARCHITECTURE.md lists."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import synapse


def test_each_annotation_table_is_one_sql_table_named_by_its_id(client, synapse_table):
    client.create_table("tags", "bound_tag", "d", [4, 4, 40])
    client.post_annotation(synapse_table, [synapse(i) for i in range(3)])
    client.delete_table(synapse_table)
    with client.backend.engine.connect() as conn:
        inspector = sa.inspect(conn)
        anno = sorted(n for n in inspector.get_table_names() if n.startswith("anno_"))
        assert anno == ["anno_1", "anno_2"]  # a deleted table's SQL table stays
        columns = [c["name"] for c in inspector.get_columns("anno_2")]
        assert conn.execute(sa.text("SELECT count(*) FROM anno_1")).scalar() == 3
    assert columns == [
        "id",
        "created",
        "deleted",
        "superceded_id",
        "valid",
        "created_by",
        "deleted_by",
        "sample_level",
        "pt_position_x",
        "pt_position_y",
        "pt_position_z",
        "tag",
    ]
