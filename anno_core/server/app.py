"""Our REST server: the embedded engine over HTTP, wire-compatible with caveclient 8.2.1.

``python -m anno_core serve`` runs `create_app` on uvicorn. Every request names its user by
an API token (``Authorization: Bearer <token>`` or the ``middle_auth_token`` cookie) and acts
as that user through ``backend.as_user(user)``, so permissions are enforced by the engine.
Every refusal is a real HTTP status with the JSON body `AnnoError.to_body()` builds; an
unexpected failure is a 500 with one plain sentence (the traceback goes to the server log).
The server never redirects: caveclient takes any redirect for a login page.

The routes live in `cave_routes` (AnnotationEngine v2, as caveclient calls them) and
`our_routes` (what the dashboard needs beyond CAVE); their paths in `endpoints`.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from anno_core.engine.writes import LocalBackend
from anno_core.errors import AnnoError, InvalidArgument, NotAuthenticated, TooManyAnnotations
from anno_core.settings import Settings
from anno_core.wire import endpoints as ep
from anno_core.wire.frames import dumps

logger = logging.getLogger("anno_core.server")

MAX_BODY = 256 * 1024 * 1024
"""Largest request body accepted (a 10,000-row batch is a few MB)."""

Handler = Callable[["Api", Request], Awaitable[Response]]


def reply(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (numpy values converted, NaN kept as CAVE's JSON does)."""
    return Response(
        dumps(content), status_code=status, headers=headers, media_type="application/json"
    )


def error_reply(exc: AnnoError) -> Response:
    """The one error response: the error's status and its `to_body()`."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
    return reply(exc.to_body(), status=exc.status, headers=headers)


def _internal_error() -> Response:
    return reply(
        {
            "error": "internal_error",
            "message": "The server failed while handling this request; nothing was "
            "changed by the failed step, and the details are in the server "
            "log.",
        },
        status=500,
    )


class Api:
    """What every handler needs: the engine, the acting user, the parsed body."""

    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend

    async def acting(self, request: Request) -> LocalBackend:
        """The engine acting as the user whose token came with the request (401 without)."""
        token = _token(request)
        user = await run_in_threadpool(self.backend.users.authenticate, token)
        return self.backend.as_user(user)

    @staticmethod
    async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking engine call off the event loop."""
        return await run_in_threadpool(fn, *args, **kwargs)

    @staticmethod
    async def body(request: Request) -> bytes:
        """The raw request body, refused above MAX_BODY."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise TooManyAnnotations(
                    f"The request body is larger than {MAX_BODY // (1024 * 1024)} MB; send "
                    f"at most {ep.MAX_ANNOTATIONS:,} annotations per request."
                )
            chunks.append(chunk)
        return b"".join(chunks)

    @classmethod
    async def json(cls, request: Request) -> Any:
        """The request body parsed as JSON; a refusal sentence if it is not JSON."""
        raw = await cls.body(request)
        if not raw.strip():
            raise InvalidArgument("The request has no body; send a JSON object.")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidArgument(
                f"The request body is not valid JSON ({_first_line(exc)}); send a JSON object."
            ) from exc


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get("middle_auth_token") or None


def guarded(api: Api, fn: Handler) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that answers every failure with a status and a sentence, never a trace."""

    async def endpoint(request: Request) -> Response:
        try:
            return await fn(api, request)
        except AnnoError as exc:
            return error_reply(exc)
        except Exception:
            logger.exception("Unexpected failure on %s %s", request.method, request.url.path)
            return _internal_error()

    endpoint.__name__ = fn.__name__
    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        body = {
            "error": "not_found",
            "message": f"There is no route {request.url.path!r} on this server; see "
            "the README's 'Server mode' for the routes it serves.",
        }
    elif exc.status_code == 405:
        body = {
            "error": "method_not_allowed",
            "message": f"{request.method} is not allowed on {request.url.path!r}; use "
            f"{exc.headers.get('Allow', 'another method') if exc.headers else 'another method'}.",
        }  # noqa: E501
    else:
        body = {"error": "bad_request", "message": str(exc.detail)}
    return reply(body, status=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("Unexpected failure on %s %s", request.method, request.url.path, exc_info=exc)
    return _internal_error()


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
    from anno_core.server import cave_routes, our_routes

    api = Api(LocalBackend(settings or Settings()))
    routes = [
        Route(path, guarded(api, fn), methods=methods)
        for path, fn, methods in (*cave_routes.ROUTES, *our_routes.ROUTES)
    ]

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
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
    )
    app.router.redirect_slashes = False
    app.state.api = api
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
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
