"""Neuroglancer on the pages (AppTest, so the dashboard's own host runs in this process and
its answers can be fetched): the Tables page's link opens the table, the Edit page's the
filtered view, the Upload page reads a pasted state like a CSV and shows a file's points
with its problem rows, and admins set the volume's layers on the Metadata page."""

from __future__ import annotations

import json
import re
import struct
from html import unescape
from urllib.parse import unquote

import requests
from streamlit.testing.v1 import AppTest

from tests.conftest import synapse
from ui import upload_jobs as uj

from .conftest import ROOT, alerts, open_page, rerun


def _links(app: AppTest) -> dict[str, str]:
    return {b.proto.label: b.proto.url for b in app.get("link_button")}


def _follow(url: str) -> dict:
    """The state an open page (or a viewer address) shows."""
    if "/neuroglancer/open/" in url:
        page = requests.get(url, timeout=60)
        assert page.status_code == 200
        url = unescape(re.search(r'content="0; url=([^"]+)"', page.text).group(1))
    return json.loads(unquote(url.split("#!", 1)[1]))


def _annotation_layers(state: dict) -> list[dict]:
    return [lyr for lyr in state["layers"] if lyr["type"] == "annotation"]


def _source_ids(source: str) -> list[int]:
    """Every id a precomputed source serves (all levels, all cells)."""
    base = source.removeprefix("precomputed://")
    info = requests.get(base + "/info", timeout=60).json()
    ids: list[int] = []
    for spatial in info["spatial"]:
        for cell in _cells(spatial["grid_shape"]):
            raw = requests.get(f"{base}/{spatial['key']}/{cell}", timeout=60).content
            (n,) = struct.unpack_from("<Q", raw)
            ids += list(struct.unpack_from(f"<{n}Q", raw, len(raw) - 8 * n))
    return ids


def _cells(shape: list[int]) -> list[str]:
    import itertools

    return ["_".join(map(str, c)) for c in itertools.product(*(range(s) for s in shape))]


