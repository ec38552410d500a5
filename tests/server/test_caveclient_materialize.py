"""Conformance: caveclient 8.2.1's ``client.materialize`` reads our tables, unmodified.

Every answer is compared with our own ``query_annotations`` on the same data: our versions
are caveclient's materialization versions, a query is the table as it was at the version's
moment, and live_query answers the newest version at or before its timestamp.
"""

from __future__ import annotations

import logging
from datetime import UTC, timedelta

import numpy as np
import pandas as pd
import pytest
import requests
from caveclient import CAVEclient

from anno_core.moments import parse_moment
from tests.conftest import synapse

POINTS = ("ctr_pt_position", "post_pt_position", "pre_pt_position")


@pytest.fixture
def story(client):
    """syn (with an update, a delete) and types (a tracking reference table) at two versions."""
    client.create_table("syn", "synapse", "synapses [pytest]", [4, 4, 40], notice_text="draft")
    client.create_table(
        "types",
        "cell_type_reference",
        "types of syn rows [pytest]",
        [4, 4, 40],
        reference_table="syn",
        track_target_id_updates=True,
    )
    ids = client.post_annotation("syn", [synapse(i) for i in range(6)])
    client.post_annotation(
        "types",
        [
            {"target_id": i, "cell_type": t, "classification_system": "x"}
            for i, t in zip(ids[:3], ("basket", "chandelier", "basket"), strict=True)
        ],
    )
    v1 = client.create_version("v1", "first look")
    client.update_annotation("syn", {"id": ids[0], "size": 1.0})
    client.delete_annotation("syn", [ids[4]])
    client.post_annotation("syn", [synapse(20)])
    v2 = client.create_version("v2", "after the fixes")
    client.post_annotation("syn", [synapse(30)])  # after every version
    return ids, v1, v2


@pytest.fixture
def mat(server, volume, caveclient_home):
    return CAVEclient(volume, server_address=server.url, auth_token=server.tokens["admin"])


def _ours(client, table, version, **kwargs) -> pd.DataFrame:
    return client.query_annotations(table, version=version, limit=10_000, **kwargs)


def test_versions_and_tables_are_ours(mat, client, story):
    _, v1, v2 = story
    m = mat.materialize
    assert m.get_versions() == [1, 2]
    meta = m.get_version_metadata(1)
    assert meta["time_stamp"] == parse_moment(v1["timestamp"]).replace(tzinfo=UTC)
    assert meta["version"] == 1 and meta["valid"] is True
    assert [d["version"] for d in m.get_versions_metadata()] == [1, 2]
    assert sorted(m.get_tables(version=1)) == ["syn", "types"]
    tables = {t["table_name"]: t for t in m.get_tables_metadata(version=2)}
    assert tables["syn"]["voxel_resolution"] == [4.0, 4.0, 40.0]
    assert tables["types"]["reference_table"] == "syn"
    one = m.get_table_metadata("syn", version=1)
    assert one["schema_type"] == "synapse" and one["description"] == "synapses [pytest]"
    for v in (1, 2):
        assert m.get_annotation_count("syn", version=v) == client.count_annotations(
            "syn", version=v
        )


def test_query_table_is_the_table_at_the_version(mat, client, story, caplog):
    m = mat.materialize
    for version in (1, 2):
        got = m.query_table("syn", materialization_version=version, split_positions=True)
        ours = _ours(client, "syn", version)
        assert got["id"].tolist() == ours["id"].tolist()
        assert got["id"].dtype == np.int64 and got.index.equals(pd.RangeIndex(len(got)))
        cols = ["size", *(f"{p}_{a}" for p in POINTS for a in "xyz")]
        pd.testing.assert_frame_equal(got[cols], ours[cols], check_dtype=False)
        assert got["valid"].all() and got["superceded_id"].isna().all()
        assert not any(c.endswith(("root_id", "supervoxel_id")) for c in got.columns)
        assert got.attrs["dataframe_resolution"] == [4.0, 4.0, 40.0]
    merged = m.query_table("syn", materialization_version=1)  # [x, y, z] arrays, at the end
    ours = _ours(client, "syn", 1)
    assert list(merged.columns[-3:]) == list(POINTS)
    for p in POINTS:
        want = ours[[f"{p}_x", f"{p}_y", f"{p}_z"]].to_numpy()
        np.testing.assert_array_equal(np.stack(merged[p].to_numpy()), want)


