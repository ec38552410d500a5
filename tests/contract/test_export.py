"""Export: a table (or a view, at a moment) as Parquet, Feather or CSV, streamed."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from anno_core.errors import AnnoWarning, InvalidArgument, VersionNotFound
from anno_core.moments import parse_moment
from tests.conftest import synapse

DATA = [
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


@pytest.fixture
def filled(client, synapse_table):
    """syn with 8 rows: one updated, one deleted; returns (ids, moment before the changes)."""
    ids = client.post_annotation(synapse_table, [synapse(i) for i in range(8)])
    before = parse_moment(client.get_annotation(synapse_table, [ids[-1]])[0]["created"])
    client.update_annotation(synapse_table, {"id": ids[0], "size": 5.5})
    client.delete_annotation(synapse_table, [ids[3]])
    return ids, before


def _parquet(client, table, **kwargs) -> tuple[pd.DataFrame, dict, dict]:
    buf = io.BytesIO()
    summary = client.export_table(table, buf, **kwargs)
    buf.seek(0)
    t = pq.read_table(buf)
    return t.to_pandas(), json.loads(t.schema.metadata[b"anno_tables"]), summary


def test_parquet_is_the_live_rows_with_the_tables_metadata(client, filled):
    frame, meta, summary = _parquet(client, "syn")
    live = client.query_annotations("syn")
    assert list(frame.columns) == ["id", *DATA]
    pd.testing.assert_frame_equal(frame, live[["id", *DATA]], check_dtype=False)
    assert summary["rows"] == 7 and summary["format"] == "parquet"
    assert meta["schema"] == "synapse" and meta["voxel_resolution"] == [4.0, 4.0, 40.0]
    assert meta["description"] == "test synapses [pytest]" and meta["units"] == "voxels"
    assert meta["moment"].startswith("now") and parse_moment(meta["timestamp"]) is not None
    assert meta["table"] == "syn" and meta["exported_by"]


def test_an_export_at_a_moment_or_version_is_that_moments_rows(client, filled):
    ids, before = filled
    frame, meta, _ = _parquet(client, "syn", timestamp=before)
    assert list(frame["id"]) == ids and frame["size"].tolist()[0] == 120.0
    assert parse_moment(meta["timestamp"]) == before and meta["version"] is None
    client.create_version("v1", "before the fixes", timestamp=before)
    by_version, meta, summary = _parquet(client, "syn", version="v1")
    pd.testing.assert_frame_equal(by_version, frame)
    assert meta["version"] == "v1" and "version v1" in summary["moment"]
    history, _, _ = _parquet(client, "syn", include_history=True)
    assert len(history) == 9 and history.columns[:5].tolist() == [
        "id",
        "created",
        "deleted",
        "superceded_id",
        "valid",
    ]
    assert history.set_index("id").loc[ids[3], "valid"] == False  # noqa: E712


def test_filters_and_ids_narrow_the_export_as_they_narrow_a_query(client, filled):
    ids, _ = filled
    frame, meta, _ = _parquet(client, "syn", filters={"size": 122.0})
    assert list(frame["id"]) == [ids[2]] and meta["filters"] == {"size": 122.0}
    frame, _, _ = _parquet(client, "syn", ids=[ids[1], ids[3], ids[5]])
    assert list(frame["id"]) == [ids[1], ids[5]]  # ids[3] is deleted


def test_csv_round_trip_export_then_upload_gives_identical_rows(client, filled):
    for positions in ("split", "list"):
        buf = io.BytesIO()
        client.export_table("syn", buf, format="csv", positions=positions)
        name = f"copy_{positions}"
        client.create_table(name, "synapse", "a copy [pytest]", [4, 4, 40])
        client.ingest_csv(name, buf.getvalue())
        a = client.query_annotations("syn")[["id", *DATA]]
        b = client.query_annotations(name)[["id", *DATA]]
        pd.testing.assert_frame_equal(a, b)


def test_feather_in_nm_with_points_as_lists(client, filled):
    buf = io.BytesIO()
    client.export_table("syn", buf, format="feather", positions="list", units="nm")
    buf.seek(0)
    table = feather.read_table(buf)
    frame = table.to_pandas()
    assert list(frame.columns) == [
        "id",
        "ctr_pt_position",
        "post_pt_position",
        "pre_pt_position",
        "size",
    ]
    live = client.query_annotations("syn")
    got = np.stack(frame["pre_pt_position"].to_numpy())
    want = live[["pre_pt_position_x", "pre_pt_position_y", "pre_pt_position_z"]].to_numpy()
    np.testing.assert_allclose(got, want * [4, 4, 40])
    assert json.loads(table.schema.metadata[b"anno_tables"])["units"] == "nm"


def test_csv_text_that_a_spreadsheet_would_run_is_guarded(client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [1, 1, 1])
    risky = ["=SUM(A1)", "+1", "-2+3", "@cmd", "\tx", "plain", "a=b"]
    client.post_annotation(
        "tags", [{"pt": {"position": [i, 0, 0]}, "tag": t} for i, t in enumerate(risky)]
    )
    buf = io.BytesIO()
    client.export_table("tags", buf, format="csv")
    back = pd.read_csv(io.BytesIO(buf.getvalue()), dtype=str, keep_default_na=False)
    assert back["tag"].tolist() == ["'=SUM(A1)", "'+1", "'-2+3", "'@cmd", "'\tx", "plain", "a=b"]
    frame, _, _ = _parquet(client, "tags")  # only CSV is guarded: Parquet keeps the text
    assert frame["tag"].tolist() == risky


def test_export_refusals_are_one_sentence_and_write_nothing(client, filled, tmp_path):
    out = tmp_path / "exports"
    out.mkdir()
    path = out / "out.parquet"
    with pytest.raises(InvalidArgument, match="Unknown export format 'xlsx'"):
        client.export_table("syn", path, format="xlsx")
    with pytest.raises(InvalidArgument, match="positions must be 'split'"):
        client.export_table("syn", path, positions="columns")
    with pytest.raises(InvalidArgument, match="has no column 'colour'"):
        client.export_table("syn", path, filters={"colour": "red"})
    with pytest.raises(VersionNotFound, match="has no version 'v7'"):
        client.export_table("syn", path, version="v7")
    with pytest.raises(InvalidArgument, match="is in the future"):
        client.export_table("syn", path, timestamp=datetime.now(UTC) + timedelta(hours=1))
    assert list(out.iterdir()) == []  # no file, no half-written part
    with pytest.warns(AnnoWarning, match="it had no rows at that moment"):
        summary = client.export_table("syn", path, timestamp="2001-01-01")
    assert summary["rows"] == 0 and pq.read_table(path).num_rows == 0
    assert [p.name for p in out.iterdir()] == ["out.parquet"]
