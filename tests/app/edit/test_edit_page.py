"""Edit page: browse, filter, edit, delete, confirm, refuse, history, rights.

AppTest cannot type into the data editor's canvas, but a keyed editor takes its edit state
from session state before a run (streamlit 1.67's documented way): ``_edit`` seeds
``{"edited_rows": {row: {column: value}}}`` exactly as the browser sends it, and the page
reads the edited frame back from ``st.data_editor`` as it does in a browser.
"""

from __future__ import annotations

from tests.app.conftest import alerts, open_page, rerun, texts
from tests.app.edit.support import (
    _captions,
    _edit,
    _grid,
    _ids,
    _table_with,
)


def test_pages_through_live_rows_one_page_at_a_time(app, client, cells):
    open_page(app, "edit")
    assert app.selectbox(key="ed_pick").value == "cells"
    assert _ids(app) == list(range(1, 51))
    assert "Rows 1 to 50 of 60 live rows (page 1 of 2)." in _captions(app)
    assert app.button(key="ed_prev").disabled and not app.button(key="ed_next").disabled
    app.button(key="ed_next").click().run()
    assert _ids(app) == list(range(51, 61))
    assert "Rows 51 to 60 of 60 live rows (page 2 of 2)." in _captions(app)
    assert app.button(key="ed_next").disabled
    app.selectbox(key="ed_size").select(25).run()
    assert _ids(app) == list(range(1, 26))  # a new page size starts at page 1
    # only the page on screen was read (one extra row tells whether a next page exists)
    frames = app.session_state["ed_frames"]
    assert [len(f) for f in frames.values()] == [26]


def test_filter_by_column_value_and_remove_it(app, cells):
    open_page(app, "edit")
    app.selectbox(key="ed_f_col").select("cell_type")
    app.text_input(key="ed_f_value").input("bask")
    app.button[0].click().run()  # the form's "Add filter"
    assert _ids(app) == list(range(2, 61, 4))
    assert "Rows 1 to 15 of 15 live rows that match (page 1 of 1)." in _captions(app)
    chip = app.button(key="ed_rm_cell_type")
    assert chip.label == "cell_type contains bask"
    app.selectbox(key="ed_f_col").select("pt_position_x")
    app.text_input(key="ed_f_value").input("105")
    app.button[0].click().run()
    assert _ids(app) == [6]  # both filters apply
    chip.click().run()
    assert _ids(app) == [6]  # x = 105 alone
    app.button(key="ed_rm_pt_position_x").click().run()
    assert len(_ids(app)) == 50


def test_a_filter_value_of_the_wrong_kind_is_a_sentence(app, cells):
    open_page(app, "edit")
    app.selectbox(key="ed_f_col").select("pt_position_x")
    app.text_input(key="ed_f_value").input("12a")
    app.button[0].click().run()
    assert alerts(app) == ["pt_position_x holds a position in voxels, like 120; '12a' is not one."]
    assert len(_ids(app)) == 50  # nothing was filtered


def test_filter_by_ids_and_refuse_what_is_not_an_id(app, cells):
    open_page(app, "edit")
    app.text_input(key="ed_ids").input("3, 5-6 58").run()
    assert _ids(app) == [3, 5, 6, 58]
    app.text_input(key="ed_ids").input("3, five").run()
    assert alerts(app) == ["'five' is not an annotation id: give whole numbers like 12, 40-45."]
    app.text_input(key="ed_ids").input("900").run()
    assert alerts(app, "info")[-1].startswith("No rows match: remove a filter or change the ids.")


def test_deleted_and_superseded_rows_only_with_the_switch(app, client, syn):
    client.delete_annotation("syn", [2])
    new = client.update_annotation("syn", {"id": 3, "size": 7.0})[3]
    open_page(app, "edit")
    assert _ids(app) == [1, 4, 5, new]
    app.toggle(key="ed_all").set_value(True).run()
    grid = _grid(app).value
    assert grid["id"].tolist() == [1, 2, 3, 4, 5, new]
    assert grid["state"].tolist() == [
        "live",
        "deleted",
        f"replaced by {new}",
        "live",
        "live",
        "live",
    ]
    assert grid["created by"].tolist() == ["admin"] * 6
    assert "Rows 1 to 6 of 6 rows (page 1 of 1)." in _captions(app)


def test_edit_a_value_and_a_position_then_confirm(app, client, syn):
    open_page(app, "edit")
    assert app.button(key="ed_save").disabled  # nothing to save yet
    _edit(app, {1: {"size": 999.0}, 2: {"pre_pt_position_x": 77}, 4: {"delete": True}})
    assert any(
        c.startswith("Not saved yet: 2 changed values in 2 rows, 1 row to delete. Changed")
        for c in _captions(app)
    )
    assert client.get_annotation_count("syn") == 5  # nothing stored before confirming
    app.button(key="ed_save").click().run()
    summary = [m.value for m in app.markdown if "will be" in m.value]
    assert summary == [
        "2 annotations will be updated: each gets a new id and its old version "
        "is kept as superseded; 1 annotation will be marked deleted (kept, "
        "never erased)."
    ]
    changes = _table_with(app, "before")  # in the dialog
    assert changes.to_dict("list") == {
        "id": [2, 3],
        "column": ["size", "pre_pt_position"],
        "before": ["121", "[12, 20, 30]"],
        "after": ["999", "[77, 20, 30]"],
    }
    app.button(key="ed_confirm_yes").click().run()
    assert not app.exception and not app.warning  # saved edits are not "lost"
    rows = client.get_annotation("syn", [1, 2, 3, 4, 5, 6, 7])
    by_id = {r["id"]: r for r in rows}
    assert by_id[2]["superceded_id"] == 6 and by_id[3]["superceded_id"] == 7
    assert by_id[6]["size"] == 999.0 and by_id[7]["pre_pt_position"] == [77, 20, 30]
    assert by_id[5]["valid"] is False and by_id[5]["deleted"] is not None
    assert by_id[1]["valid"] and by_id[4]["valid"]  # untouched
    assert alerts(app, "success")[0].startswith("Saved: 2 annotations updated: each has a new id")
    saved = _table_with(app, "new id")
    assert saved.to_dict("list") == {"old id": [2, 3], "new id": [6, 7]}
    assert "5" in texts(app)  # the deleted ids
    # the changed rows stay on screen as their new versions, where they were
    grid = _grid(app).value
    assert grid["id"].tolist() == [1, 6, 7, 4]
    assert grid["change"].tolist() == ["", "new id, was 2", "new id, was 3", ""]
    assert app.session_state[_grid(app).key]["edited_rows"] == {}  # no old edits
    assert app.number_input(key="ed_hist_id").value == 6  # its story is one click away
    app.button(key="ed_leave_saved").click().run()
    assert _ids(app) == [1, 4, 6, 7]  # the table's rows in order again
    app.button(key="ed_show_new").click().run()
    assert _ids(app) == [6, 7]


