"""Upload through the browser: a 1,000,000-row synapse CSV dropped on the Upload page.

Starts ``streamlit run app.py`` on a fresh data dir (as the browser tests do), opens the
Upload page in headless Chromium (Debian's, via Playwright), and per run, into a new empty
synapse table (4, 4, 40 nm):

- drop -> preview: ``set_input_files`` of the CSV until the page shows the 3D preview (the
  deck's canvas and its "points drawn" caption): the upload of the bytes to the server,
  reading, mapping, checking every row, the deck, and drawing it;
- upload -> done: the click on Upload until the page shows "Stored 1,000,000 new
  annotations"; also when the rows were committed (polled through anno_core).

Floors, measured in the same run in this process on the same file: what the page computes
for the preview (``open_upload`` + ``check`` + ``points_deck``), and ``plan.commit``. Reported,
not asserted: the browser shares the 2 cores with the server.

    .venv/bin/python bench/upload_browser.py [--rows 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anno_core  # noqa: E402
from bench.ingest import OUT, make_csv  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app  # noqa: E402


def floors(csv: Path, rows: int) -> dict:
    """In-process: what the page computes before the preview, and the commit alone."""
    from ui.preview import points_deck

    with tempfile.TemporaryDirectory() as tmp:
        client = anno_core.connect(data_dir=Path(tmp) / "data")
        client.create_table("floor", "synapse", "floor [bench]", [4, 4, 40])
        raw = csv.read_bytes()
        start = time.perf_counter()
        plan = client.open_upload("floor", raw, name=csv.name)
        check = plan.check()
        deck, _ = points_deck(
            check.frame,
            position="ctr_pt_position",
            resolution=[4, 4, 40],
            tooltip_columns=("size",),
        )
        deck.to_json()
        preview = time.perf_counter() - start
        start = time.perf_counter()
        ids = plan.commit()
        commit = time.perf_counter() - start
        assert len(ids) == rows
    return {"preview": preview, "commit": commit}


def through_browser(page, url: str, client, table: str, csv: Path, rows: int) -> dict:
    from playwright.sync_api import expect

    from tests.e2e.helpers import goto_page, pick_option, wait_idle

    page.goto(url)
    wait_idle(page)
    goto_page(page, "Upload")
    pick_option(page, "Table to upload to", table)
    start = time.perf_counter()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(csv))
    expect(page.get_by_text("points drawn", exact=False)).to_be_visible(timeout=300_000)
    expect(page.get_by_test_id("stDeckGlJsonChart").locator("canvas").first).to_be_visible(
        timeout=60_000
    )
    preview = time.perf_counter() - start

    committed: dict[str, float] = {}

    def watch() -> None:
        while client.get_annotation_count(table) < rows:
            time.sleep(0.05)
        committed["at"] = time.perf_counter()

    watcher = threading.Thread(target=watch, daemon=True)
    button = page.get_by_role("button", name=f"Upload {rows:,} rows to table {table}")
    page.mouse.move(5, 5)  # off the deck: hovering it makes deck.gl pick among 100,000 points
    button.scroll_into_view_if_needed()
    start = time.perf_counter()
    watcher.start()
    button.click()
    clicked = time.perf_counter() - start
    expect(page.get_by_text(f"Stored {rows:,} new annotations", exact=False)).to_be_visible(
        timeout=600_000
    )
    done = time.perf_counter() - start
    watcher.join(60)
    return {
        "preview": preview,
        "click": clicked,
        "committed": committed["at"] - start,
        "done": done,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    csv = OUT / f"synapses_{args.rows}.csv"
    if not csv.exists():
        make_csv(csv, args.rows)
    size = csv.stat().st_size / 1e6
    print(f"{args.rows:,}-row synapse CSV, {size:.0f} MB")

    floor = floors(csv, args.rows)
    print(
        f"floor, in process: preview computed in {floor['preview']:.2f} s, "
        f"commit {floor['commit']:.2f} s"
    )

    from playwright.sync_api import sync_playwright

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        server = start_app(Path(tmp) / "data", Path(tmp) / "streamlit.log")
        try:
            client = server.client()
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                for i in range(args.repeat):
                    table = f"bench_{i}"
                    client.create_table(table, "synapse", "upload bench [bench]", [4, 4, 40])
                    context = browser.new_context(viewport={"width": 1400, "height": 1100})
                    run = through_browser(
                        context.new_page(), server.url, client, table, csv, args.rows
                    )
                    context.close()
                    runs.append(run)
                    print(
                        f"run {i + 1}: drop -> preview {run['preview']:.1f} s; Upload -> "
                        f"done {run['done']:.1f} s (click dispatched after "
                        f"{run['click']:.1f} s, rows committed at {run['committed']:.1f} s)"
                    )
                browser.close()
        finally:
            stop_app(server)
    best = {k: min(r[k] for r in runs) for k in runs[0]}
    print(
        f"best of {len(runs)}: drop -> preview {best['preview']:.1f} s "
        f"({best['preview'] / floor['preview']:.1f}x the in-process floor); Upload -> done "
        f"{best['done']:.1f} s ({best['done'] / floor['commit']:.1f}x the commit alone), "
        f"committed at {best['committed']:.1f} s"
    )


if __name__ == "__main__":
    main()
