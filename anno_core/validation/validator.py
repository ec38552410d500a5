"""Vectorised validation of whole columns, compiled once per schema.

`validate_frame(spec, frame)` checks a flat frame (one column per `FieldSpec.column`, points
either as one column of ``[x, y, z]`` values/strings or as ``_x/_y/_z`` columns) with numpy
and pandas operations over columns, never a Python loop over rows, and returns the typed
columns ready to store plus a `ValidationReport` naming every problem by row, column and value.
The engine validates records through the same function, so there is one truth.

Where we are stricter than emannotationschemas (documented in README): positions must be
exactly 3 finite numbers; whole numbers must be integral (marshmallow truncates 12.5 to 12).
Where we are more lenient: "12.0" is read as 12 and booleans are read in any case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from anno_core.ids import GIVEN_RANGE, MAX_GIVEN_ID, ROW_RANGE
from anno_core.schemas import AXES, FieldSpec, SchemaSpec
from anno_core.settings import MAX_TEXT_LENGTH
from anno_core.validation.booleans import FALSE_WORDS, TRUE_WORDS, bool_word
from anno_core.validation.cells import (
    INT64_MAX,
    INT64_MIN,
    as_int64,
    exact_big,
    null_mask,
    numbers,
    types_mask,
    underflow,
)
from anno_core.validation.positions import parse_positions, positions_from_split
from anno_core.validation.records import BadShape, records_to_frame  # noqa: F401 - re-exported
from anno_core.validation.report import ValidationReport, _short  # noqa: F401 - re-exported
from anno_core.validation.text import check_text


@dataclass
class Validated:
    """Typed storage columns of the rows, and the report on them."""

    columns: dict[str, np.ndarray | pd.Series]
    report: ValidationReport
    ids: pd.Series | None = None
    lines: np.ndarray | None = None


def has_column(frame: pd.DataFrame, spec: FieldSpec) -> bool:
    if spec.kind == "point":
        if spec.column in frame.columns:
            return True
        return all(f"{spec.column}_{a}" in frame.columns for a in AXES)
    return spec.column in frame.columns


def _check_point(spec, frame, rep, lines, allow_strings, out) -> None:
    if spec.column in frame.columns:
        s = frame[spec.column]
        vals, bad = parse_positions(s, allow_strings)
        null = null_mask(s)
        shown = s
    else:
        vals, bad = positions_from_split(frame, spec.column)
        nulls = [null_mask(frame[f"{spec.column}_{a}"]) for a in AXES]
        null = nulls[0] & nulls[1] & nulls[2]
        partial = (nulls[0] | nulls[1] | nulls[2]) & ~null
        bad |= partial
        split = [frame[f"{spec.column}_{a}"] for a in AXES]

        def shown(idx: np.ndarray) -> pd.Series:
            cells = zip(*(c.iloc[idx] for c in split), strict=True)
            return pd.Series(["[" + ", ".join(map(_short, t)) + "]" for t in cells])

    bad &= ~null
    nonfinite = ~bad & ~null & ~np.isfinite(vals).all(axis=1)
    rep.add(
        "bad_position",
        spec.column,
        bad,
        shown,
        "a position must be exactly 3 numbers x, y, z, like [120, 340, 56]",
        lines,
    )
    rep.add(
        "bad_position",
        spec.column,
        nonfinite,
        shown,
        "a position must hold 3 finite numbers (no NaN or infinity)",
        lines,
    )
    _check_null(spec, null, rep, lines)
    vals = np.asfortranarray(vals)  # contiguous columns: no copy below unless blanks
    for j, axis in enumerate(AXES):
        col = vals[:, j]
        if null.any():
            col = col.copy()
            col[null] = np.nan
        out[f"{spec.column}_{axis}"] = col


def _check_null(spec: FieldSpec, null: np.ndarray, rep, lines) -> None:
    if not spec.nullable or spec.required:
        rep.add(
            "missing_value",
            spec.column,
            null,
            None,
            f"'{spec.column}' is required and this cell is empty",
            lines,
        )


def _check_scalar(
    spec: FieldSpec, s: pd.Series, rep, lines, out, max_text: int = MAX_TEXT_LENGTH
) -> None:
    null = null_mask(s)
    _check_null(spec, null, rep, lines)
    if spec.kind in ("float", "int", "ref", "user"):
        vals, bad = numbers(s)
        bad &= ~null
        if spec.kind == "float":
            nonfinite = ~bad & ~null & ~np.isfinite(vals)
            rep.add("not_a_number", spec.column, bad, s, _not_a_number(s, bad), lines)
            rep.add(
                "not_finite",
                spec.column,
                nonfinite,
                s,
                "NaN and infinity are not allowed; leave the cell empty instead",
                lines,
            )
            _check_underflow(spec, s, vals, ~bad & ~null & ~nonfinite, rep, lines)
            stored = vals
        else:
            # Infinity is decided exactly below: 10**400 or "1e400" is a whole number too large.
            with np.errstate(invalid="ignore"):
                frac = ~bad & ~null & (np.isnan(vals) | (np.floor(vals) != vals))
            exact = exact_big(s, vals, ~bad & ~null & ~frac)
            big = np.zeros(len(s), dtype=bool)
            for i, v in exact.items():
                if v is None:
                    frac[i] = True
                else:
                    big[i] = not INT64_MIN <= v <= INT64_MAX
            rep.add(
                "not_an_integer",
                spec.column,
                bad | frac,
                s,
                "this must be a whole number like 12 (12.0 is fine, 12.5 is not)",
                lines,
            )
            _check_underflow(spec, s, vals, ~bad & ~null & ~frac, rep, lines)
            rep.add(
                "integer_too_large",
                spec.column,
                big,
                s,
                "this whole number is too large (more than 19 digits)",
                lines,
            )
            skip = null | bad | frac | big
            if pd.api.types.is_signed_integer_dtype(s.dtype):
                stored = pd.array(s, dtype="Int64")  # already whole numbers: exact as given
            else:
                stored = pd.array(as_int64(vals, skip), dtype="Int64")
                for i, v in exact.items():  # beyond float64's 53 bits: the exact value
                    if not big[i]:
                        stored[i] = v
                stored[skip] = pd.NA
        if spec.choices is not None:
            ok = np.isin(vals, np.array(spec.choices, dtype=float))
            _not_allowed(spec, ~ok & ~bad & ~null, s, rep, lines)
        out[spec.column] = stored
    elif spec.kind == "bool":
        if s.dtype == bool:
            vals = s.to_numpy()
            bad = np.zeros(len(s), dtype=bool)
        else:
            is_bool = types_mask(s, (bool, np.bool_))
            norm = s.map(bool_word) if s.dtype == object else s.astype(str).str.lower()
            vals = np.where(is_bool, s.astype(object) == True, norm.isin(TRUE_WORDS))  # noqa: E712
            bad = ~is_bool & ~norm.isin(TRUE_WORDS + FALSE_WORDS).to_numpy() & ~null
        rep.add(
            "not_a_boolean",
            spec.column,
            bad,
            s,
            "this must be true or false (also yes/no, 1/0)",
            lines,
        )
        stored = pd.array(vals.astype(bool), dtype="boolean")
        stored[null] = pd.NA
        out[spec.column] = stored
    else:  # str
        is_str = types_mask(s, (str,)) if s.dtype == object else np.zeros(len(s), bool)
        if s.dtype != object:
            bad = ~null  # a numeric column where text is expected
        else:
            bad = ~is_str & ~null
        rep.add("not_text", spec.column, bad, s, "this must be text", lines)
        if is_str.any():
            check_text(spec.column, s, is_str, rep, lines, max_text)
        if spec.choices is not None:
            _not_allowed(spec, ~s.isin(spec.choices).to_numpy() & ~bad & ~null, s, rep, lines)
        out[spec.column] = s.where(~null, None).astype(object).to_numpy()


def _check_underflow(spec: FieldSpec, s: pd.Series, vals, usable, rep, lines) -> None:
    """Text like 1e-400 reads as 0 in a float: refused rather than stored as 0."""
    rep.add(
        "number_out_of_range",
        spec.column,
        underflow(s, vals, usable),
        s,
        "this number is too close to 0 to be stored (it would become 0); write 0 if you mean 0",
        lines,
    )


def _not_allowed(spec: FieldSpec, mask: np.ndarray, s: pd.Series, rep, lines) -> None:
    """Values outside the field's choices (numbers or text)."""
    choices = ", ".join(map(str, spec.choices or ()))
    rep.add("not_allowed", spec.column, mask, s, f"must be one of {choices}", lines)


