"""The multi-level spatial index: levels are samples of the levels below, every row sits
exactly once (and the deepest level holds every row not placed above), a cell holds exactly
the rows whose anchor lies in it, and the encodings are what the format says."""

from __future__ import annotations

import itertools
import struct

import numpy as np
import pandas as pd
import pytest

from anno_core.neuroglancer import encoding, spatial
from anno_core.neuroglancer.frame_source import FrameSource
from anno_core.neuroglancer.layout import layout, properties
from anno_core.schemas import schema_spec


def _decode(raw: bytes, record_size: int) -> tuple[np.ndarray, bytes]:
    (n,) = struct.unpack_from("<Q", raw)
    assert len(raw) == 8 + n * record_size + 8 * n  # the size the viewer checks exactly
    ids = np.frombuffer(raw, dtype="<u8", count=n, offset=8 + n * record_size)
    return ids.astype(np.int64), raw[8 : 8 + n * record_size]


def test_depth_is_a_uniform_hash_of_the_id_one_eighth_per_level():
    ids = np.arange(1, 2_000_001)
    depth = spatial.depth_of(ids)
    assert (depth == spatial.depth_of(ids)).all()  # deterministic
    for j in range(1, 5):  # within 5 standard deviations of a binomial draw
        expected = 8.0**-j
        sd = (expected * (1 - expected) / len(ids)) ** 0.5
        assert abs((depth >= j).mean() - expected) < 5 * sd
    # independent of where the rows are: even and odd ids alike
    assert (depth[::2] >= 1).mean() == pytest.approx((depth[1::2] >= 1).mean(), rel=0.05)


def test_morton_codes_invert_and_cells_are_contiguous_key_ranges():
    rng = np.random.default_rng(0)
    q = rng.integers(0, 1 << spatial.BITS, size=(5000, 3))
    code = spatial.morton(q)
    back = np.stack([spatial._compact(code >> a) for a in range(3)], axis=1)
    assert (back == q).all()
    grid = spatial.Grid(side=1 << 10, lower=(1 << 19, 1 << 19, 1 << 19), shape0=(2, 1, 2), levels=3)
    pts = np.array(grid.lower) + rng.integers(0, 1 << 10, size=(5000, 3)) * np.array([2, 1, 2])
    keys = spatial.morton(pts)
    cells = spatial.cells_of(grid, 2, keys)
    for cell in [(0, 0, 0), (5, 2, 7), (7, 3, 0)]:
        ((lo, hi),) = [r for r in grid.key_ranges(2, cell) if r[0] >> spatial.DEPTH_SHIFT == 0]
        inside = (keys >= lo) & (keys < hi)
        assert (inside == (cells == cell).all(axis=1)).all()


def _synapses(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = pd.DataFrame({"id": np.arange(1, n + 1)})
    for fld in ("pre_pt_position", "post_pt_position", "ctr_pt_position"):
        for a, s in zip("xyz", (60_000, 50_000, 1_500), strict=True):
            f[f"{fld}_{a}"] = rng.random(n) * s
    f["size"] = rng.random(n) * 100
    return f


def test_every_row_once_deepest_level_holds_the_rest_and_cells_hold_their_rows():
    spec = schema_spec("synapse")
    lay = layout(spec)
    frame = _synapses(60_000)
    src = FrameSource(lay, properties(spec, lay, {}), (4, 4, 40), frame)
    assert src.grid.levels >= 2
    size = encoding.record_dtype("line", src.props).itemsize
    seen: dict[int, int] = {}
    anchors_nm = encoding.anchors(lay, frame.set_index("id").loc[frame["id"]].reset_index()) * (
        4,
        4,
        40,
    )
    quanta = spatial.quantize(anchors_nm)
    for level in range(src.grid.levels):
        counts = []
        for cell in itertools.product(*(range(s) for s in src.grid.shape(level))):
            ids, _ = _decode(src.cell("lines", level, cell), size)
            counts.append(len(ids))
            for i in ids:
                assert i not in seen, f"row {i} at levels {seen[i]} and {level}"
                seen[int(i)] = level
            lo = np.array(src.grid.lower) + np.array(cell) * src.grid.chunk(level)
            q = quanta[ids - 1]
            assert ((q >= lo) & (q < lo + src.grid.chunk(level))).all()  # in the cell
        assert max(counts) == src.limits[level]  # limit: the real per-cell maximum
    assert sorted(seen) == list(range(1, 60_001))  # every row, exactly once
    levels = np.array([seen[i] for i in range(1, 60_001)])
    depth = spatial.depth_of(np.arange(1, 60_001))
    deepest = src.grid.levels - 1
    assert (levels[depth == 0] == deepest).all()  # the deepest holds all not placed above
    # each level is a sample of the one below: about an eighth as many rows
    per_level = np.bincount(levels, minlength=src.grid.levels)
    for upper, lower in zip(per_level[1:-1], per_level[2:], strict=False):
        assert upper == pytest.approx(lower / 8, rel=0.25)


def test_records_are_laid_out_as_the_format_says():
    spec = schema_spec("cell_type_local")
    lay = layout(spec)
    props = properties(
        spec, lay, {"cell_type": ("", "basket", "pyr"), "classification_system": None}
    )
    frame = pd.DataFrame(
        {
            "id": [7],
            "pt_position_x": [1.5],
            "pt_position_y": [2.0],
            "pt_position_z": [3.0],
            "cell_type": ["pyr"],
            "classification_system": ["x"],
        }
    )
    rec = encoding.records(lay, props, frame, "points")
    raw = encoding.encode_one(rec)
    assert len(raw) == 16  # 12 bytes of geometry, one enum byte, padded to 4
    assert struct.unpack_from("<3f", raw) == (1.5, 2.0, 3.0)
    assert raw[12] == 2 and raw[13:] == b"\0\0\0"
    assert [p.id for p in props] == ["cell_type"]  # too many values: left out (None)
    assert encoding.encode_many(rec[:0], np.array([], dtype=np.int64)) == encoding.EMPTY


def test_an_empty_view_has_one_empty_cell():
    spec = schema_spec("bound_tag")
    lay = layout(spec)
    src = FrameSource(
        lay, [], (1, 1, 1), pd.DataFrame({"id": [], **{c: [] for c in lay.point_columns()}})
    )
    info = src.info("points")
    assert info["spatial"][0]["limit"] >= 1 and all(np.isfinite(info["upper_bound"]))
    assert src.cell("points", 0, (0, 0, 0)) == encoding.EMPTY
