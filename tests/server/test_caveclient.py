"""Conformance: the unmodified caveclient 8.2.1 drives our server through every seed method.

``CAVEclient(datastack, server_address=..., auth_token=...)`` finds the annotation server
through our info route, reads schemas from our schema routes, and then calls the
AnnotationEngine v2 routes exactly as it would call a real CAVE deployment. Everything it
writes is read back, by caveclient and by our own remote client.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import requests
from caveclient import CAVEclient

from tests.conftest import synapse


@pytest.fixture
def cave(server, volume, caveclient_home):
    """caveclient's client.annotation for datastack ``volume`` of our server, as admin."""
    return CAVEclient(
        volume, server_address=server.url, auth_token=server.tokens["admin"]
    ).annotation


def test_the_datastack_leads_caveclient_to_our_server(server, volume, caveclient_home):
    client = CAVEclient(volume, server_address=server.url, auth_token=server.tokens["admin"])
    assert client.info.local_server() == server.url
    assert client.annotation.aligned_volume_name == volume
    assert client.annotation.get_tables() == []
    assert client.annotation.server_version is None  # caveclient never asks the engine
    assert "synapse" in client.schema.get_schemas()


def test_tables_and_metadata(cave, server, make_client):
    admin_id = make_client().whoami()["id"]
    # caveclient sends user_id as an int and track_target_id_updates as null.
    cave.create_table(
        "syn",
        "synapse",
        "Manual synapses [pytest]",
        [4, 4, 40],
        user_id=admin_id,
        notice_text="careful",
    )
    cave.create_table(
        "types", "cell_type_reference", "types of syn rows", [4, 4, 40], reference_table="syn"
    )
    assert cave.get_tables() == ["syn", "types"]
    meta = cave.get_table_metadata("syn")
    assert meta["voxel_resolution"] == [4.0, 4.0, 40.0]
    assert meta["schema_type"] == "synapse" and meta["user_id"] == str(admin_id)
    assert meta["notice_text"] == "careful"
    assert cave.get_table_metadata("types")["reference_table"] == "syn"
    cave.update_metadata(
        "syn", description="new words", read_permission="GROUP", notice_text="none"
    )
    meta = cave.get_table_metadata("syn")
    assert meta["description"] == "new words" and meta["read_permission"] == "GROUP"
    assert meta["notice_text"] is None
    mia = next(u["id"] for u in make_client().list_users() if u["name"] == "mia")
    cave.update_metadata("types", user_id=mia)  # an int, as caveclient sends it
    assert cave.get_table_metadata("types")["user_id"] == str(mia)
    assert cave.delete_table("types") is True
    assert cave.get_tables() == ["syn"]


def test_annotations_round_trip(cave, make_client):
    cave.create_table("syn", "synapse", "d", [4, 4, 40])
    ids = cave.post_annotation("syn", [synapse(i) for i in range(3)])
    assert ids == [1, 2, 3]
    rows = cave.get_annotation("syn", ids)
    assert [r["pre_pt_position"] for r in rows] == [[10, 20, 30], [11, 20, 30], [12, 20, 30]]
    assert rows[0]["ctr_pt_position"] == [10.5, 20.5, 30] and rows[0]["valid"] is True
    assert cave.get_annotation_count("syn") == 3
    new = cave.update_annotation("syn", {"id": ids[0], "size": 5.0})
    assert new == {"1": 4}  # JSON object keys are strings, as from a real server
    assert cave.delete_annotation("syn", [ids[1]]) == [ids[1]]
    old, gone, fresh = cave.get_annotation("syn", [1, 2, 4])
    assert old["superceded_id"] == 4 and old["valid"] is False
    assert gone["valid"] is False and gone["deleted"] is not None
    assert fresh["size"] == 5.0 and fresh["pre_pt_position"] == [10, 20, 30]
    ours = make_client()
    assert ours.get_live_count("syn") == 2 and ours.get_annotation_count("syn") == 4


