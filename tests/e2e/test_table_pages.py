"""A person's walk through the table pages in real Chromium, checked through anno_core.

Each test has a Streamlit server and data dir of its own, so any one of them runs alone (or
in any order): the table the form test creates is made through anno_core (`l23_cells`) for
the tests that start from it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from anno_core.ingest.templates import csv_template

from .conftest import serving
from .helpers import click, fill, goto_page, pick_option, pick_radio, shot, wait_idle

SCARY = "<script>window.pwned = 1</script> **not bold** _not italic_ [a link](http://x.org)"
DESCRIPTION = f"Layer 2/3 cells by hand. {SCARY}"
NOTICE = "Being proofread: do not use before June."


@pytest.fixture
def app_server(tmp_path_factory):
    """A fresh server and data dir for each test (overrides the module-wide one)."""
    yield from serving(tmp_path_factory)


@pytest.fixture
def l23_cells(app_server):
    """The table `test_create_a_table_through_the_form` makes, made here through anno_core."""
    client = app_server.client()
    client.create_table("l23_cells", "cell_type_local", DESCRIPTION, [8, 8, 40], notice_text=NOTICE)
    return client


def test_empty_volume_invites_to_create_a_table(page, app_server):
    expect(page.get_by_text("No tables in aligned volume 'local' yet: create one.")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text(str(Path(app_server.data_dir).resolve()))).to_be_visible()
    expect(sidebar.get_by_label("Act as", exact=True)).to_have_value("admin (admin)")
    # app.py's st.navigation lists the pages; pages/__init__.py (a package marker) is not one
    titles = ["Tables", "Create table", "Metadata", "Upload", "Edit annotations", "Activity"]
    titles.append("People")
    expect(sidebar.get_by_test_id("stSidebarNav").get_by_role("link")).to_have_text(
        [re.compile(rf"{t}$") for t in titles]  # each after its icon's name
    )
    shot(page, "tables_empty")
    page.get_by_role("link", name="Create a table").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Create table", exact=True)).to_be_visible()


def test_create_a_table_through_the_form(page, app_server, tmp_path):
    goto_page(page, "Create table")
    pick_option(page, "Schema", "cell_type_local")
    with page.expect_download() as download:
        click(page, "Download CSV template")
    saved = tmp_path / "template.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "cell_type_local_template.csv"
    assert saved.read_text() == csv_template("cell_type_local")

    fill(page, "Table name", "Bad Name")
    expect(
        page.get_by_text("The table name 'Bad Name' is not allowed", exact=False)
    ).to_be_visible()
    fill(page, "Table name", "l23_cells")
    expect(page.get_by_text("'l23_cells' is free.")).to_be_visible()
    fill(page, "Description", DESCRIPTION)
    pick_radio(page, "Voxel resolution (nm per unit of the positions)", "8, 8, 40 nm")
    expect(
        page.get_by_text("One unit is 8 nm in x, 8 nm in y and 40 nm in z", exact=False)
    ).to_be_visible()
    fill(page, "Notice", NOTICE)
    click(page, "Review and create")
    confirm = page.get_by_test_id("stVerticalBlock").filter(has_text="Check before creating.").last
    expect(confirm.get_by_text("Voxel resolution: 8, 8, 40 nm", exact=False)).to_be_visible()
    assert app_server.client().get_tables() == []  # nothing stored before confirming
    shot(page, "create_table")
    click(page, "Create table")

    expect(page.get_by_role("heading", name="Tables", exact=True)).to_be_visible()
    expect(page.get_by_text("Table 'l23_cells' created.", exact=False)).to_be_visible()
    expect(page.get_by_label("Open a table", exact=True)).to_have_value("l23_cells")
    meta = app_server.client().get_table_metadata("l23_cells")
    assert meta["schema_type"] == "cell_type_local"
    assert meta["description"] == DESCRIPTION
    assert [meta[f"voxel_resolution_{a}"] for a in "xyz"] == [8, 8, 40]
    assert meta["notice_text"] == NOTICE
    assert (meta["read_permission"], meta["write_permission"]) == ("PUBLIC", "PRIVATE")


def test_the_table_is_listed_with_its_notice_and_plain_description(l23_cells, page):
    expect(
        page.get_by_text("1 of 1 tables in aligned volume 'local'.", exact=False)
    ).to_be_visible()
    expect(page.get_by_label("Open a table", exact=True)).to_have_value("l23_cells")
    expect(page.get_by_text("Notice from the table's owner")).to_be_visible()
    # the grid lists the notice too: the box is the one that must show it
    expect(page.locator(".st-key-notice_box").get_by_text(NOTICE)).to_be_visible()
    shown = page.get_by_test_id("stText").filter(has_text="Layer 2/3 cells by hand.")
    expect(shown).to_have_count(1)
    assert shown.inner_text() == DESCRIPTION  # every character, nothing interpreted
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("strong", has_text="not bold").count() == 0
    assert page.locator("a", has_text="a link").count() == 0
    expect(page.get_by_text("This table has no annotations yet.")).to_be_visible()


def test_rows_and_points_in_3d(l23_cells, page):
    client = l23_cells
    rng = np.random.default_rng(0)
    kinds = ["pyramidal", "basket", "martinotti", "chandelier"]
    client.post_annotation(
        "l23_cells",
        [
            {
                "pt": {
                    "position": [float(v) for v in rng.uniform([2e4, 1e4, 1e3], [4e4, 3e4, 2e3])]
                },
                "classification_system": "classical",
                "cell_type": kinds[i % 4],
            }
            for i in range(2_000)
        ],
    )
    page.reload()
    wait_idle(page)
    expect(page.get_by_text("The first 20 of 2,000 live rows", exact=False)).to_be_visible()
    pick_option(page, "Colour by", "cell_type")
    chart = page.get_by_test_id("stDeckGlJsonChart")
    expect(chart).to_be_visible()
    expect(chart.locator("canvas").first).to_be_visible()
    expect(page.get_by_text("2,000 of 2,000 points drawn.", exact=False)).to_be_visible()
    page.wait_for_timeout(1500)  # let deck.gl draw before the picture
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    shot(page, "tables")


def test_change_the_metadata(l23_cells, page):
    goto_page(page, "Metadata")
    expect(page.get_by_label("Table", exact=True)).to_have_value("l23_cells")
    expect(page.get_by_text("can never change", exact=False)).to_be_visible()
    fill(page, "Description", "Layer 2/3 cells, proofread. Ask agnes@lab.org.")
    fill(page, "Notice", "")
    pick_radio(page, "Who can write", "PUBLIC")
    shot(page, "metadata")
    click(page, "Save changes")
    expect(page.get_by_text("Saved: description, notice text, write permission.")).to_be_visible()
    meta = l23_cells.get_table_metadata("l23_cells")
    assert meta["description"] == "Layer 2/3 cells, proofread. Ask agnes@lab.org."
    assert meta["notice_text"] is None
    assert meta["write_permission"] == "PUBLIC" and meta["read_permission"] == "PUBLIC"
    expect(page.get_by_text("Notice from the table's owner")).to_have_count(0)


def test_delete_a_table_with_its_typed_name(l23_cells, page):
    client = l23_cells
    client.create_table("old_tags", "bound_tag", "Tags nobody uses [e2e]", [4, 4, 40])
    page.reload()
    wait_idle(page)
    goto_page(page, "Metadata")
    pick_option(page, "Table", "old_tags")
    delete = page.get_by_role("button", name="Delete table")
    expect(delete).to_be_disabled()
    fill(page, "Type the table's name to confirm", "old_tags")
    expect(delete).to_be_enabled()
    click(page, "Delete table")
    expect(page.get_by_text("Table 'old_tags' is deleted; its rows are kept.")).to_be_visible()
    assert client.get_tables() == ["l23_cells"]
