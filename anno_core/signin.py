"""Signing in to the dashboard: who may serve without sign-in, who a token or an e-mail
address is, and how failed attempts are slowed down. The dashboard (ui/signin.py) draws;
the decisions are here, without Streamlit.

``ANNO_DASHBOARD_AUTH``: ``none`` (act as any user: one person on their own computer, so
only on a loopback address), ``token`` (sign in with one's API token) or ``oidc`` (an
OpenID Connect provider's verified e-mail address, linked to a user by an admin).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from anno_core.errors import AnnoError, NotAuthenticated, NotSupported, TooManyAttempts
from anno_core.settings import Settings

logger = logging.getLogger("anno_core.signin")

WRONG = "That name and API token do not match; check both, or ask an admin for a new token."
"""The one answer to a failed sign-in, whether or not the user exists."""

HOW_TO_SIGN_IN = (
    "This dashboard is reachable from other computers, where ANNO_DASHBOARD_AUTH=none would "
    "let anyone act as any user, so it shows nothing. Turn sign-in on: set "
    "ANNO_DASHBOARD_AUTH=token (people sign in with their API token) or "
    "ANNO_DASHBOARD_AUTH=oidc (your lab's single sign-on), or serve it on 127.0.0.1 only."
)

_FORWARDED = ("x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host")
_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(address: str | None) -> bool:
    """Whether a listening address is loopback only (unset means every interface)."""
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def none_mode_refusal(address: str | None, headers: Mapping[str, str]) -> str | None:
    """Why ``none`` may not serve this request (None when it may): the server listens
    beyond loopback, or the request came through a proxy or by a non-local host name."""
    lowered = {k.lower(): v for k, v in headers.items()}
    host = lowered.get("host", "localhost").rsplit(":", 1)[0].lower()
    if host.startswith("[") and "]" in lowered.get("host", ""):
        host = lowered["host"].split("]")[0] + "]"
    proxied = any(k in lowered for k in _FORWARDED)
    if is_loopback(address) and not proxied and host in _LOCAL_NAMES:
        return None
    return HOW_TO_SIGN_IN


class Throttle:
    """Failed sign-ins per key (client address, typed name): ``per_minute`` failures in a
    rolling minute are answered normally; then every attempt waits, and each failure after
    a wait doubles the next one. Process-wide: shared by every browser session."""

    def __init__(
        self, per_minute: int, wait_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute, self.wait_seconds, self.clock = per_minute, wait_seconds, clock
        self._failures: dict[str, deque[float]] = {}
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_left(self, keys: Iterable[str]) -> float:
        """Seconds before the next attempt for these keys is heard (0: now)."""
        now = self.clock()
        with self._lock:
            return max([0.0, *(self._until.get(k, 0.0) - now for k in keys)])

    def check(self, keys: Iterable[str]) -> None:
        """TooManyAttempts while any key must wait."""
        left = self.wait_left(list(keys))
        if left > 0:
            raise TooManyAttempts(
                f"Too many failed sign-ins; wait {int(left) + 1} seconds and try again."
            )

    def failed(self, keys: Iterable[str]) -> None:
        """Count a failure for each key; past the limit, the key must wait (longer each time)."""
        now = self.clock()
        with self._lock:
            for k in keys:
                recent = self._failures.setdefault(k, deque())
                recent.append(now)
                while recent and now - recent[0] > 60:
                    recent.popleft()
                over = len(recent) - self.per_minute
                if over >= 0:
                    self._until[k] = now + self.wait_seconds * 2 ** min(over, 10)

    def succeeded(self, keys: Iterable[str]) -> None:
        """Forget the failures of these keys."""
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
                self._until.pop(k, None)


def throttle_keys(name: str, client_address: str | None) -> list[str]:
    """The keys a sign-in attempt counts under: its client address and the typed name."""
    return [f"address:{client_address or 'local'}", f"user:{name.strip().lower()}"]


def _store(settings: Settings) -> Any:
    from anno_core.engine import db
    from anno_core.engine.users import UserStore

    return UserStore(db.make_engine(settings.resolved_database_url()))


def identify_token(name: str, token: str, **overrides: Any) -> dict[str, Any]:
    """The user (id, name, groups, is_admin) that ``name`` and ``token`` sign in as, on
    the engine the settings name; NotAuthenticated with `WRONG` otherwise."""
    settings = Settings(**overrides)
    if not name.strip() or not token.strip():
        raise NotAuthenticated(WRONG)
    try:
        if settings.backend == "server":
            import anno_core

            remote = anno_core.connect(**dict(overrides, backend="server", token=token.strip()))
            me = remote.whoami()
        else:
            me = _store(settings).authenticate(token.strip()).to_dict()
    except NotAuthenticated as exc:
        raise NotAuthenticated(WRONG) from exc
    if me["name"] != name.strip():
        raise NotAuthenticated(WRONG)
    return me


def identify_email(email: str | None, verified: Any, **overrides: Any) -> dict[str, Any]:
    """The user a verified OpenID Connect e-mail address is linked to, or a refusal."""
    settings = Settings(**overrides)
    if settings.backend == "server":
        raise NotSupported(
            "OpenID Connect sign-in needs the dashboard on the engine's database "
            "(ANNO_DATABASE_URL), not ANNO_BACKEND=server; or use ANNO_DASHBOARD_AUTH=token."
        )
    if not email or verified is not True:
        raise NotAuthenticated(
            "Your sign-in did not come with a verified e-mail address; ask an admin."
        )
    store = _store(settings)
    user = store.user_for_email(email)
    if user is None:
        raise NotAuthenticated(
            f"{email} is not linked to a user of this dashboard yet; ask an admin to link it."
        )
    if store.is_disabled(user.id):
        raise NotAuthenticated(f"User {user.name!r} is disabled; ask an admin.")
    return user.to_dict()


def log_failure(name: str, client_address: str | None, error: AnnoError) -> None:
    """A failed sign-in goes to the log: the typed name and the address, never the token."""
    logger.warning(
        "failed dashboard sign-in as %r from %s: %s",
        name.strip()[:100],
        client_address or "this computer",
        type(error).__name__,
    )
