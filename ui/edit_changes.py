"""The Edit page's unsaved changes, shown before saving: the rows that change, with each
changed cell highlighted (the grid editor cannot colour a cell it edits), rows to delete
in red and rows to restore in green.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from ui import edit_grid as grid

CHANGED = "background-color: #fff1a8; color: #3d3100; font-weight: 600"
DELETED = "background-color: #fde2e2; color: #8a1c1c"
RESTORED = "background-color: #dff3e4; color: #1b5e20"


def _differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Cell by cell: is ``b`` another value than ``a`` (blanks equal, 12 == 12.0)?"""
    out = []
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        bx, by = grid.show(x), grid.show(y)
        out.append(bx != by)
    return np.asarray(out, dtype=bool)


def pending(shown: pd.DataFrame, edited: pd.DataFrame, plan: Any, columns: list[Any]) -> None:
    """The rows the save would touch, changed cells highlighted."""
    ids = [int(u["id"]) for u in plan.updates] + list(plan.deletes) + list(plan.restores)
    if not ids:
        return
    names = {c.column for c in columns}
    editable = [c for c in edited.columns if c in names]  # in the grid's order
    keep = edited["id"].isin(ids).to_numpy()
    after = edited.loc[keep, ["id", *editable]].reset_index(drop=True)
    before = shown.loc[keep, ["id", *editable]].reset_index(drop=True)
    styles = pd.DataFrame("", index=after.index, columns=after.columns)
    for col in editable:
        styles.loc[_differs(before[col], after[col]), col] = CHANGED
    for i, aid in enumerate(after["id"].tolist()):
        if int(aid) in plan.deletes:
            styles.iloc[i, :] = DELETED
        elif int(aid) in plan.restores:
            styles.iloc[i, :] = RESTORED
    st.caption(
        "Not saved yet: " + plan.pending() + " Changed cells are highlighted in yellow; "
        "rows to delete are red, rows to restore green."
    )
    st.dataframe(  # values as a person reads them: 110, never 110.000000
        after.style.apply(lambda _: styles, axis=None).format(grid.show),
        hide_index=True,
        width="stretch",
        key="ed_pending",
        height=min(38 + 35 * len(after), 320),
    )
