"""Numbers in a CSV file's text cells, read cell by cell and reported in the file's own terms.

A spreadsheet column of numbers may hold a few cells that are not numbers: a typo (``abc``,
``12O``), a decimal comma (``312,5``), a thousands separator (``12,345``), a unit
(``120 nm``), ``NaN``. `read_numbers` reads every cell that is a number and marks the others,
so one bad cell never stops the rest of its column from being read (and scaled). `NumberCells.
report` names each bad cell by the file's column and line, with the text as typed, and says
which spreadsheet habit it looks like (the kinds ``decimal_comma``, ``thousands_separator``
and ``unit_suffix``), so a person knows what to change. A clean column takes the fast path:
one cast in Arrow, no Python per cell.

With ``decimal_comma=True`` cells like ``1,5`` and ``1.234,5`` are read as 1.5 and 1234.5
(the reading a person chooses for a file exported in a decimal-comma locale).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anno_core.validation.positions import position_tokens
from anno_core.validation.report import ValidationReport

NAN_WORDS = ("nan", "+nan", "-nan")
UNITS = r"nm|µm|um|mm|px|vx|voxels?|nanometers?|nanometres?|microns?"
_NUM = r"[-+]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][-+]?\d+)?"
_COMMA_DECIMAL = r"^\s*[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+(?:[eE][-+]?\d+)?\s*$"
_THOUSANDS = r"^\s*[-+]?\d{1,3}(?:(?:,\d{3})+|(?:[ '\u00a0\u202f]\d{3})+)(?:\.\d+)?\s*$"
_UNIT = rf"^\s*({_NUM})\s*({UNITS})\s*$"
_NONZERO = r"^\s*[+-]?[0-9]*[.,]?[0-9]*[1-9]"  # a digit other than 0 before any exponent


@dataclass(frozen=True)
class NumberCells:
    """One column read as numbers: the values (NaN where blank or not a number), which
    cells are blank, which are not numbers, which are NaN or infinity, and the text."""

    values: np.ndarray
    blank: np.ndarray
    bad: np.ndarray
    nonfinite: np.ndarray
    text: pa.ChunkedArray
    tiny: np.ndarray | None = None  # numbers too close to 0 to store (1e-400 would read 0)

    @property
    def problems(self) -> np.ndarray:
        """Cells that hold something other than a finite number (blanks aside)."""
        out = self.bad | self.nonfinite
        return out if self.tiny is None else out | self.tiny

    def typed(self, rows: np.ndarray) -> pd.Series:
        """The cells of ``rows`` as typed."""
        return pd.Series(self.text.take(pa.array(rows, pa.int64())).to_pylist(), dtype=object)

    def report(
        self, rep: ValidationReport, column: str, lines: np.ndarray, *, what: str = "number"
    ) -> None:
        """Add every bad cell of this column to ``rep``, in the file's terms."""
        n = len(self.bad)
        if self.bad.any():
            rows = np.flatnonzero(self.bad)
            typed = self.typed(rows)
            for kind, local, message in classify(typed, what):
                if local.any():
                    _add(rep, kind, column, rows[local], typed[local], message[local], lines, n)
        if self.nonfinite.any():
            rows = np.flatnonzero(self.nonfinite)
            typed = self.typed(rows)
            _add(
                rep,
                "not_finite",
                column,
                rows,
                typed,
                "'"
                + typed
                + (
                    "' is not a finite number (NaN or infinity); a position needs 3 finite numbers"
                    if what == "position"
                    else "' is not a finite number (NaN or infinity); leave the cell empty instead"
                ),
                lines,
                n,
            )
        if self.tiny is not None and self.tiny.any():
            rows = np.flatnonzero(self.tiny)
            typed = self.typed(rows)
            message = "'" + typed + "' is too close to 0 to store (it would become 0); write 0 if "
            _add(rep, "number_out_of_range", column, rows, typed, message + "you mean 0", lines, n)


def _add(
    rep: ValidationReport,
    kind: str,
    column: str,
    rows: np.ndarray,
    typed: pd.Series,
    message: pd.Series,
    lines: np.ndarray,
    n: int,
) -> None:
    """One problem per row of ``rows`` (ascending), showing ``typed`` and ``message``; each
    kind is a literal here (the kinds registry test reads the literals)."""
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    msg = np.empty(n, dtype=object)
    msg[rows] = message.to_numpy(dtype=object)
    full = pd.Series(msg, dtype=object)
    shown = typed.reset_index(drop=True)

    def values(_: np.ndarray) -> pd.Series:
        return shown

    if kind == "decimal_comma":
        rep.add("decimal_comma", column, mask, values, full, lines)
    elif kind == "thousands_separator":
        rep.add("thousands_separator", column, mask, values, full, lines)
    elif kind == "unit_suffix":
        rep.add("unit_suffix", column, mask, values, full, lines)
    elif kind == "not_finite":
        rep.add("not_finite", column, mask, values, full, lines)
    elif kind == "number_out_of_range":
        rep.add("number_out_of_range", column, mask, values, full, lines)
    else:
        rep.add("not_a_number", column, mask, values, full, lines)


