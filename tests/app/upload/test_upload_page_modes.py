"""Upload page: update mode, unit mistakes, mappings kept, rights, progress across pages,
spreadsheets' oddities, plain text."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT, alerts, open_page, rerun
from tests.app.upload.support import (
    _box,
    _buttons,
    _drop,
    _example,
    _tables,
    _until_finished,
)
from tests.conftest import synapse


def test_update_mode_previews_changes_and_sends_only_changed_rows(app, cells):
    client, ids = cells
    before = client.get_annotation(  # positions as stored, in the table's voxels
        "cells", ids[:3]
    )
    body = "id,x,y,z,cell_type,classification_system\n" + "".join(
        f"{r['id']},{r['pt_position'][0]:.17g},{r['pt_position'][1]:.17g},"
        f"{r['pt_position'][2]:.17g},{'basket' if i == 1 else 'pyramidal'},classical\n"
        for i, r in enumerate(before)
    )
    open_page(app, "upload")
    _drop(app, "fix.csv", body.encode())
    mode = app.radio[0]
    assert mode.value == "Update the annotations named in the id column"
    assert _box(app, "id").value == "id"
    changes = _tables(app, "line", "id", "field", "old", "new")[0]
    assert changes[["line", "id", "field", "old", "new"]].values.tolist() == [
        [3, ids[1], "cell_type", "pyramidal", "basket"]
    ]
    assert any("2 rows are the same as stored and are not sent" in a for a in alerts(app, "info"))
    assert app.button(key="up_submit").label == "Update 1 annotation in table cells"
    app.button(key="up_submit").click().run()
    _until_finished(app)
    (done,) = alerts(app, "success")
    assert done.startswith("Updated 1 annotation in table 'cells'")
    assert "2 rows were the same as stored and not sent." in done
    rows = _tables(app, "line", "id")[-1]
    assert rows["id"].tolist() == ids[:3]
    assert rows["new_id"].isna().tolist() == [True, False, True]
    assert client.get_live_count("cells") == 30 and client.get_annotation_count("cells") == 31


def test_voxels_read_as_nm_are_named_and_fixed_with_one_click(app, cells):
    open_page(app, "upload")
    _example(app, "cell_types_split_xyz.csv")
    assert not app.warning  # read in the table's voxels, the points land among the others
    app.radio[0].set_value("nm").run()
    (warning,) = [a.value for a in app.warning]
    assert "these look like 4, 4, 40 nm voxels read as nm" in warning
    assert "40x less far in z" in warning
    assert any("x times 0.25, y times 0.25, z times 0.025" in c.value for c in app.caption)
    app.button(key="up_use_unit").click().run()
    assert app.radio[0].value == "same as the table (4, 4, 40 nm)"
    assert not app.warning


def test_a_mapping_is_changed_per_field_and_survives_a_page_switch(app, syn):
    body = 'Pre X,Pre Y,Pre Z,post,centre,Size (nm)\n10,20,3,"[11, 21, 3]","10.5 20.5 3",120\n'
    open_page(app, "upload")
    _drop(app, "renamed.csv", body.encode())
    assert _box(app, "pre_pt_position (required)").value == "(no column)"
    assert not alerts(app)  # a field to map is a step to do, not an error
    assert alerts(app, "info")[-2].startswith(
        "Choose a column of your file for the required fields 'ctr_pt_position', "
        "'post_pt_position', 'pre_pt_position'"
    )
    assert app.button(key="up_submit").disabled
    _box(app, "pre_pt_position (required)").select("Pre X, Pre Y, Pre Z (x, y, z columns)")
    _box(app, "post_pt_position (required)").select("post")
    _box(app, "ctr_pt_position (required)").select("centre")
    _box(app, "size").select("Size (nm)").run()
    assert [s.value for s in app.success][0].startswith("The row is valid")
    open_page(app, "tables")
    open_page(app, "upload")
    assert _box(app, "post_pt_position (required)").value == "post"
    assert _box(app, "size").value == "Size (nm)"
    assert app.button(key="up_submit").label == "Upload 1 row to table syn"
    app.button(key="up_submit").click().run()
    _until_finished(app)
    (row,) = syn.query_annotations("syn")[
        ["pre_pt_position_x", "post_pt_position_y", "size"]
    ].values.tolist()
    assert row == [10, 21, 120]


def test_a_user_who_may_not_write_can_check_but_not_upload(app, syn):
    syn.backend.users.add("bob", [])
    syn.post_annotation("syn", [synapse(i) for i in range(3)])
    rerun(app)
    app.sidebar.selectbox(key="sb_user").select("bob").run()
    open_page(app, "upload")
    _example(app, "synapses_4x4x40.csv")
    assert any("You may not add to table 'syn'" in a for a in alerts(app, "warning"))
    assert app.button(key="up_submit").disabled
    assert syn.get_annotation_count("syn") == 3


def test_the_progress_bar_survives_a_page_switch_and_a_second_tab_cannot_resubmit(app, syn):
    from anno_core.engine import db

    writer = db.WRITE_LOCKS[syn.backend.url]  # another writer holds the table: ours waits
    open_page(app, "upload")
    _example(app, "synapses_4x4x40.csv")
    with writer:
        app.button(key="up_submit").click().run()
        (bar,) = app.main.get("progress")
        assert "Uploading synapses\\_4x4x40\\.csv to table syn" in bar.proto.text
        open_page(app, "tables")  # every page's sidebar shows the upload going on
        (side,) = app.sidebar.get("progress")
        assert "synapses\\_4x4x40\\.csv to table syn" in side.proto.text
        open_page(app, "upload")  # the widgets were dropped; the file and the upload were not
        (bar,) = app.main.get("progress")
        assert "synapses\\_4x4x40\\.csv to table syn" in bar.proto.text
        assert "up_submit" not in _buttons(app)
        other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        other.run()
        open_page(other, "upload")
        _example(other, "synapses_4x4x40.csv")
        assert "up_submit" not in _buttons(other) and len(other.main.get("progress")) == 1
        assert syn.get_annotation_count("syn") == 0
    _until_finished(app)
    assert alerts(app, "success")[0].startswith("Stored 240 new annotations")
    rerun(other)  # it watched the upload run: its end is news there too
    assert alerts(other, "success")[0].startswith("Stored 240 new annotations")
    assert syn.get_annotation_count("syn") == 240


def test_an_excel_export_with_semicolons_and_a_bom_is_read(app, client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    open_page(app, "upload")
    _example(app, "tags_excel_semicolon.csv")
    assert any("read as utf-8-sig with semicolon delimiters" in c.value for c in app.caption)
    assert (
        _box(app, "pt_position (required)").value
        == "Position X, Position Y, Position Z (x, y, z columns)"
    )
    assert _box(app, "tag (required)").value == "Tag"
    assert alerts(app, "success")[0].startswith("All 25 rows are valid")
    app.button(key="up_submit").click().run()
    _until_finished(app)
    tags = client.query_annotations("tags", limit=100)["tag"].tolist()
    assert "Blutgefäß" in tags and "Artefakt; Schnittfehler" in tags and len(tags) == 25


def test_rows_that_annotate_another_table_have_no_points_but_are_checked(app, client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    (tid,) = client.post_annotation("tags", {"pt": {"position": [1, 2, 3]}, "tag": "a"})
    client.create_table(
        "types", "cell_type_reference", "types [pytest]", [4, 4, 40], reference_table="tags"
    )
    open_page(app, "upload")
    app.selectbox(key="up_table").select("types").run()
    _drop(
        app,
        "types.csv",
        f"target_id,classification_system,cell_type\n{tid},classical,"
        "basket\n999,classical,sst\n".encode(),
    )
    problems = _tables(app, "line", "column", "value", "message")[0]
    assert problems[["line", "column", "value"]].values.tolist() == [["3", "target_id", "999"]]
    assert (
        "Rows of this schema have no positions: each one annotates a row of table "
        "'tags'." in alerts(app, "info")
    )
    assert not app.get("deck_gl_json_chart")
    assert app.button(key="up_submit").disabled


def test_a_volume_without_tables_points_to_create_table(app):
    open_page(app, "upload")
    assert alerts(app, "info") == ["No tables in aligned volume 'local' yet: create one."]
    assert [p.proto.page for p in app.get("page_link")] == ["create_table"]


def test_column_names_and_values_from_the_file_stay_plain_text(app, client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    body = (
        "x,y,z,<script>alert(1)</script>,**tag** [link](http://x.org)\n1,2,3,<b>bold</b>,:red[no]\n"
    )
    open_page(app, "upload")
    _drop(app, "<img src=x>.csv", body.encode())
    assert not alerts(app)
    (kept, todo) = alerts(app, "info")
    assert "Choose a column of your file for the required field 'tag'" in todo
    assert "'<script>alert(1)</script>', '**tag** [link](http://x.org)'" in kept  # as typed
    shown = (
        [m.value for m in app.markdown]
        + [e.value for e in app.error]
        + [e.value for e in app.info]
        + [c.value for c in app.caption]
    )
    unescaped = re.compile(r"(?<!\\)<|(?<!\\)\[link")  # what Markdown would act on
    assert [v for v in shown if unescaped.search(v)] == []
    assert any("\\<img src=x\\>" in v for v in shown)  # the file name, escaped
    assert "<script>alert(1)</script>" in _box(app, "tag (required)").options
