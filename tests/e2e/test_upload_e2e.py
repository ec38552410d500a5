"""The upload page in real Chromium: drop, check, see the points, upload, reload mid-upload.

One Streamlit server (module fixture) serves the tests, each on its own table or checking
only what it changed, so any one runs alone; what was stored is checked through anno_core
on the same data dir.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from .conftest import ROOT
from .helpers import goto_page, pick_option, shot, wait_idle

EXAMPLES = ROOT / "examples"
BIG_ROWS = 200_000


def _drop(page: Page, path: Path) -> None:
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    wait_idle(page, 300)


def _cell(page: Page, text: str):
    """A cell of an st.dataframe (drawn on a canvas; its cells are an accessible grid)."""
    exact = re.compile(rf"^{re.escape(text)}$")
    return page.locator("[role=gridcell]").filter(has_text=exact).first


def _open_upload(page: Page, table: str) -> None:
    goto_page(page, "Upload")
    pick_option(page, "Table to upload to", table)


@pytest.fixture(scope="module")
def tables(app_server):
    client = app_server.client()
    client.create_table("syn", "synapse", "Synapses by hand [e2e]", [4, 4, 40])
    client.create_table("big", "synapse", "A million-row table in the making [e2e]", [4, 4, 40])
    return client


def test_drop_a_csv_see_the_report_and_points_then_upload(page, app_server, tables, tmp_path):
    page.reload()
    wait_idle(page)
    _open_upload(page, "syn")
    _drop(page, EXAMPLES / "synapses_4x4x40.csv")
    expect(
        page.get_by_text("All 240 rows are valid, with 1 warning to read; ready to upload.")
    ).to_be_visible()
    expect(_cell(page, "column not used")).to_be_attached()  # in the counts table
    chart = page.get_by_test_id("stDeckGlJsonChart")
    expect(chart.locator("canvas").first).to_be_visible()
    expect(page.get_by_text("240 of 240 points drawn.", exact=False)).to_be_visible()
    page.wait_for_timeout(1500)  # let deck.gl draw before the picture
    shot(page, "upload")
    assert tables.get_annotation_count("syn") == 0

    page.get_by_role("button", name="Upload 240 rows to table syn").click()
    expect(
        page.get_by_text("Stored 240 new annotations in table 'syn', ids 1 to 240.")
    ).to_be_visible(timeout=30_000)
    wait_idle(page)
    shot(page, "upload_done")
    stored = tables.query_annotations("syn", limit=1000)
    given = pd.read_csv(EXAMPLES / "synapses_4x4x40.csv")
    assert len(stored) == 240
    assert stored["pre_pt_position_x"].tolist() == given["pre_pt_position_x"].tolist()
    assert stored["size"].tolist() == given["size"].astype(float).tolist()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the new ids with your rows (CSV)").click()
    saved = tmp_path / "ids.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "synapses_4x4x40_ids.csv"
    rows = list(csv.reader(io.StringIO(saved.read_text())))
    assert rows[0][:4] == ["line", "id", "state", "pre_pt_position_x"]
    assert rows[1][:4] == ["2", "1", "live", str(given["pre_pt_position_x"][0])]
    assert len(rows) == 241


def test_a_bad_csv_shows_its_errors_and_stores_nothing(page, app_server, tables, tmp_path):
    before = tables.get_annotation_count("syn")
    _open_upload(page, "syn")
    _drop(page, EXAMPLES / "synapses_broken.csv")
    expect(page.get_by_text("5 of 12 rows have problems", exact=False)).to_be_visible()
    expect(page.get_by_text("First 5 of 5 problems")).to_be_visible()
    expect(_cell(page, "12O")).to_be_attached()  # the value, in the problems table
    expect(page.get_by_role("button", name="Upload 12 rows to table syn")).to_be_disabled()
    expect(page.get_by_text("Fix the problems listed in step 5 first", exact=False)).to_be_visible()
    expect(page.get_by_text("4 of 4 marked rows in red", exact=False)).to_be_visible()
    shot(page, "upload_errors")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the whole report (5 rows, CSV)").click()
    saved = tmp_path / "problems.csv"
    download.value.save_as(saved)
    problems = pd.read_csv(saved, dtype=str)
    assert problems["line"].tolist() == ["4", "6", "8", "10", "12"]
    assert problems["value"].tolist()[1] == "12O"
    assert tables.get_annotation_count("syn") == before


def _big_csv(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(11)
    centre = rng.integers([150_000, 100_000, 15_000], [250_000, 200_000, 27_000], size=(rows, 3))
    cols = {}
    for p in ("pre_pt", "post_pt", "ctr_pt"):
        jitter = rng.integers(-40, 40, size=(rows, 3))
        for j, a in enumerate("xyz"):
            cols[f"{p}_position_{a}"] = centre[:, j] + jitter[:, j]
    cols["size"] = np.round(rng.gamma(2.0, 200.0, rows), 1)
    pd.DataFrame(cols).to_csv(path, index=False)
    return path


def test_a_reload_mid_upload_stores_every_row_once(page, app_server, tables, tmp_path):
    big = _big_csv(tmp_path / "big_synapses.csv", BIG_ROWS)
    _open_upload(page, "big")
    _drop(page, big)
    expect(page.get_by_text(f"100,000 of {BIG_ROWS:,} points drawn", exact=False)).to_be_visible(
        timeout=60_000
    )
    # Another process writing to the database holds its write lock (as SQLite does for
    # every writer): our upload checks its rows and then waits to write, so the reload
    # below lands mid-upload every time, however fast the machine.
    database = tables.backend.url.removeprefix("sqlite:///")
    other_writer = sqlite3.connect(database, isolation_level=None, timeout=30)
    other_writer.execute("BEGIN IMMEDIATE")
    running = page.get_by_text(re.compile(r"Uploading big_synapses\.csv to table big"))
    try:
        page.mouse.move(5, 5)  # off the deck (see bench/README: picking in software GL)
        page.get_by_role("button", name=f"Upload {BIG_ROWS:,} rows to table big").click()
        expect(running.first).to_be_visible(timeout=20_000)
        page.reload()  # the session is gone; the upload is not
        wait_idle(page)
        expect(page.get_by_text("Uploads on this server")).to_be_visible()
        expect(running.first).to_be_visible()
        _open_upload(page, "big")
        _drop(page, big)  # the same file again: its upload is found, never started twice
        expect(page.get_by_text("The upload runs on the server", exact=False)).to_be_visible(
            timeout=30_000  # the 200,000-row file is read again first, on a busy machine
        )
        expect(
            page.get_by_role("button", name=re.compile("^Upload .* rows to table big"))
        ).to_have_count(0)
        shot(page, "upload_running")
        assert tables.get_annotation_count("big") == 0
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()
    expect(
        page.get_by_text(f"Stored {BIG_ROWS:,} new annotations in table 'big'", exact=False)
    ).to_be_visible(timeout=120_000)
    assert tables.get_annotation_count("big") == BIG_ROWS
    assert tables.get_live_count("big") == BIG_ROWS
