"""A Neuroglancer state read like a CSV file: its coordinate space honoured (global
dimensions, a layer's output and input dimensions, its matrix), every kind of annotation
and what it carries (description, segments, tags, properties), links and refusals."""

from __future__ import annotations

import json
from urllib.parse import quote

import numpy as np
import pytest

from anno_core.errors import InvalidArgument
from anno_core.ingest.ng_import import layer_summaries, looks_like_state, read_state

GLOBAL = {"x": [4e-9, "m"], "y": [4e-9, "m"], "z": [4e-8, "m"]}


def _state(layer: dict, dims: dict | None = None) -> dict:
    return {"dimensions": dims or GLOBAL, "layers": [{"type": "image", "name": "em"}, layer]}


def _layer(annotations: list, source=None, **extra) -> dict:
    return {
        "type": "annotation",
        "name": "pts",
        "source": source or "local://annotations",
        "annotations": annotations,
        **extra,
    }


def _xyz(data, prefix: str = "") -> list[list[float]]:
    cols = [data.text(f"{prefix}{a}") for a in "xyz"]
    return [[float(v) for v in row] for row in zip(*cols, strict=True)]


POINT = {"type": "point", "id": "a1", "point": [10, 20, 30]}


@pytest.mark.parametrize(
    "source,expected",
    [
        # no transform: the state's own dimensions (4, 4, 40 nm), the table's too
        ("local://annotations", [10, 20, 30]),
        # outputDimensions only: numbers in those units (8 nm in x is 2 table voxels)
        (
            {
                "url": "local://annotations",
                "transform": {
                    "outputDimensions": {"x": [8e-9, "m"], "y": [4e-9, "m"], "z": [4e-8, "m"]}
                },
            },
            [20, 20, 30],
        ),
        # inputDimensions: numbers in nm; outputDimensions what Neuroglancer re-serialises
        (
            {
                "url": "local://annotations",
                "transform": {
                    "inputDimensions": {"0": [1e-9, "m"], "1": [1e-9, "m"], "2": [1e-9, "m"]},
                    "outputDimensions": GLOBAL,
                },
            },
            [2.5, 5, 0.75],
        ),
        # a matrix: its last column in output units moves x by 5 voxels
        (
            {
                "url": "local://annotations",
                "transform": {
                    "outputDimensions": GLOBAL,
                    "matrix": [[1, 0, 0, 5], [0, 1, 0, 0], [0, 0, 1, 0]],
                },
            },
            [15, 20, 30],
        ),
    ],
)
def test_positions_follow_the_states_own_coordinate_space(source, expected):
    data = read_state(_state(_layer([POINT], source)), (4, 4, 40))
    assert _xyz(data) == [expected]


def test_a_different_table_resolution_converts_through_nm():
    data = read_state(_state(_layer([POINT])), (8, 8, 10))
    assert _xyz(data) == [[5, 10, 120]]  # 40, 80, 1200 nm


def test_the_state_says_the_unit_not_a_guess_dimensions_named_and_reordered():
    dims = {"z": [4e-8, "m"], "y": [4e-9, "m"], "x": [4e-9, "m"], "t": [1, "s"]}
    ann = {"type": "point", "id": "p", "point": [30, 20, 10, 0]}
    assert _xyz(read_state(_state(_layer([ann]), dims), (4, 4, 40))) == [[10, 20, 30]]
    with pytest.raises(InvalidArgument, match="no 'z' dimension"):
        read_state(_state(_layer([POINT]), {"x": [4e-9, "m"], "y": [4e-9, "m"]}), (4, 4, 40))


def test_every_kind_and_what_annotations_carry():
    layer = _layer(
        [
            {
                "type": "line",
                "id": "l1",
                "pointA": [0, 0, 0],
                "pointB": [5, 5, 5],
                "description": "pre to post",
                "segments": [["123", "456"]],
                "props": [0.5, 2],
                "tagIds": [1, 2],
            },
            {
                "type": "axis_aligned_bounding_box",
                "id": "b1",
                "pointA": [1, 1, 1],
                "pointB": [2, 2, 2],
                "props": [1.25, 1],
            },
            {"type": "ellipsoid", "id": "e1", "center": [3, 3, 3], "radii": [1, 1, 1]},
            {"type": "polyline", "id": "p1", "points": [[0, 0, 0], [1, 1, 1]]},
        ],
        annotationProperties=[
            {"id": "score", "type": "float32"},
            {"id": "kind", "type": "uint8", "enum_values": [1, 2], "enum_labels": ["bc", "pc"]},
        ],
        annotationRelationships=["segments"],
        annotationTags=[{"id": 1, "label": "checked"}, {"id": 2, "label": "odd"}],
    )
    data = read_state(_state(layer), (4, 4, 40))
    assert data.rows == 3 and list(data.lines) == [1, 2, 3]
    first = data.frame().iloc[0].to_dict()
    assert first["type"] == "line" and first["ng_id"] == "l1"
    assert first["description"] == "pre to post" and first["segments"] == "123 456"
    assert first["tags"] == "checked, odd" and first["score"] == "0.5" and first["kind"] == "pc"
    assert data.frame().iloc[1]["kind"] == "bc"
    assert data.frame().iloc[2]["center_x"] == "3" and data.frame().iloc[2]["radii_x"] == "1"
    (skipped,) = data.notes.warnings["line"].tolist()
    assert skipped == 4  # the polyline, named by its place in the layer


def test_links_pasted_states_and_refusals():
    state = _state(_layer([POINT]))
    link = "https://neuroglancer-demo.appspot.com/#!" + quote(json.dumps(state))
    assert looks_like_state(link) and looks_like_state(json.dumps(state).encode())
    assert not looks_like_state(b"x,y,z\n1,2,3\n") and not looks_like_state("cells.csv")
    assert _xyz(read_state(link, (4, 4, 40))) == [[10, 20, 30]]
    assert _xyz(read_state(link.replace("#!", "#!+"), (4, 4, 40))) == [[10, 20, 30]]
    [summary] = [s for s in layer_summaries(link) if s.name == "pts"]
    assert summary.count == 1 and summary.kinds == {"point": 1} and summary.local
    with pytest.raises(InvalidArgument, match="stored elsewhere"):
        read_state("https://x.org/#!https://state.example/s.json", (1, 1, 1))
    with pytest.raises(InvalidArgument, match="not valid JSON"):
        read_state("{layers: oops", (1, 1, 1))
    with pytest.raises(InvalidArgument, match="no annotation layer"):
        read_state({"dimensions": GLOBAL, "layers": []}, (1, 1, 1))
    remote = _layer([], source="precomputed://https://example.org/synapses")
    with pytest.raises(InvalidArgument, match="source elsewhere"):
        read_state(_state(remote), (1, 1, 1))
    with pytest.raises(InvalidArgument, match="no annotation layer 'other'"):
        read_state(state, (1, 1, 1), layer="other")


def test_exact_numbers_when_the_state_is_in_the_tables_voxels():
    pts = [[0.1, 0.2, 0.3], [123456.789, 1e-7, 3]]
    anns = [{"type": "point", "id": str(i), "point": p} for i, p in enumerate(pts)]
    got = np.array(_xyz(read_state(_state(_layer(anns)), (4, 4, 40))))
    assert (got == np.array(pts)).all()
