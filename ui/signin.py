"""The gate in front of every page: sign-in, sign-out, idle expiry, the loopback rule.

`admit()` runs first on every script run (app.py). While it says no, the only page is its
own (sign-in form, "ask an admin", or the refusal to serve), drawn through a one-page
``st.navigation`` so that no page of pages/ can run and nothing of the engine is read.
The decisions (who a token is, the throttle, the loopback rule) are `anno_core.signin`'s.
Tokens live only in this session's server-side state: never in a URL, a cookie or a widget
after the form is sent.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from anno_core import AnnoError, Settings, signin
from anno_core.errors import NotAuthenticated, TooManyAttempts
from ui import client as api
from ui.text import md

_WHO = "anno_signed_in"
_NOTE = "anno_signin_note"
_ERR = "si_error"
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


@st.cache_resource(show_spinner=False)
def _throttle(per_minute: int, wait_seconds: float) -> signin.Throttle:
    """One throttle per process: every browser session counts against it."""
    return signin.Throttle(per_minute, wait_seconds)


def throttle() -> signin.Throttle:
    s = Settings()
    return _throttle(s.signin_attempts_per_minute, s.signin_wait_seconds)


def who() -> dict[str, Any] | None:
    """The signed-in person of this session: name, groups, is_admin (None if nobody)."""
    return st.session_state.get(_WHO)


def _only(draw: Any, title: str) -> None:
    st.navigation([st.Page(draw, title=title, default=True)], position="hidden").run()


def admit() -> bool:
    """True when the pages may be served to this session; else its one page is drawn."""
    s = Settings()
    if s.dashboard_auth == "none":
        why = signin.none_mode_refusal(st.get_option("server.address"), dict(st.context.headers))
        if why is None:
            return True
        _only(lambda: _refusal(why), "Sign-in needed")
        return False
    person = who()
    if person is not None and _still_valid(person, s):
        return True
    _only(token_page if s.dashboard_auth == "token" else oidc_page, "Sign in")
    return False


def _refusal(why: str) -> None:
    st.title("Sign-in needed")
    st.error(md(why), icon=":material/lock:")


def _still_valid(person: dict[str, Any], s: Settings) -> bool:
    """Not idle too long, and the token or e-mail still names this enabled user."""
    now = time.time()
    if now - person["active"] > s.dashboard_idle_minutes * 60:
        _end(f"You were signed out after {s.dashboard_idle_minutes:g} minutes without activity.")
        return False
    try:
        if person.get("token") is not None and not api.connection().embedded:
            me = api.client().whoami()  # the person's own cached client asks the server
            if me["name"] != person["name"]:
                raise NotAuthenticated(signin.WRONG)
        elif person.get("token") is not None:
            me = signin.identify_token(person["name"], person["token"])
        else:
            if not st.user.is_logged_in:
                _end(None)
                return False
            me = signin.identify_email(st.user.get("email"), st.user.get("email_verified"))
    except AnnoError:
        _end("Your sign-in no longer works (a new token, or the user was disabled); sign in again.")
        return False
    person.update(me, active=now)
    api.sign_in(me, None, fresh=False)  # a new admin flag or group: a client that knows it
    return True


def _end(note: str | None) -> None:
    st.session_state.clear()
    if note:
        st.session_state[_NOTE] = note
    if Settings().dashboard_auth == "oidc" and _auth_configured() and st.user.is_logged_in:
        st.logout()  # Streamlit's identity cookie goes too, or the next run signs in again


def token_changed(name: str, token: str) -> None:
    """The signed-in person got a new token (People page): keep them signed in with it."""
    person = who()
    if person is not None and person["name"] == name and person.get("token") is not None:
        person["token"] = token


def sign_out() -> None:
    """End this session's sign-in; nothing of it stays in the session."""
    _end("You are signed out.")


# -- token ---------------------------------------------------------------------------
def _client_address() -> str | None:
    """The browser's address as Streamlit saw it (None from this computer)."""
    ip = st.context.ip_address
    return ip if isinstance(ip, str) else None


def _on_token() -> None:
    state = st.session_state
    name, token = state.get("si_name", ""), state.get("si_token", "")
    state["si_token"] = ""  # the token leaves the widget at once
    address = _client_address()
    keys = signin.throttle_keys(name, address)
    gate = throttle()
    try:
        gate.check(keys)
        me = signin.identify_token(name, token)
    except TooManyAttempts as exc:
        signin.log_failure(name, address, exc)
        state[_ERR] = str(exc)
        return
    except NotAuthenticated as exc:
        gate.failed(keys)
        signin.log_failure(name, address, exc)
        state[_ERR] = signin.WRONG
        return
    except AnnoError as exc:  # the server cannot be reached: not the person's mistake
        state[_ERR] = str(exc)
        return
    gate.succeeded(keys)
    api.sign_in(me, token.strip())
    st.session_state[_WHO] = dict(me, token=token.strip(), active=time.time())


def token_page() -> None:
    """The sign-in form: user name and API token."""
    st.title("Sign in")
    note = st.session_state.pop(_NOTE, None)
    if note:
        st.info(md(note))
    with st.form("si_form", border=True):
        st.text_input("User name", key="si_name", autocomplete="username")
        st.text_input(
            "API token",
            type="password",
            key="si_token",
            autocomplete="off",
            help="The token 'python -m anno_core users add' printed, or an admin gave you.",
        )
        st.form_submit_button("Sign in", type="primary", on_click=_on_token, key="si_submit")
    problem = st.session_state.pop(_ERR, None)
    if problem:
        st.error(md(problem), icon=":material/error:")


# -- OpenID Connect --------------------------------------------------------------------
def _auth_configured() -> bool:
    try:
        section = st.secrets.get("auth")
    except (FileNotFoundError, KeyError, AttributeError):
        return False
    return bool(section) and all(k in section for k in AUTH_KEYS)


def oidc_page() -> None:
    """Sign in with the lab's OpenID Connect provider (Streamlit's st.login)."""
    st.title("Sign in")
    note = st.session_state.pop(_NOTE, None)
    if note:
        st.info(md(note))
    if not _auth_configured():
        st.error(
            "ANNO_DASHBOARD_AUTH=oidc needs an [auth] section in .streamlit/secrets.toml with "
            + ", ".join(AUTH_KEYS)
            + "; see the README's 'Hosting the dashboard for a lab'.",
            icon=":material/error:",
        )
        return
    if not st.user.is_logged_in:
        if st.button("Sign in with your lab account", type="primary", key="si_oidc"):
            st.login()
        return
    try:
        me = signin.identify_email(st.user.get("email"), st.user.get("email_verified"))
    except AnnoError as exc:
        st.warning(md(str(exc)), icon=":material/person_off:")
        if st.button("Sign out", key="si_oidc_out"):
            st.logout()
        return
    api.sign_in(me, None)
    st.session_state[_WHO] = dict(me, token=None, active=time.time())
    st.rerun()
