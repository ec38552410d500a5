"""Tables page: list, filters, one table's metadata, notice, rows and 3D view."""

from __future__ import annotations

import json

import pytest

from tests.conftest import synapse

from .conftest import alerts, open_page, rerun, texts

SCARY = "<script>alert('x')</script> **not bold** [link](http://x.org) :red[no] $x$"


@pytest.fixture
def two_tables(client):
    client.create_table(
        "cells",
        "cell_type_local",
        SCARY,
        [4, 4, 40],
        notice_text="Being proofread: do not use before June.",
    )
    client.post_annotation(
        "cells",
        [
            {
                "pt": {"position": [i, 2 * i, 3]},
                "classification_system": "classical",
                "cell_type": "basket" if i % 2 else "pyramidal",
            }
            for i in range(30)
        ],
    )
    client.create_table("syn", "synapse", "Synapses [pytest]", [8, 8, 40])
    client.post_annotation("syn", [synapse(i) for i in range(5)])
    return client


def _deck(app) -> dict:
    charts = app.get("deck_gl_json_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.json)


def test_every_table_is_listed_with_counts_and_permissions(app, two_tables):
    rerun(app)
    listing = app.dataframe[0].value
    assert listing["table"].tolist() == ["cells", "syn"]
    assert listing["schema"].tolist() == ["cell_type_local", "synapse"]
    assert listing["owner"].tolist() == ["admin", "admin"]
    assert listing["live rows"].tolist() == [30, 5]
    assert listing["read"].tolist() == ["PUBLIC", "PUBLIC"]
    assert listing["write"].tolist() == ["PRIVATE", "PRIVATE"]
    assert listing["notice"].tolist()[0] == "Being proofread: do not use before June."
    assert "2 of 2 tables" in app.caption[0].value


def test_filter_by_text_and_schema(app, two_tables):
    rerun(app)
    app.text_input(key="tables_filter").input("proofread").run()
    assert app.dataframe[0].value["table"].tolist() == ["cells"]
    app.text_input(key="tables_filter").input("").run()
    app.multiselect(key="tables_schemas").select("synapse").run()
    assert app.dataframe[0].value["table"].tolist() == ["syn"]
    assert app.selectbox(key="tables_pick").options == ["syn"]
    app.text_input(key="tables_filter").input("nothing like this").run()
    assert alerts(app, "info") == ["No table matches the filter; clear it to see all tables."]


def test_selected_table_shows_metadata_notice_rows_and_points(app, two_tables):
    rerun(app)
    assert app.selectbox(key="tables_pick").value == "cells"
    assert app.header[0].value == "cells"
    assert [w.value for w in app.warning] == ["Notice from the table's owner"]
    shown = texts(app)
    assert "Being proofread: do not use before June." in shown
    assert SCARY in shown  # the description exactly as typed, as plain text
    assert not any("<script>" in m.value for m in app.markdown)
    assert "cell_type_local" in shown and "30" in shown
    sample = app.dataframe[1].value
    assert len(sample) == 20 and {"id", "cell_type", "pt_position_x"} <= set(sample.columns)
    spec = _deck(app)
    assert spec["views"][0]["@@type"] == "OrbitView"
    assert "mapStyle" not in spec
    points = [p for layer in spec["layers"] if layer["id"] == "points-0" for p in layer["data"]]
    assert len(points) == 30
    assert any("30 of 30 points drawn" in c.value for c in app.caption)


def test_colour_by_a_column_shows_a_legend(app, two_tables):
    rerun(app)
    app.selectbox(key="tables_color").select("cell_type").run()
    (legend,) = [d.value for d in app.dataframe if list(d.value.columns)[:2] == ["colour", "value"]]
    assert legend["value"].tolist() == ["pyramidal", "basket"]
    assert legend["rows"].tolist() == [15, 15]
    ids = [layer["id"] for layer in _deck(app)["layers"]]
    assert ids == ["bounds", "axis-ticks", "axis-labels", "points-0", "points-1"]


def test_table_with_several_points_offers_a_choice(app, two_tables):
    rerun(app)
    app.selectbox(key="tables_pick").select("syn").run()
    assert app.selectbox(key="tables_point").options == [
        "ctr_pt_position",
        "post_pt_position",
        "pre_pt_position",
    ]
    app.selectbox(key="tables_point").select("pre_pt_position").run()
    points = [
        p for layer in _deck(app)["layers"] if layer["id"] == "points-0" for p in layer["data"]
    ]
    assert len(points) == 5


def test_reference_table_says_it_has_no_positions(app, two_tables):
    two_tables.create_table(
        "ref", "cell_type_reference", "refs [pytest]", [1, 1, 1], reference_table="cells"
    )
    two_tables.post_annotation(
        "ref", [{"target_id": 1, "classification_system": "c", "cell_type": "x"}]
    )
    rerun(app)
    app.selectbox(key="tables_pick").select("ref").run()
    assert alerts(app, "info") == [
        "Rows of schema 'cell_type_reference' have no positions: each one annotates a row "
        "of table 'cells'."
    ]
    assert not app.get("deck_gl_json_chart")


def test_empty_table_says_so(app, client):
    client.create_table("empty", "bound_tag", "nothing yet [pytest]", [4, 4, 40])
    rerun(app)
    assert alerts(app, "info") == ["This table has no annotations yet."]


def test_unreadable_table_is_listed_but_its_rows_are_not_shown(app, make_client):
    owner = make_client()
    owner.backend.users.add("alice")
    alice = make_client(user="alice")
    alice.create_table(
        "secret", "bound_tag", "private tags [pytest]", [4, 4, 40], read_permission="PRIVATE"
    )
    alice.post_annotation("secret", [{"pt": {"position": [1, 2, 3]}, "tag": "t"}])
    owner.backend.users.add("bob")
    rerun(app)
    app.sidebar.selectbox(key="sb_user").select("bob").run()
    listing = app.dataframe[0].value
    assert listing["live rows"].isna().tolist() == [True]
    assert app.caption[0].value.endswith("Empty row counts: you may not read that table.")
    assert alerts(app, "info")[0].startswith(
        "You may not read this table's rows: its read permission is PRIVATE"
    )
    assert not app.get("deck_gl_json_chart")
    assert not app.get("page_link")  # bob may not edit alice's metadata: no link offered


def test_opening_a_table_is_remembered_by_the_metadata_page(app, two_tables):
    rerun(app)
    app.selectbox(key="tables_pick").select("syn").run()
    open_page(app, "metadata")
    assert app.selectbox(key="md_pick").value == "syn"


def test_reruns_send_the_same_deck(app, two_tables):
    rerun(app)
    first = app.get("deck_gl_json_chart")[0].proto.json
    app.text_input(key="tables_filter").input("cell").run()  # an unrelated rerun
    assert app.get("deck_gl_json_chart")[0].proto.json == first
    two_tables.post_annotation(
        "cells", [{"pt": {"position": [5, 5, 5]}, "classification_system": "c", "cell_type": "new"}]
    )
    rerun(app)  # the table changed: the cached deck is rebuilt
    assert app.get("deck_gl_json_chart")[0].proto.json != first
    assert any("31 of 31 points drawn" in c.value for c in app.caption)
