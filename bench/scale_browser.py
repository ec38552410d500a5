"""The page figures of bench/scale.py, in real Chromium (Debian's, via Playwright, as the
browser tests drive it): `streamlit run app.py` on the data bench/scale.py built.

- Tables page with 1,000 tables: from navigation to the listing shown ("first paint") and
  to the whole page done, cold (a new browser tab) and on return (Create table -> Tables
  in the same tab); floor: the Create table page, measured the same ways in the same run.
- Opening a table: the Tables page of an aligned volume whose first table is the
  10,000,000-row one, from navigation to the 3D view drawn (its canvas and its caption),
  in a fresh server each time (cold caches), against the same for the 10,000-row table;
  the server process's peak RSS after it.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app

NAV_TIMEOUT = 180_000


def _peak_rss_mb(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) / 1024
    return float("nan")


def _idle(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=NAV_TIMEOUT
    )


def _tables_listing(page, t: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(listing shown, page done) in seconds since ``t``, the Tables page being loaded."""
    page.get_by_text("of 1,000 tables in aligned volume", exact=False).wait_for(timeout=NAV_TIMEOUT)
    shown = time.perf_counter() - t
    _idle(page)
    return shown, time.perf_counter() - t


def _create_page(page, t: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(form shown, page done) in seconds since ``t``, the Create table page being loaded."""
    page.get_by_label("Schema", exact=False).first.wait_for(timeout=NAV_TIMEOUT)
    shown = time.perf_counter() - t
    _idle(page)
    return shown, time.perf_counter() - t


def tables_page(browser, data_dir: Path, repeat: int) -> list[str]:  # type: ignore[no-untyped-def]
    log = data_dir.parent / "streamlit_many.log"
    server = start_app(data_dir, log, extra_env={"ANNO_ALIGNED_VOLUME": "scale_many"})
    cold: dict[str, list] = {"tables": [], "create": []}
    back: dict[str, list] = {"tables": [], "create": []}
    try:
        for _ in range(repeat):
            for name, path, wait in (
                ("tables", "", _tables_listing),
                ("create", "/create_table", _create_page),
            ):
                ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
                page = ctx.new_page()
                t = time.perf_counter()
                page.goto(server.url + path)
                cold[name].append(wait(page, t))
                ctx.close()
        ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
        page = ctx.new_page()
        page.goto(server.url)
        _tables_listing(page, time.perf_counter())
        nav = page.get_by_test_id("stSidebarNav")
        for _ in range(repeat):
            t = time.perf_counter()
            nav.get_by_role("link", name="Create table").click()
            back["create"].append(_create_page(page, t))
            t = time.perf_counter()
            nav.get_by_role("link", name="Tables").click()
            back["tables"].append(_tables_listing(page, t))
        ctx.close()
    finally:
        stop_app(server)
    out = []
    for label, got in (("cold (new tab)", cold), ("return visit", back)):
        t_shown, t_done = (min(x[i] for x in got["tables"]) for i in (0, 1))
        c_shown, c_done = (min(x[i] for x in got["create"]) for i in (0, 1))
        out.append(
            f"Tables page, 1,000 tables, {label}: listing shown {t_shown:.2f} s, page done "
            f"{t_done:.2f} s; Create table page {c_shown:.2f} s / {c_done:.2f} s: "
            f"{t_shown / c_shown:.2f}x / {t_done / c_done:.2f}x (goal <= 2x)"
        )
    return out


def _deck_drawn(page, t: float) -> tuple[float, str]:  # type: ignore[no-untyped-def]
    """(seconds since ``t`` until the 3D view's caption and canvas show, the caption)."""
    caption = page.get_by_text("points drawn", exact=False)
    caption.wait_for(timeout=NAV_TIMEOUT)
    page.get_by_test_id("stDeckGlJsonChart").locator("canvas").first.wait_for(timeout=NAV_TIMEOUT)
    return time.perf_counter() - t, caption.inner_text()


def open_table(browser, data_dir: Path, volume: str) -> tuple[float, float, str, float]:  # type: ignore[no-untyped-def]
    """A fresh server; (seconds to the 3D view, server peak RSS MB, the deck's caption,
    seconds to the 3D view in a warm server whose caches do not hold the table yet)."""
    log = data_dir.parent / f"streamlit_{volume}.log"
    server = start_app(data_dir, log, extra_env={"ANNO_ALIGNED_VOLUME": volume})
    try:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
        page = ctx.new_page()
        t = time.perf_counter()
        page.goto(server.url)
        seconds, text = _deck_drawn(page, t)
        ctx.close()
        rss = _peak_rss_mb(server.process.pid)
    finally:
        stop_app(server)
    # Warm: a fresh server that has served the Create table page (imports and the engine
    # done), then the Tables page opened from the sidebar: the table's own reads only.
    server = start_app(data_dir, log, extra_env={"ANNO_ALIGNED_VOLUME": volume})
    try:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
        page = ctx.new_page()
        page.goto(server.url + "/create_table")
        _create_page(page, time.perf_counter())
        t = time.perf_counter()
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Tables").click()
        warm, _ = _deck_drawn(page, t)
        ctx.close()
        return seconds, max(rss, _peak_rss_mb(server.process.pid)), text, warm
    finally:
        stop_app(server)


def browser_figures(data_dir: Path, repeat: int) -> list[str]:
    from playwright.sync_api import sync_playwright

    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    out = [f"-- Chromium -- (load average {load})"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            out += tables_page(browser, data_dir, repeat)
            runs = {"scale_small": [], "scale_big": []}
            for _ in range(max(2, repeat // 2)):
                for volume in runs:
                    runs[volume].append(open_table(browser, data_dir, volume))
            small, big = (min(runs[v], key=lambda r: r[0]) for v in ("scale_small", "scale_big"))
            rss = max(r[1] for r in runs["scale_big"])
            out.append(
                f"Open the 10M-row table on the Tables page (cold server): 3D view shown in "
                f"{big[0]:.2f} s (goal < 3 s) vs the 10,000-row table {small[0]:.2f} s = "
                f"{big[0] / small[0]:.2f}x; server peak RSS {rss:.0f} MB (goal < 500 MB; "
                f"10,000-row table: {max(r[1] for r in runs['scale_small']):.0f} MB)"
            )
            warm = {v: min(r[3] for r in runs[v]) for v in runs}
            out.append(
                f"The same in a warm server (Create table page served first, then Tables from "
                f"the sidebar): 10M rows {warm['scale_big']:.2f} s (goal < 3 s) vs 10,000 rows "
                f"{warm['scale_small']:.2f} s = {warm['scale_big'] / warm['scale_small']:.2f}x"
            )
            out.append(f"  caption: {big[2]!r}")
        finally:
            browser.close()
    return out
