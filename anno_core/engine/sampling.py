"""The sample key: which rows a 3D view (or an estimate) reads, chosen by the database.

Every row has a key, ``sample_key(id)``: a 63-bit hash of its id (SplitMix64's finaliser, a
bijection with good avalanche), so keys are uniformly distributed, independent of the order
rows came in, and the same every time. The sample of size N of a table is the N live rows
with the smallest keys: the same rows every time, spread uniformly over the table, and a
larger sample always contains a smaller one.

What is stored is the key's *level*, ``sample_level(id)``: the number of leading zero bits of
the key (level 0 holds half the rows, level 1 a quarter, ...; level >= k holds a 2**-k
share). It is set at insert and indexed (partial on live rows). Ordering by level,
highest first, is ordering by key at a coarse grain, so the database finds the N smallest
keys by reading the few highest levels only (at most about 2N rows; `sample_cut` picks the
level from the index alone). A random key's index would take every insert at a random
place (on SQLite that tripled the index's cost per row); a level's index takes each new row
at the end of its level, as an id index does. The exact order inside the last level is the
key, computed here from the ids read.

The same key suits any level-of-detail structure (a spatial index's coarse levels show the
rows of the highest sample levels first): use `sample_key` / `sample_level` from here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SAMPLE_SEED = 0x616E6E6F5F73616D  # "anno_sam": fixed, so a row's key never changes
MAX_LEVEL = 62

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def sample_key(ids: Any) -> np.ndarray:
    """The 63-bit sample key (int64, >= 0) of each id: uniform, fixed, a hash of the id."""
    x = np.asarray(ids, dtype=np.int64).astype(np.uint64) ^ np.uint64(SAMPLE_SEED)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        x = x + _GAMMA
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(1)).astype(np.int64)


def level_of_key(keys: Any) -> np.ndarray:
    """Leading zero bits of 63-bit keys (0..62): level k holds a 2**-(k+1) share of rows."""
    x = np.asarray(keys, dtype=np.int64).copy()
    bits = np.zeros(x.shape, dtype=np.int64)
    for shift in (32, 16, 8, 4, 2, 1):  # the bit length, exactly, by halving
        high = x >= (np.int64(1) << np.int64(shift))
        bits += high * shift
        x = np.where(high, x >> np.int64(shift), x)
    bits += x > 0
    return np.clip(63 - bits, 0, MAX_LEVEL).astype(np.int16)


def sample_level(ids: Any) -> np.ndarray:
    """The stored level of each id's sample key (int16): ``level_of_key(sample_key(ids))``."""
    return level_of_key(sample_key(ids))


def smallest_keys(ids: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` ids with the smallest sample keys, in key order."""
    keys = sample_key(ids)
    if len(keys) > n:
        part = np.argpartition(keys, n - 1)[:n]
        return part[np.argsort(keys[part], kind="stable")]
    return np.argsort(keys, kind="stable")
