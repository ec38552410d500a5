"""Token sign-in on a dashboard over our server (ANNO_BACKEND=server): each person's own
token carries every request, and two people never share a client."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT, alerts
from tests.server.conftest import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("signin-server") / "data")
    srv.add_users({"admin": ((), True)})
    srv.add_users({"olivia": (("lab",), False)})
    srv.add_users({"sam": ((), False)})
    srv.start()
    srv.connect("olivia", aligned_volume="v").create_table(
        "olivias", "bound_tag", "hers [pytest]", [1, 1, 1], read_permission="PRIVATE"
    )
    yield srv
    srv.stop()


def _signed_in(server, monkeypatch, name: str) -> AppTest:
    from ui import signin

    signin._throttle.clear()
    for key, value in {
        "ANNO_DASHBOARD_AUTH": "token",
        "ANNO_BACKEND": "server",
        "ANNO_SERVER_ADDRESS": server.url,
        "ANNO_ALIGNED_VOLUME": "v",
        "ANNO_TOKEN": server.tokens["admin"],  # the operator's: never a person's session's
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.text_input(key="si_name").input(name)
    at.text_input(key="si_token").input(server.tokens[name])
    at.button(key="si_submit").click().run()
    assert not at.exception, at.exception
    return at


def test_each_person_acts_with_their_own_token_on_the_server(server, monkeypatch):
    olivia = _signed_in(server, monkeypatch, "olivia")
    sam = _signed_in(server, monkeypatch, "sam")
    assert olivia.session_state["anno_connection"].token == server.tokens["olivia"]
    assert sam.session_state["anno_connection"].token == server.tokens["sam"]
    assert "Signed in as olivia (lab)" in [t.value for t in olivia.sidebar.text]
    assert "Signed in as sam (no groups)" in [t.value for t in sam.sidebar.text]
    names = " ".join(str(d.value) for d in olivia.dataframe)
    assert "olivias" in names
    assert "olivias" not in " ".join(str(d.value) for d in sam.dataframe)


def test_a_wrong_token_on_the_server_is_the_same_sentence(server, monkeypatch):
    at = _signed_in(server, monkeypatch, "sam")
    at.sidebar.button(key="sb_sign_out").click().run()
    at.text_input(key="si_name").input("sam")
    at.text_input(key="si_token").input(server.tokens["olivia"])
    at.button(key="si_submit").click().run()
    assert alerts(at) == [
        "That name and API token do not match; check both, or ask an admin for a new token."
    ]
