"""Downloading a table in real Chromium: the file streams from the dashboard's local server,
the page's progress bar follows it, and the dashboard's memory stays far under 1 GB."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from playwright.sync_api import expect

from .conftest import serving
from .helpers import TIMEOUT, goto_page, wait_idle

ROWS = 200_000
LIMIT_MB = 1024


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    yield from serving(tmp_path_factory)


@pytest.fixture(scope="module")
def big(app_server):
    """A synapse table of ROWS rows, stored through anno_core on the app's data dir."""
    client = app_server.client()
    client.create_table("big", "synapse", "many synapses [pytest]", [4, 4, 40])
    rng = np.random.default_rng(3)
    pts = rng.integers(0, 100_000, size=(ROWS, 3)).astype(float)
    frame = pd.DataFrame({"size": rng.gamma(2.0, 200.0, ROWS).round(1)})
    for p in ("pre_pt", "post_pt", "ctr_pt"):
        for j, a in enumerate("xyz"):
            frame[f"{p}_position_{a}"] = pts[:, j]
    client.backend.insert_frame("local", "big", frame)
    return client


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (Linux VmHWM)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


def test_download_a_large_table_in_the_browser(page, app_server, big, tmp_path):
    goto_page(page, "Tables")
    page.get_by_text("Download", exact=True).click()  # the toggle
    wait_idle(page)
    page.get_by_label("Format", exact=True).click()
    page.get_by_role("option", name="CSV (spreadsheets; the columns an upload takes back)").click()
    wait_idle(page)
    button = page.get_by_role("link", name="Download big.csv")
    expect(button).to_be_visible()
    with page.context.expect_page() as tab, page.expect_download(timeout=120_000) as dl:
        button.click()
    del tab
    path = tmp_path / "big.csv"
    dl.value.save_as(path)
    got = pd.read_csv(path)
    assert len(got) == ROWS and got["id"].is_monotonic_increasing
    assert list(got.columns[:2]) == ["id", "ctr_pt_position_x"]
    # The page's bar follows the download the browser made.
    expect(page.get_by_text(f"Downloaded: {ROWS:,} rows.")).to_be_visible(timeout=TIMEOUT)
    assert _peak_rss_mb(app_server.process.pid) < LIMIT_MB

    # Parquet too, and the file carries the table's metadata.
    page.get_by_label("Format", exact=True).click()
    page.get_by_role(
        "option", name="Parquet (pandas, R, most analysis tools; keeps the table's metadata)"
    ).click()
    wait_idle(page)
    with page.context.expect_page(), page.expect_download(timeout=120_000) as dl:
        page.get_by_role("link", name="Download big.parquet").click()
    dl.value.save_as(tmp_path / "big.parquet")
    table = pq.read_table(tmp_path / "big.parquet")
    assert table.num_rows == ROWS and b"anno_tables" in table.schema.metadata
    assert _peak_rss_mb(app_server.process.pid) < LIMIT_MB
