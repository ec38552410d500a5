"""Item 1: one posted id must never break a table. Users give ids up to 2**62; assignment
goes on above, and never fails on what a table already holds."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from anno_core.errors import AnnoError, InvalidArgument, ValidationFailed
from anno_core.wire import endpoints as ep
from tests.conftest import synapse
from tests.hostile.conftest import check_refusal

INT64_MAX = 2**63 - 1
MAX_GIVEN_ID = 2**62  # the largest id a user may give (anno_core.ids)
HUGE = [INT64_MAX, INT64_MAX - 5, MAX_GIVEN_ID + 1, 2**63, 10**20]


@pytest.fixture
def table(client) -> str:
    client.create_table("syn", "synapse", "ids [pytest]", [4, 4, 40], write_permission="PUBLIC")
    return "syn"


@pytest.mark.parametrize("given", HUGE, ids=str)
def test_an_id_beyond_the_given_range_is_refused_and_the_table_keeps_working(client, table, given):
    client.post_annotation(table, [synapse(0)])
    with pytest.raises(ValidationFailed, match="from 1 to 4,611,686,018,427,387,904") as err:
        client.post_annotation(table, [synapse(1, id=given)])
    assert err.value.report.errors.iloc[0]["column"] == "id"
    assert client.get_annotation_count(table) == 1
    [new] = client.post_annotation(table, [synapse(2)])
    assert new == 2
    assert client.update_annotation(table, {"id": new, "size": 1.0}) == {new: 3}


def test_the_largest_given_id_leaves_room_for_every_later_assignment(client, table):
    assert client.post_annotation(table, [synapse(0, id=MAX_GIVEN_ID)]) == [MAX_GIVEN_ID]
    ids = client.post_annotation(table, [synapse(1), synapse(2)])
    assert ids == [MAX_GIVEN_ID + 1, MAX_GIVEN_ID + 2]
    changed = client.update_annotation(table, {"id": ids[1], "size": 5.0})
    assert changed == {ids[1]: MAX_GIVEN_ID + 3}
    assert client.get_annotation(table, changed[ids[1]])[0]["size"] == 5.0
    assert [v["id"] for v in client.get_history(table, ids[1])] == [ids[1], MAX_GIVEN_ID + 3]
    assert client.delete_annotation(table, [MAX_GIVEN_ID + 3]) == [MAX_GIVEN_ID + 3]


def test_a_csv_id_column_beyond_the_range_is_refused_by_line(client, table):
    csv = (
        "id,pre_pt_position,post_pt_position,ctr_pt_position\n"
        "5,1 2 3,1 2 3,1 2 3\n"
        f"{INT64_MAX},1 2 3,1 2 3,1 2 3\n"
    ).encode()
    with pytest.raises(ValidationFailed) as err:
        client.ingest_csv(table, csv)
    problem = err.value.report.errors.iloc[0]
    assert (problem["line"], problem["column"], problem["kind"]) == (3, "id", "bad_id")
    assert client.get_annotation_count(table) == 0
    assert client.post_annotation(table, [synapse()]) == [1]


@pytest.mark.parametrize("given", [INT64_MAX, 2**63, 1e20, -1, 0], ids=str)
def test_ids_that_name_no_row_are_refused_by_every_lookup(client, table, given):
    client.post_annotation(table, [synapse()])
    calls = [
        lambda: client.get_annotation(table, [given]),
        lambda: client.delete_annotation(table, [given]),
        lambda: client.get_history(table, given),
        lambda: client.update_annotation(table, {"id": given, "size": 1.0}),
        lambda: client.query_annotations(table, ids=[given]),
    ]
    for call in calls:
        if given == INT64_MAX:  # a valid id that names nothing: not found, or nothing to do
            try:
                call()
            except AnnoError as exc:
                assert exc.message.endswith(".")
            continue
        with pytest.raises(InvalidArgument, match="whole number"):
            call()
    assert client.get_annotation_count(table) == 1


def test_assignment_works_on_a_table_already_holding_the_largest_id(client, table, storage):
    """A database written before the rule (or by hand) holds id 2**63 - 1: new ids go after
    the largest id up to 2**62 instead of overflowing."""
    client.post_annotation(table, [synapse(0)])
    meta = storage.meta(client.aligned_volume_name, table)
    t, spec = storage.table_of(meta)
    points = {c: 1.0 for f in spec.point_fields for c in f.storage_columns}
    with storage.engine.begin() as conn:
        conn.execute(
            t.insert().values(
                id=INT64_MAX, created=sa.func.now(), valid=True, created_by="1", size=1.0, **points
            )
        )
    ids = client.post_annotation(table, [synapse(1), synapse(2)])
    assert ids == [2, 3]
    assert client.update_annotation(table, {"id": INT64_MAX, "size": 2.0}) == {INT64_MAX: 4}
    frame = storage.query(client.aligned_volume_name, table, limit=10)
    assert sorted(frame["id"]) == [1, 2, 3, 4]  # the old row is superseded, not live


def test_over_http_a_huge_id_is_a_422_and_the_table_takes_rows_after(server, http, volume):
    server.connect(aligned_volume=volume).create_table("syn", "synapse", "ids [pytest]", [4, 4, 40])
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name="syn")
    for given in (INT64_MAX, 2**63, 1e20, "9223372036854775807"):
        r = http.post(url, json={"annotations": [synapse(id=given)]})
        check_refusal(r, 422)
    r = http.post(url, json={"annotations": [synapse()]})
    assert r.status_code == 200 and r.json() == [1]
    r = http.put(url, json={"annotations": [{"id": 1, "size": 3.0}]})
    assert r.status_code == 200, r.text
