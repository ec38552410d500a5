"""Posting, updating, deleting and reading annotations, on every backend."""

from __future__ import annotations

import uuid
from datetime import datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from anno_core.errors import (
    AlreadySuperseded,
    AnnoError,
    AnnotationNotFound,
    Conflict,
    InvalidArgument,
    PermissionDenied,
    TableNotFound,
    ValidationFailed,
)
from tests.conftest import synapse


def test_post_returns_ids_in_input_order_and_rows_read_back(client, synapse_table):
    ids = client.post_annotation(synapse_table, [synapse(i) for i in range(5)])
    assert ids == [1, 2, 3, 4, 5]
    rows = client.get_annotation(synapse_table, list(reversed(ids)))
    assert [r["id"] for r in rows] == [5, 4, 3, 2, 1]
    first = client.get_annotation(synapse_table, 1)[0]
    assert first["pre_pt_position"] == [10, 20, 30]
    assert first["ctr_pt_position"] == [10.5, 20.5, 30]  # floats stay floats
    assert first["size"] == 120.0 and first["valid"] is True
    assert first["deleted"] is None and first["superceded_id"] is None
    datetime.fromisoformat(first["created"])  # ISO-8601


def test_single_dict_is_accepted(client, synapse_table):
    assert client.post_annotation(synapse_table, synapse()) == [1]


def test_post_is_all_or_nothing(client, synapse_table):
    bad = synapse(1)
    bad["post_pt"] = {"position": [1, 2]}
    with pytest.raises(ValidationFailed) as err:
        client.post_annotation(synapse_table, [synapse(0), bad, synapse(2)])
    msg = str(err.value)
    assert "annotation 2" in msg and "post_pt_position" in msg
    assert err.value.report.errors.iloc[0]["line"] == 2
    assert err.value.report.errors.iloc[0]["value"] == "[1, 2]"
    assert client.get_annotation_count(synapse_table) == 0


@pytest.mark.parametrize(
    "position,why",
    [
        ([1, 2], "exactly 3 numbers"),
        ([1, 2, 3, 4], "exactly 3 numbers"),
        ([1, float("nan"), 3], "finite"),
        ([1, float("inf"), 3], "finite"),
        (["a", 2, 3], "exactly 3 numbers"),
        ("abc", "exactly 3 numbers"),
        ([True, 2, 3], "exactly 3 numbers"),
    ],
)
def test_positions_must_be_three_finite_numbers(client, synapse_table, position, why):
    rec = synapse()
    rec["pre_pt"] = {"position": position}
    with pytest.raises(ValidationFailed, match=why):
        client.post_annotation(synapse_table, [rec])
    assert client.get_annotation_count(synapse_table) == 0


def test_missing_required_field_and_wrong_types_are_named(client, synapse_table):
    rec = synapse()
    del rec["ctr_pt"]
    rec["size"] = "big"
    with pytest.raises(ValidationFailed) as err:
        client.post_annotation(synapse_table, [rec])
    report = err.value.report
    assert set(report.errors["column"]) == {"ctr_pt_position", "size"}
    assert "big" in set(report.errors["value"])


def test_unknown_fields_are_warned_not_stored(client, synapse_table):
    checked = client.post_annotation(synapse_table, [synapse(colour="red")])
    row = client.get_annotation(synapse_table, checked)[0]
    assert "colour" not in row


def test_root_and_supervoxel_ids_posted_are_discarded(client, synapse_table):
    rec = synapse()
    rec["pre_pt"] = {"position": [1, 2, 3], "root_id": 999, "supervoxel_id": 5}
    [aid] = client.post_annotation(synapse_table, [rec])
    row = client.get_annotation(synapse_table, aid)[0]
    assert row["pre_pt_position"] == [1, 2, 3]
    assert "pre_pt_root_id" not in row


