"""Edit page: history, plain text, the same page on our server and on a CAVE server."""

from __future__ import annotations

import pytest

from tests.app.conftest import alerts, open_page, texts, unescape
from tests.app.edit.support import (
    CELL_TYPES,
    _captions,
    _edit,
    _grid,
    _ids,
    _table_with,
    _tables_with,
)


def test_history_of_one_annotation_oldest_first(app, make_client, client, syn):
    client.backend.users.add("dora")
    client.update_metadata("syn", write_permission="PUBLIC")
    second = client.update_annotation("syn", {"id": 2, "size": 5.0})[2]
    dora = make_client(user="dora")
    third = dora.update_annotation("syn", {"id": second, "pre_pt": {"position": [0, 0, 0]}})[second]
    dora.delete_annotation("syn", [third])
    open_page(app, "edit")
    assert app.number_input(key="ed_hist_id").value is None
    app.number_input(key="ed_hist_id").set_value(second).run()  # any version's id works
    assert (
        f"Annotation {second} has 3 versions, oldest first. The newest is annotation "
        f"{third}: Deleted" in " ".join(_captions(app))
    )
    shown = texts(app)
    assert f"Replaced by annotation {second}." in shown
    assert f"Replaced by annotation {third}." in shown
    assert sum(t.startswith("Created") and t.endswith("by admin.") for t in shown) == 1
    # why each later version was made
    assert any(t.startswith("Created") and t.endswith("by admin: a change of 2.") for t in shown)
    assert any(
        t.startswith("Created") and t.endswith(f"by dora: a change of {second}.") for t in shown
    )
    assert any(t.startswith("Deleted") and t.endswith("by dora.") for t in shown)
    second_changes, third_changes = _tables_with(app, "before")
    assert second_changes.to_dict("list") == {"column": ["size"], "before": ["121"], "after": ["5"]}
    assert third_changes.to_dict("list") == {
        "column": ["pre_pt_position"],
        "before": ["[11, 20, 30]"],
        "after": ["[0, 0, 0]"],
    }
    values = _table_with(app, "version 1 (id 2)")
    assert list(values.columns) == [
        "version 1 (id 2)",
        f"version 2 (id {second})",
        f"version 3 (id {third})",
    ]
    assert values.loc["size"].tolist() == ["121", "5", "5"]


def test_history_of_an_unknown_id_is_a_sentence(app, syn):
    open_page(app, "edit")
    app.number_input(key="ed_hist_id").set_value(404).run()
    assert alerts(app) == ["Table 'syn' has no annotation with id 404."]


def test_text_people_typed_stays_plain(app, cells):
    open_page(app, "edit")
    app.selectbox(key="ed_f_col").select("cell_type")
    app.text_input(key="ed_f_value").input("<script>")
    app.button[0].click().run()
    assert _ids(app) == list(range(3, 61, 4))
    assert app.button(key="ed_rm_cell_type").label == "cell_type contains \\<script\\>"
    assert _grid(app).value["cell_type"][0] == CELL_TYPES[2]  # a grid cell: plain text
    app.number_input(key="ed_hist_id").set_value(3).run()
    values = _table_with(app, "version 1 (id 3)")
    assert values.loc["cell_type"].tolist() == [CELL_TYPES[2]]


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    from tests.server.conftest import ServerProcess

    srv = ServerProcess(tmp_path_factory.mktemp("edit-server") / "data")
    srv.add_users({"admin": ((), True)})
    srv.add_users({"olivia": (("lab",), False)})
    srv.start()
    yield srv
    srv.stop()


def test_the_same_page_on_our_server(app, lab_server):
    remote = lab_server.connect("olivia", aligned_volume="edit_vol")
    remote.create_table("served", "cell_type_local", "Served cells [pytest]", [4, 4, 40])
    remote.post_annotation(
        "served",
        [
            {
                "pt": {"position": [i, 2, 3]},
                "classification_system": "aibs",
                "cell_type": CELL_TYPES[i % 4],
            }
            for i in range(8)
        ],
    )
    app.sidebar.radio(key="sb_engine").set_value("Annotation server").run()
    app.sidebar.text_input(key="sb_address").input(lab_server.url)
    app.sidebar.text_input(key="sb_server_volume").input("edit_vol")
    app.sidebar.text_input(key="sb_token").input(lab_server.tokens["olivia"])
    app.sidebar.button[0].click().run()
    open_page(app, "edit")
    app.selectbox(key="ed_f_col").select("cell_type")
    app.text_input(key="ed_f_value").input("bask")
    app.button[0].click().run()
    assert _ids(app) == [2, 6]
    assert "Rows 1 to 2 of 2 live rows that match (page 1 of 1)." in _captions(app)
    _edit(app, {0: {"cell_type": "chandelier"}, 1: {"delete": True}})
    app.button(key="ed_save").click().run()
    app.button(key="ed_confirm_yes").click().run()
    assert not app.exception
    rows = {r["id"]: r for r in remote.get_annotation("served", [2, 6, 9])}
    assert rows[2]["superceded_id"] == 9 and rows[9]["cell_type"] == "chandelier"
    assert rows[6]["valid"] is False
    assert _table_with(app, "new id").to_dict("list") == {"old id": [2], "new id": [9]}
    assert any(t.startswith("Created") and t.endswith("by olivia.") for t in texts(app))


def test_a_cave_server_is_browsed_by_id_and_says_what_it_cannot_do(app):
    from tests.server.fakes import FakeCave

    cave = FakeCave()  # what a real CAVE answers (outside our control)
    try:
        cave.store(
            [
                {
                    "pre_pt_position": [1, 2, 3],
                    "post_pt_position": [1, 2, 4],
                    "ctr_pt_position": [1, 2, 5],
                    "size": float(i),
                }
                for i in range(3)
            ]
        )
        app.sidebar.radio(key="sb_engine").set_value("Annotation server").run()
        app.sidebar.text_input(key="sb_address").input(cave.url)
        app.sidebar.text_input(key="sb_server_volume").input("vol")
        app.sidebar.text_input(key="sb_token").input("tok")
        app.sidebar.button[0].click().run()
        open_page(app, "edit")
        assert [unescape(e.value) for e in app.main.error] == [  # (the sidebar has its own say)
            "A CAVE annotation server only fetches rows by id; give ids=[...] (browse whole "
            "tables with CAVE's materialization service)."
        ]
        assert "Type annotation ids above to look at those rows." in _captions(app)
        app.text_input(key="ed_ids").input("1-2").run()
        assert _ids(app) == [1, 2]
        assert "Rows 1 to 2 (page 1). This server cannot count the matching rows." in _captions(app)
        assert not app.exception
    finally:
        cave.close()
