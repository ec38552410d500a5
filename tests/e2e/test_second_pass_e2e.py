"""Issue 13 in real Chromium: an option's explanation picks it; a file uploaded and deleted
since is told as earlier, and sent again only on purpose; a filter's rows are deleted after
typing their count; the README's Upload screenshot.

Each test makes its own table through anno_core on the module's server, so any one runs alone
and in any order; every wait is for something on the page, never a fixed time.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
from playwright.sync_api import Page, expect

from .conftest import ROOT
from .helpers import goto_page, pick_option, pick_radio, shot, shot_between, wait_idle

EXAMPLES = ROOT / "examples"


def _drop(page: Page, path) -> None:
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    wait_idle(page, 300)


def _open_upload(page: Page, table: str) -> None:
    goto_page(page, "Upload")
    pick_option(page, "Table to upload to", table)


def test_clicking_an_options_explanation_picks_it(page, app_server):
    app_server.client().create_table("radio_t", "bound_tag", "radio [e2e]", [4, 4, 40])
    goto_page(page, "Create table")
    pick_option(page, "Schema", "bound_tag")
    reading = page.get_by_role("radiogroup", name="Who can read", exact=True)
    group = reading.get_by_role("radio", name=re.compile(r"^GROUP"))
    expect(group).not_to_be_checked()
    page.get_by_text("the owner and people who share a group with the owner can read").click()
    wait_idle(page)
    expect(group).to_be_checked()  # the words are part of the option: a click picks it
    expect(page.get_by_text("The owner is in no group", exact=False)).to_be_visible()


def test_an_upload_deleted_since_is_told_and_sent_again_only_on_purpose(page, app_server, tmp_path):
    client = app_server.client()
    client.create_table("again_tags", "bound_tag", "tags sent twice [e2e]", [4, 4, 40])
    _open_upload(page, "again_tags")
    _drop(page, EXAMPLES / "tags_excel_semicolon.csv")
    page.get_by_role("button", name="Upload 25 rows to table again_tags").click()
    expect(
        page.get_by_text("Stored 25 new annotations in table 'again_tags', ids 1 to 25.")
    ).to_be_visible(timeout=30_000)
    client.delete_annotation("again_tags", list(range(1, 26)))

    page.reload()  # a new session drops the same file
    wait_idle(page)
    _open_upload(page, "again_tags")
    _drop(page, EXAMPLES / "tags_excel_semicolon.csv")
    expect(
        page.get_by_text("Of its 25 rows, 0 are still live and 25 deleted.", exact=False)
    ).to_be_visible()
    expect(page.get_by_text("Stored 25 new annotations", exact=False)).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role(
            "button", name="Download these ids with your rows and their state (CSV)"
        ).click()
    saved = tmp_path / "ids.csv"
    download.value.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text())))
    assert rows[0][:3] == ["line", "id", "state"]
    assert {r[2] for r in rows[1:]} == {"deleted"} and len(rows) == 26
    again = page.get_by_role("button", name="Upload these rows again as new annotations")
    expect(again).to_be_disabled()  # behind a confirmation
    page.get_by_text("Yes, store the 25 rows of tags_excel_semicolon.csv again").click()
    expect(again).to_be_enabled()
    shot(page, "upload_before")
    again.click()
    wait_idle(page)
    page.get_by_role("button", name="Upload 25 rows again to table again_tags").click()
    expect(
        page.get_by_text("Stored 25 new annotations in table 'again_tags', ids 26 to 50.")
    ).to_be_visible(timeout=30_000)
    assert client.get_live_count("again_tags") == 25
    assert client.get_annotation_count("again_tags") == 50


def test_the_rows_a_filter_finds_are_deleted_after_typing_their_count(page, app_server):
    client = app_server.client()
    client.create_table("filter_cells", "cell_type_local", "cells to sweep [e2e]", [4, 4, 40])
    client.post_annotation(
        "filter_cells",
        [
            {
                "pt": {"position": [100 + i, 200, 30]},
                "classification_system": "aibs",
                "cell_type": ("basket", "pyramidal", "chandelier")[i % 3],
            }
            for i in range(12)
        ],
    )
    goto_page(page, "Edit annotations")
    pick_option(page, "Table", "filter_cells")
    pick_option(page, "Filter on column", "cell_type")
    value = page.get_by_label("Value", exact=True)
    value.fill("basket")
    value.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("Rows 1 to 4 of 4 live rows that match", exact=False)).to_be_visible()
    page.get_by_role("button", name="Delete the 4 live rows matching this filter").click()
    dialog = page.get_by_role("dialog")
    confirm = dialog.get_by_role("button", name="Delete 4 rows")
    expect(confirm).to_be_disabled()
    typed = dialog.get_by_label("Type 4 to confirm", exact=True)
    typed.fill("4")
    typed.press("Enter")
    wait_idle(page)
    expect(confirm).to_be_enabled()
    shot(page, "edit_delete_matching")
    confirm.click()
    wait_idle(page)
    expect(
        page.get_by_text("Deleted 4 rows matching cell_type contains basket", exact=False)
    ).to_be_visible()
    expect(page.get_by_text("No live rows that match.")).to_be_visible()
    assert client.get_live_count("filter_cells") == 8
    assert client.get_annotation_count("filter_cells") == 12


def test_readme_upload_screenshot_voxels_read_as_nm(page, app_server):
    """The README's picture of the Upload page: cell types read as nm land far from the
    table's points, the page names the mistake and offers the fix."""
    client = app_server.client()
    client.create_table("cells_shot", "cell_type_local", "cells [e2e]", [4, 4, 40])
    rng = np.random.default_rng(3)
    client.post_annotation(
        "cells_shot",
        [
            {
                "pt": {
                    "position": [
                        float(v)
                        for v in rng.uniform([160_000, 100_000, 16_000], [250_000, 200_000, 27_000])
                    ]
                },
                "classification_system": "classical",
                "cell_type": "pyramidal",
            }
            for _ in range(200)
        ],
    )
    _open_upload(page, "cells_shot")
    _drop(page, EXAMPLES / "cell_types_split_xyz.csv")
    pick_radio(page, "Unit of the positions in your file", "nm")
    expect(
        page.get_by_text("these look like 4, 4, 40 nm voxels read as nm", exact=False)
    ).to_be_visible()
    expect(page.get_by_test_id("stDeckGlJsonChart").locator("canvas").first).to_be_visible()
    page.mouse.move(5, 5)
    page.wait_for_timeout(1500)  # let deck.gl draw before the picture
    shot_between(page, "readme_upload", "6. Where the points land", "7. Upload")
    page.get_by_role("button", name="Read the file's positions as 4, 4, 40 nm").click()
    wait_idle(page)
    expect(
        page.get_by_text("these look like 4, 4, 40 nm voxels read as nm", exact=False)
    ).to_have_count(0)
