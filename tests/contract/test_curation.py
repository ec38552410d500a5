"""Curating a table on every backend: what an upload key stored and what became of it, the
uploads of a table and undoing one, deleting by filter, restoring, the reasons of versions,
summaries computed by the database, and an aligned volume's extent and bounds."""

from __future__ import annotations

import csv
import io

import pytest

from anno_core.errors import Conflict, InvalidArgument, PermissionDenied
from anno_core.ingest.plan import file_digest
from tests.conftest import synapse

CSV = "pt_position_x,pt_position_y,pt_position_z,tag,tag2\n" + "".join(
    f"{100 + i},{200 + i},{30 + i},{'pre' if i % 3 else 'post'},n{i % 2}\n" for i in range(20)
)


@pytest.fixture
def tags(client):
    client.create_table("tags", "bound_double_tag", "tags [pytest]", [4, 4, 40])
    return "tags"


def _uploaded(client, table: str) -> tuple[str, list[int]]:
    raw = CSV.encode()
    plan = client.open_upload(table, raw, name="t.csv")
    key = plan.upload_key(file_digest(raw))
    return key, plan.commit(upload_key=key)


def test_an_upload_key_says_what_it_stored_and_what_became_of_it(client, tags):
    vol = client.aligned_volume_name
    raw_key = "upload-never-stored"
    assert client.backend.upload_record(vol, tags, raw_key, rows=20) is None
    key, ids = _uploaded(client, tags)
    record = client.backend.upload_record(vol, tags, key, rows=20)
    assert record["result"] == ids and ids == list(range(1, 21))
    assert record["user_name"] == "admin" and record["created"]
    assert (record["live"], record["deleted"], record["replaced"]) == (20, 0, 0)
    client.delete_annotation(tags, ids[:15])
    new = client.update_annotation(tags, {"id": ids[15], "tag": "changed"})[ids[15]]
    record = client.backend.upload_record(vol, tags, key, rows=20)
    assert record["result"] == ids  # the ids it stored then, never new ones
    assert (record["live"], record["deleted"], record["replaced"]) == (4, 15, 1)
    assert [ids[15], new] in record["not_live"] and [ids[0], None] in record["not_live"]


def test_an_upload_key_answers_only_writers(make_client, people):
    owner = make_client(user=people["owner"])
    owner.create_table("tags", "bound_double_tag", "private tags [pytest]", [4, 4, 40])
    key, _ = _uploaded(owner, "tags")
    stranger = make_client(user=people["stranger"])
    assert stranger.backend.upload_record(owner.aligned_volume_name, "tags", key, rows=20) is None


def test_uploads_are_listed_and_one_is_undone_with_its_reason_in_the_history(client, tags):
    _, first = _uploaded(client, tags)
    second = client.post_annotation(
        tags, [{"pt": {"position": [1, 2, 3]}, "tag": "a", "tag2": "b"}] * 3
    )
    client.delete_annotation(tags, [first[0]])
    uploads = client.list_uploads(tags)
    assert [(u["rows"], u["first_id"], u["last_id"]) for u in uploads] == [
        (3, second[0], second[-1]),
        (20, 1, 20),
    ]
    assert uploads[1]["live"] == 19 and uploads[1]["deleted"] == 1
    assert uploads[1]["user_name"] == "admin"
    assert client.undo_upload(tags, uploads[1]["upload"]) == 19
    assert client.get_live_count(tags) == 3  # the other upload is untouched
    assert client.get_annotation_count(tags) == 23  # nothing erased
    with pytest.raises(InvalidArgument, match="nothing to undo"):
        client.undo_upload(tags, uploads[1]["upload"])
    (version,) = client.get_history(tags, first[5])
    assert version["deleted_why"]["action"] == "delete_annotation"
    assert version["deleted_why"]["detail"]["reason"] == "undo_upload"
    assert version["deleted_why"]["detail"]["upload"] == uploads[1]["upload"]
    assert version["created_why"]["action"] == "post_annotation"


def test_delete_matching_deletes_what_the_filter_finds_after_a_confirmed_count(client, tags):
    _uploaded(client, tags)
    filters = {"tag": "post"}
    n = client.count_annotations(tags, filters=filters)
    assert n == 7
    with pytest.raises(Conflict, match="7 rows match now, not 6"):
        client.delete_matching(tags, filters=filters, expected=6)
    assert client.get_live_count(tags) == 20  # refused: nothing deleted
    with pytest.raises(InvalidArgument, match="Give a filter or ids"):
        client.delete_matching(tags)
    assert client.delete_matching(tags, filters=filters, expected=7) == 7
    assert client.count_annotations(tags, filters=filters) == 0
    assert client.get_live_count(tags) == 13 and client.get_annotation_count(tags) == 20
    gone = client.query_annotations(tags, filters=filters, include_invalid=True)
    (version,) = client.get_history(tags, int(gone["id"].iloc[0]))
    assert version["deleted_why"]["detail"]["reason"] == "filter"
    assert version["deleted_why"]["detail"]["filters"] == filters