def _not_a_number(s: pd.Series, bad: np.ndarray) -> str | pd.Series:
    """'not a number', with a hint where the text uses a decimal comma like 1,5."""
    base = "this is not a number"
    if not bad.any() or s.dtype != object:
        return base
    comma = s.astype(str).str.fullmatch(r"\s*[-+]?\d+,\d+\s*").fillna(False).to_numpy() & bad
    if not comma.any():
        return base
    hint = base + " (it uses a decimal comma: write 1.5, not 1,5, or export with a decimal point)"
    return pd.Series(np.where(comma, hint, base))


def validate_frame(
    spec: SchemaSpec,
    frame: pd.DataFrame,
    *,
    update: bool = False,
    lines: Sequence[int] | np.ndarray | None = None,
    line_label: str = "line",
    allow_position_strings: bool = True,
    ignored: Sequence[str] = (),
    max_text: int = MAX_TEXT_LENGTH,
) -> Validated:
    """Validate ``frame`` against ``spec`` column by column; see the module docstring."""
    n = len(frame)
    idx = frame.index
    if not (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1):
        frame = frame.copy(deep=False)  # no reset_index: it merges a big frame's columns
        frame.index = pd.RangeIndex(n)
    line_arr = np.asarray(lines if lines is not None else np.arange(1, n + 1), dtype=object)
    rep = ValidationReport(rows=n, line_label=line_label)
    out: dict[str, Any] = {}
    for f in spec.fields:
        if f.kind == "user":
            if has_column(frame, f):
                rep.add(
                    "ignored_column",
                    f.column,
                    None,
                    None,
                    f"'{f.column}' is filled in from the acting user; the given values are ignored",
                    line_arr,
                    severity="warning",
                )
            continue
        if not has_column(frame, f):
            if f.required and not update:
                rep.add(
                    "missing_column",
                    f.column,
                    None,
                    None,
                    f"the required field '{f.column}' has no column; the columns are: "
                    + (", ".join(map(str, frame.columns)) or "none"),
                    line_arr,
                )
            continue
        if f.kind == "point":
            _check_point(f, frame, rep, line_arr, allow_position_strings, out)
        else:
            _check_scalar(f, frame[f.column], rep, line_arr, out, max_text)
    _vocabulary_warnings(spec, frame, rep, line_arr)
    ids = _check_ids(frame, update, rep, line_arr)
    known = {c for f in spec.fields for c in (f.column, *f.storage_columns)}
    for c in frame.columns:
        if c not in known and c != "id" and c not in ignored:
            if str(c).endswith(("supervoxel_id", "root_id")):
                msg = f"'{c}' is filled in by the segmentation service; the values are ignored"
            else:
                msg = f"'{c}' is not a field of schema '{spec.name}'; this column is ignored"
            rep.add("ignored_column", str(c), None, None, msg, line_arr, severity="warning")
    return Validated(columns=out, report=rep, ids=ids, lines=line_arr)


