"""The Backend contract suite: every test here runs once per backend kind.

``backend_kind`` is
- ``sqlite``: the embedded engine on a SQLite file in tmp_path;
- ``postgresql``: the embedded engine on a fresh database of the session's throwaway
  PostgreSQL cluster (tests/pgcluster.py);
- ``remote``: the remote backend over HTTP to our server process on 127.0.0.1 (one process
  per session, tests/serverproc.py; each test in an aligned volume of its own).

``client`` / ``make_client(user=...)`` connect to the test's backend; ``people`` is the cast
of the permission tests (made in the embedded database; the server has them from the start);
``storage`` is the embedded engine that holds the rows (for ``remote``: the server's
database, opened from the test process), for the few checks below the API.

A test that cannot run on the remote backend says why, by name:
``@pytest.mark.only_embedded(reason="...")``; the remote kind is then not generated for it
(nothing is skipped; the reason stays beside the test).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import anno_core
from tests.serverproc import USERS, fresh_volume

KINDS = ("sqlite", "postgresql", "remote")
CAST = {"owner": "olivia", "member": "mia", "stranger": "sam", "admin": "ada"}


def _why(marker: pytest.Mark, name: str) -> str:
    reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
    if not isinstance(reason, str) or not reason.strip():
        raise pytest.UsageError(f"{name}: only_embedded needs reason='why it cannot run remotely'")
    return reason


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_kind" not in metafunc.fixturenames:
        return
    only = metafunc.definition.get_closest_marker("only_embedded")
    kinds = KINDS
    if only is not None:  # the reason is required; the remote kind is not generated at all
        _why(only, metafunc.definition.nodeid)
        kinds = tuple(k for k in KINDS if k != "remote")
    metafunc.parametrize("backend_kind", [pytest.param(k, id=k) for k in kinds])


@pytest.fixture
def db_kind(backend_kind) -> str:
    """The database of an embedded kind (never asked for by the remote kind)."""
    return backend_kind


@pytest.fixture
def make_client(backend_kind, request) -> Callable[..., anno_core.AnnotationClient]:
    """A client of this test's backend, as ``user`` (a name from tests/serverproc.USERS)."""
    if backend_kind != "remote":
        return request.getfixturevalue("embedded_client")
    server = request.getfixturevalue("server")
    volume = fresh_volume()

    def _make(user: str = "admin", **overrides) -> anno_core.AnnotationClient:
        overrides.setdefault("aligned_volume", volume)
        return server.connect(user, **overrides)

    return _make


@pytest.fixture
def people(backend_kind, make_client) -> dict[str, str]:
    """Owner, group member, stranger and admin (role -> user name), on this backend."""
    if backend_kind != "remote":
        from anno_core.engine.users import UserStore

        store = UserStore(make_client().backend.engine)
        for name, (groups, admin) in USERS.items():
            if name != "admin":  # the embedded engine's built-in admin
                store.add(name, list(groups), admin=admin)
    return dict(CAST)


@pytest.fixture(scope="session")
def server_storage(server):
    """The session server's own database, opened from the test process (SQLite allows it)."""
    from anno_core.engine import db
    from anno_core.engine.writes import LocalBackend
    from anno_core.settings import Settings

    backend = LocalBackend(Settings(data_dir=server.data_dir))
    yield backend
    db.dispose(backend.url)


@pytest.fixture
def storage(backend_kind, client, request):
    """The embedded engine that stores this test's rows (LocalBackend)."""
    if backend_kind == "remote":
        return request.getfixturevalue("server_storage")
    return client.backend
