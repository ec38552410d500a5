"""`python -m anno_core users ...` does everything the People page does."""

from __future__ import annotations

import anno_core
from anno_core.engine.users import UserStore
from anno_core.errors import NotAuthenticated
from tests.engine.test_users_cli import run_cli


def _ok(data_dir, *args) -> str:
    out = run_cli(data_dir, *args)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_every_people_command_from_the_shell(data_dir):
    token = _ok(data_dir, "users", "add", "alice", "--group", "lab").strip().splitlines()[-1]
    client = anno_core.connect(data_dir=data_dir, user="alice")
    client.create_table("mine", "bound_tag", "tags [pytest]", [1, 1, 1])
    store = UserStore(client.backend.engine)

    new = _ok(data_dir, "users", "reset-token", "alice").strip().splitlines()[-1]
    assert store.authenticate(new).name == "alice"
    try:
        store.authenticate(token)
        raise AssertionError("the old token still works")
    except NotAuthenticated:
        pass

    _ok(data_dir, "users", "disable", "alice")
    assert store.is_disabled("alice")
    assert "\tdisabled\t" in _ok(data_dir, "users", "list")
    _ok(data_dir, "users", "enable", "alice")
    assert not store.is_disabled("alice")

    _ok(data_dir, "users", "admin", "alice", "on")
    assert store.get("alice").is_admin
    _ok(data_dir, "users", "admin", "alice", "off")
    assert not store.get("alice").is_admin

    _ok(data_dir, "users", "group", "create", "lab_b")
    _ok(data_dir, "users", "group", "add", "lab_b", "alice")
    assert "lab_b\talice" in _ok(data_dir, "users", "groups")
    _ok(data_dir, "users", "group", "remove", "lab_b", "alice")
    _ok(data_dir, "users", "group", "delete", "lab_b")
    assert store.groups() == {"lab": ["alice"]}

    _ok(data_dir, "users", "email", "link", "alice", "Alice@Lab.org")
    assert store.user_for_email("alice@lab.org").name == "alice"
    show = _ok(data_dir, "users", "show", "alice")
    assert "groups: lab" in show and "alice@lab.org" in show and "local/mine" in show
    _ok(data_dir, "users", "email", "unlink", "alice@lab.org")
    assert store.user_for_email("alice@lab.org") is None


def test_refusals_are_one_sentence_and_exit_2(data_dir):
    _ok(data_dir, "users", "add", "bob")
    for args, words in (
        (("users", "disable", "nobody"), "no user"),
        (("users", "group", "remove", "lab", "bob"), "not in group"),
        (("users", "group", "add", "lab"), "Name the user"),
        (("users", "email", "link", "bob", "nope"), "not an e-mail"),
        (("users", "email", "link", "bob"), "users email link NAME EMAIL"),
    ):
        out = run_cli(data_dir, *args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert words in out.stderr and "Traceback" not in out.stderr
