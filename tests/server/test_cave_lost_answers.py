"""A real CAVE that stores a batch and then answers 502 (a gateway lost its answer).

A real CAVE has no idempotency keys, so such a batch must never be sent again by any layer:
every row is stored exactly once, and the error names the rows that may have been stored.
`fakes.FakeCave` is the CAVE, an HTTP server on 127.0.0.1; every row carries its own tag in
``size``, so "exactly once" is checked row by row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import anno_core
from anno_core.errors import RemoteError
from tests.server.fakes import CUT_SHORT, STORE_THEN_502, FakeCave

N = 15_000  # two batches of a real CAVE's 10,000-row limit: the second one's answer is lost
POSTS = ("POST", "/annotation/api/v2/aligned_volume/vol/table/syn/annotations")


@pytest.fixture
def cave():
    fake = FakeCave()
    yield fake
    fake.close()


def _connect(cave: FakeCave) -> anno_core.AnnotationClient:
    client = anno_core.connect(
        backend="server", server_address=cave.url, token="tok", aligned_volume="vol"
    )
    client.backend.backoff = 0.01
    return client


def _points(n: int) -> pd.DataFrame:
    xyz = [[float(i), 2.0, 3.0] for i in range(n)]
    return pd.DataFrame(
        {
            "pre_pt_position": xyz,
            "post_pt_position": xyz,
            "ctr_pt_position": xyz,
            "size": np.arange(n, dtype=float),
        }
    )


def _tags(cave: FakeCave) -> list[float]:
    return sorted(float(r["size"]) for r in cave.rows.values())


def test_post_annotation_df_stores_every_row_once_and_names_the_rows_in_doubt(cave):
    client = _connect(cave)
    cave.script[("POST", "/syn/annotations")] = [None, STORE_THEN_502]
    with pytest.raises(RemoteError) as err:
        client.post_annotation_df("syn", _points(N), position_columns=None)
    assert _tags(cave) == list(map(float, range(N)))  # each row once: batch 2 not re-sent
    assert cave.calls.count(POSTS) == 2
    message = str(err.value)
    assert "index 10000 to 14999 may have been stored" in message
    assert "Rows 1 to 10000 of 15000 were stored before this (ids 1 to 10000)" in message
    assert "upload_key" not in message  # a CAVE has no keys: resending would duplicate
    assert err.value.details["stored_rows"] == 10_000
    assert err.value.details["maybe_stored_lines"] == list(range(10_000, N))


def test_post_annotation_in_one_batch_is_not_sent_twice(cave):
    client = _connect(cave)
    records = _points(3).rename(columns=lambda c: c).to_dict("records")
    records = [
        {f: {"position": r[f"{f}_position"]} for f in ("pre_pt", "post_pt", "ctr_pt")}
        | {"size": r["size"]}
        for r in records
    ]
    cave.script[("POST", "/syn/annotations")] = [STORE_THEN_502]
    with pytest.raises(RemoteError, match="annotations 1 to 3 may have been stored") as err:
        client.post_annotation("syn", records)
    assert "grew from 0 to 3 rows" in str(err.value)
    assert _tags(cave) == [0.0, 1.0, 2.0]
    assert cave.calls.count(POSTS) == 1


def test_upload_staged_annotations_stores_every_row_once(cave):
    client = _connect(cave)
    staged = client.stage_annotations("syn")
    staged.add_dataframe(_points(N))
    cave.script[("POST", "/syn/annotations")] = [None, STORE_THEN_502]
    with pytest.raises(RemoteError, match="annotations 10001 to 15000 may have been stored"):
        client.upload_staged_annotations(staged)
    assert _tags(cave) == list(map(float, range(N)))
    assert cave.calls.count(POSTS) == 2  # no layer sent a batch again
    tracked = staged.annotation_dataframe(include_tracking=True)
    assert tracked["is_uploaded"].sum() == 10_000  # the first batch, known to be stored
    assert tracked["new_id"].iloc[:10_000].tolist() == list(range(1, 10_001))


def test_a_lost_update_answer_is_recovered_without_superseding_twice(cave):
    client = _connect(cave)
    ids = client.post_annotation_df("syn", _points(4), position_columns=None)
    cave.script[("PUT", "/syn/annotations")] = [STORE_THEN_502]
    staged = client.stage_annotations("syn", update=True)
    for i in ids:
        staged.add(id=i, size=100.0 + i)
    assert client.upload_staged_annotations(staged) == {1: 5, 2: 6, 3: 7, 4: 8}
    assert len(cave.rows) == 8  # each old row superseded once
    assert [cave.rows[i]["superceded_id"] for i in ids] == [5, 6, 7, 8]
    assert cave.calls.count(("PUT", POSTS[1])) == 1


def test_tries_never_nest_and_a_batch_given_up_on_names_its_rows(cave):
    client = _connect(cave)
    client.backend.retries = 3  # 4 tries in all, counted once, by the transport alone
    cave.script[("POST", "/syn/annotations")] = [(503, {"message": "busy"})] * 50
    staged = client.stage_annotations("syn")
    staged.add_dataframe(_points(3))
    with pytest.raises(RemoteError, match="did not answer after 4 tries") as err:
        client.upload_staged_annotations(staged)
    assert "annotations 1 to 3 may have been stored" in str(err.value)
    assert err.value.details["maybe_stored_lines"] == [1, 2, 3]
    assert cave.calls.count(POSTS) == 4
    counts = ("GET", "/annotation/api/v2/aligned_volume/vol/table/syn/count")
    assert cave.calls.count(counts) == 1 + 3  # before the batch, then after each lost answer


def test_the_backoff_is_exponential_and_capped():
    from anno_core.remote.transport import RetryPolicy

    policy = RetryPolicy(retries=10, backoff=0.5, cap=8.0)
    assert [policy.delay(a) for a in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_an_answer_broken_off_half_way_is_a_lost_answer(cave):
    client = _connect(cave)
    cave.script[("GET", "/table")] = [CUT_SHORT]
    assert client.get_tables() == ["syn"]  # a read: simply asked again
    assert cave.calls.count(("GET", "/annotation/api/v2/aligned_volume/vol/table")) == 2
    cave.script[("POST", "/syn/annotations")] = [CUT_SHORT]  # before storing anything
    assert client.post_annotation_df("syn", _points(2), position_columns=None) == [1, 2]
    assert _tags(cave) == [0.0, 1.0] and cave.calls.count(POSTS) == 2
