"""Activity: who did what, newest first, as sentences; filtered, paged, linked to the rows.

Only entries about tables the viewer may read are shown (the engine filters). Pages are
read from the database one at a time ("Older" / "Newer"), whatever the log's length.
"""

from __future__ import annotations

import streamlit as st

from ui import client as api
from ui import widgets as w

EVERY_TABLE, EVERYONE, EVERY_KIND = "Every table", "Everyone", "Every kind"
_CURSORS = "ac_cursors"


def _first_page() -> None:
    st.session_state[_CURSORS] = []


def _older(next_id: int) -> None:
    st.session_state.setdefault(_CURSORS, []).append(next_id)


def _newer() -> None:
    if st.session_state.get(_CURSORS):
        st.session_state[_CURSORS].pop()


def _ranges(ids: list[int]) -> str:
    """Ids as the Edit page reads them: '12, 40-45'."""
    out, start = [], None
    for i, v in enumerate(ids):
        if start is None:
            start = v
        if i + 1 == len(ids) or ids[i + 1] != v + 1:
            out.append(str(start) if start == v else f"{start}-{v}")
            start = None
    return ", ".join(out)


def _open_rows(table: str, ids: list[int]) -> None:
    api.set_current_table(table)
    # What the Edit page keeps per table (ui/edit_state.start): this table, these ids, old
    # versions shown too (a deleted or replaced row is what the entry touched).
    st.session_state.update(
        ed_pick=table, ed_table=table, ed_filters={}, ed_ids=_ranges(ids), ed_all=True, ed_page=1
    )


def _open_table(table: str) -> None:
    api.set_current_table(table)
    st.session_state["tables_pick"] = table


st.title("Activity")
st.caption(f"Who changed what in aligned volume {w.md(api.volume())}, newest first.")
api.show_flash()

tables = []
with api.errors_shown():
    tables = w.readable_tables()
ok_users, everyone = api.attempt(api.users)
names = [u["name"] for u in everyone] if ok_users and everyone else []
f1, f2, f3, f4, f5, f6 = st.columns([3, 2, 2, 2, 2, 1])
table = f1.selectbox("Table", [EVERY_TABLE, *tables], key="ac_table", on_change=_first_page)
if names:
    person = f2.selectbox("Person", [EVERYONE, *names], key="ac_person", on_change=_first_page)
else:
    person = f2.text_input("Person", key="ac_person", on_change=_first_page) or EVERYONE
kind = f3.selectbox(
    "Kind",
    [EVERY_KIND, *api.KINDS],
    key="ac_kind",
    format_func=lambda k: api.KINDS.get(k, k).capitalize(),
    on_change=_first_page,
)
since = f4.date_input("From", value=None, key="ac_since", on_change=_first_page)
until = f5.date_input("Until", value=None, key="ac_until", on_change=_first_page)
size = f6.number_input(
    "Per page", min_value=1, max_value=500, value=25, step=5, key="ac_size", on_change=_first_page
)

cursors = st.session_state.setdefault(_CURSORS, [])
ok, page = api.attempt(
    api.client().get_activity,
    table=None if table == EVERY_TABLE else table,
    user=None if person == EVERYONE else person,
    kind=None if kind == EVERY_KIND else kind,
    since=since,
    until=until,
    limit=int(size),
    before=cursors[-1] if cursors else None,
)
if not ok:
    st.info(w.md(page), icon=":material/info:")
    st.stop()

if not page["entries"]:
    st.info("Nothing happened here that you may see, with these filters.", icon=":material/inbox:")
readable = set(tables)
for entry in page["entries"]:
    with st.container(border=True, key=f"ac_entry_{entry['id']}"):
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(w.md(api.sentence(entry)))
        left.caption(f"{w.when(entry['at'])} · entry {entry['id']}")
        target = entry["table"]
        if target in readable and entry["ids"]:
            if right.button("Open rows", key=f"ac_rows_{entry['id']}", icon=":material/edit:"):
                _open_rows(target, entry["ids"])
                st.switch_page("pages/edit.py")
        elif target in readable:
            if right.button("Open table", key=f"ac_tab_{entry['id']}", icon=":material/table:"):
                _open_table(target)
                st.switch_page("pages/tables.py")

p1, p2, _ = st.columns([1, 1, 6])
p1.button("Newer", key="ac_newer", disabled=not cursors, on_click=_newer)
p2.button(
    "Older",
    key="ac_older",
    disabled=page["next"] is None,
    on_click=_older,
    args=(page["next"],),
)
