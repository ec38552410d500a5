"""The whole permission matrix: value x actor x action, enforced by the engine itself (and
so the same through our server, where each token acts as its own user)."""

from __future__ import annotations

import itertools

import pytest

from anno_core.errors import PermissionDenied, TableNotFound
from tests.conftest import synapse

ACTORS = ("owner", "member", "stranger", "admin")
VALUES = ("PRIVATE", "GROUP", "PUBLIC")


def expected(action: str, value: str, actor: str) -> bool:
    if actor == "admin":
        return True
    if action == "delete":
        return False
    if actor == "owner":
        return True
    if action == "metadata":
        return False
    if value == "PUBLIC":
        return True
    return value == "GROUP" and actor == "member"


@pytest.mark.parametrize(
    "action,value,actor",
    list(itertools.product(("read", "write", "metadata", "delete"), VALUES, ACTORS)),
)
def test_matrix(make_client, people, action, value, actor):
    owner = make_client(user=people["owner"])
    perm = {"read_permission": value} if action == "read" else {"write_permission": value}
    owner.create_table("t", "synapse", "matrix test", [4, 4, 40], **perm)
    [first] = owner.post_annotation("t", [synapse()])
    me = make_client(user=people[actor])
    attempts = {
        "read": lambda: (me.get_annotation_count("t"), me.get_annotation("t", first)),
        "write": lambda: me.post_annotation("t", [synapse(1)]),
        "metadata": lambda: me.update_metadata("t", description="changed by " + actor),
        "delete": lambda: me.delete_table("t"),
    }
    if expected(action, value, actor):
        got = attempts[action]()
        # What was allowed did happen, as the owner sees it.
        if action == "read":
            count, rows = got
            assert count == 1 and [r["id"] for r in rows] == [first]
        elif action == "write":
            assert owner.get_annotation_count("t") == 2
            assert owner.get_annotation("t", got)[0]["size"] == synapse(1)["size"]
        elif action == "metadata":
            assert got["description"] == "changed by " + actor
            assert owner.get_table_metadata("t")["description"] == "changed by " + actor
        else:
            assert got is True and "t" not in owner.get_tables()
            with pytest.raises(TableNotFound, match="deleted"):
                owner.get_table_metadata("t")
    else:
        with pytest.raises(PermissionDenied, match=people[actor]):
            attempts[action]()
        # Nothing changed behind the refusal.
        assert owner.get_annotation_count("t") == 1
        assert owner.get_table_metadata("t")["description"] == "matrix test"
        assert "t" in owner.get_tables()


def test_table_list_and_metadata_visible_to_everyone(make_client, people):
    owner = make_client(user="olivia")
    owner.create_table("secret", "synapse", "private stuff", [4, 4, 40], read_permission="PRIVATE")
    stranger = make_client(user="sam")
    assert stranger.get_tables() == ["secret"]
    assert stranger.get_table_metadata("secret")["read_permission"] == "PRIVATE"
    details = stranger.get_table_details()
    assert details[0]["can_read"] is False and details[0]["live_count"] is None
    with pytest.raises(PermissionDenied):
        stranger.get_annotation_count("secret")


def test_write_permission_also_guards_update_and_delete(make_client, people):
    owner = make_client(user="olivia")
    owner.create_table("t", "synapse", "d", [4, 4, 40], write_permission="GROUP")
    [aid] = owner.post_annotation("t", [synapse()])
    stranger = make_client(user="sam")
    with pytest.raises(PermissionDenied):
        stranger.update_annotation("t", {"id": aid, "size": 1.0})
    with pytest.raises(PermissionDenied):
        stranger.delete_annotation("t", [aid])
    assert owner.get_live_count("t") == 1 and owner.get_annotation_count("t") == 1
    member = make_client(user="mia")
    new = member.update_annotation("t", {"id": aid, "size": 1.0})
    assert owner.get_annotation("t", new[aid])[0]["size"] == 1.0
    assert member.delete_annotation("t", [new[aid]]) == [new[aid]]
    assert owner.get_live_count("t") == 0 and owner.get_annotation_count("t") == 2
