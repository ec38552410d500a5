"""anno_core: CAVE-style annotation tables, embedded (SQLite) or over HTTP.

``anno_core.connect(**overrides)`` is the composition root: it reads the settings
(``ANNO_*`` environment variables, overridden by keyword arguments), picks the backend and
returns an `AnnotationClient` with the seed API.
"""

from __future__ import annotations

from typing import Any

from anno_core.backend import Backend
from anno_core.client import AnnotationClient
from anno_core.errors import AnnoError
from anno_core.settings import Settings
from anno_core.version import __version__

__all__ = [
    "connect",
    "local_server_url",
    "AnnotationClient",
    "AnnoError",
    "Settings",
    "__version__",
]


def connect(**overrides: Any) -> AnnotationClient:
    """A client for the engine the settings name (embedded by default)."""
    settings = Settings(**overrides)
    if settings.backend == "server":
        from anno_core.remote.backend import RemoteBackend

        backend: Backend = RemoteBackend(settings)
    else:
        from anno_core.engine.writes import LocalBackend

        backend = LocalBackend(settings)
    return AnnotationClient(backend, settings)


def local_server_url(**overrides: Any) -> str:
    """The address of our server running in this process over the embedded engine the
    settings name (started on first need, on 127.0.0.1): browsers download exports from
    it with signed links, so the dashboard never holds a whole file."""
    from anno_core.server.local import local_host

    return local_host(Settings(**overrides))
