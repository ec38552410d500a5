"""What the Edit page tests share: fixtures, reading the grid, seeding its edit state."""

from __future__ import annotations

from tests.app.conftest import rerun

CELL_TYPES = ["pyramidal", "basket", "<script>alert(1)</script> **bold**", "chandelier"]


def _grid(app):
    assert len(app.data_editor) == 1, "expected one data editor"
    return app.data_editor[0]


def _ids(app) -> list[int]:
    frames = app.data_editor or app.dataframe
    return [int(i) for i in frames[0].value["id"]]


def _edit(app, edited_rows: dict) -> None:
    """Seed the grid's edits the way the browser reports them, then run."""
    app.session_state[_grid(app).key] = {
        "edited_rows": edited_rows,
        "added_rows": [],
        "deleted_rows": [],
    }
    rerun(app)


def _tables_with(app, column: str) -> list:
    """The shown tables (st.dataframe keeps no key in AppTest) that have ``column``."""
    return [d.value for d in app.dataframe if column in d.value.columns]


def _table_with(app, column: str):
    found = _tables_with(app, column)
    assert len(found) == 1, [list(f.columns) for f in found]
    return found[0]


def _captions(app) -> list[str]:
    return [c.value for c in app.caption]
