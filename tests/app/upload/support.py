"""What the Upload page tests share: dropping files, reading the deck and the buttons, fixtures."""

from __future__ import annotations

import json
import time

from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT, rerun

EXAMPLES = ROOT / "examples"
BAD = ROOT / "tests" / "data" / "bad"
TRIO = "ctr_pt_position_x, ctr_pt_position_y, ctr_pt_position_z (x, y, z columns)"


def _drop(app: AppTest, name: str, raw: bytes) -> AppTest:
    app.get("file_uploader")[0].set_value((name, raw, "text/csv"))
    return rerun(app)


def _example(app: AppTest, file: str) -> AppTest:
    return _drop(app, file, (EXAMPLES / file).read_bytes())


def _box(app: AppTest, label: str):
    found = [s for s in app.selectbox if s.label == label]
    assert len(found) == 1, [s.label for s in app.selectbox]
    return found[0]


def _deck(app: AppTest) -> dict:
    charts = app.get("deck_gl_json_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.json)


def _tables(app: AppTest, *columns: str) -> list:
    """Dataframes shown whose first columns are ``columns``, in page order."""
    return [
        d.value for d in app.dataframe if list(d.value.columns)[: len(columns)] == list(columns)
    ]


def _layer(spec: dict, layer_id: str) -> dict:
    return next(layer for layer in spec["layers"] if layer["id"] == layer_id)


def _buttons(app: AppTest) -> dict:
    return {b.key: b for b in app.button if b.key}


def _until_finished(app: AppTest, timeout: float = 60) -> AppTest:
    """Rerun (as the page's progress fragment does) until no upload runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rerun(app)
        if "up_another" in _buttons(app) or "up_submit" in _buttons(app):
            return app
        time.sleep(0.1)
    raise AssertionError("the upload did not finish")
