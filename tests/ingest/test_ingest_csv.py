"""CSV reading and column mapping, without a backend (uploads: tests/contract)."""

from __future__ import annotations

from anno_core.ingest.csvio import read_csv
from anno_core.ingest.mapping import propose_mapping
from anno_core.schemas import schema_spec


def test_mapping_proposals_and_missing_required_field():
    spec = schema_spec("synapse")
    m = propose_mapping(
        [
            "pre_pt_position",
            "post_pt_x",
            "post_pt_y",
            "post_pt_z",
            "Ctr Pt Position",
            "size",
            "extra",
        ],
        spec,
    )
    assert m.fields["pre_pt_position"] == "pre_pt_position"
    assert m.fields["post_pt_position"] == ("post_pt_x", "post_pt_y", "post_pt_z")
    assert m.fields["ctr_pt_position"] == "Ctr Pt Position"
    assert m.ignored == ("extra",)
    single = propose_mapping(["x", "y", "z", "tag"], schema_spec("bound_tag"))
    assert single.fields["pt_position"] == ("x", "y", "z")


def test_read_csv_keeps_text_as_typed():
    data = read_csv(b"a;b\r\n00123;NA\r\n;null\r\n")
    assert data.delimiter == ";"
    assert data.frame().to_dict("list") == {"a": ["00123", None], "b": ["NA", "null"]}
    assert list(data.lines) == [2, 3]
