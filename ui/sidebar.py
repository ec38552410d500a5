"""The sidebar: which engine, which aligned volume, who is acting.

Changes happen in widget callbacks, which run before the script: the whole page is then
drawn once, already with the new engine, volume or user.
"""

from __future__ import annotations

import streamlit as st

from ui import client as api
from ui import widgets as w

NEW_VOLUME = "+ Name a new aligned volume"
EMBEDDED, SERVER = "Embedded (this computer)", "Annotation server"
_ERROR = "sb_error"


def render() -> None:
    """Draw the sidebar."""
    with st.sidebar:
        _engine()
        _volume()
        _user()
        _uploads()


def _uploads() -> None:
    """Uploads running in the background, on every page: they go on whatever page is open."""
    from ui import upload_jobs

    scope = (api.connection().key(), api.volume())
    running = [j for j in upload_jobs.jobs().of_scope(scope) if j.running]
    if not running:
        return

    @st.fragment(run_every=1.0)
    def _bars() -> None:
        for job in running:
            if job.running:
                st.progress(job.task.fraction, text=w.md(job.progress_text()))
            else:
                st.caption(w.md(f"{job.file_name}: upload {job.state}; see the Upload page."))

    st.divider()
    st.caption("Uploads in the background")
    _bars()


def _problem(where: str, message: str) -> None:
    st.session_state[_ERROR] = (where, message)


def _show_problem(where: str) -> None:
    item = st.session_state.get(_ERROR)
    if item and item[0] == where:
        st.session_state.pop(_ERROR)
        st.error(w.md(item[1]))


# -- engine ------------------------------------------------------------------------------
def _on_engine() -> None:
    if st.session_state["sb_engine"] == EMBEDDED and not api.connection().embedded:
        api.use_embedded()


def _on_connect() -> None:
    s = st.session_state
    address = s.get("sb_address", "")
    ok, message = api.attempt(
        api.connect_server,
        address,
        s.get("sb_datastack", ""),
        s.get("sb_server_volume", ""),
        s.get("sb_token", ""),
    )
    if ok:
        s.pop("sb_edit", None)
        api.flash(f"Connected to {address.strip()}.")
    else:
        _problem("server", message)


def _engine() -> None:
    conn = api.connection()
    st.subheader("Connection")
    ok, label = api.attempt(lambda: api.client().connection_label)
    if ok:
        st.caption(label)
    else:
        st.error(w.md(label))
    if api.signed_in():  # the dashboard's own engine, as the signed-in person
        return
    if "sb_engine" not in st.session_state:
        st.session_state["sb_engine"] = EMBEDDED if conn.embedded else SERVER
    choice = st.radio(
        "Engine",
        [EMBEDDED, SERVER],
        key="sb_engine",
        on_change=_on_engine,
        help="The embedded engine keeps tables in a file on this computer. "
        "An annotation server is shared by a lab (our server or a CAVE deployment).",
    )
    if choice == SERVER and (conn.embedded or st.session_state.get("sb_edit")):
        _server_form(conn)
    elif not conn.embedded:
        st.button(
            "Connect to another server",
            key="sb_change",
            on_click=lambda: st.session_state.update(sb_edit=True),
        )


def _server_form(conn: api.Connection) -> None:
    with st.form("sb_server", border=True):
        st.text_input(
            "Server address",
            value=conn.server_address or "",
            key="sb_address",
            placeholder="https://cave.example.org",
        )
        st.text_input(
            "Datastack",
            value=conn.datastack or "",
            key="sb_datastack",
            help="A datastack names the aligned volume to use; or leave it empty "
            "and give the aligned volume.",
        )
        st.text_input("or aligned volume", value=conn.aligned_volume or "", key="sb_server_volume")
        st.text_input(
            "API token",
            type="password",
            key="sb_token",
            help="From your server's admin, or 'python -m anno_core users add' on our server.",
        )
        st.form_submit_button("Connect", type="primary", on_click=_on_connect)
    _show_problem("server")
    if conn.embedded:
        st.caption("Until you connect, the embedded engine stays in use.")


# -- aligned volume ----------------------------------------------------------------------
def _on_volume() -> None:
    picked = st.session_state["sb_volume"]
    if picked != NEW_VOLUME:
        api.set_volume(picked)


def _on_new_volume() -> None:
    name = st.session_state.get("sb_new_volume", "").strip()
    ok, message = api.attempt(api.add_volume, name)
    if ok:
        st.session_state["sb_volume"] = name
        st.session_state["sb_new_volume"] = ""
    else:
        _problem("volume", message)


def _volume() -> None:
    st.subheader("Aligned volume")
    if api.volume_is_fixed():
        st.caption(f"The aligned volume of datastack {api.connection().datastack}.")
        return
    current = api.volume()
    options = [*api.volumes(), NEW_VOLUME]
    if st.session_state.get("sb_volume") not in options:
        st.session_state["sb_volume"] = current
    picked = st.selectbox(
        "Aligned volume",
        options,
        key="sb_volume",
        on_change=_on_volume,
        label_visibility="collapsed",
        help="The namespace that owns annotation tables, e.g. minnie65_phase3.",
    )
    if picked == NEW_VOLUME:
        name = st.text_input(
            "Name of the new aligned volume", key="sb_new_volume", placeholder="e.g. my_volume"
        )
        st.button(
            "Use this volume",
            key="sb_use_volume",
            disabled=not name.strip(),
            on_click=_on_new_volume,
        )
        _show_problem("volume")
        st.caption("A new aligned volume is stored when you create its first table.")


# -- acting user -------------------------------------------------------------------------
def _on_user() -> None:
    api.set_user(st.session_state["sb_user"])


def _signed_in() -> None:
    from ui import signin

    me = signin.who() or {}
    groups = ", ".join(me.get("groups", ())) or "no groups"
    admin = ", admin" if me.get("is_admin") else ""
    st.subheader("Signed in")
    st.text(f"Signed in as {me.get('name')} ({groups}{admin})")
    st.button("Sign out", key="sb_sign_out", on_click=signin.sign_out, icon=":material/logout:")


def _user() -> None:
    if api.signed_in():
        _signed_in()
        return
    st.subheader("Acting user")
    ok, me = api.attempt(lambda: api.client().whoami())
    if not ok:
        st.error(w.md(me))
        return
    everyone = api.users() if api.connection().embedded else None
    if not everyone:  # on a server the token says who you are
        st.text(me["name"] + (" (admin)" if me["is_admin"] else ""))
        return
    names = [u["name"] for u in everyone]
    admins = {u["name"] for u in everyone if u["is_admin"]}
    st.session_state["sb_user"] = me["name"]
    st.selectbox(
        "Act as",
        names,
        key="sb_user",
        on_change=_on_user,
        format_func=lambda n: f"{n} (admin)" if n in admins else n,
        label_visibility="collapsed",
        help="On the embedded engine you can act as any of its users, to see what "
        "each may do. Add users with 'python -m anno_core users add NAME'.",
    )
    groups = ", ".join(me["groups"]) or "no groups"
    st.caption(f"Groups: {groups}")
