"""Cells of a CSV file read one by one: a bad cell never drops its column's unit conversion,
and every problem names the file's column and shows the cell as typed."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from anno_core.ingest.cells import read_numbers
from anno_core.ingest.csv_frame import in_file_terms, read_rows
from anno_core.ingest.csvio import read_csv
from anno_core.ingest.frames import scale_factor
from anno_core.ingest.mapping import propose_mapping
from anno_core.schemas import schema_spec
from anno_core.validation.report import ValidationReport
from anno_core.validation.validator import validate_frame

HEMIBRAIN = (
    "connector_id,node_id,type,x,y,z,roi,confidence,neuron\n"
    "1,11,pre,4311,23114,1603.1,EB,0.9,n1\n"
    "2,12,post,4312,23115,1603.2,EB,0.8,n1\n"
    "3,13,pre,4313,23116,1603.3,FB,0.95,n2\n"
    "4,14,post,abc,23117,1603.4,FB,0.7,n2\n"
    "5,15,pre,4315,23118,1603.5,FB,0.7,n2\n"
    "6,16,post,4316,,1603.6,FB,0.7,n2\n"
)


def _check(data, spec, mapping, factor=None, decimal_comma=False) -> ValidationReport:
    """What UploadPlan.check does, without a backend: cells, then the validator, in file terms."""
    rows = read_rows(data, spec, mapping, factor, decimal_comma=decimal_comma)
    rep = ValidationReport(rows=data.rows)
    rep.merge(rows.report)
    checked = validate_frame(spec, rows.frame, lines=data.lines)
    rep.merge(in_file_terms(checked.report, data, mapping, rows.covered))
    return rep


def test_one_bad_cell_keeps_the_unit_conversion_of_its_column():
    spec = schema_spec("bound_double_tag")
    data = read_csv(HEMIBRAIN.encode())
    mapping = propose_mapping(data.columns, spec).with_changes(
        {"tag": "type", "tag2": "neuron"}, data.columns
    )
    factor = scale_factor((8, 8, 8), (4, 4, 40))  # hemibrain voxels into a 4, 4, 40 table
    rows = read_rows(data, spec, mapping, factor)
    x = rows.frame["pt_position_x"].to_numpy()
    z = rows.frame["pt_position_z"].to_numpy()
    assert x[:3].tolist() == [8622, 8624, 8626]  # every good x doubled, as y and z are scaled
    assert np.isnan(x[3]) and np.isnan(x[5])  # the bad cell and the half-given point: empty
    assert np.allclose(z[:3], [320.62, 320.64, 320.66])
    assert rows.covered["pt_position"].nonzero()[0].tolist() == [3, 5]


def test_problems_name_the_files_column_and_show_the_value_as_typed():
    spec = schema_spec("bound_double_tag")
    data = read_csv(HEMIBRAIN.encode())
    mapping = propose_mapping(data.columns, spec).with_changes(
        {"tag": "type", "tag2": "neuron"}, data.columns
    )
    rep = _check(data, spec, mapping, scale_factor((8, 8, 8), (4, 4, 40)))
    errors = rep.errors
    assert errors[["line", "column", "value"]].values.tolist() == [[5, "x", "abc"], [7, "y", ""]]
    assert errors["message"].tolist()[0] == "'abc' is not a number"
    assert rep.describe() == (
        "2 of 6 rows have problems, nothing was stored: line 5, column 'x': 'abc' is not a "
        "number; line 7, column 'y' is empty; a position needs x, y and z. Fix them and try "
        "again."
    )
    assert "0000000" not in rep.to_csv()  # no float read back anywhere


def test_spreadsheet_habits_are_named():
    col = pa.chunked_array(
        [pa.array(["1,5", "12,345", "120 nm", "1.234,5", "12 345", "abc", "NaN", None, "7"])]
    )
    cells = read_numbers(col)
    assert cells.bad.tolist() == [True, True, True, True, True, True, False, False, False]
    assert cells.nonfinite.tolist() == [False] * 6 + [True, False, False]
    rep = ValidationReport(rows=9)
    cells.report(rep, "size", np.arange(2, 11), what="number")
    found = dict(zip(rep.frame["value"], rep.frame["kind"], strict=True))
    assert found == {
        "1,5": "decimal_comma",
        "12,345": "thousands_separator",
        "120 nm": "unit_suffix",
        "1.234,5": "decimal_comma",
        "12 345": "thousands_separator",
        "abc": "not_a_number",
        "NaN": "not_finite",
    }
    messages = dict(zip(rep.frame["value"], rep.frame["message"], strict=True))
    assert "choose the 'decimal comma' reading" in messages["1,5"]
    assert "read it as 1.5" in messages["1,5"]
    assert "write it as 12345" in messages["12,345"]
    assert "'decimal comma'" in messages["12,345"]  # it may be 12.345 in a comma file
    assert "has a unit (nm)" in messages["120 nm"]


def test_the_decimal_comma_reading():
    col = pa.chunked_array([pa.array(["1,5", "1.234,5", "-0,25", "7", None, "12,345"])])
    cells = read_numbers(col, decimal_comma=True)
    assert not cells.bad.any()
    assert cells.values[:4].tolist() == [1.5, 1234.5, -0.25, 7.0]
    assert np.isnan(cells.values[4]) and cells.blank.tolist()[4]
    assert cells.values[5] == 12.345
    body = "Position X;Position Y;Position Z;Tag;Size\n1,5;2,25;3;a;4,5\n"
    data = read_csv(body.encode())
    spec = schema_spec("bound_tag")
    mapping = propose_mapping(data.columns, spec)
    plain = _check(data, spec, mapping)
    assert set(plain.errors["kind"]) == {"decimal_comma"}
    rows = read_rows(data, spec, mapping, decimal_comma=True)
    assert rows.report.ok
    assert rows.frame[["pt_position_x", "pt_position_y"]].values.tolist() == [[1.5, 2.25]]


def test_a_point_in_one_column_says_what_is_wrong_with_the_cell():
    body = 'pt_position,tag\n"[1, 2, 3]",a\n"[abc, 46228, 3029.2]",b\n"[1, 2]",c\nsee notebook,d\n'
    data = read_csv(body.encode())
    spec = schema_spec("bound_tag")
    rep = _check(
        data, spec, propose_mapping(data.columns, spec), scale_factor((8, 8, 8), (4, 4, 40))
    )
    assert rep.errors[["line", "column", "value"]].values.tolist() == [
        [3, "pt_position", "[abc, 46228, 3029.2]"],
        [4, "pt_position", "[1, 2]"],
        [5, "pt_position", "see notebook"],
    ]
    assert rep.errors["message"].tolist() == [
        "'[abc, 46228, 3029.2]': 'abc' is not a number; a position is 3 numbers x, y, z",
        "'[1, 2]' has 2 numbers; a position needs 3: x, y, z",
        "'see notebook' is not a position: write 3 numbers x, y, z like [120, 340, 56]",
    ]


def test_a_clean_column_takes_the_fast_path():
    col = pa.chunked_array([pa.array([str(i) for i in range(100_000)])])
    cells = read_numbers(col)
    assert not cells.bad.any() and cells.values[-1] == 99_999
