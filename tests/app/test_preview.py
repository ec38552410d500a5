"""ui.preview: the deck for 3D points (pure, no Streamlit)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ui.preview import MAX_POINTS, points_deck, positions_nm, sample_indices


def _frame(n: int, seed: int = 1, **extra) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "pt_position_x": rng.uniform(0, 200_000, n),
            "pt_position_y": rng.uniform(0, 150_000, n),
            "pt_position_z": rng.integers(0, 20_000, n),
        }
    )
    for k, v in extra.items():
        frame[k] = v
    return frame


def _spec(deck) -> dict:
    return json.loads(deck.to_json())


def _points(spec: dict, prefix: str = "points") -> list[dict]:
    return [p for layer in spec["layers"] if layer["id"].startswith(prefix) for p in layer["data"]]


def test_orbit_view_without_any_map():
    deck, _ = points_deck(_frame(10), position="pt_position", resolution=[4, 4, 40])
    spec = _spec(deck)
    assert [v["@@type"] for v in spec["views"]] == ["OrbitView"]
    assert spec["views"][0]["controller"] is True
    assert "mapStyle" not in spec and "mapProvider" not in spec
    assert "http" not in deck.to_json()


def test_positions_are_converted_to_nm_with_the_voxel_resolution():
    frame = pd.DataFrame(
        {"id": [1, 2], "pt_position_x": [0, 10], "pt_position_y": [0, 10], "pt_position_z": [0, 10]}
    )
    deck, info = points_deck(frame, position="pt_position", resolution=[4, 4, 40])
    a, b = sorted((p["p"] for p in _points(_spec(deck))), key=lambda p: p[0])
    assert np.allclose(np.subtract(b, a), [40, 40, 400])  # anisotropic voxels stay anisotropic
    assert info.extent_nm == ((0, 0, 0), (40, 40, 400))


def test_position_as_one_column_of_lists_or_strings():
    frame = pd.DataFrame({"pt_position": [[1, 2, 3], "[4, 5, 6]", None, "abc"]})
    nm = positions_nm(frame, "pt_position", [2, 2, 2])
    assert nm[:2].tolist() == [[2, 4, 6], [8, 10, 12]]
    assert np.isnan(nm[2:]).all()
    _, info = points_deck(frame, position="pt_position", resolution=[2, 2, 2], tooltip_columns=())
    assert (info.total, info.drawn, info.without_position) == (4, 2, 2)
    assert "2 rows have no usable position" in info.summary()


def test_a_million_rows_draw_at_most_100k_points():
    # How fast this builds is measured in bench/preview.py, not asserted here.
    n = 1_000_000
    rng = np.random.default_rng(2)
    frame = _frame(n, cell_type=rng.choice(["a", "b", "c", "d"], n))
    deck, info = points_deck(
        frame, position="pt_position", resolution=[4, 4, 40], color_by="cell_type"
    )
    drawn = _points(_spec(deck))
    assert len(drawn) == info.drawn == MAX_POINTS
    assert info.total == n and info.sampled
    assert "100,000 of 1,000,000 points drawn" in info.summary()
    assert sum(e.count for e in info.legend) == n
    assert sum(e.drawn for e in info.legend) == MAX_POINTS


def test_the_sample_is_seeded_so_reruns_give_the_same_json():
    frame = _frame(5_000)
    one, _ = points_deck(frame, position="pt_position", resolution=[4, 4, 40], max_points=500)
    two, _ = points_deck(frame, position="pt_position", resolution=[4, 4, 40], max_points=500)
    other, _ = points_deck(
        frame, position="pt_position", resolution=[4, 4, 40], max_points=500, seed=7
    )
    assert one.to_json() == two.to_json()
    assert one.to_json() != other.to_json()


def test_stratified_sample_keeps_rare_values():
    n = 200_000
    kinds = np.array(["common"] * n, dtype=object)
    kinds[123] = "rare"
    frame = _frame(n, cell_type=kinds)
    _, info = points_deck(
        frame, position="pt_position", resolution=[1, 1, 1], color_by="cell_type", max_points=1_000
    )
    by_label = {e.label: e for e in info.legend}
    assert by_label["rare"].count == 1 and by_label["rare"].drawn == 1
    assert by_label["common"].drawn == 999
    idx = sample_indices(n, 1_000, strata=(kinds == "rare").astype(int))
    assert 123 in idx and len(idx) == 1_000


def test_colour_legend_with_other_and_empty_values():
    values = [f"type{i}" for i in range(12)] * 10 + [None] * 5
    frame = _frame(len(values), cell_type=values)
    deck, info = points_deck(
        frame, position="pt_position", resolution=[4, 4, 40], color_by="cell_type"
    )
    labels = [e.label for e in info.legend]
    assert len(labels) == 12 and labels[-2:] == ["other values", "(empty)"]
    assert {e.count for e in info.legend[:10]} == {10}
    assert info.legend[-2].count == 20 and info.legend[-1].count == 5
    assert len({e.color for e in info.legend}) == 12
    spec = _spec(deck)
    colours = {layer["id"]: layer.get("getFillColor") for layer in spec["layers"]}
    assert colours["points-0"] == list(info.legend[0].color)
    assert info.legend[0].hex.startswith("#") and len(info.legend[0].hex) == 7


def test_numeric_colour_is_binned():
    frame = _frame(1_000, size=np.linspace(0, 999, 1_000))
    _, info = points_deck(frame, position="pt_position", resolution=[4, 4, 40], color_by="size")
    assert 2 <= len(info.legend) <= 6
    assert info.legend[0].label.startswith("0 to")
    assert sum(e.count for e in info.legend) == 1_000


def test_existing_points_in_grey_and_marked_rows_in_red_within_the_budget():
    new = _frame(1_000)
    existing = _frame(5_000, seed=3)
    marked = np.zeros(1_000, dtype=bool)
    marked[:7] = True
    deck, info = points_deck(
        new,
        position="pt_position",
        resolution=[4, 4, 40],
        existing=existing,
        marked=marked,
        max_points=900,
    )
    spec = _spec(deck)
    ids = [layer["id"] for layer in spec["layers"]]
    assert ids == ["bounds", "axis-ticks", "axis-labels", "existing", "points-0", "marked"]
    assert tuple(ids) == info.layer_ids
    grey = next(layer for layer in spec["layers"] if layer["id"] == "existing")
    assert grey["getFillColor"][:3] == [150, 150, 150]
    red = next(layer for layer in spec["layers"] if layer["id"] == "marked")
    assert len(red["data"]) == 7 == info.marked_drawn
    assert info.drawn + info.existing_drawn <= 900
    assert info.existing_total == 5_000 and info.existing_drawn == 300
    assert "7 of 7 marked rows in red" in info.summary()


def test_tooltips_name_the_row_and_its_values():
    frame = _frame(3, cell_type=["<b>x</b>", "L4", "L5"])
    deck, _ = points_deck(
        frame,
        position="pt_position",
        resolution=[4, 4, 40],
        color_by="cell_type",
        tooltip_columns=("id",),
    )
    spec = _spec(deck)
    tips = sorted(p["t"] for p in _points(spec))
    assert tips[0].startswith("id: 1\ncell_type: <b>x</b>\nvoxels (4 x 4 x 40 nm): [")
    assert deck._tooltip == {"text": "{t}"}  # text, never HTML


def test_hover_says_the_point_in_voxels_and_in_nm_without_float_noise():
    frame = pd.DataFrame({"pt_position": [[2903.2, 0.1 + 0.2, 12]], "id": [7]})
    deck, _ = points_deck(frame, position="pt_position", resolution=[4, 4, 40])
    (tip,) = [p["t"] for p in _points(_spec(deck))]
    assert tip == "id: 7\nvoxels (4 x 4 x 40 nm): [2903.2, 0.3, 12]\nnm: [11612.8, 1.2, 480]"


def test_the_axes_carry_ticks_labelled_in_nm_and_um():
    frame = pd.DataFrame(
        {"pt_position": [[0, 0, 0], [25_000, 5_000, 100], [12_000, 2_500, 60]], "id": [1, 2, 3]}
    )
    deck, _ = points_deck(frame, position="pt_position", resolution=[4, 4, 40])
    spec = _spec(deck)
    labels = next(layer for layer in spec["layers"] if layer["id"] == "axis-labels")
    texts = [d["t"] for d in labels["data"]]
    assert {"x", "y", "z"} <= set(texts)
    assert "50 µm" in texts and "100 µm" in texts  # x spans 0 to 100 µm
    assert "2 µm" in texts or "1 µm" in texts  # z spans 0 to 4 µm
    assert labels["@@type"] == "TextLayer"


def test_bad_arguments_are_refused():
    with pytest.raises(KeyError):
        positions_nm(_frame(2), "post_pt_position", [1, 1, 1])
    with pytest.raises(ValueError):
        points_deck(_frame(2), position="pt_position", resolution=[1, 1])
    with pytest.raises(ValueError):
        points_deck(
            _frame(2), position="pt_position", resolution=[1, 1, 1], marked=np.array([True])
        )


def test_empty_frame_gives_an_empty_deck():
    deck, info = points_deck(_frame(0), position="pt_position", resolution=[4, 4, 40])
    assert info.drawn == 0 and info.extent_nm is None
    assert _points(_spec(deck)) == []
