"""Fixing mistakes in real Chromium: edit a cell, delete a row, confirm, read the history.

The data editor is a canvas grid (glide-data-grid): a person clicks a cell and types, or
clicks a Delete tick box. The test does the same with the mouse and keyboard, reads the grid
back from its accessible table (``#glide-cell-{column}-{row}``), and checks what was stored
through ``anno_core``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers import click, goto_page, shot, wait_idle

TYPES = [
    "pyramidal",
    "basket",
    "<script>window.pwned = 1</script>",
    "chandelier",
    "martinotti",
    "basket",
]
HEADER, ROW = 36, 35  # glide-data-grid's header and row heights in Streamlit
DELETE_WIDTH = 75  # the Delete column is width="small"
COLUMNS = ["delete", "id", "cell_type", "classification_system", "pt_position_x"]


@pytest.fixture(scope="module")
def table(app_server):
    client = app_server.client()
    client.create_table(
        "l23_cells",
        "cell_type_local",
        "Layer 2/3 cells [pytest]",
        [4, 4, 40],
        write_permission="PUBLIC",
    )
    client.post_annotation(
        "l23_cells",
        [
            {
                "pt": {"position": [100 + 10 * i, 200 + 5 * i, 30 + i]},
                "classification_system": "aibs",
                "cell_type": t,
            }
            for i, t in enumerate(TYPES)
        ],
    )
    return "l23_cells"


def _grid(page: Page):
    return page.get_by_test_id("stDataFrame").locator(".dvn-scroller").first


def _cell_box(page: Page, column: str, row: int):
    return page.locator(f"#glide-cell-{COLUMNS.index(column)}-{row}")


def _cell(page: Page, column: str, row: int) -> str:
    return _cell_box(page, column, row).text_content() or ""


def _type_into(page: Page, column: str, row: int, text: str) -> None:
    """Select the row's id cell, walk right to ``column``, type, press Enter."""
    _grid(page).click(position={"x": DELETE_WIDTH + 15, "y": HEADER + ROW * row + ROW // 2})
    for _ in range(COLUMNS.index(column) - 1):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")  # opens the cell's editor, as a double-click does
    page.wait_for_function("() => ['TEXTAREA', 'INPUT'].includes(document.activeElement?.tagName)")
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.wait_for_function("t => document.activeElement?.value === t", arg=text)
    # The editor keeps the value in React state, committed with the next frame: wait for two.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.keyboard.press("Enter")
    wait_idle(page, 300)
    expect(_cell_box(page, column, row)).to_have_text(text)


def _tick_delete(page: Page, row: int) -> None:
    _grid(page).click(position={"x": DELETE_WIDTH // 2, "y": HEADER + ROW * row + ROW // 2})
    wait_idle(page, 300)


def test_edit_a_cell_delete_a_row_confirm_and_read_the_history(page, app_server, table):
    client = app_server.client()
    before = {r["id"]: r for r in client.get_annotation(table, list(range(1, 7)))}
    goto_page(page, "Edit annotations")
    expect(page.get_by_text("Rows 1 to 6 of 6 live rows (page 1 of 1).")).to_be_visible()
    assert _cell(page, "cell_type", 2) == TYPES[2]  # typed text stays text in the grid
    assert page.evaluate("window.pwned") is None

    _type_into(page, "cell_type", 1, "chandelier")
    _type_into(page, "pt_position_x", 4, "777")
    _tick_delete(page, 3)
    assert _cell(page, "delete", 3) == "true"
    expect(
        page.get_by_text("Not saved yet: 2 changed values in 2 rows, 1 row to delete.", exact=False)
    ).to_be_visible()
    expect(page.get_by_label("Annotation ids", exact=True)).to_be_disabled()  # view locked
    shot(page, "edit")
    assert client.get_annotation_count(table) == 6  # nothing stored yet

    click(page, "Save changes")
    dialog = page.get_by_role("dialog")
    expect(
        dialog.get_by_text(
            "2 annotations will be updated: each gets a new id and its "
            "old version is kept as superseded",
            exact=False,
        )
    ).to_be_visible()
    expect(dialog.get_by_text("1 annotation will be marked deleted", exact=False)).to_be_visible()
    shot(page, "edit_confirm")
    dialog.get_by_role("button", name="Yes, save").click()
    wait_idle(page, 300)
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("Saved: 2 annotations updated", exact=False)).to_be_visible()

    # what was stored, through anno_core
    rows = {r["id"]: r for r in client.get_annotation(table, list(range(1, 9)))}
    assert rows[2]["superceded_id"] == 7 and rows[5]["superceded_id"] == 8
    assert rows[7]["cell_type"] == "chandelier" and rows[7]["valid"]
    assert rows[8]["pt_position"] == [777, 220, 34] and rows[8]["valid"]
    assert rows[8]["cell_type"] == TYPES[4]
    assert rows[4]["valid"] is False and rows[4]["deleted"] and rows[4]["superceded_id"] is None
    for same in (1, 3, 6):  # nothing else changed
        assert rows[same] == before[same]
    assert client.get_annotation_count(table) == 8 and client.get_live_count(table) == 5
    expect(page.get_by_text("Rows 1 to 5 of 5 live rows (page 1 of 1).")).to_be_visible()

    page.get_by_role("tab", name="History of one annotation").click()
    wait_idle(page)
    expect(page.get_by_label("Annotation id", exact=True)).to_have_value("7")
    expect(
        page.get_by_text("Annotation 7 has 2 versions, oldest first.", exact=False)
    ).to_be_visible()
    expect(page.get_by_text("Replaced by annotation 7.")).to_be_visible()
    expect(page.get_by_text("In use (live).", exact=True)).to_be_visible()
    shot(page, "edit_history")
