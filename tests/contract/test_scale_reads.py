"""Reads that cost the same at any size, on every backend: keyset pages (after an id) match
offset pages; a 3D view gets a fixed sample chosen by the backend, with the columns asked
for; a count is exact when cheap and says when it is an estimate; table details carry the
counts and the time of the last data change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anno_core.engine import view_counts
from anno_core.engine.sampling import sample_key
from anno_core.errors import InvalidArgument


@pytest.fixture
def tags(client) -> list[int]:
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    n = 1_200
    frame = pd.DataFrame(
        {
            "pt_position_x": np.arange(n),
            "pt_position_y": np.full(n, 5),
            "pt_position_z": np.arange(n) % 3,
            "tag": np.where(np.arange(n) % 4 == 0, "basket", "pyramidal"),
        }
    )
    ids = client.backend.insert_frame(client.aligned_volume_name, "tags", frame)
    client.delete_annotation("tags", ids[5:400:3])
    client.update_annotation("tags", [{"id": ids[1], "tag": "chandelier"}])
    return ids


def test_keyset_pages_are_the_offset_pages(client, tags):
    for view in ({}, {"include_invalid": True}, {"filters": {"tag": "pyr"}}):
        offset_pages, keyset_pages, after = [], [], None
        for k in range(0, 1_500, 150):  # the last page is empty
            offset_pages.append(client.query_annotations("tags", limit=150, offset=k, **view))
            page = client.query_annotations("tags", limit=150, after_id=after, **view)
            keyset_pages.append(page)
            after = int(page["id"].iloc[-1]) if len(page) else after
        assert [p["id"].tolist() for p in keyset_pages] == [
            p["id"].tolist() for p in offset_pages
        ], view
        assert keyset_pages[-1].empty and offset_pages[-1].empty
        assert all(k.equals(o) for k, o in zip(keyset_pages, offset_pages, strict=True))
    # after_id and offset together: skip from there
    live = client.query_annotations("tags", limit=5_000)["id"].tolist()
    at = live.index(tags[700])
    both = client.query_annotations("tags", limit=5, after_id=tags[700], offset=10)
    assert both["id"].tolist() == live[at + 11 : at + 16]
    deep = client.query_annotations("tags", limit=3, after_id=tags[1000])
    assert deep["id"].tolist() == tags[1001:1004]
    with pytest.raises(InvalidArgument, match="after_id"):
        client.query_annotations("tags", after_id="ten")


def test_the_3d_sample_is_fixed_and_only_its_rows_come(client, tags):
    live = client.query_annotations("tags", limit=5_000)["id"].to_numpy()
    points, spec, meta = client.get_point_frame("tags", limit=200, columns=["tag"])
    assert len(points) == 200 and spec.name == "bound_tag" and meta["table_name"] == "tags"
    assert points["id"].tolist() == live[np.argsort(sample_key(live))[:200]].tolist()
    assert points["pt_position_x"].tolist() == [tags.index(i) for i in points["id"]]
    assert set(points["tag"]) <= {"basket", "pyramidal", "chandelier"}
    again, _, _ = client.get_point_frame("tags", limit=200, columns=["tag"])
    assert again.equals(points)
    default, _, _ = client.get_point_frame("tags")
    assert len(default) == len(live)  # under the default limit: every live row
    with pytest.raises(InvalidArgument, match="no column 'nope'"):
        client.get_point_frame("tags", columns=["nope"])
    with pytest.raises(InvalidArgument, match="at least 1"):
        client.get_point_frame("tags", limit=0)


def test_counts_are_exact_when_cheap(client, tags):
    got = client.estimate_annotation_count("tags", filters={"tag": "bask"})
    exact = client.count_annotations("tags", filters={"tag": "bask"})
    assert got.exact and got.count == exact == len(
        client.query_annotations("tags", limit=5_000, filters={"tag": "bask"})
    )
    whole = client.estimate_annotation_count("tags", include_invalid=True)
    assert whole.exact and whole.count == client.count_annotations("tags", include_invalid=True)
    # of the first 10 ids, 5 and 8 are deleted and 1 is replaced by a new version
    assert client.estimate_annotation_count("tags", ids=tags[:10]).count == 7


@pytest.mark.only_embedded(reason="the row budget of a count is the server's own setting")
def test_a_dear_count_is_an_estimate_from_the_sample(client, tags, monkeypatch):
    monkeypatch.setattr(view_counts, "COUNT_BUDGET", 100)
    monkeypatch.setattr(view_counts, "ESTIMATE_SAMPLE", 100)
    exact = client.count_annotations("tags", filters={"pt_position_z": 1.0})
    got = client.estimate_annotation_count("tags", filters={"pt_position_z": 1.0})
    assert not got.exact and 100 <= got.sampled <= 200 and got.matched <= got.sampled
    assert abs(got.count - exact) < 0.3 * exact  # a sample of about 130 rows
    assert got == client.estimate_annotation_count("tags", filters={"pt_position_z": 1.0})
    # a tag-like field: its few values are looked up in its index and counted exactly
    tagged = client.estimate_annotation_count("tags", filters={"tag": "chand"})
    assert tagged.exact and tagged.count == 1


def test_details_carry_counts_and_the_last_data_change(client, tags):
    detail = next(d for d in client.get_table_details() if d["table_name"] == "tags")
    assert detail["live_count"] == client.count_annotations("tags")
    assert detail["total_count"] == client.count_annotations("tags", include_invalid=True)
    meta = client.get_table_metadata("tags")
    assert meta["last_data_change"] == detail["last_data_change"] is not None
    assert meta["last_data_change"] >= meta["last_modified"]
