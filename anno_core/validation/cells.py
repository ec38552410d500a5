"""Whole-column primitives the validator and the position parser share: blanks, types, numbers.

Every function looks at a whole pandas column at once (numpy and pandas operations, never a
Python loop over rows except for the rare cells that need an exact Python int).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

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
    """(float values, bad mask) for a column that should hold numbers. A whole number too
    large for a float (``10**400``) is infinity here; `exact_big` keeps its exact value."""
    if s.dtype == bool or str(s.dtype) == "boolean":
        return np.full(len(s), np.nan), np.ones(len(s), dtype=bool)
    if s.dtype.kind in "iuf":
        vals = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return vals, np.zeros(len(s), dtype=bool)
    if s.dtype.kind in "mM":  # dates and durations: their nanoseconds are no number to store
        return np.full(len(s), np.nan), ~pd.isna(s).to_numpy()
    if s.dtype != object:
        s = s.astype(object)
    bad = types_mask(s, (bool, np.bool_, list, tuple, dict, np.ndarray))
    txt = s.where(~bad, None)
    try:
        vals = pd.to_numeric(txt, errors="coerce").to_numpy(dtype=np.float64)
    except OverflowError:  # a Python int beyond float64: infinity with its sign
        huge = txt.map(lambda v: isinstance(v, int) and abs(v) > _FLOAT_MAX).to_numpy(bool)
        vals = pd.to_numeric(txt.where(~huge, None), errors="coerce").to_numpy(dtype=np.float64)
        vals[huge] = [np.inf if v > 0 else -np.inf for v in txt[huge]]
    bad |= np.isnan(vals) & ~pd.isna(txt).to_numpy()
    return vals, bad


_BEYOND = 2**100  # stands for any whole number far outside 64 bits
_FLOAT_MAX = float(np.finfo(np.float64).max)
_MANTISSA = re.compile(r"\s*[+-]?[0-9]*\.?[0-9]*[1-9]")


def underflow(s: pd.Series, vals: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """True where text like ``1e-400`` read as 0: a number too close to 0 for a float."""
    out = np.zeros(len(s), dtype=bool)
    idx = np.flatnonzero(usable & (vals == 0))
    if idx.size == 0 or s.dtype != object:
        return out
    for i in idx:  # cells reading as 0 only: rare
        v = s.iloc[i]
        out[i] = isinstance(v, str) and _MANTISSA.match(v) is not None
    return out


def as_int64(vals: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """Floats to int64, with 0 where skipped or out of range (exact values come after)."""
    with np.errstate(invalid="ignore"):
        out = np.where(skip | ~(np.abs(np.nan_to_num(vals)) < 2.0**63), 0, vals)
    return np.nan_to_num(out).astype(np.int64)


def exact_big(s: pd.Series, vals: np.ndarray, usable: np.ndarray) -> dict[int, int | None]:
    """Exact Python ints for the few rows beyond float64's 53 bits (ints, or number text like
    "9007199254740993" or "9007199254740993.0"): numbers there must not be rounded through a
    float. None where the text is no whole number after all ("9007199254740993.5")."""
    with np.errstate(invalid="ignore"):
        idx = np.flatnonzero(usable & (np.abs(np.nan_to_num(vals)) >= EXACT_FLOAT))
    out: dict[int, int | None] = {}
    for i in idx:  # rare rows only: not a loop over the data
        v = s.iloc[i]
        if isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_):
            out[int(i)] = int(v)
            continue
        text = str(v).strip()
        try:
            out[int(i)] = int(text)
            continue
        except ValueError:
            pass
        try:
            d = Decimal(text)  # "1e19", "12.0e18", a float's own digits: decided exactly
        except InvalidOperation:
            out[int(i)] = int(vals[i])
            continue
        if not d.is_finite() or d != d.to_integral_value():
            out[int(i)] = None
        elif d.adjusted() > 30:  # far beyond 64 bits: never build a huge int ("1e999999999")
            out[int(i)] = _BEYOND if d > 0 else -_BEYOND
        else:
            out[int(i)] = int(d)
    return out
