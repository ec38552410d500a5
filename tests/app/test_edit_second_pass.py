"""Edit page, second pass (issue 13 item 9): changed cells highlighted before saving, delete
what a filter finds (counted, typed to confirm), undo an upload, restore deleted rows, and
the history saying why; no '0 changed values in 0 rows', no 'Rows 0 to 0 of 0'."""

from __future__ import annotations

import pytest

from .conftest import alerts, open_page, rerun, texts

TYPES = ["pyramidal", "basket", "chandelier", "martinotti"]


@pytest.fixture
def cells(client):
    client.create_table("cells", "cell_type_local", "Cells [pytest]", [4, 4, 40])
    ids = client.post_annotation(
        "cells",
        [
            {
                "pt": {"position": [100 + i, 200, 30]},
                "classification_system": "aibs",
                "cell_type": TYPES[i % 4],
            }
            for i in range(40)
        ],
    )
    return ids


def _grid(app):
    (grid,) = app.data_editor
    return grid


def _edit(app, edited_rows: dict) -> None:
    app.session_state[_grid(app).key] = {
        "edited_rows": edited_rows,
        "added_rows": [],
        "deleted_rows": [],
    }
    rerun(app)


def _filter(app, column: str, value: str) -> None:
    app.selectbox(key="ed_f_col").select(column)
    app.text_input(key="ed_f_value").input(value)
    app.button[0].click().run()  # the form's "Add filter"


def _captions(app) -> list[str]:
    return [c.value for c in app.caption]


def test_changed_cells_are_highlighted_before_saving(app, cells):
    open_page(app, "edit")
    _edit(app, {1: {"cell_type": "chandelier"}, 3: {"delete": True}})
    (pending,) = [d for d in app.dataframe if list(d.value.columns)[:2] == ["id", "cell_type"]]
    assert pending.value["id"].tolist() == [2, 4]
    assert pending.value["cell_type"].tolist() == ["chandelier", "martinotti"]
    styles = pending.proto.arrow_data.styler.styles  # the Styler's cell styles
    assert "#fff1a8" in styles and "#fde2e2" in styles  # changed cells, the row to delete
    shown = pending.proto.arrow_data.styler.display_values
    assert b"101" in shown and b"101.000000" not in shown  # as typed, no float noise
    assert any(
        c.startswith("Not saved yet: 1 changed value in 1 row, 1 row to delete.")
        for c in _captions(app)
    )


def test_delete_the_rows_a_filter_finds_after_typing_their_count(app, client, cells):
    open_page(app, "edit")
    _filter(app, "cell_type", "bask")
    button = app.button(key="ed_delete_matching_button")
    assert button.label == "Delete the 10 live rows matching this filter"
    button.click().run()
    assert app.button(key="ed_delete_yes").disabled  # the count must be typed
    app.text_input(key="ed_delete_typed").input("9").run()
    assert app.button(key="ed_delete_yes").disabled
    app.text_input(key="ed_delete_typed").input("10").run()
    app.button(key="ed_delete_yes").click().run()
    assert client.get_live_count("cells") == 30 and client.get_annotation_count("cells") == 40
    assert alerts(app, "success")[0].startswith(
        "Deleted 10 rows matching cell_type contains bask; they are kept, marked deleted."
    )
    assert "No live rows that match." in _captions(app)  # never "Rows 0 to 0 of 0"
    app.number_input(key="ed_hist_id").set_value(2).run()
    assert any("deleted with the filter cell_type contains 'bask'" in t for t in texts(app))


def test_undo_an_upload_deletes_its_live_rows_and_the_history_says_why(app, client, cells):
    later = client.post_annotation(
        "cells",
        [{"pt": {"position": [1, 2, 3]}, "classification_system": "aibs", "cell_type": "x"}] * 2,
    )
    client.delete_annotation("cells", [cells[0]])
    open_page(app, "edit")
    uploads = next(d.value for d in app.dataframe if "still live" in d.value.columns)
    assert uploads[["rows", "still live"]].values.tolist() == [[2, 2], [40, 39]]
    first = client.list_uploads("cells")[1]["upload"]
    app.selectbox(key="ed_undo_pick").select(first).run()
    app.button(key="ed_undo_button").click().run()
    assert app.button(key="ed_undo_yes").label == "Delete its 39 live rows"
    app.button(key="ed_undo_yes").click().run()
    assert client.get_live_count("cells") == len(later)
    assert alerts(app, "success")[0].startswith("Undid the upload of ")
    app.number_input(key="ed_hist_id").set_value(cells[5]).run()
    assert any("deleted by undoing the upload of" in t and "by admin" in t for t in texts(app))


def test_deleted_rows_are_restored_as_new_versions(app, client, cells):
    client.delete_annotation("cells", [cells[2]])
    open_page(app, "edit")
    app.toggle(key="ed_all").set_value(True).run()
    grid = _grid(app).value
    assert "restore" in grid.columns
    row = grid["id"].tolist().index(cells[2])
    _edit(app, {row: {"restore": True}})
    assert any(c.startswith("Not saved yet: 1 row to restore.") for c in _captions(app))
    app.button(key="ed_save").click().run()
    summary = [m.value for m in app.markdown if "will be" in m.value]
    assert summary == [
        "1 deleted annotation will be restored: each gets a new version, with a new id, "
        "carrying its values."
    ]
    app.button(key="ed_confirm_yes").click().run()
    new = cells[-1] + 1
    assert client.get_live_count("cells") == 40
    restored = client.get_annotation("cells", [new])[0]
    assert restored["cell_type"] == TYPES[2] and restored["valid"]
    assert alerts(app, "success")[0].startswith("Saved: 1 annotation restored as new versions")
    assert app.number_input(key="ed_hist_id").value == new
    assert any(f"restored from {cells[2]}" in t for t in texts(app))


def test_restoring_a_live_row_is_refused_with_a_sentence(app, cells):
    open_page(app, "edit")
    app.toggle(key="ed_all").set_value(True).run()
    _edit(app, {0: {"restore": True}})
    assert alerts(app) == [
        f"Annotation {cells[0]} is live; only deleted annotations can be restored."
    ]
    assert app.button(key="ed_save").disabled
