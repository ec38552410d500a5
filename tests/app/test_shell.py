"""The shell: navigation, sidebar connection, aligned volume, acting user, no Streamlit below."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT, alerts, create_through_form, open_page, rerun


def test_empty_volume_invites_to_create_a_table(app):
    assert [t.value for t in app.title] == ["Tables"]
    assert alerts(app, "info") == ["No tables in aligned volume 'local' yet: create one."]
    assert [p.proto.page for p in app.get("page_link")] == ["create_table"]
    assert not app.exception


def test_sidebar_names_the_engine_volume_and_user(app, data_dir):
    captions = [c.value for c in app.sidebar.caption]
    assert any(str(data_dir.resolve()) in c for c in captions)
    assert app.sidebar.radio(key="sb_engine").value == "Embedded (this computer)"
    assert app.sidebar.selectbox(key="sb_volume").value == "local"
    assert app.sidebar.selectbox(key="sb_user").value == "admin"


def test_every_page_opens_without_error(app, client):
    client.create_table("t", "bound_tag", "tags [pytest]", [4, 4, 40])
    for page in ("tables", "create_table", "metadata"):
        open_page(app, page)
        assert not app.error, [e.value for e in app.error]


def test_new_aligned_volume_is_named_and_used(app, client):
    client.create_table("in_local", "bound_tag", "tags [pytest]", [4, 4, 40])
    rerun(app)
    app.sidebar.selectbox(key="sb_volume").select("+ Name a new aligned volume").run()
    app.sidebar.text_input(key="sb_new_volume").input("bad volume!").run()
    app.sidebar.button(key="sb_use_volume").click().run()
    assert any("aligned volume name" in e for e in alerts(app))
    app.sidebar.text_input(key="sb_new_volume").input("minnie_test").run()
    app.sidebar.button(key="sb_use_volume").click().run()
    assert app.sidebar.selectbox(key="sb_volume").value == "minnie_test"
    assert "minnie_test" in app.sidebar.selectbox(key="sb_volume").options
    assert alerts(app, "info") == ["No tables in aligned volume 'minnie_test' yet: create one."]
    # a table created now lands in the new volume
    create_through_form(app, "bound_tag", "in_new", "tags in the new volume [pytest]")
    assert [t.value for t in app.title] == ["Tables"]  # st.switch_page after creating
    assert client.get_tables(aligned_volume_name="minnie_test") == ["in_new"]
    assert client.get_tables() == ["in_local"]
    # and switching back shows the old volume's tables
    open_page(app, "tables")
    assert app.selectbox(key="tables_pick").options == ["in_new"]
    app.sidebar.selectbox(key="sb_volume").select("local").run()
    assert app.selectbox(key="tables_pick").options == ["in_local"]


def test_acting_user_can_be_switched(app, client):
    client.backend.users.add("bob", ["lab"])
    rerun(app)
    assert app.sidebar.selectbox(key="sb_user").options == ["admin (admin)", "bob"]
    app.sidebar.selectbox(key="sb_user").select("bob").run()
    assert app.sidebar.selectbox(key="sb_user").value == "bob"
    assert "Groups: lab" in [c.value for c in app.sidebar.caption]
    create_through_form(app, "bound_tag", "bobs", "bob's tags [pytest]")
    owner = client.get_table_metadata("bobs")["user_id"]
    assert owner == str(client.backend.users.get("bob").id)


def test_server_form_refuses_in_a_sentence(app):
    app.sidebar.radio(key="sb_engine").set_value("Annotation server").run()
    forms = app.sidebar.get("form")
    assert [f.proto.form.form_id for f in forms] == ["sb_server"]
    assert [t.key for t in forms[0].text_input] == [
        "sb_address",
        "sb_datastack",
        "sb_server_volume",
        "sb_token",
    ]
    app.sidebar.button[0].click().run()  # Connect with nothing filled in
    assert alerts(app) == ["Give the server's address, like https://cave.example.org."]
    app.sidebar.text_input(key="sb_address").input("http://127.0.0.1:9")
    app.sidebar.button[0].click().run()
    assert alerts(app) == ["Give a datastack or an aligned volume to work in."]
    assert not app.exception
    # still on the embedded engine
    assert app.sidebar.selectbox(key="sb_volume").value == "local"


def test_anno_core_dashboard_modules_do_not_import_streamlit():
    code = (
        "import sys, anno_core, anno_core.ingest.templates, ui.preview; "
        "print('streamlit' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_no_remote_fonts_or_telemetry_configured():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] is False
    assert "fontFaces" not in config.get("theme", {})


def test_details_from_a_cave_server_are_shown_without_guessing():
    from ui import widgets as w

    cave = {
        "created": "2023-01-05 10:11:12.5",
        "last_modified": None,
        "live_count": None,
        "total_count": 12,
        "can_edit_metadata": None,
        "can_delete": False,
    }
    assert w.when(cave["created"]) == "2023-01-05 10:11"
    assert w.when(cave["last_modified"]) == "unknown" and w.when("None") == "unknown"
    assert w.rows_of(cave) == 12  # CAVE counts every row; that count stands in
    assert w.allowed(cave, "can_edit_metadata")  # unknown: offered, the server decides
    assert not w.allowed(cave, "can_delete")
    assert w.count(None) == "unknown" and w.count(1234) == "1,234"
