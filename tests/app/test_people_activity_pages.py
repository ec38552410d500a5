"""The People page (what `users ...` does, on a page) and the Activity page (the audit log
as sentences, filtered, paged, linked to the rows), through the real app.py."""

from __future__ import annotations

import anno_core
from anno_core.engine.users import UserStore
from tests.app.conftest import alerts, open_page, rerun, unescape
from tests.conftest import synapse


def test_an_admin_manages_people_and_groups_on_the_page(app, app_env):
    store = UserStore(anno_core.connect(data_dir=app_env).backend.engine)
    store.add("bob")  # made from the shell: the page lists it
    at = open_page(app, "people")
    assert "bob" in at.dataframe[0].value["name"].tolist()

    at.text_input(key="pp_new_name").input("alice")
    at.button(key="pp_add").click().run()
    [token] = [c.value for c in at.code]
    assert store.authenticate(token).name == "alice"
    assert "it will not be shown again" in alerts(at, "warning")[0]
    rerun(at)
    assert not at.code  # shown once

    at.selectbox(key="pp_who").select("alice").run()
    at.button(key="pp_reset").click().run()
    [new] = [c.value for c in at.code]
    assert new != token and store.authenticate(new).name == "alice"
    at.button(key="pp_disable").click().run()
    assert store.is_disabled("alice")
    at.button(key="pp_disable").click().run()
    assert not store.is_disabled("alice")
    at.button(key="pp_admin").click().run()
    assert store.get("alice").is_admin
    at.text_input(key="pp_email").input("alice@lab.org").run()
    at.button(key="pp_link").click().run()
    assert store.user_for_email("alice@lab.org").name == "alice"
    at.button(key="pp_unlink").click().run()
    assert store.user_for_email("alice@lab.org") is None

    at.text_input(key="pp_group_name").input("lab").run()
    at.button(key="pp_group_add").click().run()
    at.selectbox(key="pp_group_pick").select("lab")
    at.selectbox(key="pp_member_pick").select("bob").run()
    at.button(key="pp_member_add").click().run()
    assert store.groups() == {"lab": ["bob"]}
    at.button(key="pp_member_remove").click().run()
    at.button(key="pp_group_delete").click().run()
    assert store.groups() == {}
    at.button(key="pp_disable").click().run()  # alice again; the admin cannot disable itself
    assert not alerts(at)


def test_a_non_admin_sees_their_profile_and_resets_only_their_token(app, app_env):
    store = UserStore(anno_core.connect(data_dir=app_env).backend.engine)
    store.add("carol", ["lab"])
    anno_core.connect(data_dir=app_env, user="carol").create_table(
        "carols", "bound_tag", "hers [pytest]", [1, 1, 1]
    )
    at = rerun(app)
    at.sidebar.selectbox(key="sb_user").select("carol").run()
    at = open_page(at, "people")
    shown = " ".join(unescape(m.value) for m in at.markdown)
    assert "carols (local)" in shown
    assert not at.dataframe  # nobody else's record
    at.button(key="pp_reset_me").click().run()
    [token] = [c.value for c in at.code]
    assert store.authenticate(token).name == "carol"


def test_activity_reads_as_sentences_filters_pages_and_opens_the_rows(app, app_env):
    c = anno_core.connect(data_dir=app_env)
    c.create_table("syn", "synapse", "s [pytest]", [4, 4, 40])
    ids = c.post_annotation("syn", [synapse(i) for i in range(4)])
    c.delete_annotation("syn", ids[:1])
    at = open_page(app, "activity")
    said = [unescape(m.value) for m in at.markdown]
    assert "admin deleted 1 row of syn" in said[0]
    assert "admin added 4 rows to syn" in said[1]

    at.selectbox(key="ac_kind").select("post_annotation").run()
    assert [unescape(m.value) for m in at.markdown if "admin" in m.value] == [
        "admin added 4 rows to syn"
    ]
    at.selectbox(key="ac_kind").select("Every kind").run()
    at.number_input(key="ac_size").set_value(1).run()
    first = [unescape(m.value) for m in at.markdown if "admin" in m.value]
    at.button(key="ac_older").click().run()
    second = [unescape(m.value) for m in at.markdown if "admin" in m.value]
    assert len(first) == len(second) == 1 and first != second
    at.button(key="ac_older").click().run()
    at.button(key="ac_newer").click().run()
    assert [unescape(m.value) for m in at.markdown if "admin" in m.value] == second

    at.number_input(key="ac_size").set_value(25).run()
    entry = c.get_activity(kind="post_annotation")["entries"][0]["id"]
    at.button(key=f"ac_rows_{entry}").click().run()
    assert not at.exception
    assert at.text_input(key="ed_ids").value == f"{ids[0]}-{ids[-1]}"
