"""What every route shares: the acting user, body and parameter parsing, replies and errors.

The route modules (`cave_routes`, `our_routes`) and the app (`app`) import this module and
nothing imports them back, so the server's modules form no cycle. Every refusal is an
`AnnoError` answered as its status and `to_body()`; an unexpected failure is a 500 with one
plain sentence, its traceback only in the server log.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from anno_core.engine.writes import LocalBackend
from anno_core.errors import (
    AlreadySuperseded,
    AnnoError,
    InvalidArgument,
    NotAuthenticated,
    TooManyAnnotations,
)
from anno_core.names import check_volume_name
from anno_core.wire import endpoints as ep
from anno_core.wire.frames import dumps

logger = logging.getLogger("anno_core.server")

MAX_BODY = 256 * 1024 * 1024
"""Largest request body accepted (a 10,000-row batch is a few MB)."""

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


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get("middle_auth_token") or None


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
        if isinstance(v, str) and v.strip().isdigit():
            v = int(v.strip())
        if isinstance(v, bool) or not isinstance(v, int | float) or not float(v).is_integer():
            raise InvalidArgument(f"'{key}' must hold whole-number ids; {v!r} is not one.")
        out.append(int(v))
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
