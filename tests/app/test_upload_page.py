"""Upload page: drop files, the mapping, the report, the 3D deck, background upload, updates."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import synapse
from ui import upload_jobs as uj

from .conftest import ROOT, alerts, open_page, rerun

EXAMPLES = ROOT / "examples"
BAD = ROOT / "tests" / "data" / "bad"
TRIO = "ctr_pt_position_x, ctr_pt_position_y, ctr_pt_position_z (x, y, z columns)"


@pytest.fixture(autouse=True)
def _fresh_registry():
    uj.jobs.clear()  # each test starts as a fresh server process, as far as uploads go
    yield
    uj.jobs.clear()


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


@pytest.fixture
def syn(client):
    client.create_table("syn", "synapse", "synapses [pytest]", [4, 4, 40])
    return client


@pytest.fixture
def cells(client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    rng = np.random.default_rng(3)
    ids = client.post_annotation(
        "cells",
        [
            {
                "pt": {
                    "position": [
                        float(v)
                        for v in rng.uniform([160_000, 100_000, 16_000], [250_000, 200_000, 27_000])
                    ]
                },
                "classification_system": "classical",
                "cell_type": "pyramidal",
            }
            for _ in range(30)
        ],
    )
    return client, ids


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


def test_update_mode_previews_changes_and_sends_only_changed_rows(app, cells):
    client, ids = cells
    before = client.get_annotation(  # positions as stored, in the table's voxels
        "cells", ids[:3]
    )
    body = "id,x,y,z,cell_type,classification_system\n" + "".join(
        f"{r['id']},{r['pt_position'][0]:.17g},{r['pt_position'][1]:.17g},"
        f"{r['pt_position'][2]:.17g},{'basket' if i == 1 else 'pyramidal'},classical\n"
        for i, r in enumerate(before)
    )
    open_page(app, "upload")
    _drop(app, "fix.csv", body.encode())
    mode = app.radio[0]
    assert mode.value == "Update the annotations named in the id column"
    assert _box(app, "id").value == "id"
    changes = _tables(app, "line", "id", "field", "old", "new")[0]
    assert changes[["line", "id", "field", "old", "new"]].values.tolist() == [
        [3, ids[1], "cell_type", "pyramidal", "basket"]
    ]
    assert any("2 rows are the same as stored and are not sent" in a for a in alerts(app, "info"))
    assert app.button(key="up_submit").label == "Update 1 annotation in table cells"
    app.button(key="up_submit").click().run()
    _until_finished(app)
    (done,) = alerts(app, "success")
    assert done.startswith("Updated 1 annotation in table 'cells'")
    assert "2 rows were the same as stored and not sent." in done
    rows = _tables(app, "line", "id")[-1]
    assert rows["id"].tolist() == ids[:3]
    assert rows["new_id"].isna().tolist() == [True, False, True]
    assert client.get_live_count("cells") == 30 and client.get_annotation_count("cells") == 31


def test_voxels_read_as_nm_are_named_and_fixed_with_one_click(app, cells):
    open_page(app, "upload")
    _example(app, "cell_types_split_xyz.csv")
    assert not app.warning  # read in the table's voxels, the points land among the others
    app.radio[0].set_value("nm").run()
    (warning,) = [a.value for a in app.warning]
    assert "these look like 4, 4, 40 nm voxels read as nm" in warning
    assert "40x less far in z" in warning
    assert any("x times 0.25, y times 0.25, z times 0.025" in c.value for c in app.caption)
    app.button(key="up_use_unit").click().run()
    assert app.radio[0].value == "same as the table (4, 4, 40 nm)"
    assert not app.warning


def test_a_mapping_is_changed_per_field_and_survives_a_page_switch(app, syn):
    body = 'Pre X,Pre Y,Pre Z,post,centre,Size (nm)\n10,20,3,"[11, 21, 3]","10.5 20.5 3",120\n'
    open_page(app, "upload")
    _drop(app, "renamed.csv", body.encode())
    assert _box(app, "pre_pt_position (required)").value == "(no column)"
    assert not alerts(app)  # a field to map is a step to do, not an error
    assert alerts(app, "info")[-2].startswith(
        "Choose a column of your file for the required fields 'ctr_pt_position', "
        "'post_pt_position', 'pre_pt_position'"
    )
    assert app.button(key="up_submit").disabled
    _box(app, "pre_pt_position (required)").select("Pre X, Pre Y, Pre Z (x, y, z columns)")
    _box(app, "post_pt_position (required)").select("post")
    _box(app, "ctr_pt_position (required)").select("centre")
    _box(app, "size").select("Size (nm)").run()
    assert [s.value for s in app.success][0].startswith("The row is valid")
    open_page(app, "tables")
    open_page(app, "upload")
    assert _box(app, "post_pt_position (required)").value == "post"
    assert _box(app, "size").value == "Size (nm)"
    assert app.button(key="up_submit").label == "Upload 1 row to table syn"
    app.button(key="up_submit").click().run()
    _until_finished(app)
    (row,) = syn.query_annotations("syn")[
        ["pre_pt_position_x", "post_pt_position_y", "size"]
    ].values.tolist()
    assert row == [10, 21, 120]


def test_a_user_who_may_not_write_can_check_but_not_upload(app, syn):
    syn.backend.users.add("bob", [])
    syn.post_annotation("syn", [synapse(i) for i in range(3)])
    rerun(app)
    app.sidebar.selectbox(key="sb_user").select("bob").run()
    open_page(app, "upload")
    _example(app, "synapses_4x4x40.csv")
    assert any("You may not add to table 'syn'" in a for a in alerts(app, "warning"))
    assert app.button(key="up_submit").disabled
    assert syn.get_annotation_count("syn") == 3


def test_the_progress_bar_survives_a_page_switch_and_a_second_tab_cannot_resubmit(app, syn):
    from anno_core.engine import db

    writer = db.WRITE_LOCKS[syn.backend.url]  # another writer holds the table: ours waits
    open_page(app, "upload")
    _example(app, "synapses_4x4x40.csv")
    with writer:
        app.button(key="up_submit").click().run()
        (bar,) = app.main.get("progress")
        assert "Uploading synapses\\_4x4x40\\.csv to table syn" in bar.proto.text
        open_page(app, "tables")  # every page's sidebar shows the upload going on
        (side,) = app.sidebar.get("progress")
        assert "synapses\\_4x4x40\\.csv to table syn" in side.proto.text
        open_page(app, "upload")  # the widgets were dropped; the file and the upload were not
        (bar,) = app.main.get("progress")
        assert "synapses\\_4x4x40\\.csv to table syn" in bar.proto.text
        assert "up_submit" not in _buttons(app)
        other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        other.run()
        open_page(other, "upload")
        _example(other, "synapses_4x4x40.csv")
        assert "up_submit" not in _buttons(other) and len(other.main.get("progress")) == 1
        assert syn.get_annotation_count("syn") == 0
    _until_finished(app)
    assert alerts(app, "success")[0].startswith("Stored 240 new annotations")
    rerun(other)  # it watched the upload run: its end is news there too
    assert alerts(other, "success")[0].startswith("Stored 240 new annotations")
    assert syn.get_annotation_count("syn") == 240


def test_an_excel_export_with_semicolons_and_a_bom_is_read(app, client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    open_page(app, "upload")
    _example(app, "tags_excel_semicolon.csv")
    assert any("read as utf-8-sig with semicolon delimiters" in c.value for c in app.caption)
    assert (
        _box(app, "pt_position (required)").value
        == "Position X, Position Y, Position Z (x, y, z columns)"
    )
    assert _box(app, "tag (required)").value == "Tag"
    assert alerts(app, "success")[0].startswith("All 25 rows are valid")
    app.button(key="up_submit").click().run()
    _until_finished(app)
    tags = client.query_annotations("tags", limit=100)["tag"].tolist()
    assert "Blutgefäß" in tags and "Artefakt; Schnittfehler" in tags and len(tags) == 25


def test_rows_that_annotate_another_table_have_no_points_but_are_checked(app, client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    (tid,) = client.post_annotation("tags", {"pt": {"position": [1, 2, 3]}, "tag": "a"})
    client.create_table(
        "types", "cell_type_reference", "types [pytest]", [4, 4, 40], reference_table="tags"
    )
    open_page(app, "upload")
    app.selectbox(key="up_table").select("types").run()
    _drop(
        app,
        "types.csv",
        f"target_id,classification_system,cell_type\n{tid},classical,"
        "basket\n999,classical,sst\n".encode(),
    )
    problems = _tables(app, "line", "column", "value", "message")[0]
    assert problems[["line", "column", "value"]].values.tolist() == [["3", "target_id", "999"]]
    assert (
        "Rows of this schema have no positions: each one annotates a row of table "
        "'tags'." in alerts(app, "info")
    )
    assert not app.get("deck_gl_json_chart")
    assert app.button(key="up_submit").disabled


def test_a_volume_without_tables_points_to_create_table(app):
    open_page(app, "upload")
    assert alerts(app, "info") == ["No tables in aligned volume 'local' yet: create one."]
    assert [p.proto.page for p in app.get("page_link")] == ["create_table"]


def test_column_names_and_values_from_the_file_stay_plain_text(app, client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    body = (
        "x,y,z,<script>alert(1)</script>,**tag** [link](http://x.org)\n1,2,3,<b>bold</b>,:red[no]\n"
    )
    open_page(app, "upload")
    _drop(app, "<img src=x>.csv", body.encode())
    assert not alerts(app)
    (kept, todo) = alerts(app, "info")
    assert "Choose a column of your file for the required field 'tag'" in todo
    assert "'<script>alert(1)</script>', '**tag** [link](http://x.org)'" in kept  # as typed
    shown = (
        [m.value for m in app.markdown]
        + [e.value for e in app.error]
        + [e.value for e in app.info]
        + [c.value for c in app.caption]
    )
    unescaped = re.compile(r"(?<!\\)<|(?<!\\)\[link")  # what Markdown would act on
    assert [v for v in shown if unescaped.search(v)] == []
    assert any("\\<img src=x\\>" in v for v in shown)  # the file name, escaped
    assert "<script>alert(1)</script>" in _box(app, "tag (required)").options
