"""What every route shares: the acting user, body and parameter parsing, replies and errors.

The route modules (`cave_routes`, `our_routes`) and the app (`app`) import this module and
nothing imports them back, so the server's modules form no cycle. Every refusal is an
`AnnoError` answered as its status and `to_body()`; an unexpected failure is a 500 with one
plain sentence, its traceback only in the server log.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from anno_core.engine.upload_keys import key_reused
from anno_core.engine.writes import LocalBackend
from anno_core.errors import (
    AlreadySuperseded,
    AnnoError,
    Conflict,
    InvalidArgument,
    NotAuthenticated,
    TooManyAnnotations,
)
from anno_core.ids import row_id
from anno_core.names import check_volume_name
from anno_core.server.guard import credential, guard_cookie, parse_json
from anno_core.settings import Settings
from anno_core.wire import endpoints as ep
from anno_core.wire.frames import dumps

logger = logging.getLogger("anno_core.server")

Handler = Callable[["Api", Request], Awaitable[Response]]
Routes = Sequence[tuple[str, Handler, list[str]]]
"""(path, handler, methods) rows, as each route module lists them in ``ROUTES``."""


# -- replies ----------------------------------------------------------------------------
def reply(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (numpy values converted, NaN kept as CAVE's JSON does)."""
    return Response(
        dumps(content), status_code=status, headers=headers, media_type="application/json"
    )


def error_reply(exc: AnnoError) -> Response:
    """The one error response: the error's status and its `to_body()`."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
    return reply(exc.to_body(), status=exc.status, headers=headers)


def internal_error() -> Response:
    """The 500 answered for a failure that is not an `AnnoError` (the trace is logged)."""
    return reply(
        {
            "error": "internal_error",
            "message": "The server failed while handling this request; nothing was "
            "changed by the failed step, and the details are in the server "
            "log.",
        },
        status=500,
    )


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, wrong method) as our JSON error bodies."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        body = {
            "error": "not_found",
            "message": f"There is no route {request.url.path!r} on this server; see "
            "the README's 'Server mode' for the routes it serves.",
        }
    elif exc.status_code == 405:
        allowed = exc.headers.get("Allow", "another method") if exc.headers else "another method"
        body = {
            "error": "method_not_allowed",
            "message": f"{request.method} is not allowed on {request.url.path!r}; use {allowed}.",
        }
    else:
        body = {"error": "bad_request", "message": str(exc.detail)}
    return reply(body, status=exc.status_code, headers=exc.headers)


async def unexpected(request: Request, exc: Exception) -> Response:
    """A failure outside any handler: logged with its trace, answered as a plain 500."""
    logger.exception("Unexpected failure on %s %s", request.method, request.url.path, exc_info=exc)
    return internal_error()


def guarded(api: Api, fn: Handler) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that answers every failure with a status and a sentence, never a trace."""

    async def endpoint(request: Request) -> Response:
        try:
            return await fn(api, request)
        except AnnoError as exc:
            return error_reply(exc)
        except Exception:
            logger.exception("Unexpected failure on %s %s", request.method, request.url.path)
            return internal_error()

    endpoint.__name__ = fn.__name__
    return endpoint


