"""The sidebar's server form against our real server process on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.server.conftest import ServerProcess

from .conftest import alerts, create_through_form, open_page, texts


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("dash-server") / "data")
    # one at a time: parallel 'users add' on a new database can meet "database is locked"
    srv.add_users({"admin": ((), True)})
    srv.add_users({"olivia": (("lab",), False)})
    srv.start()
    yield srv
    srv.stop()


def _connect(app, address: str, volume: str, token: str):
    app.sidebar.radio(key="sb_engine").set_value("Annotation server").run()
    app.sidebar.text_input(key="sb_address").input(address)
    app.sidebar.text_input(key="sb_server_volume").input(volume)
    app.sidebar.text_input(key="sb_token").input(token)
    app.sidebar.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_a_wrong_token_is_refused_in_a_sentence(app, server):
    _connect(app, server.url, "lab_vol", "not-a-token")
    assert alerts(app) == ["The API token is not valid; ask an admin for a new one."]
    assert app.session_state["anno_connection"].embedded  # still on the embedded engine


def test_connect_work_and_go_back(app, server):
    _connect(app, server.url, "dash_vol", server.tokens["olivia"])
    assert alerts(app, "success") == [f"Connected to {server.url}."]
    assert app.sidebar.caption[0].value == f"server {server.url}, aligned volume dash_vol"
    assert "olivia" in texts(app)  # the token says who is acting
    assert alerts(app, "info") == ["No tables in aligned volume 'dash_vol' yet: create one."]

    create_through_form(app, "bound_tag", "served_tags", "Tags on the lab server [pytest]")
    remote = server.connect("olivia", aligned_volume="dash_vol")
    meta = remote.get_table_metadata("served_tags")
    assert meta["description"] == "Tags on the lab server [pytest]"
    assert meta["user_id"] == str(remote.whoami()["id"])

    open_page(app, "tables")
    assert app.dataframe[0].value["table"].tolist() == ["served_tags"]
    open_page(app, "metadata")
    assert "md_delete" not in [b.key for b in app.button]  # olivia is not an admin
    desc = next(t for t in app.text_area if t.key.endswith("_desc"))
    desc.input("Tags on the lab server, checked [pytest]").run()
    app.button(key="md_save").click().run()
    assert remote.get_table_metadata("served_tags")["description"] == (
        "Tags on the lab server, checked [pytest]"
    )

    app.sidebar.radio(key="sb_engine").set_value("Embedded (this computer)").run()
    assert app.session_state["anno_connection"].embedded
    assert any("embedded engine" in c.value for c in app.sidebar.caption)