def _check_ids(frame, update, rep, lines) -> pd.Series | None:
    if "id" not in frame.columns:
        if update:
            rep.add(
                "missing_column",
                "id",
                None,
                None,
                "updates need an 'id' column naming the annotations to change",
                lines,
            )
        return None
    s = frame["id"]
    null = null_mask(s)
    vals, bad = numbers(s)
    with np.errstate(invalid="ignore"):
        frac = ~bad & ~null & (~np.isfinite(vals) | (np.floor(vals) != vals) | (vals < 1))
    # Every value beyond 2**53 is decided on its exact int (a float rounds 2**62 + 1 down).
    top = INT64_MAX if update else MAX_GIVEN_ID
    exact = exact_big(s, vals, ~bad & ~null & ~frac)
    for i, v in exact.items():
        frac[i] = v is None or not 1 <= v <= top
    rep.add(
        "bad_id",
        "id",
        bad | frac,
        s,
        f"an id must be a positive whole number {ROW_RANGE if update else GIVEN_RANGE}"
        + ("" if update else "; the ids above are kept for the ids the engine assigns"),
        lines,
    )
    if update:
        rep.add("missing_value", "id", null, None, "every update needs the id it replaces", lines)
    skip = null | bad | frac
    ids = pd.Series(pd.array(as_int64(vals, skip), dtype="Int64"))
    for i, v in exact.items():
        if not skip[i]:
            ids[i] = v
    ids[skip] = pd.NA
    dup = ids.duplicated(keep="first").to_numpy() & ~ids.isna().to_numpy()
    rep.add("duplicate_id", "id", dup, s, "this id appears more than once in the data", lines)
    return ids


def _vocabulary_warnings(spec: SchemaSpec, frame: pd.DataFrame, rep, lines) -> None:
    if not spec.vocabularies:
        return
    if "classification_system" not in frame or "cell_type" not in frame:
        return
    system = frame["classification_system"]
    cell = frame["cell_type"]
    for name, words in spec.vocabularies.items():
        mask = (system == name).to_numpy() & ~cell.isin(words).to_numpy() & cell.notna().to_numpy()
        rep.add(
            "unknown_cell_type",
            "cell_type",
            mask,
            cell,
            f"not in the '{name}' vocabulary ({', '.join(words[:6])}, ...); "
            "stored anyway, check the spelling",
            lines,
            severity="warning",
        )
