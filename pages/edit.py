"""Edit: page through a table's annotations, fix cells, delete or restore rows, delete what a
filter finds, undo an upload, see an annotation's history."""

from __future__ import annotations

import math

import streamlit as st

from ui import client as api
from ui import edit_bulk as bulk
from ui import edit_changes as changes
from ui import edit_grid as grid
from ui import edit_history
from ui import edit_save as save
from ui import edit_state as es
from ui import export_views as ex
from ui import neuroglancer as ngui
from ui import widgets as w


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
    """Rows in the view: from the table's counts, or counted (exactly when cheap or asked
    for, else estimated: es.estimated says so), None where a server can't count."""
    es.estimated(v, None)
    if not v.narrowed:
        return detail.get("total_count") if v.include_invalid else w.rows_of(detail)
    try:
        return es.count_view(v)
    except api.NotSupported:
        return None  # the pager says that this server cannot count the matching rows
    except api.AnnoError as refusal:  # any other refusal: its sentence, and no total
        st.error(w.md(str(refusal)), icon=":material/error:")
        return None


def _pager(v: es.View, total: int | None, shown: int, has_next: bool, dirty: bool) -> None:
    pages = max(1, math.ceil(total / v.size)) if total is not None else None
    pages = None if es.estimated(v) else pages
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
    guess = es.estimated(v)
    if not shown:  # never "Rows 0 to 0 of 0"
        p4.caption(f"No {what} on this page." if total else f"No {what}.")
    elif guess is not None:  # an estimate: say so, and offer the exact count
        p4.caption(
            f"Rows {first:,} to {v.offset + shown:,} of about {total:,} {what} (page "
            f"{v.page:,}; estimated from a sample of {guess.sampled:,} rows)."
        )
        p4.button("Count exactly", key="ed_exact", on_click=es.ask_exact_count, args=(v,))
    elif total is None:
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

    after_id, skip = es.page_start(v)  # keyset: Next/Previous read only their rows
    after = es.after_save(v)  # rows just saved stay on screen, as their new versions
    try:
        got = es.rows(
            key,
            (lambda: es.saved_rows(after))
            if after
            else lambda: api.client().query_annotations(
                name,
                limit=v.size + 1,
                offset=skip,
                after_id=after_id,
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
    es.remember_page(v, frame, has_next)
    total = _total(detail, v)
    pages = max(1, math.ceil(total / v.size)) if total is not None else None
    pages = None if es.estimated(v) else pages  # an estimate: no last page to hold on to
    if pages is not None and v.page > pages:  # rows went away (a save, someone else)
        es.to_page(pages)
        st.rerun()
    _pager(v, total, len(frame), has_next, dirty)
    bulk.delete_matching_button(v, writable, dirty)
    if after:
        st.caption(
            ":material/history: The rows you just saved, changed ones as their new versions."
        )
        st.button("Back to the rows in order", key="ed_leave_saved", on_click=es.leave_saved_rows)
    if st.toggle("Download these rows", key="ed_dl_on", help="Every page of this view, to a file"):
        ex.download_panel(
            name,
            "ed_dl",
            filters=dict(v.filters) or None,
            ids=list(v.ids) or None,
            include_history=v.include_invalid,
            what="every row of this view",
            pick_moment=True,
        )
    ngui.open_view(detail, dict(v.filters) or None)
    if frame.empty:
        _nothing_shown(detail, v)
        return

    names = {str(u["id"]): u["name"] for u in (api.users() or [])}
    shown = grid.grid_frame(
        frame,
        columns,
        names,
        writable,
        restorable=v.include_invalid,
        was=after["was"] if after else None,
    )
    height = min(38 + 35 * len(shown), 640)
    if not writable:
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            height=height,
            column_config=grid.column_config(columns),
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
        column_config=grid.column_config(columns),
        disabled=["id", *es.SYSTEM],
    )
    ticked = {
        tick: [int(i) for i in edited.loc[edited[tick].fillna(False).astype(bool), "id"]]
        for tick in (es.DELETE, es.RESTORE)
        if tick in edited.columns
    }
    cols = ["id", *[c.column for c in columns]]
    ok_plan, plan = api.attempt(
        api.client().plan_edits,
        schema,
        frame,
        edited[cols],
        ticked.get(es.DELETE, []),
        ticked.get(es.RESTORE, []),
    )
    if not ok_plan:
        st.error(w.md(plan), icon=":material/error:")
    elif plan.empty:
        st.caption(
            "Double-click a cell to change it, or tick Delete"
            + (" (or Restore, for a deleted row)" if v.include_invalid else "")
            + "; then save. Positions are in the table's voxels."
        )
    else:
        changes.pending(shown, edited, plan, columns)
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
        save.confirm(name, plan, [int(i) for i in frame["id"]], v)


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
    save.saved_box(done)

rows_tab, uploads_tab, history_tab = st.tabs(["Rows", "Uploads", "History of one annotation"])
with rows_tab:
    _rows(detail, writable)
with uploads_tab:
    bulk.uploads_tab(name, writable)
with history_tab:
    edit_history.render(name)
