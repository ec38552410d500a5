"""The engine suite a second time: remote backend -> our server process on 127.0.0.1.

The engine's own test functions are collected here unchanged; in tests/server the
``client``/``make_client``/``people`` fixtures are remote (see conftest.py), so each test
drives the same calls over HTTP. Tests that look inside the embedded engine (its SQL tables,
its audit log through the backend object, its user store) are left out by name below and
have remote counterparts at the end of this file that read the server's database directly.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from anno_core.engine.writes import LocalBackend
from anno_core.errors import InvalidName, PermissionDenied
from anno_core.settings import Settings
from tests.conftest import synapse
from tests.engine import (
    test_annotations,
    test_concurrency,
    test_edits,
    test_history_audit,
    test_permissions,
    test_tables,
)
from tests.server.rerun import collect

EXCLUDED = {
    "test_rows_are_never_physically_deleted": "reads the SQL tables through backend.engine",
    "test_aligned_volumes_are_namespaces": "assumes the default volume is 'local'",
    "test_transfer_ownership_hands_over_metadata_rights": "reads users through backend.engine",
    "test_every_change_is_in_the_audit_log": "reads the audit log through the backend object",
    "test_audit_log_is_append_only_and_compact": "reads SQL through backend.engine",
    "test_a_refused_call_writes_no_audit_entry": "reads the audit log through the backend",
    "test_upload_keys_answer_only_for_their_table_and_writers": "adds users through "
    "backend.engine (the server scopes keys itself: test_server_http)",
    "test_metadata_permission_is_checked_before_the_arguments": "adds users through backend.engine",
    "test_all_digit_user_names_are_refused": "adds users through backend.engine",
}

collect(
    globals(),
    (
        test_annotations,
        test_tables,
        test_permissions,
        test_history_audit,
        test_concurrency,
        test_edits,
    ),
    EXCLUDED,
    remote_fixtures=frozenset({"people"}),
)  # conftest.py's remote cast wins


def _server_engine(server) -> LocalBackend:
    """The server's own database, opened from the test process (SQLite allows it)."""
    return LocalBackend(Settings(data_dir=server.data_dir))


def test_aligned_volumes_are_namespaces(make_client, volume):
    client = make_client()
    other = volume + "_other"
    client.create_table("t", "synapse", "in mine", [4, 4, 40])
    client.create_table("t", "bound_tag", "in other", [8, 8, 40], aligned_volume_name=other)
    assert client.get_table_metadata("t")["schema_type"] == "synapse"
    assert client.get_table_metadata("t", aligned_volume_name=other)["schema_type"] == "bound_tag"
    client.post_annotation(
        "t", [{"pt": {"position": [1, 2, 3]}, "tag": "x"}], aligned_volume_name=other
    )
    assert client.get_annotation_count("t", aligned_volume_name=other) == 1
    assert client.get_annotation_count("t") == 0
    assert client.get_tables(aligned_volume_name=volume + "_empty") == []
    assert {volume, other} <= set(client.get_aligned_volumes())
    with pytest.raises(InvalidName):
        client.get_tables(aligned_volume_name="bad/volume")


def test_transfer_ownership_hands_over_metadata_rights(make_client):
    owner = make_client("olivia")
    owner.create_table("t", "synapse", "d", [4, 4, 40])
    mia_id = next(u["id"] for u in owner.list_users() if u["name"] == "mia")
    owner.update_metadata("t", user_id=mia_id)
    assert owner.get_table_metadata("t")["user_id"] == str(mia_id)
    with pytest.raises(PermissionDenied, match="only its owner"):
        owner.update_metadata("t", description="mine again?")
    make_client("mia").update_metadata("t", description="now mia's")


def test_every_change_is_in_the_servers_audit_log_as_the_tokens_user(server, make_client, volume):
    client = make_client("olivia")
    client.create_table("syn", "synapse", "d", [4, 4, 40])
    ids = client.post_annotation("syn", [synapse(0), synapse(1)])
    mapping = client.update_annotation("syn", {"id": ids[0], "size": 3.0})
    client.delete_annotation("syn", [ids[1]])
    with pytest.raises(PermissionDenied):
        make_client("sam").post_annotation("syn", [synapse(2)])
    client.update_metadata("syn", notice_text="n")
    make_client("ada").delete_table("syn")
    log = _server_engine(server).audit_entries(volume=volume, table="syn")
    assert [e["action"] for e in log] == [
        "create_table",
        "post_annotation",
        "update_annotation",
        "delete_annotation",
        "update_metadata",
        "delete_table",
    ]
    olivia, ada = client.whoami()["id"], make_client("ada").whoami()["id"]
    assert [e["user_id"] for e in log] == [str(olivia)] * 5 + [str(ada)]
    assert log[1]["ids"] == ids and log[2]["ids"] == [mapping[ids[0]]]


def test_rows_are_never_physically_deleted(server, client, volume):
    client.create_table("syn", "synapse", "d", [4, 4, 40])
    ids = client.post_annotation("syn", [synapse(i) for i in range(3)])
    client.delete_annotation("syn", ids[:2])
    client.update_annotation("syn", {"id": ids[2], "size": 1.0})
    client.delete_table("syn")
    assert "syn" not in client.get_tables()
    engine = _server_engine(server)
    with engine.engine.connect() as conn:
        meta = engine._meta_row(conn, volume, "syn", include_deleted=True)
        table, _ = engine.table_of(meta)
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 4


def test_query_pages_and_counts_match_over_http(client):
    client.create_table("cells", "cell_type_local", "d", [4, 4, 40])
    ids = client.post_annotation(
        "cells",
        [
            {
                "pt": {"position": [i, 2, 3]},
                "classification_system": "valence",
                "cell_type": "e" if i % 3 else "i",
            }
            for i in range(10)
        ],
    )
    client.delete_annotation("cells", ids[:2])
    page = client.query_annotations("cells", limit=3, offset=1, filters={"cell_type": "e"})
    assert page["id"].tolist() == [5, 6, 8]
    assert page["pt_position_x"].tolist() == [4.0, 5.0, 7.0]
    assert str(page["created"].dtype).startswith("datetime64")
    assert client.count_annotations("cells", filters={"cell_type": "e"}) == 5
    assert client.count_annotations("cells", include_invalid=True) == 10
    assert client.count_annotations("cells", ids=ids[:4]) == 2
    points, spec, meta = client.get_point_frame("cells")
    assert len(points) == 8 and spec.name == "cell_type_local" and meta["table_name"] == "cells"
