"""Create table page: schema fields, template, name check, confirmation, creation."""

from __future__ import annotations

import pandas as pd
from streamlit.runtime.memory_media_file_storage import _calculate_file_id

from anno_core.ingest.templates import csv_template

from .conftest import alerts, open_page, texts, unescape


def _fill(app, schema="cell_type_local", name="my_cells", description="Cells [pytest]"):
    app.selectbox(key="ct_schema").select(schema).run()
    app.text_input(key="ct_name").input(name).run()
    app.text_area(key="ct_description").input(description).run()
    return app


def test_schema_fields_and_csv_template(app):
    open_page(app, "create_table")
    assert alerts(app, "info")[0].startswith("Choose a schema to see its fields")
    assert not app.get("download_button")
    app.selectbox(key="ct_schema").select("cell_type_local").run()
    fields = app.dataframe[0].value
    assert fields["field"].tolist() == ["cell_type", "classification_system", "pt_position"]
    assert fields["type"].tolist()[2] == "position [x, y, z]"
    assert fields["required"].tolist() == [True, True, True]
    assert fields["description"].tolist()[0] == "Cell type name"
    button = app.get("download_button")[0].proto
    assert button.label == "Download CSV template"
    # the file served is exactly anno_core's template (its id is a hash of the bytes)
    data = csv_template("cell_type_local").encode()
    assert _calculate_file_id(data, "text/csv", "cell_type_local_template.csv") in button.url


def test_name_is_checked_live(app, client):
    client.create_table("taken", "bound_tag", "tags [pytest]", [4, 4, 40])
    open_page(app, "create_table")
    app.selectbox(key="ct_schema").select("bound_tag").run()
    app.text_input(key="ct_name").input("Bad Name").run()
    assert alerts(app)[0].startswith("The table name 'Bad Name' is not allowed")
    app.text_input(key="ct_name").input("taken").run()
    assert alerts(app) == ["A table called 'taken' already exists in 'local'; choose another name."]
    app.text_input(key="ct_name").input("free_name").run()
    assert not app.error
    assert any(unescape(c.value).endswith("'free_name' is free.") for c in app.caption)


def test_missing_description_is_refused_with_the_hint(app, client):
    open_page(app, "create_table")
    _fill(app, description="")
    app.button(key="ct_review_button").click().run()
    assert alerts(app)[0].startswith("Write a description: Who made it, what it covers")
    assert not app.get("ct_confirm") and client.get_tables() == []


def test_resolution_presets_and_custom_with_a_sentence(app):
    open_page(app, "create_table")
    _fill(app)
    assert (
        "One unit is 4 nm in x, 4 nm in y and 40 nm in z: a point at [100, 100, 10] "
        "lies at 400, 400 and 400 nm."
    ) in [c.value for c in app.caption]
    app.radio(key="ct_res_preset").set_value("1, 1, 1 nm").run()
    assert "Positions are in nanometres: [100, 100, 10] is 100, 100 and 10 nm." in [
        c.value for c in app.caption
    ]
    app.radio(key="ct_res_preset").set_value("custom").run()
    app.number_input(key="ct_res_x").set_value(4.3).run()
    app.number_input(key="ct_res_y").set_value(4.3).run()
    app.number_input(key="ct_res_z").set_value(45).run()
    assert any(
        c.value.startswith("One unit is 4.3 nm in x, 4.3 nm in y and 45 nm in z")
        for c in app.caption
    )


