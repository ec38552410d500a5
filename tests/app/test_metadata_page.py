"""Metadata page: edit, read-only fields, transfer ownership, delete (admins only)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from .conftest import alerts, open_page, rerun, texts, unescape


@pytest.fixture
def table(client):
    client.create_table(
        "cells", "cell_type_local", "Cells [pytest]", [4, 4, 40], notice_text="old notice"
    )
    client.post_annotation(
        "cells", [{"pt": {"position": [1, 2, 3]}, "classification_system": "c", "cell_type": "x"}]
    )
    return "cells"


def _key(app, suffix: str) -> str:
    keys = (
        [w.key for w in app.text_area]
        + [w.key for w in app.radio]
        + [w.key for w in app.text_input]
        + [w.key for w in app.checkbox]
        + [w.key for w in app.selectbox]
    )
    return next(k for k in keys if k and k.endswith(suffix))


def test_fixed_fields_are_read_only_with_the_reason(app, table):
    open_page(app, "metadata")
    assert app.selectbox(key="md_pick").value == "cells"
    shown = texts(app)
    assert "cells" in shown and "cell_type_local" in shown and "4, 4, 40 nm" in shown
    assert any("can never change" in c.value for c in app.caption)
    assert [t.key for t in app.text_input if t.key and "name" in t.key] == []


def test_edit_description_notice_permissions_and_segmentation(app, client, table):
    open_page(app, "metadata")
    assert app.button(key="md_save").disabled
    app.text_area(key=_key(app, "_desc")).input("<b>New</b> description").run()
    app.text_area(key=_key(app, "_notice")).input("").run()
    app.radio(key=_key(app, "_read")).set_value("GROUP").run()
    app.radio(key=_key(app, "_write")).set_value("PUBLIC").run()
    app.text_input(key=_key(app, "_flat")).input("precomputed://seg").run()
    assert not app.button(key="md_save").disabled
    app.button(key="md_save").click().run()
    meta = client.get_table_metadata("cells")
    assert meta["description"] == "<b>New</b> description"
    assert meta["notice_text"] is None  # emptied: the notice is gone
    assert (meta["read_permission"], meta["write_permission"]) == ("GROUP", "PUBLIC")
    assert meta["flat_segmentation_source"] == "precomputed://seg"
    assert alerts(app, "success") == [
        "Saved: description, notice text, read permission, write permission, flat "
        "segmentation source."
    ]
    # the form now starts from the stored values
    assert app.text_area(key=_key(app, "_desc")).value == "<b>New</b> description"
    assert not app.warning or "Notice from the table's owner" not in [w.value for w in app.warning]


def test_permission_choices_are_explained(app, table):
    open_page(app, "metadata")
    radio = app.radio(key=_key(app, "_write"))
    # each option carries its explanation in its own (clickable) label
    assert radio.options == [
        "PRIVATE :gray[only the owner can add, change or delete annotations]",
        "GROUP :gray[the owner and people who share a group with the owner can write]",
        "PUBLIC :gray[everyone can write; every change is logged and nothing is ever lost]",
    ]
    assert radio.value == "PRIVATE"


def test_empty_description_is_refused(app, client, table):
    open_page(app, "metadata")
    app.text_area(key=_key(app, "_desc")).input("   ").run()
    app.button(key="md_save").click().run()
    assert alerts(app)[0].startswith("The description cannot be empty")
    assert client.get_table_metadata("cells")["description"] == "Cells [pytest]"


def test_transfer_ownership_with_a_warning(app, client, table):
    client.backend.users.add("alice")
    open_page(app, "metadata")
    assert any("only they (or an admin) can give it back" in w.value for w in app.warning)
    assert app.button(key="md_transfer").disabled
    app.selectbox(key=_key(app, "_owner")).select("alice").run()
    assert app.button(key="md_transfer").disabled  # not before ticking the box
    app.checkbox(key=_key(app, "_sure")).check().run()
    app.button(key="md_transfer").click().run()
    assert client.get_table_metadata("cells")["user_id"] == str(
        client.backend.users.get("alice").id
    )
    assert alerts(app, "success") == ["'cells' now belongs to alice."]


def test_delete_needs_the_typed_name_and_keeps_the_rows(app, client, table):
    open_page(app, "metadata")
    assert any("rows are **kept**" in m.value for m in app.markdown)
    assert app.button(key="md_delete").disabled
    app.text_input(key=_key(app, "_typed")).input("cell").run()
    assert app.button(key="md_delete").disabled
    app.text_input(key=_key(app, "_typed")).input("cells").run()
    app.button(key="md_delete").click().run()
    assert client.get_tables() == []
    backend = client.backend  # the engine still holds the table and its row
    with backend.engine.connect() as conn:
        meta = backend._meta_row(conn, "local", "cells", include_deleted=True)
        rows, _ = backend.table_of(meta)
        assert conn.execute(sa.select(sa.func.count()).select_from(rows)).scalar() == 1
    assert backend.table_name_taken("local", "cells")
    assert alerts(app, "success") == ["Table 'cells' is deleted; its rows are kept."]
    assert alerts(app, "info") == ["No tables in aligned volume 'local' yet: create one."]


def test_owner_who_is_not_admin_can_edit_but_not_delete(app, make_client):
    admin = make_client()
    admin.backend.users.add("alice")
    make_client(user="alice").create_table("mine", "bound_tag", "alice's [pytest]", [4, 4, 40])
    rerun(app)
    app.sidebar.selectbox(key="sb_user").select("alice").run()
    open_page(app, "metadata")
    assert app.button(key="md_save")
    assert "md_delete" not in [b.key for b in app.button]
    assert "Delete table" not in [h.value for h in app.subheader]


def test_someone_else_sees_the_metadata_read_only(app, client, table):
    client.backend.users.add("bob")
    rerun(app)
    app.sidebar.selectbox(key="sb_user").select("bob").run()
    open_page(app, "metadata")
    assert unescape(app.info[0].value).startswith(
        "Only this table's owner (admin) or an admin can change its metadata."
    )
    assert "Cells [pytest]" in texts(app) and "old notice" in texts(app)
    assert not app.text_area and "md_save" not in [b.key for b in app.button]
    assert "md_delete" not in [b.key for b in app.button]


def test_switching_tables_starts_from_that_tables_values(app, client, table):
    client.create_table("other", "bound_tag", "Other [pytest]", [1, 1, 1])
    open_page(app, "metadata")
    app.selectbox(key="md_pick").select("other").run()
    assert app.text_area(key=_key(app, "_desc")).value == "Other [pytest]"
    assert "1, 1, 1 nm" in texts(app)


def test_transfer_without_other_users_says_how_to_add_one(app, table):
    open_page(app, "metadata")
    assert any("There is no other user to hand it to yet" in c.value for c in app.caption)
    assert "md_transfer" not in [b.key for b in app.button]


def test_unsaved_changes_are_named(app, table):
    open_page(app, "metadata")
    app.radio(key=_key(app, "_read")).set_value("PRIVATE").run()
    assert "Not saved yet: read permission." in [c.value for c in app.caption]
