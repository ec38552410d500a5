"""CSV upload end to end on every backend: mapping, scaling, report, round trip, background
task."""

from __future__ import annotations

import uuid

import pytest

from anno_core.errors import ValidationFailed

CSV = b"id_in_lab,px,py,pz,tag,notes\n1,10,20,3,axon,first\n2,11.5,21,4,dendrite,\n"


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
    with pytest.raises(ValidationFailed, match="line 4, column 'pz' is empty"):
        client.ingest_csv("tags", bad, mapping={"pt_position": ["px", "py", "pz"]})
    assert client.get_annotation_count("tags") == 0
    report = client.validate_upload("tags", bad, mapping={"pt_position": ["px", "py", "pz"]})
    assert '4,pz,,"is empty; a position needs x, y and z",missing_value' in report.to_csv()


def test_background_upload_reports_progress_and_result(client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    rows = b"x,y,z,tag\n" + b"".join(b"%d,2,3,t\n" % i for i in range(500))
    plan = client.open_upload("tags", rows)
    key = f"test-upload-{uuid.uuid4().hex}"  # upload keys are global on a shared server
    task = plan.start(upload_key=key)
    assert task.wait(60)
    assert task.state == "done", task.error
    assert len(task.result) == 500 and task.fraction == 1.0
    again = plan.start(upload_key=key)  # the same key: answered, not re-stored
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
