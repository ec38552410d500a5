"""The multi-level spatial index of a table: one 64-bit key per row, and the grid it lives in.

The precomputed format wants levels, coarse to fine, each a sample of the level below, the
deepest holding every row not placed above (a point appears exactly once in the index). We
give each row a *depth* from a hash of its id (`depth_of`: depth j with probability 7/8 of
8^-j, so every depth is a uniform sample of the table, one eighth the size of the depth
below) and a *cell code*: the Morton (z-order) code of its anchor position quantised to
`QUANTUM_NM` nanometres. The key is ``depth << 60 | morton``: all rows of one depth inside
one aligned cube of cells form one contiguous key range, so a database answers a cell of a
level with one index range scan that returns exactly that cell's rows, whatever the size
of the table.

A table with L levels puts depth L-1 and above at level 0 and depth L-1-l at level l; L is
the fewest levels whose deepest cells hold about `TARGET_PER_CELL` rows or fewer (so level
0 holds fewer still). The grid is made of cubes of
a power-of-two number of quanta aligned to the absolute quantum grid (so each cell is one
Morton range); level 0 has 1 or 2 cells per axis, each level halves the cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

QUANTUM_NM = 32.0
"""Side of the finest cell a key can tell apart, in nm."""
BITS = 20
"""Bits of a quantised coordinate per axis: 2^20 quanta of 32 nm span +-16.7 mm."""
OFFSET = 1 << (BITS - 1)
"""Quantum of 0 nm (so negative positions have keys too)."""
DEPTH_SHIFT = 3 * BITS
MAX_DEPTH = 7
"""Deepest depth a key stores (3 bits): tables of up to 8^7 x TARGET_PER_CELL rows."""
TARGET_PER_CELL = 4096
"""About how many rows a cell of the deepest level holds (at most twice this, if evenly spread)."""
MORTON_MASK = (1 << DEPTH_SHIFT) - 1

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix(values: np.ndarray, salt: int = 0) -> np.ndarray:
    """splitmix64 of 64-bit integers: a fixed, well-spread hash (uint64)."""
    with np.errstate(over="ignore"):
        z = np.asarray(values).astype(np.int64).view(np.uint64) + np.uint64(
            (0x9E3779B97F4A7C15 + salt) & 0xFFFFFFFFFFFFFFFF
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) & _M64


def depth_of(ids: Sequence[int] | np.ndarray) -> np.ndarray:
    """Each row's depth (0..7) from its id: the one place level membership is decided.

    Depth >= j with probability 8^-j (a hash of the id below 2^(64-3j)), independent of
    position, so each depth is a uniform sample of the table and each level a sample of the
    level below. (A stored uniform sample key would do the same: only this function reads
    the id.)"""
    h = mix(np.asarray(ids, dtype=np.int64))
    depth = np.zeros(h.shape, dtype=np.int64)
    for j in range(1, MAX_DEPTH + 1):
        depth += h < np.uint64(1 << (64 - 3 * j))
    return depth


def shuffle_order(ids: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random order of rows (a cell's list must be in random order: a
    viewer draws its first n to thin a cell out)."""
    return np.argsort(mix(ids, salt=0x5BD1E995), kind="stable")


def quantize(nm: np.ndarray) -> np.ndarray:
    """Positions in nm -> quanta (int64), clipped to the key's range."""
    q = np.floor(np.asarray(nm, dtype=np.float64) / QUANTUM_NM) + OFFSET
    return np.clip(q, 0, (1 << BITS) - 1).astype(np.int64)


def _spread(v: np.ndarray) -> np.ndarray:
    """The 20 low bits of v, each moved to every third bit (for z-order codes)."""
    v = v.astype(np.uint64) & np.uint64((1 << BITS) - 1)
    v = (v | (v << np.uint64(32))) & np.uint64(0x1F00000000FFFF)
    v = (v | (v << np.uint64(16))) & np.uint64(0x1F0000FF0000FF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x100F00F00F00F00F)
    v = (v | (v << np.uint64(4))) & np.uint64(0x10C30C30C30C30C3)
    v = (v | (v << np.uint64(2))) & np.uint64(0x1249249249249249)
    return v


def morton(q: np.ndarray) -> np.ndarray:
    """Z-order codes (int64) of quantised positions, shape (n, 3)."""
    q = np.asarray(q, dtype=np.int64).reshape(-1, 3)
    code = (
        _spread(q[:, 0]) | (_spread(q[:, 1]) << np.uint64(1)) | (_spread(q[:, 2]) << np.uint64(2))
    )
    return code.astype(np.int64)


def spatial_keys(ids: np.ndarray, anchors_nm: np.ndarray) -> np.ndarray:
    """``depth << 60 | morton`` of each row (int64); rows without a finite anchor get -1."""
    anchors = np.asarray(anchors_nm, dtype=np.float64).reshape(-1, 3)
    ok = np.isfinite(anchors).all(axis=1)
    keys = np.full(len(anchors), -1, dtype=np.int64)
    if ok.any():
        code = morton(quantize(anchors[ok]))
        keys[ok] = (depth_of(np.asarray(ids)[ok]) << DEPTH_SHIFT) | code
    return keys


