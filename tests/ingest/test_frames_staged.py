"""DataFrame ingest without a server: position columns read in every form, and the staged
upload's own retries around a backend that loses an answer after storing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anno_core import AnnotationClient
from anno_core.errors import InvalidArgument
from anno_core.ingest.frames import process_position_columns
from tests.conftest import synapse


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
    recs = process_position_columns(df, None)
    assert [r["pt"]["position"] for r in recs] == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]
    assert recs[0]["bb_start"] == {"position": [1.0, 1.0, 1.0]}
    assert recs[3]["bb_start"] == {"position": None}
    assert recs[1]["volume"] is None
    assert "pt_position" not in recs[0]


def test_process_position_columns_mapping_and_missing_column():
    client = AnnotationClient  # a static method, as on caveclient's client
    df = pd.DataFrame({"loc": [[1, 2, 3]], "tag": ["a"]})
    recs = client.process_position_columns(df, {"loc": "pt"})
    assert recs == [{"tag": "a", "pt": {"position": [1, 2, 3]}}]
    with pytest.raises(InvalidArgument, match="'nowhere' is not in the DataFrame"):
        client.process_position_columns(df, ["nowhere"])


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
    from anno_core.ingest.staged_upload import upload

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
    from anno_core.ingest.staged_upload import upload

    with pytest.raises(ConnectionError):
        upload(client, st, "local", batch_size=5)
    first = st.annotation_dataframe(include_tracking=True)
    assert first["is_uploaded"].sum() == 5  # batch 2 was stored but its answer was lost
    rest = upload(client, st, "local", batch_size=5)
    assert len(rest) == 7
    assert client.get_annotation_count(synapse_table) == 12
    assert st.annotation_dataframe(include_tracking=True)["is_uploaded"].all()
    assert client.upload_staged_annotations(st) == []
