"""Small Playwright helpers for driving Streamlit widgets the way a person does."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .conftest import SCREENSHOTS

TIMEOUT = 20_000


def wait_idle(page: Page, delay_ms: int = 150) -> None:
    """Wait until the app is connected and its script is not running."""
    page.wait_for_timeout(delay_ms)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=TIMEOUT
    )
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=TIMEOUT
    )
    page.wait_for_timeout(delay_ms)


def goto_page(page: Page, title: str) -> None:
    """Open a page from the sidebar navigation."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_idle(page)
    expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible()


def fill(page: Page, label: str, text: str) -> None:
    """Type into a text input or text area and commit it (as leaving the field does)."""
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    if box.evaluate("e => e.tagName") == "TEXTAREA":
        box.press("Control+Enter")
    else:
        box.press("Enter")
    wait_idle(page)


def _open_list(page: Page, label: str):  # type: ignore[no-untyped-def]
    """Open the option list of the selectbox labelled ``label``: (box, listbox)."""
    box = page.get_by_label(label, exact=True)
    listbox = page.get_by_role("listbox")  # only one list is open at a time
    for _ in range(5):  # a click that lands while the page settles can be swallowed
        box.click()
        try:
            listbox.wait_for(state="visible", timeout=2_000)
            break
        except PlaywrightTimeout:
            continue
    return box, listbox


def pick_option(page: Page, label: str, option: str) -> None:
    """Choose ``option`` in the selectbox labelled ``label``."""
    box, listbox = _open_list(page, label)
    box.fill(option)  # long lists only render the options in view: filter first
    listbox.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)
    expect(box).to_have_value(option)


def options_of(page: Page, label: str) -> list[str]:
    """The option texts of the selectbox labelled ``label`` (the list is closed again)."""
    _, listbox = _open_list(page, label)
    texts = listbox.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return texts


def click(page: Page, name: str) -> None:
    page.get_by_role("button", name=re.compile(rf"^{re.escape(name)}$")).click()
    wait_idle(page)


def shot(page: Page, name: str) -> None:
    """Save a screenshot for a person to look at (tests/e2e/screenshots, git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    size = page.viewport_size
    # Streamlit scrolls inside its main section: grow the window to show the whole page.
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        "'[data-testid=stMain], [data-testid=stSidebarContent]')].map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(height, 600), 8000)})
    page.wait_for_timeout(600)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def pick_radio(page: Page, group: str, option: str) -> None:
    """Choose the option of the radio group labelled ``group`` whose label starts with
    ``option`` (a label may carry its explanation after the option's own words)."""
    radios = page.get_by_role("radiogroup", name=group, exact=True)
    radios.get_by_test_id("stRadioOption").filter(
        has_text=re.compile(rf"^{re.escape(option)}\b")
    ).click()
    wait_idle(page)


def shot_between(page: Page, name: str, first: str, after: str) -> None:
    """Save a picture of the part of the page from heading ``first`` down to heading
    ``after`` (say, one step of a page, for the README)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        "'[data-testid=stMain], [data-testid=stSidebarContent]')].map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(height, 600), 8000)})
    page.wait_for_timeout(600)
    top = page.get_by_role("heading", name=first, exact=True).first.bounding_box()
    end = page.get_by_role("heading", name=after, exact=True).first.bounding_box()
    main = page.get_by_test_id("stMainBlockContainer").bounding_box()
    page.screenshot(
        path=str(SCREENSHOTS / f"{name}.png"),
        clip={
            "x": main["x"],
            "y": top["y"] - 16,
            "width": main["width"],
            "height": end["y"] - top["y"],
        },
    )
    page.set_viewport_size(size)
