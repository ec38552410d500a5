"""Clients of the session's server process (tests/serverproc.py, started by the ``server``
fixture in tests/conftest.py) and servers of a test's own.

Inside tests/server, ``client`` and ``make_client`` are remote clients, each test in an
aligned volume of its own. The behaviour every backend shares is tested once, on every
backend, in tests/contract; this folder holds what only the server and the remote backend
do (HTTP status codes, caveclient, faults between them, a real CAVE's ways).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import anno_core
from tests.serverproc import USERS, ServerProcess, free_port, fresh_volume

__all__ = ["USERS", "ServerProcess", "free_port"]


@pytest.fixture
def volume() -> str:
    """A fresh aligned volume for this test (created on first use by the server)."""
    return fresh_volume()


@pytest.fixture
def make_client(server, volume) -> Callable[..., anno_core.AnnotationClient]:
    """A remote client of the session's server, as ``user`` (a name from USERS)."""

    def _make(user: str = "admin", **overrides) -> anno_core.AnnotationClient:
        overrides.setdefault("aligned_volume", volume)
        return server.connect(user, **overrides)

    return _make


@pytest.fixture
def client(make_client) -> anno_core.AnnotationClient:
    return make_client()


@pytest.fixture
def fresh_server(tmp_path) -> ServerProcess:
    """A server of this test's own, for tests that kill and restart it."""
    srv = ServerProcess(tmp_path / "own-server")
    srv.add_users({"admin": ((), True)})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def caveclient_home(tmp_path, monkeypatch) -> Path:
    """caveclient writes a datastack cache (and reads tokens) under ~/.cloudvolume."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home
