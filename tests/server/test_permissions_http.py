"""Permissions over HTTP: each request acts as its token's user, refusals are 403 sentences."""

from __future__ import annotations

import pytest
import requests

from anno_core.errors import NotAuthenticated, PermissionDenied
from anno_core.wire import endpoints as ep
from tests.conftest import synapse


def _url(server, template: str, **parts) -> str:
    return ep.url(server.url, template, **parts)


def _auth(server, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.tokens[user]}"}


@pytest.fixture
def private_table(make_client) -> str:
    owner = make_client("olivia")
    owner.create_table(
        "t", "synapse", "olivia's", [4, 4, 40], read_permission="GROUP", write_permission="PRIVATE"
    )
    owner.post_annotation("t", [synapse()])
    return "t"


def test_each_token_acts_as_its_own_user(make_client):
    for name in ("admin", "olivia", "sam"):
        me = make_client(name).whoami()
        assert me["name"] == name
    assert make_client("mia").whoami()["groups"] == ["lab", "other"]


def test_write_refusal_is_403_with_a_sentence_and_writes_nothing(
    server, volume, private_table, make_client
):
    url = _url(server, ep.ANNOTATIONS, aligned_volume=volume, table_name=private_table)
    for who in ("mia", "sam"):
        r = requests.post(url, json={"annotations": [synapse(1)]}, headers=_auth(server, who))
        assert r.status_code == 403
        body = r.json()
        assert body["error"] == "permission_denied"
        assert body["message"].startswith(f"User '{who}' may not change the annotations")
    assert make_client("olivia").get_annotation_count(private_table) == 1


def test_group_read_is_granted_to_members_only(server, volume, private_table, make_client):
    assert make_client("mia").get_annotation_count(private_table) == 1
    with pytest.raises(PermissionDenied, match="sam"):
        make_client("sam").get_annotation(private_table, 1)
    url = _url(server, ep.COUNT, aligned_volume=volume, table_name=private_table)
    r = requests.get(url, headers=_auth(server, "sam"))
    assert r.status_code == 403 and "read permission is GROUP" in r.json()["message"]


def test_metadata_and_deletion_rights(make_client, private_table):
    with pytest.raises(PermissionDenied, match="only its owner"):
        make_client("mia").update_metadata(private_table, description="mine now")
    with pytest.raises(PermissionDenied, match="only admins"):
        make_client("olivia").delete_table(private_table)
    assert make_client("olivia").get_table_metadata(private_table)["description"] == "olivia's"
    assert make_client("ada").delete_table(private_table) is True
    assert private_table not in make_client("olivia").get_tables()


def test_details_report_each_users_rights(make_client, private_table):
    mine = make_client("olivia").get_table_details()[0]
    assert mine["can_write"] and mine["can_edit_metadata"] and not mine["can_delete"]
    theirs = make_client("sam").get_table_details()[0]
    assert theirs["can_read"] is False and theirs["total_count"] is None
    assert theirs["owner_name"] == "olivia"


def test_the_cookie_caveclient_also_uses_is_accepted(server, volume, private_table):
    url = _url(server, ep.COUNT, aligned_volume=volume, table_name=private_table)
    r = requests.get(url, cookies={"middle_auth_token": server.tokens["olivia"]})
    assert r.status_code == 200 and r.json() == 1


def test_no_token_or_a_bad_one_is_401(server, volume, private_table):
    url = _url(server, ep.TABLES, aligned_volume=volume)
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic x"},
        {"Authorization": f"Bearer {server.tokens['olivia']}x"},
    ):
        r = requests.get(url, headers=headers, allow_redirects=False)
        assert r.status_code == 401, headers
        assert r.json()["error"] == "not_authenticated"
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert r.json()["message"].endswith(".")


def test_remote_client_with_a_bad_token_gets_not_authenticated(server, volume):
    import anno_core

    bad = anno_core.connect(
        backend="server", server_address=server.url, aligned_volume=volume, token="wrong"
    )
    with pytest.raises(NotAuthenticated, match="not valid"):
        bad.get_tables()
