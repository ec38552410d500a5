"""What saving on the Edit page asks and tells: the confirmation dialog listing every change,
and the box saying what the last save did (old id -> new id, deleted and restored ids)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui import client as api
from ui import edit_grid as grid
from ui import edit_state as es
from ui import widgets as w


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'s' if count != 1 else ''}"


def saved_box(done: dict) -> None:
    """What the last save did: old -> new ids, deleted ids, restored ids."""
    updated, deleted = done["updated"], done["deleted"]
    restored = done.get("restored") or {}
    parts = []
    if updated:
        parts.append(
            f"{_n(len(updated), 'annotation')} updated: each has a new id, and its old "
            "version is kept as superseded"
        )
    if deleted:
        parts.append(f"{_n(len(deleted), 'annotation')} marked deleted (kept, never erased)")
    if restored:
        parts.append(f"{_n(len(restored), 'annotation')} restored as new versions")
    with st.container(border=True, key="ed_saved_box"):
        st.success("Saved: " + "; ".join(parts) + ".", icon=":material/check_circle:")
        left, right = st.columns([1, 2])
        swaps = {**updated, **restored}
        if swaps:
            left.caption("Old id -> new id")
            left.dataframe(
                pd.DataFrame({"old id": list(swaps), "new id": list(swaps.values())}),
                hide_index=True,
                key="ed_saved_ids",
                width=300,
            )
        if deleted:
            right.caption("Deleted ids")
            right.text(es.id_text(deleted))
        if swaps:
            st.caption(
                "The rows you changed stay below as their new versions (marked 'new id, "
                "was N') until you change the view."
            )
        b1, b2, _ = st.columns([2, 1, 4])
        if swaps:
            b1.button(
                "Show only the new versions",
                key="ed_show_new",
                on_click=es.show_ids,
                args=(list(swaps.values()),),
                icon=":material/visibility:",
            )
        b2.button("Hide", key="ed_hide_saved", on_click=es.forget_save)


@st.dialog("Save these changes?", width="large", on_dismiss=es.cancel_confirm)
def confirm(table: str, plan: Any, shown: list[int], v: es.View) -> None:
    """Every change listed before anything is stored; Yes saves, then the grid starts anew."""
    st.markdown(plan.summary())
    if plan.changes:
        st.dataframe(
            grid.changes_frame(plan), hide_index=True, width="stretch", key="ed_confirm_changes"
        )
    if plan.deletes:
        st.caption("To delete")
        st.text(es.id_text(plan.deletes))
    if plan.restores:
        st.caption("To restore")
        st.text(es.id_text(plan.restores))
    st.caption(
        "Nothing is erased: every old version and every deleted annotation stays in "
        "the table, and the history tab shows it."
    )
    yes, no, _ = st.columns([1, 1, 2])
    if yes.button("Yes, save", type="primary", key="ed_confirm_yes", icon=":material/save:"):
        ok, result = api.attempt(api.client().apply_edits, table, plan)
        if ok:
            es.saved(table, result, shown, v)
            st.rerun()
        st.error(w.md(result), icon=":material/error:")
    if no.button("Cancel", key="ed_confirm_no"):
        es.cancel_confirm()
        st.rerun()
