"""Schemas that would keep more of a file's columns, by field names and then by types."""

from __future__ import annotations

from anno_core.ingest.csvio import read_csv
from anno_core.ingest.schema_fit import better_schemas, column_kinds, keeps
from anno_core.schemas import schema_spec

HEMIBRAIN = (
    "connector_id,node_id,type,x,y,z,roi,confidence,neuron,post_root_id\n"
    "1,11,pre,4311,23114,1603.1,EB,0.9,n1,7\n"
    "2,12,post,4312,23115,1603.2,FB,0.8,n1,7\n"
)


def test_columns_are_typed_from_their_cells():
    data = read_csv(HEMIBRAIN.encode())
    kinds = column_kinds(data)
    assert kinds["connector_id"] == "whole" and kinds["confidence"] == "number"
    assert kinds["type"] == "text" and kinds["z"] == "number"
    data = read_csv(b'pt,tag\n"[1, 2, 3]",a\n')
    assert column_kinds(data)["pt"] == "point"


def test_a_schema_keeps_named_columns_of_the_right_type_then_fills_by_type():
    data = read_csv(HEMIBRAIN.encode())
    kinds = column_kinds(data)
    fit = keeps(schema_spec("bound_double_tag"), data.columns, kinds)
    assert fit.kept == ("type", "x", "y", "z", "roi")  # a point and two text fields
    fit = keeps(schema_spec("v1dd_func_unit_coreg"), data.columns, kinds)
    assert "roi" not in fit.by_name  # 'roi' is text there, a whole number in the schema


def test_better_schemas_keep_more_and_never_count_root_ids():
    data = read_csv(HEMIBRAIN.encode())
    fits = better_schemas(data, "bound_double_tag", ["x", "y", "z", "type", "neuron"])
    assert fits and len(fits) <= 3
    for fit in fits:
        assert len(set(fit.kept) - {"post_root_id"}) > 5
        assert fit.schema != "bound_double_tag" and not schema_spec(fit.schema).is_reference
    assert "keeps" in fits[0].describe() and "position" in fits[0].describe()
    assert better_schemas(data, "bound_double_tag", list(data.columns)) == []
