"""A table (or a filtered view of it) as a precomputed annotation source, read from the
database cell by cell.

`TableView` answers ``info``, one spatial cell and one ``by_id`` with bounded work: a cell
is the index range(s) of its keys (`anno_core.neuroglancer.spatial.Grid.key_ranges`) joined
to the table, so it reads that cell's rows and no other, whatever the table's size. The
number of levels comes from counting the index from its top (a few thousand entries); text
fields' enum labels from the distinct values of a uniform sample of at most `SAMPLE` rows
(all rows for smaller tables; a larger table's rarer values show as '(other)').

A view is pinned to a *version*, the table's highest id when its ``info`` was made: cells
and labels read rows up to that id only, so what a viewer was told and what it gets agree
while rows are added; rows deleted meanwhile disappear at once. A view at a past moment has
that moment's conditions in its ``where`` (`reads.as_of`): it shows the rows live then,
whatever was written since.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from anno_core.engine import dialect, spatial_index
from anno_core.neuroglancer import encoding
from anno_core.neuroglancer.layout import MAX_ENUM, Layout, Prop, properties, text_labels
from anno_core.neuroglancer.spatial import DEPTH_SHIFT, MAX_DEPTH, Grid, grid_for, quantize
from anno_core.schemas import SchemaSpec

SAMPLE = 250_000
"""Most rows whose distinct text values make a field's enum labels."""
COUNT_ENOUGH = 2_000
"""Index entries counted before the table's size is estimated from them."""

Where = Any  # a function adding a view's conditions (valid, filters) to a query


class TableView:
    """One table or filtered view at one version, served from the database."""

    def __init__(
        self,
        engine: Engine,
        spec: SchemaSpec,
        lay: Layout,
        t: sa.Table,
        side: sa.Table,
        meta: dict[str, Any],
        where: Where,
        version: int,
    ) -> None:
        self.engine, self.spec, self.layout, self.t, self.side = engine, spec, lay, t, side
        self.where, self.version = where, version
        self.resolution = tuple(float(meta[f"voxel_resolution_{a}"]) for a in "xyz")
        with engine.connect() as conn:
            box = spatial_index.extent(conn, int(meta["id"]))
            self.box_nm = box
            rows = self._estimate(conn) if box is not None else 0
            self.grid = grid_for(*box, rows) if box else grid_for([0.0] * 3, [0.0] * 3, 0)
            self.props: list[Prop] = properties(spec, lay, self._labels(conn))
            self.limits = self._limits(conn, rows, box)
        self._columns = [self.t.c.id] + [
            self.t.c[c] for c in dict.fromkeys(lay.point_columns() + [p.column for p in self.props])
        ]

    # -- what info needs -------------------------------------------------------------------
    def _estimate(self, conn: Any) -> float:
        """About how many rows the index holds up to the version (deleted ones included, so
        the grid stays the same while rows are deleted)."""
        for depth in range(MAX_DEPTH, -1, -1):
            n = conn.execute(
                sa.select(sa.func.count())
                .select_from(self.side)
                .where(self.side.c.spatial_key >= depth << DEPTH_SHIFT)
                .where(self.side.c.id <= self.version)
            ).scalar()
            if n >= COUNT_ENOUGH or depth == 0:
                return float(n) * 8.0**depth
        return 0.0

    def _labels(self, conn: Any) -> dict[str, tuple[str, ...] | None]:
        """Each text field's enum labels, from a uniform sample of rows up to the version."""
        texts = [f.column for f in self.spec.data_fields if f.kind == "str"]
        if not texts:
            return {}
        depth = 0
        while depth < MAX_DEPTH and self.version / 8.0**depth > SAMPLE:
            depth += 1
        out = {}
        for col in texts:
            q = (
                sa.select(self.t.c[col])
                .distinct()
                .select_from(self.side.join(self.t, self.side.c.id == self.t.c.id))
                .where(self.side.c.spatial_key >= depth << DEPTH_SHIFT)
                .where(self.side.c.id <= self.version)
                .limit(MAX_ENUM + 1)
            )
            values = list(conn.execute(q).scalars())
            out[col] = text_labels(values, complete=depth == 0)
        return out

    def _limits(self, conn: Any, rows: float, box: Any) -> list[int]:
        """Rows per cell: counted for level 0, estimated (spread over the cells the extent
        meets) below it."""
        grid = self.grid
        top = 1
        for cell in np.ndindex(*grid.shape(0)):
            top = max(top, self._count(conn, grid, 0, cell))
        out = [top]
        if box is None:
            return out + [1] * (grid.levels - 1)
        lo, hi = quantize(np.asarray(box[0])), quantize(np.asarray(box[1]))
        for level in range(1, grid.levels):
            chunk = grid.chunk(level)
            met = float(np.prod(hi // chunk - lo // chunk + 1))
            share = 7 / 8 * 8.0 ** -(grid.levels - 1 - level)
            out.append(max(1, math.ceil(rows * share / met)))
        return out

    def _count(self, conn: Any, grid: Grid, level: int, cell: Sequence[int]) -> int:
        total = 0
        for lo, hi in grid.key_ranges(level, cell):
            q = self._select([sa.func.count()], lo, hi)
            total += int(conn.execute(q).scalar())
        return total

    # -- reads -----------------------------------------------------------------------------
    def _select(self, columns: list, lo: int, hi: int) -> Any:
        q = (
            sa.select(*columns)
            .select_from(self.side.join(self.t, self.side.c.id == self.t.c.id))
            .where(self.side.c.spatial_key >= lo, self.side.c.spatial_key < hi)
            .where(self.t.c.id <= self.version)
        )
        return self.where(q, self.t)

    def extent(self) -> tuple[list[float], list[float]] | None:
        """(lowest, highest) anchor of the table's rows in voxels, or None (no rows)."""
        if self.box_nm is None:
            return None
        lo, hi = self.box_nm
        return [v / r for v, r in zip(lo, self.resolution, strict=True)], [
            v / r for v, r in zip(hi, self.resolution, strict=True)
        ]

    def info(self, geometry: str, prefix: str) -> dict[str, Any]:
        """The ``info`` JSON of the ``lines`` or ``points`` source."""
        return encoding.info(
            geometry, self.resolution, self.grid, self.limits, self.props, prefix=prefix
        )

    def cell(self, geometry: str, level: int, cell: Sequence[int]) -> bytes:
        """The encoded rows of one cell of one level (empty outside the grid)."""
        if not self.grid.contains(level, cell):
            return encoding.EMPTY
        frames = []
        with self.engine.connect() as conn:
            for lo, hi in self.grid.key_ranges(level, cell):
                frames.append(dialect.read_frame(conn, self._select(self._columns, lo, hi)))
        frames = [f for f in frames if not f.empty]
        if not frames:
            return encoding.EMPTY
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        recs = encoding.records(self.layout, self.props, frame, geometry)
        return encoding.encode_many(recs, frame["id"].to_numpy(dtype=np.int64))

    def by_id(self, geometry: str, annotation_id: int) -> bytes | None:
        """One row's record, or None if the view has no such row."""
        q = sa.select(*self._columns).where(self.t.c.id == int(annotation_id))
        q = self.where(q.where(self.t.c.id <= self.version), self.t)
        with self.engine.connect() as conn:
            res = conn.execute(q)
            frame = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
        if frame.empty:
            return None
        return encoding.encode_one(encoding.records(self.layout, self.props, frame, geometry))
