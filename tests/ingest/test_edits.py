"""Table-view edits without a backend: which columns can change, typed filter values."""

from __future__ import annotations

import pytest

from anno_core.errors import InvalidArgument
from anno_core.ingest.edits import edit_columns, filter_value


def test_edit_columns_give_each_axis_and_kind():
    cols = {c.column: c for c in edit_columns("synapse")}
    assert list(cols) == [
        "ctr_pt_position_x",
        "ctr_pt_position_y",
        "ctr_pt_position_z",
        "post_pt_position_x",
        "post_pt_position_y",
        "post_pt_position_z",
        "pre_pt_position_x",
        "pre_pt_position_y",
        "pre_pt_position_z",
        "size",
    ]
    assert (cols["pre_pt_position_y"].field, cols["pre_pt_position_y"].axis) == (
        "pre_pt_position",
        "y",
    )
    assert cols["size"].kind == "float" and not cols["size"].required
    kinds = {c.column: c.kind for c in edit_columns("bound_tag")}
    assert kinds["tag"] == "str"


@pytest.mark.parametrize(
    ("column", "text", "value"),
    [
        ("size", " 120 ", 120.0),
        ("size", "1,200.5", 1200.5),
        ("pre_pt_position_x", "7", 7.0),
    ],
)
def test_filter_values_are_parsed_by_kind(column, text, value):
    assert filter_value("synapse", column, text) == value


@pytest.mark.parametrize(
    ("schema", "column", "text", "sentence"),
    [
        ("synapse", "size", "big", "size holds a number, like 120; 'big' is not one."),
        ("synapse", "size", "nan", "size holds a number, like 120; 'nan' is not one."),
        ("synapse", "size", "  ", "Type the value of size to look for."),
        ("synapse", "valid", "true", "Rows cannot be filtered on 'valid'"),
        ("bound_tag", "tag", " a b ", None),
    ],
)
def test_filter_values_refused_in_a_sentence(schema, column, text, sentence):
    if sentence is None:
        assert filter_value(schema, column, text) == "a b"
        return
    with pytest.raises(InvalidArgument) as err:
        filter_value(schema, column, text)
    assert str(err.value).startswith(sentence)
