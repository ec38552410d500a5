"""Upload page: drop files, the mapping, the report, the 3D deck, background upload, updates."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT, alerts, open_page, rerun
from tests.app.upload.support import (
    BAD,
    TRIO,
    _box,
    _buttons,
    _deck,
    _drop,
    _example,
    _layer,
    _tables,
    _until_finished,
)
from ui import upload_jobs as uj


def test_without_a_file_the_page_offers_examples_a_template_and_create(app, syn):
    open_page(app, "upload")
    assert app.selectbox(key="up_table").value == "syn"
    assert app.button(key="up_create").label == "Create a new table instead"
    assert app.selectbox(key="up_example").options == [
        "synapses_4x4x40.csv",
        "cell_types_split_xyz.csv",
        "tags_excel_semicolon.csv",
        "synapses_broken.csv",
    ]
    assert alerts(app, "info")[0].startswith("Drop a CSV file above, or try an example.")
    assert "up_template" in [b.key for b in app.get("download_button")]


def test_a_dropped_file_is_mapped_checked_and_drawn(app, syn):
    open_page(app, "upload")
    _example(app, "synapses_4x4x40.csv")
    assert _box(app, "ctr_pt_position (required)").value == TRIO
    assert _box(app, "size").value == "size"
    assert _box(app, "id").value == "(no column)"
    assert [s.value for s in app.success] == [
        "All 240 rows are valid, with 1 warning to read; ready to upload\\."
    ]
    counts = _tables(app, "problem")[0]
    assert counts[["problem", "severity", "rows"]].values.tolist() == [
        ["column not used", "warning", 1]
    ]
    spec = _deck(app)
    assert [v["@@type"] for v in spec["views"]] == ["OrbitView"]
    assert "mapStyle" not in spec and "http" not in charts_json(app)
    assert [layer["id"] for layer in spec["layers"]] == [
        "bounds",
        "axis-ticks",
        "axis-labels",
        "points-0",
    ]
    points = _layer(spec, "points-0")
    assert len(points["data"]) == 240 and points["getFillColor"] == [0, 114, 178]
    assert points["data"][0]["t"].startswith(
        "line: 2\nsize: 369\nvoxels (4 x 4 x 40 nm): [180672, 141506, 21477]\n"
        "nm: [722688, 566024, 859080]"
    )
    assert any("240 of 240 points drawn." in c.value for c in app.caption)
    first = charts_json(app)
    rerun(app)
    assert charts_json(app) == first  # the same bytes: Streamlit resends nothing
    assert app.button(key="up_submit").label == "Upload 240 rows to table syn"
    assert not app.button(key="up_submit").disabled
    assert syn.get_annotation_count("syn") == 0  # nothing stored before Upload


def charts_json(app: AppTest) -> str:
    return app.get("deck_gl_json_chart")[0].proto.json


def test_colours_legend_existing_points_and_vocabulary_warnings(app, cells):
    client, _ = cells
    open_page(app, "upload")
    _example(app, "cell_types_split_xyz.csv")
    assert _box(app, "pt_position (required)").value == "x, y, z (x, y, z columns)"
    assert _box(app, "Colour by a column of your file").value == "cell_type"
    spec = _deck(app)
    existing = _layer(spec, "existing")
    assert len(existing["data"]) == 30 and existing["getFillColor"] == [150, 150, 150, 110]
    coloured = [layer for layer in spec["layers"] if layer["id"].startswith("points-")]
    assert sum(len(layer["data"]) for layer in coloured) == 60
    assert _layer(spec, "points-0")["getFillColor"] == [0, 114, 178]
    legend = _tables(app, "colour", "value", "rows")[0]
    assert (
        legend["value"].iloc[0] == "pyramidal"
        and legend["value"].iloc[-1] == "already in the table"
    )
    assert legend["rows"].iloc[-1] == 30
    warnings = _tables(app, "line", "column", "value", "message")[-1]
    unknown = warnings[warnings["column"] == "cell_type"]
    assert unknown["line"].tolist() == ["9", "25", "43", "54"]
    assert unknown["value"].tolist() == ["pyramidial", "L5 ET", "PyC", "Basket cell"]
    _box(app, "Colour by a column of your file").select("(one colour)").run()
    assert [layer["id"] for layer in _deck(app)["layers"]][-2:] == ["existing", "points-0"]
    assert client.get_annotation_count("cells") == 30


def test_a_broken_file_lists_its_problems_marks_them_red_and_stores_nothing(app, syn):
    open_page(app, "upload")
    _example(app, "synapses_broken.csv")
    assert alerts(app)[0].startswith("5 of 12 rows have problems")
    problems = _tables(app, "line", "column", "value", "message")[0]
    assert problems["line"].tolist() == ["4", "6", "8", "10", "12"]
    assert problems["column"].tolist() == [
        "post_pt_position",
        "size",
        "pre_pt_position",
        "size",
        "ctr_pt_position",
    ]
    assert problems["value"].tolist()[1:] == [
        "12O",
        "[180187, 144031]",
        "312,5",
        "see notebook p. 12",
    ]
    assert problems["message"].tolist()[1:3] == [
        "'12O' is not a number",
        "'[180187, 144031]' has 2 numbers; a position needs 3: x, y, z",
    ]
    assert "'312,5' uses a decimal comma" in problems["message"].tolist()[3]
    counts = _tables(app, "problem")[0]
    assert dict(zip(counts["problem"], counts["rows"], strict=True)) == {
        "not a number": 1,
        "decimal comma (1,5 for 1.5)": 1,
        "position is not 3 numbers": 2,
        "empty required cell": 1,
    }
    assert counts["first"].tolist()[0] != "None"
    marked = _layer(_deck(app), "marked")
    assert marked["getFillColor"] == [220, 38, 38]
    assert [p["t"].split("\n")[0] for p in marked["data"]] == [
        "line: 4",
        "line: 6",
        "line: 8",
        "line: 10",
    ]
    assert app.button(key="up_submit").disabled
    assert "Fix the problems listed in step 5 first" in " ".join(c.value for c in app.caption)
    assert syn.get_annotation_count("syn") == 0


def test_a_refused_file_says_why_and_offers_no_upload(app, syn):
    open_page(app, "upload")
    _drop(app, "**cells**.csv", (BAD / "03_xlsx_renamed.csv").read_bytes())
    assert alerts(app) == [
        "The file '**cells**.csv' is not a CSV text file: it is a zip "
        "archive (an Excel .xlsx workbook is one). Open it in its program "
        "and export the sheet as 'CSV UTF-8'."
    ]
    assert any("\\*\\*cells\\*\\*" in m.value for m in app.markdown)  # the name, escaped
    assert "up_submit" not in _buttons(app)
    assert syn.get_annotation_count("syn") == 0


def test_upload_runs_in_the_background_and_a_second_submit_stores_nothing(app, syn):
    open_page(app, "upload")
    _example(app, "synapses_4x4x40.csv")
    app.button(key="up_submit").click().run()
    assert "up_submit" not in _buttons(app)  # no second click while it runs
    _until_finished(app)
    assert alerts(app, "success") == ["Stored 240 new annotations in table 'syn', ids 1 to 240."]
    rows = _tables(app, "line", "id")[-1]
    assert rows[["line", "id", "size"]].values.tolist()[:2] == [[2, 1, "369"], [3, 2, "235"]]
    assert "up_result_download" in [b.key for b in app.get("download_button")]
    assert syn.get_annotation_count("syn") == 240

    # another tab (a new session) drops the same file: the upload is found, not repeated
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    other.run()
    open_page(other, "upload")
    _example(other, "synapses_4x4x40.csv")
    assert "up_submit" not in _buttons(other)
    (said,) = alerts(other, "info")  # not news there: when, by whom, which ids
    assert re.fullmatch(
        r"This file was uploaded to table 'syn' on \d{4}-\d\d-\d\d \d\d:\d\d by admin, as "
        r"ids 1 to 240; nothing was stored again\. All 240 are still live\.",
        said,
    )
    # after a server restart the registry is empty: anno_core remembers the upload key
    uj.jobs.clear()
    rerun(app)
    assert alerts(app, "success")[0] == "Stored 240 new annotations in table 'syn', ids 1 to 240."
    third = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    third.run()
    open_page(third, "upload")
    _example(third, "synapses_4x4x40.csv")
    assert alerts(third, "info")[0].startswith("This file was uploaded to table 'syn' on ")
    assert "up_submit" not in _buttons(app) and "up_submit" not in _buttons(third)
    assert syn.get_annotation_count("syn") == 240
    app.button(key="up_another").click().run()
    assert app.get("file_uploader")[0].value is None
    assert alerts(app, "info")[0].startswith("Drop a CSV file above")


def test_a_double_submit_starts_one_upload():
    class Plan:  # the two calls the registry makes on an anno_core UploadPlan
        table_name, update = "t", False

        class data:  # noqa: N801
            rows = 1

        def __init__(self):
            self.started = 0

        def start(self, upload_key):
            self.started += 1
            from anno_core.ingest.plan import UploadTask

            return UploadTask(total=1)

    registry, plan = uj.Jobs(), Plan()
    first, started = registry.submit("k", ("scope",), plan, file_name="f.csv")
    again, started_again = registry.submit("k", ("scope",), plan, file_name="f.csv")
    assert started and not started_again and again is first and plan.started == 1
    first.task.state = "failed"  # a refused upload may be tried again
    assert registry.submit("k", ("scope",), plan, file_name="f.csv")[1]
    assert plan.started == 2


def _draws_a_job_that_just_ended() -> None:
    """A page that saw an upload running, and it ended before its progress was drawn."""
    from types import SimpleNamespace

    import streamlit as st

    from ui import upload_preview as up

    runs = st.session_state.setdefault("runs", [])
    runs.append(len(runs) + 1)
    if len(runs) == 1:
        done = SimpleNamespace(running=False, task=SimpleNamespace(fraction=1.0))
        up.progress([done], "mine", watched=[done])
        st.stop()
    st.success("shown as ended")


def test_an_upload_that_ends_while_the_page_draws_it_reruns_the_page_at_once():
    """Not left on "Uploading" waiting for a timer that was never set (a browser test saw
    the page stay there after the rows were stored)."""
    at = AppTest.from_function(_draws_a_job_that_just_ended, default_timeout=30)
    at.run()
    assert at.session_state["runs"] == [1, 2]
    assert [s.value for s in at.success] == ["shown as ended"]
