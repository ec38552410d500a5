"""Tables, metadata, aligned volumes and reference tables, on every backend."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from anno_core.errors import (
    InvalidArgument,
    InvalidName,
    PermissionDenied,
    SchemaNotFound,
    TableExists,
    TableNotFound,
    UserNotFound,
    ValidationFailed,
)
from anno_core.schemas import schema_names
from tests.conftest import synapse


def test_seed_example_creates_a_table(client):
    description = "Some description about the table"
    voxel_res = [4, 4, 40]
    client.create_table("some_synapse_table", "synapse", description, voxel_res)
    meta = client.get_table_metadata("some_synapse_table")
    assert meta["schema_type"] == "synapse" and meta["description"] == description
    assert (meta["voxel_resolution_x"], meta["voxel_resolution_y"], meta["voxel_resolution_z"]) == (
        4.0,
        4.0,
        40.0,
    )
    assert meta["read_permission"] == "PUBLIC" and meta["write_permission"] == "PRIVATE"
    assert meta["user_id"] == str(client.whoami()["id"])
    assert client.get_tables() == ["some_synapse_table"]


def test_every_schema_can_make_a_table(client):
    client.create_table("target", "synapse", "d", [1, 1, 1])
    for i, name in enumerate(schema_names()):
        ref = "target" if client.is_reference_schema(name) else None
        client.create_table(f"t{i}", name, f"table of {name}", [1, 1, 1], reference_table=ref)
    assert len(client.get_tables()) == len(schema_names()) + 1 == 58


@pytest.mark.parametrize("name", ["Bad", "1abc", "with-dash", "sp ace", "", "a;drop", "x" * 101])
def test_table_names_follow_the_rule(client, name):
    with pytest.raises(InvalidName):
        client.create_table(name, "synapse", "d", [4, 4, 40])
    assert client.get_tables() == []


def test_bad_create_arguments_get_sentences(client):
    with pytest.raises(SchemaNotFound, match="simple_point"):
        client.create_table("t", "simple_point", "d", [4, 4, 40])
    with pytest.raises(InvalidArgument, match="description"):
        client.create_table("t", "synapse", "  ", [4, 4, 40])
    with pytest.raises(InvalidArgument, match="voxel_resolution"):
        client.create_table("t", "synapse", "d", [4, 4])
    with pytest.raises(InvalidArgument, match="voxel_resolution"):
        client.create_table("t", "synapse", "d", [4, 0, 40])
    with pytest.raises(InvalidArgument, match="PRIVATE, GROUP or PUBLIC"):
        client.create_table("t", "synapse", "d", [4, 4, 40], read_permission="EVERYONE")
    with pytest.raises(UserNotFound):
        client.create_table("t", "synapse", "d", [4, 4, 40], user_id=424242)
    with pytest.raises(InvalidArgument, match="not a reference schema"):
        client.create_table("t", "synapse", "d", [4, 4, 40], reference_table="x")
    with pytest.raises(InvalidArgument, match="reference_table"):
        client.create_table("t", "cell_type_reference", "d", [4, 4, 40])
    with pytest.raises(TableNotFound, match="nope"):
        client.create_table("t", "cell_type_reference", "d", [4, 4, 40], reference_table="nope")
    assert client.get_tables() == []


def test_duplicate_names_are_refused(client, synapse_table):
    with pytest.raises(TableExists):
        client.create_table(synapse_table, "synapse", "d", [4, 4, 40])


def test_unknown_table_suggests_close_names(client, synapse_table):
    with pytest.raises(TableNotFound, match="Did you mean 'syn'"):
        client.get_table_metadata("synn")


def test_update_metadata_changes_only_what_is_given(client, synapse_table):
    before = client.get_table_metadata(synapse_table)
    time.sleep(0.01)
    after = client.update_metadata(synapse_table, notice_text="Beware: tracing errors")
    assert after["notice_text"] == "Beware: tracing errors"
    assert after["description"] == before["description"]
    assert after["read_permission"] == before["read_permission"]
    assert datetime.fromisoformat(after["last_modified"]) > datetime.fromisoformat(
        before["last_modified"]
    )
    client.update_metadata(synapse_table, description="new words", read_permission="group")
    meta = client.get_table_metadata(synapse_table)
    assert meta["description"] == "new words" and meta["read_permission"] == "GROUP"
    assert meta["notice_text"] == "Beware: tracing errors"


@pytest.mark.parametrize("clear", ["", "none", "None", "NONE"])
def test_notice_text_empty_or_none_clears_it(client, synapse_table, clear):
    client.update_metadata(synapse_table, notice_text="x")
    assert client.update_metadata(synapse_table, notice_text=clear)["notice_text"] is None


def test_name_schema_and_resolution_cannot_change(client, synapse_table):
    with pytest.raises(TypeError):
        client.update_metadata(synapse_table, schema_name="bound_tag")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        client.update_metadata(synapse_table, voxel_resolution=[1, 1, 1])  # type: ignore
    assert client.get_table_metadata(synapse_table)["voxel_resolution_z"] == 40.0


def test_delete_table_hides_it_keeps_rows_and_name(client, synapse_table):
    client.post_annotation(synapse_table, [synapse()])
    assert client.delete_table(synapse_table) is True
    assert client.get_tables() == []
    with pytest.raises(TableNotFound, match="deleted"):
        client.get_table_metadata(synapse_table)
    with pytest.raises(TableExists, match="deleted table keeps its name"):
        client.create_table(synapse_table, "synapse", "d", [4, 4, 40])


def test_aligned_volumes_are_namespaces(client):
    mine = client.aligned_volume_name
    other = mine + "_other"
    client.create_table("t", "synapse", "in mine", [4, 4, 40])
    client.create_table("t", "bound_tag", "in other", [8, 8, 40], aligned_volume_name=other)
    assert client.get_table_metadata("t")["schema_type"] == "synapse"
    assert client.get_table_metadata("t", aligned_volume_name=other)["schema_type"] == "bound_tag"
    assert client.get_table_metadata("t", aligned_volume_name=other)["aligned_volume"] == other
    client.post_annotation(
        "t", [{"pt": {"position": [1, 2, 3]}, "tag": "x"}], aligned_volume_name=other
    )
    assert client.get_annotation_count("t", aligned_volume_name=other) == 1
    assert client.get_annotation_count("t") == 0
    assert client.get_tables(aligned_volume_name=mine + "_empty") == []
    assert {mine, other} <= set(client.get_aligned_volumes())
    with pytest.raises(InvalidName):
        client.get_tables(aligned_volume_name="bad/volume")


def test_reference_targets_must_exist(client, synapse_table):
    ids = client.post_annotation(synapse_table, [synapse(0), synapse(1)])
    client.create_table(
        "types", "cell_type_reference", "d", [4, 4, 40], reference_table=synapse_table
    )
    rec = {"classification_system": "valence", "cell_type": "e"}
    assert client.post_annotation("types", [dict(rec, target_id=ids[0])]) == [1]
    with pytest.raises(ValidationFailed, match="77, 78"):
        client.post_annotation(
            "types", [dict(rec, target_id=ids[1]), dict(rec, target_id=77), dict(rec, target_id=78)]
        )
    assert client.get_annotation_count("types") == 1


def test_track_target_id_updates_follows_new_ids(client, synapse_table):
    [target] = client.post_annotation(synapse_table, [synapse()])
    client.create_table(
        "tracked",
        "cell_type_reference",
        "d",
        [4, 4, 40],
        reference_table=synapse_table,
        track_target_id_updates=True,
    )
    client.create_table(
        "frozen",
        "cell_type_reference",
        "d",
        [4, 4, 40],
        reference_table=synapse_table,
        track_target_id_updates=False,
    )
    rec = {"classification_system": "valence", "cell_type": "e", "target_id": target}
    [tracked] = client.post_annotation("tracked", [rec])
    [frozen] = client.post_annotation("frozen", [rec])
    new_target = client.update_annotation(synapse_table, {"id": target, "size": 1.0})[target]
    old_ref = client.get_annotation("tracked", tracked)[0]
    assert old_ref["valid"] is False and old_ref["superceded_id"] is not None
    follow = client.get_annotation("tracked", old_ref["superceded_id"])[0]
    assert follow["target_id"] == new_target and follow["cell_type"] == "e"
    assert client.get_annotation("frozen", frozen)[0]["target_id"] == target
    assert client.get_history("tracked", tracked)[-1]["target_id"] == new_target


def test_metadata_permission_is_checked_before_the_arguments(
    make_client, client, synapse_table, people
):
    stranger = make_client(user=people["stranger"])
    with pytest.raises(PermissionDenied):
        stranger.update_metadata(synapse_table, user_id="no_such_user")
    with pytest.raises(InvalidArgument, match="must be text"):
        client.update_metadata(synapse_table, description=12345)
    assert client.get_table_metadata(synapse_table)["description"] == "test synapses [pytest]"


def test_transfer_ownership_hands_over_metadata_rights(make_client, people):
    owner = make_client(user=people["owner"])
    owner.create_table("t", "synapse", "d", [4, 4, 40])
    mia_id = next(u["id"] for u in owner.list_users() if u["name"] == people["member"])
    owner.update_metadata("t", user_id=mia_id)
    assert owner.get_table_metadata("t")["user_id"] == str(mia_id)
    with pytest.raises(PermissionDenied, match="only its owner"):
        owner.update_metadata("t", description="mine again?")
    make_client(user=people["member"]).update_metadata("t", description="now mia's")
    assert owner.get_table_metadata("t")["description"] == "now mia's"


def test_users_are_listed(client, people):
    users = {u["name"]: u for u in client.list_users()}
    assert {"admin", *people.values()} <= set(users)
    assert users["mia"]["groups"] == ["lab", "other"] and users["mia"]["is_admin"] is False
    assert users["ada"]["is_admin"] is True
    assert client.whoami()["name"] == "admin" and client.whoami()["is_admin"] is True


def test_more_than_one_page_of_ids_is_refused_not_cut(client, synapse_table):
    with pytest.raises(InvalidArgument, match="at most 500"):
        client.query_annotations(synapse_table, ids=list(range(1, 502)))
    with pytest.raises(InvalidArgument, match="at most 500"):
        client.count_annotations(synapse_table, ids=list(range(1, 502)))
