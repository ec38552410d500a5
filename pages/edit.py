"""Edit: page through a table's annotations, fix cells, delete rows, see one's history."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from ui import client as api
from ui import edit_history
from ui import edit_state as es
from ui import neuroglancer as ngui
from ui import widgets as w


def _saved_box(done: dict) -> None:
    """What the last save did: old -> new ids, deleted ids."""
    updated, deleted = done["updated"], done["deleted"]
    parts = []
    if updated:
        parts.append(
            f"{len(updated)} annotation{'s' if len(updated) != 1 else ''} updated: "
            "each has a new id, and its old version is kept as superseded"
        )
    if deleted:
        parts.append(
            f"{len(deleted)} annotation{'s' if len(deleted) != 1 else ''} marked "
            "deleted (kept, never erased)"
        )
    with st.container(border=True, key="ed_saved_box"):
        st.success("Saved: " + "; ".join(parts) + ".", icon=":material/check_circle:")
        left, right = st.columns([1, 2])
        if updated:
            left.caption("Old id -> new id")
            left.dataframe(
                pd.DataFrame({"old id": list(updated), "new id": list(updated.values())}),
                hide_index=True,
                key="ed_saved_ids",
                width=300,
            )
        if deleted:
            right.caption("Deleted ids")
            right.text(", ".join(map(str, deleted)))
        b1, b2, _ = st.columns([2, 1, 4])
        if updated:
            b1.button(
                "Show the new versions",
                key="ed_show_new",
                on_click=es.show_ids,
                args=(list(updated.values()),),
                icon=":material/visibility:",
            )
        b2.button("Hide", key="ed_hide_saved", on_click=es.forget_save)


@st.dialog("Save these changes?", width="large", on_dismiss=es.cancel_confirm)
def _confirm(table: str, plan) -> None:  # noqa: ANN001 - an anno_core EditPlan
    st.markdown(plan.summary())
    if plan.changes:
        st.dataframe(
            es.changes_frame(plan), hide_index=True, width="stretch", key="ed_confirm_changes"
        )
    if plan.deletes:
        st.caption("To delete")
        st.text(", ".join(map(str, plan.deletes)))
    st.caption(
        "Nothing is erased: every old version and every deleted annotation stays in "
        "the table, and the history tab shows it."
    )
    yes, no, _ = st.columns([1, 1, 2])
    if yes.button("Yes, save", type="primary", key="ed_confirm_yes", icon=":material/save:"):
        ok, result = api.attempt(api.client().apply_edits, table, plan)
        if ok:
            es.saved(table, result)
            st.rerun()
        st.error(w.md(result), icon=":material/error:")
    if no.button("Cancel", key="ed_confirm_no"):
        es.cancel_confirm()
        st.rerun()


def _controls(detail: dict, columns: list, dirty: bool, ids_problem: str | None) -> None:
    """Filters by column value and by id, and the switch for old rows."""
    schema = detail["schema_type"]
    with st.container(border=True, key="ed_controls"):
        with st.form("ed_filter_form", border=False, enter_to_submit=True):
            c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
            # Text and numbers first: people look for a cell type more often than an x.
            options = sorted(
                (c.column for c in columns),
                key=lambda c: c.endswith(("_position_x", "_position_y", "_position_z")),
            )
            c1.selectbox("Filter on column", options, key="ed_f_col", disabled=dirty)
            c2.text_input(
                "Value",
                key="ed_f_value",
                disabled=dirty,
                placeholder="part of a text, or a number",
                help="Text columns match a part of the text; numbers, positions "
                "and true/false match exactly.",
            )
            c3.form_submit_button(
                "Add filter",
                on_click=es.add_filter,
                args=(schema,),
                disabled=dirty,
                icon=":material/filter_alt:",
            )
        problem = st.session_state.pop("ed_f_error", None)
        if problem:
            st.error(w.md(problem), icon=":material/error:")
        active = es.filters()
        if active:
            chips = st.columns(min(len(active), 4) + 1)
            for i, (col, (typed, _)) in enumerate(active.items()):
                kind = next((c.kind for c in columns if c.column == col), "float")
                op = "contains" if kind == "str" else "="
                chips[i % 4].button(
                    f"{col} {op} {w.md(typed)}",
                    key=f"ed_rm_{col}",
                    icon=":material/close:",
                    disabled=dirty,
                    on_click=es.remove_filter,
                    args=(col,),
                    help="Remove this filter",
                )
        i1, i2 = st.columns([2, 3], vertical_alignment="bottom")
        i1.text_input(
            "Annotation ids",
            key="ed_ids",
            on_change=es.first_page,
            disabled=dirty,
            placeholder="e.g. 12, 40-45",
            help=f"Show only these annotations (at most {es.MAX_IDS}).",
        )
        i2.toggle(
            "Include deleted and superseded rows",
            key="ed_all",
            disabled=dirty,
            on_change=es.first_page,
            help="Old versions and deleted annotations are kept: switch this on to "
            "see them. Only live rows can be changed.",
        )
        if ids_problem:
            st.error(w.md(ids_problem), icon=":material/error:")
        if dirty:
            st.caption(
                ":material/lock: Save or discard your changes below before changing "
                "the filters or the page."
            )


def _total(detail: dict, v: es.View) -> int | None:
    """Rows in the view: from the table's counts, or counted (None where a server can't)."""
    if not v.narrowed:
        return detail.get("total_count") if v.include_invalid else w.rows_of(detail)
    try:
        return api.client().count_annotations(
            v.table,
            include_invalid=v.include_invalid,
            filters=dict(v.filters) or None,
            ids=list(v.ids) or None,
        )
    except api.NotSupported:
        return None  # the pager says that this server cannot count the matching rows
    except api.AnnoError as refusal:  # any other refusal: its sentence, and no total
        st.error(w.md(str(refusal)), icon=":material/error:")
        return None


def _pager(v: es.View, total: int | None, shown: int, has_next: bool, dirty: bool) -> None:
    pages = max(1, math.ceil(total / v.size)) if total is not None else None
    p1, p2, p3, p4, p5 = st.columns([1.1, 1, 1, 4, 1.4], vertical_alignment="center")
    p1.button(
        "Previous",
        key="ed_prev",
        icon=":material/chevron_left:",
        disabled=dirty or v.page <= 1,
        on_click=es.to_page,
        args=(v.page - 1,),
    )
    p2.number_input(
        "Page",
        min_value=1,
        max_value=pages,
        step=1,
        key="ed_page",
        disabled=dirty,
        label_visibility="collapsed",
    )
    p3.button(
        "Next",
        key="ed_next",
        icon=":material/chevron_right:",
        disabled=dirty or not has_next,
        on_click=es.to_page,
        args=(v.page + 1,),
    )
    what = "rows" if v.include_invalid else "live rows"
    what += " that match" if v.narrowed else ""
    first = v.offset + 1 if shown else 0
    if total is None:
        p4.caption(
            f"Rows {first:,} to {v.offset + shown:,} (page {v.page}). This server "
            "cannot count the matching rows."
        )
    else:
        p4.caption(
            f"Rows {first:,} to {v.offset + shown:,} of {total:,} {what} "
            f"(page {v.page:,} of {pages:,})."
        )
    p5.selectbox(
        "Rows per page",
        es.PAGE_SIZES,
        key="ed_size",
        on_change=es.first_page,
        disabled=dirty,
        format_func=lambda n: f"{n} per page",
        label_visibility="collapsed",
    )


def _nothing_shown(detail: dict, v: es.View) -> None:
    hidden = (
        ""
        if v.include_invalid
        else (
            " Deleted and superseded rows are hidden: switch on 'Include deleted and superseded "
            "rows' to see them too."
        )
    )
    if v.narrowed:
        st.info(
            "No rows match: remove a filter or change the ids." + hidden,
            icon=":material/filter_alt_off:",
        )
    elif v.page > 1:
        st.info("This page is past the last row: go back a page.", icon=":material/inbox:")
    elif not detail.get("total_count"):
        st.info(
            "This table has no annotations yet: add some with an upload.", icon=":material/inbox:"
        )
    else:
        st.info(
            "Every annotation of this table is deleted or superseded." + hidden,
            icon=":material/inbox:",
        )


def _rows(detail: dict, writable: bool) -> None:
    name, schema = detail["table_name"], detail["schema_type"]
    columns = api.client().edit_columns(schema)
    ok_ids, ids = api.attempt(es.parse_ids, st.session_state.get("ed_ids", ""))
    v = es.view(name, ids if ok_ids else [])
    key = es.grid_key(v)
    es.check_left_behind(key)
    dirty = es.pending(key)
    _controls(detail, columns, dirty, None if ok_ids else ids)

    try:
        got = es.rows(
            key,
            lambda: api.client().query_annotations(
                name,
                limit=v.size + 1,
                offset=v.offset,
                include_invalid=v.include_invalid,
                filters=dict(v.filters) or None,
                ids=list(v.ids) or None,
            ),
        )
    except api.AnnoError as refusal:
        st.error(w.md(str(refusal)), icon=":material/error:")
        if isinstance(refusal, api.NotSupported) and not v.ids:  # a CAVE server: by id only
            st.caption("Type annotation ids above to look at those rows.")
        return
    frame, has_next = got.iloc[: v.size], len(got) > v.size
    total = _total(detail, v)
    pages = max(1, math.ceil(total / v.size)) if total is not None else None
    if pages is not None and v.page > pages:  # rows went away (a save, someone else)
        es.to_page(pages)
        st.rerun()
    _pager(v, total, len(frame), has_next, dirty)
    ngui.open_view(detail, dict(v.filters) or None)
    if frame.empty:
        _nothing_shown(detail, v)
        return

    names = {str(u["id"]): u["name"] for u in (api.users() or [])}
    shown = es.grid_frame(frame, columns, names, writable)
    height = min(38 + 35 * len(shown), 640)
    if not writable:
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            height=height,
            column_config=es.column_config(columns),
            key="ed_readonly",
        )
        return
    edited = st.data_editor(
        shown,
        key=key,
        hide_index=True,
        width="stretch",
        height=height,
        num_rows="fixed",
        column_config=es.column_config(columns),
        disabled=["id", *es.SYSTEM],
    )
    deletes = edited.loc[edited[es.DELETE].fillna(False).astype(bool), "id"]
    cols = ["id", *[c.column for c in columns]]
    ok_plan, plan = api.attempt(
        api.client().plan_edits, schema, frame, edited[cols], [int(i) for i in deletes]
    )
    if not ok_plan:
        st.error(w.md(plan), icon=":material/error:")
    elif plan.empty:
        st.caption(
            "Double-click a cell to change it, or tick Delete; then save. Positions "
            "are in the table's voxels."
        )
    else:
        n_up, n_del = len(plan.updates), len(plan.deletes)
        st.caption(
            f"Not saved yet: {len(plan.changes)} changed value"
            f"{'s' if len(plan.changes) != 1 else ''} in {n_up} row"
            f"{'s' if n_up != 1 else ''}, {n_del} row{'s' if n_del != 1 else ''} "
            "to delete."
        )
    b1, b2, _ = st.columns([1.2, 1.2, 4])
    b1.button(
        "Save changes",
        type="primary",
        key="ed_save",
        icon=":material/save:",
        disabled=not ok_plan or plan.empty,
        on_click=es.ask_to_confirm,
        args=(key,),
    )
    b2.button(
        "Discard changes",
        key="ed_discard",
        icon=":material/undo:",
        disabled=not dirty,
        on_click=es.discard,
    )
    if ok_plan and not plan.empty and es.confirming(key):
        _confirm(name, plan)


# -- the page ------------------------------------------------------------------------------
details = w.page_of_tables("Edit annotations")
vol = api.volume()

detail = w.table_picker(details, key="ed_pick")
assert detail is not None
name = detail["table_name"]
es.start(name)
w.notice_box(detail["notice_text"])
owner = w.md(detail["owner_name"])
if detail.get("can_read") is False:
    st.info(
        f"You may not read this table's rows: its read permission is "
        f"{w.permission_line('read', detail['read_permission'])}. Ask its owner, "
        f"{owner}.",
        icon=":material/lock:",
    )
    st.stop()
writable = w.allowed(detail, "can_write")
if not writable:
    st.info(
        f"You can look at this table's rows but not change them. Who can write: "
        f"{w.permission_line('write', detail['write_permission'])}. Ask its owner, "
        f"{owner}, if you need to.",
        icon=":material/lock:",
    )
done = es.last_save(name)
if done:
    _saved_box(done)

rows_tab, history_tab = st.tabs(["Rows", "History of one annotation"])
with rows_tab:
    _rows(detail, writable)
with history_tab:
    edit_history.render(name)
