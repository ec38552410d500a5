"""The precomputed annotation format's bytes and ``info`` file (little-endian throughout).

A record is the geometry (float32: a point's x, y, z; a line's two ends) then the
properties in `layout.properties` order (4-byte first, then 1-byte), zero-padded to a
multiple of 4 bytes. A spatial cell is ``uint64 count``, the records in a fixed
pseudo-random order (a viewer draws the first n of a cell to thin it out), then the ids in
the same order. A ``by_id`` answer is one record (a table has no relationships).
Coordinates are in the table's voxels, the ``info`` dimensions its voxel resolution in nm.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from anno_core.neuroglancer.layout import OTHER, Layout, Prop
from anno_core.neuroglancer.spatial import QUANTUM_NM, Grid, shuffle_order
from anno_core.schemas import AXES

EMPTY = struct.pack("<Q", 0)
"""A cell with no annotation."""
_TYPES = {"float32": ("<f4", 4), "uint32": ("<u4", 4), "uint16": ("<u2", 2), "uint8": ("u1", 1)}


def dimensions(resolution: Sequence[float]) -> dict[str, list]:
    """A coordinate space of voxels of ``resolution`` nm, as Neuroglancer writes it."""
    return {a: [float(r) * 1e-9, "m"] for a, r in zip(AXES, resolution, strict=True)}


def record_dtype(kind: str, props: Sequence[Prop]) -> np.dtype:
    """The numpy layout of one record of ``kind`` (``point`` or ``line``) with ``props``."""
    fields: list[tuple] = [("geometry", "<f4", (6 if kind == "line" else 3,))]
    size = 24 if kind == "line" else 12
    for i, p in enumerate(props):
        code, width = _TYPES[p.type]
        fields.append((f"p{i}", code))
        size += width
    if size % 4:
        fields.append(("pad", "u1", (4 - size % 4,)))
    return np.dtype(fields)


def prop_values(prop: Prop, values: pd.Series) -> np.ndarray:
    """A column of stored values as the property's numbers (empty: NaN, or enum 0)."""
    if prop.type == "float32":
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float32, na_value=np.nan)
    labels = prop.labels or ("",)
    if prop.kind == "bool":
        codes = {False: 1, True: 2}
        return np.array([codes.get(_bool(v), 0) for v in values], dtype=np.uint8)
    index = {label: i for i, label in enumerate(labels)}
    other = index.get(OTHER, 0)
    return np.array(
        [0 if _blank(v) else index.get(str(v), other) for v in values.astype(object)],
        dtype=_TYPES[prop.type][0],
    )


def _blank(v: Any) -> bool:
    return v is None or v == "" or (isinstance(v, float) and np.isnan(v))


def _bool(v: Any) -> bool | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return bool(v)


def geometry(lay: Layout, frame: pd.DataFrame, geometry_kind: str) -> np.ndarray:
    """Positions (voxels, float32) of each row: (n, 6) for ``lines``, (n, 3) for ``points``
    (for a line schema: its centre point, or the middle of the line where it has none)."""

    def xyz(field: str) -> np.ndarray:
        cols = [pd.to_numeric(frame[f"{field}_{a}"], errors="coerce") for a in AXES]
        return np.stack([c.to_numpy(dtype=np.float64, na_value=np.nan) for c in cols], axis=1)

    if geometry_kind == "lines":
        return np.hstack([xyz(lay.ends[0]), xyz(lay.ends[1])]).astype(np.float32)
    if lay.kind == "point":
        return xyz(lay.ends[0]).astype(np.float32)
    middle = (xyz(lay.ends[0]) + xyz(lay.ends[1])) / 2
    if lay.centre is not None:
        centre = xyz(lay.centre)
        middle = np.where(np.isfinite(centre).all(axis=1)[:, None], centre, middle)
    return middle.astype(np.float32)


def anchors(lay: Layout, frame: pd.DataFrame) -> np.ndarray:
    """Where each row is placed in the spatial index (voxels): the point, or the middle of
    the line."""
    if lay.kind == "point":
        return geometry(lay, frame, "points").astype(np.float64)
    ends = geometry(lay, frame, "lines").astype(np.float64)
    return (ends[:, :3] + ends[:, 3:]) / 2


def records(
    lay: Layout, props: Sequence[Prop], frame: pd.DataFrame, geometry_kind: str
) -> np.ndarray:
    """The rows of ``frame`` as records of ``geometry_kind`` (``lines`` or ``points``)."""
    kind = "line" if geometry_kind == "lines" else "point"
    out = np.zeros(len(frame), dtype=record_dtype(kind, props))
    out["geometry"] = geometry(lay, frame, geometry_kind)
    for i, p in enumerate(props):
        out[f"p{i}"] = prop_values(p, frame[p.column])
    return out


def encode_many(recs: np.ndarray, ids: np.ndarray) -> bytes:
    """The multiple-annotation encoding of records and their ids (in a fixed random order)."""
    ids = np.asarray(ids, dtype=np.int64)
    order = shuffle_order(ids)
    return struct.pack("<Q", len(ids)) + recs[order].tobytes() + ids[order].astype("<u8").tobytes()


def encode_one(rec: np.ndarray) -> bytes:
    """The single-annotation encoding (a table has no relationships: nothing after it)."""
    return rec.tobytes()


def info(
    geometry_kind: str,
    resolution: Sequence[float],
    grid: Grid,
    limits: Sequence[int],
    props: Sequence[Prop],
    prefix: str = "",
) -> dict[str, Any]:
    """The ``info`` JSON of a source: dimensions in voxels of ``resolution`` nm, bounds and
    every level of ``grid`` (keys under ``prefix``), the properties."""
    res = [float(r) for r in resolution]
    lo_nm, hi_nm = grid.bounds_nm()
    return {
        "@type": "neuroglancer_annotations_v1",
        "dimensions": dimensions(res),
        "lower_bound": [lo_nm[a] / res[a] for a in range(3)],
        "upper_bound": [hi_nm[a] / res[a] for a in range(3)],
        "annotation_type": "LINE" if geometry_kind == "lines" else "POINT",
        "properties": [p.to_info() for p in props],
        "relationships": [],
        "by_id": {"key": f"{prefix}by_id"},
        "spatial": [
            {
                "key": f"{prefix}spatial{level}",
                "grid_shape": list(grid.shape(level)),
                "chunk_size": [grid.chunk(level) * QUANTUM_NM / res[a] for a in range(3)],
                "limit": max(1, int(limits[level])),
            }
            for level in range(grid.levels)
        ],
    }


def parse_cell(text: str) -> tuple[int, int, int] | None:
    """A cell name like ``0_1_0`` as (i, j, k), or None."""
    parts = text.split("_")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])
