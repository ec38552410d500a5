"""CSV upload end to end: mapping, scaling, report, round trip, background task."""

from __future__ import annotations

import pytest

from anno_core.errors import ValidationFailed
from anno_core.ingest.csvio import read_csv
from anno_core.ingest.mapping import propose_mapping
from anno_core.schemas import schema_spec

CSV = b"id_in_lab,px,py,pz,tag,notes\n1,10,20,3,axon,first\n2,11.5,21,4,dendrite,\n"


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


def test_round_trip_after_scaling(client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    plan = client.open_upload("tags", CSV, name="tags.csv")
    assert plan.mapping.fields["pt_position"] is None  # px, py, pz match no field by name
    report = plan.mapping_report()
    assert "'pt_position' has no column" in report.describe()
    plan = plan.remap({"pt_position": ("px", "py", "pz")}).with_resolution([8, 8, 40])
    check = plan.check()
    assert check.ok, check.summary()
    assert set(check.report.warnings["column"]) == {"id_in_lab", "notes"}  # ignored columns
    ids = plan.commit()
    got = client.get_annotation("tags", ids)
    assert [g["pt_position"] for g in got] == [[20, 40, 3], [23, 42, 4]]
    assert [g["tag"] for g in got] == ["axon", "dendrite"]


def test_refused_upload_names_csv_line_and_stores_nothing(client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    bad = CSV + b"3,1,2,,x,\n"
    with pytest.raises(ValidationFailed, match="line 4, column 'pt_position'"):
        client.ingest_csv("tags", bad, mapping={"pt_position": ["px", "py", "pz"]})
    assert client.get_annotation_count("tags") == 0
    report = client.validate_upload("tags", bad, mapping={"pt_position": ["px", "py", "pz"]})
    assert "4,pt_position" in report.to_csv()


def test_background_upload_reports_progress_and_result(client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    rows = b"x,y,z,tag\n" + b"".join(b"%d,2,3,t\n" % i for i in range(500))
    plan = client.open_upload("tags", rows)
    task = plan.start(upload_key="test-upload-1")
    assert task.wait(60)
    assert task.state == "done", task.error
    assert len(task.result) == 500 and task.fraction == 1.0
    again = plan.start(upload_key="test-upload-1")  # the same key: answered, not re-stored
    assert again.wait(60) and again.result == task.result
    assert client.get_annotation_count("tags") == 500


def test_reference_targets_are_checked_before_upload(client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    (tid,) = client.post_annotation("tags", {"pt": {"position": [1, 2, 3]}, "tag": "a"})
    client.create_table(
        "types", "cell_type_reference", "types [pytest]", [4, 4, 40], reference_table="tags"
    )
    data = b"target_id,classification_system,cell_type\n%d,s,a\n999,s,b\n" % tid
    report = client.validate_upload("types", data)
    errs = report.errors
    assert list(errs["kind"]) == ["unknown_target"] and list(errs["line"]) == [3]


def test_read_csv_keeps_text_as_typed():
    data = read_csv(b"a;b\r\n00123;NA\r\n;null\r\n")
    assert data.delimiter == ";"
    assert data.frame().to_dict("list") == {"a": ["00123", None], "b": ["NA", "null"]}
    assert list(data.lines) == [2, 3]
