"""The user store and `python -m anno_core users add/list`: tokens stored hashed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import anno_core
from anno_core.engine import db
from anno_core.engine.users import UserStore, hash_token
from anno_core.errors import InvalidName, NotAuthenticated

ROOT = Path(__file__).resolve().parents[2]


def run_cli(data_dir, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNO_")}
    env["ANNO_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "anno_core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_users_add_prints_the_token_last_and_stores_only_its_hash(data_dir):
    out = run_cli(data_dir, "users", "add", "alice", "--group", "lab", "--group", "x")
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    assert len(token) >= 32 and " " not in token
    engine = db.make_engine(anno_core.Settings(data_dir=data_dir).resolved_database_url())
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(db.users.c.token_hash).where(db.users.c.name == "alice")
        ).scalar()
    assert stored == hash_token(token) and token not in stored
    user = UserStore(engine).authenticate(token)
    assert user.name == "alice" and user.groups == {"lab", "x"} and not user.is_admin

    admin = run_cli(data_dir, "users", "add", "root2", "--admin")
    assert admin.returncode == 0
    listing = run_cli(data_dir, "users", "list")
    assert "alice" in listing.stdout and "root2\tadmin" in listing.stdout


def test_duplicate_and_bad_names_are_refused_with_a_sentence(data_dir):
    assert run_cli(data_dir, "users", "add", "bob").returncode == 0
    again = run_cli(data_dir, "users", "add", "bob")
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = run_cli(data_dir, "users", "add", "no spaces")
    assert bad.returncode == 2 and "not allowed" in bad.stderr
    assert "Traceback" not in again.stderr + bad.stderr


def test_bad_tokens_are_refused(client):
    store = UserStore(client.backend.engine)
    _, token = store.add("carol")
    for bad in (None, "", "not-a-token", token[:-1]):
        with pytest.raises(NotAuthenticated):
            store.authenticate(bad)
    assert store.authenticate(token).name == "carol"


def test_all_digit_user_names_are_refused(client):
    store = UserStore(client.backend.engine)
    with pytest.raises(InvalidName, match="user ids"):
        store.add("7")
    assert "7" not in {u.name for u in store.list()}


def test_default_admin_is_created_on_first_use(client):
    me = client.whoami()
    assert me["name"] == "admin" and me["is_admin"] is True
