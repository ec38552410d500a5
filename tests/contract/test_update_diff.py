"""Upload page support on every backend: update diffs, extents, upload keys, subsets and
the ids CSV."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from anno_core.ingest.plan import file_digest


@pytest.fixture
def cells(client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    ids = client.post_annotation(
        "cells",
        [
            {
                "pt": {"position": [i, 2 * i, 3]},
                "classification_system": "classical",
                "cell_type": "basket",
            }
            for i in range(1, 6)
        ],
    )
    return client, ids


def _update_file(ids: list[int], newer: int) -> bytes:
    return (
        "id,x,y,z,cell_type,classification_system\n"
        f"{ids[0]},1,2,3,basket,classical\n"  # line 2: the same as stored
        f"{ids[1]},2,4,3,pyramidal,classical\n"  # line 3: a new cell type
        f"{ids[2]},30,6,3,basket,classical\n"  # line 4: a moved point
        f"{ids[3]},4,8,3,basket,classical\n"  # line 5: deleted meanwhile
        f"{ids[4]},5,10,3,basket,classical\n"  # line 6: replaced by `newer`
        "999,5,10,3,basket,classical\n"
    ).encode()  # line 7: no such annotation


def test_diff_names_changed_cells_and_refuses_ids_that_cannot_be_updated(cells):
    client, ids = cells
    newer = client.update_annotation("cells", [{"id": ids[4], "cell_type": "sst"}])[ids[4]]
    client.delete_annotation("cells", [ids[3]])
    plan = client.open_upload("cells", _update_file(ids, newer), update=True)
    assert plan.check().ok  # the rows themselves are fine: the diff knows the table
    diff = plan.diff_update()
    assert diff.changed.tolist() == [False, True, True, False, False, False]
    assert diff.changes[["line", "id", "field", "old", "new"]].values.tolist() == [
        [3, ids[1], "cell_type", "basket", "pyramidal"],
        [4, ids[2], "pt_position", "[3, 6, 3]", "[30, 6, 3]"],
    ]
    errors = diff.report.errors
    assert errors["line"].tolist() == [5, 6, 7]
    assert errors["message"].tolist() == [
        f"annotation {ids[3]} was deleted; deleted annotations cannot be updated",
        f"annotation {ids[4]} was replaced by a newer version, id {newer}: update that one instead",
        "no annotation with this id in table 'cells'; an update names an annotation that "
        "exists (to add new rows, upload as new annotations)",
    ]
    assert not diff.ok and diff.summary().startswith("3 of 6 rows have problems")


def test_only_changed_rows_are_sent_and_old_ids_map_to_new(cells):
    client, ids = cells
    body = (
        "id,x,y,z,cell_type,classification_system\n"
        f"{ids[0]},1,2,3,basket,classical\n"
        f"{ids[1]},2,4,3,pyramidal,classical\n"
        f"{ids[2]},3,6,3,basket,classical\n"
    ).encode()
    plan = client.open_upload("cells", body, update=True)
    diff = plan.diff_update()
    assert diff.ok and diff.n_changed == 1 and diff.n_unchanged == 2
    assert diff.summary() == (
        "1 of 3 rows change (cell_type in 1): each changed annotation gets a new id and its "
        "old version is kept as superseded; 2 rows are the same as stored and are not sent."
    )
    key = plan.upload_key(file_digest(body))
    sub = plan.subset(np.flatnonzero(diff.changed))
    assert sub.data.rows == 1 and sub.data.lines.tolist() == [3]
    task = sub.start(upload_key=key)
    assert task.wait(60) and task.state == "done", task.error
    (new_id,) = task.result.values()
    assert task.result == {ids[1]: new_id}
    assert client.get_live_count("cells") == 5  # one replaced, none added
    assert client.get_annotation("cells", [ids[0]])[0]["valid"]  # unchanged row untouched
    frame = sub.result_frame(task.result)
    assert frame[["line", "id", "new_id", "cell_type"]].values.tolist() == [
        [3, ids[1], new_id, "pyramidal"]
    ]
    again = sub.start(upload_key=key)  # a reload that submits again: nothing new stored
    assert again.wait(60) and again.result == task.result
    assert client.get_annotation_count("cells") == 6


def test_a_file_identical_to_the_table_changes_nothing(cells):
    client, ids = cells
    body = "id,x,y,z,cell_type,classification_system\n" + "".join(
        f"{aid},{i},{2 * i},3,basket,classical\n" for i, aid in enumerate(ids, start=1)
    )
    diff = client.open_upload("cells", body.encode(), update=True).diff_update()
    assert diff.n_changed == 0 and diff.changes.empty
    assert diff.summary() == (
        "Every row is the same as the stored annotation: there is nothing to update."
    )


def test_scaled_positions_are_compared_in_the_table_units(cells):
    client, ids = cells
    body = f"id,x,y,z,cell_type,classification_system\n{ids[1]},1,2,3,basket,classical\n"
    plan = client.open_upload("cells", body.encode(), update=True)
    assert plan.with_resolution([8, 8, 40]).diff_update().n_changed == 0  # (2, 4, 3) stored
    assert plan.diff_update().changes["new"].tolist() == ["[1, 2, 3]"]


def test_upload_key_depends_on_file_table_and_mode(cells):
    client, _ = cells
    client.create_table("other", "cell_type_local", "other [pytest]", [4, 4, 40])
    body = b"x,y,z,cell_type,classification_system\n1,2,3,basket,classical\n"
    plan = client.open_upload("cells", body)
    key = plan.upload_key(file_digest(body))
    assert key == client.open_upload("cells", body).upload_key(file_digest(body))
    assert key.startswith("upload-") and len(key) <= 128
    others = {
        plan.upload_key(file_digest(body + b"5,6,7,sst,classical\n")),
        client.open_upload("other", body).upload_key(file_digest(body)),
        client.open_upload("cells", plan.data, update=True).upload_key(file_digest(body)),
    }
    assert key not in others and len(others) == 3
    ids = plan.commit(upload_key=key)
    assert plan.commit(upload_key=key) == ids  # remembered: nothing written twice
    assert client.get_annotation_count("cells") == 6


def test_result_frame_joins_ids_to_the_file_lines(client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    body = b"line,x,y,z,tag\n\nA,1,2,3,axon\nB,4,5,6,dendrite\n"
    plan = client.open_upload("tags", body)
    ids = plan.commit()
    frame = plan.result_frame(ids)
    assert list(frame.columns) == ["line", "id", "line (file)", "x", "y", "z", "tag"]
    assert frame.values.tolist() == [
        [3, ids[0], "A", "1", "2", "3", "axon"],
        [4, ids[1], "B", "4", "5", "6", "dendrite"],
    ]
    text = plan.result_csv(ids).decode()
    assert text.startswith("line,id,line (file),x,y,z,tag\n")  # a plain header row
    assert list(csv.reader(io.StringIO(text))) == [
        ["line", "id", "line (file)", "x", "y", "z", "tag"],
        ["3", str(ids[0]), "A", "1", "2", "3", "axon"],
        ["4", str(ids[1]), "B", "4", "5", "6", "dendrite"],
    ]
    with pytest.raises(ValueError, match="1 ids for 2 rows"):
        plan.result_frame(ids[:1])


def test_result_of_an_update_leaves_unchanged_rows_without_a_new_id(cells):
    client, ids = cells
    body = (f'id,cell_type\n{ids[0]},basket\n{ids[1]},"pyramidal, thick tufted"\n').encode()
    plan = client.open_upload("cells", body, update=True)
    diff = plan.diff_update()
    result = plan.subset(diff.changed.nonzero()[0]).commit()
    rows = list(csv.reader(io.StringIO(plan.result_csv(result).decode())))
    assert rows == [
        ["line", "id", "new_id", "cell_type"],
        ["2", str(ids[0]), "", "basket"],
        ["3", str(ids[1]), str(result[ids[1]]), "pyramidal, thick tufted"],
    ]


@pytest.mark.only_embedded(
    reason="a server does not say what an earlier upload stored (upload_result is "
    "NotSupported remotely); it still stores a key's rows once, as the tests above show"
)
def test_stored_says_what_a_key_stored_and_only_to_who_may_write(cells, make_client, people):
    client, _ = cells
    body = b"x,y,z,cell_type,classification_system\n1,2,3,basket,classical\n"
    plan = client.open_upload("cells", body)
    key = plan.upload_key(file_digest(body))
    assert plan.stored(key) is None
    ids = plan.commit(upload_key=key)
    assert plan.stored(key) == ids
    stranger = make_client(user=people["stranger"])
    assert stranger.open_upload("cells", body).stored(key) is None  # PRIVATE: may not write
    update = client.open_upload("cells", b"id,cell_type\n%d,sst\n" % ids[0], update=True)
    update_key = update.upload_key(file_digest(b"update"))
    done = update.commit(upload_key=update_key)
    assert update.stored(update_key) == done == {ids[0]: ids[0] + 1}


def test_the_plan_compares_extents_with_its_own_resolutions(client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    plan = client.open_upload("tags", b"x,y,z,tag\n1,2,3,a\n", annotation_resolution=[1, 1, 1])
    table = ((100_000.0, 80_000.0, 600_000.0), (1_000_000.0, 800_000.0, 1_000_000.0))  # nm
    read_as_nm = tuple(tuple(np.asarray(c) / (4, 4, 40)) for c in table)  # voxels taken as nm
    check = plan.compare_extents(read_as_nm, table)
    assert check.resolution == (4.0, 4.0, 40.0) and not check.ok
    assert plan.with_resolution(None).compare_extents(table, table).ok
