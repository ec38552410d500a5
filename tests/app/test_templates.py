"""anno_core.templates: the CSV header an upload needs, accepted by the validation."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from anno_core.errors import SchemaNotFound
from anno_core.ingest.templates import csv_template, template_columns
from anno_core.schemas import schema_names, schema_spec
from anno_core.validation.validator import validate_frame


def test_synapse_template():
    assert csv_template("synapse") == (
        "ctr_pt_position_x,ctr_pt_position_y,ctr_pt_position_z,"
        "post_pt_position_x,post_pt_position_y,post_pt_position_z,"
        "pre_pt_position_x,pre_pt_position_y,pre_pt_position_z,size\n"
    )


def test_required_fields_come_first_and_auto_filled_ones_are_left_out():
    cols = template_columns("bound_tag_user")
    assert cols == ["pt_position_x", "pt_position_y", "pt_position_z", "tag"]
    assert template_columns("cell_type_reference") == [
        "cell_type",
        "classification_system",
        "target_id",
    ]


@pytest.mark.parametrize("schema", schema_names())
def test_a_filled_template_passes_validation(schema):
    spec = schema_spec(schema)
    frame = pd.read_csv(io.StringIO(csv_template(schema)))
    assert list(frame.columns) == template_columns(schema)
    row = {}
    for f in spec.user_fields:
        if f.kind == "point":
            row.update({f"{f.column}_{a}": 10.0 for a in "xyz"})
        elif f.choices:
            row[f.column] = f.choices[0]
        elif f.kind in ("int", "ref"):
            row[f.column] = 1
        elif f.kind == "float":
            row[f.column] = 1.5
        elif f.kind == "bool":
            row[f.column] = True
        else:
            row[f.column] = "text"
    filled = pd.DataFrame([row], columns=frame.columns)
    checked = validate_frame(spec, filled, lines=np.array([2]))
    assert checked.report.errors.empty, checked.report.describe()


def test_unknown_schema_is_refused_in_a_sentence(client):
    with pytest.raises(SchemaNotFound, match="There is no schema called 'nope'"):
        csv_template("nope")
    assert client.csv_template("synapse") == csv_template("synapse")