# -- the acting user and the body -------------------------------------------------------
class Api:
    """What every handler needs: the engine, the acting user, the parsed body."""

    def __init__(self, backend: LocalBackend, settings: Settings | None = None) -> None:
        self.backend = backend
        self.settings = settings or backend.settings

    async def acting(self, request: Request) -> LocalBackend:
        """The engine acting as the user whose token came with the request (401 without);
        a change whose credential is the cookie must come from this server's pages."""
        token, from_cookie = credential(request)
        user = await run_in_threadpool(self.backend.users.authenticate, token)
        guard_cookie(request, self.settings, from_cookie)
        request.state.cookie = from_cookie
        return self.backend.as_user(user)

    @staticmethod
    async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking engine call off the event loop."""
        return await run_in_threadpool(fn, *args, **kwargs)

    async def body(self, request: Request) -> bytes:
        """The raw request body, refused above ANNO_MAX_BODY_MB. What comes beyond the cap is
        read and dropped (memory stays bounded), so the client hears the refusal instead of a
        connection closed while it was still sending."""
        cap = self.settings.max_body_mb * 1024 * 1024
        declared = request.headers.get("content-length", "")
        too_big = declared.isascii() and declared.isdigit() and int(declared) > cap
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            too_big = too_big or size > cap
            if not too_big:
                chunks.append(chunk)
        if too_big:
            raise TooManyAnnotations(
                f"The request body is larger than {self.settings.max_body_mb} MB, the most this "
                f"server takes (ANNO_MAX_BODY_MB); send at most {ep.MAX_ANNOTATIONS:,} "
                "annotations per request, with shorter text. Nothing was stored."
            )
        return b"".join(chunks)

    async def json(self, request: Request) -> Any:
        """The request body parsed as JSON; a refusal sentence if it is not JSON."""
        raw = await self.body(request)
        if not raw.strip():
            raise InvalidArgument("The request has no body; send a JSON object.")
        return parse_json(raw)

    async def keyed(self, request: Request, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """`run` a write carrying an idempotency key; a key reused for other content is
        refused naming the key as the client sent it (the engine knows it only scoped)."""
        try:
            return await self.run(fn, *args, **kw)
        except Conflict as exc:
            if "used" not in exc.details:
                raise
            given = request.headers.get(ep.IDEMPOTENCY_HEADER, "")
            raise key_reused(given, exc.details["used"]) from exc

    async def repeated_update(
        self, b: LocalBackend, key: str | None, exc: AlreadySuperseded
    ) -> Response:
        """A keyed update sent again: the answer its first run stored, else the refusal."""
        # The first run superseded the rows, so the repeat finds them replaced; when that run
        # was this same keyed request, its stored answer is the right reply to the retry.
        stored = await self.run(b.upload_key_result, key) if key else None
        if stored is None:
            raise exc
        return reply(stored)


# -- path, query and body values --------------------------------------------------------
def volume(request: Request) -> str:
    """The aligned volume named in the path, checked by the name rules."""
    return check_volume_name(request.path_params["aligned_volume"])


def table(request: Request) -> str:
    """The table named in the path (the engine checks it)."""
    return request.path_params["table_name"]


def body_object(body: Any, what: str) -> dict[str, Any]:
    """The body (or a part of it) as a JSON object; `what` says what it should hold."""
    if not isinstance(body, dict):
        raise InvalidArgument(f"The body must be a JSON object {what}, not {type(body).__name__}.")
    return body


def text_field(obj: dict[str, Any], key: str, required: bool = True) -> str | None:
    """A text value of a JSON object (None only when absent and not required)."""
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        shown = "missing" if value is None else f"a {type(value).__name__}"
        raise InvalidArgument(f"'{key}' must be text, but it is {shown}.")
    return value


def check_size(n: int) -> None:
    """Refuse a request carrying more annotations than one request may."""
    if n > ep.MAX_ANNOTATIONS:
        raise TooManyAnnotations(
            f"This request carries {n:,} annotations; send at most {ep.MAX_ANNOTATIONS:,} per "
            "request (split the upload into batches). Nothing was stored."
        )


def ids_from(values: Any, key: str) -> list[int]:
    """Whole-number ids from a JSON list (ints, integral floats, digit strings, {id: n})."""
    if isinstance(values, int | str | dict) and not isinstance(values, bool):
        values = [values]
    if not isinstance(values, list):
        raise InvalidArgument(f"'{key}' must be a list of annotation ids.")
    check_size(len(values))
    out = []
    for v in values:
        if isinstance(v, dict):
            v = v.get("id")
        if isinstance(v, str) and v.strip().isascii() and v.strip().isdigit():
            v = int(v.strip()) if len(v.strip()) < 40 else 2**64
        if isinstance(v, Decimal) and v.is_finite() and v == v.to_integral_value():
            v = int(v) if v.adjusted() < 40 else 2**64
        if isinstance(v, bool) or not isinstance(v, int | float) or not float(v).is_integer():
            raise InvalidArgument(f"'{key}' must hold whole-number ids; {v!r:.60} is not one.")
        out.append(row_id(int(v), f"'{key}': id"))
    return out


def flag(request: Request, key: str) -> bool:
    """A true/false query parameter (false when absent)."""
    value = request.query_params.get(key, "false").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise InvalidArgument(f"The query parameter '{key}' must be true or false, not {value!r}.")


def upload_key(request: Request, user_id: int, vol: str, tbl: str, op: str) -> str | None:
    """The request's idempotency key, scoped to its user, table and operation."""
    given = request.headers.get(ep.IDEMPOTENCY_HEADER)
    if not given:
        return None
    if len(given) > 200:
        raise InvalidArgument(
            f"The {ep.IDEMPOTENCY_HEADER} header is longer than 200 characters; send a shorter key."
        )
    return scoped_key(given, user_id, vol, tbl, op)


def scoped_key(given: str, user_id: int, vol: str, tbl: str, op: str) -> str:
    """A client's key made unique to its user, table and operation (stored hashed)."""
    raw = "\x00".join((str(user_id), vol, tbl, op, given)).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()
