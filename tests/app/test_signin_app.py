"""Sign-in through the real app.py (AppTest): nothing before sign-in, one sentence for any
failure, the throttle, idle expiry, a disabled user signed out, and the tables one may not
read never named."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import anno_core
from anno_core.engine.users import UserStore
from anno_core.signin import WRONG
from tests.app.conftest import ROOT, alerts, open_page


@pytest.fixture
def lab(app_env, monkeypatch):
    """alice (lab) with a PRIVATE table, bob; sign-in by token; a fresh throttle."""
    from ui import signin

    signin._throttle.clear()
    client = anno_core.connect(data_dir=app_env)
    store = UserStore(client.backend.engine)
    tokens = {
        name: store.add(name, groups)[1] for name, groups in (("alice", ["lab"]), ("bob", []))
    }
    anno_core.connect(data_dir=app_env, user="alice").create_table(
        "alice_secret", "bound_tag", "hers [pytest]", [1, 1, 1], read_permission="PRIVATE"
    )
    anno_core.connect(data_dir=app_env, user="bob").create_table(
        "bob_open", "bound_tag", "his [pytest]", [1, 1, 1]
    )
    monkeypatch.setenv("ANNO_DASHBOARD_AUTH", "token")
    return {"store": store, "tokens": tokens}


def _fresh() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _everything(at: AppTest) -> str:
    parts = [
        str(e.value)
        for kind in ("markdown", "text", "caption", "title", "subheader")
        for e in getattr(at, kind)
    ]
    parts += [str(e.value) for e in at.error] + [str(e.value) for e in at.info]
    parts += [str(s.options) for s in at.selectbox] + [str(e.value) for e in at.dataframe]
    return "\n".join(parts)


def _sign_in(at: AppTest, name: str, token: str) -> AppTest:
    at.text_input(key="si_name").input(name)
    at.text_input(key="si_token").input(token)
    at.button(key="si_submit").click().run()
    assert not at.exception, at.exception
    return at


def test_before_sign_in_only_the_form_shows_and_nothing_of_the_engine(lab):
    at = _fresh()
    assert [t.value for t in at.title] == ["Sign in"]
    shown = _everything(at)
    for secret in ("alice_secret", "bob_open", "alice", "bob", "local", "admin"):
        assert secret not in shown
    assert not at.sidebar.button  # no sidebar, no sign-out, no pages


def test_a_wrong_token_and_an_unknown_user_get_the_same_sentence(lab):
    at = _fresh()
    _sign_in(at, "alice", "not-her-token")
    assert alerts(at) == [WRONG]
    _sign_in(at, "nobody", "whatever")
    assert alerts(at) == [WRONG]
    _sign_in(at, "bob", lab["tokens"]["alice"])  # a real token, the wrong name
    assert alerts(at) == [WRONG]
    assert at.text_input(key="si_token").value == ""  # never echoed back


def test_signed_in_the_session_acts_as_that_person_only(lab):
    at = _sign_in(_fresh(), "bob", lab["tokens"]["bob"])
    side = [t.value for t in at.sidebar.text]
    assert "Signed in as bob (no groups)" in side
    assert "sb_engine" not in [r.key for r in at.sidebar.radio]  # no engine switch
    assert "sb_user" not in [s.key for s in at.sidebar.selectbox]  # no acting as others
    for page in ("tables", "upload", "edit", "metadata", "activity", "create_table"):
        open_page(at, page)
        assert "alice_secret" not in _everything(at), page
    open_page(at, "tables")
    assert "bob_open" in _everything(at)

    at.sidebar.button(key="sb_sign_out").click().run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert "bob_open" not in _everything(at)


def test_the_owner_sees_her_private_table(lab):
    at = _sign_in(_fresh(), "alice", lab["tokens"]["alice"])
    assert "Signed in as alice (lab)" in [t.value for t in at.sidebar.text]
    assert "alice_secret" in _everything(at)


def test_five_wrong_tokens_then_even_the_right_one_waits(lab, monkeypatch):
    at = _fresh()
    for _ in range(5):
        _sign_in(at, "alice", "wrong")
        assert alerts(at) == [WRONG]
    _sign_in(at, "alice", lab["tokens"]["alice"])
    [said] = alerts(at)
    assert said.startswith("Too many failed sign-ins; wait")
    assert [t.value for t in at.title] == ["Sign in"]
    # the typed name is throttled too: bob from the same address waits as well
    _sign_in(at, "bob", lab["tokens"]["bob"])
    assert alerts(at)[0].startswith("Too many failed sign-ins")


def test_idle_sessions_and_disabled_users_are_signed_out(lab):
    at = _sign_in(_fresh(), "alice", lab["tokens"]["alice"])
    at.session_state["anno_signed_in"]["active"] -= 61 * 60
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert "without activity" in " ".join(alerts(at, "info"))

    at = _sign_in(_fresh(), "alice", lab["tokens"]["alice"])
    lab["store"].set_disabled("alice", True)
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert "no longer works" in " ".join(alerts(at, "info"))


def test_none_mode_refuses_where_the_server_is_not_loopback(app_env):
    from streamlit import config

    config.set_option("server.address", "0.0.0.0")
    try:
        at = _fresh()
    finally:
        config.set_option("server.address", "127.0.0.1")
    assert [t.value for t in at.title] == ["Sign-in needed"]
    assert "ANNO_DASHBOARD_AUTH=token" in alerts(at)[0]
