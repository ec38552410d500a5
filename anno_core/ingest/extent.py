"""Do a file's points land where the table's points are? An extent check naming the mistake.

A unit mistake multiplies every coordinate: positions in 4 x 4 x 40 nm voxels read as nm
come out 4, 4 and 40 times too small, nm read as voxels 4, 4 and 40 times too large, and
swapped columns swap two axes. So the check compares, per axis, how far the points reach
from the origin (the largest absolute coordinate, in nm) rather than how wide they spread:
a file covering a small part of the volume still reaches about as far as the table's
points, while a file in the wrong unit does not.

`compare_extents` flags every axis where the new points reach 2x (`THRESHOLD`) further or
less far than the existing ones and then tries the other readings of the file (the usual
voxel sizes, the table's own, two axes swapped); a reading that brings every axis within
1.5x (`MATCH`) is named as the likely mistake. When the table has no points yet the file is
compared with the aligned volume's: its other tables' points (the same check), or the
bounds an admin set (`compare_bounds`: only points outside them are flagged). `DATASETS`
names the voxel sizes of public data sets. Pure numpy, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from anno_core.schemas import AXES

THRESHOLD = 2.0
MATCH = 1.5
COMMON_RESOLUTIONS: tuple[tuple[float, float, float], ...] = (
    (1.0, 1.0, 1.0),
    (4.0, 4.0, 40.0),
    (8.0, 8.0, 40.0),
    (16.0, 16.0, 40.0),
    (8.0, 8.0, 33.0),
    (4.0, 4.0, 45.0),
    (8.0, 8.0, 8.0),
)
DATASETS: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("hemibrain", (8.0, 8.0, 8.0)),
    ("FAFB / FlyWire", (4.0, 4.0, 40.0)),
    ("MICrONS", (4.0, 4.0, 40.0)),
    ("H01", (8.0, 8.0, 33.0)),
)
"""Voxel sizes (nm) of public data sets, offered by name as the unit of a file's positions."""
OUTSIDE = 1.05  # points this far past an admin's bounds are outside them

Extent = tuple[Sequence[float], Sequence[float]]  # (lowest corner, highest corner) in nm


def fmt_resolution(res: Sequence[float]) -> str:
    """'4, 4, 40' for a resolution in nm."""
    return ", ".join(f"{float(v):g}" for v in res)


def _reading(res: Sequence[float]) -> str:
    if all(float(v) == 1 for v in res):
        return "nm"
    return f"{fmt_resolution(res)} nm voxels"


@dataclass(frozen=True)
class ExtentCheck:
    """How far the new points reach compared with the existing ones, axis by axis."""

    new_reach: tuple[float, float, float]
    existing_reach: tuple[float, float, float]
    ratios: tuple[float, float, float]  # new reach / existing reach
    axes: tuple[str, ...]  # axes off by THRESHOLD or more
    likely: str | None = None  # "these look like 4, 4, 40 nm voxels read as nm"
    resolution: tuple[float, float, float] | None = None  # the file's resolution that fits
    swapped: tuple[str, str] | None = None  # two axes that look swapped
    against: str = "the table's points"  # what the new points were compared with

    @property
    def ok(self) -> bool:
        return not self.axes

    def message(self) -> str:
        """One or two sentences: what differs, the likely mistake, and the fix."""
        if self.ok:
            return "The new points reach about as far as the table's points on every axis."
        parts = []
        for k, a in enumerate(self.axes):
            j = AXES.index(a)
            r = self.ratios[j]
            how = f"{_times(r)} further" if r > 1 else f"{_times(1 / r)} less far"
            than = f" than {self.against}" if k == 0 else ""
            parts.append(
                f"{how}{than} in {a} ({self.new_reach[j]:,.0f} nm against "
                f"{self.existing_reach[j]:,.0f} nm)"
            )
        text = "The new points reach " + _join(parts)
        if self.resolution is not None:
            return (
                f"{text}: {self.likely}. If so, choose {fmt_resolution(self.resolution)} "
                "nm as the file's resolution."
            )
        if self.swapped is not None:
            a, b = self.swapped
            return (
                f"{text}: {self.likely}. If so, map the {a} column to {b} and the {b} "
                f"column to {a}."
            )
        return (
            f"{text}. Check the file's resolution and which columns hold x, y and z; if "
            "the file covers another part of the volume, this is expected."
        )


def _times(r: float) -> str:
    return f"{r:.0f}x" if r >= 10 else f"{r:.1f}x".replace(".0x", "x")


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def reach(extent: Extent) -> np.ndarray:
    """Per axis, the largest distance of a point from the origin (nm)."""
    lo, hi = (np.asarray([float(v) for v in corner], dtype=np.float64) for corner in extent)
    return np.maximum(np.abs(lo), np.abs(hi))


