"""People: your profile (name, groups, your tables, a new token) and, for admins, everyone:
add people, reset tokens, disable, groups and their members, sign-in e-mail addresses.

What `python -m anno_core users ...` does, on a page; the engine checks every change
against the signed-in (or acting) person.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui import client as api
from ui import signin
from ui import widgets as w

_TOKEN = "pp_token"
_ERR = "pp_error"


def _show_token_once() -> None:
    """A token made by the last action, shown this once with a copy button."""
    item = st.session_state.pop(_TOKEN, None)
    if item:
        name, token = item
        with st.container(border=True, key="pp_token_box"):
            st.markdown(f"**API token of {w.md(name)}**")
            st.code(token, language=None)
            st.warning(
                "Copy it now: it will not be shown again. Only its fingerprint is stored.",
                icon=":material/key:",
            )


def _did(fn: Any, *args: Any, done: str | None = None, token_of: str | None = None) -> None:
    """Run one change; its refusal, a flash, or the new token is shown on the next run."""
    ok, result = api.attempt(fn, *args)
    if not ok:
        st.session_state[_ERR] = result
        return
    if token_of is not None:
        token = result[1] if isinstance(result, tuple) else result
        st.session_state[_TOKEN] = (token_of, token)
        signin.token_changed(token_of, token)
    if done:
        api.flash(done)


def _problem() -> None:
    item = st.session_state.pop(_ERR, None)
    if item:
        st.error(w.md(item), icon=":material/error:")


st.title("People")
api.show_flash()
_problem()
_show_token_once()
ok_me, me = api.attempt(api.client().whoami)
if not ok_me:
    st.error(w.md(me), icon=":material/error:")
    st.stop()
ok_people, people = api.attempt(api.client().people)

# -- you ------------------------------------------------------------------------------------
st.subheader("You", anchor=False)
w.facts(
    {
        "Name": w.md(me["name"]),
        "Groups": w.md(", ".join(me["groups"]) or "none"),
        "Admin": "yes" if me["is_admin"] else "no",
    }
)
if ok_people:
    ok_t, mine = api.attempt(people.owned_tables, me["name"])
    mine = [f"{t['table_name']} ({t['aligned_volume']})" for t in mine] if ok_t else []
else:
    owned = api.attempt(api.table_details)[1]
    mine = [d["table_name"] for d in owned or [] if d.get("owner_name") == me["name"]]
st.markdown("**Your tables:** " + (w.md(", ".join(mine)) if mine else "none yet"))
if ok_people:
    st.button(
        "Get a new API token",
        key="pp_reset_me",
        icon=":material/key:",
        help="Your old token stops working at once: scripts using it need the new one.",
        on_click=_did,
        args=(people.reset_token, me["name"]),
        kwargs={"token_of": me["name"]},
    )
else:
    st.caption(w.md(people))
if not me["is_admin"] or not ok_people:
    st.stop()

# -- everyone (admins) ------------------------------------------------------------------------
st.divider()
st.subheader("Everyone", anchor=False)
records = people.records()
groups = people.groups()
st.dataframe(
    pd.DataFrame(
        [
            {
                "name": r["name"],
                "groups": ", ".join(r["groups"]),
                "admin": r["is_admin"],
                "disabled": r["disabled"],
                "created": pd.to_datetime(r["created"]),
                "last seen": pd.to_datetime(r["last_seen"]),
                "sign-in e-mails": ", ".join(r["emails"]),
            }
            for r in records
        ]
    ),
    hide_index=True,
    width="stretch",
    key="pp_people",
    column_config={
        "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "last seen": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
    },
)


def _add() -> None:
    s = st.session_state
    name = s.get("pp_new_name", "").strip()
    chosen = list(s.get("pp_new_groups", []))
    _did(people.add_user, name, chosen, bool(s.get("pp_new_admin")), token_of=name)
    if _ERR not in s:
        api.flash(f"Added {name}.")


with st.form("pp_add_form", border=True, clear_on_submit=True):
    st.markdown("**Add a person**")
    a1, a2, a3 = st.columns([2, 3, 1], vertical_alignment="bottom")
    a1.text_input("Name", key="pp_new_name", placeholder="e.g. alice")
    a2.multiselect("Groups", list(groups), key="pp_new_groups")
    a3.checkbox("Admin", key="pp_new_admin")
    st.form_submit_button(
        "Add", type="primary", on_click=_add, icon=":material/person_add:", key="pp_add"
    )

names = [r["name"] for r in records]
by_name = {r["name"]: r for r in records}
with st.container(border=True, key="pp_one"):
    st.markdown("**One person**")
    who = st.selectbox("Person", names, key="pp_who")
    r = by_name[who]
    b1, b2, b3 = st.columns(3)
    b1.button(
        "Reset token",
        key="pp_reset",
        icon=":material/key:",
        help="A new token is shown once; the old one stops working at once.",
        on_click=_did,
        args=(people.reset_token, who),
        kwargs={"token_of": who},
    )
    b2.button(
        "Enable" if r["disabled"] else "Disable",
        key="pp_disable",
        icon=":material/person_off:",
        help="A disabled person's token works nowhere; their tables and rows stay theirs.",
        on_click=_did,
        args=(people.set_disabled, who, not r["disabled"]),
        kwargs={"done": f"{who} is {'enabled' if r['disabled'] else 'disabled'}."},
    )
    b3.button(
        "Remove admin" if r["is_admin"] else "Make admin",
        key="pp_admin",
        icon=":material/shield_person:",
        on_click=_did,
        args=(people.set_admin, who, not r["is_admin"]),
        kwargs={"done": f"{who} is {'no longer ' if r['is_admin'] else ''}an admin."},
    )
    e1, e2 = st.columns(2, vertical_alignment="bottom")
    email = e1.text_input("Link a sign-in e-mail", key="pp_email", placeholder="name@lab.org")
    e2.button(
        "Link e-mail",
        key="pp_link",
        disabled=not email.strip(),
        on_click=_did,
        args=(people.link_email, who, email.strip()),
        kwargs={"done": f"{email.strip()} now signs in as {who}."},
    )
    if r["emails"]:
        u1, u2 = st.columns(2, vertical_alignment="bottom")
        gone = u1.selectbox("Linked e-mails", r["emails"], key="pp_unlink_pick")
        u2.button(
            "Unlink e-mail",
            key="pp_unlink",
            on_click=_did,
            args=(people.unlink_email, gone),
            kwargs={"done": f"{gone} is no longer linked."},
        )

st.subheader("Groups", anchor=False)
st.dataframe(
    pd.DataFrame(
        [{"group": g, "members": ", ".join(m)} for g, m in groups.items()],
        columns=["group", "members"],
    ),
    hide_index=True,
    width="stretch",
    key="pp_groups",
)
with st.container(border=True, key="pp_group_box"):
    g1, g2 = st.columns(2, vertical_alignment="bottom")
    new_group = g1.text_input("New group", key="pp_group_name", placeholder="e.g. lab")
    g2.button(
        "Create group",
        key="pp_group_add",
        disabled=not new_group.strip(),
        on_click=_did,
        args=(people.add_group, new_group.strip()),
        kwargs={"done": f"Created group {new_group.strip()}."},
    )
    if groups:
        m1, m2, m3, m4 = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
        group = m1.selectbox("Group", list(groups), key="pp_group_pick")
        member = m2.selectbox("Person", names, key="pp_member_pick")
        m3.button(
            "Add to group",
            key="pp_member_add",
            on_click=_did,
            args=(people.add_member, group, member),
            kwargs={"done": f"{member} is now in {group}."},
        )
        m4.button(
            "Remove from group",
            key="pp_member_remove",
            on_click=_did,
            args=(people.remove_member, group, member),
            kwargs={"done": f"{member} is no longer in {group}."},
        )
        st.button(
            "Delete this group",
            key="pp_group_delete",
            icon=":material/delete:",
            help="Its members leave it; tables shared with the group are no longer shared.",
            on_click=_did,
            args=(people.remove_group, group),
            kwargs={"done": f"Removed group {group}."},
        )