def test_user_provided_ids_are_kept_and_later_ids_continue_from_the_maximum(client, synapse_table):
    assert client.post_annotation(synapse_table, [synapse(0, id=100), synapse(1)]) == [100, 101]
    assert client.post_annotation(synapse_table, [synapse(2)]) == [102]
    assert client.post_annotation(synapse_table, [synapse(3, id=50)]) == [50]
    assert client.post_annotation(synapse_table, [synapse(4)]) == [103]
    with pytest.raises(ValidationFailed, match="already exists"):
        client.post_annotation(synapse_table, [synapse(5, id=100)])
    with pytest.raises(ValidationFailed, match="more than once"):
        client.post_annotation(synapse_table, [synapse(5, id=7), synapse(6, id=7)])
    with pytest.raises(ValidationFailed, match="positive whole number"):
        client.post_annotation(synapse_table, [synapse(5, id=7.5)])
    assert client.get_annotation_count(synapse_table) == 5


def test_update_gives_new_id_and_supersedes_old_row(client, synapse_table):
    [old] = client.post_annotation(synapse_table, [synapse()])
    mapping = client.update_annotation(synapse_table, {"id": old, "size": 5.0})
    new = mapping[old]
    assert new != old
    old_row, new_row = client.get_annotation(synapse_table, [old, new])
    assert old_row["superceded_id"] == new and old_row["valid"] is False
    assert old_row["deleted"] is not None and old_row["size"] == 120.0
    # Omitted fields are inherited from the old row.
    assert new_row["size"] == 5.0 and new_row["pre_pt_position"] == [10, 20, 30]
    assert new_row["valid"] is True
    assert client.get_annotation_count(synapse_table) == 2
    assert client.get_live_count(synapse_table) == 1


def test_updating_a_superseded_row_names_the_newer_id(client, synapse_table):
    [old] = client.post_annotation(synapse_table, [synapse()])
    new = client.update_annotation(synapse_table, {"id": old, "size": 5.0})[old]
    with pytest.raises(AlreadySuperseded) as err:
        client.update_annotation(synapse_table, {"id": old, "size": 6.0})
    assert str(err.value) == (
        f"Annotation with ID {old} has already been superseded by annotation ID {new}, "
        f"update annotation ID {new} instead."
    )


def test_update_is_one_transaction(client, synapse_table):
    ids = client.post_annotation(synapse_table, [synapse(0), synapse(1)])
    with pytest.raises(ValidationFailed):
        client.update_annotation(
            synapse_table,
            [
                {"id": ids[0], "size": 1.0},
                {"id": ids[1], "pre_pt": {"position": [1, 2]}},
            ],
        )
    with pytest.raises(AnnotationNotFound, match="999"):
        client.update_annotation(
            synapse_table, [{"id": ids[0], "size": 1.0}, {"id": 999, "size": 2.0}]
        )
    with pytest.raises(InvalidArgument, match="more than once"):
        client.update_annotation(
            synapse_table, [{"id": ids[0], "size": 1.0}, {"id": ids[0], "size": 2.0}]
        )
    with pytest.raises(InvalidArgument, match="no 'id'"):
        client.update_annotation(synapse_table, [{"size": 1.0}])
    rows = client.get_annotation(synapse_table, ids)
    assert all(r["valid"] and r["superceded_id"] is None for r in rows)
    assert client.get_annotation_count(synapse_table) == 2


def test_update_of_a_deleted_row_is_allowed_and_revives_it(client, synapse_table):
    [old] = client.post_annotation(synapse_table, [synapse()])
    client.delete_annotation(synapse_table, [old])
    new = client.update_annotation(synapse_table, {"id": old, "size": 3.0})[old]
    assert client.get_annotation(synapse_table, new)[0]["valid"] is True


def test_delete_marks_rows_and_returns_the_ids_that_existed(client, synapse_table):
    ids = client.post_annotation(synapse_table, [synapse(0), synapse(1)])
    assert client.delete_annotation(synapse_table, [ids[0], 999]) == [ids[0]]
    row = client.get_annotation(synapse_table, ids[0])[0]
    assert row["valid"] is False and row["deleted"] is not None
    assert client.get_annotation_count(synapse_table) == 2  # every row, as CAVE counts
    assert client.get_live_count(synapse_table) == 1
    first_deleted = row["deleted"]
    client.delete_annotation(synapse_table, ids[0])  # deleting again keeps the first time
    assert client.get_annotation(synapse_table, ids[0])[0]["deleted"] == first_deleted


