"""The package's own reader (neuroglancer.read_precomputed_annotations, over tensorstore)
reads a table back through the files our server serves: every row, its position and its
fields, exactly once across the levels of the spatial index."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

# The package's reader needs tensorstore (requirements-dev.txt): missing, it fails here.
from neuroglancer.read_precomputed_annotations import AnnotationReader

from anno_core.server.local import local_host
from anno_core.wire import endpoints as ep

TYPES = np.array(["basket", "chandelier", "martinotti", "pyramidal", "5P-IT"])


def _source(client, table: str, geometry: str, filters=None) -> str:
    src = client.backend.neuroglancer_source(client.aligned_volume_name, table, filters)
    host = local_host(client.settings)  # this process's host: the same routes as a server
    return ep.url(host, ep.NG_SOURCE, grant=src["grant"], geometry=geometry) + "/"


def _read_all(reader: AnnotationReader) -> dict[int, object]:
    got: dict[int, object] = {}
    for level, spatial in enumerate(reader.spatial):
        shape = reader.metadata["spatial"][level]["grid_shape"]
        for cell in itertools.product(*(range(s) for s in shape)):
            for ann in spatial[cell]:
                assert int(ann.id) not in got, f"row {ann.id} twice"
                got[int(ann.id)] = ann
    return got


def test_the_reader_reads_back_every_row_of_a_100000_row_table(client):
    n = 100_000
    rng = np.random.default_rng(7)
    client.create_table("cells", "cell_type_local", "100k cells [pytest]", [4, 4, 40])
    frame = pd.DataFrame(
        {
            "pt_position_x": np.round(rng.random(n) * 200_000, 2),
            "pt_position_y": np.round(rng.random(n) * 150_000, 2),
            "pt_position_z": rng.integers(0, 20_000, n).astype(float),
            "cell_type": TYPES[rng.integers(0, len(TYPES), n)],
            "classification_system": "aibs_coarse",
        }
    )
    client.post_annotation_df("cells", frame, None)
    client.delete_annotation("cells", [5, 6])  # deleted rows are not served

    reader = AnnotationReader(_source(client, "cells", "points"))
    assert reader.annotation_type == "point"
    assert len(reader.spatial) >= 2  # a real multi-level index
    labels = {p.id: list(p.enum_labels) for p in reader.properties}
    got = _read_all(reader)
    stored = client.query_annotations("cells", limit=n).set_index("id")
    assert sorted(got) == sorted(stored.index) and len(got) == n - 2
    pos = np.array([got[i].point for i in stored.index])
    expected = stored[["pt_position_x", "pt_position_y", "pt_position_z"]].to_numpy(np.float32)
    assert (pos == expected).all()
    types = [labels["cell_type"][int(got[i].props[0])] for i in stored.index]
    assert types == stored["cell_type"].tolist()
    one = reader.by_id[int(stored.index[10])]
    assert list(one.point) == list(expected[10])
    with pytest.raises(KeyError):
        reader.by_id[5]  # deleted


def test_the_reader_reads_lines_with_their_centre_and_size(client):
    rng = np.random.default_rng(3)
    n = 5_000
    client.create_table("syn", "synapse", "synapses [pytest]", [4, 4, 40])
    pre = rng.random((n, 3)) * [50_000, 40_000, 2_000]
    frame = pd.DataFrame(
        {
            "pre_pt_position": list(pre),
            "post_pt_position": list(pre + 5),
            "ctr_pt_position": list(pre + 2.5),
            "size": np.where(np.arange(n) % 10 == 0, np.nan, rng.random(n) * 300),
        }
    )
    client.post_annotation_df("syn", frame, None)
    lines = _read_all(AnnotationReader(_source(client, "syn", "lines")))
    centres = _read_all(AnnotationReader(_source(client, "syn", "points")))
    stored = client.query_annotations("syn", limit=n).set_index("id")
    assert sorted(lines) == sorted(centres) == sorted(stored.index)
    row = stored.iloc[0]
    line, centre = lines[int(stored.index[0])], centres[int(stored.index[0])]
    assert list(line.point_a) == list(np.float32(row[[f"pre_pt_position_{a}" for a in "xyz"]]))
    assert list(line.point_b) == list(np.float32(row[[f"post_pt_position_{a}" for a in "xyz"]]))
    assert list(centre.point) == list(np.float32(row[[f"ctr_pt_position_{a}" for a in "xyz"]]))
    assert np.isnan(line.props[-1])  # an empty size stays empty (NaN), not 0
    sizes = np.array([lines[i].props[-1] for i in stored.index], dtype=np.float32)
    np.testing.assert_array_equal(sizes, stored["size"].to_numpy(np.float32))


def test_a_filtered_view_serves_only_its_rows(client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [1, 1, 1])
    rows = [{"pt": {"position": [i, i, i]}, "tag": "keep" if i % 3 else "drop"} for i in range(300)]
    client.post_annotation("tags", rows)
    got = _read_all(AnnotationReader(_source(client, "tags", "points", {"tag": "keep"})))
    stored = client.query_annotations("tags", limit=1000, filters={"tag": "keep"})
    assert sorted(got) == sorted(stored["id"]) and len(got) == 200
