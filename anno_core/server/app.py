"""Our REST server: the embedded engine over HTTP, wire-compatible with caveclient 8.2.1.

``python -m anno_core serve`` runs `create_app` on uvicorn. Every request names its user by
an API token (``Authorization: Bearer <token>`` or the ``middle_auth_token`` cookie, which
may change something only from the server's own pages: `guard`) and acts as that user
through ``backend.as_user(user)``, so permissions are enforced by the engine.
Every refusal is a real HTTP status with the JSON body `AnnoError.to_body()` builds; an
unexpected failure is a 500 with one plain sentence (the traceback goes to the server log).
The server never redirects: caveclient takes any redirect for a login page.

The routes live in `cave_routes` (AnnotationEngine v2, as caveclient calls them),
`materialize_routes` (caveclient's MaterializationEngine queries and the segmentation calls
its live_query makes), `our_routes` (what the dashboard needs beyond CAVE), `data_routes`
(versions, streamed exports, signed download links) and `curation_routes` (past uploads,
deletes by filter, restores, summaries, a volume's extent), their paths in `wire.endpoints`; what
they share (the acting user, parsing, replies, error bodies) in `http`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from anno_core.engine.writes import LocalBackend
from anno_core.errors import InvalidArgument
from anno_core.server import (
    cave_routes,
    curation_routes,
    data_routes,
    materialize_routes,
    neuroglancer_routes,
    our_routes,
    viewer,
)
from anno_core.server.http import Api, Routes, guarded, http_error, logger, unexpected
from anno_core.server.neuroglancer_routes import open_to_all
from anno_core.settings import Settings


class _NoTrailingSlash:
    """Serve ``/path/`` as ``/path`` instead of redirecting (a redirect breaks caveclient)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = dict(scope, path=path.rstrip("/") or "/")
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> Starlette:
    """The Starlette app over the engine the settings name (``ANNO_*`` by default)."""
    api = Api(LocalBackend(settings or Settings()))
    routes = _routes(
        api,
        (
            *cave_routes.ROUTES,
            *our_routes.ROUTES,
            *data_routes.ROUTES,
            *materialize_routes.ROUTES,
            *curation_routes.ROUTES,
            *neuroglancer_routes.ROUTES,
            *viewer.ROUTES,
        ),
        (*neuroglancer_routes.SOURCE_ROUTES, *viewer.SOURCE_ROUTES),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # SQLite checkpoints and drops its WAL whenever the last connection closes; one idle
        # connection held for the server's life spares every request that work.
        keeper = (
            api.backend.engine.raw_connection() if api.backend.url.startswith("sqlite") else None
        )
        try:
            yield
        finally:
            if keeper is not None:
                keeper.close()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: unexpected},
    )
    app.router.redirect_slashes = False
    app.state.api = api
    app.add_middleware(_NoTrailingSlash)
    return app


def _routes(api: Api, guarded_routes: Routes, open_routes: Routes) -> list[Route]:
    return [
        Route(path, guarded(api, fn), methods=methods) for path, fn, methods in guarded_routes
    ] + [Route(path, open_to_all(api, fn), methods=methods) for path, fn, methods in open_routes]


def viewer_app() -> Starlette:
    """The viewer and the in-memory sources only (no engine): what a dashboard connected to
    a server serves on its own machine."""
    api = Api(None, Settings())  # type: ignore[arg-type]  # these routes never reach an engine
    app = Starlette(
        routes=_routes(api, viewer.ROUTES, viewer.SOURCE_ROUTES),
        exception_handlers={HTTPException: http_error, Exception: unexpected},
    )
    app.router.redirect_slashes = False
    app.add_middleware(_NoTrailingSlash)
    return app


def run(host: str = "127.0.0.1", port: int = 8765, workers: int = 1) -> None:
    """Serve the engine on ``host:port`` until interrupted, in ``workers`` processes (more
    than one only on PostgreSQL: each process has its own connections, and the database
    serialises the writers of a table across processes)."""
    import uvicorn

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    check_workers(workers, settings.resolved_database_url())
    # Made (and migrated) here once, so the workers find the layout in place.
    app = create_app(settings)
    logger.info(
        "anno_core server on http://%s:%d (data: %s, %d worker%s)",
        host,
        port,
        app.state.api.backend.label,
        workers,
        "" if workers == 1 else "s",
    )
    # An open viewer keeps an event stream open: stop waiting for it after a few seconds.
    if workers == 1:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        return
    # Each worker builds its own app (and engine) from the same ANNO_* settings.
    from anno_core.server.workers import serve_workers

    serve_workers(
        "anno_core.server.app:create_app",
        workers,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )


def check_workers(workers: int, database_url: str) -> None:
    """Refuse a number of worker processes the database cannot take, saying why."""
    if workers < 1:
        raise InvalidArgument(f"--workers must be 1 or more, not {workers}.")
    if workers > 1 and database_url.startswith("sqlite"):
        raise InvalidArgument(
            f"SQLite serves one process: its file lets one writer in at a time, so {workers} "
            "workers would only queue behind each other. Serve with --workers 1, or put the "
            "engine on PostgreSQL (ANNO_DATABASE_URL) to serve with several workers."
        )