def test_cancel_stores_nothing_and_keeps_the_edits(app, client, syn):
    open_page(app, "edit")
    _edit(app, {0: {"size": 1.0}})
    app.button(key="ed_save").click().run()
    app.button(key="ed_confirm_no").click().run()
    assert "ed_confirm_yes" not in [b.key for b in app.button]
    assert client.get_annotation_count("syn") == 5
    assert any(  # only what there is: never "0 rows to delete"
        c.startswith("Not saved yet: 1 changed value in 1 row. Changed") for c in _captions(app)
    )


def test_a_refused_edit_changes_nothing_and_says_why(app, client, syn):
    open_page(app, "edit")
    _edit(app, {0: {"size": 5.0}, 1: {"ctr_pt_position_y": None}, 2: {"delete": True}})
    app.button(key="ed_save").click().run()
    app.button(key="ed_confirm_yes").click().run()
    problem = alerts(app)
    assert len(problem) == 1 and "ctr_pt_position" in problem[0]
    assert client.get_annotation_count("syn") == 5
    assert client.get_live_count("syn") == 5
    assert app.button(key="ed_confirm_yes")  # the confirmation stays open with the reason


def test_old_versions_cannot_be_edited(app, client, syn):
    new = client.update_annotation("syn", {"id": 1, "size": 7.0})[1]
    open_page(app, "edit")
    app.toggle(key="ed_all").set_value(True).run()
    _edit(app, {0: {"size": 3.0}})
    assert alerts(app) == [
        f"Annotation 1 was replaced by annotation {new}; only the newest "
        f"version can change, so change {new} instead."
    ]
    assert app.button(key="ed_save").disabled


def test_unsaved_edits_lock_the_view_until_discarded(app, client, cells):
    open_page(app, "edit")
    _edit(app, {0: {"cell_type": "basket"}})
    assert app.button(key="ed_next").disabled and app.toggle(key="ed_all").disabled
    assert app.text_input(key="ed_ids").disabled and app.selectbox(key="ed_size").disabled
    assert app.selectbox(key="ed_f_col").disabled and app.number_input(key="ed_page").disabled
    assert any("Save or discard your changes" in c for c in _captions(app))
    app.button(key="ed_discard").click().run()
    assert not app.warning  # discarded on purpose: nothing to warn about
    assert not app.button(key="ed_next").disabled and not app.toggle(key="ed_all").disabled
    assert app.button(key="ed_save").disabled
    assert client.get_annotation("cells", 1)[0]["cell_type"] == "pyramidal"


def test_edits_left_behind_by_another_table_are_said_to_be_lost(app, client, cells, syn):
    open_page(app, "edit")
    app.selectbox(key="ed_pick").select("cells").run()
    _edit(app, {0: {"cell_type": "basket"}})
    app.selectbox(key="ed_pick").select("syn").run()  # the table picker is not locked
    assert [w.value for w in app.warning] == [
        "Your unsaved changes to the rows you were editing were discarded when the view changed."
    ]
    assert _ids(app) == [1, 2, 3, 4, 5] and app.button(key="ed_save").disabled
    rerun(app)
    assert not app.warning  # said once
    assert client.get_annotation("cells", 1)[0]["cell_type"] == "pyramidal"


def test_read_only_for_someone_who_may_not_write(app, make_client, client, syn):
    client.backend.users.add("bob")
    open_page(app, "edit")
    app.sidebar.selectbox(key="sb_user").select("bob").run()
    assert not app.data_editor and _ids(app) == [1, 2, 3, 4, 5]
    assert "delete" not in app.dataframe[0].value.columns
    assert "ed_save" not in [b.key for b in app.button]
    assert alerts(app, "info")[0] == (
        "You can look at this table's rows but not change them. Who can write: PRIVATE: "
        "only the owner can add, change or delete annotations. Ask its owner, admin, if you "
        "need to."
    )


def test_nothing_for_someone_who_may_not_read(app, client):
    client.backend.users.add("carol")
    client.create_table(
        "secret", "bound_tag", "Private [pytest]", [4, 4, 40], read_permission="PRIVATE"
    )
    client.post_annotation("secret", {"pt": {"position": [1, 2, 3]}, "tag": "x"})
    open_page(app, "edit")
    app.sidebar.selectbox(key="sb_user").select("carol").run()
    assert alerts(app, "info") == [
        "You may not read this table's rows: its read permission is PRIVATE: only the owner "
        "can read the annotations. Ask its owner, admin."
    ]
    assert not app.dataframe and not app.data_editor
