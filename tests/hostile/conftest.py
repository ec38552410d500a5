"""Hostile and odd input at every edge: each case runs on the embedded engine and on our
server (a real process on 127.0.0.1), and is answered with a sentence, never a broken table.

``kind`` is ``embedded`` (a SQLite file in tmp_path) or ``server`` (the remote backend to the
session's server process, an aligned volume per test). ``make_client(user=...)`` connects as
one of tests/serverproc.USERS on the test's backend; ``storage`` is the embedded engine that
holds the rows (the server's own database for ``server``), for setting up what only an older
version or a hand-made database could hold. ``http`` is a `requests` session to the session
server with the admin's token, for raw HTTP cases; ``own_server`` starts a server of the
test's own with extra ``ANNO_*`` settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

import anno_core
from tests.serverproc import USERS, ServerProcess, fresh_volume

KINDS = ("embedded", "server")


@pytest.fixture(params=KINDS)
def kind(request) -> str:
    return request.param


@pytest.fixture
def volume() -> str:
    return fresh_volume()


@pytest.fixture
def make_client(kind, request, volume) -> Callable[..., anno_core.AnnotationClient]:
    """A client of this test's backend, as ``user`` (a name from tests/serverproc.USERS)."""
    if kind == "embedded":
        embedded = request.getfixturevalue("embedded_client")
        from anno_core.engine.users import UserStore

        store = UserStore(embedded().backend.engine)
        for name, (groups, admin) in USERS.items():
            if name != "admin":
                store.add(name, list(groups), admin=admin)

        def _embedded(user: str = "admin", **overrides) -> anno_core.AnnotationClient:
            return embedded(user=user, **overrides)

        return _embedded
    server = request.getfixturevalue("server")

    def _remote(user: str = "admin", **overrides) -> anno_core.AnnotationClient:
        overrides.setdefault("aligned_volume", volume)
        return server.connect(user, **overrides)

    return _remote


@pytest.fixture
def client(make_client) -> anno_core.AnnotationClient:
    return make_client()


@pytest.fixture(scope="session")
def hostile_server_storage(server):
    """The session server's own database, opened from the test process (SQLite allows it)."""
    from anno_core.engine import db
    from anno_core.engine.writes import LocalBackend
    from anno_core.settings import Settings

    backend = LocalBackend(Settings(data_dir=server.data_dir))
    yield backend
    db.dispose(backend.url)


@pytest.fixture
def storage(kind, client, request):
    """The embedded engine holding this test's rows (LocalBackend)."""
    if kind == "server":
        return request.getfixturevalue("hostile_server_storage")
    return client.backend


@pytest.fixture
def http(server) -> Iterator[requests.Session]:
    """Raw HTTP to the session server, as its admin."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.tokens['admin']}"
    yield session
    session.close()


@pytest.fixture
def own_server(tmp_path) -> Iterator[Callable[..., ServerProcess]]:
    """``own_server(ANNO_X="...")``: a server process of this test's own with these settings
    (and the users of tests/serverproc.USERS)."""
    started: list[ServerProcess] = []

    def _start(**settings: str) -> ServerProcess:
        srv = ServerProcess(tmp_path / f"own-{len(started)}", settings=settings)
        srv.add_users(USERS)
        srv.start()
        started.append(srv)
        return srv

    yield _start
    for srv in started:
        srv.stop()


def check_refusal(r: requests.Response, *statuses: int) -> dict:
    """A refusal: one of ``statuses`` (any 4xx if none), a JSON body with a sentence."""
    assert r.status_code != 500, r.text
    if statuses:
        assert r.status_code in statuses, (r.status_code, r.text)
    else:
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
    body = r.json()
    assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str), body
    assert body["message"].rstrip().endswith((".", "?")), body["message"]
    assert "Traceback" not in r.text
    return body