def test_confirmation_spells_out_what_never_changes_then_creates(app, client):
    open_page(app, "create_table")
    _fill(app, description="<script>x</script> **made by me**")
    app.radio(key="ct_res_preset").set_value("8, 8, 40 nm").run()
    app.radio(key="ct_read").set_value("GROUP").run()
    app.radio(key="ct_write").set_value("PUBLIC").run()
    app.text_area(key="ct_notice").input("Draft").run()
    app.text_input(key="ct_flat").input("precomputed://gs://seg").run()
    app.button(key="ct_review_button").click().run()
    assert client.get_tables() == []  # nothing before the confirmation
    shown = "\n".join(texts(app))
    assert "Name: my_cells\nSchema: cell_type_local\nVoxel resolution: 8, 8, 40 nm" in shown
    assert "Who can write: PUBLIC: everyone can write" in shown
    assert any("These can never change" in m.value for m in app.markdown)
    app.button(key="ct_create").click().run()
    assert client.get_tables() == ["my_cells"]
    meta = client.get_table_metadata("my_cells")
    assert meta["schema_type"] == "cell_type_local"
    assert meta["description"] == "<script>x</script> **made by me**"
    assert [meta[f"voxel_resolution_{a}"] for a in "xyz"] == [8, 8, 40]
    assert (meta["read_permission"], meta["write_permission"]) == ("GROUP", "PUBLIC")
    assert meta["notice_text"] == "Draft"
    assert meta["flat_segmentation_source"] == "precomputed://gs://seg"
    # back on the Tables page with the new table open
    assert [t.value for t in app.title] == ["Tables"]
    assert alerts(app, "success") == [
        "Table 'my_cells' created. It is empty: upload rows to fill it."
    ]
    assert app.selectbox(key="tables_pick").value == "my_cells"


def test_changing_something_after_review_asks_for_a_new_review(app, client):
    open_page(app, "create_table")
    _fill(app)
    app.button(key="ct_review_button").click().run()
    assert app.button(key="ct_create")
    app.text_input(key="ct_name").input("other_name").run()
    assert "ct_review" not in app.session_state
    assert [b.key for b in app.button] == ["ct_review_button"]
    app.button(key="ct_review_button").click().run()
    app.button(key="ct_back").click().run()
    assert [b.key for b in app.button] == ["ct_review_button"]
    assert client.get_tables() == []


def test_refusal_from_the_engine_is_a_sentence(app, client):
    open_page(app, "create_table")
    _fill(app, name="late")
    app.button(key="ct_review_button").click().run()
    client.create_table("late", "bound_tag", "someone was faster [pytest]", [4, 4, 40])
    app.button(key="ct_create").click().run()
    assert (
        "A table called 'late' already exists in aligned volume 'local'; choose another name."
    ) in alerts(app)
    assert not app.exception


def test_reference_schema_asks_for_the_reference_table(app, client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    open_page(app, "create_table")
    _fill(app, schema="bound_tag", name="tags")
    assert "ct_reference" not in [s.key for s in app.selectbox]
    _fill(app, schema="cell_type_reference", name="refs")
    assert app.selectbox(key="ct_reference").options == ["cells"]
    app.button(key="ct_review_button").click().run()
    assert alerts(app) == ["Choose the table whose rows these annotate."]
    app.selectbox(key="ct_reference").select("cells").run()
    app.checkbox(key="ct_track").check().run()
    app.button(key="ct_review_button").click().run()
    app.button(key="ct_create").click().run()
    meta = client.get_table_metadata("refs")
    assert meta["reference_table"] == "cells" and meta["track_target_id_updates"] is True


def test_fields_table_is_a_dataframe(app):
    open_page(app, "create_table")
    app.selectbox(key="ct_schema").select("synapse").run()
    fields = app.dataframe[0].value
    assert isinstance(fields, pd.DataFrame)
    assert fields["field"].tolist() == [
        "ctr_pt_position",
        "post_pt_position",
        "pre_pt_position",
        "size",
    ]


def test_a_typed_name_in_a_refusal_cannot_draw_markdown(app):
    """The refusal quotes what was typed; an image or link in it must stay plain text."""
    open_page(app, "create_table")
    app.selectbox(key="ct_schema").select("bound_tag").run()
    typed = "![x](http://example.org/x.png) **bold**"
    app.text_input(key="ct_name").input(typed).run()
    raw = app.error[0].value
    assert "\\!\\[x\\]\\(http" in raw and "\\*\\*bold\\*\\*" in raw
    assert typed in alerts(app)[0]
