"""Edits from a table view: only changed rows are sent; history shows what changed."""

from __future__ import annotations

import numpy as np
import pytest

from anno_core.edits import apply_edits, plan_edits, version_changes
from anno_core.errors import InvalidArgument, ValidationFailed
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
    assert plan.updates == [{"id": 2, "size": 999.0},
                            {"id": 3, "pre_pt": {"position": [77, 20.0, 30.0]}}]
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
    newer = client.update_annotation(synapse_table, {"id": new, "pre_pt": {
        "position": [0, 0, 0]}})[new]
    versions = client.get_history(synapse_table, newer)
    changes = version_changes("synapse", versions)
    assert [c["id"] for c in changes] == [1, new, newer]
    assert changes[0]["changes"] == []
    assert changes[1]["changes"] == [{"field": "size", "old": 120.0, "new": 1.0}]
    assert changes[2]["changes"] == [{"field": "pre_pt_position", "old": [10, 20, 30],
                                      "new": [0, 0, 0]}]
    assert changes[2]["created_by_name"] == "admin"