def test_the_tables_page_links_to_the_table_in_the_viewer(app, client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    client.post_annotation(
        "cells",
        [
            {"pt": {"position": [i, i, 1]}, "cell_type": t, "classification_system": "x"}
            for i, t in enumerate(["basket", "pyr", "pyr"])
        ],
    )
    rerun(app)
    app.selectbox(key="ng_table_colour").select("cell_type").run()
    url = _links(app)["Open in Neuroglancer"]
    assert url.startswith("http://127.0.0.1:") and url.endswith("?color_by=cell_type")
    state = _follow(url)
    (layer,) = _annotation_layers(state)
    assert sorted(_source_ids(layer["source"])) == [1, 2, 3]
    legend = [d.value for d in app.dataframe if list(d.value.columns) == ["colour", "value"]]
    assert legend[0]["value"].tolist() == ["basket", "pyr", "(other values)"]
    app.button(key="ng_table_share").click().run()
    shared = app.get("code")[0].value
    assert shared.startswith("https://neuroglancer-demo.appspot.com/#!")
    assert len(_annotation_layers(_follow(shared))[0]["annotations"]) == 3  # inline


def test_the_tables_page_opens_the_table_at_the_picked_version(app, client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    client.post_annotation(
        "cells",
        [
            {"pt": {"position": [i, i, 1]}, "cell_type": t, "classification_system": "x"}
            for i, t in enumerate(["basket", "pyr", "pyr"])
        ],
    )
    made = client.create_version("v1", "three cells")
    client.delete_annotation("cells", [2])
    client.post_annotation(
        "cells", [{"pt": {"position": [9, 9, 1]}, "cell_type": "x", "classification_system": "x"}]
    )
    rerun(app)
    live = _annotation_layers(_follow(_links(app)["Open in Neuroglancer"]))
    assert [lyr["name"] for lyr in live] == ["cells"]
    assert sorted(_source_ids(live[0]["source"])) == [1, 3, 4]
    app.radio(key="tables_moment_kind").set_value("A version").run()
    app.selectbox(key="tables_moment_version").set_value("v1").run()
    assert any("showing the table at version v1" in c for c in app.caption.values)
    (layer,) = _annotation_layers(_follow(_links(app)["Open in Neuroglancer"]))
    when = made["timestamp"][:16].replace("T", " ")
    assert layer["name"].startswith(f"cells at version v1 ({when}")
    assert sorted(_source_ids(layer["source"])) == [1, 2, 3]  # what the page shows
    app.button(key="ng_table_share").click().run()
    shared = _annotation_layers(_follow(app.get("code")[0].value))
    assert shared[0]["name"] == layer["name"] and len(shared[0]["annotations"]) == 3


def test_the_edit_page_opens_the_rows_its_filters_select(app, client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [1, 1, 1])
    client.post_annotation(
        "tags",
        [{"pt": {"position": [i, i, i]}, "tag": "bask" if i % 2 else "pyr"} for i in range(10)],
    )
    open_page(app, "edit")
    app.selectbox(key="ed_f_col").select("tag")
    app.text_input(key="ed_f_value").input("bask")
    app.button[0].click().run()
    state = _follow(_links(app)["Open in Neuroglancer"])
    (layer,) = _annotation_layers(state)
    assert layer["name"] == "tags (filtered)"
    assert sorted(_source_ids(layer["source"])) == [2, 4, 6, 8, 10]


def test_a_pasted_state_is_read_checked_and_uploaded_like_a_csv(app, client):
    uj.jobs.clear()
    client.create_table("src", "synapse", "from [pytest]", [4, 4, 40])
    client.post_annotation("src", [synapse(i) for i in range(12)])
    client.create_table("syn", "synapse", "to [pytest]", [4, 4, 40])
    state = client.neuroglancer_state("src", inline=True)
    open_page(app, "upload")
    app.selectbox(key="up_table").select("syn").run()
    app.text_area(key="up_ng_text").input(json.dumps(state)).run()
    app.button(key="up_ng_use").click().run()
    rerun(app)
    assert any("12 annotations and" in c.value for c in app.caption)
    layer = app.selectbox(key=[s.key for s in app.selectbox if s.key.startswith("up_ng_layer")][0])
    assert layer.options == ["src", "src centres"] and layer.value == "src"
    assert [s.value for s in app.success][0].startswith("All 12 rows are valid")
    app.button(key="up_submit").click().run()
    for _ in range(200):
        rerun(app)
        if "up_another" in [b.key for b in app.button]:
            break
    assert client.get_annotation_count("syn") == 12
    got = client.query_annotations("syn")[["pre_pt_position_x", "size"]]
    want = client.query_annotations("src")[["pre_pt_position_x", "size"]]
    assert got.equals(want)
    uj.jobs.clear()


def test_a_files_points_open_with_its_problem_rows_marked(app, client):
    client.create_table("syn", "synapse", "synapses [pytest]", [4, 4, 40])
    open_page(app, "upload")
    raw = (ROOT / "examples" / "synapses_broken.csv").read_bytes()
    app.get("file_uploader")[0].set_value(("synapses_broken.csv", raw, "text/csv"))
    rerun(app)
    app.button(key="up_ng_open").click().run()
    state = _follow(_links(app)["Open the viewer in a new tab"])
    layers = _annotation_layers(state)
    assert [lyr["name"] for lyr in layers][-2:] == [
        "synapses_broken.csv (not uploaded)",
        "synapses_broken.csv (not uploaded) centres",
    ]
    base = layers[-2]["source"].removeprefix("precomputed://")
    info = requests.get(base + "/info", timeout=60).json()
    problem = [p for p in info["properties"] if p["id"] == "problem"][0]
    assert problem["enum_labels"] == ["", "ok", "has a problem"]
    assert "c_problem" in layers[-2]["shader"]
    ids = _source_ids(layers[-2]["source"])
    assert 4 not in ids and 8 not in ids  # a missing or two-number end cannot be drawn
    assert {2, 6, 10, 12} <= set(ids)  # lines with other problems are drawn (in red)


def test_admins_set_the_volume_layers_on_the_metadata_page(app, client, make_client):
    client.create_table("t", "bound_tag", "tags [pytest]", [1, 1, 1])
    open_page(app, "metadata")
    app.text_input(key="ng_layers_local_image").input("precomputed://https://example.org/em").run()
    app.button(key="ng_layers_save").click().run()
    rerun(app)
    assert client.get_volume_sources()["image_source"] == "precomputed://https://example.org/em"
    app.text_input(key="ng_layers_local_seg").input("not a url").run()
    app.button(key="ng_layers_save").click().run()
    assert any("one Neuroglancer data source URL" in a for a in alerts(app))
    assert client.get_volume_sources()["segmentation_source"] is None
    client.backend.users.add("bob")
    make_client(user="bob").create_table("b", "bound_tag", "bob's [pytest]", [1, 1, 1])
    rerun(app)
    app.sidebar.selectbox(key="sb_user").select("bob").run()
    open_page(app, "metadata")
    app.selectbox(key="md_pick").select("b").run()
    image = app.text_input(key="ng_layers_local_image")
    assert image.disabled and image.value == "precomputed://https://example.org/em"
    assert "ng_layers_save" not in [b.key for b in app.button]
    assert "Only admins can change them." in [c.value for c in app.caption]
