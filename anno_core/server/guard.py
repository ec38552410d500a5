"""What the server refuses before any handler runs, and what it never lets into a header.

- Cross-site writes: a browser sends the ``middle_auth_token`` cookie with any request to
  this server, even one a page elsewhere makes. So when the cookie is the credential, a
  write must come from the server's own pages (or an origin in ANNO_ALLOWED_ORIGINS), as
  ``application/json`` (a cross-site form can send text/plain, never JSON without asking
  first). The ``Authorization`` header, which no page elsewhere can set, needs neither.
- JSON bodies: nesting deeper than Python's stack is refused with a sentence, and a whole
  number written as a float beyond 2**53 (``9007199254740993.0``) keeps its digits instead of
  being rounded through a float.
- Response headers: a table's notice goes into a ``Warning`` header, which must hold no
  control character (a NUL or a line break ends the answer) and stay short (clients give up
  on header lines over 64 KB).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from decimal import Decimal
from typing import Any

from starlette.requests import Request

from anno_core.errors import InvalidArgument, PermissionDenied
from anno_core.settings import Settings
from anno_core.wire.frames import PACKED_TYPE

COOKIE = "middle_auth_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
JSON_TYPES = ("application/json", PACKED_TYPE)
WARNING_CHARS = 1000
"""Most characters of a notice copied into the ``Warning`` header (the rest is cut)."""


def credential(request: Request) -> tuple[str | None, bool]:
    """The API token of the request and whether it came from the cookie."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    token = request.cookies.get(COOKIE) or None
    return token, token is not None


def _own_origin(request: Request, origin: str, settings: Settings) -> bool:
    if origin.rstrip("/").lower() in settings.origins():
        return True
    parts = urllib.parse.urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc.lower() == host.lower()


def check_cookie_write(request: Request, settings: Settings, *, has_body: bool = True) -> None:
    """Refuse a write whose credential is the cookie unless it comes from this server's own
    pages (or an allowed origin) as JSON; see the module docstring."""
    origin = request.headers.get("origin")
    if origin is None or not _own_origin(request, origin, settings):
        shown = "no Origin" if origin is None else f"Origin {origin[:100]!r}"
        raise PermissionDenied(
            f"A change sent with the {COOKIE} cookie must come from this server's own pages, "
            f"and this one has {shown}; send the token in the 'Authorization: Bearer' header "
            "instead (or ask an admin to add your site to ANNO_ALLOWED_ORIGINS)."
        )
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if has_body and ctype not in JSON_TYPES:
        raise PermissionDenied(
            f"A change sent with the {COOKIE} cookie must be sent as application/json, not "
            f"{ctype[:60] or 'without a Content-Type'}; send JSON, or the token in the "
            "'Authorization: Bearer' header."
        )


def guard_cookie(request: Request, settings: Settings, from_cookie: bool) -> None:
    """`check_cookie_write` for every request that changes something."""
    if not from_cookie or request.method in SAFE_METHODS:
        return
    body = request.method != "DELETE" or request.headers.get("content-length", "0") != "0"
    check_cookie_write(request, settings, has_body=body)


def _float(text: str) -> float | Decimal:
    value = float(text)
    # float64 holds whole numbers exactly only up to 2**53: keep the written digits beyond
    # (the validator decides them exactly; "9007199254740993.0" must not become ...992).
    if value.is_integer() and abs(value) >= 2.0**53:
        return Decimal(text)
    return value


def parse_json(raw: bytes) -> Any:
    """A JSON body, or a refusal sentence (too deep, not JSON, not UTF-8)."""
    try:
        return json.loads(raw, parse_float=_float)
    except RecursionError as exc:
        raise InvalidArgument(
            "The request body is JSON nested too deeply to read; send a flatter object."
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidArgument(
            f"The request body is not valid JSON ({first}); send a JSON object."
        ) from exc


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def header_text(text: str, limit: int = WARNING_CHARS) -> str:
    """``text`` made safe for a response header: no control characters (they would end the
    header or the answer), Latin-1 only (what HTTP headers carry), at most ``limit`` chars."""
    clean = " ".join(_CONTROL.sub(" ", text).split())
    clean = clean.encode("latin-1", "replace").decode("latin-1")
    if len(clean) > limit:
        clean = clean[: limit - 40].rstrip() + " ... (cut: read the table's metadata)"
    return clean
