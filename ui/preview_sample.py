"""Which points a 3D preview draws and in which colours: a seeded, stratified sample, and
categories (top values or numeric bins) with colour-blind-safe colours."""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_CATEGORIES = 10
NUMERIC_BINS = 6

# Okabe-Ito and Tableau colours: distinguishable for colour-blind readers, none of them grey.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (86, 180, 233),
    (213, 94, 0),
    (148, 103, 189),
    (188, 189, 34),
    (140, 86, 75),
    (23, 190, 207),
)
SEQUENTIAL: tuple[tuple[int, int, int], ...] = (  # viridis, low to high
    (68, 1, 84),
    (65, 68, 135),
    (42, 120, 142),
    (34, 168, 132),
    (122, 209, 81),
    (253, 231, 37),
)
OTHER_COLOR = (90, 90, 110)
EMPTY_COLOR = (30, 30, 30)


def sample_indices(
    n: int, max_points: int, seed: int = 0, strata: np.ndarray | None = None
) -> np.ndarray:
    """Sorted indices of at most ``max_points`` of ``n`` rows, the same for the same seed.

    With ``strata`` (an integer code per row), every stratum keeps its share of the sample
    and at least one row, so rare values are never lost.
    """
    if max_points <= 0:
        return np.arange(0)
    if n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if strata is None:
        return np.sort(rng.choice(n, size=max_points, replace=False))
    codes = np.asarray(strata)
    uniq, inverse, sizes = np.unique(codes, return_inverse=True, return_counts=True)
    if len(uniq) > max_points:  # more strata than points: a plain sample is fairer
        return np.sort(rng.choice(n, size=max_points, replace=False))
    quota = _quotas(sizes, max_points)
    order = rng.permutation(n)
    order = order[np.argsort(inverse[order], kind="stable")]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank = np.arange(n) - np.repeat(starts, sizes)
    keep = rank < np.repeat(quota, sizes)
    return np.sort(order[keep])


def _quotas(sizes: np.ndarray, budget: int) -> np.ndarray:
    """Largest-remainder shares of ``budget``, at least 1 per stratum, never above its size."""
    share = sizes * (budget / sizes.sum())
    quota = np.minimum(np.maximum(np.floor(share).astype(np.int64), 1), sizes)
    left = budget - int(quota.sum())
    if left > 0:
        room = sizes - quota
        order = np.argsort(-(share - np.floor(share)), kind="stable")
        for i in order:
            if left == 0:
                break
            if room[i] > 0:
                quota[i] += 1
                left -= 1
    while left < 0:  # the minimum of 1 overshot: take back from the largest strata
        i = int(np.argmax(quota))
        take = min(-left, int(quota[i]) - 1)
        if take <= 0:
            break
        quota[i] -= take
        left += take
    return quota


def categories(values: pd.Series) -> tuple[np.ndarray, list[str], list[tuple[int, ...]]]:
    """(code per row, labels, colours): top values or numeric bins; -1 never occurs."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and values.nunique(dropna=True) > MAX_CATEGORIES:
        num = values.to_numpy(np.float64)
        finite = num[np.isfinite(num)]
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, NUMERIC_BINS + 1)))
        bins = np.clip(np.searchsorted(edges, num, side="right") - 1, 0, len(edges) - 2)
        labels = [f"{_fmt(edges[i])} to {_fmt(edges[i + 1])}" for i in range(len(edges) - 1)]
        step = max(1, (len(SEQUENTIAL) - 1) // max(1, len(labels) - 1))
        colors = [SEQUENTIAL[min(i * step, len(SEQUENTIAL) - 1)] for i in range(len(labels))]
        codes = np.where(np.isfinite(num), bins, len(labels))
        return codes, [*labels, "(empty)"], [*colors, EMPTY_COLOR]
    raw, uniques = pd.factorize(values, sort=False)  # -1 marks an empty cell
    counts = np.bincount(raw[raw >= 0], minlength=len(uniques))
    top = np.argsort(-counts, kind="stable")[:MAX_CATEGORIES]
    top = top[counts[top] > 0]
    other, empty = len(top), len(top) + 1
    lookup = np.full(len(uniques) + 1, other, dtype=np.int64)
    lookup[top] = np.arange(len(top))
    lookup[-1] = empty
    labels = [str(uniques[i]) for i in top] + ["other values", "(empty)"]
    return lookup[raw], labels, [*PALETTE[: len(top)], OTHER_COLOR, EMPTY_COLOR]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
