"""The history of one annotation and the append-only audit log, on every backend.

The audit log is read from the engine that stores the rows (``storage``: for the remote
backend, the server's database): through our server it records the token's user.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from anno_core.engine import db
from anno_core.errors import AnnotationNotFound, PermissionDenied, ValidationFailed
from tests.conftest import synapse


def test_history_follows_superceded_id_oldest_first(client, synapse_table):
    [a] = client.post_annotation(synapse_table, [synapse()])
    b = client.update_annotation(synapse_table, {"id": a, "size": 1.0})[a]
    c = client.update_annotation(synapse_table, {"id": b, "size": 2.0})[b]
    for start in (a, b, c):
        versions = client.get_history(synapse_table, start)
        assert [v["id"] for v in versions] == [a, b, c]
        assert [v["size"] for v in versions] == [120.0, 1.0, 2.0]
        assert all(v["created_by"] == str(client.whoami()["id"]) for v in versions)
    with pytest.raises(AnnotationNotFound):
        client.get_history(synapse_table, 999)


def test_every_change_is_in_the_audit_log_as_the_acting_user(make_client, storage, people):
    client = make_client(user=people["owner"])
    client.create_table("mine", "synapse", "d", [4, 4, 40])
    ids = client.post_annotation("mine", [synapse(0), synapse(1)])
    mapping = client.update_annotation("mine", {"id": ids[0], "size": 3.0})
    client.delete_annotation("mine", [ids[1]])
    with pytest.raises(PermissionDenied):  # a refusal leaves no entry
        make_client(user=people["stranger"]).post_annotation("mine", [synapse(2)])
    client.update_metadata("mine", notice_text="n")
    admin = make_client(user=people["admin"])
    admin.delete_table("mine")
    log = storage.audit_entries(volume=client.aligned_volume_name, table="mine")
    assert [e["action"] for e in log] == [
        "create_table",
        "post_annotation",
        "update_annotation",
        "delete_annotation",
        "update_metadata",
        "delete_table",
    ]
    owner, ada = str(client.whoami()["id"]), str(admin.whoami()["id"])
    assert [e["user_id"] for e in log] == [owner] * 5 + [ada]
    assert log[1]["ids"] == ids
    assert log[2]["ids"] == [mapping[ids[0]]]
    assert log[2]["detail"] == {"replaced": [[ids[0], ids[0]]]}
    assert log[3]["ids"] == [ids[1]]
    assert log[4]["detail"] == {"notice_text": "n"}
    assert all(e["at"] for e in log)


def test_audit_log_is_append_only_and_compact(client, synapse_table, storage):
    client.post_annotation(synapse_table, [synapse(i) for i in range(1000)])
    with storage.engine.connect() as conn:
        text = conn.execute(
            sa.select(db.audit_log.c.ids).where(
                db.audit_log.c.action == "post_annotation",
                db.audit_log.c.aligned_volume == client.aligned_volume_name,
                db.audit_log.c.table_name == synapse_table,
            )
        ).scalar_one()
    assert text == "[[1, 1000]]"


def test_a_refused_call_writes_no_audit_entry(client, synapse_table, storage):
    vol = client.aligned_volume_name
    before = storage.audit_entries(volume=vol)
    with pytest.raises(ValidationFailed, match="pre_pt_position") as err:
        client.post_annotation(synapse_table, [{"size": 1}])
    assert set(err.value.report.errors["column"]) == {
        "pre_pt_position",
        "post_pt_position",
        "ctr_pt_position",
    }
    assert storage.audit_entries(volume=vol) == before
    assert client.get_annotation_count(synapse_table) == 0
