"""The append-only audit log and the history of one annotation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from anno_core.engine import db
from anno_core.errors import AnnotationNotFound
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


def test_every_change_is_in_the_audit_log(client, synapse_table):
    ids = client.post_annotation(synapse_table, [synapse(0), synapse(1)])
    mapping = client.update_annotation(synapse_table, {"id": ids[0], "size": 3.0})
    client.delete_annotation(synapse_table, [ids[1]])
    client.update_metadata(synapse_table, notice_text="n")
    client.delete_table(synapse_table)
    log = client.backend.audit_entries(table=synapse_table)
    assert [e["action"] for e in log] == [
        "create_table",
        "post_annotation",
        "update_annotation",
        "delete_annotation",
        "update_metadata",
        "delete_table",
    ]
    assert log[1]["ids"] == ids
    assert log[2]["ids"] == [mapping[ids[0]]]
    assert log[2]["detail"] == {"replaced": [[ids[0], ids[0]]]}
    assert log[3]["ids"] == [ids[1]]
    assert all(e["user_id"] == str(client.whoami()["id"]) and e["at"] for e in log)


def test_audit_log_is_append_only_and_compact(client, synapse_table):
    client.post_annotation(synapse_table, [synapse(i) for i in range(1000)])
    with client.backend.engine.connect() as conn:
        text = conn.execute(
            sa.select(db.audit_log.c.ids).where(db.audit_log.c.action == "post_annotation")
        ).scalar()
    assert text == "[[1, 1000]]"


def test_a_refused_call_writes_no_audit_entry(client, synapse_table):
    before = len(client.backend.audit_entries())
    with pytest.raises(Exception):  # noqa: B017 - any refusal
        client.post_annotation(synapse_table, [{"size": 1}])
    assert len(client.backend.audit_entries()) == before
