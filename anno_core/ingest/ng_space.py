"""A Neuroglancer state's coordinate space: how a layer's numbers become the table's voxels.

A layer's coordinates are in its source's input dimensions (``inputDimensions``, else its
``outputDimensions``, else the state's ``dimensions``); the transform's matrix maps them to
physical units (its linear part physical to physical, its last column in output-dimension
units); dimensions are matched by name (x, y, z). When the state's voxels are the table's
and there is no matrix, numbers are kept exactly as written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from anno_core.errors import InvalidArgument
from anno_core.schemas import AXES

UNIT_NM = {"m": 1e9, "mm": 1e6, "um": 1e3, "µm": 1e3, "nm": 1.0, "pm": 1e-3}


def _scales_nm(dims: Any, what: str) -> dict[str, float]:
    if not isinstance(dims, dict) or not dims:
        raise InvalidArgument(
            f"The state gives no {what}; copy the link again from Neuroglancer (it always "
            "writes one)."
        )
    out = {}
    for name, spec in dims.items():
        try:
            scale, unit = float(spec[0]), str(spec[1])
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            raise InvalidArgument(f"Dimension {name!r} of the state is not [scale, unit].") from exc
        out[str(name)] = round(scale * UNIT_NM[unit], 9) if unit in UNIT_NM else math.nan
    return out


@dataclass(frozen=True)
class Transform:
    """Annotation coordinates (input space) -> the table's voxels."""

    matrix: np.ndarray  # (3, rank_in + 1): rows x, y, z in nm per input unit, then offset nm
    exact: np.ndarray | None  # per input dim a factor of exactly 1, or None

    def apply(self, coords: np.ndarray, resolution: np.ndarray) -> np.ndarray:
        if self.exact is not None:
            return coords[:, self.exact]
        nm = coords @ self.matrix[:, :-1].T + self.matrix[:, -1]
        return np.round(nm / resolution, 9)


def transform(state: dict, source: dict, resolution: np.ndarray) -> Transform:
    """How a layer's coordinates become the table's voxels (see the module docstring)."""
    tf = source.get("transform") or {}
    out_dims = _scales_nm(tf.get("outputDimensions") or state.get("dimensions"), "dimensions")
    in_dims = (
        _scales_nm(tf["inputDimensions"], "input dimensions") if "inputDimensions" in tf else None
    )
    out_names = list(out_dims)
    in_names = list(in_dims) if in_dims is not None else out_names
    in_scale = np.array([(in_dims or out_dims)[n] for n in in_names])
    rank_in, rank_out = len(in_names), len(out_names)
    m = np.asarray(tf.get("matrix", np.eye(rank_out, rank_in + 1)), dtype=float)
    if m.shape != (rank_out, rank_in + 1):
        raise InvalidArgument(
            f"The layer's transform matrix is {m.shape[0]} x {m.shape[1]}, but its dimensions "
            f"need {rank_out} x {rank_in + 1}."
        )
    rows = []
    for axis in AXES:
        hit = [i for i, n in enumerate(out_names) if n.lower() == axis]
        if not hit:
            raise InvalidArgument(
                f"The state's coordinate space has no '{axis}' dimension (it has "
                f"{', '.join(out_names)}); only x, y, z positions can be imported."
            )
        o = hit[0]
        if math.isnan(out_dims[out_names[o]]):
            raise InvalidArgument(f"Dimension '{axis}' of the state is not in metres.")
        # a dimension x, y, z do not depend on (time, a channel...) may have any unit
        linear = np.where(m[o, :-1] == 0, 0.0, m[o, :-1] * in_scale)
        rows.append(np.append(linear, m[o, -1] * out_dims[out_names[o]]))
    matrix = np.array(rows)
    if np.isnan(matrix).any():
        raise InvalidArgument("A dimension the positions use is not in metres.")
    exact = None
    lin = matrix[:, :-1]
    if not matrix[:, -1].any() and ((lin == 0) | (lin == resolution[:, None])).all():
        picks = [np.flatnonzero(lin[a]) for a in range(3)]
        if all(len(p) == 1 for p in picks):
            exact = np.array([int(p[0]) for p in picks])
    return Transform(matrix, exact)
