"""The sample key: which rows a 3D view (or an estimate) reads, chosen by the database.

Every row has a key, ``sample_key(id)``: a 63-bit hash of its id (SplitMix64's finaliser, a
bijection with good avalanche), so keys are uniformly distributed, independent of the order
rows came in, and the same every time. The sample of size N of a table is the N live rows
with the smallest keys: the same rows every time, spread uniformly over the table, and a
larger sample always contains a smaller one.

What is stored is the key's *level*, ``sample_level(id)``, a coarse grain of the key in
quarter octaves: 4 x (leading zero bits) + (3 - the two bits after the leading one). Level
0..3 hold half the rows, 4..7 a quarter, ...; levels >= 4k hold a 2**-k share, and each
level a quarter of its octave. Ordering by level, highest first, is ordering by key at
that grain, so the database finds the N smallest keys by reading the few highest levels
(N rows and at most a third more: the share of the last level read), and which level
holds the N-th row from the index alone. A random key's index would take every insert at
a random place (on SQLite that tripled the index's cost per row); a level's index takes
each new row at the end of its level, as an id index does. The exact order inside the
last level is the key, computed here from the ids read.

The same key suits any level-of-detail structure (a spatial index's coarse levels show the
rows with the smallest keys first): use `sample_key` (and `sample_level`) from here, the
one place they are computed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SAMPLE_SEED = 0x616E6E6F5F73616D  # "anno_sam": fixed, so a row's key never changes
MAX_LEVEL = 4 * 62 + 3  # key 0 and 1 (62 leading zeros)

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
    """The level of 63-bit keys (int16, 0..251): 4 x leading zero bits + 3 - the two bits
    after the leading one, so a higher level always means a smaller key."""
    x = np.asarray(keys, dtype=np.int64).copy()
    bits = np.zeros(x.shape, dtype=np.int64)
    for shift in (32, 16, 8, 4, 2, 1):  # the bit length, exactly, by halving
        high = x >= (np.int64(1) << np.int64(shift))
        bits += high * shift
        x = np.where(high, x >> np.int64(shift), x)
    bits += x > 0
    keys = np.asarray(keys, dtype=np.int64)
    # the two bits below the leading one (keys under 4 have fewer: shifted up instead)
    below = (
        np.where(
            bits >= 3,
            keys >> np.maximum(bits - 3, 0),
            keys << np.maximum(3 - bits, 0),
        )
        & 3
    )
    level = 4 * (63 - bits) + 3 - below
    return np.clip(level, 0, MAX_LEVEL).astype(np.int16)


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
