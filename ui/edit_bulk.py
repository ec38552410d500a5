"""The Edit page's changes to many rows at once: delete every row a filter matches (with the
count, typed to confirm), and undo an upload (its still-live rows deleted, one confirmation).

The database does the work (`delete_matching`, `undo_upload`): no row is read into the page.
Nothing is erased: deleted rows are kept, and their history says why they were deleted.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui import client as api
from ui import edit_state as es
from ui import widgets as w

_DELETE_ASK = "ed_delete_matching"
_UNDO_ASK = "ed_undo_upload"


def _filter_words(v: es.View) -> str:
    parts = [f"{col} {'contains' if isinstance(val, str) else '='} {val}" for col, val in v.filters]
    if v.ids:
        parts.append(f"ids {es.id_text(v.ids)}")
    return " and ".join(parts)


def delete_matching_button(v: es.View, writable: bool, dirty: bool) -> None:
    """'Delete the N rows matching this filter' under a filtered view of live rows."""
    if not v.narrowed or not writable:
        return
    try:
        n = api.client().count_annotations(
            v.table, filters=dict(v.filters) or None, ids=list(v.ids) or None
        )
    except api.AnnoError:
        return  # a server that cannot count a filtered view cannot delete one either
    if n == 0:
        return
    if st.button(
        f"Delete the {n:,} live row{'s' if n != 1 else ''} matching this filter",
        key="ed_delete_matching_button",
        icon=":material/delete_sweep:",
        disabled=dirty,
        help="Every live row the filters (and ids) find, on every page: marked deleted, "
        "never erased.",
    ):
        st.session_state[_DELETE_ASK] = (v.table, v.filters, v.ids, n)
    ask = st.session_state.get(_DELETE_ASK)
    if ask and ask[:3] == (v.table, v.filters, v.ids):
        _confirm_delete(v, ask[3])


def _cancel(key: str) -> None:
    st.session_state.pop(key, None)


@st.dialog("Delete the rows matching this filter?", on_dismiss=lambda: _cancel(_DELETE_ASK))
def _confirm_delete(v: es.View, n: int) -> None:
    st.markdown(
        f"**{n:,} live row{'s' if n != 1 else ''}** of table '{w.md(v.table)}' match "
        f"{w.md(_filter_words(v))}. They are marked deleted: kept, never erased, and their "
        "history says they were deleted with this filter."
    )
    typed = st.text_input(f"Type {n} to confirm", key="ed_delete_typed", placeholder=str(n))
    yes, no, _ = st.columns([1.4, 1, 2])
    ready = typed.replace(",", "").strip() == str(n)
    if yes.button(
        f"Delete {n:,} row{'s' if n != 1 else ''}",
        type="primary",
        key="ed_delete_yes",
        disabled=not ready,
        icon=":material/delete:",
    ):
        ok, done = api.attempt(
            api.client().delete_matching,
            v.table,
            filters=dict(v.filters) or None,
            ids=list(v.ids) or None,
            expected=n,
        )
        if ok:
            _cancel(_DELETE_ASK)
            st.session_state.pop("ed_delete_typed", None)
            api.flash(
                f"Deleted {done:,} row{'s' if done != 1 else ''} matching "
                f"{w.md(_filter_words(v))}; they are kept, marked deleted.",
                "success",
            )
            es.discard()
            st.rerun()
        st.error(w.md(done), icon=":material/error:")
    if no.button("Cancel", key="ed_delete_no"):
        _cancel(_DELETE_ASK)
        st.rerun()


def uploads_tab(table: str, writable: bool) -> None:
    """The table's latest uploads, each with how many of its rows are still live, and
    'Undo this upload' for those who may write."""
    ok, uploads = api.attempt(api.client().list_uploads, table, 20)
    if not ok:
        st.info(w.md(uploads), icon=":material/info:")
        return
    if not uploads:
        st.info("No rows were uploaded to this table yet.", icon=":material/inbox:")
        return
    st.caption(
        "The latest uploads of new rows, newest first. Undoing one deletes the rows it "
        "stored that are still live (kept, marked deleted; their history says why)."
    )
    frame = pd.DataFrame(
        {
            "when": [w.when(u["at"]) for u in uploads],
            "by": [u.get("user_name") or u.get("user_id") or "" for u in uploads],
            "rows": [u["rows"] for u in uploads],
            "ids": [f"{u['first_id']:,} to {u['last_id']:,}" for u in uploads],
            "still live": [u["live"] for u in uploads],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        key="ed_uploads",
        column_config={
            "rows": st.column_config.NumberColumn(format="localized"),
            "still live": st.column_config.NumberColumn(format="localized"),
        },
    )
    if not writable:
        return
    live = [u for u in uploads if u["live"]]
    if not live:
        st.caption("Every row of these uploads is already deleted or replaced.")
        return
    labels = {
        u["upload"]: f"{w.when(u['at'])} by {u.get('user_name') or u.get('user_id')}: "
        f"ids {u['first_id']:,} to {u['last_id']:,} ({u['live']:,} still live)"
        for u in live
    }
    pick = st.selectbox(
        "Upload to undo", list(labels), format_func=labels.get, key="ed_undo_pick", index=None
    )
    if st.button(
        "Undo this upload",
        key="ed_undo_button",
        icon=":material/undo:",
        disabled=pick is None,
    ):
        st.session_state[_UNDO_ASK] = pick
    if st.session_state.get(_UNDO_ASK) == pick and pick is not None:
        _confirm_undo(table, next(u for u in live if u["upload"] == pick))


@st.dialog("Undo this upload?", on_dismiss=lambda: _cancel(_UNDO_ASK))
def _confirm_undo(table: str, upload: dict[str, Any]) -> None:
    n = upload["live"]
    st.markdown(
        f"The upload of {w.md(w.when(upload['at']))} by "
        f"{w.md(str(upload.get('user_name') or upload.get('user_id')))} stored ids "
        f"{upload['first_id']:,} to {upload['last_id']:,}; **{n:,} of them are still live** "
        "and will be marked deleted (kept, never erased). Their history says they were "
        "deleted by undoing this upload. Rows it stored that were changed since keep their "
        "newer versions."
    )
    yes, no, _ = st.columns([1.6, 1, 2])
    if yes.button(
        f"Delete its {n:,} live row{'s' if n != 1 else ''}",
        type="primary",
        key="ed_undo_yes",
        icon=":material/undo:",
    ):
        ok, done = api.attempt(api.client().undo_upload, table, upload["upload"])
        if ok:
            _cancel(_UNDO_ASK)
            api.flash(
                f"Undid the upload of {w.md(w.when(upload['at']))}: {done:,} "
                f"row{'s' if done != 1 else ''} marked deleted.",
                "success",
            )
            es.discard()
            st.rerun()
        st.error(w.md(done), icon=":material/error:")
    if no.button("Cancel", key="ed_undo_no"):
        _cancel(_UNDO_ASK)
        st.rerun()
