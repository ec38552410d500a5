"""Edits from a table view: only changed rows are sent; history shows what changed; a count
matches what the pages show. On every backend."""

from __future__ import annotations

import numpy as np
import pytest

from anno_core.errors import InvalidArgument, PermissionDenied, ValidationFailed
from anno_core.ingest.edits import apply_edits, plan_edits, version_changes
from tests.conftest import synapse


@pytest.fixture
def page(client, synapse_table):
    client.post_annotation(synapse_table, [synapse(i) for i in range(4)])
    return client.query_annotations(synapse_table)


def test_only_changed_rows_become_updates(client, synapse_table, page):
    edited = page.copy()
    edited.loc[edited["id"] == 2, "size"] = 999.0
    edited.loc[edited["id"] == 3, "pre_pt_position_x"] = 77
    plan = plan_edits("synapse", page, edited, delete_ids=[4])
    assert plan.updates == [
        {"id": 2, "size": 999.0},
        {"id": 3, "pre_pt": {"position": [77, 20.0, 30.0]}},
    ]
    assert plan.deletes == [4]
    assert "2 annotations will be updated" in plan.summary()
    assert "1 annotation will be marked deleted" in plan.summary()
    result = apply_edits(client, synapse_table, plan)
    assert set(result.updated) == {2, 3} and result.deleted == [4]
    rows = client.get_annotation(synapse_table, [1, 2, 3, 4, result.updated[2]])
    assert rows[0]["valid"] and rows[0]["superceded_id"] is None  # untouched
    assert rows[1]["superceded_id"] == result.updated[2]
    assert rows[3]["valid"] is False and rows[3]["superceded_id"] is None
    assert rows[4]["size"] == 999.0 and rows[4]["pre_pt_position"] == [11, 20, 30]
    assert client.get_annotation_count(synapse_table) == 6


def test_nothing_changed_means_nothing_sent(page):
    plan = plan_edits("synapse", page, page.copy())
    assert plan.empty and plan.summary() == "Nothing has changed."


def test_a_refused_edit_changes_nothing(client, synapse_table, page):
    edited = page.copy()
    edited.loc[edited["id"] == 1, "size"] = 5.0
    edited.loc[edited["id"] == 2, "ctr_pt_position_y"] = np.nan  # a required point emptied
    plan = plan_edits("synapse", page, edited, delete_ids=[3])
    with pytest.raises(ValidationFailed, match="ctr_pt_position"):
        apply_edits(client, synapse_table, plan)
    assert client.get_annotation_count(synapse_table) == 4
    assert client.get_live_count(synapse_table) == 4


def test_rows_not_in_the_view_are_refused(page):
    edited = page.copy()
    edited.loc[0, "id"] = 12345
    with pytest.raises(InvalidArgument, match="12345"):
        plan_edits("synapse", page, edited)


def test_version_changes_name_fields_old_and_new(client, synapse_table, page):
    new = client.update_annotation(synapse_table, {"id": 1, "size": 1.0})[1]
    newer = client.update_annotation(synapse_table, {"id": new, "pre_pt": {"position": [0, 0, 0]}})[
        new
    ]
    versions = client.get_history(synapse_table, newer)
    changes = version_changes("synapse", versions)
    assert [c["id"] for c in changes] == [1, new, newer]
    assert changes[0]["changes"] == []
    assert changes[1]["changes"] == [{"field": "size", "old": 120.0, "new": 1.0}]
    assert changes[2]["changes"] == [
        {"field": "pre_pt_position", "old": [10, 20, 30], "new": [0, 0, 0]}
    ]
    assert changes[2]["created_by_name"] == "admin"


def test_count_matches_what_query_pages_through(client, synapse_table, page):
    client.post_annotation(synapse_table, [synapse(i, size=5.0) for i in range(3)])
    client.delete_annotation(synapse_table, [1])
    client.update_annotation(synapse_table, {"id": 2, "size": 5.0})
    for kwargs in (
        {},
        {"include_invalid": True},
        {"filters": {"size": 5.0}},
        {"filters": {"size": 5.0}, "include_invalid": True},
        {"ids": [1, 2, 3, 99]},
        {"ids": [1, 2, 3], "include_invalid": True},
    ):
        frame = client.query_annotations(synapse_table, limit=1000, **kwargs)
        assert client.count_annotations(synapse_table, **kwargs) == len(frame), kwargs
    assert client.count_annotations(synapse_table) == 6
    assert client.count_annotations(synapse_table, include_invalid=True) == 8


def test_count_needs_read_permission(make_client, people):
    owner = make_client(user=people["owner"])
    owner.create_table("private_syn", "synapse", "d", [4, 4, 40], read_permission="PRIVATE")
    owner.post_annotation("private_syn", [synapse(1)])
    assert owner.count_annotations("private_syn") == 1
    with pytest.raises(PermissionDenied):
        make_client(user=people["stranger"]).count_annotations("private_syn")


def test_old_versions_and_deleted_rows_cannot_be_edited(client, synapse_table, page):
    new = client.update_annotation(synapse_table, {"id": 1, "size": 2.0})[1]
    client.delete_annotation(synapse_table, [2])
    view = client.query_annotations(synapse_table, include_invalid=True)
    edited = view.copy()
    edited.loc[edited["id"] == 1, "size"] = 3.0
    with pytest.raises(
        InvalidArgument,
        match=f"replaced by annotation {new}; only the newest version can change, so change {new}",
    ):
        plan_edits("synapse", view, edited)
    with pytest.raises(InvalidArgument, match="Annotation 2 is deleted"):
        plan_edits("synapse", view, view.copy(), delete_ids=[2])
    assert plan_edits("synapse", view, view.copy(), delete_ids=[3]).deletes == [3]


def test_client_plans_applies_and_tells_history(client, synapse_table, page):
    edited = page.copy()
    edited.loc[edited["id"] == 4, "size"] = 1.5
    plan = client.plan_edits("synapse", page, edited, [3])
    result = client.apply_edits(synapse_table, plan)
    assert result.deleted == [3] and list(result.updated) == [4]
    client.delete_annotation(synapse_table, [result.updated[4]])
    story = client.get_history_changes(synapse_table, 4)
    assert [v["id"] for v in story] == [4, result.updated[4]]
    assert story[1]["changes"] == [{"field": "size", "old": 123.0, "new": 1.5}]
    assert story[1]["deleted_by_name"] == "admin"  # who deleted the newest version
    assert story[0]["values"]["size"] == 123.0 and story[1]["values"]["size"] == 1.5
    assert story[0]["values"]["pre_pt_position"] == [13, 20, 30]


def test_a_page_of_a_filtered_view_its_count_and_the_points(client):
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
    assert sorted(points["id"].tolist()) == ids[2:]
    assert spec.name == "cell_type_local" and meta["table_name"] == "cells"