@dataclass(frozen=True)
class Grid:
    """The cells of every level of one table (or view), in quanta."""

    side: int
    """Side of a level-0 cell, in quanta (a power of two)."""
    lower: tuple[int, int, int]
    """Corner of the grid, in quanta (a multiple of ``side`` on every axis)."""
    shape0: tuple[int, int, int]
    """Cells of level 0 per axis (1 or 2)."""
    levels: int

    def chunk(self, level: int) -> int:
        """Side of a cell of ``level``, in quanta."""
        return self.side >> level

    def shape(self, level: int) -> tuple[int, int, int]:
        """Cells of ``level`` per axis."""
        return tuple(s << level for s in self.shape0)  # type: ignore[return-value]

    def depths(self, level: int) -> range:
        """The depths whose rows sit at ``level``."""
        if level == 0:
            return range(self.levels - 1, MAX_DEPTH + 1)
        return range(self.levels - 1 - level, self.levels - level)

    def contains(self, level: int, cell: Sequence[int]) -> bool:
        """Whether ``cell`` is a cell of ``level``."""
        return 0 <= level < self.levels and all(
            0 <= c < s for c, s in zip(cell, self.shape(level), strict=True)
        )

    def key_ranges(self, level: int, cell: Sequence[int]) -> list[tuple[int, int]]:
        """[lo, hi) key ranges holding exactly the rows of ``cell`` at ``level``."""
        size = self.chunk(level)
        corner = np.array([lo + c * size for lo, c in zip(self.lower, cell, strict=True)])
        start = int(morton(corner[None, :])[0])
        span = size**3
        return [
            ((d << DEPTH_SHIFT) | start, ((d << DEPTH_SHIFT) | start) + span)
            for d in self.depths(level)
        ]

    def bounds_nm(self) -> tuple[list[float], list[float]]:
        """(lower, upper) corners of the whole grid in nm."""
        lo = [(v - OFFSET) * QUANTUM_NM for v in self.lower]
        hi = [lo[a] + self.shape0[a] * self.side * QUANTUM_NM for a in range(3)]
        return lo, hi


def level_count(n_rows: float, qlo: np.ndarray, qhi: np.ndarray, side: int) -> int:
    """Levels a view of about ``n_rows`` rows whose anchors span quanta ``qlo``..``qhi``
    needs: the fewest for which the deepest level holds at most 2 x TARGET_PER_CELL rows per
    cell its extent meets (a flat slab meets fewer cells than a cube), at most
    MAX_DEPTH + 1, and no cell smaller than one quantum."""
    qlo, qhi = np.asarray(qlo, dtype=np.int64), np.asarray(qhi, dtype=np.int64)
    finest = int(side).bit_length()  # cells of 1 quantum at level log2(side)
    most = min(MAX_DEPTH + 1, finest)
    for levels in range(1, most + 1):
        chunk = side >> (levels - 1)
        cells = float(np.prod(qhi // chunk - qlo // chunk + 1))  # cells the extent meets
        share = 1.0 if levels == 1 else 7 / 8  # the deepest level's share of the rows
        if max(float(n_rows), 0.0) * share / cells <= 2 * TARGET_PER_CELL:
            return levels
    return most


def grid_for(lo_nm: Sequence[float], hi_nm: Sequence[float], n_rows: float) -> Grid:
    """The grid of a view whose anchors span ``lo_nm``..``hi_nm`` (nm) with ~``n_rows`` rows."""
    qlo = quantize(np.asarray(lo_nm, dtype=np.float64))
    qhi = quantize(np.asarray(hi_nm, dtype=np.float64))
    span = int((qhi - qlo).max()) + 1
    side = 1 << max(0, (span - 1).bit_length())
    lower = (qlo // side) * side
    shape0 = tuple(int(v) for v in (qhi - lower) // side + 1)
    return Grid(
        side=side,
        lower=tuple(int(v) for v in lower),  # type: ignore[arg-type]
        shape0=shape0,  # type: ignore[arg-type]
        levels=level_count(n_rows, qlo, qhi, side),
    )


def cells_of(grid: Grid, level: int, keys: np.ndarray) -> np.ndarray:
    """The cell (i, j, k) of ``level`` each key's row falls in, shape (n, 3)."""
    code = np.asarray(keys, dtype=np.int64) & MORTON_MASK
    q = np.stack([_compact(code >> a) for a in range(3)], axis=1)
    return (q - np.asarray(grid.lower)) // grid.chunk(level)


def _compact(v: np.ndarray) -> np.ndarray:
    """Inverse of `_spread`: every third bit gathered back into 20 bits."""
    v = v.astype(np.uint64) & np.uint64(0x1249249249249249)
    v = (v | (v >> np.uint64(2))) & np.uint64(0x10C30C30C30C30C3)
    v = (v | (v >> np.uint64(4))) & np.uint64(0x100F00F00F00F00F)
    v = (v | (v >> np.uint64(8))) & np.uint64(0x1F0000FF0000FF)
    v = (v | (v >> np.uint64(16))) & np.uint64(0x1F00000000FFFF)
    v = (v | (v >> np.uint64(32))) & np.uint64((1 << BITS) - 1)
    return v.astype(np.int64)
