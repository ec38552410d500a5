"""DataFrame ingest: position columns, post/update_annotation_df, StagedAnnotations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anno_core.errors import InvalidArgument, ValidationFailed
from tests.conftest import synapse


def _cells(client, table):
    client.create_table(table, "cell_type_local", "cells [pytest]", [4, 4, 40])
    return table


def test_process_position_columns_reads_lists_strings_and_split_columns():
    df = pd.DataFrame(
        {
            "pt_position": [[1, 2, 3], "[4, 5, 6]", "7 8 9", "10,11,12"],
            "bb_start_position_x": [1, 2, 3, np.nan],
            "bb_start_position_y": [1, 2, 3, np.nan],
            "bb_start_position_z": [1, 2, 3, np.nan],
            "volume": [1.5, np.nan, 2.0, 3.0],
        }
    )
    recs = pd.DataFrame(df).pipe(
        lambda d: __import__("anno_core.ingest.frames", fromlist=["x"]).process_position_columns(
            d, None
        )
    )
    assert [r["pt"]["position"] for r in recs] == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]
    assert recs[0]["bb_start"] == {"position": [1.0, 1.0, 1.0]}
    assert recs[3]["bb_start"] == {"position": None}
    assert recs[1]["volume"] is None
    assert "pt_position" not in recs[0]


def test_process_position_columns_mapping_and_missing_column(client):
    df = pd.DataFrame({"loc": [[1, 2, 3]], "tag": ["a"]})
    recs = client.process_position_columns(df, {"loc": "pt"})
    assert recs == [{"tag": "a", "pt": {"position": [1, 2, 3]}}]
    with pytest.raises(InvalidArgument, match="'nowhere' is not in the DataFrame"):
        client.process_position_columns(df, ["nowhere"])


def test_post_annotation_df_all_position_forms(client):
    _cells(client, "cells")
    df = pd.DataFrame(
        {
            "pt_position": [[1, 2, 3], "[4, 5, 6]", "7 8 9"],
            "classification_system": ["s", "s", "s"],
            "cell_type": ["a", "b", "c"],
        }
    )
    ids = client.post_annotation_df("cells", df, None)
    got = client.get_annotation("cells", ids)
    assert [g["pt_position"] for g in got] == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    split = pd.DataFrame(
        {
            "pt_position_x": [1.5],
            "pt_position_y": [2],
            "pt_position_z": [3],
            "classification_system": ["s"],
            "cell_type": ["d"],
        }
    )
    (new,) = client.post_annotation_df("cells", split, None)
    assert client.get_annotation("cells", new)[0]["pt_position"] == [1.5, 2, 3]


def test_post_annotation_df_refusal_stores_nothing(client):
    _cells(client, "cells")
    df = pd.DataFrame(
        {
            "pt_position": [[1, 2, 3], [1, 2]],
            "classification_system": ["s", "s"],
            "cell_type": ["a", "b"],
        }
    )
    with pytest.raises(ValidationFailed) as err:
        client.post_annotation_df("cells", df, None)
    assert "pt_position" in str(err.value)
    assert client.get_annotation_count("cells") == 0


def test_update_annotation_df_needs_ids_and_supersedes(client, synapse_table):
    ids = client.post_annotation(synapse_table, [synapse(0), synapse(1)])
    with pytest.raises(InvalidArgument, match="'id' column"):
        client.update_annotation_df(synapse_table, pd.DataFrame({"size": [1.0]}), None)
    out = client.update_annotation_df(
        synapse_table, pd.DataFrame({"id": ids, "size": [5.0, 6.0]}), None
    )
    assert list(out) == ids
    new = client.get_annotation(synapse_table, list(out.values()))
    assert [n["size"] for n in new] == [5.0, 6.0]
    assert new[0]["pre_pt_position"] == [10, 20, 30]  # inherited from the old row


def test_stage_fields_add_and_scaling(client, synapse_table):
    st = client.stage_annotations(synapse_table, annotation_resolution=[8, 8, 40])
    assert set(st.fields) == {"pre_pt_position", "post_pt_position", "ctr_pt_position", "size"}
    assert st.table_resolution == [4, 4, 40]
    st.add(pre_pt_position=[1, 2, 3], post_pt_position=[1, 2, 3], ctr_pt_position=[1, 2, 3], size=3)
    assert st.annotation_list[0]["pre_pt"] == {"position": [2, 4, 3]}
    with pytest.raises(ValidationFailed, match="post_pt_position"):
        st.add(pre_pt_position=[1, 2, 3], post_pt_position=[1, 2], ctr_pt_position=[1, 2, 3])
    with pytest.raises(InvalidArgument, match="'colour' is not a field"):
        st.add(colour=1)
    with pytest.raises(InvalidArgument, match="needs 'ctr_pt_position'"):
        st.add(pre_pt_position=[1, 2, 3], post_pt_position=[1, 2, 3])
    assert len(st) == 1
    (new,) = client.upload_staged_annotations(st)
    assert client.get_annotation(synapse_table, new)[0]["post_pt_position"] == [2, 4, 3]


def test_stage_add_dataframe_is_all_or_nothing(client, synapse_table):
    st = client.stage_annotations(synapse_table)
    good = pd.DataFrame(
        {
            "pre_pt_position": [[1, 2, 3]] * 2,
            "post_pt_position": [[1, 2, 3]] * 2,
            "ctr_pt_position": [[1, 2, 3]] * 2,
            "size": [1.0, "big"],
        }
    )
    with pytest.raises(ValidationFailed, match="annotation 2, column 'size'"):
        st.add_dataframe(good)
    assert len(st) == 0
    with pytest.raises(InvalidArgument, match="not fields: 'extra'"):
        st.add_dataframe(good.assign(extra=1))
    st.add_dataframe(good.assign(size=[1.0, 2.0]))
    df = st.annotation_dataframe(include_tracking=True)
    assert list(df["is_uploaded"]) == [False, False]
    assert df["new_id"].isna().all()


def test_stage_needs_table_or_schema_and_annotation_resolution_needs_table(client):
    with pytest.raises(InvalidArgument, match="Name a table"):
        client.stage_annotations()
    with pytest.raises(InvalidArgument, match="table's resolution is unknown"):
        client.stage_annotations(schema_name="bound_tag", annotation_resolution=[1, 1, 1])
    st = client.stage_annotations(schema_name="bound_tag")
    st.add(pt_position=[1, 2, 3], tag="x")
    with pytest.raises(InvalidArgument, match="staged for a schema"):
        client.upload_staged_annotations(st)


class Flaky:
    """A backend that fails once after committing (as a 502 after the commit would)."""

    def __init__(self, inner, fail_after_commit_on: int) -> None:
        self.inner = inner
        self.calls = 0
        self.fail_on = fail_after_commit_on

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def insert_frame(self, *args, **kwargs):
        self.calls += 1
        ids = self.inner.insert_frame(*args, **kwargs)
        if self.calls == self.fail_on:
            raise ConnectionError("connection reset after the commit")
        return ids


def test_upload_sends_each_batch_once(client, synapse_table):
    st = client.stage_annotations(synapse_table)
    st.add_dataframe(
        pd.DataFrame(
            {
                "pre_pt_position": [[i, 0, 0] for i in range(25)],
                "post_pt_position": [[1, 1, 1]] * 25,
                "ctr_pt_position": [[1, 1, 1]] * 25,
            }
        )
    )
    flaky = client.backend = Flaky(client.backend, fail_after_commit_on=2)
    from anno_core.ingest.staged import upload

    # Retrying nested in the remote transport's own retries multiplied the tries, and re-sent
    # batches a real CAVE may already have stored: the staged layer sends each batch once.
    with pytest.raises(ConnectionError):
        upload(client, st, "local", batch_size=10)
    assert flaky.calls == 2
    assert st.annotation_dataframe(include_tracking=True)["is_uploaded"].sum() == 10
    ids = upload(client, st, "local", batch_size=10)  # the same keys: batch 2 is not stored again
    assert len(ids) == 15 == len(set(ids))
    assert client.get_annotation_count(synapse_table) == 25


def test_upload_again_after_a_failure_finishes_the_job(client, synapse_table):
    st = client.stage_annotations(synapse_table)
    rows = [synapse(i) for i in range(12)]
    st.add_dataframe(
        pd.DataFrame(
            {
                "pre_pt_position": [r["pre_pt"]["position"] for r in rows],
                "post_pt_position": [r["post_pt"]["position"] for r in rows],
                "ctr_pt_position": [r["ctr_pt"]["position"] for r in rows],
                "size": [r["size"] for r in rows],
            }
        )
    )
    client.backend = Flaky(client.backend, fail_after_commit_on=2)
    from anno_core.ingest.staged import upload

    with pytest.raises(ConnectionError):
        upload(client, st, "local", batch_size=5)
    first = st.annotation_dataframe(include_tracking=True)
    assert first["is_uploaded"].sum() == 5  # batch 2 was stored but its answer was lost
    rest = upload(client, st, "local", batch_size=5)
    assert len(rest) == 7
    assert client.get_annotation_count(synapse_table) == 12
    assert st.annotation_dataframe(include_tracking=True)["is_uploaded"].all()
    assert client.upload_staged_annotations(st) == []


def test_staged_update_keeps_fields_left_out(client, synapse_table):
    ids = client.post_annotation(synapse_table, [synapse(0), synapse(1)])
    st = client.stage_annotations(synapse_table, update=True)
    with pytest.raises(InvalidArgument, match="needs 'id'"):
        st.add(size=3.0)
    st.add(id=ids[0], size=3.0)
    st.add(id=ids[1], pre_pt_position=[7, 7, 7])
    out = client.upload_staged_annotations(st)
    assert set(out) == set(ids)
    a, b = client.get_annotation(synapse_table, [out[ids[0]], out[ids[1]]])
    assert a["size"] == 3.0 and a["pre_pt_position"] == [10, 20, 30]
    assert b["size"] == 121.0 and b["pre_pt_position"] == [7, 7, 7]