def test_dataframe_methods(cave, make_client):
    cave.create_table("cells", "cell_type_local", "d", [4, 4, 40])
    df = pd.DataFrame(
        {
            "pt_position": [[1, 2, 3], [4, 5, 6]],
            "classification_system": ["valence", "valence"],
            "cell_type": ["e", "i"],
        }
    )
    records = cave.process_position_columns(df, None)
    assert records[0]["pt"] == {"position": [1, 2, 3]}
    ids = cave.post_annotation_df("cells", df, None)
    assert len(ids) == 2
    upd = pd.DataFrame(
        {
            "id": ids,
            "pt_position": [[7, 8, 9], [4, 5, 6]],
            "classification_system": ["valence"] * 2,
            "cell_type": ["i", "e"],
        }
    )
    mapping = cave.update_annotation_df("cells", upd, None)
    assert set(mapping) == {str(i) for i in ids}
    rows = make_client().get_annotation("cells", list(mapping.values()))
    assert [r["cell_type"] for r in rows] == ["i", "e"]
    assert rows[0]["pt_position"] == [7, 8, 9]


def test_staged_annotations_upload_and_update(cave, make_client):
    cave.create_table("syn", "synapse", "d", [4, 4, 40])
    staged = cave.stage_annotations("syn", annotation_resolution=[1, 1, 1])
    n = 12_345  # more than one of caveclient's 10,000-row batches
    rng = np.random.default_rng(3)
    pts = rng.integers(0, 4000, size=(n, 3)) * np.array([4, 4, 40])
    staged.add_dataframe(
        pd.DataFrame(
            {
                "pre_pt_position": list(pts),
                "post_pt_position": list(pts + 8),
                "ctr_pt_position": list(pts + 4),
                "size": np.arange(n, dtype=float),
            }
        )
    )
    ids = cave.upload_staged_annotations(staged, progress=False)
    assert len(ids) == n and len(set(ids)) == n
    assert cave.get_annotation_count("syn") == n
    ours = make_client()
    rows = ours.get_annotation("syn", [ids[0], ids[-1]])
    # annotation_resolution [1, 1, 1] (nm) scaled to the table's [4, 4, 40] voxels.
    assert rows[0]["pre_pt_position"] == (pts[0] / [4, 4, 40]).tolist()
    assert rows[1]["size"] == n - 1
    update = cave.stage_annotations("syn", update=True)
    update.add(
        id=ids[0],
        pre_pt_position=[1, 2, 3],
        post_pt_position=[1, 2, 4],
        ctr_pt_position=[1, 2, 3],
        size=-1.0,
    )
    mapping = cave.upload_staged_annotations(update, progress=False)
    [(old, new)] = mapping.items()
    assert int(old) == ids[0]
    assert ours.get_annotation("syn", new)[0]["size"] == -1.0
    assert ours.get_live_count("syn") == n


def test_caveclient_sees_our_refusals_as_http_errors(cave):
    cave.create_table("syn", "synapse", "d", [4, 4, 40])
    with pytest.raises(requests.HTTPError, match="already exists") as err:
        cave.create_table("syn", "synapse", "d", [4, 4, 40])
    assert err.value.response.status_code == 409
    with pytest.raises(requests.HTTPError, match="exactly 3 numbers") as err:
        cave.post_annotation("syn", [synapse(pre_pt={"position": [1, 2]})])
    assert err.value.response.status_code == 422
    assert err.value.response.json()["report"]["problems"][0]["column"] == "pre_pt_position"
    with pytest.raises(requests.HTTPError) as err:
        cave.get_annotation_count("nope")
    assert err.value.response.status_code == 404
    # raise_for_status (a seed static method) works on our responses.
    r = requests.get(err.value.response.url)
    with pytest.raises(requests.HTTPError, match="401"):
        cave.raise_for_status(r)
