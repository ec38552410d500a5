"""Checks of text cells: what no backend can store, what is too long, what looks like a formula.

Each looks at a whole column at once (pandas string methods), only at the cells that are
text; the validator calls `check_text` for every text field.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

UNSTORABLE = "[\x00\ud800-\udfff]"
"""Characters no backend can store in text: NUL and lone UTF-16 surrogates."""

FORMULA = r"[=@\t\r]|[+-](?!\s*[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?\s*$)(?=.)"
"""Text a spreadsheet may run as a formula: =, @, tab or CR first, or + or - followed by
something that is not a number (OWASP's CSV injection list; "-5" and "+1.5" are numbers)."""


def check_text(
    column: str, s: pd.Series, is_str: np.ndarray, rep, lines: np.ndarray, max_text: int
) -> None:
    """Report the text cells of ``s`` (where ``is_str``) that cannot be stored, are longer
    than ``max_text`` characters, or start like a formula (a warning)."""
    text = s.where(is_str, "").astype(str)
    # PostgreSQL cannot store NUL, and a lone surrogate is not text in any encoding:
    # refuse both everywhere, so every backend keeps the same rows.
    unstorable = is_str & text.str.contains(UNSTORABLE, regex=True).to_numpy()
    rep.add(
        "unstorable_character",
        column,
        unstorable,
        s,
        "this text holds a character that cannot be stored (a NUL byte or a broken "
        "UTF-16 surrogate); remove it and try again",
        lines,
    )
    long = is_str & (text.str.len() > max_text).to_numpy()
    rep.add(
        "text_too_long",
        column,
        long,
        s,
        f"this text is longer than {max_text:,} characters, the most one cell may "
        "hold; shorten it (an admin can raise ANNO_MAX_TEXT_LENGTH)",
        lines,
    )
    formula = is_str & text.str.match(FORMULA).to_numpy(dtype=bool)
    rep.add(
        "formula_text",
        column,
        formula,
        s,
        "this starts like a spreadsheet formula (=, +, -, @, a tab or a line break); "
        "it is stored as the text shown, but a spreadsheet opening an export of it "
        "may run it: export values, not formulas, if that is wrong",
        lines,
        severity="warning",
    )
