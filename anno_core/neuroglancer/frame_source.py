"""A precomputed annotation source over rows held in memory (a file before upload, or a
small filtered view of a table): the same levels and cells a table gets from its database
index, worked out with numpy.

The rows are sorted by spatial key once; a cell is then one `numpy.searchsorted` per depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from anno_core.neuroglancer import encoding
from anno_core.neuroglancer.layout import Layout, Prop
from anno_core.neuroglancer.spatial import cells_of, grid_for, spatial_keys


class FrameSource:
    """Rows (an ``id`` column, the point columns of ``lay``, the property columns) served as
    the ``lines`` and ``points`` sources of a table of that layout."""

    def __init__(
        self,
        lay: Layout,
        props: Sequence[Prop],
        resolution: Sequence[float],
        frame: pd.DataFrame,
    ) -> None:
        self.layout = lay
        self.props = list(props)
        self.resolution = tuple(float(r) for r in resolution)
        anchors_nm = encoding.anchors(lay, frame) * np.asarray(self.resolution)
        keys = spatial_keys(frame["id"].to_numpy(dtype=np.int64), anchors_nm)
        keep = keys >= 0  # a row without a position cannot be placed (or drawn)
        order = np.argsort(keys[keep], kind="stable")
        self.frame = frame.loc[keep].iloc[order].reset_index(drop=True)
        self.keys = keys[keep][order]
        self.ids = self.frame["id"].to_numpy(dtype=np.int64)
        self._by_id = pd.Index(self.ids)
        self.box_nm: tuple[np.ndarray, np.ndarray] | None = None
        if len(self.keys):
            ok = anchors_nm[keep]
            self.box_nm = (ok.min(axis=0), ok.max(axis=0))
            self.grid = grid_for(*self.box_nm, len(self.keys))
        else:
            self.grid = grid_for([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 0)
        self.limits = self._limits()
        self._records = {
            g: encoding.records(lay, self.props, self.frame, g) for g in lay.geometries
        }

    def _limits(self) -> list[int]:
        """The largest number of rows in one cell, per level (exact)."""
        depth = self.keys >> 60
        out = []
        for level in range(self.grid.levels):
            at = np.isin(depth, list(self.grid.depths(level)))
            if not at.any():
                out.append(1)
                continue
            cells = cells_of(self.grid, level, self.keys[at])
            _, counts = np.unique(cells, axis=0, return_counts=True)
            out.append(int(counts.max()))
        return out

    def extent(self) -> tuple[list[float], list[float]] | None:
        """(lowest, highest) anchor in voxels, or None (no row has a position)."""
        if self.box_nm is None:
            return None
        res = np.asarray(self.resolution)
        return (self.box_nm[0] / res).tolist(), (self.box_nm[1] / res).tolist()

    def info(self, geometry: str, prefix: str = "") -> dict[str, Any]:
        """The ``info`` JSON of the ``lines`` or ``points`` source."""
        return encoding.info(
            geometry, self.resolution, self.grid, self.limits, self.props, prefix=prefix
        )

    def cell(self, geometry: str, level: int, cell: Sequence[int]) -> bytes:
        """The encoded rows of one cell of one level (empty outside the grid)."""
        if not self.grid.contains(level, cell):
            return encoding.EMPTY
        parts = [
            np.arange(
                np.searchsorted(self.keys, lo, side="left"),
                np.searchsorted(self.keys, hi, side="left"),
            )
            for lo, hi in self.grid.key_ranges(level, cell)
        ]
        rows = np.concatenate(parts) if parts else np.array([], dtype=np.int64)
        return encoding.encode_many(self._records[geometry][rows], self.ids[rows])

    def by_id(self, geometry: str, annotation_id: int) -> bytes | None:
        """One row's record, or None."""
        at = self._by_id.get_indexer([int(annotation_id)])[0]
        if at < 0:
            return None
        return encoding.encode_one(self._records[geometry][at : at + 1])