def classify(typed: pd.Series, what: str = "number") -> list[tuple[str, np.ndarray, pd.Series]]:
    """(kind, mask, message) for cells that are not numbers: which spreadsheet habit each
    looks like, and what to do about it."""
    text = typed.astype(str)
    stripped = text.str.strip()
    comma = text.str.match(_COMMA_DECIMAL).to_numpy(bool)
    thousands = text.str.match(_THOUSANDS).to_numpy(bool)
    unit = text.str.extract(_UNIT, flags=re.IGNORECASE)
    has_unit = unit[0].notna().to_numpy()
    # 12,345 reads both ways: a thousands separator unless the file uses decimal commas
    both = comma & thousands
    decimal = comma & ~thousands
    out = []
    as_point = stripped.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    out.append(
        (
            "decimal_comma",
            decimal,
            "'"
            + text
            + "' uses a decimal comma: choose the 'decimal comma' reading of numbers to read "
            "it as " + as_point + ", or export the file with decimal points",
        )
    )
    digits = stripped.str.replace(r"[,\s'\u00a0\u202f]", "", regex=True)
    hint = np.where(
        both,
        " (or, if this file writes decimals with a comma, choose the 'decimal comma' reading)",
        "",
    )
    out.append(
        (
            "thousands_separator",
            thousands,
            "'" + text + "' has a thousands separator: write it as " + digits + hint,
        )
    )
    unit_hint = (
        "write the number alone and choose the unit of the positions"
        if what == "position"
        else "write the number alone"
    )
    out.append(
        (
            "unit_suffix",
            has_unit & ~comma & ~thousands,
            "'"
            + text
            + "' has a unit ("
            + unit[1].fillna("")
            + "): "
            + unit_hint
            + " ("
            + unit[0].fillna("")
            + ")",
        )
    )
    plain = ~comma & ~thousands & ~has_unit
    out.append(("not_a_number", plain, "'" + text + "' is not a number"))
    return out


def comma_decimals(cells: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Cells written with a decimal comma (``1,5``, ``1.234,5``) rewritten with a point."""
    hit = pc.match_substring_regex(cells, _COMMA_DECIMAL)
    fixed = pc.replace_substring(
        pc.replace_substring(pc.utf8_trim_whitespace(cells), ".", ""), ",", "."
    )
    return pc.if_else(pc.fill_null(hit, False), fixed, cells)


def read_numbers(column: pa.ChunkedArray, *, decimal_comma: bool = False) -> NumberCells:
    """Every cell of a text column as a number where it is one (see the module docstring)."""
    text = column
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        text = pc.cast(column, pa.string())
    source = comma_decimals(text) if decimal_comma else text
    blank = ~source.is_valid().to_numpy(zero_copy_only=False)
    try:  # the usual column: every cell a number, read in C
        values = pc.cast(source, pa.float64()).to_numpy(zero_copy_only=False)
        values = np.asarray(values, dtype=np.float64)
        bad = np.zeros(len(values), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        words = pd.Series(source.to_pandas(), dtype=object)
        values = pd.to_numeric(words, errors="coerce").to_numpy(dtype=np.float64)
        nan_word = words.str.strip().str.lower().isin(NAN_WORDS).to_numpy(dtype=bool)
        bad = np.isnan(values) & ~blank & ~nan_word
    with np.errstate(invalid="ignore"):
        nonfinite = ~blank & ~bad & ~np.isfinite(values)
        zero = ~blank & ~bad & (values == 0)
    tiny = np.zeros(len(values), dtype=bool)
    if zero.any():  # "1e-400" reads as 0: refused by its text, never stored as 0
        rows = np.flatnonzero(zero)
        cells = source.take(pa.array(rows, pa.int64()))
        tiny[rows] = pc.fill_null(pc.match_substring_regex(cells, _NONZERO), False).to_numpy(
            zero_copy_only=False
        )
    if bad.any() or nonfinite.any() or tiny.any():
        values = values.copy()
        values[bad | nonfinite | tiny] = np.nan
    return NumberCells(
        values=values, blank=blank, bad=bad, nonfinite=nonfinite, text=text, tiny=tiny
    )


def position_messages(typed: pd.Series, decimal_comma: bool = False) -> pd.Series:
    """Why each text cell (as typed) is not a position, in a person's words."""
    tokens = position_tokens(pa.array(typed.astype(str).tolist(), pa.string()), decimal_comma)
    out = []
    for cell, parts in zip(typed.astype(str), tokens.to_pylist(), strict=True):
        words = [p for p in (parts or []) if p != ""]
        numbers = [w.replace(",", ".") if decimal_comma else w for w in words]
        wrong = [w for w, v in zip(words, numbers, strict=True) if not _is_number(v)]
        if len(wrong) == len(words):
            out.append(f"'{cell}' is not a position: write 3 numbers x, y, z like [120, 340, 56]")
        elif wrong:
            out.append(f"'{cell}': '{wrong[0]}' is not a number; a position is 3 numbers x, y, z")
        elif len(words) != 3:
            out.append(
                f"'{cell}' has {len(words)} number{'s' if len(words) != 1 else ''}; a position "
                "needs 3: x, y, z"
            )
        else:
            out.append(f"'{cell}' holds NaN or infinity; a position needs 3 finite numbers")
    return pd.Series(out, dtype=object)


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True
