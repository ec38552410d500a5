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

__all__ = ["connect", "AnnotationClient", "AnnoError", "Settings", "__version__"]


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
