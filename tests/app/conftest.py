"""AppTest fixtures: the real app.py (st.navigation and sidebar) on the test's own SQLite file.

``app`` returns an AppTest already run once; ``open_page(app, "metadata")`` switches to
pages/metadata.py and runs it. Tests drive widgets by key, check what is shown, and check
what was stored through the ``client`` fixture (same data dir).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

ROOT = Path(__file__).resolve().parents[2]


class _NavigationPagesManager(PagesManager):
    """AppTest resets ``uses_pages_directory`` before every run and then finds our pages/
    folder, so from the second run on it executes the page file alone (the old pages/
    behaviour) instead of app.py. `streamlit run` clears the flag for good once
    st.navigation is called; this does the same for AppTest, so every run goes through
    app.py (router and sidebar) as in the browser."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def _navigation_runs_app_py(monkeypatch):
    monkeypatch.setattr(app_test_module, "PagesManager", _NavigationPagesManager)


@pytest.fixture
def app_env(data_dir, monkeypatch):
    monkeypatch.setenv("ANNO_DATA_DIR", str(data_dir))
    monkeypatch.chdir(ROOT)
    return data_dir


@pytest.fixture
def app(app_env) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> list[str]:
    """Every st.text shown (where user-typed text appears)."""
    return [t.value for t in at.text]


def unescape(markdown: str) -> str:
    """A Markdown sentence as the reader sees it (names are backslash-escaped)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def alerts(at: AppTest, kind: str = "error") -> list[str]:
    """The sentences of st.error / st.info / ... boxes, as the reader sees them."""
    return [unescape(e.value) for e in getattr(at, kind)]


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def create_through_form(at: AppTest, schema: str, name: str, description: str) -> AppTest:
    """Create a table the way a person does: Create table page, fill, review, create."""
    open_page(at, "create_table")
    at.selectbox(key="ct_schema").select(schema).run()
    at.text_input(key="ct_name").input(name).run()
    at.text_area(key="ct_description").input(description).run()
    at.button(key="ct_review_button").click().run()
    at.button(key="ct_create").click().run()
    return at