def test_rows_are_never_physically_deleted(client, synapse_table, storage):
    ids = client.post_annotation(synapse_table, [synapse(i) for i in range(3)])
    client.delete_annotation(synapse_table, ids[:2])
    client.update_annotation(synapse_table, {"id": ids[2], "size": 1.0})
    client.delete_table(synapse_table)
    assert synapse_table not in client.get_tables()
    with pytest.raises(TableNotFound, match="it was deleted"):
        client.get_annotation(synapse_table, ids)
    # The table is gone from the API, but every row (3 posted, 1 new version) is stored.
    vol = client.aligned_volume_name
    with storage.engine.connect() as conn:
        meta = storage._meta_row(conn, vol, synapse_table, include_deleted=True)
        table, _ = storage.table_of(meta)
        rows = conn.execute(sa.select(table.c.id, table.c.valid).order_by(table.c.id)).all()
    assert [(int(i), bool(v)) for i, v in rows] == [
        (ids[0], False),
        (ids[1], False),
        (ids[2], False),
        (ids[2] + 1, True),
    ]


def test_get_annotation_of_unknown_ids_says_which(client, synapse_table):
    client.post_annotation(synapse_table, [synapse()])
    with pytest.raises(AnnotationNotFound, match="5, 6"):
        client.get_annotation(synapse_table, [1, 5, 6])
    with pytest.raises(InvalidArgument, match="whole number"):
        client.get_annotation(synapse_table, ["x"])


def test_every_error_is_an_anno_error_with_a_sentence(client, synapse_table):
    weird = [None, 5, "x", [1, 2], {"pre_pt": "not a dict"}]
    for data in weird:
        with pytest.raises(AnnoError) as err:
            client.post_annotation(synapse_table, data)
        assert str(err.value).endswith(".") and "Traceback" not in str(err.value)
    assert client.get_annotation_count(synapse_table) == 0


def test_integers_must_be_integral(client):
    client.create_table("coreg", "microns_func_coreg", "d", [4, 4, 40])
    pt = {"position": [1, 2, 3]}
    assert client.post_annotation("coreg", [{"pt": pt, "func_id": 12.0}]) == [1]
    assert client.get_annotation("coreg", 1)[0]["func_id"] == 12
    with pytest.raises(ValidationFailed, match="whole number"):
        client.post_annotation("coreg", [{"pt": pt, "func_id": 12.5}])


def test_auto_user_id_fields_are_filled_from_the_acting_user(client):
    client.create_table("tags", "bound_tag_user", "d", [4, 4, 40])
    [aid] = client.post_annotation(
        "tags", [{"pt": {"position": [1, 2, 3]}, "tag": "a", "user_id": 12345}]
    )
    assert client.get_annotation("tags", aid)[0]["user_id"] == client.whoami()["id"]


def test_optional_points_may_be_absent(client):
    client.create_table("nuc", "nucleus_detection", "d", [4, 4, 40])
    [aid] = client.post_annotation("nuc", [{"pt": {"position": [1, 2, 3]}, "volume": 2.5}])
    row = client.get_annotation("nuc", aid)[0]
    assert row["bb_start_position"] is None and row["volume"] == 2.5


def test_text_round_trips_exactly(client):
    """Empty text stays empty, blanks stay null, and no character is mangled (COPY on PG)."""
    client.create_table("ft", "fly_cell_type_ext", "d", [4, 4, 40])
    tags = ["", "\\N", 'say "hi", ok', "tab\there", "line\nbreak", "back\\slash", "ü→∑"]
    records = [
        {
            "pt": {"position": [i, 0, 0]},
            "cell_type": t,
            "hemisphere": "L",
            "driver_line": None,
            "synonym": t,
        }
        for i, t in enumerate(tags)
    ]
    ids = client.post_annotation("ft", records)
    rows = client.get_annotation("ft", ids)
    assert [r["cell_type"] for r in rows] == tags
    assert [r["synonym"] for r in rows] == tags
    assert all(r["driver_line"] is None for r in rows)


