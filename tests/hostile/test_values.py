"""Item 7: no value is changed without a word. Each odd value is refused by line and column,
or stored exactly as written, or (formulas) stored with a warning naming the line."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
import requests

from anno_core.errors import InvalidArgument, ValidationFailed
from anno_core.wire import endpoints as ep

EXACT = 9007199254740993  # 2**53 + 1: the first whole number a float64 cannot hold


@pytest.fixture
def coreg(client) -> str:
    client.create_table("coreg", "microns_func_coreg", "values [pytest]", [4, 4, 40])
    return "coreg"


@pytest.fixture
def syn(client) -> str:
    client.create_table("syn", "synapse", "values [pytest]", [4, 4, 40])
    return "syn"


@pytest.fixture
def tags(client) -> str:
    client.create_table("tags", "bound_tag", "values [pytest]", [4, 4, 40])
    return "tags"


def _refused(call, line: int, column: str, kind: str | None = None) -> None:
    with pytest.raises(ValidationFailed) as err:
        call()
    problem = err.value.report.errors.iloc[0]
    assert (problem["line"], problem["column"]) == (line, column), err.value.message
    if kind:
        assert problem["kind"] == kind


@pytest.mark.parametrize("cell", ["0x10", "0X1F", "1e-400", "9007199254740993.5"])
def test_a_whole_number_field_refuses_what_it_would_change(client, coreg, cell):
    csv = f"func_id,pt_position\n7,1 2 3\n{cell},1 2 3\n".encode()
    _refused(lambda: client.ingest_csv(coreg, csv), 3, "func_id")
    record = {"pt": {"position": [1, 2, 3]}, "func_id": cell}
    _refused(lambda: client.post_annotation(coreg, [record]), 1, "func_id")
    assert client.get_annotation_count(coreg) == 0


def test_whole_numbers_written_as_floats_keep_every_digit(client, coreg):
    csv = f"func_id,pt_position\n{EXACT}.0,1 2 3\n{EXACT},1 2 3\n1e19,1 2 3\n".encode()
    _refused(lambda: client.ingest_csv(coreg, csv), 4, "func_id", "integer_too_large")
    csv = f"func_id,pt_position\n{EXACT}.0,1 2 3\n{EXACT}.000,4 5 6\n".encode()
    ids = client.ingest_csv(coreg, csv)
    assert [r["func_id"] for r in client.get_annotation(coreg, ids)] == [EXACT, EXACT]


def test_over_http_a_float_literal_keeps_its_digits(server, volume):
    server.connect(aligned_volume=volume).create_table(
        "coreg", "microns_func_coreg", "values [pytest]", [4, 4, 40]
    )
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name="coreg")
    body = f'{{"annotations": [{{"pt": {{"position": [1, 2, 3]}}, "func_id": {EXACT}.0}}]}}'
    headers = {
        "Authorization": f"Bearer {server.tokens['admin']}",
        "Content-Type": "application/json",
    }
    r = requests.post(url, data=body, headers=headers)
    assert r.status_code == 200, r.text
    got = server.connect(aligned_volume=volume).get_annotation("coreg", r.json())
    assert got[0]["func_id"] == EXACT


@pytest.mark.parametrize("cell", ["1e-400", "-2.5E-999"])
def test_a_number_too_close_to_zero_is_refused_not_stored_as_zero(client, syn, cell):
    csv = (
        "size,pre_pt_position,post_pt_position,ctr_pt_position\n"
        f"1.5,1 2 3,1 2 3,1 2 3\n{cell},1 2 3,1 2 3,1 2 3\n"
    ).encode()
    _refused(lambda: client.ingest_csv(syn, csv), 3, "size", "number_out_of_range")
    csv = (
        f"size,pre_pt_position,post_pt_position,ctr_pt_position\n1.5,1 {cell} 3,1 2 3,1 2 3\n"
    ).encode()
    _refused(lambda: client.ingest_csv(syn, csv), 2, "pre_pt_position", "bad_position")
    client.create_table("one", "bound_tag", "values [pytest]", [4, 4, 40])
    csv = f"tag,pt_position_x,pt_position_y,pt_position_z\na,{cell},2,3\n".encode()
    # three columns: each cell is read on its own and named by the file's column
    _refused(lambda: client.ingest_csv("one", csv), 2, "pt_position_x", "number_out_of_range")
    assert client.get_annotation_count(syn) == 0
    assert client.ingest_csv("one", csv.replace(cell.encode(), b"0.0")) == [1]  # a real 0


def test_text_after_a_closing_quote_is_refused_by_line(client, tags):
    csv = b'tag,pt_position\na,1 2 3\n"x"y,1 2 3\n'
    with pytest.raises(ValidationFailed, match="Line 3 has text right after a closing quote"):
        client.ingest_csv(tags, csv)
    assert client.ingest_csv(tags, b'tag,pt_position\n"x""y",1 2 3\n') == [1]
    assert client.get_annotation(tags, 1)[0]["tag"] == 'x"y'


def test_every_formula_start_a_spreadsheet_runs_is_warned_about_by_line(client, tags):
    cells = ["=1+1", "+A1", "-abc", "@SUM(A1)", "\tx", "\rx", "-5", "+1.5", "-", "a-b", "5+"]
    frame = pd.DataFrame({"tag": cells, "pt_position": [[1, 2, 3]] * len(cells)})
    plan = client.open_upload(tags, frame.to_csv(index=False, quoting=csv.QUOTE_ALL).encode())
    warned = plan.check().report.warnings
    formulas = warned[warned["kind"] == "formula_text"]
    assert sorted(formulas["line"]) == [2, 3, 4, 5, 6, 7]  # the header is line 1
    ids = client.post_annotation(tags, [{"pt": {"position": [1, 2, 3]}, "tag": c} for c in cells])
    assert [r["tag"] for r in client.get_annotation(tags, ids)] == cells  # stored as typed


@pytest.mark.parametrize(
    "args,words",
    [
        ({"voxel_resolution": [True, 4, 40]}, "voxel_resolution"),
        ({"voxel_resolution": [4, 4, 40], "notice_text": {"a": 1}}, "notice"),
        ({"voxel_resolution": [4, 4, 40], "notice_text": 5}, "notice"),
    ],
)
def test_metadata_of_the_wrong_type_is_refused_not_turned_into_text(client, args, words):
    with pytest.raises(InvalidArgument, match=words):
        client.create_table("t", "synapse", "d", **args)
    assert client.get_tables() == []
    client.create_table("t", "synapse", "d", [4, 4, 40])
    with pytest.raises(InvalidArgument, match="notice"):
        client.update_metadata("t", notice_text={"a": 1})
    assert client.get_table_metadata("t")["notice_text"] is None


def test_dates_are_no_positions_and_no_numbers(client, tags, syn):
    when = pd.to_datetime(["2024-01-01"])
    frame = pd.DataFrame(
        {"tag": ["a"], "pt_position_x": when, "pt_position_y": [1.0], "pt_position_z": [2.0]}
    )
    _refused(
        lambda: client.post_annotation_df(tags, frame, position_columns=None), 0, "pt_position"
    )
    frame = pd.DataFrame(
        {
            "pre_pt_position": [[1, 2, 3]],
            "post_pt_position": [[1, 2, 3]],
            "ctr_pt_position": [[1, 2, 3]],
            "size": when,
        }
    )
    _refused(lambda: client.post_annotation_df(syn, frame, position_columns=None), 0, "size")
    staged = client.stage_annotations(tags, annotation_resolution=[2, 2, 2])  # scaled
    dates = {"tag": ["a"], "pt_position": when}
    with pytest.raises(ValidationFailed):
        staged.add_dataframe(pd.DataFrame(dates))
        client.upload_staged_annotations(staged)
    assert client.get_annotation_count(tags) == 0
    assert client.get_annotation_count(syn) == 0
