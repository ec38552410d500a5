"""The one reader of ``[x, y, z]`` positions, for the validator, CSV frames and 3D previews.

A position is three numbers: a list, tuple or array of them, or (where text is allowed) text
like ``"[x, y, z]"``, ``"(x, y, z)"``, ``"x y z"`` or ``"x,y,z"``. `parse_positions` reads a
whole column at once and says, per row, which cells are not a position; an empty cell is a
row of NaN and not a problem (whether a position is required is the validator's business).
Text is split and converted by Arrow in C, so a million text cells take a fraction of a
second. "nan" is read as a number (NaN) so that the validator can say it is not finite.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anno_core.schemas import AXES
from anno_core.validation.cells import null_mask, numbers, types_mask, underflow

BRACKETS = r"^[\[(]\s*|\s*[\])]$"  # one opening and one closing bracket, dropped
SEPARATOR = r"\s*,\s*|\s+"  # a comma (with spaces around it) or spaces
COMMA_SEPARATOR = r"\s*;\s*|\s+"  # with decimal commas: a semicolon or spaces
NAN_WORDS = ("nan", "+nan", "-nan")
UNDERFLOW = r"^\s*[+-]?[0-9]*\.?[0-9]*[1-9]"  # a non-zero digit before any exponent
Column = pd.Series | pa.Array | pa.ChunkedArray


def parse_positions(
    values: Column, allow_strings: bool = True, *, decimal_comma: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(n x 3 floats, bad mask) of a column of positions (see the module docstring).

    ``values`` is a pandas column of lists, tuples, arrays or text, or an Arrow column of
    text (a CSV file's cells). With ``allow_strings=False`` text cells are bad. With
    ``decimal_comma`` (Arrow text only) numbers are written ``1,5`` and separated by
    semicolons or spaces."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        if not allow_strings:
            return np.full((len(values), 3), np.nan), values.is_valid().to_numpy(False)
        return _parse_text(values, decimal_comma)
    s = values
    n = len(s)
    out = np.full((n, 3), np.nan)
    bad = np.zeros(n, dtype=bool)
    is_str = types_mask(s, (str,))
    is_seq = types_mask(s, (list, tuple, np.ndarray))
    bad |= ~(is_str | is_seq | null_mask(s))
    if is_str.any():
        if allow_strings:
            idx = np.flatnonzero(is_str)
            out[idx], bad[idx] = _parse_text(pa.array(s.to_numpy()[idx], type=pa.string()))
        else:
            bad |= is_str
    if is_seq.any():
        idx = np.flatnonzero(is_seq)
        seqs = s.iloc[idx]
        ok = seqs.map(len).to_numpy() == 3
        bad[idx[~ok]] = True
        if ok.any():
            good = idx[ok]
            arr = pd.DataFrame(list(seqs.iloc[np.flatnonzero(ok)]), dtype=object)
            for j in range(3):
                vals, cbad = numbers(arr[j])
                out[good, j] = vals
                bad[good[cbad]] = True
    return out, bad


def positions_from_split(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(n x 3 floats, bad mask) of a point given as ``{column}_x/_y/_z`` columns."""
    n = len(frame)
    out = np.empty((n, 3), order="F")  # every column is assigned below
    bad = np.zeros(n, dtype=bool)
    for j, axis in enumerate(AXES):
        s = frame[f"{column}_{axis}"]
        vals, cbad = numbers(s)
        out[:, j] = vals
        bad |= cbad | underflow(s, vals, ~cbad)  # "1e-400" would be stored as 0
    return out, bad


def position_tokens(
    cells: pa.Array | pa.ChunkedArray, decimal_comma: bool = False
) -> pa.Array | pa.ChunkedArray:
    """Each text cell split into its number tokens (brackets dropped), as a list column."""
    text = pc.replace_substring_regex(pc.utf8_trim_whitespace(cells), BRACKETS, "")
    return pc.split_pattern_regex(text, COMMA_SEPARATOR if decimal_comma else SEPARATOR)


def _parse_text(
    cells: pa.Array | pa.ChunkedArray, decimal_comma: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Text cells (null for empty) as (n x 3 floats, bad mask)."""
    n = len(cells)
    out = np.full((n, 3), np.nan)
    present = cells.is_valid().to_numpy(zero_copy_only=False)
    parts = position_tokens(cells, decimal_comma)
    three = pc.fill_null(pc.equal(pc.list_value_length(parts), 3), False)
    rows = np.flatnonzero(three.to_numpy(zero_copy_only=False))
    tokens = pc.list_flatten(parts.filter(three))
    if decimal_comma:
        tokens = pc.replace_substring(tokens, ",", ".")
    try:  # the usual file: every token a number, converted in C
        nums = pc.cast(tokens, pa.float64()).to_numpy(zero_copy_only=False)
        fine = np.ones(len(nums), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # some are not: which ones
        words = pd.Series(tokens.to_pandas(), dtype=object)
        nums = pd.to_numeric(words, errors="coerce").to_numpy(dtype=np.float64)
        fine = ~np.isnan(nums) | words.str.lower().isin(NAN_WORDS).to_numpy(dtype=bool)
    zero = np.flatnonzero(nums == 0)
    if zero.size:  # "1e-400" reads as 0 in a float: not the number written
        cells = tokens.take(pa.array(zero))
        fine[zero] &= ~pc.match_substring_regex(cells, UNDERFLOW).to_numpy(zero_copy_only=False)
    ok = fine.reshape(-1, 3).all(axis=1)
    out[rows[ok]] = nums.reshape(-1, 3)[ok]
    bad = present.copy()
    bad[rows[ok]] = False
    return out, bad