def _distance(new: np.ndarray, old: np.ndarray) -> float:
    """The largest factor (as a log) between two reaches on any axis."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.abs(np.log(new / old))
    return float(np.max(logs))


def compare_extents(
    new: Extent | None,
    existing: Extent | None,
    *,
    file_resolution: Sequence[float] = (1.0, 1.0, 1.0),
    table_resolution: Sequence[float] | None = None,
    against: str = "the table's points",
) -> ExtentCheck | None:
    """Compare the new points' extent (nm) with the existing points' (nm).

    ``file_resolution`` is how the file's positions were read (nm per unit), so that the
    other readings can be tried; ``against`` names the existing points in the message.
    None when either side has no points, or reaches no further than 1 nm from the origin
    on some axis (nothing to compare).
    """
    if new is None or existing is None:
        return None
    r_new, r_old = reach(new), reach(existing)
    if not (
        np.all(r_new > 1)
        and np.all(r_old > 1)
        and np.all(np.isfinite(r_new))
        and np.all(np.isfinite(r_old))
    ):
        return None
    ratios = r_new / r_old
    off = tuple(
        a for a, r in zip(AXES, ratios, strict=True) if r >= THRESHOLD or r <= 1 / THRESHOLD
    )
    base = ExtentCheck(
        new_reach=_tuple(r_new),
        existing_reach=_tuple(r_old),
        ratios=_tuple(ratios),
        axes=off,
        against=against,
    )
    if not off:
        return base
    current = np.asarray([float(v) for v in file_resolution], dtype=np.float64)
    best: tuple[float, ExtentCheck] | None = None
    for cand in _candidates(current, table_resolution):
        d = _distance(r_new * np.asarray(cand) / current, r_old)
        if d < math.log(MATCH) and (best is None or d < best[0]):
            res = (float(cand[0]), float(cand[1]), float(cand[2]))
            likely = f"these look like {_reading(res)} read as {_reading(current)}"
            best = (d, replace(base, likely=likely, resolution=res))
    for i, j in combinations(range(3), 2):
        order = [0, 1, 2]
        order[i], order[j] = j, i
        d = _distance(r_new[order], r_old)
        if d < math.log(MATCH) and (best is None or d < best[0]):
            pair = (AXES[i], AXES[j])
            best = (
                d,
                replace(
                    base, swapped=pair, likely=f"the {pair[0]} and {pair[1]} columns look swapped"
                ),
            )
    return base if best is None else best[1]


def _candidates(
    current: np.ndarray, table_resolution: Sequence[float] | None
) -> list[tuple[float, ...]]:
    """Other readings of the file to try: usual voxel sizes and the table's own."""
    found = {tuple(float(v) for v in c) for c in COMMON_RESOLUTIONS}
    if table_resolution is not None:
        found.add(tuple(float(v) for v in table_resolution))
    found.discard(tuple(current.tolist()))
    return sorted(found)


def compare_bounds(
    new: Extent | None,
    bounds: Extent | None,
    *,
    file_resolution: Sequence[float] = (1.0, 1.0, 1.0),
    table_resolution: Sequence[float] | None = None,
) -> ExtentCheck | None:
    """Do the new points (nm) fall inside the bounds an admin set for the volume (nm)?

    Points may cover any part of the volume, so only points outside the bounds (by more
    than 5%) are flagged; the likely reading is then the largest of the usual ones that
    brings every point inside. None when there is nothing to compare."""
    if new is None or bounds is None:
        return None
    lo, hi = (np.asarray([float(v) for v in c], dtype=np.float64) for c in new)
    b_lo, b_hi = (np.asarray([float(v) for v in c], dtype=np.float64) for c in bounds)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        return None
    r_new, r_old = reach(new), reach(bounds)
    if not (np.all(r_old > 1)):
        return None
    ratios = r_new / r_old
    span = (b_hi - b_lo) * (OUTSIDE - 1)

    def inside(factor: np.ndarray) -> bool:
        return bool(np.all(lo * factor >= b_lo - span) and np.all(hi * factor <= b_hi + span))

    off = tuple(
        a for j, a in enumerate(AXES) if lo[j] < b_lo[j] - span[j] or hi[j] > b_hi[j] + span[j]
    )
    against = "the aligned volume's bounds"
    base = ExtentCheck(
        new_reach=_tuple(r_new),
        existing_reach=_tuple(r_old),
        ratios=_tuple(ratios),
        axes=off,
        against=against,
    )
    if not off:
        return base
    current = np.asarray([float(v) for v in file_resolution], dtype=np.float64)
    fits = []
    for cand in _candidates(current, table_resolution):
        factor = np.asarray(cand) / current
        if inside(factor):
            fits.append((float(np.min(r_new * factor / r_old)), cand))
    if not fits:
        return base
    _, res = max(fits)
    res3 = (float(res[0]), float(res[1]), float(res[2]))
    likely = f"these look like {_reading(res3)} read as {_reading(current)}"
    return replace(base, likely=likely, resolution=res3)


def _tuple(a: np.ndarray) -> tuple[float, float, float]:
    return (float(a[0]), float(a[1]), float(a[2]))
