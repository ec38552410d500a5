"""Our REST server: the embedded engine over HTTP, wire-compatible with caveclient 8.2.1.

``python -m anno_core serve`` runs `create_app` on uvicorn. Every request names its user by
an API token (``Authorization: Bearer <token>`` or the ``middle_auth_token`` cookie) and acts
as that user through ``backend.as_user(user)``, so permissions are enforced by the engine.
Every refusal is a real HTTP status with the JSON body `AnnoError.to_body()` builds; an
unexpected failure is a 500 with one plain sentence (the traceback goes to the server log).
The server never redirects: caveclient takes any redirect for a login page.

The routes live in `cave_routes` (AnnotationEngine v2, as caveclient calls them) and
`our_routes` (what the dashboard needs beyond CAVE), their paths in `wire.endpoints`; what
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
from anno_core.server import cave_routes, neuroglancer_routes, our_routes, viewer
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
        (*cave_routes.ROUTES, *our_routes.ROUTES, *neuroglancer_routes.ROUTES, *viewer.ROUTES),
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
    api = Api(None)  # type: ignore[arg-type]  # these routes never reach an engine
    app = Starlette(
        routes=_routes(api, viewer.ROUTES, viewer.SOURCE_ROUTES),
        exception_handlers={HTTPException: http_error, Exception: unexpected},
    )
    app.router.redirect_slashes = False
    app.add_middleware(_NoTrailingSlash)
    return app


def run(host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the engine on ``host:port`` until interrupted."""
    import uvicorn

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app()
    logger.info(
        "anno_core server on http://%s:%d (data: %s)", host, port, app.state.api.backend.label
    )
    # An open viewer keeps an event stream open: stop waiting for it after a few seconds.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