def test_filters_limit_columns_and_resolution(mat, client, story, caplog):
    ids, _, _ = story
    m = mat.materialize
    ours = _ours(client, "syn", 2)

    def q(**kw):
        return m.query_table("syn", materialization_version=2, split_positions=True, **kw)

    assert q(filter_in_dict={"id": ids[1:4]})["id"].tolist() == ids[1:4]
    out = q(filter_out_dict={"id": ids[1:4]})["id"].tolist()
    assert out == [i for i in ours["id"] if i not in ids[1:4]]
    assert q(filter_equal_dict={"size": 122.0})["id"].tolist() == [ids[2]]
    assert (
        q(filter_greater_dict={"size": 122.0})["id"].tolist()
        == ours[ours["size"] > 122]["id"].tolist()
    )
    box = {"pre_pt_position": [[11, 0, 0], [13, 100, 100]]}  # x in 11..13, voxels
    assert (
        q(filter_spatial_dict=box)["id"].tolist()
        == ours[ours["pre_pt_position_x"].between(11, 13)]["id"].tolist()
    )
    picked = q(select_columns=["id", "pre_pt_position"])
    assert list(picked.columns) == [
        "id",
        "pre_pt_position_x",
        "pre_pt_position_y",
        "pre_pt_position_z",
    ]
    with caplog.at_level(logging.WARNING, logger="caveclient"):
        limited = q(limit=2, offset=1)
    assert limited["id"].tolist() == ours["id"].tolist()[1:3]
    assert "Limited query to 2 rows" in caplog.text and "Table Owner Notice" in caplog.text
    nm = q(desired_resolution=[1, 1, 1])
    np.testing.assert_allclose(nm["pre_pt_position_z"], ours["pre_pt_position_z"] * 40)
    assert nm.attrs["dataframe_resolution"] == [1.0, 1.0, 1.0]


def test_a_reference_table_comes_joined_to_its_target(mat, client, story):
    m = mat.materialize
    got = m.query_table("types", materialization_version=2, split_positions=True)
    types = _ours(client, "types", 2).set_index("target_id")
    syn = _ours(client, "syn", 2).set_index("id")
    assert got["target_id"].tolist() == types.index.tolist()
    assert got["cell_type"].tolist() == types["cell_type"].tolist()
    assert got["id_ref"].tolist() == got["target_id"].tolist()  # a name both have: suffixed
    want = syn.loc[got["target_id"], "pre_pt_position_x"].tolist()
    assert got["pre_pt_position_x"].tolist() == want  # only in the target: as it is


def test_live_query_answers_the_newest_version_at_or_before_its_moment(mat, client, story):
    _, v1, v2 = story
    m = mat.materialize
    t1, t2 = (parse_moment(v["timestamp"]).replace(tzinfo=UTC) for v in (v1, v2))
    between = t1 + (t2 - t1) / 2
    got = m.live_query("syn", between, split_positions=True)
    assert got["id"].tolist() == _ours(client, "syn", 1)["id"].tolist()
    assert got.attrs["live_query"] is True
    exact = m.live_query("syn", t2, split_positions=True, filter_equal_dict={"size": 122.0})
    assert exact["id"].tolist() == _ours(client, "syn", 2, filters={"size": 122.0})["id"].tolist()
    via_timestamp = m.query_table("syn", timestamp=t2 + timedelta(seconds=1), split_positions=True)
    assert via_timestamp["id"].tolist() == _ours(client, "syn", 2)["id"].tolist()
    with pytest.raises(ValueError, match="not recent enough"):
        m.live_query("syn", t1 - timedelta(days=1))


def test_bad_requests_are_a_4xx_with_one_sentence(mat, client, story):
    m = mat.materialize
    with pytest.raises(requests.HTTPError, match="has no version 9"):
        m.query_table("syn", materialization_version=9)
    with pytest.raises(requests.HTTPError, match=r"has no column .*colour"):
        m.query_table("syn", materialization_version=1, filter_equal_dict={"colour": "red"})
    with pytest.raises(requests.HTTPError, match="must have each minimum below its maximum"):
        m.query_table(
            "syn",
            materialization_version=1,
            filter_spatial_dict={"pre_pt_position": [[5, 5, 5], [1, 1, 1]]},
        )
