"""Upload page, second pass (issue 13): what a first-time user with 14,836 hemibrain synapses
tripped on. Each test drives the real page through app.py and checks what is stored through
anno_core."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ui import upload_jobs as uj

from .conftest import ROOT, alerts, open_page, rerun

HEMIBRAIN_8NM = [  # hemibrain synapses in 8 x 8 x 8 nm voxels
    (4311, 23114, 16031),
    (4412, 23515, 16132),
    (4913, 24216, 17233),
    (5614, 25117, 18334),
    (6015, 25818, 19035),
    (6516, 26019, 19636),
]


def _csv(rows, bad_x_line: int | None = None) -> bytes:
    out = ["connector_id,node_id,type,x,y,z,roi,confidence,neuron"]
    for i, (x, y, z) in enumerate(rows):
        line = i + 2
        xs = "abc" if line == bad_x_line else str(x)
        out.append(f"{i},{100 + i},{'pre' if i % 2 else 'post'},{xs},{y},{z},EB,0.9,n{i % 3}")
    return ("\n".join(out) + "\n").encode()


@pytest.fixture(autouse=True)
def _fresh_registry():
    uj.jobs.clear()
    yield
    uj.jobs.clear()


@pytest.fixture
def volume(client):
    """An empty bound_double_tag table at 4, 4, 40 nm beside a table holding the same neuron's
    synapses in nm (as hemibrain's own table would)."""
    client.create_table("hemi_nm", "bound_tag", "hemibrain points in nm [pytest]", [1, 1, 1])
    client.post_annotation(
        "hemi_nm",
        [{"pt": {"position": [8 * x, 8 * y, 8 * z]}, "tag": "syn"} for x, y, z in HEMIBRAIN_8NM],
    )
    client.create_table("syn_tags", "bound_double_tag", "synapse tags [pytest]", [4, 4, 40])
    return client


def _open(app: AppTest, table: str, name: str, raw: bytes) -> AppTest:
    open_page(app, "upload")
    app.selectbox(key="up_table").select(table).run()
    app.get("file_uploader")[0].set_value((name, raw, "text/csv"))
    rerun(app)
    return app


def _map_tags(app: AppTest) -> None:
    _box(app, "tag (required)").select("type")
    _box(app, "tag2 (required)").select("neuron").run()


def _box(app: AppTest, label: str):
    (found,) = [s for s in app.selectbox if s.label == label]
    return found


def _unit(app: AppTest):
    (radio,) = [r for r in app.radio if r.label == "Unit of the positions in your file"]
    return radio


def _problems(app: AppTest):
    return next(
        d.value
        for d in app.dataframe
        if list(d.value.columns)[:4] == ["line", "column", "value", "message"]
    )


def _points(app: AppTest) -> list[dict]:
    (chart,) = app.get("deck_gl_json_chart")
    spec = json.loads(chart.proto.json)
    return [
        p for layer in spec["layers"] if layer["id"].startswith("points-") for p in layer["data"]
    ]


def _until_finished(app: AppTest, timeout: float = 60) -> AppTest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rerun(app)
        keys = {b.key for b in app.button if b.key}
        if "up_another" in keys or "up_submit" in keys:
            return app
        time.sleep(0.1)
    raise AssertionError("the upload did not finish")


def test_one_bad_cell_keeps_its_columns_unit_conversion_and_the_extent_check(app, volume):
    """Item 1 (and 4): 'abc' in one x cell; the others are converted, only it is marked."""
    _open(app, "syn_tags", "hemi.csv", _csv(HEMIBRAIN_8NM, bad_x_line=5))
    _map_tags(app)
    _unit(app).set_value("hemibrain (8, 8, 8 nm)").run()
    problems = _problems(app)
    assert problems[["line", "column", "value", "message"]].values.tolist() == [
        ["5", "x", "abc", "'abc' is not a number"]
    ]
    assert alerts(app)[0].startswith(
        "1 of 6 rows has problems, nothing was stored: line 5, column 'x': 'abc' is not a number"
    )
    assert not app.warning  # the unit was right: no extent warning
    tips = {p["t"].split("\n")[0]: p["t"] for p in _points(app)}
    assert "line: 5" not in tips  # the bad row has no position to draw
    # x converted like y and z: 4311 voxels of 8 nm are 34488 nm, 8622 table voxels
    assert "voxels (4 x 4 x 40 nm): [8622, 46228, 3206.2]" in tips["line: 2"]
    assert "nm: [34488, 184912, 128248]" in tips["line: 2"]
    assert volume.get_annotation_count("syn_tags") == 0


def test_an_empty_table_is_checked_against_the_volume_and_offers_data_set_units(app, volume):
    """Item 3: hemibrain voxels read in the table's 4, 4, 40 nm are named, with the fix."""
    _open(app, "syn_tags", "hemi.csv", _csv(HEMIBRAIN_8NM))
    _map_tags(app)
    assert _unit(app).options == [
        "same as the table (4, 4, 40 nm)",
        "nm",
        "hemibrain (8, 8, 8 nm)",
        "FAFB / FlyWire (4, 4, 40 nm)",
        "MICrONS (4, 4, 40 nm)",
        "H01 (8, 8, 33 nm)",
        "other voxel size",
    ]
    assert alerts(app, "success")[0].startswith("All 6 rows are valid")
    (warning,) = [a.value for a in app.warning]
    assert "than the points of the other tables in this aligned volume" in warning
    assert "these look like 8, 8, 8 nm voxels read as 4, 4, 40 nm voxels" in warning
    assert any("compared with those of 1 other table" in c.value for c in app.caption)
    app.button(key="up_use_unit").click().run()
    assert _unit(app).value == "hemibrain (8, 8, 8 nm)"
    assert not app.warning


def test_an_admins_bounds_catch_what_no_other_table_can(app, client):
    """Item 3: with no points anywhere, the bounds an admin set on the volume in nm."""
    client.create_table("syn_tags", "bound_double_tag", "synapse tags [pytest]", [4, 4, 40])
    _open(app, "syn_tags", "hemi.csv", _csv(HEMIBRAIN_8NM))
    _map_tags(app)
    assert not app.warning
    assert any("no bounds are set" in c.value for c in app.caption)
    for axis, high in zip("xyz", (60_000.0, 220_000.0, 160_000.0), strict=True):
        app.number_input(key=f"up_b_max{axis}").set_value(high)
    app.button(key="up_bounds_save").click().run()
    assert client.get_volume_extent()["bounds"] == [[0, 0, 0], [60_000, 220_000, 160_000]]
    (warning,) = [a.value for a in app.warning]
    assert "than the aligned volume's bounds in z" in warning
    assert "these look like 8, 8, 8 nm voxels read as 4, 4, 40 nm voxels" in warning


def test_a_stored_then_deleted_file_says_so_and_uploads_again_only_when_asked(app, volume):
    """Item 2: never 'Stored' in green for ids that are all deleted."""
    raw = _csv(HEMIBRAIN_8NM)
    _open(app, "syn_tags", "hemi.csv", raw)
    _map_tags(app)
    _unit(app).set_value("hemibrain (8, 8, 8 nm)").run()
    app.button(key="up_submit").click().run()
    _until_finished(app)
    ids = volume.query_annotations("syn_tags")["id"].tolist()
    assert ids == [1, 2, 3, 4, 5, 6]
    volume.delete_annotation("syn_tags", ids)

    _open(app, "syn_tags", "hemi.csv", raw)  # the same file, dropped again
    assert not app.success
    (said,) = alerts(app, "warning")
    assert re.fullmatch(
        r"This file was uploaded to table 'syn_tags' on \d{4}-\d\d-\d\d \d\d:\d\d by admin, "
        r"as ids 1 to 6; nothing was stored again\. Of its 6 rows, 0 are still live and 6 "
        r"deleted\.",
        said,
    )
    shown = next(d.value for d in app.dataframe if "state" in d.value.columns)
    assert shown["state"].tolist() == ["deleted"] * 6
    assert app.button(key="up_again").disabled  # behind a confirmation
    sure = next(c.key for c in app.checkbox if c.key.startswith("up_again_sure"))
    app.checkbox(key=sure).check().run()
    app.button(key="up_again").click().run()
    assert alerts(app, "info")[0].startswith("This file was uploaded before (on ")
    assert app.button(key="up_submit").label == "Upload 6 rows again to table syn\\_tags"
    app.button(key="up_submit").click().run()
    _until_finished(app)
    assert alerts(app, "success")[0] == (
        "Stored 6 new annotations in table 'syn_tags', ids 7 to 12."
    )
    assert volume.get_live_count("syn_tags") == 6 and volume.get_annotation_count("syn_tags") == 12


def test_a_corrected_file_keeps_the_mapping_the_unit_and_the_colour(app, volume):
    """Item 6: same columns, new content: nothing to choose again."""
    _open(app, "syn_tags", "hemi.csv", _csv(HEMIBRAIN_8NM, bad_x_line=5))
    _map_tags(app)
    _unit(app).set_value("hemibrain (8, 8, 8 nm)").run()
    _box(app, "Colour by a column of your file").select("roi").run()
    app.get("file_uploader")[0].set_value(("hemi_fixed.csv", _csv(HEMIBRAIN_8NM), "text/csv"))
    rerun(app)
    assert _box(app, "tag (required)").value == "type"
    assert _box(app, "tag2 (required)").value == "neuron"
    assert _unit(app).value == "hemibrain (8, 8, 8 nm)"
    assert _box(app, "Colour by a column of your file").value == "roi"
    assert alerts(app, "success")[0].startswith("All 6 rows are valid")


def test_columns_the_schema_cannot_keep_are_named_with_schemas_that_keep_more(app, volume):
    """Item 7 and 11: name the columns lost, suggest schemas, create one, come back."""
    _open(app, "syn_tags", "hemi.csv", _csv(HEMIBRAIN_8NM))
    _map_tags(app)
    kept = next(a for a in alerts(app, "info") if "not stored" in a)
    assert kept.startswith(
        "4 of your 9 columns are not stored: 'connector_id', 'node_id', 'roi', 'confidence'."
    )
    fits = [b for b in app.button if b.key and b.key.startswith("up_fit_")]
    assert fits and fits[0].label == "Create such a table"
    fits[0].click().run()
    assert [t.value for t in app.title] == ["Create table"]
    open_page(app, "create_table")  # AppTest follows st.switch_page for one run only
    schema = app.session_state["ct_schema"]
    assert app.selectbox(key="ct_schema").value == schema
    app.text_input(key="ct_name").input("hemi_full").run()
    app.text_area(key="ct_description").input("all columns [pytest]").run()
    app.button(key="ct_review_button").click().run()
    app.button(key="ct_create").click().run()
    assert [t.value for t in app.title] == ["Upload"]
    assert app.selectbox(key="up_table").value == "hemi_full"  # back on Upload, chosen
    assert volume.get_table_metadata("hemi_full")["schema_type"] == schema


def test_create_a_new_table_instead_comes_back_with_it_chosen(app, volume):
    """Item 11."""
    open_page(app, "upload")
    app.button(key="up_create").click().run()
    assert [t.value for t in app.title] == ["Create table"]
    open_page(app, "create_table")  # AppTest follows st.switch_page for one run only
    assert any("you go back to Upload" in c.value for c in app.caption)
    app.selectbox(key="ct_schema").select("bound_tag").run()
    app.text_input(key="ct_name").input("fresh").run()
    app.text_area(key="ct_description").input("fresh [pytest]").run()
    app.button(key="ct_review_button").click().run()
    app.button(key="ct_create").click().run()
    assert app.selectbox(key="up_table").value == "fresh"
    assert [t.value for t in app.title] == ["Upload"]


def test_the_table_picker_survives_a_reload(app_env, volume):
    """Item 11: a reload is a new session; the address still names the table."""
    first = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    first.run()
    open_page(first, "upload")
    first.selectbox(key="up_table").select("syn_tags").run()
    assert first.query_params["table"] in ("syn_tags", ["syn_tags"])
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    again.query_params["table"] = "syn_tags"
    again.run()
    open_page(again, "upload")
    assert again.selectbox(key="up_table").value == "syn_tags"


def test_a_decimal_comma_file_is_read_once_the_reading_is_chosen(app, client):
    """Item 4: '1,5' in a ';' file is named as a decimal comma, and read as one on demand."""
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    body = b"x;y;z;tag\n1,5;2;3;a\n4;5,25;6;b\n"
    _open(app, "tags", "komma.csv", body)
    problems = _problems(app)
    assert problems["value"].tolist() == ["1,5", "5,25"]
    assert "uses a decimal comma" in problems["message"].iloc[0]
    app.button(key="up_use_comma").click().run()
    assert alerts(app, "success")[0].startswith("All 2 rows are valid")
    app.button(key="up_submit").click().run()
    _until_finished(app)
    got = client.query_annotations("tags")[["pt_position_x", "pt_position_y"]].values.tolist()
    assert got == [[1.5, 2.0], [4.0, 5.25]]


def test_line_numbers_never_show_none(app, client):
    """Item 5: a warning about a whole column has no line, and shows none."""
    client.create_table("syn", "synapse", "syn [pytest]", [4, 4, 40])
    open_page(app, "upload")
    raw = (ROOT / "examples" / "synapses_4x4x40.csv").read_bytes()
    app.get("file_uploader")[0].set_value(("s.csv", raw, "text/csv"))
    rerun(app)
    counts = next(d.value for d in app.dataframe if list(d.value.columns)[:1] == ["problem"])
    assert counts["first"].tolist() == [""]
    raw = (ROOT / "examples" / "cell_types_split_xyz.csv").read_bytes()
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    rerun(app)
    app.selectbox(key="up_table").select("cells").run()
    app.get("file_uploader")[0].set_value(("c.csv", raw, "text/csv"))
    rerun(app)
    counts = next(d.value for d in app.dataframe if list(d.value.columns)[:1] == ["problem"])
    assert dict(zip(counts["problem"], counts["first"], strict=True)) == {
        "cell type outside the vocabulary": "9",  # each count with its own first line
        "column not used": "",
    }
    lines = [d.value["line"].tolist() for d in app.dataframe if "line" in d.value.columns]
    assert all("None" not in map(str, col) for col in lines)


def test_thousands_are_separated_in_the_summary():
    from anno_core.validation.report import ValidationReport

    rep = ValidationReport(rows=14_836)
    mask = np.zeros(14_836, dtype=bool)
    mask[:83] = True
    import pandas as pd

    rep.add("not_a_number", "x", mask, pd.Series(["a"] * 14_836), "bad", np.arange(14_836) + 2)
    assert rep.describe().startswith("83 of 14,836 rows have problems")
