"""Shared fixtures: real SQLite files in tmp_path, a throwaway PostgreSQL cluster, one server
process per session, and no ANNO_* leaking in from outside.

tests/contract runs every behaviour test on three backends (its conftest.py says how);
tests/engine runs the engine's own tests (SQL layout, dialects, locks, processes, the users
CLI) on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

import anno_core

SYNAPSE = {
    "pre_pt": {"position": [10, 20, 30]},
    "post_pt": {"position": [11, 21, 30]},
    "ctr_pt": {"position": [10.5, 20.5, 30]},
    "size": 120.0,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "only_embedded(reason): a tests/contract test that cannot run on the remote backend "
        "and why (the reason is required; the remote kind is not generated for it)",
    )


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ANNO_"):
            monkeypatch.delenv(key)


# The engine's own tests run twice: on SQLite and on a real PostgreSQL server.
BOTH_DATABASES = ("tests/engine/",)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    path = str(metafunc.definition.path).replace(os.sep, "/")
    if "db_kind" in metafunc.fixturenames and any(p in path for p in BOTH_DATABASES):
        metafunc.parametrize("db_kind", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def db_kind(request) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_cluster():
    from tests.pgcluster import Cluster

    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Our server process on 127.0.0.1, shared by the whole session (started on first use),
    with the users of tests/serverproc.py's USERS."""
    from tests.serverproc import USERS, ServerProcess

    srv = ServerProcess(tmp_path_factory.mktemp("server") / "data")
    srv.add_users(USERS)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def database_url(db_kind, request):
    """None for SQLite (a file in data_dir), else a fresh PostgreSQL database."""
    if db_kind == "sqlite":
        yield None
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.create_database()
    yield url
    from anno_core.engine import db

    db.dispose(url)
    cluster.drop_database(url)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def embedded_client(data_dir, database_url) -> Callable[..., anno_core.AnnotationClient]:
    """connect() to the test's own embedded database, optionally as another user."""

    def _make(**overrides) -> anno_core.AnnotationClient:
        overrides.setdefault("data_dir", data_dir)
        if database_url:
            overrides.setdefault("database_url", database_url)
        return anno_core.connect(**overrides)

    yield _make
    if database_url is None:
        from anno_core.engine import db

        db.dispose(anno_core.Settings(data_dir=data_dir).resolved_database_url())


@pytest.fixture
def make_client(embedded_client) -> Callable[..., anno_core.AnnotationClient]:
    """A client factory (embedded here; tests/contract and tests/server choose their own)."""
    return embedded_client


@pytest.fixture
def client(make_client) -> anno_core.AnnotationClient:
    return make_client()


@pytest.fixture
def synapse_table(client) -> str:
    client.create_table("syn", "synapse", "test synapses [pytest]", [4, 4, 40])
    return "syn"


def synapse(i: int = 0, **extra) -> dict:
    """A valid synapse record, shifted by ``i`` so records differ."""
    rec = {
        "pre_pt": {"position": [10 + i, 20, 30]},
        "post_pt": {"position": [11 + i, 21, 30]},
        "ctr_pt": {"position": [10.5 + i, 20.5, 30]},
        "size": 120.0 + i,
    }
    rec.update(extra)
    return rec
