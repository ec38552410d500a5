"""Signed, expiring source paths: how a viewer reads a table without sending a token.

A viewer fetches ``info`` and cells with plain GETs and cannot send our bearer token, so a
source URL carries a *grant*: which table (and which filtered view), which user, until
when, signed with the database's secret (HMAC-SHA256). The server checks the signature in
constant time and the expiry, then reads as that user: the engine checks the read
permission on every request, so a grant never lets anyone read what its user may not (and
stops working when the user loses the right). A grant may also name a *moment* (the table
as it was then, and the version that named it, if any). Grants cannot be edited: a changed
table, filter, moment, user or date breaks the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from anno_core.errors import NotAuthenticated

DEFAULT_TTL = 12 * 3600
"""Seconds a grant for the local viewer lives (a working day)."""
SHARE_TTL = 7 * 24 * 3600
"""Seconds a grant inside a shared link lives (a week)."""


@dataclass(frozen=True)
class Grant:
    """Read access to one table (or a filtered view of it), as one user, until a time."""

    volume: str
    table: str
    filters: dict[str, Any]
    user_id: int
    expires: int
    """Unix seconds."""
    moment: str | None = None
    """The moment the table is read at (ISO text, UTC), or None: the live rows."""
    version: str | None = None
    """The name of the version that named ``moment``, if one did (for the layer's name)."""

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": self.volume,
            "t": self.table,
            "f": self.filters,
            "u": self.user_id,
            "x": self.expires,
        }
        if self.moment is not None:  # absent, not null: grants of the live rows read as before
            out["m"] = self.moment
            out["n"] = self.version
        return out


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()[:18])


def sign(secret: bytes, grant: Grant) -> str:
    """The grant as one URL path segment: payload and signature, base64url."""
    body = _b64(json.dumps(grant.payload(), separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(secret, body)}"


def verify(secret: bytes, token: str, now: float) -> Grant:
    """The grant a token carries, or NotAuthenticated (forged, edited or expired)."""
    body, _, mac = token.partition(".")
    if not body or not mac or not hmac.compare_digest(_mac(secret, body), mac):
        raise NotAuthenticated(
            "This annotation source address is not valid (it was changed or made by "
            "another server); open the table in Neuroglancer again for a new one."
        )
    try:
        p = json.loads(_unb64(body))
        moment, version = p.get("m"), p.get("n")
        grant = Grant(
            str(p["v"]),
            str(p["t"]),
            dict(p["f"]),
            int(p["u"]),
            int(p["x"]),
            None if moment is None else str(moment),
            None if version is None else str(version),
        )
    except (ValueError, KeyError, TypeError) as exc:  # signed by us, so never expected
        raise NotAuthenticated("This annotation source address cannot be read.") from exc
    if grant.expires < now:
        raise NotAuthenticated(
            "This annotation source address has expired; open the table in Neuroglancer "
            "again for a new one."
        )
    return grant
