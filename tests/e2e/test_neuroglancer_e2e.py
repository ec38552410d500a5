"""Neuroglancer in real Chromium: the package's viewer, served by our server (and by the
dashboard's own host), opens a table with no request leaving the machine, fetches its info
and cells (all 200), draws, and its own state shows the table's source."""

from __future__ import annotations

import json
import time
from io import BytesIO
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from .conftest import LOCAL_HOSTS
from .helpers import pick_option, wait_idle

TYPES = ["basket", "pyramidal"]
COLOURS = {"basket": (0x1F, 0x77, 0xB4), "pyramidal": (0xFF, 0x7F, 0x0E)}  # the palette's first


def _cells(client, table: str, n: int = 3000) -> None:
    rng = np.random.default_rng(5)
    client.create_table(table, "cell_type_local", "cells [pytest]", [4, 4, 40])
    frame = pd.DataFrame(
        {
            "pt_position": list(
                np.stack([rng.random(n) * 40_000, rng.random(n) * 30_000, rng.random(n) * 600], 1)
            ),
            "cell_type": [TYPES[i % 2] for i in range(n)],
            "classification_system": "x",
        }
    )
    client.post_annotation_df(table, frame, None)


class Watch:
    """Every request and response of a browser context: its tabs and their workers (the
    viewer fetches cells from a web worker, which a tab's own events do not show)."""

    def __init__(self, context) -> None:
        self.requests: list[str] = []
        self.responses: list[tuple[int, str]] = []
        self.console: list[str] = []
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("response", lambda r: self.responses.append((r.status, r.url)))
        context.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        context.on("weberror", lambda e: self.console.append(f"error: {e.error}"))

    def outside(self) -> list[str]:
        return [
            u
            for u in self.requests
            if urlparse(u).scheme in ("http", "https", "ws", "wss")
            and urlparse(u).hostname not in LOCAL_HOSTS
        ]

    def source(self, part: str) -> list[tuple[int, str]]:
        return [(s, u) for s, u in self.responses if "/neuroglancer/source/" in u and part in u]


def _viewer_state(tab) -> dict:
    return json.loads(tab.evaluate("() => JSON.stringify(window.viewer.state.toJSON())"))


def _wait_for_cells(tab, watch: Watch, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if watch.source("/info") and watch.source("/spatial"):
            tab.wait_for_timeout(2500)  # let it draw what it fetched
            return
        tab.wait_for_timeout(250)
    raise AssertionError(
        f"the viewer fetched no cell; it asked for {watch.requests}; it said {watch.console}"
    )


def _coloured_pixels(tab) -> dict[str, int]:
    """How many pixels of the viewer's panels show each value's colour."""
    from PIL import Image

    img = np.asarray(Image.open(BytesIO(tab.screenshot())).convert("RGB")).astype(int)
    return {
        name: int((np.abs(img - np.array(rgb)).sum(axis=2) < 30).sum())
        for name, rgb in COLOURS.items()
    }


def _check_viewer(tab, watch: Watch, host: str) -> None:
    _wait_for_cells(tab, watch)
    assert watch.source("/info") and all(s == 200 for s, _ in watch.source("/info"))
    cells = watch.source("/spatial")
    assert cells and all(s == 200 for s, _ in cells), cells
    assert not watch.outside(), f"requests left the machine: {watch.outside()}"
    state = _viewer_state(tab)
    (layer,) = [lyr for lyr in state["layers"] if lyr["type"] == "annotation"]
    source = layer["source"] if isinstance(layer["source"], str) else layer["source"]["url"]
    assert source.startswith(f"precomputed://{host}/neuroglancer/source/")
    assert state["dimensions"] == {"x": [4e-9, "m"], "y": [4e-9, "m"], "z": [4e-8, "m"]}
    expect(tab.locator("canvas").first).to_be_visible()
    drawn = _coloured_pixels(tab)
    assert all(v > 30 for v in drawn.values()), drawn  # both kinds drawn, in their colours


def test_our_server_serves_the_viewer_and_the_table(browser, server, tmp_path):
    from tests.serverproc import fresh_volume

    client = server.connect("olivia", aligned_volume=fresh_volume())
    _cells(client, "cells")
    url = client.neuroglancer_url("cells", color_by="cell_type")
    assert url.startswith(server.url + "/v/ng/#!")
    context = browser.new_context(viewport={"width": 1300, "height": 850})
    watch = Watch(context)
    tab = context.new_page()
    tab.goto(url)
    try:
        _check_viewer(tab, watch, server.url)
        tab.screenshot(path=str(tmp_path / "viewer.png"))
    finally:
        context.close()


@pytest.mark.usefixtures("app_server")
def test_the_tables_page_opens_the_table_in_the_dashboards_own_viewer(page, app_server):
    _cells(app_server.client(), "cells", n=2000)
    page.reload()
    wait_idle(page)
    pick_option(page, "Colour in Neuroglancer by", "cell_type")
    legend_row = page.locator("tr", has_text="#ff7f0e").filter(has_text="pyramidal")
    expect(legend_row).to_have_count(1)  # the legend: pyramidal in orange
    link = page.get_by_role("link", name="Open in Neuroglancer")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    host = f"http://{urlparse(href).netloc}"
    assert urlparse(href).hostname == "127.0.0.1" and "/neuroglancer/open/" in href
    assert href.endswith("?color_by=cell_type")
    watch = Watch(page.context)
    with page.context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_url(lambda u: "/v/ng/#!" in u, timeout=30_000, wait_until="commit")
    _check_viewer(tab, watch, host)