def test_a_repeated_update_with_its_upload_key_returns_the_stored_result(client, synapse_table):
    [old] = client.post_annotation(synapse_table, [synapse()])
    vol, key = client.aligned_volume_name, f"k1-{uuid.uuid4().hex}"
    change = [{"id": old, "size": 2.0}]
    first = client.backend.update_annotation(vol, synapse_table, change, upload_key=key)
    again = client.backend.update_annotation(vol, synapse_table, change, upload_key=key)
    assert first == again and list(first) == [old]
    assert client.get_annotation_count(synapse_table) == 2
    assert client.get_annotation(synapse_table, first[old])[0]["size"] == 2.0


@pytest.mark.parametrize("given", [2**63, "9223372036854775808", 1e19, -(2**63) - 1])
def test_whole_numbers_beyond_64_bits_are_refused_not_wrapped(client, given):
    client.create_table("coreg", "microns_func_coreg", "d", [4, 4, 40])
    with pytest.raises(ValidationFailed, match="too large"):
        client.post_annotation("coreg", [{"pt": {"position": [1, 2, 3]}, "func_id": given}])
    with pytest.raises(ValidationFailed, match="from 1 to 4,611,686,018,427,387,904"):
        client.post_annotation(
            "coreg",
            [
                {
                    "pt": {"position": [1, 2, 3]},
                    "func_id": 1,
                    "id": abs(given) if not isinstance(given, str) else given,
                }
            ],
        )
    assert client.get_annotation_count("coreg") == 0


def test_big_whole_numbers_are_stored_exactly_even_as_text(client):
    client.create_table("coreg", "microns_func_coreg", "d", [4, 4, 40])
    big = 2**53 + 1  # the first whole number a float64 cannot hold
    ids = client.post_annotation(
        "coreg",
        [
            {"pt": {"position": [1, 2, 3]}, "func_id": big, "id": str(big)},
            {"pt": {"position": [1, 2, 3]}, "func_id": str(2**63 - 1)},
        ],
    )
    assert ids == [big, big + 1]
    rows = client.get_annotation("coreg", ids)
    assert [r["func_id"] for r in rows] == [big, 2**63 - 1]


def _one_synapse_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pre_pt_position": [[1, 2, 3]],
            "post_pt_position": [[1, 2, 3]],
            "ctr_pt_position": [[1, 2, 3]],
        }
    )


def test_an_upload_key_stores_once_and_answers_only_writers(
    make_client, client, synapse_table, people
):
    vol, key, frame = client.aligned_volume_name, f"k-{uuid.uuid4().hex}", _one_synapse_frame()
    ids = client.backend.insert_frame(vol, synapse_table, frame, upload_key=key)
    assert client.backend.insert_frame(vol, synapse_table, frame, upload_key=key) == ids
    stranger = make_client(user=people["stranger"])  # the table is PRIVATE to its owner
    with pytest.raises(PermissionDenied):
        stranger.backend.insert_frame(vol, synapse_table, frame, upload_key=key)
    assert client.get_annotation_count(synapse_table) == 1


@pytest.mark.only_embedded(
    reason="our server scopes an upload key to its user, table and operation, so there the "
    "same key in another table is simply another upload"
)
def test_an_upload_key_belongs_to_one_table(client, synapse_table):
    vol, key, frame = client.aligned_volume_name, f"k-{uuid.uuid4().hex}", _one_synapse_frame()
    client.backend.insert_frame(vol, synapse_table, frame, upload_key=key)
    client.create_table("other", "synapse", "d", [4, 4, 40])
    with pytest.raises(Conflict, match="another table"):
        client.backend.insert_frame(vol, "other", frame, upload_key=key)
    assert client.get_annotation_count("other") == 0


@pytest.mark.parametrize("text", ["a\x00b", "broken \ud800 surrogate"])
def test_text_no_backend_can_store_is_refused_everywhere(client, text):
    """PostgreSQL cannot hold NUL in text; SQLite can. One semantics: refused on all."""
    client.create_table("tags", "bound_tag", "tags [pytest]", [1, 1, 1])
    with pytest.raises(ValidationFailed, match="cannot be stored") as err:
        client.post_annotation("tags", [{"pt": {"position": [1, 2, 3]}, "tag": text}])
    assert "column 'tag'" in str(err.value)
    assert client.get_annotation_count("tags") == 0
