"""What the upload page sends and what blocks it is anno_core's call (`UploadPlan.submission`);
so are the x/y/z column triples and the shared constants the page reads."""

from __future__ import annotations

import pytest

from anno_core.common import CHUNK
from anno_core.errors import InvalidArgument
from anno_core.ingest.mapping import column_triples
from anno_core.ingest.update_diff import stored_rows

NO_WRITE = "You may not write to table 'cells'."
PROBLEMS = "Fix the problems listed in step 5 first: nothing is stored while any row has a problem."
CANNOT = "Some rows name annotations that cannot be updated (step 5)."
NOTHING = "No row differs from what is stored: there is nothing to update."


@pytest.fixture
def cells(client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    rows = [
        {"pt": {"position": [i, 2 * i, 3]}, "classification_system": "c", "cell_type": "basket"}
        for i in range(1, 4)
    ]
    return client, client.post_annotation("cells", rows)


def _update(ids: list[int], types: list[str]) -> bytes:
    return (
        "id,x,y,z,cell_type,classification_system\n"
        + "".join(
            f"{aid},{i},{2 * i},3,{t},c\n"
            for i, (aid, t) in enumerate(zip(ids, types, strict=True), start=1)
        )
    ).encode()


def test_new_rows_are_sent_whole_when_nothing_blocks(cells):
    client, _ = cells
    plan = client.open_upload("cells", b"x,y,z,cell_type,classification_system\n1,2,3,a,c\n")
    go = plan.submission(plan.check())
    assert go.ready and go.blockers == () and go.send is plan and go.rows == 1
    assert go.unchanged == 0


def test_what_blocks_a_new_upload(cells):
    client, _ = cells
    bad = client.open_upload("cells", b"x,y,z,cell_type,classification_system\n1,two,3,a,c\n")
    go = bad.submission(bad.check(), may_write=False)
    assert not go.ready and go.blockers == (NO_WRITE, PROBLEMS)
    assert go.send is bad and go.rows == 1  # the button still names the file's rows


def test_an_update_sends_only_the_rows_that_change(cells):
    client, ids = cells
    plan = client.open_upload("cells", _update(ids, ["basket", "sst", "basket"]), update=True)
    check = plan.check()
    go = plan.submission(check, plan.diff_update())
    assert go.ready and go.rows == 1 and go.unchanged == 2
    assert go.send.data.lines.tolist() == [3] and go.send.update
    result = go.send.commit()
    assert list(result) == [ids[1]]
    assert client.get_live_count("cells") == 3  # one replaced, none added


def test_what_blocks_an_update(cells):
    client, ids = cells
    same = client.open_upload("cells", _update(ids, ["basket"] * 3), update=True)
    check = same.check()
    assert same.submission(check, same.diff_update()).blockers == (NOTHING,)
    assert same.submission(check, None).blockers == (CANNOT,)  # the diff could not be read
    client.delete_annotation("cells", [ids[0]])
    gone = client.open_upload("cells", _update(ids, ["sst"] * 3), update=True)
    go = gone.submission(gone.check(), gone.diff_update(), may_write=False)
    assert go.blockers == (NO_WRITE, CANNOT) and go.send is gone and go.rows == 3


@pytest.mark.parametrize(
    "columns, triples",
    [
        (["X", "Y", "Z", "size"], [("X", "Y", "Z")]),
        (
            ["soma_x", "soma_y", "soma_z", "pre x", "pre.y", "Pre-Z"],
            [("soma_x", "soma_y", "soma_z"), ("pre x", "pre.y", "Pre-Z")],
        ),
        (["Pos. x", "Pos. y", "Pos. z"], [("Pos. x", "Pos. y", "Pos. z")]),
        (["a_x", "a_y", "b_z"], []),
        (["x", "y", "z", "x"], [("x", "y", "z")]),  # the first of each axis
        (["size", "id"], []),
    ],
)
def test_column_triples(columns, triples):
    assert column_triples(columns) == triples


def test_one_chunk_of_ids_is_what_a_query_takes(client, synapse_table):
    from tests.conftest import synapse

    ids = client.post_annotation(synapse_table, [synapse(i) for i in range(3)])
    assert len(client.query_annotations(synapse_table, ids=list(range(1, CHUNK + 1)))) == 3
    with pytest.raises(InvalidArgument, match=f"look up at most {CHUNK} at a time"):
        client.query_annotations(synapse_table, ids=list(range(1, CHUNK + 2)))
    many = ids + list(range(10_000, 10_000 + 2 * CHUNK))  # the diff reads in chunks
    assert sorted(stored_rows(client, synapse_table, many).index) == ids
