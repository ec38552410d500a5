"""What the Edit page's grid shows: the page of rows as the grid's frame (state, creator,
what changed, the delete and restore ticks), each column's editor, and values as people
read them."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui import client as api
from ui.edit_state import DELETE, RESTORE, WAS


def grid_frame(
    frame: pd.DataFrame,
    columns: list[Any],
    names: dict[str, str],
    writable: bool,
    *,
    restorable: bool = False,
    was: dict[int, int] | None = None,
) -> pd.DataFrame:
    """The page of rows as shown: Delete (and Restore) ticks, id, the schema's values, its
    positions, then the system's columns; rows just saved say which id they replace."""
    out = pd.DataFrame(index=frame.index)
    if writable:
        out[DELETE] = False
        if restorable:
            out[RESTORE] = False
    out["id"] = frame["id"]
    # Values people recognise a row by (a cell type, a size) first; the axes after them.
    for c in sorted(columns, key=lambda c: c.axis is not None):
        out[c.column] = frame[c.column] if c.column in frame else None
    out["state"] = (  # live, deleted or replaced by N: anno_core decides which
        frame.apply(lambda row: str(api.state_of(row)), axis=1)
        if len(frame)
        else pd.Series(dtype=str)
    )
    # A CAVE server may leave out what it does not keep: show such a column empty.
    out["created"] = frame["created"] if "created" in frame else pd.NaT
    who = frame["created_by"] if "created_by" in frame else pd.Series(None, index=frame.index)
    out["created by"] = [names.get(str(u), "" if u is None else str(u)) for u in who]
    if was:
        out[WAS] = [
            f"new id, was {was[int(i)]}" if int(i) in was else "" for i in frame["id"].tolist()
        ]
    return out.reset_index(drop=True)


def column_config(columns: list[Any]) -> dict[str, Any]:
    """How each grid column is edited: numbers, ticks, choices; system columns locked."""
    cfg: dict[str, Any] = {
        DELETE: st.column_config.CheckboxColumn(
            "Delete",
            help="Tick to delete this annotation when you save. It is marked "
            "deleted, never erased.",
            default=False,
            width="small",
        ),
        "id": st.column_config.NumberColumn(
            "id",
            format="%d",
            disabled=True,
            help="Ids never change; an edited annotation gets a new id when saved.",
        ),
        "state": st.column_config.TextColumn(
            "state", disabled=True, help="live, deleted, or replaced by a newer version"
        ),
        "created": st.column_config.DatetimeColumn(
            "created", format="YYYY-MM-DD HH:mm", disabled=True
        ),
        "created by": st.column_config.TextColumn("created by", disabled=True),
        RESTORE: st.column_config.CheckboxColumn(
            "Restore",
            help="Tick a deleted annotation to bring it back when you save: a new version, "
            "with a new id, carrying its values.",
            default=False,
            width="small",
        ),
        WAS: st.column_config.TextColumn(
            "change", disabled=True, help="A row just saved: its new version's id replaces it"
        ),
    }
    for c in columns:
        help_text = (
            (c.description or c.field)
            + (f" ({c.axis} in voxels)" if c.axis else "")
            + (" Required." if c.required else "")
        )
        if c.kind == "bool":
            cfg[c.column] = st.column_config.CheckboxColumn(c.column, help=help_text)
        elif c.kind == "str" and c.choices:
            cfg[c.column] = st.column_config.SelectboxColumn(
                c.column, help=help_text, options=[str(v) for v in c.choices]
            )
        elif c.kind == "str":
            cfg[c.column] = st.column_config.TextColumn(c.column, help=help_text)
        elif c.kind in ("int", "ref"):
            cfg[c.column] = st.column_config.NumberColumn(
                c.column, help=help_text, step=1, format="%d"
            )
        else:
            cfg[c.column] = st.column_config.NumberColumn(c.column, help=help_text)
    return cfg


def changes_frame(plan: Any) -> pd.DataFrame:
    """The plan's changes as a small table of text (shown, never rendered as Markdown)."""
    return pd.DataFrame(
        {
            "id": [c["id"] for c in plan.changes],
            "column": [c["field"] for c in plan.changes],
            "before": [show(c["old"]) for c in plan.changes],
            "after": [show(c["new"]) for c in plan.changes],
        }
    )


def show(value: Any) -> str:
    """A stored value as a person reads it: points as [x, y, z], empty as (empty)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
