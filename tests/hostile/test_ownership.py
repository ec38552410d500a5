"""Item 8: who owns what. Only admins create a table on behalf of another user; opening an
unknown datastack creates its aligned volume for admins only (unless the server allows
everyone); `/users` shows a non-admin names, not groups or admin flags."""

from __future__ import annotations

import pytest
import requests

from anno_core.errors import PermissionDenied
from anno_core.wire import endpoints as ep
from tests.hostile.conftest import check_refusal


def _id_of(client, name: str) -> int:
    return next(u["id"] for u in client.list_users() if u["name"] == name)


def test_only_admins_create_a_table_owned_by_someone_else(make_client):
    admin, mia = make_client("ada"), make_client("mia")
    olivia_id = _id_of(admin, "olivia")
    for owner in (olivia_id, "olivia", str(olivia_id), "admin"):
        with pytest.raises(PermissionDenied, match="only admins create tables on behalf"):
            mia.create_table("t", "synapse", "d", [4, 4, 40], user_id=owner)
    assert mia.get_tables() == []
    mia.create_table("mine", "synapse", "d", [4, 4, 40], user_id="mia")  # herself: fine
    admin.create_table("hers", "synapse", "d", [4, 4, 40], user_id=olivia_id)
    owners = {d["table_name"]: d["owner_name"] for d in admin.get_table_details()}
    assert owners == {"mine": "mia", "hers": "olivia"}
    assert make_client("olivia").get_table_details()[0]["can_edit_metadata"] is True


def test_opening_an_unknown_datastack_creates_its_volume_for_admins_only(server):
    def info(user: str, name: str) -> requests.Response:
        url = ep.url(server.url, ep.INFO_DATASTACK, datastack=name)
        return requests.get(url, headers={"Authorization": f"Bearer {server.tokens[user]}"})

    body = check_refusal(info("olivia", "olivias_volume"), 403)
    assert "may not create" in body["message"] and "ANNO_ANYONE_CREATES_VOLUMES" in body["message"]
    assert "olivias_volume" not in server.connect().get_aligned_volumes()
    assert info("ada", "olivias_volume").status_code == 200  # an admin opens it once
    got = info("olivia", "olivias_volume")  # then anyone may read it
    assert got.status_code == 200 and got.json()["aligned_volume"]["name"] == "olivias_volume"


def test_a_server_may_let_everyone_create_volumes(own_server):
    srv = own_server(ANNO_ANYONE_CREATES_VOLUMES="true")
    url = ep.url(srv.url, ep.INFO_DATASTACK, datastack="open_volume")
    r = requests.get(url, headers={"Authorization": f"Bearer {srv.tokens['olivia']}"})
    assert r.status_code == 200, r.text
    assert "open_volume" in srv.connect("olivia").get_aligned_volumes()


def test_users_shows_a_non_admin_only_names(server):
    url = ep.url(server.url, ep.USERS)
    mine = requests.get(url, headers={"Authorization": f"Bearer {server.tokens['olivia']}"}).json()
    assert all(set(u) == {"id", "name"} for u in mine)
    assert {"admin", "olivia", "mia", "sam", "ada"} <= {u["name"] for u in mine}
    full = requests.get(url, headers={"Authorization": f"Bearer {server.tokens['ada']}"}).json()
    by_name = {u["name"]: u for u in full}
    assert by_name["mia"]["groups"] == ["lab", "other"] and by_name["ada"]["is_admin"] is True


def test_the_remote_client_lists_users_for_a_non_admin_without_guessing(server):
    users = {u["name"]: u for u in server.connect("olivia").list_users()}
    assert users["ada"]["groups"] is None and users["ada"]["is_admin"] is None
    assert isinstance(users["mia"]["id"], int)
    me = server.connect("olivia").whoami()  # her own groups she still sees
    assert me["groups"] == ["lab"] and me["is_admin"] is False
    admin = {u["name"]: u for u in server.connect("ada").list_users()}
    assert admin["mia"]["groups"] == ["lab", "other"] and admin["ada"]["is_admin"] is True