def test_delete_matching_needs_the_right_to_write(make_client, people):
    owner = make_client(user=people["owner"])
    owner.create_table("t", "synapse", "t [pytest]", [4, 4, 40], read_permission="PUBLIC")
    owner.post_annotation("t", [synapse(i) for i in range(3)])
    stranger = make_client(user=people["stranger"])
    with pytest.raises(PermissionDenied):
        stranger.delete_matching("t", filters={"size": 120.0}, expected=1)
    assert owner.get_live_count("t") == 3


def test_deleted_rows_are_restored_as_new_versions(client, synapse_table):
    ids = client.post_annotation(synapse_table, [synapse(i) for i in range(3)])
    client.delete_annotation(synapse_table, [ids[1]])
    with pytest.raises(InvalidArgument, match="not deleted"):
        client.restore_annotation(synapse_table, [ids[0]])
    mapping = client.restore_annotation(synapse_table, [ids[1]])
    new = mapping[ids[1]]
    old_row, new_row = client.get_annotation(synapse_table, [ids[1], new])
    assert new_row["valid"] and new_row["size"] == 121.0
    assert new_row["pre_pt_position"] == [11, 20, 30]
    assert old_row["superceded_id"] == new and old_row["deleted"]  # still says when
    with pytest.raises(InvalidArgument, match="replaced by annotation"):
        client.restore_annotation(synapse_table, [ids[1]])
    versions = client.get_history(synapse_table, new)
    assert [v["id"] for v in versions] == [ids[1], new]
    assert versions[1]["created_why"]["action"] == "restore_annotation"
    assert client.get_live_count(synapse_table) == 3


def test_summaries_come_from_the_database(client, tags, synapse_table):
    _uploaded(client, tags)
    client.post_annotation(synapse_table, [synapse(i) for i in range(10)])
    got = client.summarize_table(tags, top=1)
    assert got["rows"] == 20
    assert got["text"]["tag"] == {"values": [["pre", 13]], "more": True, "empty": 0}
    assert got["text"]["tag2"]["values"] == [["n0", 10]]
    sizes = client.summarize_table(synapse_table, bins=5)["numbers"]["size"]
    assert sizes["min"] == 120 and sizes["max"] == 129 and sizes["empty"] == 0
    assert [b[2] for b in sizes["bins"]] == [2, 2, 2, 2, 2]
    assert sizes["bins"][0][0] == 120 and sizes["bins"][-1][1] == 129


def test_a_volume_knows_its_extent_and_admins_set_its_bounds(make_client, people, tags, client):
    _uploaded(client, tags)  # points 100..119, 200..219, 30..49 in 4, 4, 40 nm voxels
    got = client.get_volume_extent()
    assert got["bounds"] is None and got["tables"] == ["tags"]
    assert got["points"] == [[400.0, 800.0, 1200.0], [476.0, 876.0, 1960.0]]
    member = make_client(user=people["member"])
    with pytest.raises(PermissionDenied, match="only admins"):
        member.set_volume_bounds([0, 0, 0], [1e6, 1e6, 1e6])
    with pytest.raises(InvalidArgument, match="below its upper bound"):
        client.set_volume_bounds([0, 0, 10], [1e6, 1e6, 5])
    got = client.set_volume_bounds([0, 0, 0], [1e6, 5e5, 3e5])
    assert got["bounds"] == [[0.0, 0.0, 0.0], [1e6, 5e5, 3e5]]
    assert client.get_volume_extent()["bounds"] == got["bounds"]
    assert client.set_volume_bounds(None, None)["bounds"] is None


def test_the_ids_download_says_which_ids_are_live_deleted_or_replaced(client, tags):
    raw = CSV.encode()
    plan = client.open_upload(tags, raw, name="t.csv")
    key = plan.upload_key(file_digest(raw))
    ids = plan.commit(upload_key=key)
    client.delete_annotation(tags, [ids[0]])
    new = client.update_annotation(tags, {"id": ids[1], "tag": "x"})[ids[1]]
    rows = list(csv.reader(io.StringIO(plan.result_csv(ids, key).decode())))
    assert rows[0][:3] == ["line", "id", "state"]
    assert [r[2] for r in rows[1:4]] == ["deleted", f"replaced by {new}", "live"]
    assert "state" not in plan.result_csv(ids).decode().splitlines()[0]  # no key: not asked
