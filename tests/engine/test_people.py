"""People: disabled users, last seen, token resets, groups, sign-in e-mails, owned tables;
the admin checks of `Backend.people()`; the old layout brought up to date."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import anno_core
from anno_core.engine import db, migrations
from anno_core.engine.users import SEEN_EVERY, UserStore
from anno_core.errors import (
    Conflict,
    InvalidArgument,
    InvalidName,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)


@pytest.fixture
def store(client) -> UserStore:
    return UserStore(client.backend.engine)


def test_a_disabled_user_keeps_their_tables_but_their_token_and_name_stop_working(
    store, make_client
):
    alice, token = store.add("alice", ["lab"])
    mine = make_client(user="alice")
    mine.create_table("hers", "bound_tag", "tags [pytest]", [1, 1, 1])
    store.set_disabled("alice", True)
    with pytest.raises(NotAuthenticated, match="disabled"):
        store.authenticate(token)
    with pytest.raises(NotAuthenticated, match="disabled"):
        make_client(user="alice").whoami()
    owner = make_client().get_table_details()[0]["owner_name"]
    assert owner == "alice"  # rows and tables stay theirs
    assert store.owned_tables("alice") == [{"aligned_volume": "local", "table_name": "hers"}]
    store.set_disabled("alice", False)
    assert store.authenticate(token).name == "alice"


def test_reset_token_stops_the_old_one_at_once(store):
    _, old = store.add("bob")
    new = store.reset_token("bob")
    assert new != old and store.authenticate(new).name == "bob"
    with pytest.raises(NotAuthenticated, match="not valid"):
        store.authenticate(old)


def test_last_seen_is_written_on_authentication_at_most_once_a_minute(store):
    _, token = store.add("carol")
    assert store.records()[-1]["last_seen"] is None
    store.authenticate(token)
    first = store.records()[-1]["last_seen"]
    assert first is not None
    store.authenticate(token)
    assert store.records()[-1]["last_seen"] == first  # within SEEN_EVERY: no write
    with store.engine.begin() as conn:  # as if seen long ago
        conn.execute(
            db.users.update()
            .where(db.users.c.name == "carol")
            .values(last_seen=db.now() - 2 * SEEN_EVERY)
        )
    store.authenticate(token)
    assert store.records()[-1]["last_seen"] > first


def test_groups_exist_on_their_own_and_members_come_and_go(store):
    store.add("dan", ["lab"])
    store.add_group("empty")
    assert store.groups() == {"empty": [], "lab": ["dan"]}
    with pytest.raises(Conflict):
        store.add_group("lab")
    with pytest.raises(InvalidName):
        store.add_group("no spaces")
    store.add_member("empty", "dan")
    store.add_member("empty", "dan")  # twice is once
    assert store.get("dan").groups == {"lab", "empty"}
    store.remove_member("lab", "dan")
    with pytest.raises(NotFound, match="not in group"):
        store.remove_member("lab", "dan")
    store.remove_group("empty")
    assert store.get("dan").groups == frozenset() and "empty" not in store.groups()
    with pytest.raises(NotFound):
        store.remove_group("empty")


def test_emails_link_one_user_each_case_blind(store):
    store.add("erin")
    store.add("fay")
    store.link_email("erin", "Erin@Lab.org")
    assert store.user_for_email("erin@lab.ORG").name == "erin"
    with pytest.raises(Conflict, match="already linked"):
        store.link_email("fay", "erin@lab.org")
    with pytest.raises(InvalidArgument):
        store.link_email("fay", "not an address")
    assert store.user_for_email("nobody@lab.org") is None
    assert store.records()[-2]["emails"] == ["erin@lab.org"]
    store.unlink_email("ERIN@lab.org")
    assert store.user_for_email("erin@lab.org") is None
    with pytest.raises(NotFound):
        store.unlink_email("erin@lab.org")


def test_people_lets_admins_manage_and_everyone_else_see_and_reset_only_themselves(
    store, make_client
):
    store.add("gil", ["lab"])
    store.add("hal")
    admin = make_client().people()
    record, token = admin.add_user("ivy", ["lab"], False)
    assert record["name"] == "ivy" and store.authenticate(token).name == "ivy"
    admin.set_admin("gil", True)
    assert store.get("gil").is_admin
    admin.set_admin("gil", False)
    with pytest.raises(InvalidArgument, match="yourself"):
        admin.set_disabled("admin", True)
    with pytest.raises(InvalidArgument, match="own admin"):
        admin.set_admin("admin", False)

    gil = make_client(user="gil").people()
    assert [r["name"] for r in gil.records()] == ["gil"]
    assert store.authenticate(gil.reset_token("gil")).name == "gil"
    assert gil.owned_tables("gil") == []
    for attempt in (
        lambda: gil.reset_token("hal"),
        lambda: gil.owned_tables("hal"),
        lambda: gil.add_user("x"),
        lambda: gil.set_disabled("hal", True),
        lambda: gil.groups(),
        lambda: gil.add_group("g"),
        lambda: gil.add_member("lab", "hal"),
        lambda: gil.remove_member("lab", "ivy"),
        lambda: gil.link_email("hal", "hal@lab.org"),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert not store.get("hal").groups and not store.is_disabled("hal")


def test_an_old_database_gets_the_new_user_columns_groups_and_audit_index(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the layout before this change
        conn.exec_driver_sql(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE, "
            "is_admin BOOLEAN NOT NULL, token_hash VARCHAR(128) UNIQUE, created DATETIME "
            "NOT NULL)"
        )
        conn.exec_driver_sql(
            "CREATE TABLE user_groups (user_id INTEGER, group_name VARCHAR(100), "
            "PRIMARY KEY (user_id, group_name))"
        )
        conn.exec_driver_sql("INSERT INTO users VALUES (7, 'old', 0, 'h', '2024-01-01 00:00:00')")
        conn.exec_driver_sql("INSERT INTO user_groups VALUES (7, 'veterans')")
    engine.dispose()
    client = anno_core.connect(database_url=url, user="old")
    store = UserStore(client.backend.engine)
    assert store.groups() == {"veterans": ["old"]}
    assert store.records()[0]["disabled"] is False and not store.is_disabled("old")
    with client.backend.engine.connect() as conn:
        assert {"disabled", "last_seen"} <= migrations.columns_of(conn, "users")
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("audit_log")}
    assert "ix_audit_log_volume_id" in indexes
    db.dispose(url)
