"""Whole-column primitives the validator and the position parser share: blanks, types, numbers.

Every function looks at a whole pandas column at once (numpy and pandas operations, never a
Python loop over rows except for the rare cells that need an exact Python int).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
EXACT_FLOAT = 2.0**53  # float64 holds every whole number up to here exactly


def null_mask(s: pd.Series) -> np.ndarray:
    """True where a cell is empty: None, pd.NA, or NaN in a numeric column."""
    if s.dtype == object:
        arr = s.to_numpy()
        mask = pd.isna(s).to_numpy()
        # In an object column an explicit float NaN is a value (not finite), not a blank.
        isfloat_nan = (
            np.fromiter((isinstance(v, float) for v in arr), dtype=bool, count=len(arr)) & mask
            if mask.any()
            else mask
        )
        return mask & ~isfloat_nan
    return pd.isna(s).to_numpy()


def types_mask(s: pd.Series, kinds: tuple[type, ...]) -> np.ndarray:
    """True where a cell of an object column is an instance of one of ``kinds``."""
    if s.dtype != object:
        return np.zeros(len(s), dtype=bool)
    # Fast path (C speed) for the usual columns: all text, or all blank.
    inferred = pd.api.types.infer_dtype(s, skipna=True)
    if inferred == "empty":
        return np.zeros(len(s), dtype=bool)
    if inferred == "string":
        return s.notna().to_numpy() if str in kinds else np.zeros(len(s), dtype=bool)
    return s.map(lambda v: isinstance(v, kinds)).to_numpy(dtype=bool)


def numbers(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float values, bad mask) for a column that should hold numbers."""
    if s.dtype == bool or str(s.dtype) == "boolean":
        return np.full(len(s), np.nan), np.ones(len(s), dtype=bool)
    if s.dtype != object:
        vals = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return vals, np.zeros(len(s), dtype=bool)
    bad = types_mask(s, (bool, np.bool_, list, tuple, dict, np.ndarray))
    txt = s.where(~bad, None)
    vals = pd.to_numeric(txt, errors="coerce").to_numpy(dtype=np.float64)
    bad |= np.isnan(vals) & ~pd.isna(txt).to_numpy()
    return vals, bad


def as_int64(vals: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """Floats to int64, with 0 where skipped or out of range (exact values come after)."""
    with np.errstate(invalid="ignore"):
        out = np.where(skip | ~(np.abs(np.nan_to_num(vals)) < 2.0**63), 0, vals)
    return np.nan_to_num(out).astype(np.int64)


def exact_big(s: pd.Series, vals: np.ndarray, usable: np.ndarray) -> dict[int, int]:
    """Exact Python ints for the few rows beyond float64's 53 bits (ints, or digit text like
    "9007199254740993"): numbers there must not be rounded through a float."""
    with np.errstate(invalid="ignore"):
        idx = np.flatnonzero(usable & (np.abs(np.nan_to_num(vals)) >= EXACT_FLOAT))
    out: dict[int, int] = {}
    for i in idx:  # rare rows only: not a loop over the data
        v = s.iloc[i]
        if isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_):
            out[int(i)] = int(v)
            continue
        text = str(v).strip()
        try:
            out[int(i)] = int(text)
        except ValueError:
            out[int(i)] = int(vals[i])  # "1e19", "12.0e18": given as a float, kept as one
    return out
