"""Neuroglancer through the Backend contract, on every backend: grants for readers only,
the info of a table or a filtered view, the volume's layers (set by admins), and the round
trip table -> state -> import into a new table -> the same rows."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from anno_core import client_neuroglancer
from anno_core.errors import InvalidArgument, PermissionDenied
from tests.conftest import synapse


def _rows(client, table: str):
    frame = client.query_annotations(table, limit=10_000)
    return frame.drop(columns=["id", "created", "created_by"]).reset_index(drop=True)


def test_grant_and_info_of_a_table_and_a_filtered_view(client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    client.post_annotation(
        "cells",
        [
            {"pt": {"position": [i, 2 * i, 3]}, "cell_type": t, "classification_system": "x"}
            for i, t in enumerate(["basket", "pyr", "pyr", "chandelier"])
        ],
    )
    vol = client.aligned_volume_name
    src = client.backend.neuroglancer_source(vol, "cells")
    assert src["geometries"] == ["points"] and "." in src["grant"] and src["expires"]
    info = client.backend.neuroglancer_info(vol, "cells")
    assert info["annotation_type"] == "POINT" and info["dimensions"]["z"] == [4e-8, "m"]
    (ct,) = [p for p in info["properties"] if p["id"] == "cell_type"]
    assert ct["enum_labels"] == ["", "basket", "chandelier", "pyr"]
    assert info["extent"] == {"lower": [0.0, 0.0, 3.0], "upper": [3.0, 6.0, 3.0]}
    narrow = client.backend.neuroglancer_info(vol, "cells", {"cell_type": "pyr"})
    assert narrow["extent"] == {"lower": [1.0, 2.0, 3.0], "upper": [2.0, 4.0, 3.0]}
    with pytest.raises(InvalidArgument, match="no column 'colour'"):
        client.backend.neuroglancer_source(vol, "cells", {"colour": "red"})
    legend = client.neuroglancer_legend("cells", "cell_type")
    assert [v for v, _ in legend.entries] == ["basket", "chandelier", "pyr", "(other values)"]
    with pytest.raises(InvalidArgument, match="text or true/false field"):
        client.neuroglancer_legend("cells", "pt_position")


def test_only_readers_get_a_grant(make_client, people):
    owner = make_client(user=people["owner"])
    owner.create_table("t", "synapse", "private [pytest]", [4, 4, 40], read_permission="PRIVATE")
    owner.post_annotation("t", [synapse()])
    stranger = make_client(user=people["stranger"])
    with pytest.raises(PermissionDenied):
        stranger.backend.neuroglancer_source(stranger.aligned_volume_name, "t")
    with pytest.raises(PermissionDenied):
        stranger.neuroglancer_state("t", inline=True)
    assert owner.backend.neuroglancer_source(owner.aligned_volume_name, "t")["grant"]


def test_the_volume_layers_are_set_by_admins(make_client, people):
    admin = make_client(user=people["admin"])
    assert admin.get_volume_sources() == {"image_source": None, "segmentation_source": None}
    got = admin.set_volume_sources("precomputed://https://example.org/em", None)
    assert got["image_source"] == "precomputed://https://example.org/em"
    member = make_client(user=people["member"])
    assert member.get_volume_sources()["image_source"] == "precomputed://https://example.org/em"
    with pytest.raises(PermissionDenied, match="only admins"):
        member.set_volume_sources(None, None)
    with pytest.raises(InvalidArgument, match="one Neuroglancer data source URL"):
        admin.set_volume_sources("not a url", None)
    admin.set_volume_sources("", "precomputed://https://example.org/seg")
    assert admin.get_volume_sources() == {
        "image_source": None,
        "segmentation_source": "precomputed://https://example.org/seg",
    }
    admin.create_table("t", "bound_tag", "tags [pytest]", [1, 1, 1])
    admin.post_annotation("t", [{"pt": {"position": [1, 2, 3]}, "tag": "a"}])
    state = admin.neuroglancer_state("t")
    kinds = [(lyr["type"], lyr["name"]) for lyr in state["layers"]]
    assert kinds == [("segmentation", "segmentation"), ("annotation", "t")]


def test_round_trip_table_state_import_gives_the_same_rows(client):
    client.create_table("syn", "synapse", "synapses [pytest]", [4, 4, 40])
    records = [synapse(i, size=None if i % 4 == 0 else 100.25 + i) for i in range(40)]
    records[3]["pre_pt"] = {"position": [123456.75, 98765.5, 4321]}
    client.post_annotation("syn", records)
    state = client.neuroglancer_state("syn", inline=True)
    kinds = [lyr["name"] for lyr in state["layers"]]
    assert kinds == ["syn", "syn centres"]
    client.create_table("copy", "synapse", "the copy [pytest]", [4, 4, 40])
    link = "https://neuroglancer.example/#!" + quote(json.dumps(state))
    plan = client.open_upload("copy", link)
    assert plan.mapping.fields["pre_pt_position"] == ("pointA_x", "pointA_y", "pointA_z")
    assert plan.mapping.fields["post_pt_position"] == ("pointB_x", "pointB_y", "pointB_z")
    assert plan.check().ok
    plan.commit()
    assert _rows(client, "copy").equals(_rows(client, "syn"))  # points, fields, positions


def test_round_trip_keeps_text_and_true_false_fields(client):
    client.create_table("p", "proofreading_boolstatus_user", "status [pytest]", [8, 8, 40])
    client.post_annotation(
        "p",
        [
            {"pt": {"position": [i, i + 0.5, 7]}, "proofread": i % 2 == 0, "valid_id": 10 + i}
            for i in range(12)
        ],
    )
    client.create_table("t", "bound_double_tag", "tags [pytest]", [8, 8, 40])
    client.post_annotation(
        "t",
        [{"pt": {"position": [i, 1, 2]}, "tag": f"t{i % 3}", "tag2": "é ü"} for i in range(9)],
    )
    for table in ("p", "t"):
        state = client.neuroglancer_state(table, inline=True)
        client.create_table(
            table + "2",
            client.get_table_metadata(table)["schema_type"],
            "copy [pytest]",
            [8, 8, 40],
        )
        plan = client.open_upload(table + "2", state)
        assert plan.check().ok
        plan.commit()
        assert _rows(client, table + "2").equals(_rows(client, table))


def test_a_shared_link_holds_the_rows_or_says_why_others_cannot_see_them(client, monkeypatch):
    client.create_table("tags", "bound_tag", "tags [pytest]", [1, 1, 1])
    client.post_annotation("tags", [{"pt": {"position": [i, i, i]}, "tag": "a"} for i in range(5)])
    small = client.neuroglancer_link("tags", share=True)
    assert small.inline and small.note is None
    assert small.url.startswith(client.settings.neuroglancer_url + "#!")
    monkeypatch.setattr(client_neuroglancer, "MAX_INLINE", 3)
    big = client.neuroglancer_link("tags", share=True)
    assert not big.inline and "only this computer can reach" in big.note
    assert "until" in big.note and big.expires
    with pytest.raises(InvalidArgument, match="more than 3 rows"):
        client.neuroglancer_state("tags", inline=True)
